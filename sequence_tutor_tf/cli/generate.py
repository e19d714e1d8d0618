"""Generate melodies from an RL Tuner run, a Note RNN or an exported SavedModel; write MIDI.

Flags follow magenta's melody_rnn_generate: `--num-steps` is the total length (primer +
generated steps, 16th notes), `--primer-melody` takes note_seq.Melody values ("[60, -2, 60, -2,
67, -2]": -2 = no event, -1 = note off), `--primer-midi` a MIDI file, and without a primer the
melody starts on middle C. Each output is written as NAME.mid and its NoteSequence as NAME.pb.

A SMILES prior or a tuned molecule run (or its export) generates molecules instead: each starts
as its vocabulary starts sequences (a random priming token, or BOS) and ends at EOS or at the
vocabulary's maximum length; they are written to molecules.smi, one per line.
"""
import ast
import json
import logging
import os

from sequence_tutor_tf.cli.common import (UserError, add_common_arguments, bounded_int,
                                          finite_float, setup_run)

HELP = "generate melodies (MIDI + NoteSequence) from a checkpoint or an exported SavedModel"
DEFAULT_PRIMER = [60]  # magenta: "No priming sequence specified. Defaulting to a single middle C."
log = logging.getLogger("sequence_tutor_tf.generate")

# Limits, stated in --help: a melody of MAX_STEPS 16th notes is 40 minutes at 120 qpm; MIDI's
# tempo field (microseconds per quarter, 24 bits) holds 3.6..60,000,000 qpm, and outside
# MIN_QPM..MAX_QPM a player's clock is meaningless; temperatures outside MIN..MAX_TEMPERATURE
# overflow float32 logits or are indistinguishable from argmax / uniform.
MAX_STEPS = 20000
MAX_OUTPUTS = 10000
MAX_PRIMER_CHARS = 200000
MIN_QPM, MAX_QPM = 4.0, 1000.0
MIN_TEMPERATURE, MAX_TEMPERATURE = 1e-3, 1e3


def add_arguments(parser):
    parser.add_argument("--checkpoint", "--run-dir", dest="checkpoint", required=True,
                        metavar="DIR", help="exported SavedModel, RL Tuner run directory or Note "
                                            "RNN checkpoint directory")
    add_common_arguments(parser, output_required=True)
    parser.add_argument("--num-outputs", type=bounded_int(1, MAX_OUTPUTS), default=10,
                        help=f"number of melodies (1..{MAX_OUTPUTS}); one MIDI file each")
    parser.add_argument("--num-steps", type=bounded_int(2, MAX_STEPS), default=128,
                        help=f"total length in 16th-note steps: primer + generated steps "
                             f"(2..{MAX_STEPS})")
    parser.add_argument("--primer-melody", default="",
                        help="note_seq.Melody event values, e.g. \"[60, -2, 60, -2, 67, -2]\" "
                             "(-2 = no event, -1 = note off), shorter than --num-steps; "
                             "default: a single middle C")
    parser.add_argument("--primer-midi", default="",
                        help="MIDI file whose first monophonic melody primes the model "
                             "(its melody must be shorter than --num-steps)")
    parser.add_argument("--temperature",
                        type=finite_float(MIN_TEMPERATURE, MAX_TEMPERATURE), default=1.0,
                        help=f"divides the logits before sampling: >1 more random, <1 less "
                             f"({MIN_TEMPERATURE:g}..{MAX_TEMPERATURE:g})")
    parser.add_argument("--argmax", action="store_true",
                        help="take the most probable event at every step instead of sampling")
    parser.add_argument("--qpm", type=finite_float(MIN_QPM, MAX_QPM), default=None,
                        help=f"tempo of the output in quarter notes per minute "
                             f"({MIN_QPM:g}..{MAX_QPM:g}); default: the primer MIDI's, else "
                             "the model's (80, the RL Tuner's)")


