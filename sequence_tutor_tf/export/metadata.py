"""The self-description an exported policy carries, so a consumer needs no other file.

It is a JSON object, returned by the SavedModel's `metadata` signature and also written to
`assets.extra/metadata.json` (readable without TensorFlow). `index_to_melody_event` spells out
the decoding, so a program that never imports our package can still turn indices into MIDI.
"""
import json

from sequence_tutor_tf.music import encoding

FORMAT = "sequence_tutor_tf.melody_policy"
SMILES_FORMAT = "sequence_tutor_tf.smiles_policy"   # a SMILES prior or a tuned molecule run
FORMAT_VERSION = 1
ENCODING = "melody_one_hot"
SIGNATURES = ("step", "step_indices", "generate", "initial_state", "metadata")


def encoding_metadata():
    return {
        "encoding": ENCODING,
        "num_classes": encoding.NUM_CLASSES,
        "min_note": encoding.MIN_NOTE,
        "max_note": encoding.MAX_NOTE,
        "num_special_events": encoding.NUM_SPECIAL_EVENTS,
        "no_event_index": encoding.NO_EVENT,
        "note_off_index": encoding.NOTE_OFF,
        "steps_per_quarter": encoding.STEPS_PER_QUARTER,
        "qpm": encoding.DEFAULT_QPM,
        "index_to_melody_event": encoding.events_to_melody_values(range(encoding.NUM_CLASSES)),
    }


def build_metadata(source):
    """The metadata dict for a `PolicySource`; raises if its networks are not in our encoding.

    Melody policies carry the melody encoding; SMILES policies their vocabulary (`vocabulary`:
    tokens, EOS, BOS, PAD), so a consumer can decode `generate`'s token ids without our package:
    a SMILES is the tokens up to the first EOS (the faithful vocabulary's primer is one random
    token of ids 1..33, the atoms vocabulary's is BOS)."""
    if source.vocabulary is not None:
        return _base_metadata(source, SMILES_FORMAT, {
            "encoding": f"smiles_{source.vocabulary.get('kind')}",
            "num_classes": source.num_classes, "vocabulary": source.vocabulary})
    if source.num_classes != encoding.NUM_CLASSES:
        raise ValueError(
            f"{source.source_dir}: the networks have {source.num_classes} classes, but the "
            f"{ENCODING} encoding (MIDI {encoding.MIN_NOTE}..{encoding.MAX_NOTE - 1}) has "
            f"{encoding.NUM_CLASSES}")
    meta = _base_metadata(source, FORMAT, encoding_metadata())
    meta["vocabulary"] = encoding.MELODY_VOCABULARY.metadata()
    return meta


def _base_metadata(source, format_name, coding):
    if coding["num_classes"] != source.num_classes:
        raise ValueError(f"{source.source_dir}: the networks have {source.num_classes} classes, "
                         f"but its vocabulary has {coding['num_classes']}")
    offset, layout = 0, []
    for name, model in source.networks:
        layout.append({"network": name, "offset": offset, "size": model.state_size,
                       "rnn_layer_sizes": list(model.rnn_layer_sizes),
                       "per_layer": "[c, h]"})
        offset += model.state_size
    from sequence_tutor_tf import __version__ as package_version
    meta = {
        "format": format_name,
        "format_version": FORMAT_VERSION,
        "algorithm": source.algorithm,
        "policy": ("softmax(q_network scores + log_softmax(reward_rnn logits))"
                   if source.algorithm == "g" else f"softmax({source.networks[0][0]} scores)"),
        "state_size": offset,
        "state_layout": layout,
        "hparams": source.hparams,
        "source_dir": source.source_dir,
        "signatures": list(SIGNATURES),
        "exported_by": f"sequence_tutor_tf {package_version}",
    }
    meta.update(coding)
    json.dumps(meta)  # fails here, naming nothing TensorFlow-specific, if hparams are not JSON
    return meta
