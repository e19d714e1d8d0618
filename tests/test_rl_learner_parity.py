"""Parity of the Q, Psi, G and pure_rl learners with magenta's RLTuner graph (the oracle).

Both get the same Note RNN checkpoint and the same minibatches; loss, target values and every
weight of the Q network, target network and Reward RNN must agree after each of three Adam steps.
Rewards are large so that gradient clipping (per TF1 variable) is exercised.
"""
import numpy as np
import pytest

from sequence_tutor_tf.rl.behaviour import OriginalBehaviour
from sequence_tutor_tf.rl.hparams import default_dqn_hparams
from sequence_tutor_tf.rl.learners import make_learner
from tests import rl_magenta_oracle as oracle

NUM_CLASSES = 38
TOL = 1e-5


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return oracle.make_magenta_checkpoint(str(tmp_path_factory.mktemp("magenta_ckpt")))


def _minibatches(num, batch, state_size, seed=1):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(num):
        out.append({
            "observations": rng.integers(0, NUM_CLASSES, batch).astype(np.int32),
            "states": rng.normal(0, 0.5, (batch, state_size)).astype(np.float32),
            "actions": rng.integers(0, NUM_CLASSES, batch).astype(np.int32),
            "rewards": rng.normal(0, 30.0, batch).astype(np.float32),
            "new_observations": rng.integers(0, NUM_CLASSES, batch).astype(np.int32),
            "new_states": rng.normal(0, 0.5, (batch, state_size)).astype(np.float32),
            "new_reward_states": rng.normal(0, 0.5, (batch, state_size)).astype(np.float32),
            "terminals": np.zeros(batch, np.float32),
        })
    return out


def _oracle_step(rlt, b):
    eye = np.eye(NUM_CLASSES, dtype=np.float32)
    n = len(b["rewards"])
    ones = np.ones(n, dtype=int)
    feed = {
        rlt.q_network.melody_sequence: eye[b["observations"]][:, None],
        rlt.q_network.initial_state: b["states"], rlt.q_network.lengths: ones,
        rlt.target_q_network.melody_sequence: eye[b["new_observations"]][:, None],
        rlt.target_q_network.initial_state: b["new_states"],
        rlt.target_q_network.lengths: ones,
        rlt.action_mask: eye[b["actions"]], rlt.rewards: b["rewards"]}
    if rlt.algorithm == "g":
        feed.update({rlt.reward_rnn.melody_sequence: eye[b["new_observations"]][:, None],
                     rlt.reward_rnn.initial_state: b["new_reward_states"],
                     rlt.reward_rnn.lengths: ones})
    loss, _, target_vals = rlt.session.run(
        [rlt.prediction_error, rlt.train_op, rlt.target_vals], feed)
    rlt.session.run(rlt.target_network_update)
    return loss, target_vals


def _assert_weights(ours, theirs, what):
    for a, b in zip(ours.get_weights(), theirs):
        np.testing.assert_allclose(a, b, atol=TOL, rtol=TOL, err_msg=what)


@pytest.mark.parametrize("algorithm,jit,packed", [
    ("q", False, None), ("psi", False, None), ("g", False, None), ("pure_rl", False, None),
    ("g", True, None), ("q", True, True), ("psi", True, True), ("g", True, True)])
def test_learner_matches_magenta(algorithm, jit, packed, checkpoint, tmp_path):
    """jit=True: the XLA-compiled update the CLI uses by default; packed=True: its loop for
    many updates per call (packed_updates.py), here forced for single updates."""
    hp = default_dqn_hparams()
    hp.discount_rate = 0.5
    hp.target_network_update_rate = 0.1        # large, so the soft update is visible
    rlt = oracle.build_magenta_rl_tuner(checkpoint, str(tmp_path), algorithm=algorithm,
                                        dqn_hparams=hp)
    q = oracle.load_keras_from_checkpoint(checkpoint)
    learner = make_learner(algorithm, q, q.copy(), q.copy(), hp, OriginalBehaviour(),
                           jit_compile=jit, packed=packed)
    assert packed is None or learner._packed is not None
    prior_before = [w.copy() for w in learner.prior.get_weights()]

    for step, batch in enumerate(_minibatches(3, 16, q.state_size)):
        _, our_targets = learner.loss_and_targets(batch)
        loss, target_mean = learner.train_one(batch)
        their_loss, their_targets = _oracle_step(rlt, batch)
        np.testing.assert_allclose(our_targets, their_targets, atol=TOL, rtol=TOL)
        np.testing.assert_allclose(loss, their_loss, rtol=TOL)
        np.testing.assert_allclose(target_mean, np.mean(their_targets), atol=TOL, rtol=TOL)
        _assert_weights(learner.q_network, oracle.magenta_network_weights(rlt, rlt.q_network),
                        f"{algorithm} q_network after step {step}")
        _assert_weights(learner.target_network,
                        oracle.magenta_network_weights(rlt, rlt.target_q_network),
                        f"{algorithm} target after step {step}")
        _assert_weights(learner.prior, oracle.magenta_network_weights(rlt, rlt.reward_rnn),
                        f"{algorithm} reward_rnn after step {step}")
    prior_moved = any(not np.allclose(a, b) for a, b in
                      zip(prior_before, learner.prior.get_weights()))
    assert prior_moved == (algorithm == "g")     # the original's G trains its prior
    rlt.session.close()


def test_g_prior_frozen_when_fixed(checkpoint):
    q = oracle.load_keras_from_checkpoint(checkpoint)
    hp = default_dqn_hparams()
    learner = make_learner("g", q, q.copy(), q.copy(), hp, OriginalBehaviour.fixed())
    before = [w.copy() for w in learner.prior.get_weights()]
    for batch in _minibatches(2, 8, q.state_size):
        learner.train_one(batch)
    for a, b in zip(before, learner.prior.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(before[0], learner.q_network.get_weights()[0])


def test_clipping_layout_matters_with_large_gradients(checkpoint):
    """Joint clipping of the LSTM kernels (TF1 layout) differs from per-Keras-variable clipping.

    Adam's first step is invariant to gradient scale, so it takes several steps to show."""
    results = []
    for joint in (True, False):
        q = oracle.load_keras_from_checkpoint(checkpoint)
        b = OriginalBehaviour(clip_lstm_kernels_jointly=joint)
        learner = make_learner("q", q, q.copy(), q.copy(), default_dqn_hparams(), b)
        for batch in _minibatches(4, 16, q.state_size, seed=3):
            learner.train_one(batch)
        results.append(learner.q_network.get_weights()[0])
    assert np.abs(results[0] - results[1]).max() > 1e-5
