"""REINVENT's augmented-likelihood ("DAP") learner (Olivecrona et al. 2017; REINVENT 2.0).

Loss = mean over sequences of (log p_prior(y) + sigma * S(y) - log pi(y))^2, whole sequences
sampled from the agent, one Adam step per batch, S in [0, 1] (score.py), optionally through the
scaffold-bucket diversity filter (diversity.py; the domain supplies the bucket key). The
minimiser is pi(y) proportional to p_prior(y) exp(sigma * S(y)): KL-control at c = 1/sigma on
the score, reached by regression instead of a policy gradient.
"""
import numpy as np

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.rl.onpolicy import losses
from sequence_tutor_tf.rl.onpolicy.base import SequenceLearner, as_tensors
from sequence_tutor_tf.rl.onpolicy.diversity import BucketFilter
from sequence_tutor_tf.rl.onpolicy.score import SigmoidScore, sequence_returns


class DAPLearner(SequenceLearner):
    algorithm = "dap"

    def __init__(self, *args, bucket_key=None, reward_scaler=1.0, **kwargs):
        super().__init__(*args, **kwargs)
        hp = self.hparams
        self.score = SigmoidScore(hp.score_low, hp.score_high)
        self.filter = None
        if hp.diversity_filter:
            if bucket_key is None:
                raise ValueError("dap: diversity_filter=true needs a domain with bucket keys "
                                 "(molecules' scaffolds)")
            self.filter = BucketFilter(bucket_key, hp.bucket_size, hp.min_score)
        self._update = self.compile(self._update_impl)

    def _update_impl(self, first, q_state, actions, mask, prior_loglik, scores):
        with tf.GradientTape() as tape:
            logits = self.sequence_logits(self.q_network, first, q_state, actions)
            loss, agent = losses.dap_loss(logits, actions, mask, prior_loglik, scores,
                                          self.hparams.sigma)
        self.apply_gradients(tape, loss)
        return loss, agent

    def scores(self, batch):
        totals = sequence_returns(batch["task_rewards"], batch["mask"])
        if not self.score.calibrated:
            self.score.calibrate(totals)
        s = self.score(totals)
        if self.filter is not None:
            s = self.filter(batch["actions"], batch["lengths"], s)
        return s

    def train(self, batch, rng=None):
        s = self.scores(batch)
        prior_ll = (batch["prior_logps"] * batch["mask"]).sum(1).astype(np.float32)
        t = as_tensors({k: batch[k] for k in ("first", "q_state", "actions", "mask")})
        loss, _ = self._update(t["first"], t["q_state"], t["actions"], t["mask"],
                               tf.constant(prior_ll), tf.constant(s))
        return {"loss": float(loss), "score_mean": float(s.mean())}

    def checkpoint_objects(self):
        return dict(super().checkpoint_objects(), score_bounds=self.score.bounds)

    def state(self):
        return self.filter.state() if self.filter is not None else {}

    def load_state(self, state):
        if self.filter is not None:
            self.filter.load_state(state)
