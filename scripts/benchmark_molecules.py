"""Scored molecules per second on this machine: the per-step composite reward
(MoleculeTaskReward, with and without its prefix cache, optionally a process pool) and
`evaluate --domain molecules`'s scoring (molecules/evaluation.py) on MOSES test SMILES.

    python scripts/benchmark_molecules.py [--batch 256] [--evaluate 1000 10000] [--workers 2]

The reward is driven by replaying real MOSES test SMILES token by token (faithful vocabulary),
so each step scores `batch` prefixes, 13-18% of them valid molecules.
"""
import argparse
import os
import tempfile
import time

import numpy as np

from sequence_tutor_tf.molecules import evaluation, moses
from sequence_tutor_tf.molecules.rewards import MoleculeTaskReward
from sequence_tutor_tf.molecules.vocabulary import FaithfulVocabulary


def replay(smiles, batch, cache_size, workers=0):
    vocab = FaithfulVocabulary()
    env = MoleculeTaskReward(batch, vocab, cache_size=cache_size, workers=workers)
    prefixes = finished = 0
    t = time.perf_counter()
    for b0 in range(0, len(smiles) - batch + 1, batch):
        rows = [list(vocab.encode(s)) for s in smiles[b0:b0 + batch]]
        env.reset()
        for step in range(max(len(r) for r in rows)):
            actions = np.asarray([r[step] if step < len(r) else vocab.eos for r in rows])
            active = int((~env.done).sum())
            _, done = env.step(actions)
            prefixes += active
        finished += batch
    seconds = time.perf_counter() - t
    env.close()
    return prefixes / seconds, finished / seconds, env.cache


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--molecules", type=int, default=1024, help="molecules replayed")
    parser.add_argument("--workers", type=int, default=0, help="also time a pool of N workers")
    parser.add_argument("--evaluate", type=int, nargs="*", default=[1000, 10000])
    args = parser.parse_args()
    test = moses.read_split("test")
    rng = np.random.default_rng(0)
    sample = [test[i] for i in rng.choice(len(test), max([args.molecules] + args.evaluate),
                                          replace=False)]
    for label, cache, workers in [("no cache", 0, 0), ("cache", 200_000, 0)] + (
            [(f"no cache, pool {args.workers}", 0, args.workers)] if args.workers else []):
        p, m, c = replay(sample[:args.molecules], args.batch, cache, workers)
        print(f"reward, batch {args.batch}, {label}: {p:,.0f} prefixes/s, {m:,.1f} finished "
              f"molecules/s (cache hits {c.hits}, misses {c.misses})")
    if args.molecules:   # the cache across repeated episodes (what greedy rollouts do)
        env_sample = sample[:args.batch] * 4
        p, m, c = replay(env_sample, args.batch, 200_000)
        print(f"reward, the same {args.batch} molecules 4 times, cache: {p:,.0f} prefixes/s "
              f"(hits {c.hits}, misses {c.misses})")
    with tempfile.TemporaryDirectory() as cache_dir:
        t = time.perf_counter()
        train = evaluation.load_train_set("moses")
        print(f"evaluate: MOSES train set for novelty read in {time.perf_counter() - t:.1f} s")
        for label in ("reference not cached", "reference cached"):
            t = time.perf_counter()
            ref = evaluation.load_reference("moses-test", 10_000, 0, cache_dir=cache_dir)
            print(f"evaluate: Scaf/Frag reference (10,000 test molecules), {label}: "
                  f"{time.perf_counter() - t:.1f} s")
        for n in args.evaluate:
            t = time.perf_counter()
            evaluation.evaluate_smiles(sample[:n], train, ref)
            s = time.perf_counter() - t
            print(f"evaluate: {n} MOSES test SMILES scored with all metrics in {s:.1f} s "
                  f"({n / s:,.0f} molecules/s)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
