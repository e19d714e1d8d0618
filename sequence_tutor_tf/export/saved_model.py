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


def is_previous_export(path):
    """True when `path` is a SavedModel directory this module wrote (its metadata asset says so)."""
    from sequence_tutor_tf.export.metadata import FORMAT
    meta = os.path.join(path, METADATA_ASSET)
    if not (os.path.isdir(path) and os.path.isfile(meta)
            and os.path.isfile(os.path.join(path, "saved_model.pb"))):
        return False
    try:
        with open(meta, encoding="utf-8") as f:
            return json.load(f).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def check_out_dir(source_dir, out_dir, overwrite):
    """Raises unless writing `out_dir` is safe (utils.files.check_export_dir)."""
    from sequence_tutor_tf.utils.files import check_export_dir
    check_export_dir(source_dir, out_dir, overwrite, "the SavedModel", "export",
                     is_previous_export,
                     f"(no {METADATA_ASSET} of ours beside saved_model.pb)")


def export_saved_model(source_dir, out_dir, overwrite=False):
    """Exports the policy at `source_dir` (run dir or Note RNN dir) to `out_dir`; returns it.

    Raises FileExistsError if `out_dir` exists and is not empty, unless `overwrite` and it holds
    a previous export; ValueError if it is, or holds, the source or the working directory.
    """
    check_out_dir(source_dir, out_dir, overwrite)
    out_dir = os.path.abspath(out_dir)
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
            check_out_dir(source_dir, out_dir, overwrite)   # unchanged while we exported?
            if os.listdir(out_dir):
                shutil.rmtree(out_dir)
            else:
                os.rmdir(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir
