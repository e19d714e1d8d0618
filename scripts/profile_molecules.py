"""Where molecule tuning's time goes: env steps/s, finished (scored) molecules/s, and a per-part
profile of the engine step (policy step, RDKit reward, replay add and its store-time priorities,
minibatch sampling and gather, learner call, priority updates), for uniform and prioritized
replay; then the cost of drawing minibatches from a full 500,000-slot buffer.

    python scripts/profile_molecules.py [--prior DIR] [--settings code] [--replay both]
        [--num-envs 256] [--steps 100] [--warmup 30] [--intra-op-threads 1 ...]

Without --prior it first trains a 100-unit SMILES prior on 20,000 MOSES molecules for
--pretrain-steps steps (a trained prior writes valid prefixes, which the reward pays RDKit for;
an untrained one would make RDKit look cheap). The engine runs with the molecule settings of
--settings (the research code's final run by default: e-greedy 0.01, train every 50 steps,
minibatch 512), no evaluations, synchronous.
"""
import argparse
import collections
import os
import tempfile
import time

import numpy as np


def _timed(obj, name, sink, key=None):
    fn = getattr(obj, name)

    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        sink[key or name] += time.perf_counter() - t
        return out
    setattr(obj, name, wrapper)


def train_small_prior(directory, steps, seed=0):
    from sequence_tutor_tf.molecules.data import load_smiles_corpus
    from sequence_tutor_tf.molecules.prior import split_by_batches, train_prior
    from sequence_tutor_tf.molecules.vocabulary import make_vocabulary
    vocabulary = make_vocabulary("faithful")
    corpus = load_smiles_corpus("moses", vocabulary=vocabulary, max_molecules=20_000, seed=seed)
    train_idx, val_idx, _ = split_by_batches(len(corpus.smiles), seed=seed)
    smiles = corpus.smiles
    train_prior([smiles[i] for i in train_idx], [smiles[i] for i in val_idx], vocabulary,
                directory, steps, min(steps, 500), rnn_layer_sizes=(100,), seed=seed, verbose=0)
    return os.path.join(directory, "note_rnn")


def profile_engine(prior, settings_name, replay, num_envs, steps, warmup, seed=0,
                   overrides=None):
    from sequence_tutor_tf.molecules.tune_settings import SETTINGS, MoleculeTuneSettings
    from sequence_tutor_tf.molecules.tuning import build_molecule_engine
    from sequence_tutor_tf.rl.config import TunerConfig, layer_over, settings_layer
    from sequence_tutor_tf.utils.dataclass_flags import resolve
    config = resolve(TunerConfig, layer_over(layer_over(settings_layer(SETTINGS, settings_name), {
        "num_envs": num_envs, "eval_trials": 0, "output_every_nth": 10 ** 9, "seed": seed,
        "replay": replay}), overrides or {}))
    engine = build_molecule_engine(config, MoleculeTuneSettings(prior=prior))
    parts = collections.defaultdict(float)
    _timed(engine.policy, "step", parts, "policy step (network)")
    _timed(engine.task_reward, "step", parts, "RDKit reward")
    _timed(engine.replay, "add_batch", parts, "replay add")
    _timed(engine.replay, "sample_indices", parts, "replay sample")
    _timed(engine.replay, "gather", parts, "replay gather")
    _timed(engine.learner, "train", parts, "learner call")
    if engine.prioritized:
        # td_errors runs inside add_batch's call: the engine computes it first, then adds.
        _timed(engine.learner, "td_errors", parts, "store-time TD pass")
        _timed(engine.replay, "update_priorities", parts, "priority update")
    finished = [0]
    engine.step_callback = lambda eng, info: finished.__setitem__(
        0, finished[0] + int(np.count_nonzero(info["done"])))
    engine.train(warmup * num_envs, 0, evaluate_at_start=False)      # compiles, fills replay
    for k in list(parts):
        parts[k] = 0.0
    finished[0], updates0 = 0, engine.iteration
    misses0, hits0 = engine.task_reward.cache.misses, engine.task_reward.cache.hits
    t = time.perf_counter()
    engine.train(steps * num_envs, 0, evaluate_at_start=False, reset_exploration=False)
    seconds = time.perf_counter() - t
    cache = engine.task_reward.cache
    return {"seconds": seconds, "env_steps": steps * num_envs, "finished": finished[0],
            "updates": engine.iteration - updates0, "parts": dict(parts),
            "misses": cache.misses - misses0, "hits": cache.hits - hits0,
            "replay_size": len(engine.replay)}


