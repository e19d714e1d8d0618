"""The acting half of the RL Tuner as one compiled call per batch step.

`RolloutPolicy.step` advances the Q network and the prior (the Reward RNN) by one token for all N
sequences, picks actions and next observations the way the original's `action()` does, and
returns log p(next observation) under the prior, with the exact KL(policy || prior) and entropy
of the policy's softmax at that step (diagnostics of KL-regularised tuning). Randomness comes in
as uniform draws from the engine's NumPy generator, so a run is repeatable and resumable from a
saved RNG state. A domain's action mask removes forbidden actions from the scores.
"""
from typing import NamedTuple

from sequence_tutor_tf._tf import tf


class PolicyStep(NamedTuple):
    """What one policy step returns, each with leading dimension N."""
    action: object          # the action stored in the replay (int32)
    next_obs: object        # the token played (int32)
    q_state: object         # the Q network's state after the step
    r_state: object         # the prior's state after the step
    logp: object            # log p(next_obs) under the prior
    probs: object           # softmax of the action scores
    prior_logits: object    # the prior's logits (the original's reward_scores)
    kl: object              # KL(softmax(scores) || prior), nats, per row
    entropy: object         # entropy of softmax(scores), nats, per row


def policy_scores(q_logits, prior_logits, add_prior, action_mask=None):
    """What the policy's softmax is taken over: Q, or Q + prior logits for G-learning (the
    original samples softmax(Q + reward_scores)), with forbidden actions at -inf. The one
    definition the engine, evaluation and export share."""
    scores = q_logits + prior_logits if add_prior else q_logits
    if action_mask is not None:
        scores = tf.where(action_mask[None, :], scores, tf.constant(-float("inf"), scores.dtype))
    return scores


def kl_and_entropy(scores, log_prior):
    """Exact KL(softmax(scores) || prior) and entropy of softmax(scores) per row, in nats;
    actions of probability 0 (masked) contribute nothing."""
    log_p = tf.nn.log_softmax(scores)
    p = tf.exp(log_p)
    live = p > 0
    zero = tf.zeros_like(p)
    kl = tf.reduce_sum(tf.where(live, p * (log_p - log_prior), zero), axis=1)
    entropy = -tf.reduce_sum(tf.where(live, p * log_p, zero), axis=1)
    return kl, entropy


class RolloutPolicy:
    """Args:
      q_network, prior: NoteRNN-like models (prior = Reward RNN).
      add_prior_to_scores: G-learning acts on Q + prior logits.
      sample_next_obs: the next observation is sampled from softmax(scores) (boltzmann or
        stochastic_observations) instead of being the greedy action.
      credit_greedy_action: the stored action is the greedy one even when the observation was
        sampled (the original); False stores the token actually played.
      action_mask: bool [num_actions], False for actions the domain forbids (None: none).
    """

    def __init__(self, q_network, prior, add_prior_to_scores=False, sample_next_obs=False,
                 credit_greedy_action=True, jit_compile=False, action_mask=None):
        self.q_network = q_network
        self.prior = prior
        self.add_prior_to_scores = bool(add_prior_to_scores)
        self.sample_next_obs = bool(sample_next_obs)
        self.credit_greedy_action = bool(credit_greedy_action)
        self.action_mask = None if action_mask is None else tf.constant(action_mask, tf.bool)
        self._step = tf.function(self._step_impl, jit_compile=jit_compile)

    def scores(self, observations, q_state, r_state):
        """The scores the policy acts on (policy_scores), the prior's logits and new states."""
        q_logits, q_new = self.q_network.step_eager(observations, q_state)
        r_logits, r_new = self.prior.step_eager(observations, r_state)
        scores = policy_scores(q_logits, r_logits, self.add_prior_to_scores, self.action_mask)
        return scores, r_logits, q_new, r_new

    def _step_impl(self, observations, q_state, r_state, explore_u, random_notes, sample_u,
                   epsilon, sample_next_obs):
        scores, r_logits, q_new, r_new = self.scores(observations, q_state, r_state)
        greedy = tf.argmax(scores, axis=1, output_type=tf.int32)
        probs = tf.nn.softmax(scores)
        cdf = tf.cumsum(probs, axis=1)
        sampled = tf.reduce_sum(tf.cast(cdf < sample_u[:, None] * cdf[:, -1:], tf.int32), axis=1)
        sampled = tf.minimum(sampled, tf.shape(scores)[1] - 1)
        next_obs = tf.where(sample_next_obs, sampled, greedy)
        action = greedy if self.credit_greedy_action else next_obs
        explore = explore_u < epsilon
        action = tf.where(explore, random_notes, action)
        next_obs = tf.where(explore, random_notes, next_obs)
        log_prior = tf.nn.log_softmax(r_logits)
        logp = tf.gather(log_prior, next_obs, axis=1, batch_dims=1)
        kl, entropy = kl_and_entropy(scores, log_prior)
        return action, next_obs, q_new, r_new, logp, probs, r_logits, kl, entropy

    def step(self, observations, q_state, r_state, explore_u, random_notes, sample_u, epsilon,
             sample_next_obs=None):
        """All arrays have leading dimension N; epsilon is [N] (0 disables random actions)."""
        flag = self.sample_next_obs if sample_next_obs is None else bool(sample_next_obs)
        return PolicyStep(*self._step(
            tf.convert_to_tensor(observations, tf.int32), tf.convert_to_tensor(q_state),
            tf.convert_to_tensor(r_state), tf.convert_to_tensor(explore_u, tf.float32),
            tf.convert_to_tensor(random_notes, tf.int32),
            tf.convert_to_tensor(sample_u, tf.float32), tf.convert_to_tensor(epsilon, tf.float32),
            tf.constant(flag)))
