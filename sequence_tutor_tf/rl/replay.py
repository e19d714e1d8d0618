"""Experience replay behind a two-method interface: `add_batch` and `sample`.

The original keeps a `deque(maxlen=max_experience)` of tuples and draws `random.sample` (without
replacement) from it. `ReplayBuffer` is the same distribution over a NumPy ring buffer, so batched
adds and minibatch gathers are array copies, and its whole content can be checkpointed.

`PrioritizedReplayBuffer` is the molecule research code's prioritized replay (rl_tutor.py):
priority (|TD error| + epsilon)^alpha, minibatches drawn with replacement with probability
proportional to it, no importance weights. The engine gives each new transition its priority
and, after each update, the sampled slots theirs (`update_priorities`). Sampling walks a sum tree
(`SumTree`) instead of the research code's `np.random.choice(p=...)` over all 500,000 slots per
minibatch (docs/performance.md measures both).
"""
import math

import numpy as np

from sequence_tutor_tf.rl.specs import check_batch
from sequence_tutor_tf.utils.tensors import aligned_empty


# Slots allocated up front; the arrays double from there up to the capacity. A short run with
# the research code's 500,000-slot replay (1.2 GB of LSTM states at 100 units) then never
# allocates and touches what it cannot fill (4.4 s per run of `reproduce molecules --quick`).
INITIAL_SLOTS = 1 << 16


class ReplayBuffer:
    """Ring buffer of transitions; the oldest is overwritten once `capacity` is reached."""

    def __init__(self, capacity, spec):
        if isinstance(capacity, bool) or int(capacity) != capacity or capacity <= 0:
            raise ValueError(f"replay capacity (max_experience) must be a positive int, "
                             f"got {capacity!r}")
        self.capacity = int(capacity)
        self.spec = spec
        self._data = self._allocate(min(self.capacity, INITIAL_SLOTS))
        self._next = 0      # slot the next transition goes to
        self._size = 0

    def _allocate(self, slots):
        # np.full touches every page now, so the first pass over the buffer is not page faults.
        return {k: np.full((slots,) + s.shape, 0, s.dtype) for k, s in self.spec.items()}

    def _reserve(self, slots):
        """Grows the arrays (doubling, at most to capacity) to hold `slots` slots. Growth
        happens only before the ring first wraps, while slots 0..size-1 are the filled ones."""
        have = len(next(iter(self._data.values())))
        if slots <= have:
            return
        new = min(self.capacity, max(slots, 2 * have))
        grown = self._allocate(new)
        for k, v in self._data.items():
            grown[k][:self._size] = v[:self._size]
        self._data = grown

    def __len__(self):
        return self._size

    def add_batch(self, batch):
        """Appends N transitions (a dict of arrays with leading dimension N) in order."""
        (n,) = check_batch(self.spec, batch)
        if n > self.capacity:   # only the newest `capacity` survive, as with a deque
            batch = {k: np.asarray(v)[n - self.capacity:] for k, v in batch.items()}
            n = self.capacity
        self._reserve(min(self.capacity, self._next + n))
        first = min(n, self.capacity - self._next)     # contiguous part, then the wrap-around
        for k in self.spec:
            values = np.asarray(batch[k])
            self._data[k][self._next:self._next + first] = values[:first]
            if first < n:
                self._data[k][:n - first] = values[first:]
        self._next = int((self._next + n) % self.capacity)
        self._size = min(self._size + n, self.capacity)

    def slots_of_next(self, n):
        """The slots the next `add_batch` of n transitions writes, in order (n <= capacity)."""
        return (self._next + np.arange(n)) % self.capacity

    def sample(self, batch_size, rng, num_batches=None, fields=None):
        """Minibatch(es) drawn uniformly without replacement within each minibatch.

        With `num_batches`, returns arrays shaped [num_batches, batch_size, ...] for a fused
        multi-update call. `fields` limits the gather to those keys (same draws either way).
        """
        return self.gather(self.sample_indices(batch_size, rng, num_batches), fields)

    def sample_indices(self, batch_size, rng, num_batches=None):
        """The slots `sample` would gather: [batch_size] or [num_batches, batch_size]."""
        if batch_size > self._size:
            raise ValueError(f"cannot sample {batch_size} transitions from a buffer of "
                             f"{self._size}")
        k = 1 if num_batches is None else int(num_batches)
        if batch_size * 8 <= self._size:
            # Rejection of the rare duplicate rows is cheaper than a permutation per minibatch.
            idx = rng.integers(0, self._size, size=(k, batch_size))
            ordered = np.sort(idx, axis=1)
            for row in np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1)):
                idx[row] = rng.choice(self._size, batch_size, replace=False)
        else:
            idx = np.stack([rng.choice(self._size, batch_size, replace=False) for _ in range(k)])
        return idx if num_batches is not None else idx[0]

    def gather(self, idx, fields=None):
        """The transitions at slots `idx` (from `sample_indices`), as a dict of fresh arrays.

        They are aligned so that the learner can read them without a copy (utils/tensors.py).
        """
        idx = np.asarray(idx)
        if idx.size and (idx.min() < 0 or idx.max() >= self._size):
            raise IndexError(f"replay slots must lie in [0, {self._size}), got "
                             f"{idx.min()}..{idx.max()}")
        out = {}
        for key in (self._data if fields is None else fields):
            data = self._data[key]
            # mode="clip" (the slots are checked above) writes straight into `out`; the
            # default mode would gather into a temporary and copy it over.
            out[key] = np.take(data, idx, axis=0, mode="clip",
                               out=aligned_empty(idx.shape + data.shape[1:], data.dtype))
        return out

    # ----- checkpointing ------------------------------------------------------------------------
    def _order(self):
        """Slots of the filled part, oldest first."""
        return (np.arange(self._size) + (self._next - self._size)) % self.capacity

    def state_dict(self):
        """Arrays for np.savez: only the filled part, oldest first, and the next slot."""
        order = self._order()
        out = {f"replay/{k}": v[order] for k, v in self._data.items()}
        out["replay/capacity"] = np.array(self.capacity)
        out["replay/next"] = np.array(self._next)
        return out

    def load_state_dict(self, arrays):
        """Restores `state_dict`'s arrays into the same slots they were saved from, so that a
        resumed run draws the same minibatches (files written before `replay/next` was saved
        are loaded from slot 0: the same transitions, in other slots)."""
        cap = int(arrays["replay/capacity"])
        if cap != self.capacity:
            raise ValueError(f"saved replay buffer has capacity {cap}, this run uses "
                             f"max_experience={self.capacity}")
        self._next, self._size = 0, 0
        batch = {k: arrays[f"replay/{k}"] for k in self.spec}
        n = len(batch["rewards"])
        if not n:
            return
        check_batch(self.spec, batch)
        if n > self.capacity:
            raise ValueError(f"saved replay buffer holds {n} transitions, more than its "
                             f"capacity {self.capacity}")
        if "replay/next" not in arrays:
            self.add_batch(batch)
            return
        nxt = int(arrays["replay/next"])
        if not 0 <= nxt < self.capacity or (n < self.capacity and nxt != n % self.capacity):
            raise ValueError(f"saved replay buffer: next slot {nxt} does not fit {n} "
                             f"transitions in a capacity of {self.capacity}")
        self._reserve(n)
        self._next, self._size = nxt, n
        order = self._order()
        for k in self.spec:
            self._data[k][order] = batch[k]


