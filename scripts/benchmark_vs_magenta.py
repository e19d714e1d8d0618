"""Env steps/s of magenta's RLTuner vs ours on the same checkpoint and settings.

Times the training loop only (`train()` with evaluation switched off on both sides; one
evaluation is timed separately). Our engine runs at N=1 (the original's schedule), at larger N at
the original's update ratio, and at large N with a user-chosen update ratio; "overlap" rows run
the updates on a worker thread beside collection (`overlap_collection`), and for g the "frozen
prior" rows show the cost of the original's training of the Reward RNN (both sides train it in
the other rows).

  python scripts/benchmark_vs_magenta.py --steps 3000 --algorithms q psi g
"""
import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import numpy as np  # noqa: E402

import sequence_tutor_tf  # noqa: E402,F401
from sequence_tutor_tf.cli.common import add_thread_arguments, apply_thread_arguments  # noqa: E402


def make_checkpoint(directory, units, seed=0):
    from magenta.models.rl_tuner import note_rnn_loader, rl_tuner_ops
    from sequence_tutor_tf._tf import tf
    hp = rl_tuner_ops.default_hparams()
    hp.rnn_layer_sizes = [units]
    graph = tf.compat.v1.Graph()
    note_rnn_loader.NoteRNNLoader(graph, "rnn_model", None, hparams=hp)
    rng = np.random.default_rng(seed)
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
        for v in tf.compat.v1.global_variables():
            v.load(rng.normal(0, 0.1, v.shape.as_list()).astype(np.float32), sess)
        path = tf.compat.v1.train.Saver().save(sess, os.path.join(directory, "note_rnn.ckpt"))
    return path, hp


def dqn_hparams(args):
    from sequence_tutor_tf.rl.hparams import rl_tuner_train_dqn_hparams
    hp = rl_tuner_train_dqn_hparams()
    hp.train_every_nth, hp.minibatch_size = args.train_every_nth, args.minibatch_size
    return hp


def bench_magenta(args, algorithm, ckpt, hp, out):
    from magenta.contrib import training as contrib_training
    from magenta.models.rl_tuner import rl_tuner
    dqn = contrib_training.HParams(**dqn_hparams(args).values())
    rlt = rl_tuner.RLTuner(out, dqn_hparams=dqn, algorithm=algorithm, reward_scaler=0.1,
                           exploration_mode="boltzmann", note_rnn_checkpoint_dir=out,
                           note_rnn_checkpoint_file=ckpt, note_rnn_hparams=hp,
                           output_every_nth=10 ** 9)
    t = time.perf_counter()
    rlt.evaluate_model(num_trials=args.eval_trials)
    eval_s = time.perf_counter() - t
    rlt.evaluate_model = lambda *a, **k: None
    rlt.train(num_steps=min(args.steps, 500), exploration_period=args.steps)   # warm-up
    t = time.perf_counter()
    rlt.train(num_steps=args.steps, exploration_period=args.steps)
    dt = time.perf_counter() - t
    rlt.session.close()
    return args.steps / dt, eval_s


