"""Export a melody model for Magenta.js: what `@magenta/music`'s `MusicRNN` loads from a URL.

`new mm.MusicRNN(URL)` fetches `URL/config.json` (a `MusicRNNSpec`) and
`URL/weights_manifest.json` (TensorFlow.js weights: a manifest naming binary float32 shards),
then runs, per layer, `tf.basicLSTMCell(forgetBias = 1, kernel, bias, x, c, h)` over the
variables

    rnn/multi_rnn_cell/cell_L/basic_lstm_cell/kernel   [input + units, 4 * units]
    rnn/multi_rnn_cell/cell_L/basic_lstm_cell/bias     [4 * units]
    fully_connected/weights                            [units of the last layer, classes]
    fully_connected/biases                             [classes]

(music/src/music_rnn/model.ts). The cell is TF1's `BasicLSTMCell`: one kernel over
`concat([x, h])`, gate columns (i, j, f, o), and a forget bias of 1.0 added at run time. Our
Keras cells keep (i, f, c, o) and have that 1.0 folded into the stored bias
(`magenta_compat.gates`), so the export reorders the gates and takes the 1.0 back out.

The data converter is `MelodyConverter` with pitches 48..83 (both inclusive in Magenta.js):
0 = no event, 1 = note off, 2 + pitch - 48 = note on, 38 classes: index for index the
`note_seq.MelodyOneHotEncoding(48, 84)` of our Note RNN and of melody_rnn's `basic_rnn`.

What is exported, by source:

- a Note RNN (our directory, an RL Tuner `note_rnn.ckpt`, a melody_rnn `basic_rnn` checkpoint
  or `.mag` bundle): its own softmax;
- a tuned `q`, `psi` or `pure_rl` run: the Q network, whose softmax is what the tuner samples
  (as the SavedModel export);
- a tuned `g` run: G-learning samples `softmax(Q(s) + prior logits(s))` from two networks. A
  MusicRNN has one stack of cells, but two LSTMs that read the same input run side by side as
  one wider LSTM whose matrices are block-diagonal (layer L of the wide cell is layer L of both
  networks, each gate block holding the Q units then the prior's), and the sum of the two
  read-outs is one read-out of the concatenated outputs, `[W_q; W_prior]` and `b_q + b_prior`.
  The result is the same distribution, exactly; both networks need the same number of layers.

Also written: `index.html`, a page that loads the model with the library, continues an
editable primer melody, draws a piano roll and plays it (`magenta_js_page.py`), and
`sequence_tutor_export.json`, what was exported from where (and what `--overwrite` checks).
Serve the directory over HTTP (`python -m http.server`): browsers do not `fetch` file:// URLs.
"""
import dataclasses
import json
import os
import shutil
import tempfile

import numpy as np

from sequence_tutor_tf.music import encoding

FORMAT = "sequence_tutor_tf.magenta_js"
FORMAT_VERSION = 1
MAGENTA_MUSIC_VERSION = "1.23.1"   # the version js/package.json pins and the tests run
DEFAULT_SCRIPT_URL = (f"https://cdn.jsdelivr.net/npm/@magenta/music@{MAGENTA_MUSIC_VERSION}"
                      "/dist/magentamusic.js")
CONFIG_FILE = "config.json"
MANIFEST_FILE = "weights_manifest.json"
INFO_FILE = "sequence_tutor_export.json"
PAGE_FILE = "index.html"
CELL_PREFIX = "rnn/multi_rnn_cell/cell_{}/basic_lstm_cell/"
READOUT_WEIGHTS = "fully_connected/weights"
READOUT_BIASES = "fully_connected/biases"
MAGENTA_JS_FORGET_BIAS = 1.0   # MusicRNN.initialize: this.forgetBias = tf.scalar(1.0)
SHARD_BYTES = 4 * 1024 * 1024  # tensorflowjs_converter's default shard size
# MelodyConverter's pitch range, inclusive at both ends, as Magenta.js spells it.
MIN_PITCH = encoding.MIN_NOTE
MAX_PITCH = encoding.MAX_NOTE - 1
DEFAULT_PRIMER = [60, -2, 62, -2, 64, -2, 65, -2, 67, -2, -2, -2, 64, -2, -2, -2]


class MagentaJsExportError(ValueError):
    """A source that Magenta.js' MusicRNN cannot represent, or an unusable --out."""


@dataclasses.dataclass
class MagentaJsSource:
    """The networks to export. `networks` is [(name, model)]: one, or for G the Q network then
    the Reward RNN prior (the policy's softmax is over the sum of their scores)."""
    path: str
    kind: str          # 'note_rnn', 'run', or a Magenta format ('mag', 'tf1')
    algorithm: str     # 'note_rnn', 'q', 'psi', 'pure_rl', 'g'
    networks: list
    description: str


