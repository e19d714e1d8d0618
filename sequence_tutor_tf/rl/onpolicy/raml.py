"""Reward-augmented maximum likelihood (Norouzi et al. 2016) around training sequences.

Payoff r(y, y*) = -d_H(y, y*) + tau * task_weight * reward_scaler * R(y): Hamming distance to
a training sequence y* plus the domain's task reward R (summed over y's tokens), so that
q(y | y*) ∝ exp(r / tau) = exp(-d_H / tau) * exp(task_weight * reward_scaler * R(y)): the
data's neighbourhood tilted by the same exp(R / c) that KL-control's optimum applies to the
prior. Sampling: `proposals` draws from the exact edit-distance part (edit_sampler.py), scored
by the task reward (these are the environment steps RAML spends), and one kept per target by
importance resampling with weights exp(task_weight * reward_scaler * R). The update is MLE on
the kept sequences: stationary targets, no sample from the policy.
"""
import numpy as np

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.rl.onpolicy import losses
from sequence_tutor_tf.rl.onpolicy.base import SequenceLearner, as_tensors
from sequence_tutor_tf.rl.onpolicy.edit_sampler import sample_edits


def resample(totals, weight, rng):
    """Index (in 0..K-1) per row of totals [N, K], drawn with probability ∝ exp(weight * R)."""
    logits = weight * (totals - totals.max(1, keepdims=True))
    p = np.exp(logits)
    p /= p.sum(1, keepdims=True)
    u = rng.random((len(p), 1))
    return np.minimum((np.cumsum(p, 1) < u).sum(1), p.shape[1] - 1)


class RAMLLearner(SequenceLearner):
    algorithm = "raml"

    def __init__(self, *args, reward_scaler=1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.reward_scaler = float(reward_scaler)
        self._update = self.compile(self._update_impl)

    def propose(self, targets, lengths, allowed, rng, eos=None):
        """[K, N, T] candidate sequences from the edit-distance part of q."""
        return np.stack([sample_edits(targets, lengths, allowed, self.hparams.tau, rng, eos)[0]
                         for _ in range(int(self.hparams.proposals))])

    def choose(self, proposals, task_rewards, mask, rng):
        """(sequences [N, T], their task rewards [N, T]): one proposal per target, by SIR."""
        k, n = proposals.shape[:2]
        totals = (task_rewards * mask[None]).sum(-1).T          # [N, K]
        pick = resample(totals, self.hparams.task_weight * self.reward_scaler, rng)
        rows = np.arange(n)
        return proposals[pick, rows], task_rewards[pick, rows]

    def _update_impl(self, first, q_state, r_state, actions, mask):
        with tf.GradientTape() as tape:
            logits = self.sequence_logits(self.q_network, first, q_state, actions)
            loss = losses.raml_loss(logits, actions, mask)
        self.apply_gradients(tape, loss)
        # Diagnostics on the training samples: the prior's log p of each token, and the exact
        # KL(pi || prior) and entropy of the policy at each of their states.
        prior_logits = self.sequence_logits(self.prior, first, r_state, actions)
        log_pi, log_prior = tf.nn.log_softmax(logits), tf.nn.log_softmax(prior_logits)
        pi = tf.exp(log_pi)
        kl = tf.reduce_sum(pi * (log_pi - log_prior), -1)
        entropy = -tf.reduce_sum(pi * log_pi, -1)
        return loss, losses.token_logps(prior_logits, actions), kl, entropy

    def train(self, batch, rng=None):
        t = as_tensors({k: batch[k] for k in ("first", "q_state", "r_state", "actions",
                                              "mask")})
        loss, prior_logps, kl, entropy = self._update(t["first"], t["q_state"], t["r_state"],
                                                      t["actions"], t["mask"])
        return {"loss": float(loss), "prior_logps": prior_logps.numpy(), "kls": kl.numpy(),
                "entropies": entropy.numpy()}
