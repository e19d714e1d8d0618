"""What the four on-policy learners share: teacher-forced logits of whole sequences, one Adam
optimizer, global-norm clipping, a compiled update, and the run directory's checkpoint surface.

A sequence is the tokens a row played after its priming token; its logits come from the
network stepped over [first, y_0 .. y_{T-2}] from the row's initial state (the state the
sampler started from), so the gradient goes through the same networks the sampler acts with.
"""
from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.rl.update_math import ADAM_LEARNING_RATE, make_optimizer


class SequenceLearner:
    """Args:
      q_network: the policy (a StepModel, initialised from the prior); prior: frozen.
      hparams: the learner's HParams (hparams.py).
      action_mask: bool [V], False for tokens the domain forbids (their logits get -1e9).
      jit_compile: compile the update with XLA.
    """

    algorithm = None
    train_prior = False

    def __init__(self, q_network, prior, hparams, learning_rate=None, jit_compile=False,
                 action_mask=None):
        self.q_network, self.prior, self.hparams = q_network, prior, hparams
        self.optimizer = make_optimizer(learning_rate or ADAM_LEARNING_RATE)
        self._mask_bias = None if action_mask is None else tf.constant(
            [0.0 if allowed else -1e9 for allowed in action_mask], tf.float32)
        self.jit_compile = bool(jit_compile)
        self.trainable_variables = list(q_network.trainable_variables)

    def compile(self, fn):
        return tf.function(fn, jit_compile=self.jit_compile, reduce_retracing=True)

    # ----- sequences --------------------------------------------------------------------------
    def sequence_logits(self, model, first, state, actions):
        """Logits [N, T, V] of `model` at each token of `actions`, teacher-forced."""
        logits = unrolled_logits(model, first, state, actions)
        if self._mask_bias is not None:
            logits = logits + self._mask_bias
        return logits

    def apply_gradients(self, tape, loss, variables=None):
        variables = variables or self.trainable_variables
        grads = [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
                 for g, v in zip(tape.gradient(loss, variables), variables)]
        grads, norm = tf.clip_by_global_norm(grads, self.hparams.clip_norm)
        self.optimizer.apply_gradients(zip(grads, variables))
        return norm

    # ----- run directory ----------------------------------------------------------------------
    def build_optimizer(self):
        self.optimizer._create_all_weights(self.trainable_variables)

    def checkpoint_objects(self):
        return {"q_network": self.q_network, "reward_rnn": self.prior,
                "optimizer": self.optimizer}

    def state(self):
        """JSON-able state beyond the checkpoint (resume)."""
        return {}

    def load_state(self, state):
        pass


def unrolled_logits(model, first, state, actions):
    """`model.step_eager` over the T tokens, unrolled (T is static): traced in a fraction of
    the time of run_sequence's Keras LSTM loop, and XLA compiles it once."""
    inputs, outputs = first, []
    for t in range(actions.shape[1]):
        logits, state = model.step_eager(inputs, state)
        outputs.append(logits)
        inputs = actions[:, t]
    return tf.stack(outputs, axis=1)


def as_tensors(batch):
    return {k: tf.convert_to_tensor(v) for k, v in batch.items()}
