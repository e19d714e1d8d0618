"""Each on-policy loss's gradient against a hand-computed NumPy value on a tiny batch, and the
NumPy parts of the learners (returns, baselines, GAE, the KL controller, q's sampler) against
explicit loops."""
import numpy as np
import pytest

import sequence_tutor_tf  # noqa: F401
from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.rl.onpolicy import losses, returns
from sequence_tutor_tf.rl.onpolicy.edit_sampler import sample_edits, substitution_probability
from sequence_tutor_tf.rl.onpolicy.kl_controller import KLController

N, T, V = 3, 4, 5


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.fixture
def batch():
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(N, T, V)).astype(np.float32)
    actions = rng.integers(0, V, size=(N, T)).astype(np.int32)
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 1, 0]], np.float32)
    return logits, actions, mask, rng


def _grad(fn, *variables):
    vs = [tf.Variable(v) for v in variables]
    with tf.GradientTape() as tape:
        out = fn(*vs)
        loss = out[0] if isinstance(out, tuple) else out
    return [g.numpy() for g in tape.gradient(loss, vs)]


def _dlogp(logits, actions):
    """d log softmax(logits)[a] / d logits = onehot(a) - softmax(logits)."""
    return np.eye(V, dtype=np.float32)[actions] - _softmax(logits)


def test_reinforce_gradient(batch):
    logits, actions, mask, rng = batch
    adv = rng.normal(size=(N, T)).astype(np.float32)
    (g,) = _grad(lambda l: losses.reinforce_loss(l, actions, mask, adv), logits)
    expected = -(mask * adv)[..., None] * _dlogp(logits, actions) / N
    np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-6)


def test_ppo_gradient(batch):
    logits, actions, mask, rng = batch
    logp = np.log(_softmax(logits)[np.arange(N)[:, None], np.arange(T)[None], actions])
    # Old log-probabilities chosen so that some ratios fall outside [0.8, 1.2].
    old = (logp + rng.choice([-0.5, 0.0, 0.05, 0.5], size=(N, T))).astype(np.float32)
    adv = rng.normal(size=(N, T)).astype(np.float32)
    values = rng.normal(size=(N, T)).astype(np.float32)
    old_values = (values + rng.choice([-0.5, 0.1, 0.5], size=(N, T))).astype(np.float32)
    rets = rng.normal(size=(N, T)).astype(np.float32)
    g_logits, g_values = _grad(
        lambda l, v: losses.ppo_loss(l, v, actions, mask, old, old_values, adv, rets, 0.2, 0.2,
                                     0.1), logits, values)
    count = mask.sum()
    ratio = np.exp(logp - old)
    clipped = np.clip(ratio, 0.8, 1.2)
    # The max picks the unclipped term unless the clipped one is larger; only the unclipped
    # term depends on the logits (the clipped one is flat outside the band).
    unclipped_active = (-adv * ratio >= -adv * clipped) | (clipped == ratio)
    dpg = np.where(unclipped_active, -adv * ratio, 0.0) * mask / count
    expected_logits = dpg[..., None] * _dlogp(logits, actions)
    np.testing.assert_allclose(g_logits, expected_logits, rtol=1e-4, atol=1e-6)
    v_clip = old_values + np.clip(values - old_values, -0.2, 0.2)
    use_unclipped = (values - rets) ** 2 >= (v_clip - rets) ** 2
    inside = np.abs(values - old_values) < 0.2
    dv = np.where(use_unclipped, 2 * (values - rets), np.where(inside, 2 * (v_clip - rets), 0))
    expected_values = 0.1 * 0.5 * dv * mask / count
    np.testing.assert_allclose(g_values, expected_values, rtol=1e-4, atol=1e-6)
    assert 0 < (~unclipped_active & (mask > 0)).sum() < mask.sum()   # both branches are tested


def test_dap_gradient(batch):
    logits, actions, mask, rng = batch
    prior_ll = rng.normal(-5, 1, size=N).astype(np.float32)
    scores = rng.random(N).astype(np.float32)
    sigma = 128.0
    (g,) = _grad(lambda l: losses.dap_loss(l, actions, mask, prior_ll, scores, sigma), logits)
    logp = np.log(_softmax(logits)[np.arange(N)[:, None], np.arange(T)[None], actions])
    agent = (logp * mask).sum(1)
    residual = prior_ll + sigma * scores - agent
    expected = (-2.0 / N * residual)[:, None, None] * mask[..., None] * _dlogp(logits, actions)
    np.testing.assert_allclose(g, expected, rtol=1e-4, atol=1e-4)
    loss, _ = losses.dap_loss(tf.constant(logits), actions, mask, prior_ll, scores, sigma)
    np.testing.assert_allclose(float(loss), np.mean(residual ** 2), rtol=1e-5)


