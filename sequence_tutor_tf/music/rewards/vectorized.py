"""The rules as NumPy kernels over a batch: one call scores one step of B compositions.

Shared by the batched reward (batched.py) and the metrics (metrics.py). Every kernel performs
the original's floating-point operations in the original's order (sums along the last axis, so
NumPy's pairwise summation splits them as it does for the original's 1-D arrays), which is what
lets the parity tests demand exact equality with the per-step face and with magenta.

Conventions: `prefix` is int [B, n], the notes before this step (n may be 0); `full` is
[B, n + 1], the prefix with the actions appended; `actions` is int [B]; `ks` is a KeySpec.
Special events are indices 0 and 1 whichever labels the rules give them.
"""
import numpy as np

from sequence_tutor_tf.music.rewards import constants as c


def lookup(values):
    """Bool table over the 38 classes: True at `values`."""
    table = np.zeros(c.NUM_CLASSES, dtype=bool)
    table[list(values)] = True
    return table


class Tables:
    """KeySpec as lookup arrays, built once per reward object."""

    def __init__(self, ks):
        self.ks = ks
        self.in_key = lookup(ks.key)
        self.tonic_or_fifth = lookup(ks.tonic_notes + ks.fifth_notes)
        self.tonic_or_third = lookup(ks.tonic_notes + ks.third_notes)
        self.scale_pos = np.full(c.NUM_CLASSES, -1, dtype=np.int64)
        self.scale_pos[list(ks.scale)] = np.arange(len(ks.scale))
        self.scale_len = len(ks.scale)


def sequential_interval(prev_real, actions, nonempty, tables):
    """detect_sequential_interval's first value for each row, as float64.

    `prev_real` is the last real note (>= 2) before this step or -1; `nonempty` marks rows with at
    least one note played. Rows without a real previous note get 0.
    """
    ks = tables.ks
    valid = nonempty & (prev_real >= c.NUM_SPECIAL_EVENTS)
    safe_prev = np.where(valid, prev_real, 0)
    tonic_or_fifth = tables.tonic_or_fifth[safe_prev]
    diff = np.abs(actions - safe_prev)
    code = diff.astype(np.float64)
    code = np.where((diff == c.FIFTH) & tonic_or_fifth, c.IN_KEY_FIFTH, code)
    code = np.where((diff == c.THIRD) & tables.tonic_or_third[safe_prev], c.IN_KEY_THIRD, code)
    code = np.where(actions == ks.no_event,
                    np.where(tonic_or_fifth, c.HOLD_INTERVAL_AFTER_THIRD_OR_FIFTH, c.HOLD_INTERVAL),
                    code)
    code = np.where(actions == ks.note_off,
                    np.where(tonic_or_fifth, c.REST_INTERVAL_AFTER_THIRD_OR_FIFTH, c.REST_INTERVAL),
                    code)
    return np.where(valid, code, 0.0)


def preferred_interval_reward(interval, scaler=c.INTERVAL_SCALER):
    reward = np.zeros(interval.shape, dtype=np.float64)
    for value, amount in c.PREFERRED_INTERVAL_REWARDS:
        hit = interval > c.OCTAVE if value == "above_octave" else interval == value
        reward = np.where(hit, amount, reward)
    return np.where(interval == 0, 0.0, reward * scaler)


def repeating_flags(prefix, actions, ks):
    """detect_repeating_notes for each row."""
    if prefix.shape[1] == 0:
        return np.zeros(len(actions), dtype=bool)
    same = prefix == actions[:, None]
    special = prefix < c.NUM_SPECIAL_EVENTS
    scanned = np.logical_and.accumulate((same | special)[:, ::-1], axis=1)[:, ::-1]
    repeats = (scanned & same).sum(axis=1)
    other = scanned & ~same
    rested = (other & (prefix == ks.note_off)).any(axis=1)
    held = (other & (prefix == ks.no_event)).any(axis=1)
    plain = ~held & ~rested
    return (((actions == ks.note_off) & (repeats > c.MAX_REPEATED_NOTE_OFFS))
            | (plain & (repeats > c.MAX_REPEATS_PLAIN))
            | (~plain & (repeats > c.MAX_REPEATS_WITH_HOLDS_OR_RESTS)))


