"""Reproduce the paper's music experiment: Note RNN, Q / Psi / G tuning over seeds, evaluation on
10,000 compositions each, Table 1 beside the paper's numbers, plots, sample MIDI and report.md.

The `paper` preset runs rl_tuner_train.py's schedule (32-note compositions, 1,000,000 training
and 500,000 exploration steps) for 3 seeds; `--quick` is a smoke run of a few minutes.
`--settings` picks what each run tunes with: `paper` (default: the paper's method, the original
code's defects fixed), `code` (magenta's released code exactly) or `both` (each into its own
subdirectory, one Note RNN, both tables side by side in report.md). Rerun the same command to
resume an interrupted run.
"""
import dataclasses

from sequence_tutor_tf.cli.common import add_common_arguments, positive_int, setup_run

HELP = "reproduce the paper's music results (table, plots, MIDI, report.md)"


def add_arguments(parser):
    parser.add_argument("experiment", choices=["music", "molecules"],
                        help="which experiment to reproduce: the melodies (Table 1) or the "
                             "SMILES molecules")
    add_common_arguments(parser)   # --output-dir default: runs/reproduce_EXPERIMENT
    parser.add_argument("--quick", action="store_true",
                        help="the quick preset: small corpus, 20,000 tuning steps, one seed")
    parser.add_argument("--algorithms", default=None,
                        help="comma-separated algorithms to tune (q, psi, g, pure_rl; default "
                             "q,psi,g for music, all four for molecules)")
    parser.add_argument("--seeds", type=positive_int, default=None,
                        help="seeds per algorithm (default: 3, or 1 with --quick)")
    parser.add_argument("--note-rnn", default=None, metavar="DIR",
                        help="use this Note RNN (our format or a Magenta checkpoint converted "
                             "with `sequence-tutor convert`) instead of pretraining one")
    parser.add_argument("--corpus", default=None,
                        help="melody corpus for pretraining (default: the preset's)")
    parser.add_argument("--cache-dir", default=None, help="where converted corpora are cached")
    parser.add_argument("--pretrain-steps", type=positive_int, default=None,
                        help="Note RNN optimizer steps (default: the preset's)")
    parser.add_argument("--training-steps", type=positive_int, default=None,
                        help="RL steps per run (default: the preset's)")
    parser.add_argument("--exploration-steps", type=positive_int, default=None,
                        help="exploration steps of each run (default: the preset's)")
    parser.add_argument("--eval-compositions", type=positive_int, default=None,
                        help="compositions each model is evaluated on (paper preset: 10,000)")
    parser.add_argument("--num-envs", type=positive_int, default=None,
                        help="compositions played in parallel while tuning")
    parser.add_argument("--settings", default="paper", choices=["paper", "code", "both"],
                        help="paper: the paper's method (the code's defects fixed); code: "
                             "magenta's rl_tuner_train.py exactly; both: each, side by side")
    parser.add_argument("--fix-quirks", action="store_true",
                        help="also fix the original's defects under --settings code "
                             "(docs/differences/rl.md)")
    parser.add_argument("--no-deterministic", dest="deterministic", action="store_false",
                        help="allow non-deterministic TensorFlow kernels (faster on GPU)")
    parser.add_argument("--workers", type=positive_int, default=1,
                        help="music: tuning runs at a time, each a `tune` process with its share "
                             "of the cores (1: one after another in this process)")
    parser.add_argument("--ray-address", default=None, metavar="ADDRESS",
                        help="music: tune the runs as tasks on this Ray cluster (HOST:PORT, "
                             "auto or local; see `sequence-tutor sweep --help`)")


def resolve_preset(args):
    from sequence_tutor_tf.reproduce.music import PRESETS
    preset = PRESETS["quick" if args.quick else "paper"]
    overrides = {"seeds": args.seeds, "corpus": args.corpus, "pretrain_steps": args.pretrain_steps,
                 "training_steps": args.training_steps,
                 "exploration_steps": args.exploration_steps,
                 "eval_compositions": args.eval_compositions, "num_envs": args.num_envs}
    return dataclasses.replace(preset, **{k: v for k, v in overrides.items() if v is not None})


