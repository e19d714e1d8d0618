"""Times the paper's metrics on the same compositions: ours (batched) vs magenta's.

    python scripts/benchmark_metrics.py [--num-compositions 10000] [--length 32]

Magenta's `compute_composition_stats` samples each composition from the RLTuner's networks and
scores it note by note (about 47 compositions/s with the model). To time the scoring alone, it is
given a playback RLTuner that "composes" our compositions with no network, so the magenta time
below is a lower bound on the original's; both results are checked to be identical.
"""
import argparse
import os
import sys
import time
import warnings

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sequence_tutor_tf  # noqa: E402,F401  (Keras 2 before magenta imports TensorFlow)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-compositions", type=int, default=10_000)
    parser.add_argument("--length", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from magenta.models.rl_tuner import rl_tuner_eval_metrics
    from sequence_tutor_tf.music import metrics
    from tests.reward_compositions import make_compositions
    from tests.test_metrics_parity import Player, assert_same_stats

    comps = make_compositions(args.seed, args.num_compositions, args.length)
    start = time.perf_counter()
    ours = metrics.compute_composition_stats(comps)
    ours_s = time.perf_counter() - start

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        start = time.perf_counter()
        theirs = rl_tuner_eval_metrics.compute_composition_stats(
            Player(comps), num_compositions=len(comps), composition_length=args.length)
        theirs_s = time.perf_counter() - start
    assert_same_stats(ours, theirs)

    n = len(comps)
    print(f"{n} compositions of {args.length} notes; identical stat_dicts")
    print(f"  ours (batched NumPy):              {ours_s:8.3f} s  ({n / ours_s:10.0f} comps/s)")
    print(f"  magenta (scoring only, no model):  {theirs_s:8.3f} s  ({n / theirs_s:10.0f} comps/s)")
    print(f"  speed-up: {theirs_s / ours_s:.1f}x   (vs the original's ~47 comps/s with its "
          f"model: {n / 47 / ours_s:.0f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
