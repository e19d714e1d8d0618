"""Tune a prior with KL-controlled RL (Q, Psi, G-learning or pure RL): a Note RNN on
music-theory rewards (`--domain music`, the default) or a SMILES prior on RDKit drug-likeness
rewards (`--domain molecules --prior DIR`).

`--settings paper` (the default) is the paper's method as its text describes it, with the
original code's defects fixed; `--settings code` is the released code exactly (music: magenta's
rl_tuner_train.py, whose values the defaults below show; molecules: the authors' research code's
final run, molecules/tune_settings.py). Any flag given wins over either (docs/results.md says
what each setting changes, and why).

Writes RUN_DIR/q_network and RUN_DIR/reward_rnn (our Note RNN format), tuner_config.json,
TensorBoard scalars under logs/ (objective/scores, objective/logprior, objective/kl,
objective/entropy, every rule's mean reward and firing rate, a token histogram), reward plots
under plots/, sample MIDI under samples/, and the resumable state under train_state/: rerunning
the same command continues an interrupted run; a rerun with other settings is refused unless
--restart. One process at a time may use a run directory.

`--algorithm reinforce_kl|ppo_kl|dap|raml` runs an on-policy baseline instead (REINFORCE or PPO
with a KL penalty toward the prior, REINVENT's augmented likelihood, RAML) into the same kind of
run directory; `--learner-hparams` sets its own settings, raml reads `--raml-data`
(docs/baselines.md).
"""
import argparse

from sequence_tutor_tf.cli.common import add_common_arguments, setup_run

HELP = ("RL-tune a Note RNN or a SMILES prior (Q, Psi, G-learning, pure RL; on-policy "
        "baselines) with task rewards")
DOMAINS = ("music", "molecules")


def _fraction(text):
    import math
    from fractions import Fraction
    try:
        value = float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"expected a positive number like 0.2 or 1/64, "
                                         f"got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def add_arguments(parser):
    from sequence_tutor_tf.molecules.tune_settings import MoleculeTuneSettings
    from sequence_tutor_tf.music.tune_settings import SETTINGS, MusicTuneSettings
    from sequence_tutor_tf.rl.config import TunerConfig
    from sequence_tutor_tf.utils.dataclass_flags import add_flags
    add_common_arguments(parser, output_required=True)
    parser.add_argument("--domain", default="music", choices=DOMAINS,
                        help="music (a Note RNN, music-theory rules) or molecules (a SMILES "
                             "prior, RDKit rewards)")
    parser.add_argument("--settings", default="paper", choices=sorted(SETTINGS),
                        help="paper: the paper's method, the code's defects fixed; code: the "
                             "released code exactly (flags win over either)")
    add_flags(parser, TunerConfig)
    parser.add_argument("--updates-per-step", dest="updates_per_step", type=_fraction,
                        default=None, help="learner updates per env step, e.g. 0.2 or 1/64 "
                                           "(default: 1/train_every_nth)")
    music = parser.add_argument_group("music (--domain music)")
    add_flags(music, MusicTuneSettings)
    molecules = parser.add_argument_group("molecules (--domain molecules)")
    add_flags(molecules, MoleculeTuneSettings, skip=("extra_reward",))
    parser.add_argument("--num-samples", type=int, default=3,
                        help="samples written at the end (MIDI, or a .smi file)")
    baselines = parser.add_argument_group(
        "on-policy baselines (--algorithm reinforce_kl|ppo_kl|dap|raml; docs/baselines.md)")
    baselines.add_argument("--learner-hparams", default="", metavar="HPARAMS",
                           help="the learner's settings over its defaults, e.g. "
                                "'kl_coef=0.5,adaptive_kl=false' (rl/onpolicy/hparams.py)")
    baselines.add_argument("--raml-data", default=None, metavar="SOURCE",
                           help="raml's training sequences: a music corpus name, MIDI "
                                "directory or TFRecord; molecules: moses or a SMILES file")
    parser.add_argument("--restart", action="store_true",
                        help="ignore a resumable state in --output-dir and start over")
    parser.add_argument("--no-progress", dest="progress", action="store_false")


