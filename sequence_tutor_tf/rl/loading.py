"""Loading the Note RNN the RL Tuner starts from: our format, or a Magenta checkpoint.

Magenta checkpoints go through `sequence_tutor_tf.magenta_compat` when it is installed; a minimal
reader for the RL Tuner's own format ('rnn_model/rnn/multi_rnn_cell/cell_N/lstm_cell/...' and
'rnn_model/fully_connected/...') is kept here so tuning works without it.
"""
import os

import numpy as np

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.models.note_rnn import CONFIG_FILE_NAME, NoteRNN

TF1_FORGET_BIAS = 1.0


def _is_our_format(path):
    return os.path.isdir(path) and os.path.exists(os.path.join(path, CONFIG_FILE_NAME))


def _tf1_checkpoint_path(path):
    if os.path.isdir(path):
        found = tf.train.latest_checkpoint(path)
        if found is None:
            raise FileNotFoundError(f"no checkpoint found in directory {path}")
        return found
    return path


def _keras_gate_order(w):
    i, j, f, o = np.split(w, 4, axis=-1)
    return np.concatenate([i, f, j, o], axis=-1)


def load_rl_tuner_checkpoint(path, checkpoint_scope="rnn_model", num_classes=38):
    """NoteRNN from a TF1 RL Tuner Note RNN checkpoint (file prefix or directory)."""
    ckpt = _tf1_checkpoint_path(path)
    try:
        names = dict(tf.train.list_variables(ckpt))
    except (tf.errors.NotFoundError, ValueError) as e:
        raise FileNotFoundError(f"cannot read a TF checkpoint at {path}: {e}") from None
    reader = tf.train.load_checkpoint(ckpt)
    prefix = f"{checkpoint_scope}/rnn/multi_rnn_cell/cell_"
    layers = sorted({int(n[len(prefix):].split("/")[0]) for n in names if n.startswith(prefix)})
    if not layers:
        raise ValueError(f"{ckpt} has no '{prefix}N/lstm_cell' variables: not an RL Tuner "
                         f"Note RNN checkpoint with checkpoint_scope={checkpoint_scope!r}")
    weights, sizes, input_size = [], [], num_classes
    for n in layers:
        kernel = _keras_gate_order(reader.get_tensor(f"{prefix}{n}/lstm_cell/kernel"))
        bias = _keras_gate_order(reader.get_tensor(f"{prefix}{n}/lstm_cell/bias")).copy()
        units = bias.shape[0] // 4
        bias[units:2 * units] += TF1_FORGET_BIAS
        weights += [kernel[:input_size], kernel[input_size:], bias]
        sizes.append(units)
        input_size = units
    weights += [reader.get_tensor(f"{checkpoint_scope}/fully_connected/weights"),
                reader.get_tensor(f"{checkpoint_scope}/fully_connected/bias")]
    model = NoteRNN(sizes, num_classes=num_classes)
    model.set_weights(weights)
    return model


def load_note_rnn_any(path, note_rnn_type="auto", checkpoint_scope="rnn_model", hparams=None):
    """A NoteRNN from our format, or any Magenta Note RNN checkpoint (via magenta_compat)."""
    if path is None or not os.path.exists(path) and not tf.io.gfile.exists(path + ".index"):
        raise FileNotFoundError(f"Note RNN checkpoint not found: {path!r}")
    if _is_our_format(path):
        from sequence_tutor_tf.models.checkpoints import load_note_rnn
        return load_note_rnn(path)[0]
    try:
        from sequence_tutor_tf import magenta_compat
    except ImportError:
        magenta_compat = None
    if magenta_compat is not None and hasattr(magenta_compat, "load_note_rnn"):
        return magenta_compat.load_note_rnn(path, note_rnn_type=note_rnn_type,
                                            checkpoint_scope=checkpoint_scope, hparams=hparams)
    if note_rnn_type not in ("auto", "default"):
        raise ValueError(f"note_rnn_type={note_rnn_type!r} needs sequence_tutor_tf.magenta_compat,"
                         " which is not available; only RL Tuner ('default') checkpoints load")
    return load_rl_tuner_checkpoint(path, checkpoint_scope)
