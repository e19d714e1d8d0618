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


def _walk(comps, stat_dict, tables, magenta_bugs):
    """Note-by-note statistics of equal-length compositions, all rows at once."""
    ks = tables.ks
    count, length = comps.shape
    prev_real = np.full(count, -1, dtype=np.int64)
    leaps = v.LeapState(count)
    everyone = np.arange(count)
    for t in range(length):
        actions = comps[:, t]
        prefix, full = comps[:, :t], comps[:, :t + 1]
        nonempty = np.full(count, t > 0)
        interval = v.sequential_interval(prev_real, actions, nonempty, tables)
        _count_intervals(interval, stat_dict, magenta_bugs)
        stat_dict["notes_not_in_key"] += int((~tables.in_key[actions]).sum())
        if t == 0:
            stat_dict["num_starting_tonic"] += int((actions == ks.tonic_note).sum())
        stat_dict["num_repeated_notes"] += int(v.repeating_flags(prefix, actions, ks).sum())
        distinct = v.last_bar_distinct(full)
        stat_dict["notes_in_motif"] += int((distinct >= c.MIN_NOTES_IN_MOTIF).sum())
        stat_dict["notes_in_repeated_motif"] += int(v.repeated_motif_flags(full, distinct).sum())
        outcome = leaps.step(everyone, interval, actions, prev_real, nonempty)
        stat_dict["num_resolved_leaps"] += int((outcome == c.LEAP_RESOLVED).sum())
        stat_dict["num_leap_twice"] += int((outcome == c.LEAP_DOUBLED).sum())
        prev_real = np.where(actions >= c.NUM_SPECIAL_EVENTS, actions, prev_real)
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
