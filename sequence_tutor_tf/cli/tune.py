"""Tune a Note RNN with KL-controlled RL (Q, Psi, G-learning or pure RL) on music-theory rewards.

`--settings paper` (the default) is the paper's method as its text describes it, with the
original code's defects fixed; `--settings code` is magenta's rl_tuner_train.py exactly. Any flag
given wins over either (docs/results.md says what each setting changes, and why).

Writes RUN_DIR/q_network and RUN_DIR/reward_rnn (our Note RNN format), tuner_config.json,
TensorBoard scalars under logs/ (objective/scores, objective/logprior, objective/kl,
objective/entropy, every rule's mean reward and firing rate, a token histogram), reward plots
under plots/, sample MIDI under samples/, and the resumable state under train_state/: rerunning
the same command continues an interrupted run; a rerun with other settings is refused unless
--restart. One process at a time may use a run directory.
"""
import argparse

from sequence_tutor_tf.cli.common import add_common_arguments, setup_run

HELP = "RL-tune a Note RNN (Q, Psi, G-learning, pure RL) with music-theory rewards"


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
    from sequence_tutor_tf.music.tune_settings import MusicTuneSettings
    from sequence_tutor_tf.rl.config import SETTINGS, TunerConfig
    from sequence_tutor_tf.utils.dataclass_flags import add_flags
    add_common_arguments(parser, output_required=True)
    parser.add_argument("--settings", default="paper", choices=sorted(SETTINGS),
                        help="paper: the paper's method, the code's defects fixed; code: "
                             "magenta's rl_tuner_train.py exactly (flags win over either)")
    add_flags(parser, TunerConfig)
    parser.add_argument("--updates-per-step", dest="updates_per_step", type=_fraction,
                        default=None, help="learner updates per env step, e.g. 0.2 or 1/64 "
                                           "(default: 1/train_every_nth)")
    add_flags(parser, MusicTuneSettings)
    parser.add_argument("--num-samples", type=int, default=3, help="MIDI samples written at end")
    parser.add_argument("--restart", action="store_true",
                        help="ignore a resumable state in --output-dir and start over")
    parser.add_argument("--no-progress", dest="progress", action="store_false")


def configs_from_args(args):
    """(TunerConfig, MusicTuneSettings) from the flags over the named settings."""
    from sequence_tutor_tf.music.tune_settings import MusicTuneSettings
    from sequence_tutor_tf.rl.config import TunerConfig, settings_layer
    from sequence_tutor_tf.utils.dataclass_flags import given, resolve
    flags = given(args, TunerConfig)
    flags["seed"] = args.seed
    config = resolve(TunerConfig, settings_layer(args.settings), flags)
    settings = resolve(MusicTuneSettings, given(args, MusicTuneSettings))
    return config, settings


def run(args):
    if args.num_samples < 0:
        raise ValueError(f"--num-samples must be >= 0, got {args.num_samples}")
    config, settings = configs_from_args(args)
    setup_run(args, "tune")
    from sequence_tutor_tf.music.tuning import tune_music
    engine = tune_music(config, settings, args.output_dir, settings_name=args.settings,
                        restart=args.restart, progress=args.progress,
                        num_samples=args.num_samples)
    print(f"tuned {config.algorithm} for {engine.env_steps} env steps; run directory "
          f"{args.output_dir}")
    return 0
