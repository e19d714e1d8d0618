"""The four losses as pure functions of the networks' outputs on whole sequences.

Kept apart from the learners so that each gradient can be checked against a hand-computed
NumPy value on a tiny batch (tests/test_baselines_gradients.py). Shapes: logits [N, T, V],
actions and mask [N, T] (mask 1.0 at the tokens a row played), per-row values [N].
"""
from sequence_tutor_tf._tf import tf


def token_logps(logits, actions):
    """log softmax(logits)[a_t] per token, [N, T]."""
    return tf.reduce_sum(tf.nn.log_softmax(logits) * tf.one_hot(actions, tf.shape(logits)[-1]),
                         axis=-1)


def reinforce_loss(logits, actions, mask, advantages):
    """Score-function loss -sum_t A_t log pi(a_t | s_t), averaged over sequences.

    Its gradient is the REINFORCE estimator of the objective whose per-token return-to-go,
    baseline subtracted, is `advantages` (held constant)."""
    n = tf.cast(tf.shape(actions)[0], tf.float32)
    return -tf.reduce_sum(mask * tf.stop_gradient(advantages) * token_logps(logits, actions)) / n


def ppo_loss(logits, values, actions, mask, old_logps, old_values, advantages, returns,
             cliprange=0.2, cliprange_value=0.2, vf_coef=0.1):
    """TRL's PPO loss: clipped surrogate + vf_coef * clipped value loss, token means.

    Returns (loss, policy loss, value loss, fraction of tokens clipped)."""
    count = tf.maximum(tf.reduce_sum(mask), 1.0)
    logp = token_logps(logits, actions)
    ratio = tf.exp(logp - old_logps)
    pg1 = -advantages * ratio
    pg2 = -advantages * tf.clip_by_value(ratio, 1.0 - cliprange, 1.0 + cliprange)
    pg_loss = tf.reduce_sum(mask * tf.maximum(pg1, pg2)) / count
    v_clipped = old_values + tf.clip_by_value(values - old_values, -cliprange_value,
                                              cliprange_value)
    vf = tf.maximum(tf.square(values - returns), tf.square(v_clipped - returns))
    vf_loss = 0.5 * tf.reduce_sum(mask * vf) / count
    clipfrac = tf.reduce_sum(mask * tf.cast(pg2 > pg1, tf.float32)) / count
    return pg_loss + vf_coef * vf_loss, pg_loss, vf_loss, clipfrac


def dap_loss(logits, actions, mask, prior_loglik, scores, sigma):
    """REINVENT's loss: mean over sequences of (log p_prior(y) + sigma * S(y) - log pi(y))^2.

    Returns (loss, agent log-likelihoods [N])."""
    agent = tf.reduce_sum(mask * token_logps(logits, actions), axis=1)
    augmented = tf.stop_gradient(prior_loglik + sigma * scores)
    return tf.reduce_mean(tf.square(augmented - agent)), agent


def raml_loss(logits, actions, mask):
    """Maximum likelihood of the sequences drawn from q(y | y*): token-mean NLL."""
    count = tf.maximum(tf.reduce_sum(mask), 1.0)
    return -tf.reduce_sum(mask * token_logps(logits, actions)) / count
