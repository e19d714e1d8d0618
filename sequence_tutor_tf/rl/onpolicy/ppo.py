"""Clipped PPO with a value head, GAE and a KL penalty in the reward (Ziegler et al. 2019; TRL's
PPOTrainer).

Per batch of N sequences: the sampled per-token KL penalty goes into the reward, GAE (gamma 1,
lambda 0.95) gives advantages (whitened) and returns, then `ppo_epochs` passes over
`num_minibatches` shuffled minibatches run in one compiled call. The value function is a
trainable copy of the prior with a linear head on its output (Ziegler et al. also start the
value function from a pretrained model; the StepModel surface exposes logits, not hidden
states). The KL coefficient is fixed or adaptive (kl_controller.py).
"""
import numpy as np

from sequence_tutor_tf._tf import keras, tf
from sequence_tutor_tf.rl.onpolicy import losses, returns
from sequence_tutor_tf.rl.onpolicy.base import (SequenceLearner, as_tensors,
                                                  unrolled_logits)
from sequence_tutor_tf.rl.onpolicy.kl_controller import KLController


class PPOKLLearner(SequenceLearner):
    algorithm = "ppo_kl"

    def __init__(self, *args, reward_scaler=1.0, **kwargs):
        super().__init__(*args, **kwargs)
        hp = self.hparams
        self.reward_scaler = float(reward_scaler)
        self.kl = KLController(hp.kl_coef, hp.adaptive_kl, hp.target_kl, hp.horizon)
        self.value_network = self.prior.copy(name="value_network")
        self.value_head = keras.layers.Dense(1, kernel_initializer="zeros", name="value_head")
        self.value_head(tf.zeros([1, self.value_network.num_classes]))
        self.trainable_variables = (list(self.q_network.trainable_variables)
                                    + list(self.value_network.trainable_variables)
                                    + list(self.value_head.trainable_variables))
        self._values = self.compile(self._values_impl)
        self._phase = self.compile(self._phase_impl)

    def values(self, first, state, actions):
        features = unrolled_logits(self.value_network, first, state, actions)
        return self.value_head(features)[..., 0]

    def _values_impl(self, first, state, actions):
        return self.values(first, state, actions)

    def minibatch_loss(self, mb):
        logits = self.sequence_logits(self.q_network, mb["first"], mb["q_state"], mb["actions"])
        values = self.values(mb["first"], mb["v_state"], mb["actions"])
        hp = self.hparams
        return losses.ppo_loss(logits, values, mb["actions"], mb["mask"], mb["old_logps"],
                               mb["old_values"], mb["advantages"], mb["returns"],
                               hp.cliprange, hp.cliprange_value, hp.vf_coef)

    def _phase_impl(self, batch, order):
        """All epochs x minibatches; order [E * M, B] holds each minibatch's rows."""
        stats = tf.TensorArray(tf.float32, size=tf.shape(order)[0])
        for i in tf.range(tf.shape(order)[0]):
            mb = {k: tf.gather(v, order[i]) for k, v in batch.items()}
            with tf.GradientTape() as tape:
                loss, pg, vf, clipfrac = self.minibatch_loss(mb)
            self.apply_gradients(tape, loss)
            stats = stats.write(i, tf.stack([loss, pg, vf, clipfrac]))
        return stats.stack()

    def train(self, batch, rng):
        hp, mask = self.hparams, batch["mask"]
        t = as_tensors({k: batch[k] for k in ("first", "q_state", "r_state", "actions")})
        old_values = self._values(t["first"], t["r_state"], t["actions"]).numpy() * mask
        beta = self.kl.coef
        rewards = returns.kl_penalised_rewards(batch["task_rewards"], batch["policy_logps"],
                                               batch["prior_logps"], mask, self.reward_scaler,
                                               beta)
        adv, rets = returns.gae(rewards, old_values, mask, hp.gamma, hp.lam)
        if hp.whiten_advantages:
            adv = returns.whiten(adv, mask)
        n = len(mask)
        size = max(1, n // int(hp.num_minibatches))
        order = np.stack([rng.permutation(n)[:size * (n // size)].reshape(-1, size)
                          for _ in range(int(hp.ppo_epochs))]).reshape(-1, size)
        data = {"first": batch["first"], "q_state": batch["q_state"],
                "v_state": batch["r_state"], "actions": batch["actions"], "mask": mask,
                "old_logps": batch["policy_logps"], "old_values": old_values,
                "advantages": adv, "returns": rets}
        data = {k: tf.convert_to_tensor(np.asarray(v, np.int32 if k in ("first", "actions")
                                                   else np.float32)) for k, v in data.items()}
        stats = self._phase(data, tf.constant(order, tf.int32)).numpy()
        kl_seq = float(((batch["policy_logps"] - batch["prior_logps"]) * mask).sum(1).mean())
        self.kl.update(kl_seq, n)
        return {"loss": float(stats[:, 0].mean()), "policy_loss": float(stats[:, 1].mean()),
                "value_loss": float(stats[:, 2].mean()), "clipfrac": float(stats[:, 3].mean()),
                "rewards": rewards.astype(np.float32), "kl_coef": beta,
                "value_mean": float(old_values[mask > 0].mean())}

    def checkpoint_objects(self):
        return dict(super().checkpoint_objects(), value_network=self.value_network,
                    value_head=self.value_head, kl_coef=self.kl.value)
