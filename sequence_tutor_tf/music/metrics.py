"""The paper's composition statistics (`rl_tuner_eval_metrics`), batched over compositions.

`compute_composition_stats` takes the compositions themselves ([N, T] action indices, or a list of
sequences of any lengths) instead of an RLTuner to sample them from, and walks all N at once
beat by beat, so 10,000 compositions take well under a second where the original's note-by-note
loop scores about 47 per second. The returned dict has exactly the original's `stat_dict` keys and
values; `stats_report` is its `get_stat_dict_string`, `stats_summary` the same figures as JSON.
"""
import json
import math

import numpy as np

from sequence_tutor_tf.music.rewards import constants as c
from sequence_tutor_tf.music.rewards import vectorized as v
from sequence_tutor_tf.music.rewards.keys import resolve_key

COUNT_KEYS = (
    "notes_not_in_key", "notes_in_motif", "notes_in_repeated_motif", "num_starting_tonic",
    "num_repeated_notes", "num_octave_jumps", "num_fifths", "num_thirds", "num_sixths",
    "num_seconds", "num_fourths", "num_sevenths", "num_rest_intervals",
    "num_special_rest_intervals", "num_in_key_preferred_intervals", "num_resolved_leaps",
    "num_leap_twice", "num_high_unique", "num_low_unique")
LAGS = c.AUTOCORRELATION_LAGS

# add_interval_stat's branches: interval code -> stat key (first match wins; '>octave' is a test).
_INTERVAL_STATS = (
    (c.REST_INTERVAL, "num_rest_intervals"),
    (c.REST_INTERVAL_AFTER_THIRD_OR_FIFTH, "num_special_rest_intervals"),
    ("above_octave", "num_octave_jumps"),
    (c.IN_KEY_FIFTH, "num_in_key_preferred_intervals"),
    (c.FIFTH, "num_fifths"),
    (c.THIRD, "num_thirds"),
    (c.SIXTH, "num_sixths"),
    (c.SECOND, "num_seconds"),
    (c.FOURTH, "num_fourths"),
    (c.SEVENTH, "num_sevenths"),
)


def initialize_stat_dict():
    """Zero counts and empty autocorrelation lists, as the original's initialize_stat_dict."""
    stat_dict = {f"autocorrelation{lag}": [] for lag in LAGS}
    stat_dict.update({key: 0 for key in COUNT_KEYS})
    return stat_dict


def _as_groups(compositions):
    """[(row positions, int64 [n, T]), ...] grouped by length, validated."""
    if isinstance(compositions, np.ndarray) and compositions.ndim == 2:
        rows = [compositions[i] for i in range(len(compositions))]
    elif isinstance(compositions, np.ndarray) and compositions.ndim != 2:
        raise ValueError(f"compositions must be a 2-D array [N, T] or a list of sequences, got "
                         f"an array of shape {compositions.shape}")
    else:
        rows = [np.asarray(r) for r in compositions]
    if not rows:
        raise ValueError("compositions is empty; expected at least one composition")
    for i, row in enumerate(rows):
        if row.ndim != 1 or row.size == 0:
            raise ValueError(f"composition {i} must be a non-empty 1-D sequence of action "
                             f"indices, got shape {row.shape}")
        if not np.issubdtype(row.dtype, np.integer):
            raise ValueError(f"composition {i} must hold integer action indices, got dtype "
                             f"{row.dtype}")
        bad = np.flatnonzero((row < 0) | (row >= c.NUM_CLASSES))
        if bad.size:
            raise ValueError(f"composition {i}: index {row[bad[0]]} at position {bad[0]} is "
                             f"outside 0..{c.NUM_CLASSES - 1}")
    by_length = {}
    for i, row in enumerate(rows):
        by_length.setdefault(len(row), []).append(i)
    return [(np.array(idx), np.stack([rows[i] for i in idx]).astype(np.int64))
            for _, idx in sorted(by_length.items())], len(rows)


def _count_intervals(interval, stat_dict, magenta_bugs):
    claimed = interval == 0
    for value, key in _INTERVAL_STATS:
        hit = interval > c.OCTAVE if value == "above_octave" else interval == value
        if value == c.IN_KEY_FIFTH and not magenta_bugs:
            hit = hit | (interval == c.IN_KEY_THIRD)
        hit &= ~claimed
        stat_dict[key] += int(hit.sum())
        claimed |= hit


