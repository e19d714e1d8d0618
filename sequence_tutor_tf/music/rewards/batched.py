"""The batched face: B compositions scored one step at a time with vectorised NumPy.

`BatchedMusicTheoryReward.step(actions)` returns, for every row, the task (music-theory) reward
that `RLTuner.collect_reward` computes for `reward_mode` *before* scaling and before the Reward
RNN's log p(a|s) is added, then appends the actions and advances the beats (the original rewards
a note before it enters the composition). The RL engine combines the two parts with
`modes.combine_rewards(reward_mode, reward_rnn_logprob, task_reward, reward_scaler)`:

* 'music_theory_basic', 'music_theory_basic_plus_variety', 'music_theory_all':
  ``task * reward_scaler + log p(a|s)``
* 'scale', 'key', 'key_and_tonic', 'non_repeating', 'music_theory_random',
  'preferred_intervals', 'music_theory_only': ``task * reward_scaler``

The leap state (`detect_leap_up_back`) only advances in modes that call it
('music_theory_all', 'music_theory_only'), as in the original. Numbers equal the per-step face's
(per_step.py) exactly in float64; `step` returns float32 unless asked otherwise.
"""
import numpy as np

from sequence_tutor_tf.music.rewards import constants as c
from sequence_tutor_tf.music.rewards import vectorized as v
from sequence_tutor_tf.music.rewards.keys import resolve_key
from sequence_tutor_tf.music.rewards.modes import MODE_RULES, check_reward_mode
from sequence_tutor_tf.music.rewards.registry import RewardContext, call_reward, resolve_reward

_NEEDS_FULL = {"penalize_autocorrelation", "motif", "repeated_motif", "high_low_unique"}
_NEEDS_INTERVAL = {"preferred_intervals", "leap_up_back"}


def _positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def check_indices(values, batch_size, what):
    """int64 [batch_size] action indices, or an error naming the first bad value."""
    arr = np.asarray(values)
    if arr.shape != (batch_size,):
        raise ValueError(f"{what} must have shape ({batch_size},), one action index per "
                         f"composition; got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{what} must be integer action indices, got dtype {arr.dtype}")
    bad = np.flatnonzero((arr < 0) | (arr >= c.NUM_CLASSES))
    if bad.size:
        raise ValueError(f"{what}[{bad[0]}] = {arr[bad[0]]} is outside 0..{c.NUM_CLASSES - 1}")
    return arr.astype(np.int64)


