"""Times one compiled learner update per algorithm; optionally lists XLA's costliest thunks.

The learner's chain of updates is the part of training that cannot be batched away: at the
original's ratio (one minibatch-32 update per 5 env steps) it sets the ceiling of env steps/s,
whatever the number of parallel compositions. This measures that chain alone, on random
transitions shaped like the replay's, with the engine's settings (K updates per compiled call,
XLA). docs/performance.md quotes its numbers.

  python scripts/profile_learner.py                      # q, psi, g, g with a frozen prior
  python scripts/profile_learner.py --algorithms g --xla-profile --top 25

--xla-profile adds XLA's per-thunk trace events (`--xla_cpu_enable_xprof_traceme`), which slow
each thunk, so read its table for proportions; the timing table above it is taken without them.
"""
import argparse
import bisect
import collections
import glob
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from sequence_tutor_tf.cli.common import add_thread_arguments, apply_thread_arguments  # noqa: E402

ALGORITHMS = ("q", "psi", "g", "pure_rl")
CONTROL_FLOW_THUNKS = ("while", "conditional", "call")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--algorithms", nargs="+", default=["q", "psi", "g"], choices=ALGORITHMS)
    p.add_argument("--frozen-prior-row", dest="frozen_prior_row", action="store_true",
                   default=True, help="also time g with the Reward RNN frozen (default)")
    p.add_argument("--no-frozen-prior-row", dest="frozen_prior_row", action="store_false")
    p.add_argument("--unpacked-rows", action="store_true",
                   help="also time each algorithm on the per-update variable path (packed=False) "
                        "that models without packed parameters take")
    p.add_argument("--units", type=int, default=100, help="LSTM units of the Note RNN")
    p.add_argument("--minibatch-size", type=int, default=32)
    p.add_argument("--updates-per-call", type=int, default=205,
                   help="K updates fused in one compiled call (the engine's N / train_every_nth: "
                        "1024 / 5 -> 205)")
    p.add_argument("--calls", type=int, default=10, help="timed calls per repeat")
    p.add_argument("--repeats", type=int, default=3, help="the best repeat is reported")
    add_thread_arguments(p)
    p.add_argument("--xla-profile", action="store_true",
                   help="print the costliest XLA thunks of each algorithm's update")
    p.add_argument("--top", type=int, default=20, help="thunks listed by --xla-profile")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    for name in ("units", "minibatch_size", "updates_per_call", "calls", "repeats", "top"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be > 0, got {getattr(args, name)}")
    return args


def random_batches(fields, k, b, state_size, num_classes, rng):
    """[K, B, ...] arrays for each field the learner reads, from the replay's transition spec."""
    from sequence_tutor_tf.rl.specs import transition_spec
    spec = transition_spec(state_size, state_size)
    out = {}
    for name in fields:
        shape, dtype = (k, b) + spec[name].shape, spec[name].dtype
        if np.issubdtype(dtype, np.integer):        # event indices
            out[name] = rng.integers(0, num_classes, shape, dtype=dtype)
        elif name == "terminals":
            out[name] = np.zeros(shape, dtype)
        else:                                       # rewards, LSTM states
            scale = 1.0 if name == "rewards" else 0.3
            out[name] = (scale * rng.normal(size=shape)).astype(dtype)
    return out


def build_learner(algorithm, units, train_prior, seed, packed=None):
    from sequence_tutor_tf._tf import tf
    from sequence_tutor_tf.models.note_rnn import NoteRNN
    from sequence_tutor_tf.rl.learners import LEARNERS
    tf.random.set_seed(seed)
    q = NoteRNN(rnn_layer_sizes=(units,), num_classes=38)
    q.build_for_inputs()
    return LEARNERS[algorithm](q, q.copy(), q.copy(), train_prior=train_prior, jit_compile=True,
                               packed=packed)


def time_updates(learner, batches, calls, repeats):
    """Best-of-`repeats` microseconds per update, after compiling and warming up."""
    for b in batches:
        learner.train(b)
    k = len(batches[0]["rewards"])
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(calls):
            learner.train(batches[i % len(batches)])
        best = min(best, (time.perf_counter() - start) / (calls * k))
    return best * 1e6


def thunk_profile(learner, batch, calls=2):
    """(name, microseconds per update, runs per update) of each XLA thunk, costliest first,
    from a profiler trace of `calls` compiled calls."""
    from sequence_tutor_tf._tf import tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2
    log_dir = tempfile.mkdtemp(prefix="profile_learner_")
    tf.profiler.experimental.start(log_dir)
    for _ in range(calls):
        learner.train(batch)
    tf.profiler.experimental.stop()
    totals, counts = collections.Counter(), collections.Counter()
    for path in glob.glob(os.path.join(log_dir, "**", "*.xplane.pb"), recursive=True):
        space = xplane_pb2.XSpace()
        with open(path, "rb") as f:
            space.ParseFromString(f.read())
        for plane in space.planes:
            for line in plane.lines:
                # Thunks are the events inside XLA's ThunkExecutor spans, on whichever thread
                # ran them (TF's Eigen pool, or the caller with one intra-op thread).
                named = [(plane.event_metadata[e.metadata_id].name, e) for e in line.events]
                spans = sorted((e.offset_ps, e.offset_ps + e.duration_ps) for n, e in named
                               if n.startswith("ThunkExecutor::"))
                starts = [a for a, _ in spans]
                for name, event in named:
                    if "::" in name or name.split(".")[0] in CONTROL_FLOW_THUNKS:
                        continue                    # executors and loops contain the others
                    i = bisect.bisect_right(starts, event.offset_ps) - 1
                    if i >= 0 and event.offset_ps + event.duration_ps <= spans[i][1]:
                        totals[name] += event.duration_ps / 1e6
                        counts[name] += 1
    updates = calls * len(batch["rewards"])
    return [(name, us / updates, counts[name] / updates) for name, us in totals.most_common()]


def thunk_kind(name):
    """Dots (TF MatMul ops keep their names) apart from XLA's elementwise fusions."""
    if name.startswith(("MatMul", "dot", "Einsum")):
        return "matmul"
    if "fusion" in name or name.startswith("wrapped_"):
        return "elementwise fusion"
    return "other (copies, loop control, slices)"


def main(argv=None):
    args = parse_args(argv)
    if args.xla_profile:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + " --xla_cpu_enable_xprof_traceme=true").strip()
    threads = apply_thread_arguments(args)

    runs = [(alg, alg == "g", None) for alg in args.algorithms]
    if "g" in args.algorithms and args.frozen_prior_row:
        runs.append(("g", False, None))
    if args.unpacked_rows:
        runs += [(alg, prior, False) for alg, prior, _ in runs]
    rng = np.random.default_rng(args.seed)
    rows = []
    for algorithm, train_prior, packed in runs:
        learner = build_learner(algorithm, args.units, train_prior, args.seed, packed)
        state_size = learner.q_network.state_size
        batches = [random_batches(learner.fields, args.updates_per_call, args.minibatch_size,
                                  state_size, learner.q_network.num_classes, rng)
                   for _ in range(3)]
        label = algorithm + (", Reward RNN frozen" if algorithm == "g" and not train_prior else "")
        label += ", unpacked" if packed is False else ""
        us = time_updates(learner, batches, args.calls, args.repeats)
        params = sum(int(np.prod(v.shape)) for v in learner.trainable_variables)
        rows.append((label, us, params))
        print(f"{label:38s} {us:8.1f} us/update   trainable params {params:,}", flush=True)
        if args.xla_profile:
            profile = thunk_profile(learner, batches[0])
            total = sum(us for _, us, _ in profile)
            print(f"  XLA thunks, traced (tracing slows each one; read the shares): "
                  f"{sum(n for _, _, n in profile):.0f} per update, {total:.1f} us in all")
            kinds = collections.defaultdict(lambda: [0.0, 0.0])
            for name, t, n in profile:
                kinds[thunk_kind(name)][0] += t
                kinds[thunk_kind(name)][1] += n
            for kind, (t, n) in sorted(kinds.items(), key=lambda kv: -kv[1][0]):
                print(f"    {100 * t / total:5.1f}%  {n:5.0f} thunks  {kind}")
            for name, t, n in profile[:args.top]:
                print(f"    {100 * t / total:5.1f}%  {t:7.2f} us  {name[:70]}")
    print(f"\nunits {args.units}, minibatch {args.minibatch_size}, "
          f"{args.updates_per_call} updates per compiled call, TensorFlow threads: intra-op "
          + ", inter-op ".join(str(n or "default") for n in threads))
    return rows


if __name__ == "__main__":
    main()
