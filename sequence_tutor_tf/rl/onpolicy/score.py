"""REINVENT's score: a task reward mapped into [0, 1] by its sigmoid transformation,
1 / (1 + 10 ** (k * ((high + low) / 2 - x) * 10 / (high - low))), as its score components are.

DAP's sigma (128) only means something on such a score. Where `low` and `high` are not given
they are calibrated once, on the first batch the prior samples (its 10th and 90th percentile of
the task reward per sequence), and checkpointed with the learner.
"""

import numpy as np

from sequence_tutor_tf._tf import tf


class SigmoidScore:
    def __init__(self, low=float("nan"), high=float("nan"), k=0.5):
        self.bounds = tf.Variable([float(low), float(high)], trainable=False,
                                  name="score_bounds")
        self.k = float(k)

    @property
    def calibrated(self):
        return bool(np.isfinite(self.bounds.numpy()).all())

    def calibrate(self, values):
        low, high = np.percentile(values, [10, 90])
        if not high > low:
            high = low + 1.0
        self.bounds.assign([float(low), float(high)])

    def __call__(self, values):
        low, high = (float(v) for v in self.bounds.numpy())
        z = self.k * ((high + low) / 2.0 - np.asarray(values, np.float64)) * 10.0 / (high - low)
        return (1.0 / (1.0 + np.power(10.0, np.clip(z, -30, 30)))).astype(np.float32)


def sequence_returns(task, mask):
    """Task reward per sequence [N]: the sum over the tokens a row played."""
    return (np.asarray(task) * mask).sum(1)

