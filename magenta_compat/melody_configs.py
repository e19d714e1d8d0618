"""The four melody_rnn configurations: generator ids, input encodings and default hparams.

Facts from magenta/models/melody_rnn/melody_rnn_model.py; the encoders themselves come from
note_seq, so inputs are encoded exactly as Magenta encodes them (lookback and key features
included) without importing magenta.
"""
from magenta_compat.errors import UnsupportedGeneratorError

DEFAULT_MIN_NOTE, DEFAULT_MAX_NOTE = 48, 84

CONFIGS = {
    "basic_rnn": {"description": "Melody RNN with one-hot encoding.",
                  "rnn_layer_sizes": [128, 128], "attn_length": 0},
    "mono_rnn": {"description": "Monophonic RNN with one-hot encoding.",
                 "rnn_layer_sizes": [128, 128], "attn_length": 0},
    "lookback_rnn": {"description": "Melody RNN with lookback encoding.",
                     "rnn_layer_sizes": [128, 128], "attn_length": 0},
    "attention_rnn": {"description": "Melody RNN with lookback encoding and attention.",
                      "rnn_layer_sizes": [128, 128], "attn_length": 40},
}


def check_config_id(config_id, source="config id"):
    if config_id not in CONFIGS:
        raise UnsupportedGeneratorError(
            f"{source} {config_id!r} is not supported; supported melody_rnn generator ids: "
            f"{sorted(CONFIGS)}")
    return config_id


def encoder_decoder(config_id):
    """note_seq's encoder-decoder that melody_rnn uses for `config_id`."""
    import note_seq
    check_config_id(config_id)
    if config_id == "basic_rnn":
        return note_seq.OneHotEventSequenceEncoderDecoder(
            note_seq.MelodyOneHotEncoding(DEFAULT_MIN_NOTE, DEFAULT_MAX_NOTE))
    if config_id == "mono_rnn":
        return note_seq.OneHotEventSequenceEncoderDecoder(
            note_seq.MelodyOneHotEncoding(min_note=0, max_note=128))
    if config_id == "lookback_rnn":
        return note_seq.LookbackEventSequenceEncoderDecoder(
            note_seq.MelodyOneHotEncoding(DEFAULT_MIN_NOTE, DEFAULT_MAX_NOTE))
    return note_seq.KeyMelodyEncoderDecoder(min_note=DEFAULT_MIN_NOTE,
                                            max_note=DEFAULT_MAX_NOTE)


def layout_for(config_id, rnn_layer_sizes=None, attn_length=None):
    """Layout dict (see naming.role_shapes) of a melody_rnn config with the given sizes."""
    enc = encoder_decoder(config_id)
    config = CONFIGS[config_id]
    attn = (attn_length or config["attn_length"]) if config["attn_length"] else None
    return {"note_rnn_type": config_id, "checkpoint_scope": None,
            "rnn_layer_sizes": list(rnn_layer_sizes or config["rnn_layer_sizes"]),
            "input_size": enc.input_size, "num_classes": enc.num_classes,
            "attn_length": attn, "attention": bool(attn)}