def bench_ours(args, algorithm, ckpt, num_envs, updates_per_step, minibatch, steps,
               overlap=False, frozen_prior=False):
    from sequence_tutor_tf.models.loading import load_note_rnn_any
    from sequence_tutor_tf.music.domain import MusicDomain
    from sequence_tutor_tf.rl.config import TunerConfig
    from sequence_tutor_tf.rl.engine import RLEngine
    # magenta's rl_tuner_train settings (TunerConfig's defaults) with this benchmark's sizes.
    config = TunerConfig(
        algorithm=algorithm, num_envs=num_envs, updates_per_step=updates_per_step,
        output_every_nth=10 ** 9, eval_trials=0, jit=args.jit, overlap_collection=overlap,
        hparams=f"train_every_nth={args.train_every_nth},minibatch_size={minibatch}",
        behaviour="g_trains_prior=false" if frozen_prior else "")
    q = load_note_rnn_any(ckpt)
    engine = RLEngine(q_network=q, prior=q.copy(), domain=MusicDomain(), **config.engine_kwargs())
    engine.train(max(num_envs * 64, 2000), args.steps, evaluate_at_start=False)   # warm-up
    t = time.perf_counter()
    engine.evaluate(args.eval_trials)
    eval_s = time.perf_counter() - t
    t = time.perf_counter()
    engine.train(steps, args.steps, evaluate_at_start=False)
    return steps / (time.perf_counter() - t), eval_s


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--algorithms", nargs="+", default=["q", "psi", "g"])
    p.add_argument("--steps", type=int, default=3000, help="env steps timed for magenta and N=1")
    p.add_argument("--fast-steps", type=int, default=100000, help="env steps timed for N>1")
    p.add_argument("--units", type=int, default=100)
    p.add_argument("--train-every-nth", type=int, default=5)
    p.add_argument("--minibatch-size", type=int, default=32)
    p.add_argument("--num-envs", type=int, nargs="+", default=[256, 1024])
    p.add_argument("--fast-ratio", type=float, default=1 / 64,
                   help="updates per env step for the user-ratio row")
    p.add_argument("--fast-minibatch", type=int, default=32)
    p.add_argument("--eval-trials", type=int, default=100)
    p.add_argument("--no-jit", dest="jit", action="store_false")
    p.add_argument("--skip-magenta", action="store_true")
    p.add_argument("--no-frozen-prior-rows", dest="frozen_prior_rows", action="store_false",
                   help="skip the g rows with the Reward RNN frozen (the original trains it "
                        "in G-learning; --fix-quirks freezes it)")
    p.add_argument("--no-overlap", dest="overlap", action="store_false",
                   help="skip the rows with overlap_collection (updates on a worker thread)")
    add_thread_arguments(p)      # one process: the setting applies to magenta's sessions too
    args = p.parse_args(argv)
    threads = apply_thread_arguments(args)
    out = tempfile.mkdtemp(prefix="bench_rl_")
    ckpt, hp = make_checkpoint(out, args.units)
    rows = []
    for alg in args.algorithms:
        base, base_eval = (float("nan"), float("nan")) if args.skip_magenta else \
            bench_magenta(args, alg, ckpt, hp, os.path.join(out, alg))
        rows.append((alg, "magenta RLTuner", "1 / %d" % args.train_every_nth, base, base_eval))
        big = max(args.num_envs)
        overlaps = (False, True) if args.overlap else (False,)
        configs = [(1, None, args.minibatch_size, args.steps, False, False)]
        configs += [(n, None, args.minibatch_size, args.fast_steps, False, False)
                    for n in args.num_envs]
        if args.overlap:
            configs += [(big, None, args.minibatch_size, args.fast_steps, True, False)]
        if alg == "g" and args.frozen_prior_rows:
            configs += [(big, None, args.minibatch_size, args.fast_steps, o, True)
                        for o in overlaps]
        configs += [(big, args.fast_ratio, args.fast_minibatch, args.fast_steps, o, False)
                    for o in overlaps]
        for n, ratio, mb, steps, overlap, frozen in configs:
            sps, ev = bench_ours(args, alg, ckpt, n, ratio, mb, steps, overlap, frozen)
            label = (f"ours N={n} mb={mb}" + (" overlap" if overlap else "")
                     + (" frozen prior" if frozen else ""))
            rows.append((alg, label, "1 / %d" % args.train_every_nth if ratio is None
                         else f"{ratio:.4g}", sps, ev, sps / base))
    print(f"\n{'alg':4} {'engine':47} {'updates/step':>12} {'env steps/s':>12} "
          f"{'eval s':>7} {'x magenta':>9}")
    for r in rows:
        ratio = f"{r[5]:9.1f}" if len(r) > 5 else f"{'1.0':>9}"
        print(f"{r[0]:4} {r[1]:47} {r[2]:>12} {r[3]:12.0f} {r[4]:7.2f} {ratio}")
    print("TensorFlow threads (both sides): intra-op %s, inter-op %s"
          % tuple(n or "default" for n in threads))
    os.system("uptime")
    return rows


if __name__ == "__main__":
    main()
