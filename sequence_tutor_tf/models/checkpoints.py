"""Our Note RNN checkpoint format: a directory with `note_rnn_config.json` and TF2 checkpoints.

TF2 object-based checkpoints are written atomically by TensorFlow (data first, the index and the
`checkpoint` state file last, each by rename), so a killed run leaves the previous checkpoint
intact; the config JSON is written atomically by us. The `checkpoint` state file names its
checkpoints relative to the directory, so a copied directory loads its own files; on reading,
a state file naming anything outside its directory is refused (`latest_checkpoint_inside`).
Loaded weights must be finite: a NaN model is an error naming the variable.
"""
import importlib
import os

import numpy as np

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.models.note_rnn import read_model_config, write_model_config
from sequence_tutor_tf.utils.files import resolve_inside

# Model classes our format can hold, by the name in note_rnn_config.json. Imported on use, so a
# checkpoint loads whatever modules the caller happened to import before.
MODEL_CLASSES = {"NoteRNN": "sequence_tutor_tf.models.note_rnn",
                 "AttentionRNN": "sequence_tutor_tf.models.attention_rnn"}


def save_note_rnn(model, directory, step=0, extra_config=None, max_to_keep=3):
    """Saves weights and config; returns the checkpoint path."""
    os.makedirs(directory, exist_ok=True)
    write_model_config(model, directory, extra_config)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), directory,
                                         max_to_keep=max_to_keep, checkpoint_name="note_rnn")
    return manager.save(checkpoint_number=step)


def latest_checkpoint_inside(directory):
    """`tf.train.latest_checkpoint(directory)`, refusing a `checkpoint` state file whose paths
    point outside `directory` (absolute elsewhere, or `../`): a copied or crafted directory must
    not load, or later let a CheckpointManager delete, another directory's files.

    Returns the checkpoint prefix, or None when there is no state file or its checkpoint's files
    are missing. Raises UnsafePathError (a ValueError) naming the state file and the path.
    """
    state_file = os.path.join(directory, "checkpoint")
    if not os.path.exists(state_file):
        return None
    try:
        state = tf.train.get_checkpoint_state(directory)
    except Exception as e:  # a garbled text proto: TF raises ParseError / DecodeError
        raise ValueError(f"{state_file}: not a TensorFlow checkpoint state file ({e})") from None
    if state is None or not state.model_checkpoint_path:
        return None
    paths = [state.model_checkpoint_path] + list(state.all_model_checkpoint_paths)
    for path in paths:
        resolve_inside(directory, path, f"{state_file} names checkpoint")
    return tf.train.latest_checkpoint(directory)


def latest_note_rnn_checkpoint(directory):
    path = latest_checkpoint_inside(directory)
    if path is None:
        raise FileNotFoundError(f"no TF2 checkpoint in {directory} (no 'checkpoint' state file, "
                                "or the checkpoint it names is missing)")
    return path


def check_finite_weights(model, source):
    """A ValueError naming the first variables of `model` that hold nan or inf."""
    bad = [v.name for v in model.variables if not np.all(np.isfinite(v.numpy()))]
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise ValueError(f"{source}: variable {', '.join(bad[:3])}{more} holds NaN or inf "
                         "values; the model diverged when it was trained (retrain it, e.g. with "
                         "a lower learning rate, or use an earlier checkpoint)")


def build_from_config(directory):
    try:
        config = read_model_config(directory)
    except ValueError as e:   # bad JSON, or not UTF-8
        raise ValueError(f"{os.path.join(directory, 'note_rnn_config.json')}: not a UTF-8 JSON "
                         f"file ({e})") from None
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise ValueError(f"{os.path.join(directory, 'note_rnn_config.json')}: expected a JSON "
                         "object with a 'config' object (the model's settings), as "
                         "`sequence-tutor pretrain` writes")
    cls_name = config.get("class", "NoteRNN")
    if cls_name not in MODEL_CLASSES:
        raise ValueError(f"{directory}: unknown model class {cls_name!r} in config; known: "
                         f"{sorted(MODEL_CLASSES)}")
    cls = getattr(importlib.import_module(MODEL_CLASSES[cls_name]), cls_name)
    try:
        return cls.from_config(config["config"]), config
    except (TypeError, ValueError) as e:
        raise ValueError(f"{os.path.join(directory, 'note_rnn_config.json')}: cannot build a "
                         f"{cls_name} from its 'config' ({e})") from None


def load_note_rnn(directory, checkpoint_path=None, check_finite=True):
    """Rebuilds the model from the directory's config and restores the latest (or given) weights.

    Returns (model, config). Weights missing from the checkpoint, a checkpoint outside the
    directory, and (unless `check_finite=False`) non-finite weights are errors naming them.
    """
    model, config = build_from_config(directory)
    path = checkpoint_path or latest_note_rnn_checkpoint(directory)
    restore_into(model, path, f"{directory}/note_rnn_config.json")
    if check_finite:
        check_finite_weights(model, f"checkpoint {path}")
    return model, config


def restore_into(model, path, described_by):
    """Restores `model`'s weights from TF2 checkpoint `path`; a ValueError naming the checkpoint
    (and the variable's name and shapes, never its values) when it does not fit or is damaged.
    TensorFlow's warnings about the unrestored values of a failed restore are not shown."""
    import gc
    tf_logger = tf.get_logger()
    level = tf_logger.level
    error = None
    tf_logger.setLevel("ERROR")
    try:
        checkpoint = tf.train.Checkpoint(model=model)
        status = checkpoint.restore(path)
        status.expect_partial()  # optimizer slots of training checkpoints are not needed here
        status.assert_existing_objects_matched()
    except (ValueError, AssertionError) as e:  # e.g. a variable of another shape
        error = (f"checkpoint {path} does not match its {os.path.basename(described_by)} "
                 f"({described_by}): {_first_line(e)}")
    except (IndexError, tf.errors.OpError) as e:  # "Read less bytes than requested": truncated
        error = (f"checkpoint {path} is truncated or corrupted ({_first_line(e)}); replace it "
                 "with a good copy, or use an earlier checkpoint")
    finally:
        checkpoint = status = None
        gc.collect()
        tf_logger.setLevel(level)
    if error:
        raise ValueError(error)
    return path


def _first_line(error, limit=400):
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= limit else text[:limit] + " ..."