class SumTree:
    """Sums of non-negative leaf values in a complete binary tree, NumPy-vectorised.

    `set` rewrites leaves and recomputes every ancestor as the sum of its two children, so each
    node is a function of the leaves alone: a tree rebuilt from saved leaves (`rebuild`) is
    bit-identical to the one that was updated step by step. `find` walks u in [0, total) down to
    the leaf whose prefix-sum interval holds it, for a whole array of u at once.
    """

    def __init__(self, capacity):
        self.capacity = int(capacity)
        self.leaves = max(2, 1 << (self.capacity - 1).bit_length())
        self.depth = self.leaves.bit_length() - 1
        self.tree = np.zeros(2 * self.leaves, np.float64)     # root at 1, leaves from `leaves`

    @property
    def total(self):
        return float(self.tree[1])

    def values(self, idx=slice(None)):
        return self.tree[self.leaves:self.leaves + self.capacity][idx]

    def set(self, idx, values):
        """Leaves `idx` := values (later duplicates win); then their ancestors."""
        idx = np.asarray(idx, np.int64).ravel()
        values = np.asarray(values, np.float64).ravel()
        if not idx.size:
            return
        tree = self.tree
        pos = idx + self.leaves
        tree[pos] = values
        # All leaves share one depth, so the parents reach the root together. Duplicate parents
        # are written twice with the same sum: cheaper than np.unique at every level (measured).
        for _ in range(self.depth):
            pos >>= 1
            left = pos << 1
            tree[pos] = tree[left] + tree[left + 1]

    def rebuild(self):
        """Every internal node from the leaves (after the leaves were written directly)."""
        tree, lo = self.tree, self.leaves
        while lo > 1:
            hi, lo = lo, lo >> 1
            tree[lo:hi] = tree[2 * lo:2 * hi:2] + tree[2 * lo + 1:2 * hi:2]

    def find(self, u):
        """Leaf indices for targets u (array, each in [0, total))."""
        u = np.array(u, np.float64)
        pos = np.ones(u.shape, np.int64)
        tree = self.tree
        for _ in range(self.depth):
            pos <<= 1
            left = tree[pos]
            right = u >= left
            u -= np.where(right, left, 0.0)
            pos += right
        return pos - self.leaves


