"""Reading and writing name-based TF1 checkpoints (V1 single files and V2 index/data pairs).

Writing goes through `tf.compat.v1.train.Saver` inside a private Graph, so the files are exactly
what Magenta's own Saver would read, and no TF1 state leaks into eager code.
"""
import glob
import os

import numpy as np

from sequence_tutor_tf._tf import tf


def resolve_checkpoint(path):
    """A checkpoint prefix/file from a directory (its latest checkpoint) or a path.

    Directories without a `checkpoint` state file are accepted when they hold exactly one
    checkpoint (e.g. the paper's `note_rnn.ckpt`).
    """
    if os.path.isdir(path):
        from sequence_tutor_tf.models.checkpoints import latest_checkpoint_inside
        latest = latest_checkpoint_inside(path)   # refuses a state file pointing elsewhere
        if latest:
            return latest
        prefixes = {f[:-len(".index")] for f in glob.glob(os.path.join(path, "*.index"))}
        prefixes |= {f for f in glob.glob(os.path.join(path, "*.ckpt*"))
                     if not f.endswith((".meta", ".index")) and ".data-" not in f}
        if len(prefixes) == 1:
            return prefixes.pop()
        found = sorted(os.listdir(path))
        raise FileNotFoundError(
            f"{path}: expected a TF checkpoint directory (a 'checkpoint' state file, or exactly one "
            f"'*.index' / '*.ckpt' checkpoint); found {found if found else 'an empty directory'}")
    if os.path.isfile(path) or os.path.isfile(path + ".index"):
        return path
    raise FileNotFoundError(f"{path}: no such checkpoint (neither a file, a directory, nor a "
                            f"prefix with a '.index' file)")


def _damaged(path, error):
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return ValueError(f"checkpoint {path} is truncated or corrupted ({detail[:300]}); replace "
                      "it with a good copy")


def read_shapes(path):
    """name -> shape tuple of every variable in the checkpoint at `path` (resolved)."""
    try:
        reader = tf.train.load_checkpoint(path)
        return {name: tuple(int(d) for d in shape)
                for name, shape in reader.get_variable_to_shape_map().items()}
    except (IndexError, tf.errors.OpError) as e:
        raise _damaged(path, e) from None


def read_arrays(path, names):
    try:
        reader = tf.train.load_checkpoint(path)
        return {name: np.asarray(reader.get_tensor(name)) for name in names}
    except (IndexError, tf.errors.OpError) as e:   # "Read less bytes than requested"
        raise _damaged(path, e) from None


def write_checkpoint(arrays, prefix, write_version="V2", global_step=None):
    """Writes `{variable name: array}` as a TF1 checkpoint at `prefix`; returns the saved path."""
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    graph = tf.compat.v1.Graph()
    with graph.as_default():
        var_list = {name: tf.compat.v1.Variable(np.asarray(value), name=f"v{i}")
                    for i, (name, value) in enumerate(sorted(arrays.items()))}
        version = getattr(tf.compat.v1.train.SaverDef, write_version)
        saver = tf.compat.v1.train.Saver(var_list=var_list, write_version=version,
                                         sharded=False, save_relative_paths=True)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            return saver.save(session, prefix, global_step=global_step,
                              write_meta_graph=False)
