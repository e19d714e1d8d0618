"""Music-theory rewards: per-step face, batched face and magenta's RLTuner give the same numbers.

How the oracle is driven: a real `RLTuner` builds TF1 graphs and needs a checkpoint, but its
reward methods read only the composition state. So the oracle is `object.__new__(RLTuner)` with
the attributes those methods read set by hand (`num_notes_in_melody`, `reward_mode`,
`reward_scaler`, the reward tallies) and `reset_composition()` (magenta's own) setting `beat`,
`composition`, `composition_direction`, `leapt_from`, `steps_since_last_leap`. Each step calls the
reward on a one-hot action, then appends `argmax` and advances the beat, as `RLTuner.train` does.
"""
import warnings

import numpy as np
import pytest
import scipy.special
from magenta.models.rl_tuner import rl_tuner, rl_tuner_ops

from sequence_tutor_tf.music.rewards import (BatchedMusicTheoryReward, MusicTheoryRewards,
                                             REWARD_MODES, combine_rewards, key_table,
                                             parse_key_name, register_reward, resolve_key,
                                             reward_rnn_logprob, unregister_reward)
from sequence_tutor_tf.music.rewards import constants as c
from tests.reward_compositions import make_compositions

RULES = ("key", "tonic", "penalize_repeating", "penalize_autocorrelation", "motif",
         "repeated_motif", "preferred_intervals", "leap_up_back", "high_low_unique",
         "key_distribute_prob")
EYE = np.eye(38)


def onehot(note):
    return EYE[int(note)]


def make_oracle(num_notes=32, reward_mode="music_theory_all", reward_scaler=1.0):
    tuner = object.__new__(rl_tuner.RLTuner)
    tuner.num_notes_in_melody = num_notes
    tuner.reward_mode = reward_mode
    tuner.reward_scaler = reward_scaler
    tuner.note_rnn_reward_last_n = 0
    tuner.music_theory_reward_last_n = 0
    tuner.reset_composition()
    return tuner


def oracle_append(tuner, note):
    tuner.composition.append(np.argmax(onehot(note)))
    tuner.beat += 1


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():  # magenta's autocorrelate divides 0 by 0 on short prefixes
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def test_every_rule_and_detector_matches_magenta_step_by_step():
    """320 compositions x 32 = 10,240 steps; every rule, detector and the leap state."""
    comps = make_compositions(seed=0, count=320)
    tuner, ours = make_oracle(), MusicTheoryRewards()
    steps = 0
    for comp in comps:
        tuner.reset_composition()
        ours.reset_composition()
        prev = int(comp[0])
        for note in comp:
            x = onehot(note)
            assert ours.detect_sequential_interval(x) == tuner.detect_sequential_interval(x)
            assert ours.detect_repeating_notes(note) == tuner.detect_repeating_notes(note)
            assert ours.detect_repeated_motif(x) == tuner.detect_repeated_motif(x)
            full = tuner.composition + [note]
            assert ours.detect_last_motif(full) == tuner.detect_last_motif(composition=full)
            assert ours.reward_scale(onehot(prev), x) == tuner.reward_scale(onehot(prev), x)
            for rule in RULES:  # leap_up_back mutates the state: called once on each side
                assert getattr(ours, "reward_" + rule)(x) == getattr(tuner, "reward_" + rule)(x), \
                    (rule, list(full))
            assert (ours.composition_direction, ours.leapt_from, ours.steps_since_last_leap) == \
                (tuner.composition_direction, tuner.leapt_from, tuner.steps_since_last_leap)
            oracle_append(tuner, note)
            ours.append_to_composition(x)
            prev = int(note)
            steps += 1
    assert steps >= 10_000


@pytest.mark.parametrize("num_notes", [32, 16, 9])
def test_batched_music_theory_matches_magenta_and_per_step(num_notes):
    """reward_music_theory over whole compositions; edge beats 0, T-4..T-1 included."""
    comps = make_compositions(seed=num_notes, count=200, length=num_notes)
    batched = BatchedMusicTheoryReward(len(comps), num_notes_in_melody=num_notes)
    got = np.stack([batched.step(comps[:, t], dtype=np.float64) for t in range(num_notes)], 1)
    got32 = BatchedMusicTheoryReward(len(comps), num_notes_in_melody=num_notes)
    got32 = np.stack([got32.step(comps[:, t]) for t in range(num_notes)], 1)
    tuner, ours = make_oracle(num_notes), MusicTheoryRewards(num_notes)
    want, mine = np.zeros(comps.shape), np.zeros(comps.shape)
    for i, comp in enumerate(comps):
        tuner.reset_composition()
        ours.reset_composition()
        for t, note in enumerate(comp):
            want[i, t] = tuner.reward_music_theory(onehot(note))
            mine[i, t] = ours.reward_music_theory(onehot(note))
            oracle_append(tuner, note)
            ours.append_to_composition(note)
    np.testing.assert_array_equal(mine, want)
    np.testing.assert_array_equal(got, want)
    assert got32.dtype == np.float32
    np.testing.assert_array_equal(got32, want.astype(np.float32))
    np.testing.assert_array_equal(batched.compositions, comps)
    np.testing.assert_array_equal(batched.beat, np.full(len(comps), num_notes))


