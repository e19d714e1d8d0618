"""Random and adversarial compositions for the reward and metric parity tests.

Ten kinds, cycled: uniform noise; random walks with rests/holds and leaps; long repeats of one
note with holds/rests between; repeated and broken motifs; leaps up and back; in-key melodies
with the tonic and the final-bar holds/rests at beats 0 and T-4..T-1; constant; only special
events; C-E-G arpeggios with rests after tonic/fifth; scale runs.
"""
import numpy as np

C_MAJOR_NOTES = [2, 4, 6, 7, 9, 11, 13, 14, 16, 18, 19, 21, 23, 25, 26, 28, 30, 31, 33, 35, 37]
SCALE = [2, 4, 6, 7, 9, 11, 13, 14, 16, 18, 19, 21, 23, 25, 26]
STEPS = [-14, -12, -9, -7, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 7, 9, 12, 14]


def _one(rng, kind, length):
    if kind == 0:
        return rng.integers(0, 38, length)
    if kind == 1:
        comp, note = [], int(rng.integers(2, 38))
        for _ in range(length):
            r = rng.random()
            if r < 0.3:
                comp.append(int(r < 0.15))
            else:
                note = int(np.clip(note + rng.choice(STEPS), 2, 37))
                comp.append(note)
        return comp
    if kind == 2:
        note = int(rng.integers(0, 38))
        return [note if rng.random() < 0.7 else int(rng.integers(0, 2)) for _ in range(length)]
    if kind == 3:
        bar = rng.choice([0, 1, 2, 4, 6, 7, 9, 11, 13, 14, 16, 18, 19, 21], 8)
        bars = [bar if rng.random() < 0.7 else rng.integers(0, 38, 8)
                for _ in range(length // 8 + 1)]
        return np.concatenate(bars)[:length]
    if kind == 4:
        base = int(rng.integers(8, 30))
        return [int(np.clip(base + rng.choice([0, 7, -7, 12, -12, 2, -2, 9]), 2, 37))
                if rng.random() < 0.6 else int(rng.choice([0, 1, base])) for _ in range(length)]
    if kind == 5:
        comp = rng.choice(C_MAJOR_NOTES + [0, 1], length)
        comp[0] = 14
        if length >= 4:
            comp[length - 4] = 14
            comp[length - 3] = rng.choice([1, 0])
            comp[length - 2:] = rng.choice([0, 1], 2)
        return comp
    if kind == 6:
        return np.full(length, rng.integers(0, 38))
    if kind == 7:
        return rng.integers(0, 2, length)
    if kind == 8:
        return rng.choice([2, 6, 9, 14, 18, 21, 26, 30, 33, 0, 1, 13, 11], length)
    start = int(rng.integers(0, 15))
    return [SCALE[(start + t) % 15] if rng.random() < 0.8 else int(rng.integers(0, 38))
            for t in range(length)]


def make_compositions(seed, count, length=32):
    """int64 [count, length] compositions, the ten kinds in turn."""
    rng = np.random.default_rng(seed)
    return np.stack([np.asarray(_one(rng, i % 10, length), dtype=np.int64)
                     for i in range(count)])
