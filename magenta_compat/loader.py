"""One entry point for every Note RNN file: RL Tuner and melody_rnn checkpoints, .mag bundles,
and our own checkpoint directories."""
import os

from magenta_compat import bundle, checkpoint_io, layouts, naming, rl_tuner_format
from magenta_compat.melody_configs import CONFIGS
from magenta_compat.melody_rnn_format import load_melody_rnn_checkpoint
from sequence_tutor_tf.models.note_rnn import CONFIG_FILE_NAME

NOTE_RNN_TYPES = ("auto", naming.RL_TUNER) + naming.MELODY_CONFIGS


def detect_format(path):
    """'ours', 'mag' or 'tf1' for an existing path."""
    if os.path.isdir(path) and os.path.exists(os.path.join(path, CONFIG_FILE_NAME)):
        return "ours"
    if bundle.is_bundle(path):
        return "mag"
    checkpoint_io.resolve_checkpoint(path)  # raises a clear error when it is none of these
    return "tf1"


def _auto_type(shapes, checkpoint_scope):
    found = layouts.infer_layouts(shapes)
    for layout in found:
        if layout["note_rnn_type"] == naming.RL_TUNER and \
                layout["checkpoint_scope"] == checkpoint_scope:
            return naming.RL_TUNER
    for layout in found:
        if layout["note_rnn_type"] != naming.RL_TUNER and not layout["checkpoint_scope"]:
            return layout["note_rnn_type"]
    return naming.RL_TUNER  # the match then reports what is missing and what the file holds


def load_note_rnn_with_info(path, note_rnn_type="auto", checkpoint_scope="rnn_model",
                            hparams=None):
    """Like load_note_rnn, also returning a dict describing the source (format, type, ...)."""
    if note_rnn_type not in NOTE_RNN_TYPES:
        raise ValueError(f"note_rnn_type must be one of {list(NOTE_RNN_TYPES)}, "
                         f"got {note_rnn_type!r}")
    if not os.path.exists(path) and not os.path.exists(path + ".index"):
        raise FileNotFoundError(f"{path}: no such file or directory")
    kind = detect_format(path)
    if kind == "ours":
        from sequence_tutor_tf.models.checkpoints import load_note_rnn as load_ours
        model, config = load_ours(path)
        return model, {"format": "ours", "note_rnn_type": config.get("magenta_config_id"),
                       "checkpoint": path}
    if kind == "mag":
        model, info = bundle.load_bundle(path, hparams)
        if note_rnn_type not in ("auto", info["config_id"]):
            raise ValueError(f"{path} is a {info['config_id']!r} bundle, but note_rnn_type="
                             f"{note_rnn_type!r} was asked for")
        return _checked(model, info, path)
    resolved = checkpoint_io.resolve_checkpoint(path)
    if note_rnn_type == "auto":
        note_rnn_type = _auto_type(checkpoint_io.read_shapes(resolved), checkpoint_scope)
    if note_rnn_type == naming.RL_TUNER:
        model, info = rl_tuner_format.load_rl_tuner_checkpoint(path, checkpoint_scope, hparams)
    else:
        assert note_rnn_type in CONFIGS
        model, info = load_melody_rnn_checkpoint(path, note_rnn_type, hparams)
    return _checked(model, info, resolved)


def _checked(model, info, source):
    """The loaded model, unless its weights hold NaN or inf (an error naming the variable)."""
    from sequence_tutor_tf.models.checkpoints import check_finite_weights
    check_finite_weights(model, source)
    return model, info


def load_note_rnn(path, note_rnn_type="auto", checkpoint_scope="rnn_model", hparams=None):
    """A Keras Note RNN from any supported file.

    Args:
      path: RL Tuner checkpoint (directory or path), melody_rnn checkpoint (directory or path),
        .mag bundle, or our own checkpoint directory.
      note_rnn_type: 'auto' (from the file), 'default' (RL Tuner, LSTMCell names under
        `checkpoint_scope`), or a melody_rnn config id ('basic_rnn' is also NoteRNNLoader's
        note_rnn_type='basic_rnn').
      checkpoint_scope: outer scope of RL Tuner variable names.
      hparams: optional; its `rnn_layer_sizes` (and `one_hot_length`) must then fit the file.
    Returns:
      NoteRNN, or AttentionRNN for attention_rnn.
    """
    return load_note_rnn_with_info(path, note_rnn_type, checkpoint_scope, hparams)[0]
