"""The metrics are linear in a composition's length (issue 19 item 9): a 160,000-event composition
scores in seconds, and the paths for long rows give magenta's values exactly."""
import time
import warnings

import numpy as np
import pytest

from sequence_tutor_tf.music import metrics
from tests.reward_compositions import make_compositions
from tests.test_metrics_parity import assert_same_stats, oracle_stats


def test_few_long_compositions_match_magenta():
    # Below metrics._SCALAR_ROWS rows: the plain-Python state machines; 400 notes each.
    comps = make_compositions(seed=11, count=120, length=40).reshape(12, 400)
    assert len(comps) <= metrics._SCALAR_ROWS
    assert_same_stats(metrics.compute_composition_stats(comps), oracle_stats(comps))


@pytest.mark.parametrize("magenta_bugs", [True, False])
def test_scalar_and_batched_paths_agree(magenta_bugs):
    from sequence_tutor_tf.music.rewards import vectorized as v
    from sequence_tutor_tf.music.rewards.keys import resolve_key
    comps = make_compositions(seed=5, count=300, length=48)
    ks = resolve_key(None, None, magenta_bugs)
    tables = v.Tables(ks)
    prev = metrics._previous_real(comps)
    nonempty = np.ones(comps.shape, dtype=bool)
    nonempty[:, 0] = False
    interval = v.sequential_interval(prev, comps, nonempty, tables)
    for row in range(len(comps)):
        one = (slice(row, row + 1),)
        assert metrics._sequential_counts_scalar(comps[row], interval[row], prev[row], ks) == \
            metrics._sequential_counts(comps[one], interval[one], prev[one], nonempty[one], ks)


def test_160000_event_composition_in_seconds():
    comp = make_compositions(seed=3, count=5000, length=32).reshape(1, -1)
    assert comp.shape == (1, 160_000)
    start = time.perf_counter()
    stats = metrics.compute_composition_stats(comp)
    elapsed = time.perf_counter() - start
    assert stats["total_notes"] == 160_000
    # The same notes as 5000 pieces of 32: the counts that never look further back than a
    # piece agree, and the long one is as fast as linear scoring allows.
    assert 0 < stats["num_repeated_notes"] and 0 < stats["notes_in_repeated_motif"]
    assert elapsed < 10.0, elapsed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert_same_stats(metrics.compute_composition_stats(comp[:, :2000]),
                          oracle_stats(comp[:, :2000]))