# ----- reading the source --------------------------------------------------------------------
def load_source(path, note_rnn_type="auto", checkpoint_scope="rnn_model"):
    """A run directory, one of our Note RNN directories, or any Magenta Note RNN file that
    `sequence-tutor convert` reads (`.mag` bundle, melody_rnn or RL Tuner checkpoint)."""
    from sequence_tutor_tf.export import sources
    from sequence_tutor_tf.models.note_rnn import CONFIG_FILE_NAME
    if not os.path.exists(path) and not os.path.exists(path + ".index"):
        raise FileNotFoundError(f"--checkpoint {path}: no such file or directory")
    if os.path.isdir(path) and (os.path.exists(os.path.join(path, sources.TUNER_CONFIG_FILE_NAME))
                                or os.path.exists(os.path.join(path, CONFIG_FILE_NAME))):
        policy = sources.load_policy_source(path)
        if policy.vocabulary is not None:
            raise MagentaJsExportError(
                f"{path}: a SMILES model ({policy.vocabulary.get('kind')} vocabulary); "
                "Magenta.js' MusicRNN runs melody models only (export it as a SavedModel)")
        kind = "run" if policy.tuner_config is not None else "note_rnn"
        source = MagentaJsSource(os.path.abspath(path), kind, policy.algorithm,
                                 list(policy.networks), _describe(policy.algorithm, path))
    else:
        import magenta_compat
        model, info = magenta_compat.load_note_rnn_with_info(path, note_rnn_type,
                                                             checkpoint_scope)
        what = info.get("note_rnn_type") or "Note RNN"
        source = MagentaJsSource(os.path.abspath(path), info["format"], "note_rnn",
                                 [("note_rnn", model)], f"{what} from {_name(path)}")
    for name, model in source.networks:
        check_network(model, f"{path}: {name}")
    return source


def _name(path):
    return os.path.basename(os.path.normpath(os.path.abspath(path)))


def _describe(algorithm, path):
    """Names the source by its last path component: the page may be published."""
    if algorithm == "note_rnn":
        return f"Note RNN {_name(path)}"
    return f"{algorithm} policy of the RL Tuner run {_name(path)}"


def check_network(model, what):
    """A MagentaJsExportError unless `model` is a plain LSTM stack over the 38 melody events."""
    from sequence_tutor_tf.models.note_rnn import NoteRNN
    if not isinstance(model, NoteRNN):
        raise MagentaJsExportError(
            f"{what} is a {type(model).__name__}; the Magenta.js export writes stacks of basic "
            "LSTM cells (our Note RNN, melody_rnn basic_rnn), not attention models")
    if model.input_size != model.num_classes or model.num_classes != encoding.NUM_CLASSES:
        raise MagentaJsExportError(
            f"{what} takes {model.input_size}-wide inputs and has {model.num_classes} classes; "
            f"Magenta.js' MelodyConverter (pitches {MIN_PITCH}..{MAX_PITCH}) feeds and predicts "
            f"the {encoding.NUM_CLASSES}-class one-hot melody encoding (basic_rnn's; not mono_rnn "
            "or lookback_rnn)")


# ----- weights -------------------------------------------------------------------------------
def _tf1_layers(model):
    """[(kernel [in + u, 4u], bias [4u])] per layer in TF1 BasicLSTMCell layout, forget bias
    taken out of the bias (Magenta.js adds MAGENTA_JS_FORGET_BIAS at run time)."""
    from magenta_compat.gates import keras_lstm_to_tf1
    layers = []
    for layer in model.lstm_layers:
        cell = layer.cell
        kernel, bias = keras_lstm_to_tf1(cell.kernel.numpy(), cell.recurrent_kernel.numpy(),
                                         cell.bias.numpy(), MAGENTA_JS_FORGET_BIAS)
        layers.append((kernel, bias))
    return layers


def _readout(model):
    return (np.asarray(model.output_layer.kernel.numpy(), np.float32),
            np.asarray(model.output_layer.bias.numpy(), np.float32))


def network_weights(model):
    """{name: float32 array} of one Note RNN under MusicRNN's variable names."""
    weights = {}
    for i, (kernel, bias) in enumerate(_tf1_layers(model)):
        weights[CELL_PREFIX.format(i) + "kernel"] = kernel
        weights[CELL_PREFIX.format(i) + "bias"] = bias
    weights[READOUT_WEIGHTS], weights[READOUT_BIASES] = _readout(model)
    return weights


def side_by_side_weights(models):
    """One LSTM stack that runs `models` (same number of layers, same input) in parallel, and one
    read-out that sums their logits. Layer L's units are model 0's then model 1's ...; in each
    gate block likewise. Inputs of layer L > 0 are the concatenated outputs of layer L - 1, so
    each network's rows of the kernel read only its own units."""
    depths = {len(m.rnn_layer_sizes) for m in models}
    if len(depths) != 1:
        sizes = [list(m.rnn_layer_sizes) for m in models]
        raise MagentaJsExportError(
            f"the networks have {sizes} LSTM units per layer; running them side by side in one "
            "MusicRNN needs the same number of layers in each")
    per_model = [_tf1_layers(m) for m in models]
    weights = {}
    input_widths = [m.input_size for m in models]
    for layer in range(depths.pop()):
        units = [m.rnn_layer_sizes[layer] for m in models]
        total = sum(units)
        in_total = input_widths[0] if layer == 0 else sum(input_widths)
        kernel = np.zeros((in_total + total, 4 * total), np.float32)
        bias = np.zeros(4 * total, np.float32)
        in_offset = unit_offset = 0
        for (k, b), width, u in zip((p[layer] for p in per_model), input_widths, units):
            # Layer 0: every network reads the same one-hot (rows 0..input); above, its own part.
            rows_in = slice(0, width) if layer == 0 else slice(in_offset, in_offset + width)
            rows_h = slice(in_total + unit_offset, in_total + unit_offset + u)
            for gate in range(4):
                cols = slice(gate * total + unit_offset, gate * total + unit_offset + u)
                src = slice(gate * u, (gate + 1) * u)
                kernel[rows_in, cols] = k[:width, src]
                kernel[rows_h, cols] = k[width:, src]
                bias[cols] = b[src]
            in_offset += width
            unit_offset += u
        weights[CELL_PREFIX.format(layer) + "kernel"] = kernel
        weights[CELL_PREFIX.format(layer) + "bias"] = bias
        input_widths = units
    readouts = [_readout(m) for m in models]
    weights[READOUT_WEIGHTS] = np.concatenate([w for w, _ in readouts], axis=0)
    weights[READOUT_BIASES] = np.sum([b for _, b in readouts], axis=0).astype(np.float32)
    return weights


def magenta_js_weights(source):
    """The exported variables of a `MagentaJsSource`, by name."""
    models = [model for _, model in source.networks]
    if source.algorithm == "g":
        if len(models) != 2:
            raise MagentaJsExportError(f"{source.path}: a G-learning run needs the Q network and "
                                       f"the Reward RNN, found {len(models)} network(s)")
        return side_by_side_weights(models)
    return network_weights(models[0])


def write_weights(weights, directory, shard_bytes=SHARD_BYTES):
    """Writes TensorFlow.js' weights format: one group, its float32 little-endian data split into
    shards of at most `shard_bytes` (`group1-shardNofM.bin`), and returns the manifest list."""
    entries, chunks = [], []
    for name, value in weights.items():
        array = np.ascontiguousarray(value, dtype="<f4")
        if not np.all(np.isfinite(array)):
            raise MagentaJsExportError(f"variable {name} holds NaN or inf values")
        entries.append({"name": name, "shape": [int(d) for d in array.shape],
                        "dtype": "float32"})
        chunks.append(array.tobytes())
    data = b"".join(chunks)
    count = max(1, -(-len(data) // shard_bytes))
    paths = []
    for i in range(count):
        path = f"group1-shard{i + 1}of{count}.bin"
        with open(os.path.join(directory, path), "wb") as f:
            f.write(data[i * shard_bytes:(i + 1) * shard_bytes])
        paths.append(path)
    return [{"paths": paths, "weights": entries}]


def music_rnn_spec():
    """config.json: a MusicRNNSpec, as Magenta's hosted basic_rnn checkpoint has it."""
    return {"type": "MusicRNN",
            "dataConverter": {"type": "MelodyConverter",
                              "args": {"minPitch": MIN_PITCH, "maxPitch": MAX_PITCH}}}


# ----- melodies as Magenta.js sees them ------------------------------------------------------
def events_to_quantized_sequence(events, steps_per_quarter=encoding.STEPS_PER_QUARTER,
                                 qpm=encoding.DEFAULT_QPM):
    """Our class indices as a quantized NoteSequence in Magenta.js' JSON form (camelCase), the
    way its `Melody.toNoteSequence` builds one: a note lasts until the next note on or off."""
    events = encoding.check_events(events)
    notes, current = [], None
    for step, event in enumerate(int(e) for e in events):
        if event == encoding.NO_EVENT:
            continue
        if current is not None:
            current["quantizedEndStep"] = step
            notes.append(current)
            current = None
        if event != encoding.NOTE_OFF:
            current = {"pitch": event - encoding.NUM_SPECIAL_EVENTS + MIN_PITCH,
                       "quantizedStartStep": step, "velocity": 100}
    if current is not None:
        current["quantizedEndStep"] = len(events)
        notes.append(current)
    return {"notes": notes, "totalQuantizedSteps": len(events),
            "quantizationInfo": {"stepsPerQuarter": steps_per_quarter},
            "tempos": [{"time": 0, "qpm": qpm}]}


# ----- the export ----------------------------------------------------------------------------
def is_previous_export(path):
    info = os.path.join(path, INFO_FILE)
    try:
        with open(info, encoding="utf-8") as f:
            return json.load(f).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def check_out_dir(source_path, out_dir, overwrite):
    """Raises unless writing `out_dir` is safe (utils.files.check_export_dir); --overwrite
    replaces only an earlier Magenta.js export."""
    from sequence_tutor_tf.utils.files import check_export_dir
    check_export_dir(source_path, out_dir, overwrite, "the model", "Magenta.js export",
                     is_previous_export, f"(no {INFO_FILE} of ours)",
                     error=MagentaJsExportError)


def export_magenta_js(source_path, out_dir, overwrite=False, script_url=DEFAULT_SCRIPT_URL,
                      primer_melody=None, num_steps=64, temperature=1.0,
                      shard_bytes=SHARD_BYTES):
    """Writes config.json, weights_manifest.json and its shards, index.html and
    sequence_tutor_export.json to `out_dir` (atomically: a temporary sibling renamed into
    place); returns the path.

    `script_url` is where index.html loads @magenta/music's browser bundle from (`mm`);
    `primer_melody` (note_seq Melody values) and `num_steps`, `temperature` are the page's
    initial settings, which the user can edit there.
    """
    from sequence_tutor_tf.export.magenta_js_page import render_page
    check_out_dir(source_path, out_dir, overwrite)
    if not str(script_url).strip():
        raise MagentaJsExportError("--script-url is empty: expected the URL of @magenta/music's "
                                   "dist/magentamusic.js")
    primer = list(DEFAULT_PRIMER if primer_melody is None else primer_melody)
    encoding.melody_to_events(primer)   # raises naming a pitch outside 48..83
    source = load_source(source_path)
    weights = magenta_js_weights(source)
    out_dir = os.path.abspath(out_dir)
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix="." + os.path.basename(out_dir) + ".")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)   # mkdtemp's 0700 would hide the files from a web server
        manifest = write_weights(weights, tmp, shard_bytes)
        _write_json(os.path.join(tmp, MANIFEST_FILE), manifest)
        _write_json(os.path.join(tmp, CONFIG_FILE), music_rnn_spec())
        info = export_info(source, weights, script_url)
        _write_json(os.path.join(tmp, INFO_FILE), info)
        with open(os.path.join(tmp, PAGE_FILE), "w", encoding="utf-8") as f:
            f.write(render_page(script_url, primer, num_steps, temperature, info))
        if os.path.exists(out_dir):
            check_out_dir(source_path, out_dir, overwrite)   # unchanged while we exported?
            if os.listdir(out_dir):
                shutil.rmtree(out_dir)
            else:
                os.rmdir(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def export_info(source, weights, script_url):
    from sequence_tutor_tf import __version__ as package_version
    layers = [list(m.rnn_layer_sizes) for _, m in source.networks]
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "exported_by": f"sequence_tutor_tf {package_version}",
        "magenta_music_version": MAGENTA_MUSIC_VERSION,
        "script_url": script_url,
        "source": source.path, "source_kind": source.kind, "algorithm": source.algorithm,
        "description": source.description,
        "networks": [{"name": n, "rnn_layer_sizes": s} for (n, _), s in zip(source.networks,
                                                                              layers)],
        "policy": ("softmax(q_network scores + reward_rnn logits): both LSTMs side by side in "
                   "one block-diagonal LSTM, read-outs summed" if source.algorithm == "g"
                   else f"softmax({source.networks[0][0]} scores)"),
        "music_rnn_layer_sizes": [int(weights[CELL_PREFIX.format(i) + "bias"].shape[0]) // 4
                                  for i in range(len(layers[0]))],
        "forget_bias": ("taken out of the stored bias; MusicRNN adds "
                        f"{MAGENTA_JS_FORGET_BIAS} at run time"),
        "encoding": {"converter": "MelodyConverter", "min_pitch": MIN_PITCH,
                     "max_pitch": MAX_PITCH, "num_classes": encoding.NUM_CLASSES,
                     "index_to_melody_event":
                         encoding.events_to_melody_values(range(encoding.NUM_CLASSES))},
    }


def _write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2)
        f.write("\n")
