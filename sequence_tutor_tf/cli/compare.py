"""Compare every learner on one prior and task reward at an equal number of environment steps:
Sequence Tutor's off-policy KL-control (q, psi, g; pure_rl) against the on-policy methods used
instead (reinforce_kl, ppo_kl, dap, raml; docs/baselines.md).

Each (learner, seed) trains as a normal `tune` run under OUTPUT_DIR/runs/ (rerun the command to
resume), then samples --eval-samples sequences that are scored for task reward, KL per token
from the prior, entropy, diversity (unique sequences, distinct n-grams), the domain's metrics
(music: the paper's Table 1 rows; molecules: validity, QED, ...) and wall time. Writes
results.json, results.csv, table.md and pareto.png (task reward against KL, per learner).
"""
HELP = "run every learner (q, psi, g, pure_rl and the on-policy baselines) at an equal budget"


def add_arguments(parser):
    from sequence_tutor_tf.cli.common import add_common_arguments
    from sequence_tutor_tf.compare.runner import ALL_LEARNERS
    from sequence_tutor_tf.music.tune_settings import SETTINGS
    from sequence_tutor_tf.rl.hparams import EXPLORATION_MODES
    add_common_arguments(parser, output_required=True)
    parser.add_argument("--domain", default="music", choices=("music", "molecules"))
    parser.add_argument("--note-rnn", default=None, metavar="CKPT",
                        help="music: the Note RNN to tune")
    parser.add_argument("--prior", default=None, metavar="DIR",
                        help="molecules: the SMILES prior to tune")
    parser.add_argument("--num-notes-in-melody", type=int, default=32,
                        help="music: events per composition")
    parser.add_argument("--reward", default=None, choices=("research", "qed"),
                        help="molecules: the task reward (tune --reward; default research)")
    parser.add_argument("--settings", default="paper", choices=sorted(SETTINGS),
                        help="the off-policy learners' named settings (tune --settings)")
    parser.add_argument("--algorithms", nargs="+", default=list(ALL_LEARNERS),
                        choices=list(ALL_LEARNERS), metavar="ALG",
                        help=f"learners to run, of {', '.join(ALL_LEARNERS)}")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--training-steps", type=int, default=100_000,
                        help="environment steps (tokens scored by the task reward) per run")
    parser.add_argument("--num-envs", type=int, default=256,
                        help="off-policy learners: sequences played in parallel")
    parser.add_argument("--onpolicy-num-envs", type=int, default=128,
                        help="on-policy learners: sequences per update (REINVENT's batch)")
    parser.add_argument("--eval-samples", type=int, default=500,
                        help="sequences sampled from each tuned policy to score it")
    parser.add_argument("--eval-trials", type=int, default=32,
                        help="sequences per evaluation during training")
    parser.add_argument("--raml-data", default=None, metavar="SOURCE",
                        help="raml's training sequences (music corpus name, MIDI dir, "
                             "TFRecord; molecules: moses or a SMILES file)")
    parser.add_argument("--exploration-mode", default=None, choices=EXPLORATION_MODES,
                        help="off-policy learners: how they collect (tune --exploration-mode; "
                             "default: the named settings')")
    parser.add_argument("--hparams", default="", metavar="HPARAMS",
                        help="off-policy learners: DQN hparams over the named settings' (tune "
                             "--hparams), e.g. 'discount_rate=1.0,train_every_nth=5'")
    parser.add_argument("--learner-hparams", action="append", default=[],
                        metavar="ALG:HPARAMS", help="an on-policy learner's hparams, e.g. "
                        "'ppo_kl:adaptive_kl=false,kl_coef=1' (repeatable)")
    parser.add_argument("--no-jit", dest="jit", action="store_false",
                        help="compile the updates without XLA")
    parser.add_argument("--restart", action="store_true",
                        help="train every run again from the start")
    parser.add_argument("--progress", action="store_true", help="progress bars")


def _learner_hparams(items):
    from sequence_tutor_tf.cli.errors import UserError
    from sequence_tutor_tf.rl.hparams import ONPOLICY_ALGORITHMS
    out = {}
    for item in items:
        name, sep, hparams = item.partition(":")
        if not sep or name not in ONPOLICY_ALGORITHMS:
            raise UserError(f"--learner-hparams {item!r}: expected ALG:HPARAMS with ALG one of "
                            f"{list(ONPOLICY_ALGORITHMS)}")
        out[name] = hparams
    return out


def run(args):
    from sequence_tutor_tf.cli.common import setup_run
    from sequence_tutor_tf.cli.errors import UserError
    from sequence_tutor_tf.rl.config import TunerConfig, layer_over, settings_layer
    from sequence_tutor_tf.utils.dataclass_flags import resolve
    for flag, value, low in (("--training-steps", args.training_steps, 1),
                             ("--num-envs", args.num_envs, 1),
                             ("--onpolicy-num-envs", args.onpolicy_num_envs, 2),
                             ("--eval-samples", args.eval_samples, 1),
                             ("--eval-trials", args.eval_trials, 0)):
        if value < low:
            raise UserError(f"{flag} must be >= {low}, got {value}")
    if len(set(args.seeds)) != len(args.seeds) or min(args.seeds) < 0:
        raise UserError(f"--seeds must be distinct non-negative integers, got {args.seeds}")
    hparams = _learner_hparams(args.learner_hparams)
    if args.domain == "molecules":
        from sequence_tutor_tf.molecules.tune_settings import SETTINGS as named
        from sequence_tutor_tf.molecules.tune_settings import MoleculeTuneSettings
        if not args.prior:
            raise UserError("--domain molecules needs --prior DIR (a SMILES prior)")
        settings = MoleculeTuneSettings(prior=args.prior, reward=args.reward or "research")
    else:
        if args.reward:
            raise UserError("--reward is a molecule setting (--domain molecules)")
        from sequence_tutor_tf.music.tune_settings import SETTINGS as named
        from sequence_tutor_tf.music.tune_settings import MusicTuneSettings
        if not args.note_rnn:
            raise UserError("--domain music needs --note-rnn CKPT (the Note RNN to tune)")
        settings = MusicTuneSettings(note_rnn=args.note_rnn,
                                     num_notes_in_melody=args.num_notes_in_melody)
    steps = args.training_steps
    over = {"training_steps": steps, "num_envs": args.num_envs, "jit": args.jit,
            "eval_trials": args.eval_trials, "output_every_nth": max(steps // 4, 1),
            # The schedule's proportions at any budget: explore over the first half.
            "exploration_steps": steps // 2}
    if args.exploration_mode:
        over["exploration_mode"] = args.exploration_mode
    if args.hparams:
        over["hparams"] = args.hparams      # joined to the named settings' (layer_over)
    config = resolve(TunerConfig, layer_over(settings_layer(named, args.settings), over))
    setup_run(args, "compare")
    from sequence_tutor_tf.compare.runner import run_comparison
    rows = run_comparison(args.domain, config, settings, args.output_dir,
                          algorithms=tuple(args.algorithms), seeds=tuple(args.seeds),
                          eval_samples=args.eval_samples,
                          onpolicy_num_envs=args.onpolicy_num_envs, restart=args.restart,
                          progress=args.progress, learner_hparams=hparams,
                          raml_data=args.raml_data)
    import os
    with open(os.path.join(args.output_dir, "table.md"), encoding="utf-8") as f:
        print(f.read())
    print(f"compared {len(rows) - 1} runs; results in {args.output_dir}")
    return 0