@pytest.mark.parametrize("reward_mode", REWARD_MODES)
def test_every_reward_mode_matches_collect_reward(reward_mode):
    """collect_reward (with random Reward-RNN scores) == combine_rewards(batched task reward)."""
    comps = make_compositions(seed=7, count=40)
    rng = np.random.default_rng(1)
    scores = rng.normal(size=comps.shape + (38,))
    primers = rng.integers(0, 38, len(comps))
    scaler = 0.7
    batched = BatchedMusicTheoryReward(len(comps), reward_mode)
    task = np.zeros(comps.shape)
    for t in range(comps.shape[1]):
        obs = primers if t == 0 else comps[:, t - 1]
        task[:, t] = batched.step(comps[:, t], observations=obs, dtype=np.float64)
    tuner, ours = make_oracle(reward_mode=reward_mode, reward_scaler=scaler), \
        MusicTheoryRewards(reward_mode=reward_mode)
    for i, comp in enumerate(comps):
        tuner.reset_composition()
        ours.reset_composition()
        last = onehot(primers[i])
        for t, note in enumerate(comp):
            x = onehot(note)
            mine = ours.task_reward(last, x)
            assert mine == task[i, t]
            logp = reward_rnn_logprob(x, scores[i, t])
            assert logp == tuner.reward_from_reward_rnn_scores(x, scores[i, t])
            if reward_mode == "non_repeating" and tuner.reward_non_repeating(x) is None:
                assert mine == c.REPEATING_PENALTY  # the original returns None: fixed here
                tuner.composition, tuner.beat = tuner.composition + [note], tuner.beat + 1
            else:
                want = tuner.collect_reward(last, x, scores[i, t])
                assert combine_rewards(reward_mode, logp, task[i, t], scaler) == want
                oracle_append(tuner, note)
            ours.append_to_composition(note)
            last = x
    batch_logp = reward_rnn_logprob(comps[:, 5], scores[:, 5])
    assert np.array_equal(combine_rewards(reward_mode, batch_logp, task[:, 5], scaler),
                          [combine_rewards(reward_mode, reward_rnn_logprob(comps[i, 5],
                                                                           scores[i, 5]),
                                           task[i, 5], scaler) for i in range(len(comps))])


def test_batched_rows_at_different_beats_after_masked_resets():
    """reset(mask) restarts some rows mid-way: each row still equals its own per-step object."""
    rng = np.random.default_rng(3)
    rows, num_notes = 24, 32
    stream = make_compositions(seed=11, count=rows, length=200)
    batched = BatchedMusicTheoryReward(rows, num_notes_in_melody=num_notes)
    singles = [MusicTheoryRewards(num_notes) for _ in range(rows)]
    for t in range(stream.shape[1]):
        done = batched.beat >= num_notes
        done |= rng.random(rows) < 0.05
        batched.reset(done)
        for i in np.flatnonzero(done):
            singles[i].reset_composition()
        got = batched.step(stream[:, t], dtype=np.float64)
        for i, single in enumerate(singles):
            assert got[i] == single.task_reward(None, stream[i, t])
            single.append_to_composition(stream[i, t])
            assert batched.leapt_from[i] == (single.leapt_from if single.leapt_from is not None
                                             else -1)
        assert len(set(batched.beat.tolist())) > 1 or t < 2
    for i, single in enumerate(singles):
        assert batched.compositions[i, :batched.beat[i]].tolist() == single.composition


def test_edge_beats_of_reward_tonic():
    """Tonic pays at beats 0 and T-4; NO_EVENT at T-3; either special event at T-2 and T-1."""
    ours = MusicTheoryRewards()
    expected = {0: {14: 3.0, 16: 0.0}, 5: {14: 0.0}, 28: {14: 3.0, 0: 0.0},
                29: {c.NO_EVENT: 3.0, c.NOTE_OFF: 0.0, 14: 0.0},
                30: {0: 3.0, 1: 3.0, 14: 0.0}, 31: {0: 3.0, 1: 3.0, 2: 0.0}}
    tuner = make_oracle()
    for beat, cases in expected.items():
        for note, value in cases.items():
            ours.beat = tuner.beat = beat
            assert ours.reward_tonic(onehot(note)) == value == tuner.reward_tonic(onehot(note))


