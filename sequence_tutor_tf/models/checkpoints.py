"""Our Note RNN checkpoint format: a directory with `note_rnn_config.json` and TF2 checkpoints.

TF2 object-based checkpoints are written atomically by TensorFlow (data first, the index and the
`checkpoint` state file last, each by rename), so a killed run leaves the previous checkpoint
intact; the config JSON is written atomically by us.
"""
import importlib
import os

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.models.note_rnn import read_model_config, write_model_config

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


def latest_note_rnn_checkpoint(directory):
    path = tf.train.latest_checkpoint(directory)
    if path is None:
        raise FileNotFoundError(f"no TF2 checkpoint in {directory} (no 'checkpoint' state file)")
    return path


def build_from_config(directory):
    config = read_model_config(directory)
    cls_name = config.get("class", "NoteRNN")
    if cls_name not in MODEL_CLASSES:
        raise ValueError(f"{directory}: unknown model class {cls_name!r} in config; known: "
                         f"{sorted(MODEL_CLASSES)}")
    cls = getattr(importlib.import_module(MODEL_CLASSES[cls_name]), cls_name)
    return cls.from_config(config["config"]), config


def load_note_rnn(directory, checkpoint_path=None):
    """Rebuilds the model from the directory's config and restores the latest (or given) weights.

    Returns (model, config). Weights missing from the checkpoint are an error naming them.
    """
    model, config = build_from_config(directory)
    path = checkpoint_path or latest_note_rnn_checkpoint(directory)
    status = tf.train.Checkpoint(model=model).restore(path)
    status.expect_partial()  # optimizer slots of training checkpoints are not needed here
    try:
        status.assert_existing_objects_matched()
    except AssertionError as e:
        raise ValueError(f"checkpoint {path} does not match the model described by "
                         f"{directory}/note_rnn_config.json: {e}") from None
    return model, config
