"""The per-step face: the original's reward_* / detect_* methods, one one-hot action at a time.

`MusicTheoryRewards` is what a drop-in RLTuner uses (by inheriting it or holding one): every method
has the name, arguments and defaults of the RLTuner method it replaces and returns the same number
for the same composition state. State lives in `self.composition_state`; `composition` and `beat`
are properties over it for code written against the original's attributes. The rules are plain
Python on purpose: the batched face (batched.py) is the fast path, and the parity tests hold the
two to identical numbers.
"""
import numpy as np

from sequence_tutor_tf.music.rewards import constants as c
from sequence_tutor_tf.music.rewards.keys import resolve_key
from sequence_tutor_tf.music.rewards.modes import MODE_RULES, check_reward_mode
from sequence_tutor_tf.music.rewards.registry import RewardContext, call_reward, resolve_reward
from sequence_tutor_tf.music.rewards.state import CompositionState

_PREFERRED = dict((k, v) for k, v in c.PREFERRED_INTERVAL_REWARDS if k != "above_octave")


def action_index(action, what="action"):
    """Index of a one-hot (or any score vector, by argmax) action; plain indices pass through."""
    arr = np.asarray(action)
    if arr.ndim == 0:
        note = int(arr)
    elif arr.ndim == 1 and arr.shape[0] == c.NUM_CLASSES:
        return int(np.argmax(arr))
    else:
        raise ValueError(f"{what} must be a one-hot vector of length {c.NUM_CLASSES} or an "
                         f"action index, got an array of shape {arr.shape}")
    if not 0 <= note < c.NUM_CLASSES or note != arr:
        raise ValueError(f"{what} index must be an integer in 0..{c.NUM_CLASSES - 1}, "
                         f"got {action!r}")
    return note


def autocorrelate(signal, lag=1):
    """Correlation of `signal` with itself `lag` steps later, as rl_tuner_ops.autocorrelate."""
    n = len(signal)
    centred = np.asarray(signal) - np.mean(signal)
    variance = np.var(signal)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (centred[lag:] * centred[:n - lag]).sum() / float(n) / variance


