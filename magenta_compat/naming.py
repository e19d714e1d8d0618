"""Variable names of Magenta's Note RNN checkpoints, current and legacy, mapped to weight roles.

A *role* names one weight independently of the file format ("lstm_0/kernel", "readout/bias",
"attn/query_kernel", ...). Each format maps roles to its own variable names; legacy names written
by TF 0.x / TF 1.0-1.2 (`RNN/MultiRNNCell/Cell0/LSTMCell/W_0`, `.../basic_lstm_cell/weights`,
`Linear/Matrix`) are rewritten to the current names before matching.
"""
import re

RL_TUNER = "default"            # NoteRNNLoader's note_rnn_type for the paper's checkpoint
MELODY_CONFIGS = ("basic_rnn", "mono_rnn", "lookback_rnn", "attention_rnn")

# Optimizer slots and bookkeeping that training checkpoints carry; never model weights.
_TRAINING_STATE = re.compile(r"(^|/)(global_step|beta[12]_power(_\d+)?)$|/(Adam|Adam_1|Momentum|"
                             r"RMSProp|RMSProp_1|Adagrad|ExponentialMovingAverage)$")

_LEGACY_RULES = [
    (re.compile(r"(^|/)RNN/"), r"\1rnn/"),
    (re.compile(r"(^|/)MultiRNNCell/Cell(\d+)/"), r"\1multi_rnn_cell/cell_\2/"),
    (re.compile(r"/LSTMCell/W_0$"), "/lstm_cell/kernel"),
    (re.compile(r"/LSTMCell/B$"), "/lstm_cell/bias"),
    (re.compile(r"/BasicLSTMCell/Linear/Matrix$"), "/basic_lstm_cell/kernel"),
    (re.compile(r"/BasicLSTMCell/Linear/Bias$"), "/basic_lstm_cell/bias"),
    (re.compile(r"/(basic_lstm_cell|lstm_cell)/weights$"), r"/\1/kernel"),
    (re.compile(r"/(basic_lstm_cell|lstm_cell)/biases$"), r"/\1/bias"),
    (re.compile(r"/(attention_cell_wrapper(?:/attention|/attn_output_projection)?)/weights$"),
     r"/\1/kernel"),
    (re.compile(r"/(attention_cell_wrapper(?:/attention|/attn_output_projection)?)/biases$"),
     r"/\1/bias"),
]
# A read-out built with TF 0.x's `rnn_cell.linear` instead of tf_slim.
_LEGACY_READOUT = {"Linear/Matrix": "fully_connected/weights", "Linear/Bias": "fully_connected/%s"}


def is_training_state(name):
    return bool(_TRAINING_STATE.search(name))


def normalize_name(name, readout_bias="bias"):
    """Rewrites a legacy variable name (relative to its scope) to the current TF1 name."""
    for pattern, replacement in _LEGACY_RULES:
        name = pattern.sub(replacement, name)
    if name in _LEGACY_READOUT:
        name = _LEGACY_READOUT[name].replace("%s", readout_bias)
    return name


def lstm_input_sizes(layout):
    """Input width of each LSTM layer (the attention cell projects back to input_size)."""
    sizes = layout["rnn_layer_sizes"]
    return [layout["input_size"]] + list(sizes[:-1])


def role_shapes(layout):
    """role -> shape for a layout dict (rnn_layer_sizes, input_size, num_classes, attn_length)."""
    sizes = layout["rnn_layer_sizes"]
    shapes = {}
    for i, (units, width) in enumerate(zip(sizes, lstm_input_sizes(layout))):
        shapes[f"lstm_{i}/kernel"] = (width + units, 4 * units)
        shapes[f"lstm_{i}/bias"] = (4 * units,)
    shapes["readout/kernel"] = (sizes[-1], layout["num_classes"])
    shapes["readout/bias"] = (layout["num_classes"],)
    if layout.get("attn_length"):
        a, n = sizes[0], layout["input_size"]
        shapes.update({
            "attn/input_kernel": (n + a, n), "attn/input_bias": (n,),
            "attn/w": (1, 1, a, a), "attn/v": (a,),
            "attn/query_kernel": (2 * sizes[0], a), "attn/query_bias": (a,),
            "attn/output_kernel": (sizes[0] + a, a), "attn/output_bias": (a,)})
    return shapes


def _cell_prefix(i):
    return f"rnn/multi_rnn_cell/cell_{i}/"


def rl_tuner_names(layout, checkpoint_scope):
    """role -> variable name in an RL Tuner Note RNN checkpoint (LSTMCell + legacy_linear)."""
    prefix = f"{checkpoint_scope}/" if checkpoint_scope else ""
    names = {}
    for i in range(len(layout["rnn_layer_sizes"])):
        names[f"lstm_{i}/kernel"] = f"{prefix}{_cell_prefix(i)}lstm_cell/kernel"
        names[f"lstm_{i}/bias"] = f"{prefix}{_cell_prefix(i)}lstm_cell/bias"
    names["readout/kernel"] = f"{prefix}fully_connected/weights"
    names["readout/bias"] = f"{prefix}fully_connected/bias"
    return names


def melody_rnn_names(layout):
    """role -> variable name in a melody_rnn checkpoint (events_rnn_graph, no outer scope)."""
    names = {}
    attention = bool(layout.get("attn_length"))
    wrapper = _cell_prefix(0) + "attention_cell_wrapper/"
    for i in range(len(layout["rnn_layer_sizes"])):
        cell = wrapper if (attention and i == 0) else _cell_prefix(i)
        names[f"lstm_{i}/kernel"] = f"{cell}basic_lstm_cell/kernel"
        names[f"lstm_{i}/bias"] = f"{cell}basic_lstm_cell/bias"
    names["readout/kernel"] = "fully_connected/weights"
    names["readout/bias"] = "fully_connected/biases"
    if attention:
        names.update({
            "attn/input_kernel": wrapper + "kernel", "attn/input_bias": wrapper + "bias",
            "attn/w": wrapper + "attention/attn_w", "attn/v": wrapper + "attention/attn_v",
            "attn/query_kernel": wrapper + "attention/kernel",
            "attn/query_bias": wrapper + "attention/bias",
            "attn/output_kernel": wrapper + "attn_output_projection/kernel",
            "attn/output_bias": wrapper + "attn_output_projection/bias"})
    return names