class BatchedMusicTheoryReward:
    """Task rewards of `reward_mode` for `batch_size` compositions of `num_notes_in_melody`."""

    def __init__(self, batch_size, reward_mode="music_theory_all", num_notes_in_melody=32,
                 key=None, tonic_note=None, *, magenta_bugs=True, extra_rewards=()):
        self.batch_size = _positive_int(batch_size, "batch_size")
        self.num_notes_in_melody = _positive_int(num_notes_in_melody, "num_notes_in_melody")
        self.reward_mode = check_reward_mode(reward_mode)
        self.rules = MODE_RULES[reward_mode]
        self.keyspec = resolve_key(key, tonic_note, magenta_bugs)
        self.extra_rewards = [resolve_reward(s) for s in extra_rewards]
        self._tables = v.Tables(self.keyspec)
        shape = (self.batch_size, self.num_notes_in_melody)
        self.compositions = np.full(shape, -1, dtype=np.int64)  # -1 where not yet played
        self.beat = np.zeros(self.batch_size, dtype=np.int64)
        self._prev_real = np.full(self.batch_size, -1, dtype=np.int64)
        self._leaps = v.LeapState(self.batch_size)

    # -- state -----------------------------------------------------------------------------------
    def reset(self, mask=None):
        """Starts new, empty compositions in every row, or in the rows where `mask` is True."""
        if mask is None:
            rows = slice(None)
        else:
            mask = np.asarray(mask)
            if mask.shape != (self.batch_size,) or mask.dtype != bool:
                raise ValueError(f"mask must be a bool array of shape ({self.batch_size},), "
                                 f"got {mask.dtype} of shape {mask.shape}")
            rows = np.flatnonzero(mask)
        self.compositions[rows] = -1
        self.beat[rows] = 0
        self._prev_real[rows] = -1
        self._leaps.reset(rows)

    @property
    def composition_direction(self):
        return self._leaps.direction.copy()

    @property
    def leapt_from(self):
        """Note each unresolved leap started from; -1 where the original holds None."""
        return self._leaps.leapt_from.copy()

    @property
    def steps_since_last_leap(self):
        return self._leaps.steps.copy()

    # -- scoring ---------------------------------------------------------------------------------
    def step(self, actions, observations=None, dtype=np.float32):
        """Task reward [B] of playing `actions`; then appends them. See the module docstring."""
        return self.total(self.step_components(actions, observations)).astype(dtype)

    def total(self, components):
        """Sums step_components' values in the original's order (rules, then extra rewards)."""
        total = None
        for rule in self.rules:
            total = components[rule].copy() if total is None else total + components[rule]
        if self.extra_rewards:
            extra = np.zeros(self.batch_size)
            for name, _ in self.extra_rewards:
                extra = extra + components[name]
            total = total + extra
        return total

    def step_components(self, actions, observations=None):
        """Each rule's float64 reward [B] for this step (and each extra reward's); then appends."""
        actions = check_indices(actions, self.batch_size, "actions")
        full_rows = np.flatnonzero(self.beat >= self.num_notes_in_melody)
        if full_rows.size:
            raise ValueError(
                f"compositions {full_rows[:10].tolist()} already hold num_notes_in_melody="
                f"{self.num_notes_in_melody} notes; call reset(mask) to start new ones")
        if observations is not None:
            observations = check_indices(observations, self.batch_size, "observations")
        elif "scale" in self.rules:
            observations = self._default_observations()
        out = {rule: np.zeros(self.batch_size) for rule in self.rules}
        beats = np.unique(self.beat)
        for n in beats:
            rows = slice(None) if len(beats) == 1 else np.flatnonzero(self.beat == n)
            self._score(rows, int(n), actions[rows],
                        None if observations is None else observations[rows], out)
        for name, fn in self.extra_rewards:
            out[name] = call_reward(name, fn, self._context(actions, observations))
        self.compositions[np.arange(self.batch_size), self.beat] = actions
        self.beat += 1
        self._prev_real = np.where(actions >= c.NUM_SPECIAL_EVENTS, actions, self._prev_real)
        return out

    def _default_observations(self):
        first = np.flatnonzero(self.beat == 0)
        if first.size:
            raise ValueError(
                f"reward_mode 'scale' compares each note with the previous observation; rows "
                f"{first[:10].tolist()} are at beat 0, so pass observations= (the priming notes)")
        return self.compositions[np.arange(self.batch_size), self.beat - 1]

    def _context(self, actions, observations):
        view = self.compositions.view()
        view.flags.writeable = False
        return RewardContext(compositions=view, beat=self.beat.copy(), actions=actions,
                             observations=observations, keyspec=self.keyspec,
                             num_notes_in_melody=self.num_notes_in_melody)

    def _score(self, rows, n, actions, observations, out):
        """Scores the rows `rows`, which all have `n` notes so far, into `out`."""
        ks, tables, count = self.keyspec, self._tables, len(actions)
        prefix = self.compositions[rows, :n]
        full = np.concatenate([prefix, actions[:, None]], axis=1) \
            if _NEEDS_FULL.intersection(self.rules) else None
        nonempty = np.full(count, n > 0)
        prev_real = self._prev_real[rows]
        interval = v.sequential_interval(prev_real, actions, nonempty, tables) \
            if _NEEDS_INTERVAL.intersection(self.rules) else None
        distinct = v.last_bar_distinct(full) \
            if {"motif", "repeated_motif"}.intersection(self.rules) else None
        for rule in self.rules:
            if rule == "key":
                value = np.where(tables.in_key[actions], 0.0, c.KEY_PENALTY)
            elif rule == "key_distribute_prob":
                value = np.where(tables.in_key[actions], 1.0 / len(ks.key), 0.0)
            elif rule == "tonic":
                value = v.tonic_reward(np.full(count, n), actions, self.num_notes_in_melody, ks)
            elif rule == "penalize_repeating":
                value = np.where(v.repeating_flags(prefix, actions, ks), c.REPEATING_PENALTY, 0.0)
            elif rule == "non_repeating":
                value = np.where(v.repeating_flags(prefix, actions, ks), c.REPEATING_PENALTY,
                                 c.NON_REPEATING_REWARD)
            elif rule == "penalize_autocorrelation":
                value = v.autocorrelation_penalty(full)
            elif rule == "motif":
                value = v.motif_reward(distinct)
            elif rule == "repeated_motif":
                value = v.repeated_motif_reward(v.repeated_motif_flags(full, distinct), distinct)
            elif rule == "preferred_intervals":
                value = v.preferred_interval_reward(interval)
            elif rule == "leap_up_back":
                index = np.arange(self.batch_size)[rows]
                value = v.leap_reward(self._leaps.step(index, interval, actions, prev_real,
                                                       nonempty))
            elif rule == "high_low_unique":
                value = v.high_low_unique_reward(full) if n + 1 == self.num_notes_in_melody \
                    else np.zeros(count)
            elif rule == "scale":
                value = v.scale_reward(observations, actions, tables)
            else:  # pragma: no cover - MODE_RULES and this dispatch are written together
                raise AssertionError(rule)
            out[rule][rows] = value
