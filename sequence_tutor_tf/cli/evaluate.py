"""Score melodies with the RL Tuner's music-theory rewards and the paper's metrics.

Give MIDI files (.mid/.midi), NoteSequence protos (.pb, as `generate` writes) or directories of
them. Each file's first monophonic melody is quantized (16th notes), transposed into --key (as the
training data is transposed to C; --no-transpose keeps the pitches) and encoded as 38 events. The
whole melody is one composition unless --length cuts it into compositions of that many events.
Printed: per file, each rule's reward summed over a composition (mean over its compositions);
then the statistics of rl_tuner_eval_metrics over all compositions, in the original's wording.
`--format json` prints the same as JSON. With --output-dir, evaluate.json and each scored melody
as MIDI (what was actually scored, after quantizing and transposing) are written there.

`--domain molecules FILE --output-dir OUT` scores one SMILES file (.smi, .csv with a SMILES
column, or .txt; one SMILES per line) with the RDKit rewards: OUT/molecules.csv has the columns
smiles,valid,logp,sa,qed,ring_penalty,score, one row per input line in input order (property
columns empty where invalid; score = 3 logP - 2 SA + 5 ring + 50 QED), and OUT/evaluate.json
the paper's statistics and MOSES-style metrics (novelty against --train, Scaf/Frag against
--reference, FCD only with the optional `fcd` package).
"""
import argparse
import json
import logging
import os
import sys

from sequence_tutor_tf.cli.common import (UserError, add_common_arguments,
                                          add_music_rule_arguments, nonnegative_int,
                                          positive_int, setup_run)

MAX_COMPOSITION_EVENTS = 20000   # 16th-note events per composition (about 40 min at 120 qpm)
HELP = ("score MIDI / NoteSequence melodies with the music-theory rewards, or SMILES with the "
        "RDKit rewards (--domain molecules), and the paper's metrics")
PROTO_EXTENSIONS = (".pb",)
log = logging.getLogger("sequence_tutor_tf.evaluate")


def add_arguments(parser):
    from sequence_tutor_tf.music.rewards.modes import REWARD_MODES
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="MIDI files, NoteSequence .pb files or directories of them; with "
                             "--domain molecules, one SMILES file")
    parser.add_argument("--domain", choices=("music", "molecules"), default="music",
                        help="what the files hold: melodies or SMILES")
    add_common_arguments(parser)
    parser.add_argument("--reward-mode", default="music_theory_all", choices=REWARD_MODES,
                        help="which rules to sum, as RLTuner's reward_mode")
    parser.add_argument("--length", type=positive_int, default=None,
                        help="cut each melody into compositions of this many 16th-note events "
                             "(the RL Tuner's are 32); default: the whole melody is one, at most "
                             f"{MAX_COMPOSITION_EVENTS} events (longer files are skipped)")
    parser.add_argument("--key", default="C",
                        help="key of the rules and metrics: 'C', 'G major', 'F#', 'A minor', "
                             "'Am' ...")
    parser.add_argument("--no-transpose", action="store_true",
                        help="keep the melody's pitches instead of transposing it into --key")
    add_music_rule_arguments(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="print a report or JSON")
    parser.add_argument("--per-step", action="store_true",
                        help="also give every step's reward per rule (JSON, and --output-dir)")
    molecules = parser.add_argument_group("--domain molecules")
    molecules.add_argument("--train", default="moses", metavar="SOURCE",
                           help="training set for novelty: 'moses' (its train split), a SMILES "
                                "file, or 'none'")
    molecules.add_argument("--reference", default="moses-test", metavar="SOURCE",
                           help="reference set of the scaffold / fragment similarities: "
                                "'moses-test', a SMILES file, or 'none'")
    molecules.add_argument("--reference-size", type=nonnegative_int, default=10000, metavar="N",
                           help="seeded subsample of --reference (0: all; the full MOSES test "
                                "set takes minutes once, then comes from the cache)")
    molecules.add_argument("--check-characters", action=argparse.BooleanOptionalAction,
                           default=True,
                           help="reject characters outside the research code's 35-character "
                                "SMILES vocabulary")


