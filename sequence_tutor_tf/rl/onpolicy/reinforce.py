"""REINFORCE with a per-token KL(policy || prior) penalty and a leave-one-out baseline.

The conventional recipe for tuning a language model toward a reward while staying near the
reference (Ziegler et al. 2019's reward, RLOO's baseline): one gradient step per batch of N
sequences sampled from the current policy. With kl_coef = 1 and reward_scaler = 1/c it
maximises the paper's KL-control objective, so it is the on-policy twin of Psi / G-learning.
"""
import numpy as np

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.rl.onpolicy import losses, returns
from sequence_tutor_tf.rl.onpolicy.base import SequenceLearner, as_tensors


class ReinforceKLLearner(SequenceLearner):
    algorithm = "reinforce_kl"

    def __init__(self, *args, reward_scaler=1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.reward_scaler = float(reward_scaler)
        self._update = self.compile(self._update_impl)

    def advantages(self, batch):
        """(per-token KL-penalised rewards, advantages) of a collected batch (NumPy)."""
        rewards = returns.kl_penalised_rewards(
            batch["task_rewards"], batch["policy_logps"], batch["prior_logps"], batch["mask"],
            self.reward_scaler, self.hparams.kl_coef)
        to_go = returns.rewards_to_go(rewards)
        adv = (to_go - returns.leave_one_out_baseline(to_go, batch["mask"])) * batch["mask"]
        return rewards.astype(np.float32), adv.astype(np.float32)

    def _update_impl(self, first, q_state, actions, mask, advantages):
        with tf.GradientTape() as tape:
            logits = self.sequence_logits(self.q_network, first, q_state, actions)
            loss = losses.reinforce_loss(logits, actions, mask, advantages)
        self.apply_gradients(tape, loss)
        return loss

    def train(self, batch, rng=None):
        rewards, adv = self.advantages(batch)
        t = as_tensors({k: batch[k] for k in ("first", "q_state", "actions", "mask")})
        loss = self._update(t["first"], t["q_state"], t["actions"], t["mask"],
                            tf.constant(adv))
        return {"loss": float(loss), "rewards": rewards, "kl_coef": self.hparams.kl_coef}