class _RepeatState:
    """detect_repeating_notes of each next note in O(1) per note (vectorized.repeating_flags
    rescans the whole prefix, which makes a composition's scoring quadratic in its length).

    Scanning back from the end of the prefix over notes equal to the action or special, as the
    original does, stops at the last real note different from the action. So it is enough to
    keep, per row: the last real note and how often it occurs since the last different real
    note (`run_note`, `run_count`), whether a note-off / no-event occurs in that stretch
    (`seg_off`, `seg_hold`), and how many of each trail the last real note (`tail_off`,
    `tail_hold`).
    """

    def __init__(self, count, ks):
        self.ks = ks
        self.run_note = np.full(count, -1, dtype=np.int64)
        self.run_count = np.zeros(count, dtype=np.int64)
        self.seg_off = np.zeros(count, dtype=bool)
        self.seg_hold = np.zeros(count, dtype=bool)
        self.tail_off = np.zeros(count, dtype=np.int64)
        self.tail_hold = np.zeros(count, dtype=np.int64)

    def flags(self, actions):
        """repeating_flags(prefix, actions) for the prefix appended so far (False when empty)."""
        ks = self.ks
        is_off, is_hold = actions == ks.note_off, actions == ks.no_event
        real = ~is_off & ~is_hold
        continues = real & (actions == self.run_note)
        repeats = np.where(continues, self.run_count,
                           np.where(is_off, self.tail_off, np.where(is_hold, self.tail_hold, 0)))
        rested = np.where(continues, self.seg_off, is_hold & (self.tail_off > 0))
        held = np.where(continues, self.seg_hold, is_off & (self.tail_hold > 0))
        plain = ~held & ~rested
        return ((is_off & (repeats > c.MAX_REPEATED_NOTE_OFFS))
                | (plain & (repeats > c.MAX_REPEATS_PLAIN))
                | (~plain & (repeats > c.MAX_REPEATS_WITH_HOLDS_OR_RESTS)))

    def append(self, actions):
        ks = self.ks
        is_off, is_hold = actions == ks.note_off, actions == ks.no_event
        real = ~is_off & ~is_hold
        same = real & (actions == self.run_note)
        new = real & ~same
        self.run_count = np.where(same, self.run_count + 1, np.where(new, 1, self.run_count))
        self.seg_off = np.where(new, self.tail_off > 0, self.seg_off | is_off)
        self.seg_hold = np.where(new, self.tail_hold > 0, self.seg_hold | is_hold)
        self.run_note = np.where(new, actions, self.run_note)
        self.tail_off = np.where(real, 0, self.tail_off + is_off)
        self.tail_hold = np.where(real, 0, self.tail_hold + is_hold)


