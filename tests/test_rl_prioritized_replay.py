"""Prioritized replay (the molecule research code's): the sum tree, sampling proportional to
(|TD error| + 0.01)^0.5, the learners' per-row TD errors on both update paths, the engine's
priority bookkeeping, and an exact resume with the priorities checkpointed."""
import numpy as np
import pytest
from scipy import stats

from sequence_tutor_tf.models.note_rnn import NoteRNN
from sequence_tutor_tf.music.domain import MusicDomain
from sequence_tutor_tf.rl import run_dir as run_state
from sequence_tutor_tf.rl.engine import RLEngine
from sequence_tutor_tf.rl.hparams import default_dqn_hparams
from sequence_tutor_tf.rl.learners import LEARNERS
from sequence_tutor_tf.rl.replay import PrioritizedReplayBuffer, ReplayBuffer, SumTree
from sequence_tutor_tf.rl.specs import transition_spec


def _batch(spec, n, start=0, rng=None):
    rng = rng or np.random.default_rng(start)
    out = {}
    for k, s in spec.items():
        if s.dtype == np.int32:
            out[k] = rng.integers(0, 8, (n,) + s.shape).astype(np.int32)
        else:
            out[k] = rng.normal(0, 0.5, (n,) + s.shape).astype(np.float32)
    out["rewards"] = np.arange(start, start + n, dtype=np.float32)
    out["terminals"] = (rng.random(n) < 0.2).astype(np.float32)
    return out


def test_sum_tree_sums_finds_and_rebuilds_bit_identically():
    rng = np.random.default_rng(0)
    for capacity in (1, 5, 37, 1000):
        tree = SumTree(capacity)
        values = np.zeros(capacity)
        for _ in range(20):
            idx = rng.integers(0, capacity, rng.integers(1, 2 * capacity + 1))
            new = rng.random(idx.size) * 10
            last = {int(i): v for i, v in zip(idx, new)}       # the last write of a slot wins
            tree.set(np.array(list(last)), np.array(list(last.values())))
            values[list(last)] = list(last.values())
        assert tree.total == pytest.approx(values.sum(), rel=1e-12)
        np.testing.assert_array_equal(tree.values(), values)
        u = rng.random(2000) * tree.total
        expected = np.searchsorted(np.cumsum(values), u, side="right")
        found = tree.find(u)
        # Identical except where u lies within rounding of an interval's edge.
        assert np.mean(found == np.minimum(expected, capacity - 1)) > 0.999
        assert (values[found] > 0).all()
        again = SumTree(capacity)
        again.tree[again.leaves:again.leaves + capacity] = values
        again.rebuild()
        np.testing.assert_array_equal(again.tree, tree.tree)


def test_sampling_frequencies_follow_the_priorities():
    spec = transition_spec(3, 3)
    buf = PrioritizedReplayBuffer(40, spec)
    td = np.array([0.0, 0.5, 3.0, 10.0, -10.0, 100.0, -0.2, 1.0] * 3)   # 24 of 40 slots filled
    buf.add_batch(_batch(spec, 24), td_errors=td)
    p = (np.abs(td) + 0.01) ** 0.5
    np.testing.assert_allclose(buf.priorities(), p)
    idx = buf.sample_indices(20, np.random.default_rng(1), num_batches=10000)  # 200,000 draws
    assert idx.shape == (10000, 20) and idx.max() < 24          # empty slots never drawn
    counts = np.bincount(idx.ravel(), minlength=24)
    expected = p / p.sum() * idx.size
    assert stats.chisquare(counts, expected).pvalue > 1e-3
    # The test can tell: uniform frequencies are rejected outright.
    assert stats.chisquare(counts, np.full(24, idx.size / 24)).pvalue < 1e-12
    # With replacement (the research code's np.random.choice default): duplicates occur.
    assert any(len(set(row)) < 20 for row in idx.tolist())


