"""Whole compositions in, per-rule rewards and the paper's metrics out.

The `evaluate` command and notebooks score finished melodies (from MIDI, NoteSequences or a
generator) with the same batched rules the RL engine trains on: each composition is played note
by note through `BatchedMusicTheoryReward`, so the reward at step t is exactly what the RL Tuner
would have received for that note.
"""
import numpy as np

from sequence_tutor_tf.music.rewards.batched import BatchedMusicTheoryReward
from sequence_tutor_tf.music.rewards.modes import MODE_RULES, check_reward_mode


def split_into_compositions(events, length=None):
    """One composition of all events (length None), or consecutive whole pieces of `length`.

    A tail shorter than `length` is dropped (the RL Tuner's compositions all have one length);
    a melody shorter than `length` raises, naming both lengths.
    """
    events = np.asarray(events, dtype=np.int64)
    if length is None:
        return events[None, :]
    if length <= 0:
        raise ValueError(f"composition length must be positive, got {length}")
    if len(events) < length:
        raise ValueError(f"melody has {len(events)} events, fewer than one composition of "
                         f"{length}; lower --length or leave it unset to score the whole melody")
    pieces = len(events) // length
    return events[:pieces * length].reshape(pieces, length)


def score_compositions(compositions, reward_mode="music_theory_all", key=None, tonic_note=None,
                       magenta_bugs=True, extra_rewards=()):
    """Per-step rewards of each rule of `reward_mode` for compositions int [N, T].

    Returns {rule: float64 [N, T]} in the mode's order, then one entry per extra reward, then
    'total' (the task reward, before reward_scaler and the Reward RNN). For 'scale' the first
    note has no previous observation; it is compared with itself.
    """
    check_reward_mode(reward_mode)
    comps = np.asarray(compositions)
    if comps.ndim != 2 or comps.shape[1] == 0 or comps.shape[0] == 0:
        raise ValueError(f"compositions must be a non-empty 2-D array [N, T], got shape "
                         f"{comps.shape}")
    count, length = comps.shape
    scorer = BatchedMusicTheoryReward(count, reward_mode, length, key, tonic_note,
                                      magenta_bugs=magenta_bugs, extra_rewards=extra_rewards)
    names = list(MODE_RULES[reward_mode]) + [name for name, _ in scorer.extra_rewards]
    out = {name: np.zeros((count, length)) for name in names + ["total"]}
    for t in range(length):
        obs = comps[:, t - 1] if t else comps[:, 0]
        parts = scorer.step_components(comps[:, t], observations=obs)
        for name in names:
            out[name][:, t] = parts[name]
        out["total"][:, t] = scorer.total(parts)
    return out


def reward_summary(scores):
    """Mean over compositions of each rule's summed reward: {rule: float}."""
    return {name: float(values.sum(axis=1).mean()) for name, values in scores.items()}