def sampling_costs(capacity=500_000, minibatch=512, batches=(1, 5), repeats=30):
    """ms per draw of `k` minibatches from a full buffer: uniform, our sum tree, the research
    code's np.random.choice(p=...) per minibatch, and a cumulative sum per draw."""
    from sequence_tutor_tf.rl.replay import PrioritizedReplayBuffer, ReplayBuffer
    from sequence_tutor_tf.rl.specs import ArraySpec
    spec = {"rewards": ArraySpec((), np.float32)}
    rng = np.random.default_rng(0)
    uniform, prioritized = ReplayBuffer(capacity, spec), PrioritizedReplayBuffer(capacity, spec)
    batch = {"rewards": np.zeros(capacity, np.float32)}
    uniform.add_batch(batch)
    prioritized.add_batch(batch, td_errors=rng.normal(0, 10, capacity))
    p = prioritized.priorities()

    def ms(fn):
        fn()
        t = time.perf_counter()
        for _ in range(repeats):
            fn()
        return (time.perf_counter() - t) / repeats * 1e3
    rows = []
    for k in batches:
        idx = rng.integers(0, capacity, (k, minibatch))
        td = rng.normal(0, 10, (k, minibatch))
        rows.append((k, {
            "uniform sample": ms(lambda: uniform.sample_indices(minibatch, rng, k)),
            "sum tree sample": ms(lambda: prioritized.sample_indices(minibatch, rng, k)),
            "sum tree priority update": ms(lambda: prioritized.update_priorities(idx, td)),
            "cumsum + searchsorted sample": ms(lambda: np.searchsorted(
                np.cumsum(p), rng.random((k, minibatch)) * p.sum(), side="right")),
            "np.random.choice(p=) (research code)": ms(lambda: [
                np.random.choice(capacity, minibatch, p=p / p.sum()) for _ in range(k)]),
        }))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prior", help="SMILES prior (note_rnn directory); default: train one")
    parser.add_argument("--pretrain-steps", type=int, default=600)
    parser.add_argument("--settings", default="code", choices=["code", "paper"])
    parser.add_argument("--replay", default="both", choices=["uniform", "prioritized", "both"])
    parser.add_argument("--num-envs", type=int, default=256)
    parser.add_argument("--steps", type=int, default=100, help="engine steps measured")
    parser.add_argument("--warmup", type=int, default=30, help="engine steps before measuring")
    parser.add_argument("--no-sampling", action="store_true")
    parser.add_argument("--intra-op-threads", type=int, default=0)
    parser.add_argument("--inter-op-threads", type=int, default=0)
    args = parser.parse_args()
    from sequence_tutor_tf._tf import tf
    tf.config.threading.set_intra_op_parallelism_threads(args.intra_op_threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.inter_op_threads)
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        prior = args.prior
        if prior is None:
            t = time.perf_counter()
            prior = train_small_prior(os.path.join(tmp, "prior"), args.pretrain_steps)
            print(f"prior: 100 units, {args.pretrain_steps} MLE steps on 20,000 MOSES "
                  f"molecules, {time.perf_counter() - t:.0f} s")
        kinds = ["uniform", "prioritized"] if args.replay == "both" else [args.replay]
        for kind in kinds:
            r = profile_engine(prior, args.settings, kind, args.num_envs, args.steps,
                               args.warmup)
            s, steps = r["seconds"], args.steps
            print(f"\n--settings {args.settings}, replay {kind}, N={args.num_envs}: "
                  f"{r['env_steps'] / s:,.0f} env steps/s, {r['finished'] / s:,.1f} finished "
                  f"molecules/s, {r['updates']} updates ({r['updates'] / s:,.1f}/s), "
                  f"{(r['hits'] + r['misses']) / s:,.0f} distinct prefixes looked up/s "
                  f"({r['misses'] / s:,.0f} RDKit calls/s; {r['misses']} calls, {r['hits']} "
                  f"cache hits; rows sharing a prefix in one step look it up once), "
                  f"replay {r['replay_size']:,}; load average {os.getloadavg()}")
            print("| part | ms per engine step | share |\n|---|---|---|")
            parts = dict(r["parts"])
            parts["rest (engine bookkeeping, exploration draws, ...)"] = s - sum(parts.values())
            for name, v in parts.items():
                print(f"| {name} | {v / steps * 1e3:.2f} | {v / s:.0%} |")
            print(f"| engine step | {s / steps * 1e3:.2f} | 100% |")
    if not args.no_sampling:
        print("\nminibatch draws from a full 500,000-slot buffer, minibatch 512 (ms per draw):")
        for k, row in sampling_costs():
            print(f"  {k} minibatch(es): " + ", ".join(f"{n} {v:.2f}" for n, v in row.items()))


if __name__ == "__main__":
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    main()
