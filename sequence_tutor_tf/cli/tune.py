"""Tune a Note RNN with KL-controlled RL (Q, Psi, G-learning or pure RL), as rl_tuner_train.py.

Writes RUN_DIR/q_network and RUN_DIR/reward_rnn (our Note RNN format), tuner_config.json,
TensorBoard scalars under logs/, reward plots under plots/, sample MIDI under samples/, and the
resumable state under train_state/: rerunning the same command continues an interrupted run.
"""
import argparse
import logging
import os

from sequence_tutor_tf.cli.common import (add_common_arguments, add_music_rule_arguments,
                                          positive_int, setup_run)

HELP = "RL-tune a Note RNN (Q, Psi, G-learning, pure RL) with music-theory rewards"
log = logging.getLogger("sequence_tutor_tf.tune")


def _fraction(text):
    from fractions import Fraction
    try:
        value = float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"expected a positive number like 0.2 or 1/64, "
                                         f"got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def add_arguments(parser):
    add_common_arguments(parser, output_required=True)
    from sequence_tutor_tf.rl.hparams import ALGORITHMS, EXPLORATION_MODES, PRIMING_MODES
    parser.add_argument("--note-rnn", required=True, metavar="CKPT",
                        help="Note RNN to tune: our checkpoint directory, or a Magenta checkpoint "
                             "(RL Tuner note_rnn.ckpt, melody_rnn bundle or directory)")
    parser.add_argument("--note-rnn-type", default="auto",
                        choices=["auto", "default", "basic_rnn"],
                        help="Magenta checkpoint kind: auto-detected, default (the RL Tuner's "
                             "note_rnn.ckpt) or basic_rnn (melody_rnn's 38-class model)")
    parser.add_argument("--algorithm", default="q", choices=ALGORITHMS)
    parser.add_argument("--reward-mode", default="music_theory_all",
                        help="the original's reward_mode (g and pure_rl force music_theory_only)")
    parser.add_argument("--reward-scaler", type=float, default=0.1,
                        help="weight of the music-theory reward (1/c in the paper)")
    parser.add_argument("--training-steps", type=positive_int, default=1000000)
    parser.add_argument("--exploration-steps", type=int, default=500000,
                        help="steps over which egreedy's random-action probability anneals "
                             "from 1.0 (boltzmann exploration samples instead)")
    parser.add_argument("--exploration-mode", default="boltzmann", choices=EXPLORATION_MODES)
    parser.add_argument("--stochastic-observations", action="store_true")
    parser.add_argument("--priming-mode", default="random_note", choices=PRIMING_MODES)
    parser.add_argument("--midi-primer", help="MIDI file for --priming-mode single_midi")
    parser.add_argument("--training-data-path", help="melodies for --priming-mode random_midi")
    parser.add_argument("--output-every-nth", type=positive_int, default=50000,
                        help="steps between evaluations, reward batches and checkpoints")
    parser.add_argument("--num-notes-in-melody", type=positive_int, default=32)
    parser.add_argument("--hparams", default="",
                        help="DQN hparam overrides, e.g. 'minibatch_size=64,discount_rate=0.95' "
                             "(defaults: rl_tuner_train.py's, discount_rate=0.5)")
    parser.add_argument("--num-envs", type=positive_int, default=256,
                        help="compositions played in parallel (1 = the original's schedule)")
    parser.add_argument("--updates-per-step", type=_fraction, default=None,
                        help="learner updates per env step (default 1/train_every_nth)")
    parser.add_argument("--overlap-collection", action="store_true",
                        help="run each step's learner updates on a worker thread while the next "
                             "step is collected (uses a second CPU core; the policy acts one "
                             "batch of updates behind the synchronous schedule)")
    parser.add_argument("--eval-trials", type=int, default=100,
                        help="compositions per evaluation (0 disables evaluation)")
    parser.add_argument("--num-samples", type=int, default=3, help="MIDI samples written at end")
    add_music_rule_arguments(parser)
    parser.add_argument("--fix-quirks", action="store_true",
                        help="fix the original's defects (docs/differences/rl.md)")
    parser.add_argument("--no-jit", dest="jit", action="store_false",
                        help="do not compile the updates with XLA")
    parser.add_argument("--restart", action="store_true",
                        help="ignore a resumable state in --output-dir and start over")
    parser.add_argument("--no-progress", dest="progress", action="store_false")


