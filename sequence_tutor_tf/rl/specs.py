"""Explicit data specs of what the collector hands the learner (TF-Agents style).

A transition is the original's stored tuple (observation, state, action, reward, new_observation,
new_state, new_reward_state) with events as integer indices instead of one-hot rows, plus
`terminal` (the composition ended), which only the optional terminal masking reads.
"""
import collections

import numpy as np

ArraySpec = collections.namedtuple("ArraySpec", ["shape", "dtype"])

TRANSITION_FIELDS = ("observations", "states", "actions", "rewards", "new_observations",
                     "new_states", "new_reward_states", "terminals")


def transition_spec(q_state_size, reward_state_size):
    """Per-transition shapes/dtypes; a batch adds a leading dimension."""
    return collections.OrderedDict([
        ("observations", ArraySpec((), np.int32)),
        ("states", ArraySpec((q_state_size,), np.float32)),
        ("actions", ArraySpec((), np.int32)),
        ("rewards", ArraySpec((), np.float32)),
        ("new_observations", ArraySpec((), np.int32)),
        ("new_states", ArraySpec((q_state_size,), np.float32)),
        ("new_reward_states", ArraySpec((reward_state_size,), np.float32)),
        ("terminals", ArraySpec((), np.float32)),
    ])


def check_batch(spec, batch, leading_dims=1):
    """Raises ValueError naming the field whose shape or presence does not match the spec."""
    missing = [k for k in spec if k not in batch]
    if missing:
        raise ValueError(f"transition batch lacks fields {missing}")
    n = None
    for name, s in spec.items():
        arr = np.asarray(batch[name])
        if arr.shape[leading_dims:] != s.shape:
            raise ValueError(f"transition field {name!r}: expected shape [...]+{list(s.shape)}, "
                             f"got {list(arr.shape)}")
        if n is None:
            n = arr.shape[:leading_dims]
        elif arr.shape[:leading_dims] != n:
            raise ValueError(f"transition field {name!r} has leading shape "
                             f"{arr.shape[:leading_dims]}, other fields {n}")
    return n
