"""What every sequence model of the package offers the rest of it.

The RL engine, sampling, export and checkpoints only rely on this surface: `run_sequence` for
whole sequences, a compiled batched `step` over one flat state vector, `zero_state`, a
JSON-able config, and `copy` (the target network is a copy of the Q network).
"""
from sequence_tutor_tf._tf import keras, tf


class StepModel(keras.Model):
    """Subclasses define `state_size`, `run_sequence`, `step_eager` and `get_config`."""

    def call(self, inputs, initial_state=None, training=False, mask=None):
        """Logits [batch, time, num_classes] for a batch of input sequences."""
        logits, _ = self.run_sequence(inputs, initial_state, training=training, mask=mask)
        return logits

    @tf.function(reduce_retracing=True)
    def step(self, inputs, state):
        """One event for a batch: (inputs, state) -> (logits [batch, classes], new state)."""
        return self.step_eager(inputs, state)

    def zero_state(self, batch_size):
        return tf.zeros([batch_size, self.state_size], tf.float32)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def copy(self, name=None):
        """A new model with the same config and a copy of the weights (e.g. the target network)."""
        twin = type(self).from_config(self.get_config())
        if name is not None:
            twin._name = name
        twin.set_weights(self.get_weights())
        return twin
