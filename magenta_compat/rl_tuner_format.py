"""The RL Tuner's Note RNN checkpoint (note_rnn_type='default', the paper's note_rnn.ckpt).

Magenta's NoteRNNLoader builds a MultiRNNCell of `LSTMCell(state_is_tuple=False)` and a
tf_slim `legacy_linear` read-out, and restores them from names prefixed with
`checkpoint_scope` (default 'rnn_model'): `rnn_model/rnn/multi_rnn_cell/cell_0/lstm_cell/kernel`,
`rnn_model/fully_connected/weights`, `rnn_model/fully_connected/bias`.
"""
import os

from magenta_compat import checkpoint_io, keras_weights, layouts, naming
from magenta_compat.matching import match_roles
from sequence_tutor_tf.models.note_rnn import NoteRNN

DEFAULT_SCOPE = "rnn_model"
DEFAULT_FILE_NAME = "note_rnn.ckpt"


def _layout(shapes, checkpoint_scope, hparams):
    if hparams is not None:
        classes = int(getattr(hparams, "one_hot_length", 38))
        return {"rnn_layer_sizes": list(hparams.rnn_layer_sizes), "input_size": classes,
                "num_classes": classes}
    for layout in layouts.infer_layouts(shapes):
        if (layout["note_rnn_type"] == naming.RL_TUNER
                and layout["checkpoint_scope"] == (checkpoint_scope or None)
                and layout["num_classes"]):
            return layout
    # Nothing under this scope: expect the paper's network, so the error lists what is missing.
    return {"rnn_layer_sizes": [100], "input_size": 38, "num_classes": 38}


def load_rl_tuner_checkpoint(path, checkpoint_scope=DEFAULT_SCOPE, hparams=None):
    """Reads an RL Tuner Note RNN checkpoint (dir or path) into a NoteRNN; returns (model, info)."""
    resolved = checkpoint_io.resolve_checkpoint(path)
    shapes = checkpoint_io.read_shapes(resolved)
    layout = _layout(shapes, checkpoint_scope, hparams)
    wanted = (f"an RL Tuner Note RNN (note_rnn_type='default', checkpoint_scope="
              f"{checkpoint_scope!r}, rnn_layer_sizes={layout['rnn_layer_sizes']}, "
              f"{layout['num_classes']} classes)")
    names = naming.rl_tuner_names(layout, checkpoint_scope)
    found = match_roles(resolved, shapes, layout, names, wanted, scope=checkpoint_scope or None)
    arrays = checkpoint_io.read_arrays(resolved, found.values())
    model = NoteRNN(layout["rnn_layer_sizes"], num_classes=layout["num_classes"],
                    input_size=layout["input_size"])
    keras_weights.roles_to_model(model, {role: arrays[name] for role, name in found.items()})
    info = {"format": "rl_tuner", "note_rnn_type": naming.RL_TUNER, "checkpoint": resolved,
            "checkpoint_scope": checkpoint_scope, "rnn_layer_sizes": layout["rnn_layer_sizes"]}
    return model, info


def save_rl_tuner_checkpoint(model, path, checkpoint_scope=DEFAULT_SCOPE, global_step=None):
    """Writes a NoteRNN as a checkpoint Magenta's NoteRNNLoader restores; returns its path.

    `path` is a directory (the file is `note_rnn.ckpt` in it, with a `checkpoint` state file, so
    `tf.train.latest_checkpoint(dir)` finds it) or a prefix ending in `.ckpt`.
    """
    if getattr(model, "attn_length", None):
        raise ValueError("the RL Tuner format holds plain LSTM Note RNNs; an attention_rnn model "
                         "can be written as a .mag bundle or in our format")
    prefix = path if path.endswith(".ckpt") else os.path.join(path, DEFAULT_FILE_NAME)
    layout = keras_weights.model_layout(model)
    names = naming.rl_tuner_names(layout, checkpoint_scope)
    roles = keras_weights.model_to_roles(model)
    return checkpoint_io.write_checkpoint({names[r]: roles[r] for r in names}, prefix,
                                          global_step=global_step)
