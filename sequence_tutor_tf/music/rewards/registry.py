"""User rewards: write one function, register it under a name, name it in a config or flag.

A reward function takes a `RewardContext` (the batch of compositions so far and the notes about to
be played) and returns one float per row. The same function serves the per-step face (batch of
one) and the batched face, so a user reward needs no second implementation. See docs/rewards.md.
"""
import dataclasses

import numpy as np

_REGISTRY = {}


@dataclasses.dataclass(frozen=True)
class RewardContext:
    """What a reward may read; all arrays are NumPy and must not be modified."""
    compositions: np.ndarray   # int [B, L]: row b's notes so far are compositions[b, :beat[b]]
    beat: np.ndarray           # int [B]: notes already played in each composition
    actions: np.ndarray        # int [B]: the note each row is about to play
    observations: np.ndarray   # int [B] or None: the previous observation (for 'scale'-like rules)
    keyspec: object            # rewards.keys.KeySpec: key, tonic, special-event labels
    num_notes_in_melody: int


def register_reward(name=None):
    """Decorator: `@register_reward("my_reward")` makes `my_reward` usable as an extra reward."""
    def decorate(fn):
        key = name or fn.__name__
        if not callable(fn):
            raise TypeError(f"register_reward({key!r}) expects a function, got {fn!r}")
        if key in _REGISTRY and _REGISTRY[key] is not fn:
            raise ValueError(f"a reward named {key!r} is already registered "
                             f"({_REGISTRY[key].__module__}.{_REGISTRY[key].__name__})")
        _REGISTRY[key] = fn
        return fn
    if callable(name):  # used bare: @register_reward
        fn, name = name, None
        return decorate(fn)
    return decorate


def unregister_reward(name):
    """Removes a registered reward (tests and notebooks re-registering a changed function)."""
    _REGISTRY.pop(name, None)


def registered_rewards():
    return sorted(_REGISTRY)


def resolve_reward(spec):
    """A registered name, 'package.module:function', or a callable -> (name, function)."""
    from sequence_tutor_tf.utils.plugins import resolve_plugin
    return resolve_plugin(spec, _REGISTRY, "reward")


def call_reward(name, fn, context):
    """Runs a user reward and checks it returned one finite float per row."""
    batch = len(context.actions)
    out = np.asarray(fn(context), dtype=np.float64)
    if out.ndim == 0:
        out = np.full(batch, float(out))
    if out.shape != (batch,):
        raise ValueError(f"reward {name!r} returned shape {out.shape}; expected ({batch},), "
                         "one value per composition")
    if not np.all(np.isfinite(out)):
        raise ValueError(f"reward {name!r} returned non-finite values {out[~np.isfinite(out)]}")
    return out
