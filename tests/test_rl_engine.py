"""The batched engine: replay, schedule, exploration, policy step, behaviour switches, resume."""
import numpy as np
import pytest

from sequence_tutor_tf.models.note_rnn import NoteRNN
from sequence_tutor_tf.rl import run_dir as run_state
from sequence_tutor_tf.rl.behaviour import OriginalBehaviour
from sequence_tutor_tf.rl.engine import RLEngine
from sequence_tutor_tf.rl.exploration import linear_annealing
from sequence_tutor_tf.rl.hparams import default_dqn_hparams, validate_dqn_hparams
from sequence_tutor_tf.music.domain import MusicDomain
from sequence_tutor_tf.music.priming import RandomNotePrimer
from sequence_tutor_tf.rl.replay import ReplayBuffer
from sequence_tutor_tf.rl.specs import transition_spec


def _hp(**kw):
    hp = default_dqn_hparams()
    hp.override_from_dict(dict(dict(minibatch_size=8, max_experience=500), **kw))
    return hp


def _engine(algorithm="q", num_envs=1, behaviour=None, notes=8, **kw):
    q = NoteRNN([8])
    kw.setdefault("output_every_nth", 10 ** 6)
    kw.setdefault("eval_num_trials", 0)
    return RLEngine(algorithm, q, q.copy(), MusicDomain(notes), kw.pop("hp", _hp()),
                    num_envs=num_envs, behaviour=behaviour, seed=0, **kw)


def test_default_hparams_match_magenta():
    from magenta.models.rl_tuner import rl_tuner_ops
    assert default_dqn_hparams().values() == rl_tuner_ops.default_dqn_hparams().values()


def test_bad_hparams_are_named():
    with pytest.raises(ValueError, match="train_every_nth"):
        validate_dqn_hparams(default_dqn_hparams().override_from_dict({"train_every_nth": 0}))
    with pytest.raises(ValueError, match="exploration_mode"):
        _engine(exploration_mode="softmax")
    with pytest.raises(ValueError, match="num_envs"):
        _engine(num_envs=0)


def _batch(spec, n, start):
    out = {k: np.zeros((n,) + s.shape, s.dtype) for k, s in spec.items()}
    out["rewards"] = np.arange(start, start + n, dtype=np.float32)
    return out


def test_replay_ring_buffer_keeps_newest_and_round_trips():
    spec = transition_spec(4, 4)
    buf = ReplayBuffer(10, spec)
    buf.add_batch(_batch(spec, 7, 0))
    buf.add_batch(_batch(spec, 7, 7))            # wraps: keeps rewards 4..13
    assert len(buf) == 10
    assert sorted(buf._data["rewards"].tolist()) == list(range(4, 14))
    rng = np.random.default_rng(0)
    s = buf.sample(10, rng, num_batches=3)
    assert s["rewards"].shape == (3, 10)
    assert all(len(set(row)) == 10 for row in s["rewards"].tolist())   # without replacement
    other = ReplayBuffer(10, spec)
    other.load_state_dict(buf.state_dict())
    assert other.state_dict()["replay/rewards"].tolist() == list(range(4, 14))
    with pytest.raises(ValueError, match="cannot sample"):
        ReplayBuffer(10, spec).sample(2, rng)


def test_replay_gathers_aligned_arrays_that_the_learner_reads_without_a_copy():
    from sequence_tutor_tf._tf import tf
    from sequence_tutor_tf.utils.tensors import ALIGNMENT, as_tensor, can_share
    spec = transition_spec(4, 6)
    buf = ReplayBuffer(50, spec)
    batch = _batch(spec, 40, 0)
    batch["states"] = np.random.default_rng(0).normal(
        size=(40,) + spec["states"].shape).astype(np.float32)
    buf.add_batch(batch)
    idx = buf.sample_indices(8, np.random.default_rng(1), num_batches=3)
    got = buf.gather(idx)
    for key, values in got.items():
        np.testing.assert_array_equal(values, buf._data[key][idx])
        assert values.ctypes.data % ALIGNMENT == 0 and can_share(values)
    shared = as_tensor(got["states"])
    got["states"][0, 0, 0] = 123.0                    # the tensor sees the array's memory
    assert float(shared[0, 0, 0]) == 123.0
    misaligned = np.zeros(17, np.float32)[1:]         # 4 bytes off: copied, not shared
    assert not can_share(misaligned)
    copied = as_tensor(misaligned)
    misaligned[0] = 5.0
    assert float(copied[0]) == 0.0 and float(tf.reduce_sum(copied)) == 0.0
    with pytest.raises(IndexError, match=r"\[0, 40\)"):
        buf.gather(np.array([[0, 40]]))


