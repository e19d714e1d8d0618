"""Experience replay behind a two-method interface: `add_batch` and `sample`.

The original keeps a `deque(maxlen=max_experience)` of tuples and draws `random.sample` (without
replacement) from it. `ReplayBuffer` is the same distribution over a NumPy ring buffer, so batched
adds and minibatch gathers are array copies, and its whole content can be checkpointed.
"""
import numpy as np

from sequence_tutor_tf.rl.specs import check_batch
from sequence_tutor_tf.utils.tensors import aligned_empty


class ReplayBuffer:
    """Ring buffer of transitions; the oldest is overwritten once `capacity` is reached."""

    def __init__(self, capacity, spec):
        if isinstance(capacity, bool) or int(capacity) != capacity or capacity <= 0:
            raise ValueError(f"replay capacity (max_experience) must be a positive int, "
                             f"got {capacity!r}")
        self.capacity = int(capacity)
        self.spec = spec
        # np.full touches every page now, so the first pass over the buffer is not page faults.
        self._data = {k: np.full((self.capacity,) + s.shape, 0, s.dtype) for k, s in spec.items()}
        self._next = 0      # slot the next transition goes to
        self._size = 0

    def __len__(self):
        return self._size

    def add_batch(self, batch):
        """Appends N transitions (a dict of arrays with leading dimension N) in order."""
        (n,) = check_batch(self.spec, batch)
        if n > self.capacity:   # only the newest `capacity` survive, as with a deque
            batch = {k: np.asarray(v)[n - self.capacity:] for k, v in batch.items()}
            n = self.capacity
        first = min(n, self.capacity - self._next)     # contiguous part, then the wrap-around
        for k in self.spec:
            values = np.asarray(batch[k])
            self._data[k][self._next:self._next + first] = values[:first]
            if first < n:
                self._data[k][:n - first] = values[first:]
        self._next = int((self._next + n) % self.capacity)
        self._size = min(self._size + n, self.capacity)

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
    def state_dict(self):
        """Arrays for np.savez: only the filled part, oldest first."""
        order = (np.arange(self._size) + (self._next - self._size)) % self.capacity
        out = {f"replay/{k}": v[order] for k, v in self._data.items()}
        out["replay/capacity"] = np.array(self.capacity)
        return out

    def load_state_dict(self, arrays):
        cap = int(arrays["replay/capacity"])
        if cap != self.capacity:
            raise ValueError(f"saved replay buffer has capacity {cap}, this run uses "
                             f"max_experience={self.capacity}")
        self._next, self._size = 0, 0
        batch = {k: arrays[f"replay/{k}"] for k in self.spec}
        if len(batch["rewards"]):
            self.add_batch(batch)