def test_priorities_follow_new_transitions_updates_and_the_ring():
    spec = transition_spec(3, 3)
    buf = PrioritizedReplayBuffer(10, spec)
    buf.add_batch(_batch(spec, 6), td_errors=np.full(6, 1.0))
    buf.update_priorities(np.array([[2, 3], [2, 5]]), np.array([[4.0, 9.0], [-16.0, 0.0]]))
    p = buf.priorities()
    assert p[2] == pytest.approx(16.01 ** 0.5)           # the later draw of slot 2 wins
    assert p[3] == pytest.approx(9.01 ** 0.5) and p[5] == pytest.approx(0.1)
    buf.add_batch(_batch(spec, 7, 6), td_errors=np.arange(7.0))   # wraps onto slots 6..9, 0..2
    assert len(buf) == 10
    np.testing.assert_allclose(buf.priorities()[[6, 7, 8, 9, 0, 1, 2]],
                               (np.arange(7.0) + 0.01) ** 0.5)
    assert buf.priorities()[3] == pytest.approx(9.01 ** 0.5)      # not overwritten
    buf.add_batch(_batch(spec, 1, 20))          # no TD errors: the largest priority held
    assert buf.priorities()[3] == pytest.approx(buf.priorities().max())
    with pytest.raises(ValueError, match="finite"):
        buf.add_batch(_batch(spec, 2), td_errors=np.array([1.0, np.nan]))


def test_the_buffer_round_trips_into_its_own_slots():
    spec = transition_spec(3, 3)
    for cls in (ReplayBuffer, PrioritizedReplayBuffer):
        buf = cls(10, spec)
        kw = lambda n: {"td_errors": np.random.default_rng(n).normal(size=n)} \
            if cls is PrioritizedReplayBuffer else {}                      # noqa: E731
        buf.add_batch(_batch(spec, 7, 0), **kw(7))
        buf.add_batch(_batch(spec, 7, 7), **kw(7))                         # wrapped
        state = buf.state_dict()
        assert state["replay/rewards"].tolist() == list(range(4, 14))     # oldest first
        other = cls(10, spec)
        other.load_state_dict(state)
        for k in spec:
            np.testing.assert_array_equal(other._data[k], buf._data[k])    # same slots
        assert other._next == buf._next == 4
        if cls is PrioritizedReplayBuffer:
            np.testing.assert_array_equal(other._tree.tree, buf._tree.tree)
            rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
            np.testing.assert_array_equal(buf.sample_indices(8, rng_a, 5),
                                          other.sample_indices(8, rng_b, 5))
    legacy = {k: v for k, v in state.items() if k not in ("replay/next", "replay/priorities")}
    old = PrioritizedReplayBuffer(10, spec)
    old.load_state_dict(legacy)               # a file of a uniform run of earlier versions
    assert len(old) == 10 and np.all(old.priorities() == 1.0)


def test_the_arrays_grow_up_to_the_capacity_keeping_what_they_hold(monkeypatch):
    from sequence_tutor_tf.rl import replay
    monkeypatch.setattr(replay, "INITIAL_SLOTS", 4)
    spec = transition_spec(3, 3)
    for cls in (ReplayBuffer, PrioritizedReplayBuffer):
        buf, whole = cls(13, spec), []
        assert len(buf._data["rewards"]) == 4
        for start in range(0, 30, 3):
            batch = _batch(spec, 3, start)
            whole.append(batch)
            buf.add_batch(batch)
            assert len(buf._data["rewards"]) in (4, 8, 13)
        assert buf.state_dict()["replay/rewards"].tolist() == list(range(17, 30))
        flat = {k: np.concatenate([b[k] for b in whole])[-13:] for k in spec}
        for k in spec:
            np.testing.assert_array_equal(buf.state_dict()[f"replay/{k}"], flat[k])
        small = cls(13, spec)
        small.load_state_dict(buf.state_dict())
        assert len(small._data["rewards"]) == 13 and small._next == buf._next


def _learner(algorithm, packed=False, jit=False, **kw):
    q = NoteRNN([12], name="q")
    return LEARNERS[algorithm](q, q.copy(), q.copy(), packed=packed, jit_compile=jit, **kw)


@pytest.mark.parametrize("algorithm,kw", [("q", {}), ("g", {"mask_terminals": True})])
def test_td_errors_are_the_post_update_q_minus_the_pre_update_target(algorithm, kw):
    learner = _learner(algorithm, **kw)
    rng = np.random.default_rng(0)
    batch = _batch(transition_spec(learner.q_network.state_size,
                                   learner.prior.state_size), 16, rng=rng)
    batch["rewards"] = rng.normal(0, 5, 16).astype(np.float32)
    _, next_values = learner.loss_and_targets(batch)          # target network before the update
    gamma = 0.95 * (1 - batch["terminals"]) if learner.mask_terminals else 0.95
    future = batch["rewards"] + gamma * next_values
    stored = learner.td_errors(batch)                          # no update: the store-time value
    scores, _ = learner.q_network.step_eager(batch["observations"], batch["states"])
    np.testing.assert_allclose(stored, scores.numpy()[np.arange(16), batch["actions"]] - future,
                               rtol=1e-5, atol=1e-5)
    losses, _, td = learner.train({k: v[None] for k, v in batch.items()}, td_errors=True)
    assert td.shape == (1, 16)
    scores, _ = learner.q_network.step_eager(batch["observations"], batch["states"])
    reference = scores.numpy()[np.arange(16), batch["actions"]] - future
    np.testing.assert_allclose(td[0], reference, rtol=1e-5, atol=1e-5)
    assert not np.allclose(td[0], stored)                      # the update moved Q
    assert losses[0] == pytest.approx(np.mean(stored ** 2), rel=1e-4)


