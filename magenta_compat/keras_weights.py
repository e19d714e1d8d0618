"""Keras Note RNN weights <-> TF1 weight roles (see naming.py), in TF1 layout.

One place knows where each role lives in our Keras models and how the LSTM layouts differ
(gates.py); the format modules only map roles to variable names.
"""
import numpy as np

from magenta_compat import gates
from sequence_tutor_tf.models.attention_rnn import AttentionRNN


def model_layout(model):
    """The layout dict (naming.role_shapes' argument) of a NoteRNN or AttentionRNN."""
    return {"rnn_layer_sizes": list(model.rnn_layer_sizes), "input_size": model.input_size,
            "num_classes": model.num_classes,
            "attn_length": getattr(model, "attn_length", None)}


def _lstm_cells(model):
    if isinstance(model, AttentionRNN):
        return [model.attention_cell.lstm] + [layer.cell for layer in model.lstm_layers]
    return [layer.cell for layer in model.lstm_layers]


def model_to_roles(model, forget_bias=gates.DEFAULT_FORGET_BIAS):
    """role -> numpy array in TF1 layout (forget bias taken back out of the Keras bias)."""
    roles = {}
    for i, cell in enumerate(_lstm_cells(model)):
        kernel, recurrent, bias = [w.numpy() for w in (cell.kernel, cell.recurrent_kernel,
                                                       cell.bias)]
        roles[f"lstm_{i}/kernel"], roles[f"lstm_{i}/bias"] = gates.keras_lstm_to_tf1(
            kernel, recurrent, bias, forget_bias)
    roles["readout/kernel"] = model.output_layer.kernel.numpy()
    roles["readout/bias"] = model.output_layer.bias.numpy()
    if isinstance(model, AttentionRNN):
        cell = model.attention_cell
        a = cell.attn_size
        roles.update({
            "attn/input_kernel": cell.input_projection.kernel.numpy(),
            "attn/input_bias": cell.input_projection.bias.numpy(),
            "attn/w": cell.attn_w.numpy().reshape(1, 1, a, a),
            "attn/v": cell.attn_v.numpy(),
            "attn/query_kernel": cell.query.kernel.numpy(),
            "attn/query_bias": cell.query.bias.numpy(),
            "attn/output_kernel": cell.output_projection.kernel.numpy(),
            "attn/output_bias": cell.output_projection.bias.numpy()})
    return roles


def roles_to_model(model, roles, forget_bias=gates.DEFAULT_FORGET_BIAS):
    """Assigns TF1-layout role arrays (shapes already checked) to the model's variables."""
    from magenta_compat.naming import lstm_input_sizes
    widths = lstm_input_sizes(model_layout(model))
    for i, (cell, width) in enumerate(zip(_lstm_cells(model), widths)):
        values = gates.tf1_lstm_to_keras(roles[f"lstm_{i}/kernel"], roles[f"lstm_{i}/bias"],
                                         width, forget_bias)
        for var, value in zip((cell.kernel, cell.recurrent_kernel, cell.bias), values):
            var.assign(value)
    model.output_layer.kernel.assign(np.asarray(roles["readout/kernel"], np.float32))
    model.output_layer.bias.assign(np.asarray(roles["readout/bias"], np.float32))
    if isinstance(model, AttentionRNN):
        cell = model.attention_cell
        a = cell.attn_size
        pairs = [(cell.input_projection.kernel, "attn/input_kernel"),
                 (cell.input_projection.bias, "attn/input_bias"),
                 (cell.attn_v, "attn/v"), (cell.query.kernel, "attn/query_kernel"),
                 (cell.query.bias, "attn/query_bias"),
                 (cell.output_projection.kernel, "attn/output_kernel"),
                 (cell.output_projection.bias, "attn/output_bias")]
        for var, role in pairs:
            var.assign(np.asarray(roles[role], np.float32))
        cell.attn_w.assign(np.asarray(roles["attn/w"], np.float32).reshape(a, a))
    return model
