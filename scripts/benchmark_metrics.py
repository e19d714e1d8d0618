"""Times composing and scoring compositions for the paper's metrics: ours vs magenta's.

    python scripts/benchmark_metrics.py [--num-compositions 10000] [--length 32] [--units 100]
        [--magenta-compositions 300] [--scoring-only]

Four measurements, one process, one random 100-unit Note RNN (a Magenta RL Tuner checkpoint that
both sides load):

1. ours, scoring only: `music.metrics.compute_composition_stats` on given compositions;
2. magenta, scoring only: its `compute_composition_stats` with a playback RLTuner that
   "composes" the same compositions with no network (checked to give an identical stat_dict);
3. ours, composing and scoring: the batched rollout (`rl/rollout.py`, all compositions in lock
   step through the compiled Note RNN step) then the metrics: what `reproduce music` does;
4. magenta, composing and scoring: its `compute_composition_stats` on an RLTuner built on the
   same checkpoint, which samples each note through a session run and scores it note by note.
   This is slow (about 50 compositions/s), so it runs on `--magenta-compositions` and the rate is
   what is compared.
"""
import argparse
import os
import sys
import tempfile
import time
import warnings

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import sequence_tutor_tf  # noqa: E402,F401  (Keras 2 before magenta imports TensorFlow)
from sequence_tutor_tf.cli.common import add_thread_arguments, apply_thread_arguments  # noqa: E402


def ours_compose(ckpt, num, length, seed, batch):
    """Our composition for the metrics: batched rollout of the Note RNN policy (no scoring)."""
    from sequence_tutor_tf.reproduce.music import load_policy
    from sequence_tutor_tf.music.priming import RandomNotePrimer
    from sequence_tutor_tf.rl.rollout import play
    policy = load_policy(model_dir=ckpt)
    primer = RandomNotePrimer(policy.q_network.num_classes)
    rng = np.random.default_rng(seed)

    def compose(n):
        return np.concatenate([play(policy, primer, min(batch, n - s), length, rng).sequences
                               for s in range(0, n, batch)])
    compose(min(num, batch))   # trace the compiled step outside the timing
    return compose


def magenta_tuner(ckpt, hp, out):
    from magenta.contrib import training as contrib_training
    from magenta.models.rl_tuner import rl_tuner

    from sequence_tutor_tf.rl.hparams import rl_tuner_train_dqn_hparams
    dqn = contrib_training.HParams(**rl_tuner_train_dqn_hparams().values())
    return rl_tuner.RLTuner(out, dqn_hparams=dqn, algorithm="q", reward_scaler=0.1,
                            exploration_mode="boltzmann", note_rnn_checkpoint_dir=out,
                            note_rnn_checkpoint_file=ckpt, note_rnn_hparams=hp,
                            output_every_nth=10 ** 9)


def _row(label, n, seconds):
    print(f"  {label:44s} {seconds:9.3f} s for {n:6d}  {n / seconds:10.0f} comps/s  "
          f"{1000 * seconds / n:9.4f} ms/comp")
    return n / seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--num-compositions", type=int, default=10_000)
    parser.add_argument("--length", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--units", type=int, default=100, help="Note RNN LSTM units")
    parser.add_argument("--batch", type=int, default=2000,
                        help="compositions per rollout call (reproduce music uses 2000)")
    parser.add_argument("--magenta-compositions", type=int, default=300,
                        help="compositions magenta composes with its network (rate compared)")
    parser.add_argument("--magenta-scoring-compositions", type=int, default=None,
                        help="compositions magenta scores by playback (default: all)")
    parser.add_argument("--scoring-only", action="store_true",
                        help="skip the composing rows (3 and 4)")
    add_thread_arguments(parser)
    args = parser.parse_args(argv)
    threads = apply_thread_arguments(args)

    from magenta.models.rl_tuner import rl_tuner_eval_metrics
    from sequence_tutor_tf.music import metrics
    from tests.reward_compositions import make_compositions
    from tests.test_metrics_parity import Player, assert_same_stats

    n = args.num_compositions
    comps = make_compositions(args.seed, n, args.length)
    metrics.compute_composition_stats(comps[:10])
    start = time.perf_counter()
    ours = metrics.compute_composition_stats(comps)
    ours_s = time.perf_counter() - start

    m = min(n, args.magenta_scoring_compositions or n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        start = time.perf_counter()
        theirs = rl_tuner_eval_metrics.compute_composition_stats(
            Player(comps[:m]), num_compositions=m, composition_length=args.length)
        theirs_s = time.perf_counter() - start
    assert_same_stats(metrics.compute_composition_stats(comps[:m]) if m < n else ours, theirs)

    print(f"{n} compositions of {args.length} notes; identical stat_dicts "
          f"(TensorFlow threads: intra-op {threads[0] or 'default'}, "
          f"inter-op {threads[1] or 'default'})")
    ours_rate = _row("ours, scoring (batched NumPy)", n, ours_s)
    theirs_rate = _row("magenta, scoring only (playback, no model)", m, theirs_s)
    print(f"  speed-up: {ours_rate / theirs_rate:.1f}x   (scoring only)")
    if args.scoring_only:
        return 0

    out = tempfile.mkdtemp(prefix="bench_metrics_")
    from benchmark_vs_magenta import make_checkpoint   # this folder: the same random checkpoint
    ckpt, hp = make_checkpoint(out, args.units)
    compose = ours_compose(ckpt, n, args.length, args.seed, args.batch)
    start = time.perf_counter()
    sequences = compose(n)
    compose_s = time.perf_counter() - start
    start = time.perf_counter()
    metrics.compute_composition_stats(sequences)
    score_s = time.perf_counter() - start

    rlt = magenta_tuner(ckpt, hp, os.path.join(out, "magenta"))
    k = min(args.magenta_compositions, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rl_tuner_eval_metrics.compute_composition_stats(rlt, num_compositions=2,
                                                        composition_length=args.length)
        start = time.perf_counter()
        rl_tuner_eval_metrics.compute_composition_stats(rlt, num_compositions=k,
                                                        composition_length=args.length)
        magenta_s = time.perf_counter() - start
    rlt.session.close()

    print(f"composing with a {args.units}-unit Note RNN, then scoring:")
    _row("ours, composing (batched rollout)", n, compose_s)
    _row("ours, scoring", n, score_s)
    both = _row("ours, composing and scoring", n, compose_s + score_s)
    magenta_rate = _row("magenta, composing and scoring (its network)", k, magenta_s)
    print(f"  speed-up: {both / magenta_rate:.0f}x   (composing and scoring; magenta scoring "
          f"alone {theirs_rate:.0f} comps/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