def _original_schedule(num_steps, nth, minibatch):
    """magenta's training_step counter, step by step (one transition stored per step)."""
    calls, stored, trained = 0, 0, []
    for i in range(num_steps):
        stored += 1
        if calls % nth == 0:
            if stored < minibatch:
                trained.append(False)
                continue
            trained.append(True)
        else:
            trained.append(False)
        calls += 1
    return trained


def test_n1_update_schedule_is_the_originals():
    eng = _engine()
    done = []
    for _ in range(60):
        info = eng.collect_step(100)
        done.append(eng.updates_due() > 0)
        if info["terminal"]:
            eng.reset_compositions()
    assert done == _original_schedule(60, 5, 8)


def test_batched_engine_keeps_the_update_ratio():
    eng = _engine(num_envs=16)
    eng.train(16 * 40, 100, evaluate_at_start=False)
    assert eng.env_steps == 640
    assert abs(eng.iteration - 640 / 5) <= 2
    ratio = _engine(num_envs=16, updates_per_step=0.5)
    ratio.train(320, 100, evaluate_at_start=False)
    assert 150 <= ratio.iteration <= 160


def test_egreedy_anneals_and_random_notes_skip_last_class():
    eng = _engine(num_envs=4)
    eps = eng._epsilons(4, 100, True)
    assert np.allclose(eps, [linear_annealing(n, 100, 1.0, 0.1) for n in (1, 2, 3, 4)])
    eng.train(64, 10 ** 9, evaluate_at_start=False)       # epsilon ~1: almost all random
    assert eng.replay._data["actions"][:len(eng.replay)].max() < 37
    fixed = RandomNotePrimer(38, exclude_last=False).random_notes(5000, np.random.default_rng(0))
    assert fixed.max() == 37


@pytest.mark.parametrize("credit_greedy", [True, False])
def test_boltzmann_credits_greedy_action_only_when_faithful(credit_greedy):
    eng = _engine(num_envs=32, exploration_mode="boltzmann",
                  behaviour=OriginalBehaviour(credit_greedy_action=credit_greedy))
    eng.train(32 * 8, 10, evaluate_at_start=False)
    n = len(eng.replay)
    acts = eng.replay._data["actions"][:n]
    nxt = eng.replay._data["new_observations"][:n]
    if credit_greedy:
        assert (acts != nxt).any()      # stored greedy action differs from the played note
    else:
        assert (acts == nxt).all()


def test_evaluation_last_step_vs_sum():
    faithful = _engine(num_envs=1, behaviour=OriginalBehaviour())
    fixed = _engine(num_envs=1, behaviour=OriginalBehaviour.fixed())
    faithful.evaluate(16)
    fixed.evaluate(16)
    # The sum over 8 notes of log-probabilities is far more negative than one step's.
    assert fixed.eval_avg_prior_reward[0] < 3 * faithful.eval_avg_prior_reward[0]
    assert faithful.actions_executed_so_far == 16 * 8 and fixed.actions_executed_so_far == 0


def test_terminal_masking_switch():
    eng = _engine(num_envs=4, behaviour=OriginalBehaviour.fixed())
    eng.train(4 * 16, 10, evaluate_at_start=False)
    terms = eng.replay._data["terminals"][:len(eng.replay)]
    assert terms.sum() == 4 * 2           # two finished 8-note compositions per env
    assert eng.learner.mask_terminals and not _engine().learner.mask_terminals


