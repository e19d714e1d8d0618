"""Exact samples from q(y | y*) proportional to exp(-d_H(y, y*) / tau) (Norouzi et al. 2016).

Over sequences of y*'s length whose tokens come from `allowed`, the number of sequences at
Hamming distance e is C(L, e) (V - 1)^e, so the distance is Binomial(L, a / (1 + a)) with
a = (V - 1) exp(-1 / tau) (the paper's stratified sampling, in closed form): draw e, pick e
positions uniformly, replace each token by a uniformly drawn other allowed token. Positions
past a row's length, and its EOS, are never edited.
"""
import numpy as np


def substitution_probability(tau, num_tokens):
    a = (num_tokens - 1) * np.exp(-1.0 / tau)
    return a / (1.0 + a)


def sample_edits(targets, lengths, allowed, tau, rng, eos=None):
    """Copies of `targets` [N, T] with Hamming-distance edits; returns (samples, distances)."""
    allowed = np.asarray(allowed, np.int32)
    if eos is not None:
        allowed = allowed[allowed != eos]
    v = len(allowed)
    out = np.array(targets, np.int32)
    dist = np.zeros(len(out), np.int32)
    if v < 2:
        return out, dist
    p = substitution_probability(tau, v)
    for i, (row, n) in enumerate(zip(out, lengths)):
        editable = int(n) - (1 if eos is not None and n > 0 and row[n - 1] == eos else 0)
        if editable <= 0:
            continue
        e = rng.binomial(editable, p)
        if not e:
            continue
        pos = rng.choice(editable, size=e, replace=False)
        # A uniformly drawn *other* token: shift by 1..v-1 in the allowed list.
        index = np.searchsorted(allowed, row[pos])
        ok = (index < v) & (allowed[np.minimum(index, v - 1)] == row[pos])
        index = np.where(ok, index, rng.integers(0, v, size=e))
        row[pos] = allowed[(index + rng.integers(1, v, size=e)) % v]
        dist[i] = e
    return out, dist