REPLAY_KINDS = ("uniform", "prioritized")
PRIORITY_ALPHA = 0.5       # the research code's prioritized_replay_alpha
PRIORITY_EPSILON = 0.01    # its prioritized_replay_epsilon


class PrioritizedReplayBuffer(ReplayBuffer):
    """The ring buffer with a priority per slot; `sample_indices` draws proportionally to it.

    Minibatches are drawn with replacement (the research code's `np.random.choice` default);
    slots not yet filled have priority 0 and are never drawn. `add_batch(batch, td_errors)`
    gives the new transitions the priority of their TD errors; without them (a buffer restored
    from a uniform run) new transitions get the largest priority held so far, as PER does.
    """

    def __init__(self, capacity, spec, alpha=PRIORITY_ALPHA, epsilon=PRIORITY_EPSILON):
        super().__init__(capacity, spec)
        if not (math.isfinite(alpha) and alpha >= 0 and math.isfinite(epsilon) and
                epsilon > 0):
            raise ValueError(f"prioritized replay needs alpha >= 0 and epsilon > 0, got "
                             f"alpha={alpha!r}, epsilon={epsilon!r}")
        self.alpha, self.epsilon = float(alpha), float(epsilon)
        self._tree = SumTree(self.capacity)

    def priority(self, td_errors):
        """(|TD error| + epsilon)^alpha, float64."""
        return (np.abs(np.asarray(td_errors, np.float64)) + self.epsilon) ** self.alpha

    def add_batch(self, batch, td_errors=None):
        (n,) = check_batch(self.spec, batch)
        if td_errors is None:
            held = self._tree.values(slice(0, self._size))
            p = np.full(n, held.max() if held.size else self.priority(0.0))
        else:
            p = self.priority(td_errors)
            if p.shape != (n,) or not np.isfinite(p).all():
                raise ValueError(f"prioritized replay: {n} transitions need {n} finite TD "
                                 f"errors, got shape {p.shape}")
        keep = min(n, self.capacity)
        slots = self.slots_of_next(keep)
        super().add_batch(batch)
        self._tree.set(slots, p[n - keep:])

    def sample_indices(self, batch_size, rng, num_batches=None):
        """Slots drawn with replacement, P(slot) = priority / sum of priorities."""
        if batch_size > self._size:
            raise ValueError(f"cannot sample {batch_size} transitions from a buffer of "
                             f"{self._size}")
        k = 1 if num_batches is None else int(num_batches)
        idx = self._tree.find(rng.random((k, batch_size)) * self._tree.total)
        # Rounding can carry a target just past the last filled slot: the empty ones follow it.
        np.minimum(idx, self._size - 1, out=idx)
        return idx if num_batches is not None else idx[0]

    def update_priorities(self, idx, td_errors):
        """The sampled slots' new priorities from their TD errors; where a slot was drawn more
        than once, its last draw's TD error wins (the research code updates in draw order)."""
        idx = np.asarray(idx).ravel()
        p = self.priority(td_errors).ravel()
        if p.shape != idx.shape:
            raise ValueError(f"{idx.size} slots but {p.size} TD errors")
        if not np.isfinite(p).all():
            raise ValueError("prioritized replay: a TD error is not finite")
        last = idx.size - 1 - np.unique(idx[::-1], return_index=True)[1]
        self._tree.set(idx[last], p[last])

    def priorities(self):
        """Each filled slot's priority, slot order."""
        return self._tree.values(slice(0, self._size)).copy()

    def state_dict(self):
        out = super().state_dict()
        out["replay/priorities"] = self._tree.values(self._order())
        return out

    def load_state_dict(self, arrays):
        super().load_state_dict(arrays)
        self._tree = SumTree(self.capacity)
        if not self._size:
            return
        if "replay/priorities" in arrays:
            p = np.asarray(arrays["replay/priorities"], np.float64)
            if p.shape != (self._size,) or not np.isfinite(p).all() or (p < 0).any():
                raise ValueError(f"saved replay priorities have shape {p.shape} or bad "
                                 f"values; expected {self._size} finite, non-negative values")
        else:      # a uniform run's buffer: every transition equally likely to begin with
            p = np.ones(self._size)
        self._tree.tree[self._tree.leaves + self._order()] = p
        self._tree.rebuild()


def make_replay(kind, capacity, spec, alpha=PRIORITY_ALPHA, epsilon=PRIORITY_EPSILON):
    """A replay buffer of `kind` ('uniform' or 'prioritized')."""
    if kind == "uniform":
        return ReplayBuffer(capacity, spec)
    if kind == "prioritized":
        return PrioritizedReplayBuffer(capacity, spec, alpha, epsilon)
    raise ValueError(f"replay must be one of {list(REPLAY_KINDS)}, got {kind!r}")