def molecule_preset(args):
    """The molecule preset `args` select (--quick) with its flags' overrides; also read back from
    a reproduction's reproduce_config.json (scripts/ablate_molecules.py)."""
    from sequence_tutor_tf.reproduce.molecules import PRESETS
    preset = PRESETS["quick" if args.quick else "paper"]
    overrides = {"seeds": args.seeds, "pretrain_steps": args.pretrain_steps,
                 "training_steps": args.training_steps,
                 "eval_samples": args.eval_compositions, "num_envs": args.num_envs}
    preset = dataclasses.replace(preset, **{k: v for k, v in overrides.items() if v is not None})
    if preset.pretrain_steps_per_epoch > preset.pretrain_steps:
        preset = dataclasses.replace(preset, pretrain_steps_per_epoch=preset.pretrain_steps)
    return preset


def run_molecules(args):
    from sequence_tutor_tf.reproduce.molecules import COLUMNS, reproduce_molecules
    algorithms = [a.strip() for a in (args.algorithms or "q,psi,g,pure_rl").split(",")
                  if a.strip()]
    unknown = [a for a in algorithms if a not in COLUMNS or a == "mle"]
    if unknown or not algorithms:
        raise ValueError(f"--algorithms: unknown {unknown}; choose from q, psi, g, pure_rl")
    if getattr(args, "workers", 1) > 1 or getattr(args, "ray_address", None):
        raise ValueError("reproduce molecules: --workers and --ray-address are music's flags "
                         "for now; `sequence-tutor sweep` runs molecule tuning runs in parallel")
    if args.settings == "both" or args.fix_quirks or args.note_rnn or args.corpus:
        raise ValueError("reproduce molecules: --settings both, --fix-quirks, --note-rnn and "
                         "--corpus are music's flags (the molecule settings are paper or code)")
    preset = molecule_preset(args)
    setup_run(args, "reproduce")
    path = reproduce_molecules(args.output_dir, preset, algorithms, seed=args.seed,
                               settings=args.settings, cache_dir=args.cache_dir,
                               progress=lambda text: print(text, flush=True))
    print(f"report: {path}")
    return 0


def run(args):
    args.output_dir = args.output_dir or f"runs/reproduce_{args.experiment}"
    if args.experiment == "molecules":
        return run_molecules(args)
    from sequence_tutor_tf.reproduce.music import ALGORITHM_COLUMNS, reproduce_music
    algorithms = [a.strip() for a in (args.algorithms or "q,psi,g").split(",") if a.strip()]
    unknown = [a for a in algorithms if a not in ALGORITHM_COLUMNS]
    if unknown or not algorithms:
        raise ValueError(f"--algorithms: unknown {unknown}; choose from "
                         f"{sorted(ALGORITHM_COLUMNS)}")
    preset = resolve_preset(args)
    if preset.pretrain_steps_per_epoch > preset.pretrain_steps:
        preset = dataclasses.replace(preset, pretrain_steps_per_epoch=preset.pretrain_steps)
    setup_run(args, "reproduce")
    if args.deterministic:
        from sequence_tutor_tf._tf import tf
        tf.config.experimental.enable_op_determinism()
    progress = lambda text: print(text, flush=True)  # noqa: E731
    workers, ray_address = getattr(args, "workers", 1), getattr(args, "ray_address", None)
    parallel = ({"workers": workers, "ray_address": ray_address}
                if workers > 1 or ray_address else None)
    if args.settings == "both":
        from sequence_tutor_tf.reproduce.music import reproduce_both
        path = reproduce_both(args.output_dir, preset, algorithms, note_rnn_dir=args.note_rnn,
                              seed=args.seed, cache_dir=args.cache_dir, progress=progress,
                              fix_quirks=args.fix_quirks, parallel=parallel)
    else:
        path = reproduce_music(args.output_dir, preset, algorithms, note_rnn_dir=args.note_rnn,
                               seed=args.seed, cache_dir=args.cache_dir,
                               fix_quirks=args.fix_quirks, progress=progress,
                               settings=args.settings, parallel=parallel)
    print(f"report: {path}")
    return 0