def parse_primer_melody(text):
    """Magenta's --primer_melody syntax -> list of Melody event values."""
    if len(text) > MAX_PRIMER_CHARS:
        raise ValueError(f"--primer-melody: {len(text)} characters; a primer must be shorter "
                         f"than --num-steps (at most {MAX_STEPS} events)")
    try:
        values = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        shown = text if len(text) <= 60 else text[:60] + "..."
        raise ValueError(f"--primer-melody {shown!r}: expected a Python list of ints like "
                         "\"[60, -2, 60, -2, 67, -2]\"") from None
    if isinstance(values, int):
        values = [values]
    if (not isinstance(values, (list, tuple)) or not values
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in values)):
        raise ValueError(f"--primer-melody {text!r}: expected a non-empty list of ints "
                         "(MIDI pitches, -1 = note off, -2 = no event)")
    if len(values) > MAX_STEPS:
        raise ValueError(f"--primer-melody: {len(values)} events; a primer must be shorter "
                         f"than --num-steps (at most {MAX_STEPS})")
    bad = [v for v in values if v < -2]
    if bad:
        raise ValueError(f"--primer-melody {text!r}: {bad[0]} is not a Melody event (MIDI pitch, "
                         "-1 = note off or -2 = no event)")
    return list(values)


def primer_events(args):
    """(class indices of the primer, qpm found in a primer MIDI or None)."""
    from sequence_tutor_tf.music import encoding
    if args.primer_melody and args.primer_midi:
        raise UserError("give --primer-melody or --primer-midi, not both")
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


def _usable_qpm(value):
    """A tempo from a primer MIDI or a model's metadata, if it is one MIDI can hold."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    if not MIN_QPM <= value <= MAX_QPM:
        if value:
            log.warning("ignoring tempo %r qpm (outside %g..%g)", value, MIN_QPM, MAX_QPM)
        return None
    return value


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


def generate_molecules(args, generator):
    """SMILES from a molecule policy: one primer token per row, then up to max_length tokens."""
    import numpy as np

    from sequence_tutor_tf.molecules.domain import MoleculeDomain
    from sequence_tutor_tf.molecules.vocabulary import vocabulary_from_metadata
    from sequence_tutor_tf.utils.files import atomic_write_text
    if args.primer_melody or args.primer_midi:
        raise UserError("--primer-melody / --primer-midi: a SMILES model starts its molecules "
                        "itself (a priming token or BOS); drop the flag")
    vocabulary = vocabulary_from_metadata(generator.metadata["vocabulary"])
    domain = MoleculeDomain(vocabulary)
    first = domain.make_primer().prime(args.num_outputs, np.random.default_rng(args.seed),
                                       _Sized(1), _Sized(1))[0]
    tokens = generator.generate(first[:, None], vocabulary.max_length, args.temperature,
                                sample=not args.argmax, seed=args.seed)[:, 1:]
    smiles = [vocabulary.decode(row) for row in tokens]
    path = os.path.join(args.output_dir, "molecules.smi")
    atomic_write_text(path, "\n".join(smiles) + "\n")
    atomic_write_text(os.path.join(args.output_dir, "generated_tokens.json"), json.dumps({
        "model": os.path.abspath(args.checkpoint), "model_kind": generator.kind,
        "algorithm": generator.metadata.get("algorithm"), "seed": args.seed,
        "temperature": args.temperature, "argmax": args.argmax, "primers": first.tolist(),
        "tokens": tokens.tolist()}, indent=1))
    print(f"wrote {len(smiles)} SMILES to {path}")
    return 0


class _Sized:
    """Stands in for a network where a primer only needs its state size."""

    def __init__(self, state_size):
        self.state_size = state_size


def run(args):
    if not os.path.exists(args.checkpoint):
        raise UserError(f"--checkpoint {args.checkpoint}: no such directory")
    setup_run(args, "generate")
    import numpy as np
    from sequence_tutor_tf.export.metadata import SMILES_FORMAT
    from sequence_tutor_tf.export.runner import load_generator
    generator = load_generator(args.checkpoint)
    if generator.metadata.get("format") == SMILES_FORMAT:
        return generate_molecules(args, generator)
    primer, primer_qpm = primer_events(args)
    if len(primer) >= args.num_steps:
        raise UserError(f"the primer is {len(primer)} steps long but --num-steps "
                        f"{args.num_steps} is the total length (primer + generated); "
                        "raise --num-steps")
    qpm = args.qpm or _usable_qpm(primer_qpm) or _usable_qpm(generator.metadata.get("qpm")) \
        or 80.0
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