def find_inputs(paths):
    """Files to score, in a stable order; directories are searched recursively."""
    from sequence_tutor_tf.music.sources import MIDI_EXTENSIONS
    found = []
    for path in paths:
        if os.path.isdir(path):
            hits = []
            for root, _, names in os.walk(path):
                hits += [os.path.join(root, n) for n in names
                         if n.lower().endswith(MIDI_EXTENSIONS + PROTO_EXTENSIONS)]
            if not hits:
                raise ValueError(f"directory {path!r} holds no MIDI (.mid, .midi) or .pb files")
            found += sorted(hits)
        elif os.path.isfile(path):
            found.append(path)
        else:
            raise ValueError(f"{path!r} is neither a file nor a directory")
    return found


def read_note_sequence(path):
    import note_seq
    if path.lower().endswith(PROTO_EXTENSIONS):
        with open(path, "rb") as f:
            return note_seq.NoteSequence.FromString(f.read())
    return note_seq.midi_file_to_note_sequence(path)


def transpose_target(key_name):
    """note_seq's transpose_to_key (a major key, 0 = C) for a key name; relative major for minor."""
    from sequence_tutor_tf.music.rewards.keys import parse_key_name
    table, tonic = parse_key_name(key_name)
    pc = (tonic - 14) % 12
    return pc if (tonic + 4) in table else (pc + 3) % 12


def score_file(path, args, key, tonic):
    """Events, compositions and per-rule scores of one file (raises ValueError when unusable)."""
    from sequence_tutor_tf.music import encoding
    from sequence_tutor_tf.music.rewards.scoring import score_compositions, split_into_compositions
    try:
        sequence = read_note_sequence(path)
    except Exception as e:  # note_seq raises assorted types for corrupt files
        raise ValueError(f"cannot read {path!r} as MIDI or NoteSequence ({e})") from None
    target = None if args.no_transpose else transpose_target(args.key)
    events = encoding.note_sequence_to_events(sequence, transpose_to_key=target)
    comps = split_into_compositions(events, args.length)
    if comps.shape[1] > MAX_COMPOSITION_EVENTS:
        # The per-step rules look back over the whole composition: their cost grows with the
        # square of its length (a note held for hours is 160,000 events).
        raise ValueError(f"{path!r}: a composition of {comps.shape[1]} events is longer than "
                         f"{MAX_COMPOSITION_EVENTS}; cut it with --length (the RL Tuner's "
                         "compositions are 32)")
    scores = score_compositions(comps, args.reward_mode, key, tonic, args.magenta_bugs,
                                args.extra_reward)
    return events, comps, scores


def _report_text(results, stat_dict, args, tonic):
    from sequence_tutor_tf.music.metrics import stats_report
    lines = [f"reward_mode {args.reward_mode}, key {args.key} (tonic index {tonic}), "
             f"magenta_bugs={args.magenta_bugs}; rewards are summed over a composition "
             "(mean over the file's compositions), before reward_scaler", ""]
    for r in results:
        lines.append(f"{r['path']}: {r['num_events']} events -> {r['num_compositions']} "
                     f"composition(s) of {r['composition_length']}")
        width = max(len(k) for k in r["rewards"])
        lines += [f"  {name:<{width}}  {value:10.4f}" for name, value in r["rewards"].items()]
        lines.append("")
    lines.append(f"Metrics over {stat_dict['num_compositions']} composition(s):")
    return "\n".join(lines) + "\n" + stats_report(stat_dict)


def read_molecule_inputs(args):
    """The SMILES to score; bad input (file, characters, --extra-reward) is a UserError or
    ValueError (exit 2), raised before anything is logged so the message is the only line."""
    from sequence_tutor_tf.molecules import evaluation
    from sequence_tutor_tf.molecules.rewards import check_component
    if len(args.paths) != 1:
        raise UserError(f"--domain molecules takes one SMILES file, got {len(args.paths)} "
                        "paths")
    for spec in args.extra_reward:       # a typo fails before any scoring
        check_component(spec)
    return evaluation.read_evaluation_file(args.paths[0], args.check_characters)