class MusicTheoryRewards:
    """Music-theory rewards of the RL Tuner over one composition at a time."""

    def __init__(self, num_notes_in_melody=32, reward_mode="music_theory_all", key=None,
                 tonic_note=None, magenta_bugs=True, extra_rewards=()):
        if isinstance(num_notes_in_melody, bool) or not isinstance(
                num_notes_in_melody, (int, np.integer)) or num_notes_in_melody <= 0:
            raise ValueError(f"num_notes_in_melody must be a positive integer, "
                             f"got {num_notes_in_melody!r}")
        self.num_notes_in_melody = int(num_notes_in_melody)
        self.reward_mode = check_reward_mode(reward_mode)
        self.keyspec = resolve_key(key, tonic_note, magenta_bugs)
        self.extra_rewards = [resolve_reward(s) for s in extra_rewards]
        self.composition_state = CompositionState()

    # -- the original's attributes, over the state object ---------------------------------------
    @property
    def composition(self):
        return self.composition_state.composition

    @composition.setter
    def composition(self, notes):
        self.composition_state.composition = [int(n) for n in notes]

    @property
    def beat(self):
        return self.composition_state.beat

    @beat.setter
    def beat(self, value):
        self.composition_state.beat = int(value)

    @property
    def composition_direction(self):
        return self.composition_state.composition_direction

    @property
    def leapt_from(self):
        return self.composition_state.leapt_from

    @property
    def steps_since_last_leap(self):
        return self.composition_state.steps_since_last_leap

    def reset_composition(self):
        self.composition_state.reset()

    def append_to_composition(self, action):
        """After the reward: add the played note and advance the beat (the original's order)."""
        self.composition_state.append(action_index(action))

    # -- composition of rules --------------------------------------------------------------------
    def task_reward(self, obs, action):
        """The `reward` collect_reward computes for this reward_mode, before scaling (modes.py)."""
        total = 0.0
        for i, rule in enumerate(MODE_RULES[self.reward_mode]):
            if rule == "scale":
                value = self.reward_scale(obs, action)
            else:
                value = getattr(self, "reward_" + rule)(action)
            total = value if i == 0 else total + value
        return total + self.extra_reward(obs, action) if self.extra_rewards else total

    def extra_reward(self, obs, action):
        """Sum of the user-registered rewards (registry.py) for this one step."""
        if not self.extra_rewards:
            return 0.0
        length = max(self.num_notes_in_melody, len(self.composition) + 1)
        comp = np.full((1, length), -1, dtype=np.int64)
        comp[0, :len(self.composition)] = self.composition
        context = RewardContext(
            compositions=comp, beat=np.array([self.beat]),
            actions=np.array([action_index(action)]),
            observations=None if obs is None else np.array([action_index(obs, "obs")]),
            keyspec=self.keyspec, num_notes_in_melody=self.num_notes_in_melody)
        total = 0.0
        for name, fn in self.extra_rewards:
            total += float(call_reward(name, fn, context)[0])
        return total

    def reward_music_theory(self, action):
        """Sum of the nine music-theory rules, in the original's order."""
        reward = self.reward_key(action)
        reward += self.reward_tonic(action)
        reward += self.reward_penalize_repeating(action)
        reward += self.reward_penalize_autocorrelation(action)
        reward += self.reward_motif(action)
        reward += self.reward_repeated_motif(action)
        reward += self.reward_preferred_intervals(action)
        reward += self.reward_leap_up_back(action)
        reward += self.reward_high_low_unique(action)
        return reward

    def random_reward_shift_to_mean(self, reward):
        """Nudges a reward by 0 or 0.1 toward 0.5 (present, unused, in the original)."""
        shift = np.random.randint(0, 2) * .1
        return reward - shift if reward > .5 else reward + shift

    # -- the rules -------------------------------------------------------------------------------
    def reward_scale(self, obs, action, scale=None):
        """Teaches a scale: rising steps and consecutive scale degrees pay."""
        scale = list(self.keyspec.scale if scale is None else scale)
        if obs is None:  # within a composition the previous observation is the last note
            if not self.composition:
                raise ValueError("reward_scale needs obs (the priming note) at beat 0")
            obs = self.composition[-1]
        prev, note = action_index(obs, "obs"), action_index(action)
        reward = 0.0
        if note == self.keyspec.no_event:
            reward += .1
        if prev < note < prev + 3:
            reward += .05
        if note in scale:
            reward += .01
            if prev in scale:
                pos, prev_pos = scale.index(note), scale.index(prev)
                if (prev_pos == len(scale) - 1 and pos == 0) or pos == prev_pos + 1:
                    reward += .8
        return reward

    def reward_key_distribute_prob(self, action, key=None):
        """Equal reward 1/len(key) for any in-key note."""
        key = self.keyspec.key if key is None else key
        return 1.0 / len(key) if action_index(action) in key else 0.0

    def reward_key(self, action, penalty_amount=c.KEY_PENALTY, key=None):
        """Penalty for an out-of-key note."""
        key = self.keyspec.key_set if key is None else key
        return penalty_amount if action_index(action) not in key else 0.0

    def reward_tonic(self, action, tonic_note=None, reward_amount=c.TONIC_REWARD):
        """Tonic on the first beat and on the first beat of the last bar; then hold, then rest."""
        tonic = self.keyspec.tonic_note if tonic_note is None else tonic_note
        note = action_index(action)
        final_bar = self.num_notes_in_melody - 4
        beat = self.beat
        if beat == 0 or beat == final_bar:
            return reward_amount if note == tonic else 0.0
        if beat == final_bar + 1:
            return reward_amount if note == self.keyspec.no_event else 0.0
        if beat > final_bar + 1:
            return reward_amount if note in (self.keyspec.no_event, self.keyspec.note_off) else 0.0
        return 0.0

    def reward_non_repeating(self, action):
        """0.1 unless the note is excessively repeated; then the repeating penalty.

        The original returns None in that case (and collect_reward then fails): see
        docs/differences/rewards.md.
        """
        penalty = self.reward_penalize_repeating(action)
        return c.NON_REPEATING_REWARD if penalty >= 0 else penalty

    def detect_repeating_notes(self, action_note):
        """True if `action_note` repeats the notes before it too often (holds/rests allow more)."""
        note = int(action_note)
        note_off, no_event = self.keyspec.note_off, self.keyspec.no_event
        repeats, held, rested = 0, False, False
        for prev in reversed(self.composition):
            if prev == note:
                repeats += 1
            elif prev == note_off:
                rested = True
            elif prev == no_event:
                held = True
            else:
                break
        if note == note_off and repeats > c.MAX_REPEATED_NOTE_OFFS:
            return True
        if not held and not rested:
            return repeats > c.MAX_REPEATS_PLAIN
        return repeats > c.MAX_REPEATS_WITH_HOLDS_OR_RESTS

    def reward_penalize_repeating(self, action, penalty_amount=c.REPEATING_PENALTY):
        return penalty_amount if self.detect_repeating_notes(action_index(action)) else 0.0

    def reward_penalize_autocorrelation(self, action,
                                        penalty_weight=c.AUTOCORRELATION_PENALTY_WEIGHT):
        """Penalty for a composition too correlated with itself at lags 1, 2 and 3."""
        composition = self.composition + [action_index(action)]
        penalty = 0.0
        for lag in c.AUTOCORRELATION_LAGS:
            coeff = autocorrelate(composition, lag=lag)
            if not np.isnan(coeff) and np.abs(coeff) > c.AUTOCORRELATION_THRESHOLD:
                penalty += np.abs(coeff) * penalty_weight
        return -penalty

    def detect_last_motif(self, composition=None, bar_length=c.BAR_LENGTH):
        """(last bar, number of distinct notes) if the last bar holds >= 3 distinct notes."""
        composition = self.composition if composition is None else list(composition)
        if len(composition) < bar_length:
            return None, 0
        last_bar = composition[-bar_length:]
        distinct = len({n for n in last_bar if n not in (c.NOTE_OFF, c.NO_EVENT)})
        return (last_bar if distinct >= c.MIN_NOTES_IN_MOTIF else None), distinct

    def reward_motif(self, action, reward_amount=c.MOTIF_REWARD):
        composition = self.composition + [action_index(action)]
        motif, distinct = self.detect_last_motif(composition=composition)
        if motif is None:
            return 0.0
        return reward_amount + max((distinct - 3) * c.MOTIF_COMPLEXITY_STEP, 0)

    def detect_repeated_motif(self, action, bar_length=c.BAR_LENGTH):
        """(True, motif) if the bar just completed already occurred, whole, before it."""
        composition = self.composition + [action_index(action)]
        if len(composition) < bar_length:
            return False, None
        motif, _ = self.detect_last_motif(composition=composition, bar_length=bar_length)
        if motif is None:
            return False, None
        earlier = composition[:len(composition) - bar_length]
        for start in range(len(earlier) - len(motif) + 1):
            if earlier[start:start + len(motif)] == motif:
                return True, motif
        return False, None

    def reward_repeated_motif(self, action, bar_length=c.BAR_LENGTH,
                              reward_amount=c.REPEATED_MOTIF_REWARD):
        repeated, motif = self.detect_repeated_motif(action, bar_length)
        if not repeated:
            return 0.0
        distinct = len({n for n in motif if n not in (c.NOTE_OFF, c.NO_EVENT)})
        return reward_amount + max(distinct - 3, 0)

    def detect_sequential_interval(self, action, key=None):
        """(interval, action note, previous real note) with the original's special codes.

        `key` is accepted for the original's signature; the tonic, third and fifth tables come
        from this object's key and tonic (the original, given a key, fails on rests: see
        docs/differences/rewards.md).
        """
        if not self.composition:
            return 0, None, None
        note = action_index(action)
        prev = self.composition[-1]
        for earlier in reversed(self.composition):
            prev = earlier
            if earlier not in (c.NOTE_OFF, c.NO_EVENT):
                break
        if prev in (c.NOTE_OFF, c.NO_EVENT):
            return 0, note, prev
        ks = self.keyspec
        tonic_or_fifth = prev in ks.tonic_notes or prev in ks.fifth_notes
        if note == ks.no_event:
            return (c.HOLD_INTERVAL_AFTER_THIRD_OR_FIFTH if tonic_or_fifth
                    else c.HOLD_INTERVAL), note, prev
        if note == ks.note_off:
            return (c.REST_INTERVAL_AFTER_THIRD_OR_FIFTH if tonic_or_fifth
                    else c.REST_INTERVAL), note, prev
        interval = abs(note - prev)
        if interval == c.FIFTH and tonic_or_fifth:
            return c.IN_KEY_FIFTH, note, prev
        if interval == c.THIRD and (prev in ks.tonic_notes or prev in ks.third_notes):
            return c.IN_KEY_THIRD, note, prev
        return interval, note, prev

    def reward_preferred_intervals(self, action, scaler=c.INTERVAL_SCALER, key=None):
        """Small steps and consonant intervals pay; sevenths and leaps over an octave cost."""
        interval, _, _ = self.detect_sequential_interval(action, key)
        if interval == 0:
            return 0.0
        if interval > c.OCTAVE:
            reward = -1.0
        else:
            reward = _PREFERRED.get(interval, 0.0)
        return reward * scaler

    def detect_high_unique(self, composition):
        """True if the highest value (special events included, as the original) occurs once."""
        composition = list(composition)
        return composition.count(max(composition)) == 1

    def detect_low_unique(self, composition):
        """True if the lowest real note occurs once."""
        composition = list(composition)
        notes = [n for n in composition if n not in (c.NOTE_OFF, c.NO_EVENT)]
        return bool(notes) and composition.count(min(notes)) == 1

    def reward_high_low_unique(self, action, reward_amount=c.HIGH_LOW_UNIQUE_REWARD):
        """On the last note: reward each of a unique highest and a unique lowest note."""
        if len(self.composition) + 1 != self.num_notes_in_melody:
            return 0.0
        composition = self.composition + [action_index(action)]
        reward = 0.0
        if self.detect_high_unique(composition):
            reward += reward_amount
        if self.detect_low_unique(composition):
            reward += reward_amount
        return reward

    def detect_leap_up_back(self, action, steps_between_leaps=c.STEPS_BETWEEN_LEAPS):
        """Tracks leaps of a fifth or more: LEAP_RESOLVED, LEAP_DOUBLED or 0. Updates the state."""
        if not self.composition:
            return 0
        st = self.composition_state
        interval, note, prev = self.detect_sequential_interval(action)
        if note in (c.NOTE_OFF, c.NO_EVENT):
            st.steps_since_last_leap += 1
            return 0
        outcome = 0
        if interval >= c.FIFTH or interval == c.IN_KEY_FIFTH:
            direction = c.ASCENDING if note > prev else c.DESCENDING
            if st.composition_direction == 0:
                st.composition_direction, st.leapt_from = direction, prev
            elif st.composition_direction != direction:
                if st.steps_since_last_leap > steps_between_leaps:
                    outcome = c.LEAP_RESOLVED
                st.composition_direction, st.leapt_from = 0, None
            else:
                outcome = c.LEAP_DOUBLED
            st.steps_since_last_leap = 0
        else:
            st.steps_since_last_leap += 1
            if ((st.composition_direction == c.ASCENDING and note <= st.leapt_from) or
                    (st.composition_direction == c.DESCENDING and note >= st.leapt_from)):
                outcome = c.LEAP_RESOLVED
                st.composition_direction, st.leapt_from = 0, None
        return outcome

    def reward_leap_up_back(self, action, resolving_leap_bonus=c.RESOLVING_LEAP_BONUS,
                            leaping_twice_punishment=c.LEAPING_TWICE_PUNISHMENT):
        outcome = self.detect_leap_up_back(action)
        if outcome == c.LEAP_RESOLVED:
            return resolving_leap_bonus
        if outcome == c.LEAP_DOUBLED:
            return leaping_twice_punishment
        return 0.0
