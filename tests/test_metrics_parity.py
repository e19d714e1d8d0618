"""Metrics: our batched compute_composition_stats == magenta's rl_tuner_eval_metrics.

How the oracle is driven: magenta's `compute_composition_stats(rl_tuner, ...)` calls
`prime_internal_models()`, `reset_composition()`, then per note `action(...)` and the detectors
of the tuner. `Player` is an RLTuner built with `object.__new__`-style set-up (no graph, no
checkpoint) whose `prime_internal_models` starts the next given composition and whose `action`
plays its notes in order; everything else (detectors, reset, the stat functions) is magenta's.
"""
import json
import time
import warnings

import numpy as np
import pytest
from magenta.models.rl_tuner import rl_tuner, rl_tuner_eval_metrics

from sequence_tutor_tf.music import metrics
from sequence_tutor_tf.music.rewards import MusicTheoryRewards
from sequence_tutor_tf.music.rewards import constants as c
from tests.reward_compositions import make_compositions


class Player(rl_tuner.RLTuner):
    """An RLTuner that 'composes' the given compositions, one after the other."""

    def __init__(self, compositions):  # deliberately not RLTuner.__init__: no graph
        self.compositions, self.index, self.t = compositions, -1, 0
        self.num_notes_in_melody = compositions.shape[1]
        self.reset_composition()

    def prime_internal_models(self):
        self.index, self.t = self.index + 1, 0
        return np.eye(38)[0]

    def action(self, observation, exploration_period=0, enable_random=True,
               sample_next_obs=False):
        note = np.eye(38)[self.compositions[self.index, self.t]]
        self.t += 1
        return note, note, None


def oracle_stats(comps, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return rl_tuner_eval_metrics.compute_composition_stats(
            Player(comps), num_compositions=len(comps), composition_length=comps.shape[1],
            **kwargs)


def assert_same_stats(ours, theirs):
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        if isinstance(value, list):
            np.testing.assert_array_equal(np.asarray(ours[key]), np.asarray(value))
        else:
            assert ours[key] == value, key


@pytest.mark.parametrize("length,count", [(32, 1000), (16, 200), (9, 100)])
def test_stats_and_report_match_magenta(length, count):
    comps = make_compositions(seed=length, count=count, length=length)
    theirs = oracle_stats(comps)
    ours = metrics.compute_composition_stats(comps)
    assert_same_stats(ours, theirs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for interval_stats in (True, False):
            assert metrics.stats_report(ours, interval_stats) == \
                rl_tuner_eval_metrics.get_stat_dict_string(theirs, interval_stats)


def test_compositions_of_several_lengths_in_one_call():
    short, longer = make_compositions(1, 30, 16), make_compositions(2, 20, 32)
    mixed = [longer[0], short[0]] + list(short[1:]) + list(longer[1:])
    ours = metrics.compute_composition_stats(mixed)
    a, b = oracle_stats(short), oracle_stats(longer)
    for key in metrics.COUNT_KEYS:
        assert ours[key] == a[key] + b[key]
    assert ours["total_notes"] == 30 * 16 + 20 * 32 and ours["num_compositions"] == 50
    want = [b["autocorrelation1"][0], a["autocorrelation1"][0]] + a["autocorrelation1"][1:] + \
        b["autocorrelation1"][1:]
    np.testing.assert_array_equal(ours["autocorrelation1"], want)
    merged = metrics.merge_stat_dicts(metrics.compute_composition_stats(short),
                                      metrics.compute_composition_stats(longer))
    assert all(merged[k] == ours[k] for k in metrics.COUNT_KEYS)


def test_in_key_thirds_uncounted_by_the_original_counted_when_fixed():
    comps = make_compositions(seed=4, count=200)
    theirs = oracle_stats(comps)
    faithful = metrics.compute_composition_stats(comps)
    fixed = metrics.compute_composition_stats(comps, magenta_bugs=False)
    assert faithful["num_in_key_preferred_intervals"] == theirs["num_in_key_preferred_intervals"]
    in_key_thirds = 0  # what add_interval_stat's `interval == (IN_KEY_FIFTH or ...)` misses
    rules = MusicTheoryRewards(magenta_bugs=False)
    for comp in comps:
        rules.reset_composition()
        for note in comp:
            in_key_thirds += rules.detect_sequential_interval(note)[0] == c.IN_KEY_THIRD
            rules.append_to_composition(note)
    assert in_key_thirds > 0
    fixed_only_thirds = metrics.compute_composition_stats(
        np.array([[14, 18, 14, 18]]), magenta_bugs=False)
    assert fixed_only_thirds["num_in_key_preferred_intervals"] == 3
    assert metrics.compute_composition_stats(
        np.array([[14, 18, 14, 18]]))["num_in_key_preferred_intervals"] == 0
    assert fixed["num_in_key_preferred_intervals"] >= faithful["num_in_key_preferred_intervals"]


def test_explicit_key_crashes_the_original_metrics_not_ours():
    comps = np.array([[14, 0, 16, 18, 1, 21, 14, 14]])
    with pytest.raises(NameError):
        oracle_stats(comps, key=list(c.C_MAJOR_KEY))
    ours = metrics.compute_composition_stats(comps, key=c.C_MAJOR_KEY)
    assert ours == metrics.compute_composition_stats(comps)


def test_ten_thousand_compositions_in_seconds():
    comps = make_compositions(seed=8, count=10_000)
    start = time.perf_counter()
    stats = metrics.compute_composition_stats(comps)
    elapsed = time.perf_counter() - start
    assert stats["num_compositions"] == 10_000 and stats["total_notes"] == 320_000
    assert elapsed < 10.0, elapsed


def test_summary_is_json_and_bad_input_is_named():
    stats = metrics.compute_composition_stats(np.full((3, 8), 20))
    summary = json.loads(metrics.stats_json(stats, include_autocorrelations=True))
    assert summary["mean_autocorrelation"]["lag1"] is None  # constant melodies: NaN -> null
    assert summary["counts"]["num_repeated_notes"] == 3 * 3
    assert summary["percent_leaps_resolved"] is None
    with pytest.raises(ValueError, match="index 38 at position 1"):
        metrics.compute_composition_stats(np.array([[1, 38]]))
    with pytest.raises(ValueError, match="2-D"):
        metrics.compute_composition_stats(np.zeros((2, 2, 2), dtype=int))
    with pytest.raises(ValueError, match="empty"):
        metrics.compute_composition_stats([])
    with pytest.raises(ValueError, match="integer"):
        metrics.compute_composition_stats(np.zeros((2, 3)))
