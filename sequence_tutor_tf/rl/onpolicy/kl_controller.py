"""KL coefficients: fixed, or adaptive toward a target KL (Ziegler et al. 2019, TRL's
AdaptiveKLController): beta <- beta * (1 + clip(KL / target - 1, -0.2, 0.2) * n / horizon),
with KL the batch's mean KL per sequence and n its sequences. The value lives in a variable,
so it is checkpointed with the learner and a resumed run goes on from it."""
import numpy as np

from sequence_tutor_tf._tf import tf


class KLController:
    def __init__(self, init_kl_coef, adaptive=False, target=6.0, horizon=10000):
        if not init_kl_coef >= 0:
            raise ValueError(f"kl_coef must be >= 0, got {init_kl_coef!r}")
        if adaptive and not (target > 0 and horizon > 0):
            raise ValueError(f"adaptive KL needs target_kl > 0 and horizon > 0, got "
                             f"{target!r}, {horizon!r}")
        self.value = tf.Variable(float(init_kl_coef), trainable=False, name="kl_coef")
        self.adaptive, self.target, self.horizon = bool(adaptive), float(target), float(horizon)

    @property
    def coef(self):
        return float(self.value.numpy())

    def update(self, kl_per_sequence, n_sequences):
        if self.adaptive:
            error = float(np.clip(kl_per_sequence / self.target - 1.0, -0.2, 0.2))
            self.value.assign(self.coef * (1.0 + error * n_sequences / self.horizon))
        return self.coef