def run_molecules(args, smiles):
    """--domain molecules: see the module docstring."""
    import time
    from sequence_tutor_tf.molecules import evaluation
    from sequence_tutor_tf.utils.files import atomic_write_text
    start = time.perf_counter()
    train = evaluation.load_train_set(args.train)
    reference = evaluation.load_reference(args.reference, args.reference_size, args.seed)
    properties, summary = evaluation.evaluate_smiles(smiles, train, reference,
                                                     args.extra_reward, seed=args.seed)
    report = {"file": args.paths[0], "num_lines": len(smiles), "train": args.train,
              "reference": args.reference,
              "reference_size": None if reference is None else reference["size"],
              **summary, "seconds": round(time.perf_counter() - start, 3)}
    report = evaluation.jsonable(report)
    if args.output_dir:
        atomic_write_text(os.path.join(args.output_dir, "molecules.csv"),
                          evaluation.molecules_csv(smiles, properties))
        atomic_write_text(os.path.join(args.output_dir, "evaluate.json"),
                          json.dumps(report, indent=1))
    if args.format == "json":
        print(json.dumps(report, indent=1))
    else:
        stats, moses_metrics = report["paper_statistics"], report["moses_metrics"]
        lines = [f"{args.paths[0]}: {len(smiles)} SMILES"]
        lines += [f"  {k}: {v}" for k, v in stats.items()]
        lines.append("MOSES-style metrics:")
        lines += [f"  {k}: {v}" for k, v in moses_metrics.items()]
        print("\n".join(lines))
    return 0


def run(args):
    if args.domain == "molecules":
        smiles = read_molecule_inputs(args)
        setup_run(args, "evaluate")
        return run_molecules(args, smiles)
    setup_run(args, "evaluate")
    import numpy as np
    from sequence_tutor_tf.music import encoding, metrics
    from sequence_tutor_tf.music.rewards.keys import parse_key_name
    from sequence_tutor_tf.music.rewards.registry import resolve_reward
    from sequence_tutor_tf.music.rewards.scoring import reward_summary
    try:
        key, tonic = parse_key_name(args.key)
        for spec in args.extra_reward:     # a typo is one error, not every file skipped
            resolve_reward(spec)
        files = find_inputs(args.paths)
    except ValueError as e:
        print(f"sequence-tutor evaluate: error: {e}", file=sys.stderr)
        return 2
    results, all_comps, failed = [], [], []
    for path in files:
        try:
            events, comps, scores = score_file(path, args, key, tonic)
        except ValueError as e:
            failed.append(path)
            print(f"sequence-tutor evaluate: skipping {path}: {e}", file=sys.stderr)
            continue
        result = {"path": path, "num_events": int(len(events)),
                  "num_compositions": int(comps.shape[0]),
                  "composition_length": int(comps.shape[1]),
                  "rewards": reward_summary(scores), "events": events.tolist()}
        if args.per_step:
            result["per_step"] = {k: v.tolist() for k, v in scores.items()}
        results.append(result)
        all_comps += list(comps)
    if not results:
        print(f"sequence-tutor evaluate: error: none of the {len(files)} file(s) held a melody "
              "to score", file=sys.stderr)
        return 2
    stat_dict = metrics.compute_composition_stats(all_comps, key=key, tonic_note=tonic,
                                                  magenta_bugs=args.magenta_bugs)
    report = {"reward_mode": args.reward_mode, "key": args.key, "tonic_note": tonic,
              "magenta_bugs": args.magenta_bugs, "files": results, "skipped": failed,
              "metrics": metrics.stats_summary(stat_dict)}
    text = _report_text(results, stat_dict, args, tonic)
    if args.output_dir:
        from sequence_tutor_tf.utils.files import atomic_write_text
        import note_seq
        atomic_write_text(os.path.join(args.output_dir, "evaluate.json"),
                          json.dumps(report, indent=1))
        for i, r in enumerate(results):
            stem = os.path.splitext(os.path.basename(r["path"]))[0]
            sequence = encoding.events_to_note_sequence(np.asarray(r["events"]))
            note_seq.sequence_proto_to_midi_file(
                sequence, os.path.join(args.output_dir, f"{i:03d}_{stem}.scored.mid"))
    if args.format == "json":
        print(json.dumps(report, indent=1))
    else:
        print(text, end="")
    return 0
