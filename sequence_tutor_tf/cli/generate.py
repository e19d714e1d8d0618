"""Generate melodies from an RL Tuner run, a Note RNN or an exported SavedModel; write MIDI.

Flags follow magenta's melody_rnn_generate: `--num-steps` is the total length (primer +
generated steps, 16th notes), `--primer-melody` takes note_seq.Melody values ("[60, -2, 60, -2,
67, -2]": -2 = no event, -1 = note off), `--primer-midi` a MIDI file, and without a primer the
melody starts on middle C. Each output is written as NAME.mid and its NoteSequence as NAME.pb.
"""
import argparse
import ast
import json
import logging
import os
import sys

from sequence_tutor_tf.cli.common import add_common_arguments, positive_int, setup_run

HELP = "generate melodies (MIDI + NoteSequence) from a checkpoint or an exported SavedModel"
DEFAULT_PRIMER = [60]  # magenta: "No priming sequence specified. Defaulting to a single middle C."
log = logging.getLogger("sequence_tutor_tf.generate")


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def add_arguments(parser):
    parser.add_argument("--checkpoint", "--run-dir", dest="checkpoint", required=True,
                        metavar="DIR", help="exported SavedModel, RL Tuner run directory or Note "
                                            "RNN checkpoint directory")
    add_common_arguments(parser, output_required=True)
    parser.add_argument("--num-outputs", type=positive_int, default=10,
                        help="number of melodies; one MIDI file each")
    parser.add_argument("--num-steps", type=positive_int, default=128,
                        help="total length in 16th-note steps: primer + generated steps")
    parser.add_argument("--primer-melody", default="",
                        help="note_seq.Melody event values, e.g. \"[60, -2, 60, -2, 67, -2]\" "
                             "(-2 = no event, -1 = note off); default: a single middle C")
    parser.add_argument("--primer-midi", default="",
                        help="MIDI file whose first monophonic melody primes the model")
    parser.add_argument("--temperature", type=positive_float, default=1.0,
                        help="divides the logits before sampling: >1 more random, <1 less")
    parser.add_argument("--argmax", action="store_true",
                        help="take the most probable event at every step instead of sampling")
    parser.add_argument("--qpm", type=positive_float, default=None,
                        help="tempo of the output; default: the primer MIDI's, else the model's "
                             "(80, the RL Tuner's)")


def parse_primer_melody(text):
    """Magenta's --primer_melody syntax -> list of Melody event values."""
    try:
        values = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(f"--primer-melody {text!r}: expected a Python list of ints like "
                         "\"[60, -2, 60, -2, 67, -2]\"") from None
    if isinstance(values, int):
        values = [values]
    if (not isinstance(values, (list, tuple)) or not values
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in values)):
        raise ValueError(f"--primer-melody {text!r}: expected a non-empty list of ints "
                         "(MIDI pitches, -1 = note off, -2 = no event)")
    bad = [v for v in values if v < -2]
    if bad:
        raise ValueError(f"--primer-melody {text!r}: {bad[0]} is not a Melody event (MIDI pitch, "
                         "-1 = note off or -2 = no event)")
    return list(values)


def primer_events(args):
    """(class indices of the primer, qpm found in a primer MIDI or None)."""
    from sequence_tutor_tf.music import encoding
    if args.primer_melody and args.primer_midi:
        raise ValueError("give --primer-melody or --primer-midi, not both")
    if args.primer_midi:
        import note_seq
        if not os.path.isfile(args.primer_midi):
            raise FileNotFoundError(f"--primer-midi {args.primer_midi}: no such file")
        try:
            sequence = note_seq.midi_file_to_note_sequence(args.primer_midi)
        except note_seq.MIDIConversionError as e:
            raise ValueError(f"--primer-midi {args.primer_midi}: not a readable MIDI file ({e})") \
                from None
        qpm = sequence.tempos[0].qpm if sequence.tempos and sequence.tempos[0].qpm else None
        try:
            return encoding.note_sequence_to_events(sequence), qpm
        except ValueError as e:
            raise ValueError(f"--primer-midi {args.primer_midi}: {e}") from None
    values = parse_primer_melody(args.primer_melody) if args.primer_melody else DEFAULT_PRIMER
    try:
        return encoding.melody_to_events(values), None
    except ValueError as e:
        raise ValueError(f"--primer-melody: {e}") from None


def write_outputs(events, output_dir, qpm):
    """One NAME.mid + NAME.pb per row; returns the MIDI paths."""
    import note_seq
    from sequence_tutor_tf.music import encoding
    from sequence_tutor_tf.utils.files import atomic_write_bytes
    digits = len(str(len(events)))
    paths = []
    for i, row in enumerate(events):
        name = f"melody_{str(i + 1).zfill(digits)}"
        sequence = encoding.events_to_note_sequence(row, qpm=qpm)
        midi_path = os.path.join(output_dir, name + ".mid")
        note_seq.sequence_proto_to_midi_file(sequence, midi_path)
        atomic_write_bytes(os.path.join(output_dir, name + ".pb"), sequence.SerializeToString())
        paths.append(midi_path)
    return paths


def run(args):
    setup_run(args, "generate")
    import numpy as np
    from sequence_tutor_tf.export.runner import load_generator
    try:
        primer, primer_qpm = primer_events(args)
        if len(primer) >= args.num_steps:
            raise ValueError(f"the primer is {len(primer)} steps long but --num-steps "
                             f"{args.num_steps} is the total length (primer + generated); "
                             "raise --num-steps")
        generator = load_generator(args.checkpoint)
    except (FileNotFoundError, ValueError) as e:
        print(f"sequence-tutor generate: error: {e}", file=sys.stderr)
        return 2
    qpm = args.qpm or primer_qpm or float(generator.metadata.get("qpm", 80.0))
    batch = np.tile(primer[None, :], [args.num_outputs, 1])
    events = generator.generate(batch, args.num_steps - len(primer), args.temperature,
                                sample=not args.argmax, seed=args.seed)
    paths = write_outputs(events, args.output_dir, qpm)
    from sequence_tutor_tf.utils.files import atomic_write_text
    atomic_write_text(os.path.join(args.output_dir, "generated_events.json"), json.dumps({
        "model": os.path.abspath(args.checkpoint), "model_kind": generator.kind,
        "algorithm": generator.metadata.get("algorithm"), "seed": args.seed,
        "temperature": args.temperature, "argmax": args.argmax, "primer_length": len(primer),
        "events": events.tolist()}, indent=1))
    log.info("wrote %d melodies (%s, %s) to %s", len(paths), generator.kind,
             generator.metadata.get("algorithm"), args.output_dir)
    print(f"wrote {len(paths)} MIDI files to {args.output_dir}")
    return 0