# -- known bugs of the original: both behaviours ----------------------------------------------
def test_reward_non_repeating_returns_penalty_where_original_returns_none():
    tuner, ours = make_oracle(reward_mode="non_repeating"), MusicTheoryRewards(
        reward_mode="non_repeating")
    for _ in range(5):
        oracle_append(tuner, 20)
        ours.append_to_composition(20)
    assert tuner.reward_non_repeating(onehot(20)) is None
    with pytest.raises(TypeError):  # None * reward_scaler inside collect_reward
        tuner.collect_reward(onehot(20), onehot(20), np.zeros(38))
    assert ours.reward_non_repeating(onehot(20)) == c.REPEATING_PENALTY
    assert ours.reward_non_repeating(onehot(21)) == tuner.reward_non_repeating(onehot(21)) == .1


def test_explicit_key_crashes_the_original_and_not_ours():
    tuner, ours = make_oracle(), MusicTheoryRewards(key=c.C_MAJOR_KEY)
    oracle_append(tuner, 14)
    ours.append_to_composition(14)
    with pytest.raises(NameError):  # tonic_notes is only defined when key is None
        tuner.detect_sequential_interval(onehot(c.NOTE_OFF), key=list(c.C_MAJOR_KEY))
    assert ours.detect_sequential_interval(onehot(c.NOTE_OFF), key=list(c.C_MAJOR_KEY))[0] == \
        c.REST_INTERVAL_AFTER_THIRD_OR_FIFTH == tuner.detect_sequential_interval(
            onehot(c.NOTE_OFF))[0]


def test_special_event_labels_switch():
    """magenta_bugs=True: rules call index 0 NOTE_OFF and 1 NO_EVENT, as rl_tuner.py does, though
    its own decoder (and the Note RNN's data) say 0 = no event, 1 = note off."""
    assert rl_tuner_ops.decoder([0, 1], 0) == [-2, -1]  # note_seq: -2 no event, -1 note off
    assert (rl_tuner.NOTE_OFF, rl_tuner.NO_EVENT) == (0, 1)
    faithful, fixed = MusicTheoryRewards(), MusicTheoryRewards(magenta_bugs=False)
    for rewards in (faithful, fixed):
        rewards.beat = 29
    assert faithful.reward_tonic(onehot(1)) == 3.0 and faithful.reward_tonic(onehot(0)) == 0.0
    assert fixed.reward_tonic(onehot(0)) == 3.0 and fixed.reward_tonic(onehot(1)) == 0.0
    for rewards in (faithful, fixed):  # a note held for three steps: 20, 0, 0, then 0 again
        rewards.reset_composition()
        for note in (20, 0, 0):
            rewards.append_to_composition(note)
    assert faithful.detect_repeating_notes(0) is True   # "three note-offs in a row"
    assert fixed.detect_repeating_notes(0) is False
    comps = make_compositions(seed=5, count=30)
    for flag, single in ((True, faithful), (False, fixed)):
        batched = BatchedMusicTheoryReward(len(comps), magenta_bugs=flag)
        got = np.stack([batched.step(comps[:, t], dtype=np.float64) for t in range(32)], 1)
        for i, comp in enumerate(comps):
            single.reset_composition()
            for t, note in enumerate(comp):
                assert got[i, t] == single.reward_music_theory(note)
                single.append_to_composition(note)


def test_invalid_reward_mode_is_refused_up_front():
    tuner = make_oracle(reward_mode="music_theory_al")
    with pytest.raises(UnboundLocalError):  # the original only logs, then fails on `reward`
        tuner.collect_reward(onehot(14), onehot(14), np.zeros(38))
    for make in (lambda: MusicTheoryRewards(reward_mode="music_theory_al"),
                 lambda: BatchedMusicTheoryReward(2, "music_theory_al")):
        with pytest.raises(ValueError, match="music_theory_al.*|.*music_theory_all"):
            make()


