"""melody_rnn checkpoints (events_rnn_graph names, no outer scope) for the four configs.

`rnn/multi_rnn_cell/cell_N/basic_lstm_cell/{kernel,bias}` and `fully_connected/{weights,biases}`;
attention_rnn wraps cell 0 in `attention_cell_wrapper/` with its own projection, query and
attention variables. The same names are NoteRNNLoader's note_rnn_type='basic_rnn'.
"""
import os

from magenta_compat import checkpoint_io, keras_weights, layouts, metagraph, naming
from magenta_compat.matching import match_roles
from magenta_compat.melody_configs import check_config_id, layout_for
from sequence_tutor_tf.models.attention_rnn import AttentionRNN
from sequence_tutor_tf.models.note_rnn import NoteRNN


def build_model(layout):
    if layout.get("attn_length"):
        return AttentionRNN(layout["rnn_layer_sizes"], num_classes=layout["num_classes"],
                            input_size=layout["input_size"], attn_length=layout["attn_length"])
    return NoteRNN(layout["rnn_layer_sizes"], num_classes=layout["num_classes"],
                   input_size=layout["input_size"])


def _infer_config(shapes, path):
    for layout in layouts.infer_layouts(shapes):
        if layout["note_rnn_type"] != naming.RL_TUNER and not layout["checkpoint_scope"]:
            return layout["note_rnn_type"], layout["rnn_layer_sizes"]
    return None, None


def load_melody_rnn_checkpoint(path, config_id="auto", hparams=None, attn_length=None,
                               source=None):
    """Reads a melody_rnn checkpoint (dir or path) into a NoteRNN / AttentionRNN.

    `config_id` 'auto' picks the config from the variables' shapes; `hparams.rnn_layer_sizes`
    (when given) must match the file; attention_rnn's `attn_length` is not stored in the
    variables and comes from the argument, `hparams.attn_length`, the metagraph beside the
    checkpoint (`<ckpt>.meta`), or melody_rnn's default 40, in that order.
    Returns (model, info).
    """
    resolved = checkpoint_io.resolve_checkpoint(path)
    shapes = checkpoint_io.read_shapes(resolved)
    inferred_id, inferred_sizes = _infer_config(shapes, resolved)
    if config_id == "auto":
        config_id = inferred_id or "basic_rnn"
    check_config_id(config_id, "note_rnn_type")
    sizes = (list(hparams.rnn_layer_sizes) if hparams is not None
             else inferred_sizes if inferred_id == config_id else None)
    attn_length = attn_length or (getattr(hparams, "attn_length", None) if hparams else None)
    if (not attn_length and config_id == "attention_rnn" and sizes
            and os.path.exists(resolved + ".meta")):
        with open(resolved + ".meta", "rb") as f:
            attn_length = metagraph.graph_facts(f.read(), sizes)["attn_length"]
    layout = layout_for(config_id, sizes, attn_length)
    wanted = (f"a melody_rnn {config_id} model (rnn_layer_sizes={layout['rnn_layer_sizes']}, "
              f"input size {layout['input_size']}, {layout['num_classes']} classes)")
    found = match_roles(source or resolved, shapes, layout, naming.melody_rnn_names(layout),
                        wanted, readout_bias="biases")
    arrays = checkpoint_io.read_arrays(resolved, found.values())
    model = build_model(layout)
    keras_weights.roles_to_model(model, {role: arrays[name] for role, name in found.items()})
    info = {"format": "melody_rnn", "note_rnn_type": config_id, "config_id": config_id,
            "checkpoint": source or resolved, "rnn_layer_sizes": layout["rnn_layer_sizes"],
            "attn_length": layout["attn_length"]}
    return model, info


def melody_rnn_arrays(model):
    """{variable name: TF1-layout array} of a model under melody_rnn's names."""
    layout = keras_weights.model_layout(model)
    names = naming.melody_rnn_names(layout)
    roles = keras_weights.model_to_roles(model)
    return {names[role]: roles[role] for role in names}