def _domain_settings(args):
    """(settings class, named settings) of --domain; flags of the other domain are refused."""
    import dataclasses

    from sequence_tutor_tf.molecules import tune_settings as molecules
    from sequence_tutor_tf.music import tune_settings as music
    chosen, other = ((music.MusicTuneSettings, music.SETTINGS),
                     (molecules.MoleculeTuneSettings, molecules.SETTINGS))
    if args.domain == "molecules":
        chosen, other = other, chosen
    mine = {f.name for f in dataclasses.fields(chosen[0])}
    stray = sorted(f.name for f in dataclasses.fields(other[0])
                   if f.name not in mine and getattr(args, f.name, None) is not None)
    if stray:
        flags = ", ".join("--" + n.replace("_", "-") for n in stray)
        raise ValueError(f"{flags}: not a setting of --domain {args.domain}")
    return chosen


def configs_from_args(args):
    """(TunerConfig, domain settings) from the flags over the named settings of the domain."""
    from sequence_tutor_tf.rl.config import TunerConfig, layer_over, settings_layer
    from sequence_tutor_tf.utils.dataclass_flags import given, resolve
    settings_cls, named = _domain_settings(args)
    flags = given(args, TunerConfig)
    flags["seed"] = args.seed
    config = resolve(TunerConfig, layer_over(settings_layer(named, args.settings), flags))
    settings = resolve(settings_cls, given(args, settings_cls))
    return config, settings


# TunerConfig fields the on-policy learners (rl/onpolicy/) have no use for.
OFFPOLICY_ONLY = {"replay", "overlap_collection", "updates_per_step", "exploration_mode",
                  "exploration_steps"}


def run(args):
    if args.num_samples < 0:
        raise ValueError(f"--num-samples must be >= 0, got {args.num_samples}")
    config, settings = configs_from_args(args)
    setup_run(args, "tune")
    from sequence_tutor_tf.rl.hparams import ONPOLICY_ALGORITHMS
    if config.algorithm in ONPOLICY_ALGORITHMS:
        from sequence_tutor_tf.baselines.tuning import tune_onpolicy
        from sequence_tutor_tf.rl.config import TunerConfig
        from sequence_tutor_tf.utils.dataclass_flags import given
        unused = sorted(OFFPOLICY_ONLY & set(given(args, TunerConfig)))
        if unused:   # a flag that would silently do nothing is refused
            raise ValueError(f"{', '.join('--' + u.replace('_', '-') for u in unused)}: settings "
                             f"of the off-policy learners, unused by {config.algorithm} "
                             "(docs/baselines.md)")
        engine = tune_onpolicy(args.domain, config, settings, args.output_dir,
                               settings_name=args.settings, restart=args.restart,
                               progress=args.progress, num_samples=args.num_samples,
                               learner_hparams=args.learner_hparams, raml_data=args.raml_data)
        print(f"tuned {config.algorithm} for {engine.env_steps} env steps; run directory "
              f"{args.output_dir}")
        return 0
    if args.learner_hparams or args.raml_data:
        raise ValueError("--learner-hparams and --raml-data are settings of the on-policy "
                         f"algorithms {list(ONPOLICY_ALGORITHMS)}, not of {config.algorithm}")
    if args.domain == "molecules":
        from sequence_tutor_tf.molecules.tuning import tune_molecules as tune
    else:
        from sequence_tutor_tf.music.tuning import tune_music as tune
    engine = tune(config, settings, args.output_dir, settings_name=args.settings,
                  restart=args.restart, progress=args.progress, num_samples=args.num_samples)
    print(f"tuned {config.algorithm} for {engine.env_steps} env steps; run directory "
          f"{args.output_dir}")
    return 0