# -- other keys, bad input, extensions ---------------------------------------------------------
def test_key_tables():
    assert key_table(0) == c.C_MAJOR_KEY
    assert parse_key_name("C") == (c.C_MAJOR_KEY, c.C_MAJOR_TONIC)
    assert parse_key_name("A minor") == (c.C_MAJOR_KEY, c.A_MINOR_TONIC)
    spec = resolve_key()
    assert spec.scale == c.C_MAJOR_SCALE and spec.tonic_notes == (2, 14, 26)
    assert spec.third_notes == (6, 18, 30) and spec.fifth_notes == (9, 21, 33)
    g_key, g_tonic = parse_key_name("G major")
    g = resolve_key(g_key, g_tonic)
    assert g.tonic_note == 21 and g.tonic_notes == (9, 21, 33) and g.fifth_notes == (4, 16, 28)
    assert 20 in g.key and 19 not in g.key  # F# in, F out
    with pytest.raises(ValueError, match="tonic_note 15 is not in key"):
        resolve_key(None, 15)
    with pytest.raises(ValueError, match="H major"):
        parse_key_name("H major")


def test_other_key_batched_equals_per_step():
    key, tonic = parse_key_name("G")
    comps = make_compositions(seed=9, count=40)
    comps[:, 0] = tonic
    batched = BatchedMusicTheoryReward(len(comps), key=key, tonic_note=tonic)
    got = np.stack([batched.step(comps[:, t], dtype=np.float64) for t in range(32)], 1)
    single = MusicTheoryRewards(key=key, tonic_note=tonic)
    for i, comp in enumerate(comps):
        single.reset_composition()
        for t, note in enumerate(comp):
            assert got[i, t] == single.reward_music_theory(note)
            single.append_to_composition(note)
    assert (got[:, 0] >= 3.0 - 1e-12).all()  # every row starts on G's tonic


def test_bad_input_is_named():
    batched = BatchedMusicTheoryReward(3, num_notes_in_melody=2)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        batched.step(np.array([1, 2]))
    with pytest.raises(ValueError, match="outside 0..37"):
        batched.step(np.array([1, 2, 38]))
    with pytest.raises(ValueError, match="integer"):
        batched.step(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="bool array"):
        batched.reset(np.array([1, 0, 1]))
    batched.step(np.array([1, 2, 3]))
    batched.step(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="reset"):
        batched.step(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="'scale'.*beat 0"):
        BatchedMusicTheoryReward(2, "scale").step(np.array([3, 4]))
    with pytest.raises(ValueError, match="batch_size"):
        BatchedMusicTheoryReward(0)
    with pytest.raises(ValueError, match="one-hot"):
        MusicTheoryRewards().reward_key(np.zeros((2, 38)))
    with pytest.raises(ValueError, match="0..37"):
        MusicTheoryRewards().reward_key(40)


def test_registered_reward_in_both_faces():
    @register_reward("test_prefers_high_notes")
    def prefers_high_notes(ctx):
        return np.where(ctx.actions >= 26, 0.5, 0.0) + 0.01 * ctx.beat
    try:
        comps = make_compositions(seed=2, count=20)
        plain = BatchedMusicTheoryReward(len(comps))
        extra = BatchedMusicTheoryReward(len(comps), extra_rewards=["test_prefers_high_notes"])
        single = MusicTheoryRewards(extra_rewards=["test_prefers_high_notes"])
        base = np.stack([plain.step(comps[:, t], dtype=np.float64) for t in range(32)], 1)
        got = np.stack([extra.step(comps[:, t], dtype=np.float64) for t in range(32)], 1)
        bonus = np.where(comps >= 26, 0.5, 0.0) + 0.01 * np.arange(32)
        np.testing.assert_allclose(got, base + bonus, rtol=0, atol=1e-12)
        for i, comp in enumerate(comps):
            single.reset_composition()
            for t, note in enumerate(comp):
                assert single.task_reward(None, note) == got[i, t]
                single.append_to_composition(note)
        by_path = BatchedMusicTheoryReward(
            2, extra_rewards=["tests.test_rewards_parity:constant_bonus"])
        assert by_path.step(np.array([14, 3]), dtype=np.float64)[0] == 3.0 + 1.0
        with pytest.raises(ValueError, match="unknown reward 'nope'"):
            BatchedMusicTheoryReward(2, extra_rewards=["nope"])
        with pytest.raises(ValueError, match="already registered"):
            register_reward("test_prefers_high_notes")(lambda ctx: 0.0)
    finally:
        unregister_reward("test_prefers_high_notes")


def constant_bonus(ctx):
    """Used by name ('tests.test_rewards_parity:constant_bonus') in the test above."""
    return np.ones(len(ctx.actions))


def test_reward_rnn_logprob_matches_scipy():
    scores = np.random.default_rng(0).normal(size=38)
    assert reward_rnn_logprob(5, scores) == scores[5] - scipy.special.logsumexp(scores)
