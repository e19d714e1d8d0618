"""The packed update loop (weights carried as loop values in TF1's layout) equals the
per-update variable path it replaces: losses, targets, weights, Adam slots and step count."""
import numpy as np
import pytest

from sequence_tutor_tf._tf import keras, tf
from sequence_tutor_tf.models.note_rnn import NoteRNN
from sequence_tutor_tf.rl.learners import LEARNERS, sum_of_squares, taken_scores
from sequence_tutor_tf.rl.specs import TRANSITION_FIELDS


def _batches(k, b, state_size, seed):
    rng = np.random.default_rng(seed)
    ints = lambda: rng.integers(0, 38, (k, b)).astype(np.int32)
    states = lambda: rng.normal(0, 0.5, (k, b, state_size)).astype(np.float32)
    return {"observations": ints(), "states": states(), "actions": ints(),
            # Large rewards: the gradients exceed the clip norm, so clipping is exercised.
            "rewards": rng.normal(0, 30.0, (k, b)).astype(np.float32),
            "new_observations": ints(), "new_states": states(), "new_reward_states": states(),
            "terminals": (rng.random((k, b)) < 0.2).astype(np.float32)}


def _pair(algorithm, sizes, **kw):
    learners = []
    for packed in (False, True):
        q = NoteRNN(sizes, name="q")
        learners.append(LEARNERS[algorithm](q, q.copy(), q.copy(), packed=packed, **kw))
    plain, packed = learners
    for a, b in zip(_all_weights(plain), _all_weights(packed)):
        b.assign(a)
    return plain, packed


def _all_weights(learner):
    return learner.q_network.weights + learner.target_network.weights + learner.prior.weights


@pytest.mark.parametrize("algorithm,sizes,kw", [
    ("q", [16], {}),
    ("psi", [16], {"mask_terminals": True}),
    ("g", [12, 8], {"train_prior": True}),                 # the original's G: prior trained
    ("g", [16], {"train_prior": False}),
    ("q", [16], {"joint_lstm_clipping": False}),
])
def test_packed_updates_equal_per_update_variables(algorithm, sizes, kw):
    plain, packed = _pair(algorithm, sizes, jit_compile=True, **kw)
    assert plain._packed is None and packed._packed is not None
    before = [w.numpy() for w in _all_weights(packed)]
    for call in range(2):
        batch = {f: v for f, v in _batches(12, 8, plain.q_network.state_size, call).items()
                 if f in plain.fields}
        for ours, theirs in zip(packed.train(batch), plain.train(batch)):
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
    assert int(packed.optimizer.iterations.numpy()) == int(plain.optimizer.iterations.numpy()) \
        == 24
    for a, b in zip(_all_weights(packed), _all_weights(plain)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5, err_msg=a.name)
    for a, b in zip(packed.trainable_variables, plain.trainable_variables):
        for slot in ("m", "v"):
            np.testing.assert_allclose(packed.optimizer.get_slot(a, slot).numpy(),
                                       plain.optimizer.get_slot(b, slot).numpy(),
                                       rtol=1e-5, atol=1e-7, err_msg=f"{a.name} {slot}")
    moved = [not np.allclose(a, b.numpy()) for a, b in zip(before, _all_weights(packed))]
    n = len(packed.q_network.weights)
    assert all(moved[:2 * n])                               # Q network and target
    assert any(moved[2 * n:]) == packed.train_prior         # the prior only when trained


def test_packed_is_the_default_where_supported_and_explains_where_not():
    q = NoteRNN([8])
    assert LEARNERS["q"](q, q.copy(), q.copy(), jit_compile=True)._packed is not None
    assert LEARNERS["q"](q, q.copy(), q.copy(), jit_compile=False)._packed is None  # slower
    sgd = keras.optimizers.legacy.SGD(0.1)
    assert LEARNERS["q"](q, q.copy(), q.copy(), optimizer=sgd, jit_compile=True)._packed is None
    with pytest.raises(ValueError, match="default Adam"):
        LEARNERS["q"](q, q.copy(), q.copy(), optimizer=sgd, packed=True)


def test_sum_of_squares_of_packed_and_plain_shapes():
    rng = np.random.default_rng(0)
    for shape in [(138, 400), (400,), (100, 38)]:
        t = rng.normal(size=shape).astype(np.float32)
        assert float(sum_of_squares(tf.constant(t))) == pytest.approx(
            float(np.sum(t.astype(np.float64) ** 2)), rel=1e-5)


def test_taken_scores_equal_gather_in_value_and_gradient():
    rng = np.random.default_rng(1)
    scores = rng.normal(scale=30.0, size=(32, 38)).astype(np.float32)
    scores[0, 5], scores[1, 7] = np.inf, -np.inf       # not taken: must not leak into row sums
    actions = rng.integers(0, 38, size=32).astype(np.int32)
    actions[0], actions[1], actions[2] = 4, 6, 37
    scores_t = tf.constant(scores)
    weights = tf.constant(rng.normal(size=32).astype(np.float32))
    results = []
    for pick in (taken_scores,
                 lambda s, a: tf.gather(s, a, axis=1, batch_dims=1)):
        with tf.GradientTape() as tape:
            tape.watch(scores_t)
            taken = pick(scores_t, tf.constant(actions))
            loss = tf.reduce_sum(weights * taken)
        results.append((taken.numpy(), tape.gradient(loss, scores_t).numpy()))
    np.testing.assert_array_equal(results[0][0], scores[np.arange(32), actions])
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_fields_cover_the_spec():
    assert set(_batches(1, 1, 4, 0)) == set(TRANSITION_FIELDS)