def test_save_and_resume_restores_everything(tmp_path):
    eng = _engine("g", num_envs=4, output_every_nth=40, eval_num_trials=2)
    eng.train(120, 50)
    run_state.save_train_state(eng, str(tmp_path))
    run_state.save_train_state(eng, str(tmp_path))     # same step twice must keep the files
    again = _engine("g", num_envs=4, output_every_nth=40, eval_num_trials=2)
    run_state.load_train_state(again, str(tmp_path))
    for a, b in zip(eng.learner.checkpoint_objects().values(),
                    again.learner.checkpoint_objects().values()):
        for x, y in zip(a.weights if hasattr(a, "weights") else a.variables(),
                        b.weights if hasattr(b, "weights") else b.variables()):
            np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert again.iteration == eng.iteration > 0
    assert again.env_steps == 120 and again.rewards_batched == eng.rewards_batched
    assert len(again.replay) == len(eng.replay)
    assert again.rng.random() == eng.rng.random()
    again.train(40, 50, evaluate_at_start=False, reset_exploration=False)
    assert again.env_steps == 160 and again.iteration > eng.iteration


def test_priming_modes():
    from sequence_tutor_tf.rl.priming import CorpusPrimer, SequencePrimer
    q = NoteRNN([8])
    prior = q.copy()
    rng = np.random.default_rng(0)
    obs, qs, rs = SequencePrimer([14, 1, 16, 1, 18]).prime(3, rng, q, prior)
    assert obs.shape == (3,) and len(set(obs.tolist())) == 1 and np.abs(qs).sum() > 0
    np.testing.assert_allclose(qs, rs, atol=1e-6)        # same weights, same primer
    melodies = [np.array([14, 16, 18, 19]), np.array([21, 1, 0]), np.array([30, 28])]
    primer = CorpusPrimer(melodies, q, rng, independent_prior=False)
    obs, qs, rs = primer.prime(6, rng, q, prior)
    assert qs.shape == (6, q.state_size)
    np.testing.assert_array_equal(qs, rs)
    with pytest.raises(ValueError, match="random_midi"):
        CorpusPrimer([], q, rng)
    with pytest.raises(ValueError, match="midi_primer"):
        SequencePrimer([])


def test_stochastic_observations_with_egreedy_samples_next_note():
    eng = _engine(num_envs=32, stochastic_observations=True)
    eng.train(32 * 8, 1, evaluate_at_start=False)      # epsilon at its floor (0.1)
    n = len(eng.replay)
    acts = eng.replay._data["actions"][:n]
    nxt = eng.replay._data["new_observations"][:n]
    assert (acts != nxt).mean() > 0.3


def test_checkpoint_taken_at_an_output_holds_no_already_recorded_rewards(tmp_path):
    # The tune command checkpoints from the output callback; a run resumed from that
    # checkpoint must not add the window just recorded to its next reward batch again.
    eng = _engine("q", num_envs=4, output_every_nth=40)
    seen = []
    eng.output_callback = lambda e: seen.append(
        (e.reward_last_n, e.task_reward_last_n, e.prior_reward_last_n,
         e.rewards_batched[-1]))
    eng.train(120, 50)
    assert len(seen) == 2 and all(window[:3] == (0.0, 0.0, 0.0) for window in seen)
    assert all(window[3] != 0.0 for window in seen)


def _weights(model):
    return [w.numpy().copy() for w in model.weights]


@pytest.mark.parametrize("algorithm", ["q", "g"])
def test_overlapped_collection_acts_one_update_batch_behind(algorithm):
    """Updates run on a worker thread while the next step is collected; the policy acts with
    the weights after the previous batch of updates, never with half-updated ones."""
    eng = _engine(algorithm, num_envs=8, hp=_hp(train_every_nth=1), overlap_collection=True)
    trained = [_weights(eng.q_network)]                 # after 0, 1, 2, ... learner calls
    train, step = eng.learner.train, eng.policy.step
    seen = []

    def recording_train(batches):
        out = train(batches)
        trained.append(_weights(eng.q_network))
        return out

    def recording_step(*args, **kwargs):
        seen.append((len(trained) - 1 + eng._background.pending, eng._background.pending,
                     _weights(eng.policy.q_network)))
        return step(*args, **kwargs)

    eng.learner.train, eng.policy.step = recording_train, recording_step
    eng.train(8 * 12, 10 ** 9, evaluate_at_start=False)
    overlapped = [(started, acting) for started, pending, acting in seen if pending]
    assert len(overlapped) >= 8                         # collection ran beside the updates
    for started, acting in overlapped:                  # the call before the one in flight
        for a, b in zip(acting, trained[started - 1]):
            np.testing.assert_array_equal(a, b)
    assert eng.policy.q_network is not eng.q_network
    # After train() the acting copy has caught up and nothing is in flight.
    assert not eng._background.pending
    for a, b in zip(_weights(eng.policy.q_network), _weights(eng.q_network)):
        np.testing.assert_array_equal(a, b)
    # G trains the prior (the original's behaviour), so the policy reads a copy of it too.
    assert (eng.policy.prior is eng.prior) == (algorithm != "g")