def test_raml_gradient(batch):
    logits, actions, mask, _ = batch
    (g,) = _grad(lambda l: losses.raml_loss(l, actions, mask), logits)
    expected = -mask[..., None] * _dlogp(logits, actions) / mask.sum()
    np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-6)


def test_returns_baseline_and_gae_against_loops(batch):
    _, _, mask, rng = batch
    r = rng.normal(size=(N, T)).astype(np.float32) * mask
    to_go = returns.rewards_to_go(r)
    for i in range(N):
        for t in range(T):
            assert np.isclose(to_go[i, t], r[i, t:].sum())
    b = returns.leave_one_out_baseline(to_go, mask)
    for i in range(N):
        for t in range(T):
            others = [to_go[j, t] for j in range(N) if j != i and mask[j, t]]
            want = np.mean(others) if mask[i, t] and others else 0.0
            assert np.isclose(b[i, t], want), (i, t)
    values = rng.normal(size=(N, T)).astype(np.float32)
    adv, ret = returns.gae(r, values, mask, gamma=0.9, lam=0.8)
    for i in range(N):
        n = int(mask[i].sum())
        v = list(values[i, :n]) + [0.0]
        a = 0.0
        for t in reversed(range(n)):
            a = r[i, t] + 0.9 * v[t + 1] - v[t] + 0.9 * 0.8 * a
            assert np.isclose(adv[i, t], a, atol=1e-5) and np.isclose(ret[i, t], a + v[t])
    assert np.all(adv[mask == 0] == 0)


def test_kl_penalised_reward_is_the_kl_control_reward():
    task, logpi, logp = np.array([[1.0, 2.0]]), np.array([[-1.0, -0.5]]), np.array([[-2.0, -1.0]])
    got = returns.kl_penalised_rewards(task, logpi, logp, np.ones((1, 2)), 2.0, 0.5)
    np.testing.assert_allclose(got, [[2.0 - 0.5 * 1.0, 4.0 - 0.5 * 0.5]])


def test_adaptive_kl_controller_follows_ziegler():
    fixed = KLController(0.2)
    assert fixed.update(100.0, 64) == pytest.approx(0.2)
    ctl = KLController(0.2, adaptive=True, target=6.0, horizon=10000)
    assert ctl.update(12.0, 256) == pytest.approx(0.2 * (1 + 0.2 * 256 / 10000))  # clipped
    assert ctl.update(6.0 * 0.9, 256) == pytest.approx(
        0.2 * (1 + 0.2 * 256 / 10000) * (1 - 0.1 * 256 / 10000))


def test_edit_sampler_matches_the_exponentiated_payoff():
    rng = np.random.default_rng(0)
    tau, allowed, length = 0.5, np.arange(6), 8
    targets = np.tile(np.array([0, 1, 2, 3, 4, 5, 0, 1], np.int32), (20000, 1))
    samples, dist = sample_edits(targets, np.full(20000, length), allowed, tau, rng)
    assert np.array_equal(dist, (samples != targets).sum(1))        # distance as drawn
    assert set(np.unique(samples)) <= set(allowed)
    p = substitution_probability(tau, 6)
    assert p == pytest.approx(5 * np.exp(-2) / (1 + 5 * np.exp(-2)))
    # q(y) ∝ exp(-d/tau): the distance's law is C(L, e) (V-1)^e exp(-e/tau) normalised.
    from math import comb
    w = np.array([comb(length, e) * 5 ** e * np.exp(-e / tau) for e in range(length + 1)])
    expected = w / w.sum()
    observed = np.bincount(dist, minlength=length + 1) / len(dist)
    np.testing.assert_allclose(observed, expected, atol=0.01)
    # EOS at a row's end is never edited.
    eos_rows = np.array([[1, 2, 0, 4]] * 50, np.int32)
    out, _ = sample_edits(eos_rows, np.full(50, 3), np.arange(5), 2.0, rng, eos=0)
    assert np.all(out[:, 2] == 0) and np.all(out[:, 3] == 4) and np.all(out[:, :2] != 0)
