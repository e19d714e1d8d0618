"""Inferring a Note RNN layout (type, scope, layer sizes, encoding widths) from variable shapes.

Used to pick the model for `note_rnn_type='auto'` and, when a file does not match what was asked
for, to tell the caller which hparams would have fitted it.
"""
import re

from magenta_compat import naming

_CELL_KERNEL = re.compile(
    r"^(?:(?P<scope>.+)/)?rnn/multi_rnn_cell/cell_(?P<index>\d+)/"
    r"(?P<wrapper>attention_cell_wrapper/)?(?P<cell>lstm_cell|basic_lstm_cell)/kernel$")

# The outer scope is whatever precedes the network's first own name component.
_SCOPED = re.compile(r"^(?:(.*?)/)?(RNN|rnn|Linear|fully_connected)/")

# melody_rnn config -> (input_size, num_classes), read off note_seq's encoders once.
_CONFIG_WIDTHS = {}


def config_widths():
    if not _CONFIG_WIDTHS:
        from magenta_compat.melody_configs import encoder_decoder
        for config_id in naming.MELODY_CONFIGS:
            enc = encoder_decoder(config_id)
            _CONFIG_WIDTHS[config_id] = (enc.input_size, enc.num_classes)
    return _CONFIG_WIDTHS


def normalized_shapes(shapes, readout_bias="bias"):
    """Checkpoint name -> shape, with legacy names rewritten and training state dropped.

    Returns {normalized name: (original name, shape)}.
    """
    out = {}
    for name, shape in shapes.items():
        if naming.is_training_state(name):
            continue
        m = _SCOPED.match(name)
        scope = (m.group(1) or "") if m else ""
        inner = name[len(scope) + 1:] if scope else name
        new_inner = naming.normalize_name(inner, readout_bias)
        out[f"{scope}/{new_inner}" if scope else new_inner] = (name, shape)
    return out


def infer_layouts(shapes):
    """Every Note RNN layout found in a checkpoint's {name: shape}; a list of layout dicts.

    A layout has: note_rnn_type ('default' or a melody_rnn config id), checkpoint_scope (None
    for melody_rnn names), rnn_layer_sizes, input_size, num_classes, attention (bool).
    """
    norm = normalized_shapes(shapes)
    found = {}
    for name, (_, shape) in norm.items():
        m = _CELL_KERNEL.match(name)
        if not m or len(shape) != 2:
            continue
        key = (m.group("scope"), m.group("cell"))
        entry = found.setdefault(key, {"cells": {}, "attention": False})
        entry["cells"][int(m.group("index"))] = shape
        entry["attention"] |= bool(m.group("wrapper"))
    layouts = []
    for (scope, cell), entry in sorted(found.items(), key=lambda kv: str(kv[0])):
        cells = entry["cells"]
        if sorted(cells) != list(range(len(cells))):
            continue
        sizes = [cells[i][1] // 4 for i in range(len(cells))]
        prefix = f"{scope}/" if scope else ""
        readout = norm.get(prefix + "fully_connected/weights")
        layout = {"checkpoint_scope": scope, "rnn_layer_sizes": sizes,
                  "input_size": cells[0][0] - sizes[0],
                  "num_classes": readout[1][1] if readout and len(readout[1]) == 2 else None,
                  "attention": entry["attention"]}
        if cell == "lstm_cell":
            layout["note_rnn_type"] = naming.RL_TUNER
        elif entry["attention"]:
            layout["note_rnn_type"] = "attention_rnn"
        else:
            widths = (layout["input_size"], layout["num_classes"])
            matches = [c for c, w in config_widths().items() if w == widths and c != "attention_rnn"]
            layout["note_rnn_type"] = matches[0] if matches else "basic_rnn"
        layouts.append(layout)
    return layouts


def describe(layout):
    """A one-line hparams suggestion for a layout dict."""
    parts = [f"note_rnn_type={layout['note_rnn_type']!r}"]
    if layout.get("note_rnn_type") == naming.RL_TUNER:
        parts.append(f"checkpoint_scope={layout.get('checkpoint_scope')!r}")
    parts.append(f"rnn_layer_sizes={list(layout['rnn_layer_sizes'])}")
    text = ", ".join(parts) + (f" (input size {layout['input_size']}, "
                               f"{layout['num_classes']} classes")
    if layout.get("attention"):
        text += (f", attn_length {layout['attn_length']}" if layout.get("attn_length")
                 else ", attn_length not stored in the variables")
    return text + ")"


def describe_all(layouts):
    return "; or ".join(describe(layout) for layout in layouts) if layouts else None
