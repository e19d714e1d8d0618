"""`export_saved_model`: a Note RNN or a tuned Q / Psi / G network as a self-contained SavedModel.

The result runs with TensorFlow alone (`tf.saved_model.load`, TF Serving, `saved_model_cli`):
no import of sequence_tutor_tf, no Keras. It is written to a temporary sibling directory and
renamed into place, so an interrupted export never leaves a half-written model at `out_dir`.
"""
import json
import os
import shutil
import tempfile

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.export.metadata import build_metadata
from sequence_tutor_tf.export.policy import MelodyPolicy
from sequence_tutor_tf.export.sources import load_policy_source

METADATA_ASSET = os.path.join("assets.extra", "metadata.json")


def build_policy(source_dir):
    """Loads and checks the checkpoint(s) at `source_dir`; returns the `MelodyPolicy`."""
    source = load_policy_source(source_dir)
    return MelodyPolicy(source, build_metadata(source))


def export_saved_model(source_dir, out_dir, overwrite=False):
    """Exports the policy at `source_dir` (run dir or Note RNN dir) to `out_dir`; returns it.

    Raises FileExistsError if `out_dir` exists and is not empty, unless `overwrite`.
    """
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and (not os.path.isdir(out_dir) or os.listdir(out_dir)):
        if not overwrite:
            raise FileExistsError(f"--out {out_dir} already exists and is not empty; choose a new "
                                  "directory or pass overwrite=True (--overwrite)")
    policy = build_policy(source_dir)
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix="." + os.path.basename(out_dir) + ".")
    try:
        tf.saved_model.save(policy, tmp, signatures=policy.signatures())
        os.makedirs(os.path.join(tmp, "assets.extra"), exist_ok=True)
        metadata = json.loads(policy.metadata()["json"].numpy().decode("utf-8"))
        with open(os.path.join(tmp, METADATA_ASSET), "w", encoding="utf-8") as f:
            json.dump(metadata, f, indent=2, sort_keys=True)
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir) if os.path.isdir(out_dir) else os.remove(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir
