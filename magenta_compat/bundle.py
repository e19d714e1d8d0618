"""Magenta .mag generator bundles: read one into a Keras model, write one from a Keras model.

A bundle (note_seq's `generator_pb2.GeneratorBundle`) holds the generator id, a V1 checkpoint
and the TF1 metagraph Magenta's generator imports. The hparams are not stored as such: layer
sizes come from the variables, and attention_rnn's `attn_length` and the batch size from the
shapes of the metagraph's `initial_state` and `inputs` collections.
"""
import os
import tempfile

from google.protobuf import message

from magenta_compat import checkpoint_io, melody_rnn_format, metagraph
from magenta_compat.errors import MagentaCompatError
from magenta_compat.melody_configs import CONFIGS, check_config_id
from sequence_tutor_tf.utils.files import atomic_write_bytes


def read_bundle(path):
    from note_seq.protobuf import generator_pb2
    bundle = generator_pb2.GeneratorBundle()
    with open(path, "rb") as f:
        data = f.read()
    try:
        bundle.ParseFromString(data)
    except message.DecodeError as e:
        raise MagentaCompatError(f"{path}: not a Magenta .mag generator bundle ({e})") from None
    if not bundle.generator_details.id or not bundle.checkpoint_file:
        raise MagentaCompatError(f"{path}: not a Magenta .mag generator bundle (no generator id "
                                 "or no checkpoint inside)")
    return bundle


def is_bundle(path):
    if not os.path.isfile(path):
        return False
    if path.endswith(".mag"):
        return True
    try:
        read_bundle(path)
        return True
    except (MagentaCompatError, OSError):
        return False


def load_bundle(path, hparams=None):
    """Reads a .mag bundle into a NoteRNN / AttentionRNN; returns (model, info)."""
    bundle = read_bundle(path)
    config_id = check_config_id(bundle.generator_details.id, f"{path}: generator id")
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = os.path.join(tmp, "model.ckpt")
        with open(ckpt, "wb") as f:
            f.write(bundle.checkpoint_file[0])
        attn_length = None
        if CONFIGS[config_id]["attn_length"]:
            sizes = melody_rnn_format._infer_config(checkpoint_io.read_shapes(ckpt), path)[1]
            attn_length = metagraph.graph_facts(bundle.metagraph_file, sizes or [1])["attn_length"]
        model, info = melody_rnn_format.load_melody_rnn_checkpoint(
            ckpt, config_id, hparams, attn_length=attn_length, source=path)
    info.update(format="mag", generator_details=bundle.generator_details.description,
                bundle_description=bundle.bundle_details.description)
    return model, info


def write_mag_bundle(model, path, config_id="basic_rnn", description=None, batch_size=1,
                     generator_description=None):
    """Writes a Keras Note RNN as a .mag bundle Magenta's MelodyRnnSequenceGenerator runs.

    The model's input and output widths must be those of `config_id`'s encoding (38/38 for
    basic_rnn, 130/130 mono_rnn, 121/40 lookback_rnn, 74/40 attention_rnn).
    """
    from note_seq.protobuf import generator_pb2
    from magenta_compat.bundle_graph import build_generate_graph
    from magenta_compat.melody_configs import layout_for
    check_config_id(config_id)
    want = layout_for(config_id, model.rnn_layer_sizes, getattr(model, "attn_length", None))
    have = (model.input_size, model.num_classes, bool(getattr(model, "attn_length", None)))
    if have != (want["input_size"], want["num_classes"], bool(want["attn_length"])):
        raise ValueError(
            f"a {config_id} bundle needs input size {want['input_size']}, {want['num_classes']} "
            f"classes{' and attention' if want['attn_length'] else ' and no attention'}; the "
            f"model has input size {have[0]}, {have[1]} classes"
            f"{' and attention' if have[2] else ''}")
    arrays = melody_rnn_format.melody_rnn_arrays(model)
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "model.ckpt")
        build_generate_graph(want, arrays, prefix, batch_size)
        bundle = generator_pb2.GeneratorBundle()
        bundle.generator_details.id = config_id
        bundle.generator_details.description = (generator_description
                                                 or CONFIGS[config_id]["description"])
        bundle.bundle_details.description = description or "Exported by sequence_tutor_tf"
        with open(prefix, "rb") as f:
            bundle.checkpoint_file.append(f.read())
        with open(prefix + ".meta", "rb") as f:
            bundle.metagraph_file = f.read()
    atomic_write_bytes(path, bundle.SerializeToString())
    return path