def test_overlapped_collection_is_reproducible():
    from sequence_tutor_tf._tf import keras
    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(0)        # the same initial weights
        eng = _engine("q", num_envs=8, hp=_hp(train_every_nth=2), overlap_collection=True)
        eng.train(8 * 20, 10 ** 9, evaluate_at_start=False)
        runs.append((_weights(eng.q_network), eng.replay.gather(np.arange(len(eng.replay))),
                     list(eng.target_val_list), eng.iteration))
    (w1, r1, t1, i1), (w2, r2, t2, i2) = runs
    sync = _engine("q", num_envs=8, hp=_hp(train_every_nth=2))
    sync.train(8 * 20, 10 ** 9, evaluate_at_start=False)
    assert i1 == i2 == sync.iteration > 0      # the same number of updates as synchronously
    assert t1 == t2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    for k in r1:
        np.testing.assert_array_equal(r1[k], r2[k])


def test_joint_norm_clipping_equals_tensorflows():
    from sequence_tutor_tf._tf import tf
    from sequence_tutor_tf.rl.learners import clip_by_joint_norm, sum_of_squares
    rng = np.random.default_rng(0)
    for scale in (1e-3, 1.0, 100.0):                 # below and above the clip norm
        grads = [tf.constant(rng.normal(size=s).astype(np.float32) * scale)
                 for s in ((38, 400), (100, 400), (400,))]
        ours = clip_by_joint_norm(grads, 5.0)
        theirs, _ = tf.clip_by_global_norm(grads, 5.0)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-9)
        assert float(sum_of_squares(grads[1])) == pytest.approx(
            float(np.sum(grads[1].numpy().astype(np.float64) ** 2)), rel=1e-5)
    zeros = clip_by_joint_norm([tf.zeros((3, 4))], 5.0)      # no division by zero
    assert np.all(zeros[0].numpy() == 0)


def test_a_run_killed_after_an_output_checkpoint_resumes_the_uninterrupted_run(tmp_path):
    """The checkpoint at an output precedes that step's updates: it records them as pending and
    the resumed run runs them, so counters, histories and weights equal one run's."""
    base = NoteRNN([8])

    def make():
        q = base.copy(name="q")
        return RLEngine("q", q, base.copy(name="prior"), MusicDomain(8), _hp(train_every_nth=2),
                        num_envs=4,
                        output_every_nth=40, eval_num_trials=4, seed=0)

    whole = make()
    whole.train(200, 100)
    killed, saved = make(), []

    def checkpoint_then_die(engine):
        run_state.save_train_state(engine, str(tmp_path))
        saved.append(engine.pending_updates)
        if engine.pending_updates > 0:
            raise KeyboardInterrupt

    killed.output_callback = checkpoint_then_die
    with pytest.raises(KeyboardInterrupt):
        killed.train(200, 100)
    assert saved[-1] > 0 and killed.env_steps < 200   # killed before its step's updates
    resumed = make()
    run_state.load_train_state(resumed, str(tmp_path))
    resumed.train(200 - resumed.env_steps, 100, evaluate_at_start=False,
                  reset_exploration=False)
    for name in run_state.COUNTERS:
        assert getattr(resumed, name) == pytest.approx(getattr(whole, name)), name
    for name in run_state.HISTORIES:
        assert getattr(resumed, name) == pytest.approx(getattr(whole, name)), name
    for a, b in zip(resumed.q_network.get_weights(), whole.q_network.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