@pytest.mark.parametrize("algorithm,kw", [("g", {"train_prior": False, "mask_terminals": True})])
def test_packed_and_per_update_paths_return_the_same_td_errors(algorithm, kw):
    # G reads all three networks (and the terminals); q and psi share its code paths.
    results = []
    for packed in (False, True):
        from sequence_tutor_tf._tf import keras
        keras.utils.set_random_seed(0)
        learner = _learner(algorithm, packed=packed, jit=True, **kw)
        assert (learner._packed is not None) == packed
        spec = transition_spec(learner.q_network.state_size, learner.prior.state_size)
        rng = np.random.default_rng(1)
        batches = {k: np.stack([_batch(spec, 8, rng=rng)[k] for _ in range(6)]) for k in spec}
        batches["rewards"] = rng.normal(0, 30, (6, 8)).astype(np.float32)
        results.append(learner.train(batches, td_errors=True)
                       + tuple(w.numpy() for w in learner.q_network.weights))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)
    assert results[0][2].shape == (6, 8)


def _hp(**kw):
    hp = default_dqn_hparams()
    hp.override_from_dict(dict(dict(minibatch_size=8, max_experience=60, train_every_nth=2),
                               **kw))
    return hp


def _make(base, replay="prioritized"):
    return RLEngine("q", base.copy(name="q"), base.copy(name="prior"), MusicDomain(8), _hp(),
                    num_envs=4, output_every_nth=40, eval_num_trials=4, seed=0, replay=replay)


def test_engine_updates_priorities_and_resumes_exactly(tmp_path):
    base = NoteRNN([8])
    whole = _make(base)
    seen = []
    train = whole.learner.train
    whole.learner.train = lambda b, td_errors=False: seen.append(td_errors) or train(b, td_errors)
    whole.train(200, 100)
    assert seen and all(seen)                    # every update asked for its TD errors
    p = whole.replay.priorities()
    assert len(whole.replay) == 60 and len(np.unique(p)) > 30      # wrapped, priorities vary
    killed = _make(base)

    def checkpoint_then_die(engine):
        run_state.save_train_state(engine, str(tmp_path))
        if engine.pending_updates > 0 and engine.env_steps > 100:
            raise KeyboardInterrupt
    killed.output_callback = checkpoint_then_die
    with pytest.raises(KeyboardInterrupt):
        killed.train(200, 100)
    resumed = _make(base)
    run_state.load_train_state(resumed, str(tmp_path))
    assert 100 < resumed.env_steps < 200
    resumed.train(200 - resumed.env_steps, 100, evaluate_at_start=False,
                  reset_exploration=False)
    for name in run_state.COUNTERS:
        assert getattr(resumed, name) == pytest.approx(getattr(whole, name)), name
    assert resumed.target_val_list == pytest.approx(whole.target_val_list)
    np.testing.assert_array_equal(resumed.replay.priorities(), p)      # exactly the same run
    for k in whole.replay.spec:
        np.testing.assert_array_equal(resumed.replay._data[k], whole.replay._data[k])
    for a, b in zip(resumed.q_network.get_weights(), whole.q_network.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_uniform_engine_is_untouched_and_prioritized_refuses_overlap():
    base = NoteRNN([8])
    uniform = _make(base, "uniform")
    assert type(uniform.replay) is ReplayBuffer and not uniform.prioritized
    with pytest.raises(ValueError, match="overlap_collection"):
        RLEngine("q", base.copy(), base.copy(), MusicDomain(8), _hp(), num_envs=4,
                 replay="prioritized", overlap_collection=True)
    with pytest.raises(ValueError, match="replay"):
        _make(base, "ranked")