def distinct_notes(window):
    """Number of distinct real notes in each row of `window` [B, w]."""
    ordered = np.sort(window, axis=1)
    first = np.ones(ordered.shape, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    return (first & (ordered >= c.NUM_SPECIAL_EVENTS)).sum(axis=1)


def last_bar_distinct(full, bar_length=c.BAR_LENGTH):
    """detect_last_motif's note count on `full` (0 when shorter than a bar)."""
    if full.shape[1] < bar_length:
        return np.zeros(len(full), dtype=np.int64)
    return distinct_notes(full[:, -bar_length:])


def motif_reward(distinct, reward_amount=c.MOTIF_REWARD):
    bonus = np.maximum((distinct - 3) * c.MOTIF_COMPLEXITY_STEP, 0)
    return np.where(distinct >= c.MIN_NOTES_IN_MOTIF, reward_amount + bonus, 0.0)


def repeated_motif_flags(full, distinct, bar_length=c.BAR_LENGTH):
    """detect_repeated_motif: the last bar, if a motif, occurs whole before it."""
    length = full.shape[1]
    if length < 2 * bar_length:
        return np.zeros(len(full), dtype=bool)
    earlier = full[:, :length - bar_length]
    windows = np.lib.stride_tricks.sliding_window_view(earlier, bar_length, axis=1)
    found = (windows == full[:, None, length - bar_length:]).all(axis=2).any(axis=1)
    return found & (distinct >= c.MIN_NOTES_IN_MOTIF)


def repeated_motif_reward(flags, distinct, reward_amount=c.REPEATED_MOTIF_REWARD):
    return np.where(flags, reward_amount + np.maximum(distinct - 3, 0), 0.0)


def autocorrelation(full, lag):
    """rl_tuner_ops.autocorrelate of each row (nan where the row is constant)."""
    n = full.shape[1]
    centred = full - np.mean(full, axis=1)[:, None]
    variance = np.var(full, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (centred[:, lag:] * centred[:, :n - lag]).sum(axis=1) / float(n) / variance


def autocorrelation_penalty(full, penalty_weight=c.AUTOCORRELATION_PENALTY_WEIGHT):
    penalty = np.zeros(len(full), dtype=np.float64)
    for lag in c.AUTOCORRELATION_LAGS:
        coeff = np.abs(autocorrelation(full, lag))
        use = ~np.isnan(coeff) & (coeff > c.AUTOCORRELATION_THRESHOLD)
        penalty = penalty + np.where(use, coeff * penalty_weight, 0.0)
    return -penalty


def high_unique(full):
    return (full == full.max(axis=1)[:, None]).sum(axis=1) == 1


def low_unique(full):
    real = full >= c.NUM_SPECIAL_EVENTS
    lowest = np.where(real, full, c.NUM_CLASSES).min(axis=1)
    return real.any(axis=1) & ((full == lowest[:, None]).sum(axis=1) == 1)


def high_low_unique_reward(full, reward_amount=c.HIGH_LOW_UNIQUE_REWARD):
    return (np.where(high_unique(full), reward_amount, 0.0)
            + np.where(low_unique(full), reward_amount, 0.0))


def tonic_reward(beat, actions, num_notes_in_melody, ks, reward_amount=c.TONIC_REWARD):
    final_bar = num_notes_in_melody - 4
    hit = np.where((beat == 0) | (beat == final_bar), actions == ks.tonic_note,
                   np.where(beat == final_bar + 1, actions == ks.no_event,
                            (beat > final_bar + 1) & (actions < c.NUM_SPECIAL_EVENTS)))
    return np.where(hit, reward_amount, 0.0)


def scale_reward(observations, actions, tables):
    pos, prev_pos = tables.scale_pos[actions], tables.scale_pos[observations]
    reward = np.zeros(len(actions), dtype=np.float64)
    reward = reward + np.where(actions == tables.ks.no_event, .1, 0.0)
    reward = reward + np.where((observations < actions) & (actions < observations + 3), .05, 0.0)
    reward = reward + np.where(pos >= 0, .01, 0.0)
    step_up = ((prev_pos == tables.scale_len - 1) & (pos == 0)) | (pos == prev_pos + 1)
    return reward + np.where((pos >= 0) & (prev_pos >= 0) & step_up, .8, 0.0)


class LeapState:
    """composition_direction / leapt_from (-1 = None) / steps_since_last_leap for B rows."""

    def __init__(self, batch_size):
        self.direction = np.zeros(batch_size, dtype=np.int64)
        self.leapt_from = np.full(batch_size, -1, dtype=np.int64)
        self.steps = np.zeros(batch_size, dtype=np.int64)

    def reset(self, rows):
        self.direction[rows] = 0
        self.leapt_from[rows] = -1
        self.steps[rows] = 0

    def step(self, rows, interval, actions, prev_real, nonempty,
             steps_between_leaps=c.STEPS_BETWEEN_LEAPS):
        """detect_leap_up_back for the rows `rows` (index array); returns the outcomes [len]."""
        direction, leapt_from, steps = (self.direction[rows], self.leapt_from[rows],
                                        self.steps[rows])
        outcome = np.zeros(len(rows), dtype=np.int64)
        special = nonempty & (actions < c.NUM_SPECIAL_EVENTS)
        note = nonempty & ~special
        leap = note & ((interval >= c.FIFTH) | (interval == c.IN_KEY_FIFTH))
        heading = np.where(actions > prev_real, c.ASCENDING, c.DESCENDING)
        pending = direction != 0
        back = leap & pending & (direction != heading)
        twice = leap & pending & (direction == heading)
        first = leap & ~pending
        walk = note & ~leap
        gradual = walk & (((direction == c.ASCENDING) & (actions <= leapt_from))
                          | ((direction == c.DESCENDING) & (actions >= leapt_from)))
        outcome[back & (steps > steps_between_leaps)] = c.LEAP_RESOLVED
        outcome[twice] = c.LEAP_DOUBLED
        outcome[gradual] = c.LEAP_RESOLVED
        direction = np.where(back | gradual, 0, np.where(first, heading, direction))
        leapt_from = np.where(back | gradual, -1, np.where(first, prev_real, leapt_from))
        steps = np.where(leap, 0, np.where(special | walk, steps + 1, steps))
        self.direction[rows], self.leapt_from[rows], self.steps[rows] = (direction, leapt_from,
                                                                         steps)
        return outcome


def leap_reward(outcome, resolving_leap_bonus=c.RESOLVING_LEAP_BONUS,
                leaping_twice_punishment=c.LEAPING_TWICE_PUNISHMENT):
    return np.where(outcome == c.LEAP_RESOLVED, resolving_leap_bonus,
                    np.where(outcome == c.LEAP_DOUBLED, leaping_twice_punishment, 0.0))