def _motif_counts(comps, bar=c.BAR_LENGTH):
    """(notes_in_motif, notes_in_repeated_motif) summed over every step of every row.

    At step t the original looks at the last bar, full[t+1-bar : t+1] (window p = t+1-bar), and
    whether it occurs whole in full[:t+1-bar], i.e. as a window starting at s <= p - bar. Each
    window's distinct-note count is computed once, and each window is found earlier in its row
    through the first window equal to it (one sort of all windows): linear-logarithmic in the
    length instead of the per-step rescan's quadratic.
    """
    count, length = comps.shape
    if length < bar:
        return 0, 0
    windows = np.lib.stride_tricks.sliding_window_view(comps, bar, axis=1)   # [N, P, bar]
    positions = windows.shape[1]
    distinct = v.distinct_notes(windows.reshape(-1, bar)).reshape(count, positions)
    motif = distinct >= c.MIN_NOTES_IN_MOTIF
    in_motif = int(motif.sum())
    if length < 2 * bar:
        return in_motif, 0
    if c.NUM_CLASSES ** bar < 2 ** 62:     # each window as one exact integer
        weights = c.NUM_CLASSES ** np.arange(bar - 1, -1, -1, dtype=np.int64)
        codes = windows @ weights
    else:
        codes = np.unique(windows.reshape(-1, bar), axis=0,
                          return_inverse=True)[1].reshape(count, positions)
    rows = np.repeat(np.arange(count), positions)
    pos = np.tile(np.arange(positions), count)
    flat = codes.reshape(-1)
    order = np.lexsort((pos, flat, rows))
    r, k = rows[order], flat[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = (r[1:] != r[:-1]) | (k[1:] != k[:-1])
    group_first = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    first = np.empty(len(order), dtype=np.int64)
    first[order] = pos[order][group_first]
    first = first.reshape(count, positions)
    found = first <= np.arange(positions)[None, :] - bar
    found[:, :bar] = False                 # fewer than two bars played
    return in_motif, int((found & motif).sum())


def _previous_real(comps):
    """The last real note (>= 2) before each position, or -1."""
    count, length = comps.shape
    index = np.where(comps >= c.NUM_SPECIAL_EVENTS, np.arange(length)[None, :], -1)
    last = np.maximum.accumulate(index, axis=1)
    before = np.full((count, length), -1, dtype=np.int64)
    before[:, 1:] = last[:, :-1]
    return np.where(before >= 0, np.take_along_axis(comps, np.maximum(before, 0), axis=1), -1)


# Up to this many rows, the rules with memory run as plain Python over each row's notes.
_SCALAR_ROWS = 16


def _sequential_counts(comps, interval, prev_real, nonempty, ks):
    """(repeated notes, resolved leaps, double leaps): the rules with memory, all rows a step."""
    count, length = comps.shape
    repeats = _RepeatState(count, ks)
    leaps = v.LeapState(count)
    everyone = np.arange(count)
    repeated = resolved = twice = 0
    for t in range(length):
        actions = comps[:, t]
        if t:
            repeated += int(repeats.flags(actions).sum())
        repeats.append(actions)
        outcome = leaps.step(everyone, interval[:, t], actions, prev_real[:, t], nonempty[:, t])
        resolved += int((outcome == c.LEAP_RESOLVED).sum())
        twice += int((outcome == c.LEAP_DOUBLED).sum())
    return repeated, resolved, twice


def _sequential_counts_scalar(comp, interval, prev_real, ks):
    """`_sequential_counts` of one row in plain Python: the same state machines (_RepeatState
    and vectorized.LeapState), one note at a time; linear in the length at about a microsecond
    a note."""
    note_off, no_event = int(ks.note_off), int(ks.no_event)
    run_note, run_count, seg_off, seg_hold, tail_off, tail_hold = -1, 0, False, False, 0, 0
    direction, leapt_from, steps = 0, -1, 0
    repeated = resolved = twice = 0
    for t, (a, code, prev) in enumerate(zip(comp.tolist(), interval.tolist(),
                                            prev_real.tolist())):
        is_off, is_hold = a == note_off, a == no_event
        real = not (is_off or is_hold)
        if t:
            if real and a == run_note:
                reps, rested, held = run_count, seg_off, seg_hold
            elif is_off:
                reps, rested, held = tail_off, False, tail_hold > 0
            elif is_hold:
                reps, rested, held = tail_hold, tail_off > 0, False
            else:
                reps, rested, held = 0, False, False
            plain = not held and not rested
            repeated += ((is_off and reps > c.MAX_REPEATED_NOTE_OFFS)
                         or (plain and reps > c.MAX_REPEATS_PLAIN)
                         or (not plain and reps > c.MAX_REPEATS_WITH_HOLDS_OR_RESTS))
            # detect_leap_up_back (vectorized.LeapState.step)
            special = a < c.NUM_SPECIAL_EVENTS
            if special:
                steps += 1
            elif code >= c.FIFTH or code == c.IN_KEY_FIFTH:
                heading = c.ASCENDING if a > prev else c.DESCENDING
                if direction == 0:
                    direction, leapt_from = heading, prev
                elif direction != heading:
                    resolved += steps > c.STEPS_BETWEEN_LEAPS
                    direction, leapt_from = 0, -1
                else:
                    twice += 1
                steps = 0
            else:
                if ((direction == c.ASCENDING and a <= leapt_from)
                        or (direction == c.DESCENDING and a >= leapt_from)):
                    resolved += 1
                    direction, leapt_from = 0, -1
                steps += 1
        if real:
            if a == run_note:
                run_count += 1
            else:
                run_note, run_count = a, 1
                seg_off, seg_hold = tail_off > 0, tail_hold > 0
            tail_off = tail_hold = 0
        else:
            tail_off += is_off
            tail_hold += is_hold
            seg_off |= is_off
            seg_hold |= is_hold
    return int(repeated), int(resolved), int(twice)


def _walk(comps, stat_dict, tables, magenta_bugs):
    """Note-by-note statistics of equal-length compositions, all rows at once.

    Linear in the length: what does not depend on earlier steps is computed for all steps at
    once, and the two rules with memory (repeated notes, leaps) carry O(1) state per row.
    """
    ks = tables.ks
    count, length = comps.shape
    prev_real = _previous_real(comps)
    nonempty = np.zeros((count, length), dtype=bool)
    nonempty[:, 1:] = True
    interval = v.sequential_interval(prev_real, comps, nonempty, tables)
    _count_intervals(interval, stat_dict, magenta_bugs)
    stat_dict["notes_not_in_key"] += int((~tables.in_key[comps]).sum())
    stat_dict["num_starting_tonic"] += int((comps[:, 0] == ks.tonic_note).sum())
    in_motif, in_repeated_motif = _motif_counts(comps)
    stat_dict["notes_in_motif"] += in_motif
    stat_dict["notes_in_repeated_motif"] += in_repeated_motif
    if count <= _SCALAR_ROWS:      # few long rows: NumPy's per-call cost would dominate
        repeated = resolved = twice = 0
        for row in range(count):
            r, a, b = _sequential_counts_scalar(comps[row], interval[row], prev_real[row], ks)
            repeated, resolved, twice = repeated + r, resolved + a, twice + b
    else:
        repeated, resolved, twice = _sequential_counts(comps, interval, prev_real, nonempty, ks)
    stat_dict["num_repeated_notes"] += repeated
    stat_dict["num_resolved_leaps"] += resolved
    stat_dict["num_leap_twice"] += twice
    stat_dict["num_high_unique"] += int(v.high_unique(comps).sum())
    stat_dict["num_low_unique"] += int(v.low_unique(comps).sum())
    return {lag: v.autocorrelation(comps, lag) for lag in LAGS}


def compute_composition_stats(compositions, key=None, tonic_note=None, magenta_bugs=True):
    """The original's stat_dict for these compositions (rows in input order).

    `compositions`: int [N, T] action indices, or a list of sequences of varying lengths.
    `key` / `tonic_note`: in-key action indices and tonic (defaults: C major, C_MAJOR_TONIC).
    `magenta_bugs`: True reproduces the original's numbers, including its special-event labels
    and the in-key thirds that add_interval_stat never counts (docs/differences/rewards.md).
    """
    tables = v.Tables(resolve_key(key, tonic_note, magenta_bugs))
    groups, total = _as_groups(compositions)
    stat_dict = initialize_stat_dict()
    autocorr = {lag: np.empty(total) for lag in LAGS}
    notes = 0
    for positions, comps in groups:
        for lag, values in _walk(comps, stat_dict, tables, magenta_bugs).items():
            autocorr[lag][positions] = values
        notes += comps.size
    for lag in LAGS:
        stat_dict[f"autocorrelation{lag}"] = [float(x) for x in autocorr[lag]]
    stat_dict["num_compositions"] = total
    stat_dict["total_notes"] = notes
    return stat_dict


def merge_stat_dicts(*stat_dicts):
    """Sums counts and concatenates autocorrelations: the stats of all compositions together."""
    merged = initialize_stat_dict()
    merged["num_compositions"] = merged["total_notes"] = 0
    for d in stat_dicts:
        for k in COUNT_KEYS + ("num_compositions", "total_notes"):
            merged[k] += d[k]
        for lag in LAGS:
            merged[f"autocorrelation{lag}"] += list(d[f"autocorrelation{lag}"])
    return merged


def _nanmean(values):
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0 or np.all(np.isnan(arr)):
        return np.float64(np.nan)
    return np.nanmean(arr)


def stats_summary(stat_dict):
    """The report's figures as a JSON-ready dict (NaN becomes None)."""
    comps, notes = float(stat_dict["num_compositions"]), float(stat_dict["total_notes"])
    resolved, twice = float(stat_dict["num_resolved_leaps"]), float(stat_dict["num_leap_twice"])
    summary = {
        "num_compositions": int(stat_dict["num_compositions"]),
        "total_notes": int(stat_dict["total_notes"]),
        "counts": {k: int(stat_dict[k]) for k in COUNT_KEYS},
        "percent_starting_tonic": stat_dict["num_starting_tonic"] / comps,
        "percent_high_unique": stat_dict["num_high_unique"] / comps,
        "percent_low_unique": stat_dict["num_low_unique"] / comps,
        "percent_leaps_resolved": resolved / (resolved + twice) if resolved + twice else None,
        "percent_notes_not_in_key": stat_dict["notes_not_in_key"] / notes,
        "percent_notes_in_motif": stat_dict["notes_in_motif"] / notes,
        "percent_notes_in_repeated_motif": stat_dict["notes_in_repeated_motif"] / notes,
        "percent_notes_excessively_repeated": stat_dict["num_repeated_notes"] / notes,
        "mean_autocorrelation": {
            f"lag{lag}": _finite_or_none(_nanmean(stat_dict[f"autocorrelation{lag}"]))
            for lag in LAGS},
        "intervals_per_composition": {
            k: stat_dict[k] / comps for k in (
                "num_octave_jumps", "num_sevenths", "num_fifths", "num_sixths", "num_fourths",
                "num_rest_intervals", "num_seconds", "num_thirds",
                "num_in_key_preferred_intervals", "num_special_rest_intervals")},
    }
    return summary


def _finite_or_none(x):
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def stats_json(stat_dict, include_autocorrelations=False):
    """JSON text of `stats_summary` (and, if asked, the per-composition autocorrelations)."""
    out = stats_summary(stat_dict)
    if include_autocorrelations:
        out["autocorrelations"] = {
            f"lag{lag}": [_finite_or_none(x) for x in stat_dict[f"autocorrelation{lag}"]]
            for lag in LAGS}
    return json.dumps(out, indent=2)


def stats_report(stat_dict, print_interval_stats=True):
    """The text `get_stat_dict_string` prints, line for line."""
    notes = float(stat_dict["total_notes"])
    comps = float(stat_dict["num_compositions"])

    def count(key):
        return str(float(stat_dict[key]))

    def per(key, denominator):
        return str(float(stat_dict[key]) / denominator)

    lines = [f"Total compositions: {comps}", f"Total notes:{notes}",
             "\tCompositions starting with tonic: " + count("num_starting_tonic"),
             "\tCompositions with unique highest note:" + count("num_high_unique"),
             "\tCompositions with unique lowest note:" + count("num_low_unique"),
             "\tNumber of resolved leaps:" + count("num_resolved_leaps"),
             "\tNumber of double leaps:" + count("num_leap_twice"),
             "\tNotes not in key:" + count("notes_not_in_key"),
             "\tNotes in motif:" + count("notes_in_motif"),
             "\tNotes in repeated motif:" + count("notes_in_repeated_motif"),
             "\tNotes excessively repeated:" + count("num_repeated_notes"),
             ""]
    resolved = float(stat_dict["num_resolved_leaps"])
    leaps = float(stat_dict["num_leap_twice"]) + resolved
    resolved_share = resolved / leaps if leaps > 0 else np.nan
    lines += ["\tPercent compositions starting with tonic:"
              + str(stat_dict["num_starting_tonic"] / comps),
              "\tPercent compositions with unique highest note:" + per("num_high_unique", comps),
              "\tPercent compositions with unique lowest note:" + per("num_low_unique", comps),
              "\tPercent of leaps resolved:" + str(resolved_share),
              "\tPercent notes not in key:" + per("notes_not_in_key", notes),
              "\tPercent notes in motif:" + per("notes_in_motif", notes),
              "\tPercent notes in repeated motif:"
              + str(stat_dict["notes_in_repeated_motif"] / notes),
              "\tPercent notes excessively repeated:"
              + str(stat_dict["num_repeated_notes"] / notes),
              ""]
    for lag in LAGS:
        lines.append(f"\tAverage autocorrelation of lag{lag}:"
                     + str(_nanmean(stat_dict[f"autocorrelation{lag}"])))
    if print_interval_stats:
        lines += ["",
                  "\tAvg. num octave jumps per composition:" + per("num_octave_jumps", comps),
                  "\tAvg. num sevenths per composition:" + per("num_sevenths", comps),
                  "\tAvg. num fifths per composition:" + per("num_fifths", comps),
                  "\tAvg. num sixths per composition:" + per("num_sixths", comps),
                  "\tAvg. num fourths per composition:" + per("num_fourths", comps),
                  "\tAvg. num rest intervals per composition:"
                  + per("num_rest_intervals", comps),
                  "\tAvg. num seconds per composition:" + per("num_seconds", comps),
                  "\tAvg. num thirds per composition:" + per("num_thirds", comps),
                  "\tAvg. num in key preferred intervals per composition:"
                  + per("num_in_key_preferred_intervals", comps),
                  "\tAvg. num special rest intervals per composition:"
                  + per("num_special_rest_intervals", comps)]
    return "\n".join(lines) + "\n\n"
