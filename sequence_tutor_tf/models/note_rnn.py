"""The Note RNN: a stack of LSTMs and a linear read-out over melody events.

One Keras model holds both Magenta variants (the RL Tuner's single 100-unit LSTM and melody_rnn's
2 x 512 `basic_rnn`) and any `rnn_layer_sizes`. Two ways to run it:

- `model(inputs)` runs whole sequences (MLE training, priming);
- `model.step(inputs, state)` advances a batch by one event, compiled with `tf.function`: the RL
  engine's rollouts, the Reward RNN and sampling all go through it.

State is one flat float vector per batch row, laid out per layer as `[c, h]`: the layout of a TF1
`MultiRNNCell` of `LSTMCell`s with `state_is_tuple=False`, which is what the RL Tuner feeds and
stores in its replay memory. TF1's `forget_bias` (added at run time) is folded into the Keras
forget-gate bias by magenta_compat when weights are loaded, so the cell itself is plain Keras.
"""
import json
import os

from sequence_tutor_tf._tf import keras, tf
from sequence_tutor_tf.models.hparams import NUM_CLASSES
from sequence_tutor_tf.models.step_model import StepModel

CONFIG_FILE_NAME = "note_rnn_config.json"


class NoteRNN(StepModel):
    """LSTM language model over `num_classes` events with a batched single-step API.

    Args:
      rnn_layer_sizes: units of each LSTM layer, bottom first.
      num_classes: size of the softmax (the vocabulary's size; by default the melody
        vocabulary's, Magenta's one-hot). `NoteRNN.for_vocabulary` takes a Vocabulary.
      input_size: width of an input vector; defaults to `num_classes` (one-hot of the previous
        event). melody_rnn's lookback encoding feeds wider inputs.
      dropout_rate: dropout on each layer's output during training (melody_rnn's
        `1 - dropout_keep_prob`); 0 for the RL Tuner's Note RNN.
    """

    def __init__(self, rnn_layer_sizes=(100,), num_classes=NUM_CLASSES, input_size=None,
                 dropout_rate=0.0,
                 name="note_rnn", **kwargs):
        super().__init__(name=name, **kwargs)
        if not rnn_layer_sizes or any(int(u) <= 0 for u in rnn_layer_sizes):
            raise ValueError(f"rnn_layer_sizes must be a non-empty list of positive ints, "
                             f"got {rnn_layer_sizes!r}")
        self.rnn_layer_sizes = [int(u) for u in rnn_layer_sizes]
        self.num_classes = int(num_classes)
        self.input_size = int(input_size or num_classes)
        self.dropout_rate = float(dropout_rate)
        self.lstm_layers = [
            keras.layers.LSTM(units, return_sequences=True, return_state=True, name=f"lstm_{i}")
            for i, units in enumerate(self.rnn_layer_sizes)]
        self.dropout_layers = [keras.layers.Dropout(self.dropout_rate, name=f"dropout_{i}")
                               for i in range(len(self.rnn_layer_sizes))]
        self.output_layer = keras.layers.Dense(self.num_classes, name="logits")
        self.build_for_inputs()

    # ----- shapes -------------------------------------------------------------------------------
    @property
    def state_size(self):
        """Width of the flat state vector: sum over layers of 2 * units (c and h)."""
        return 2 * sum(self.rnn_layer_sizes)

    def build_for_inputs(self):
        """Creates the variables, so that checkpoints and converters can see them before use."""
        self(tf.zeros([1, 1, self.input_size]))

    # ----- state packing ------------------------------------------------------------------------
    def split_state(self, state):
        """Flat [batch, state_size] -> list of (h, c) per layer (the Keras order)."""
        layers, offset = [], 0
        for units in self.rnn_layer_sizes:
            c = state[:, offset:offset + units]
            h = state[:, offset + units:offset + 2 * units]
            layers.append((h, c))
            offset += 2 * units
        return layers

    @staticmethod
    def join_state(layer_states):
        """List of (h, c) per layer -> flat [batch, state_size] laid out as [c, h] per layer."""
        return tf.concat([t for h, c in layer_states for t in (c, h)], axis=-1)

    def _as_inputs(self, inputs):
        """Accepts one-hot floats or integer event indices."""
        if inputs.dtype.is_integer:
            if self.input_size != self.num_classes:
                raise ValueError(
                    f"integer event inputs need input_size == num_classes ({self.num_classes}); "
                    f"this model takes {self.input_size}-wide input vectors")
            return tf.one_hot(inputs, self.num_classes, dtype=tf.float32)
        return tf.cast(inputs, tf.float32)

    # ----- sequences ----------------------------------------------------------------------------
    def run_sequence(self, inputs, initial_state=None, training=False, mask=None):
        """Returns (logits [batch, time, classes], final flat state)."""
        x = self._as_inputs(tf.convert_to_tensor(inputs))
        states = (self.split_state(tf.convert_to_tensor(initial_state, tf.float32))
                  if initial_state is not None
                  else [None] * len(self.lstm_layers))
        finals = []
        for lstm, dropout, layer_state in zip(self.lstm_layers, self.dropout_layers, states):
            init = None if layer_state is None else [layer_state[0], layer_state[1]]
            x, h, c = lstm(x, initial_state=init, training=training, mask=mask)
            x = dropout(x, training=training)
            finals.append((h, c))
        return self.output_layer(x), self.join_state(finals)

    # ----- one step -----------------------------------------------------------------------------
    def step_eager(self, inputs, state):
        """`step` without its own `tf.function`, for use inside other compiled functions."""
        x = self._as_inputs(tf.convert_to_tensor(inputs))
        new_states = []
        state = tf.convert_to_tensor(state, tf.float32)
        for lstm, (h, c) in zip(self.lstm_layers, self.split_state(state)):
            x, (h, c) = lstm.cell(x, [h, c])
            new_states.append((h, c))
        return self.output_layer(x), self.join_state(new_states)

    # ----- packed parameters (the RL learner's loop) ---------------------------------------------
    def parameter_groups(self):
        """The variables in TF1's layout: per layer [kernel, recurrent_kernel] (TF1's one joint
        [input + units, 4 * units] kernel) and [bias], then the read-out's [kernel] and [bias].

        Concatenating each group on axis 0 gives the packed tensors `step_packed` reads.
        """
        groups = []
        for layer in self.lstm_layers:
            groups += [[layer.cell.kernel, layer.cell.recurrent_kernel], [layer.cell.bias]]
        return groups + [[self.output_layer.kernel], [self.output_layer.bias]]

    def step_packed(self, packed, inputs, state):
        """`step_eager` from packed tensors (see `parameter_groups`) instead of the variables.

        The RL learner carries its weights through its update loop as tensors. Each layer does
        one matmul of [x, h] with the joint kernel, as TF1's LSTMCell did: cheaper on CPU than
        Keras' two matmuls and an add.
        """
        x = self._as_inputs(tf.convert_to_tensor(inputs))
        new_states = []
        for i, (h, c) in enumerate(self.split_state(tf.convert_to_tensor(state, tf.float32))):
            z = tf.matmul(tf.concat([x, h], axis=1), packed[2 * i]) + packed[2 * i + 1]
            z_i, z_f, z_c, z_o = tf.split(z, 4, axis=1)   # Keras' gate order
            c = tf.sigmoid(z_f) * c + tf.sigmoid(z_i) * tf.tanh(z_c)
            x = tf.sigmoid(z_o) * tf.tanh(c)
            new_states.append((x, c))
        return tf.matmul(x, packed[-2]) + packed[-1], self.join_state(new_states)

    # ----- configuration ------------------------------------------------------------------------
    def get_config(self):
        return {"rnn_layer_sizes": self.rnn_layer_sizes, "num_classes": self.num_classes,
                "input_size": self.input_size, "dropout_rate": self.dropout_rate}

    @classmethod
    def from_hparams(cls, hparams, **kwargs):
        return cls(rnn_layer_sizes=hparams.rnn_layer_sizes,
                   num_classes=getattr(hparams, "one_hot_length", NUM_CLASSES), **kwargs)

    @classmethod
    def for_vocabulary(cls, vocabulary, rnn_layer_sizes=(100,), **kwargs):
        """A language model over a `Vocabulary`'s tokens (one-hot of the previous token in)."""
        return cls(rnn_layer_sizes=rnn_layer_sizes, num_classes=vocabulary.size, **kwargs)


def write_model_config(model, directory, extra=None):
    """Writes the config that `load_model_config` rebuilds the model from (atomically)."""
    from sequence_tutor_tf.utils.files import atomic_write_text
    config = {"class": type(model).__name__, "config": model.get_config()}
    if extra:
        config.update(extra)
    atomic_write_text(os.path.join(directory, CONFIG_FILE_NAME), json.dumps(config, indent=2))


def read_model_config(directory):
    path = os.path.join(directory, CONFIG_FILE_NAME)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{directory} has no {CONFIG_FILE_NAME}: not a sequence_tutor_tf Note RNN checkpoint "
            "directory (for Magenta checkpoints use magenta_compat or `sequence-tutor convert`)")
    with open(path, encoding="utf-8") as f:
        return json.load(f)