def build_engine(args):
    import numpy as np

    from sequence_tutor_tf.rl.behaviour import OriginalBehaviour
    from sequence_tutor_tf.rl.engine import RLEngine
    from sequence_tutor_tf.rl.hparams import rl_tuner_train_dqn_hparams, validate_dqn_hparams
    from sequence_tutor_tf.rl.loading import load_note_rnn_any
    from sequence_tutor_tf.rl.music_domain import MusicDomain, make_music_primer
    hp = rl_tuner_train_dqn_hparams()
    if args.hparams:
        try:
            hp.parse(args.hparams)
        except ValueError as e:
            raise SystemExit(f"--hparams: {e}")
    try:
        validate_dqn_hparams(hp)
    except ValueError as e:
        raise SystemExit(f"--hparams: {e}")
    behaviour = OriginalBehaviour.fixed() if args.fix_quirks else OriginalBehaviour()
    try:
        q = load_note_rnn_any(args.note_rnn, note_rnn_type=args.note_rnn_type)
    except (OSError, ValueError) as e:
        raise SystemExit(f"sequence-tutor tune: error: --note-rnn: {e}") from None
    if q.num_classes != MusicDomain.num_actions or q.input_size != q.num_classes:
        raise SystemExit(
            f"sequence-tutor tune: error: --note-rnn {args.note_rnn} is a {type(q).__name__} with "
            f"{q.num_classes} classes and {q.input_size}-wide inputs; the music rewards need the "
            f"{MusicDomain.num_actions}-class melody one-hot in and out (RL Tuner or basic_rnn)")
    prior = q.copy(name="reward_rnn")
    rng = np.random.default_rng(args.seed)
    primer = make_music_primer(args.priming_mode, q, rng, args.midi_primer,
                               args.training_data_path, behaviour)
    domain = MusicDomain(args.num_notes_in_melody, magenta_bugs=args.magenta_bugs,
                         extra_rewards=args.extra_reward)
    return RLEngine(args.algorithm, q, prior, domain, hp,
                    primer=primer, reward_mode=args.reward_mode,
                    reward_scaler=args.reward_scaler, exploration_mode=args.exploration_mode,
                    stochastic_observations=args.stochastic_observations,
                    num_envs=args.num_envs, updates_per_step=args.updates_per_step,
                    output_every_nth=args.output_every_nth, eval_num_trials=args.eval_trials,
                    behaviour=behaviour, seed=args.seed, jit_compile=args.jit,
                    overlap_collection=args.overlap_collection)


class _Logger:
    """TensorBoard scalars, averaged over blocks of about 1000 env steps."""

    def __init__(self, log_dir, exploration_period):
        from sequence_tutor_tf._tf import tf
        self.tf = tf
        self.writer = tf.summary.create_file_writer(log_dir)
        self.exploration_period = exploration_period
        self._reset()

    def _reset(self):
        self.n = 0
        self.sums = {"reward/total": 0.0, "reward/music_theory": 0.0, "reward/note_rnn": 0.0}
        self.losses, self.targets = [], []

    def on_step(self, engine, info):
        import numpy as np
        self.n += len(info["rewards"])
        self.sums["reward/total"] += float(np.sum(info["rewards"]))
        self.sums["reward/music_theory"] += float(np.sum(info["task_rewards"])) * \
            engine.reward_scaler
        self.sums["reward/note_rnn"] += float(np.sum(info["prior_logp"]))
        self.losses.extend(info["losses"])
        self.targets.extend(info["target_values"])
        if self.n >= 1000:
            self.flush(engine)

    def flush(self, engine):
        import numpy as np
        from sequence_tutor_tf.rl.exploration import ExplorationSchedule
        if not self.n:
            return
        step = engine.env_steps
        eps = ExplorationSchedule(engine.exploration_mode, self.exploration_period,
                                  engine.hparams.random_action_probability).epsilon(
                                      engine.actions_executed_so_far)
        with self.writer.as_default():
            for k, v in self.sums.items():
                self.tf.summary.scalar(k, v / self.n, step=step)
            if self.losses:
                self.tf.summary.scalar("loss", float(np.mean(self.losses)), step=step)
                self.tf.summary.scalar("target_value", float(np.mean(self.targets)), step=step)
            self.tf.summary.scalar("exploration_probability", eps, step=step)
            if engine.eval_avg_reward:
                self.tf.summary.scalar("eval/total", engine.eval_avg_reward[-1], step=step)
                self.tf.summary.scalar("eval/music_theory",
                                       engine.eval_avg_music_theory_reward[-1], step=step)
                self.tf.summary.scalar("eval/note_rnn", engine.eval_avg_note_rnn_reward[-1],
                                       step=step)
        self.writer.flush()
        self._reset()


def run(args):
    setup_run(args, "tune")
    from sequence_tutor_tf.rl import outputs, run_state
    if args.priming_mode == "single_midi" and not args.midi_primer:
        raise SystemExit("--priming-mode single_midi needs --midi-primer FILE")
    engine = build_engine(args)
    run_dir = args.output_dir
    resumed = run_state.has_train_state(run_dir) and not args.restart
    if resumed:
        run_state.load_train_state(engine, run_dir)
        log.info("resuming from env step %d of %d", engine.env_steps, args.training_steps)
    remaining = args.training_steps - engine.env_steps
    logger = _Logger(os.path.join(run_dir, "logs"), args.exploration_steps)
    engine.step_callback = logger.on_step

    def checkpoint(eng):
        logger.flush(eng)
        outputs.save_networks(eng, run_dir)
        run_state.save_train_state(eng, run_dir)
        outputs.save_plots(eng, os.path.join(run_dir, "plots"), args.algorithm)
    engine.output_callback = checkpoint

    if remaining > 0:
        bar = None
        if args.progress:
            from tqdm import tqdm
            bar = tqdm(total=args.training_steps, initial=engine.env_steps, unit="step",
                       desc=f"tune {args.algorithm}")
        engine.train(remaining, args.exploration_steps, evaluate_at_start=not resumed,
                     reset_exploration=not resumed,
                     progress=None if bar is None else bar.update)
        if bar is not None:
            bar.close()
    logger.flush(engine)
    outputs.save_networks(engine, run_dir)
    run_state.save_train_state(engine, run_dir)
    outputs.save_plots(engine, os.path.join(run_dir, "plots"), args.algorithm)
    samples = engine.generate(args.num_samples) if args.num_samples > 0 else []
    for i, events in enumerate(samples):
        outputs.write_midi(events, os.path.join(run_dir, "samples", f"{args.algorithm}_{i}.mid"))
    print(f"tuned {args.algorithm} for {engine.env_steps} env steps; run directory {run_dir}")
    return 0
