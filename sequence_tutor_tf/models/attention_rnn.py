"""melody_rnn's attention_rnn as a Keras model with the NoteRNN API.

The bottom LSTM is wrapped in the attention of Magenta's `AttentionCellWrapper` (Bahdanau-style
attention over the last `attn_length` outputs of that layer, Shen et al. style LSTMA); the upper
layers are plain LSTMs and the read-out is linear, as in `events_rnn_graph`. The flat state is
laid out as TF1 flattens the wrapper's tuple state: `[c0, h0, attns, attn_states, c1, h1, ...]`,
so states can be moved between this model and Magenta's graph unchanged.
"""
from sequence_tutor_tf._tf import keras, tf
from sequence_tutor_tf.models.step_model import StepModel


class AttentionLSTMCell(keras.layers.Layer):
    """An LSTM cell with attention over its own recent outputs.

    Each step: the input is projected together with the previous attention read-out back to the
    input width, runs through the LSTM, the new `[c, h]` queries the window of stored outputs, and
    the LSTM output and the attention read-out are projected to the cell's output, which is also
    pushed into the window. Keras state order: [h, c, attns, attn_states].
    """

    def __init__(self, units, attn_length, input_size, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.attn_length = int(attn_length)
        self.input_size = int(input_size)
        self.attn_size = self.units  # Magenta's default: the wrapped cell's output size
        self.state_size = [self.units, self.units, self.attn_size,
                           self.attn_size * self.attn_length]
        self.output_size = self.attn_size
        self.input_projection = keras.layers.Dense(self.input_size, name="input_projection")
        self.lstm = keras.layers.LSTMCell(self.units, name="lstm_cell")
        self.query = keras.layers.Dense(self.attn_size, name="query")
        self.output_projection = keras.layers.Dense(self.attn_size, name="output_projection")

    def build(self, input_shape):
        a = self.attn_size
        self.input_projection.build([None, self.input_size + a])
        self.lstm.build([None, self.input_size])
        self.query.build([None, 2 * self.units])
        self.output_projection.build([None, self.units + a])
        self.attn_w = self.add_weight(name="attn_w", shape=[a, a])
        self.attn_v = self.add_weight(name="attn_v", shape=[a])
        super().build(input_shape)

    def call(self, inputs, states):
        h, c, attns, attn_states = states
        x = self.input_projection(tf.concat([inputs, attns], axis=-1))
        out, (h, c) = self.lstm(x, [h, c])
        window = tf.reshape(attn_states, [-1, self.attn_length, self.attn_size])
        features = tf.einsum("bla,av->blv", window, self.attn_w)
        query = self.query(tf.concat([c, h], axis=-1))[:, None, :]
        scores = tf.reduce_sum(self.attn_v * tf.tanh(features + query), axis=-1)
        weights = tf.nn.softmax(scores, axis=-1)
        new_attns = tf.reduce_sum(weights[:, :, None] * window, axis=1)
        output = self.output_projection(tf.concat([out, new_attns], axis=-1))
        window = tf.concat([window[:, 1:], output[:, None, :]], axis=1)
        return output, [h, c, new_attns, tf.reshape(window, [-1, self.attn_length * self.attn_size])]

    def get_config(self):
        return dict(super().get_config(), units=self.units, attn_length=self.attn_length,
                    input_size=self.input_size)


class AttentionRNN(StepModel):
    """Attention-wrapped bottom LSTM + plain LSTMs + linear read-out (melody_rnn attention_rnn).

    Same API as NoteRNN: `call`, `run_sequence`, `step`, `step_eager`, `zero_state`,
    `state_size`, `split_state`, `join_state`, `get_config`, `copy`.
    """

    def __init__(self, rnn_layer_sizes=(128, 128), num_classes=40, input_size=74, attn_length=40,
                 dropout_rate=0.0, name="attention_rnn", **kwargs):
        super().__init__(name=name, **kwargs)
        if not rnn_layer_sizes or any(int(u) <= 0 for u in rnn_layer_sizes):
            raise ValueError(f"rnn_layer_sizes must be a non-empty list of positive ints, "
                             f"got {rnn_layer_sizes!r}")
        if int(attn_length) <= 0:
            raise ValueError(f"attn_length must be a positive int, got {attn_length!r}")
        self.rnn_layer_sizes = [int(u) for u in rnn_layer_sizes]
        self.num_classes = int(num_classes)
        self.input_size = int(input_size)
        self.attn_length = int(attn_length)
        self.dropout_rate = float(dropout_rate)
        self.attention_cell = AttentionLSTMCell(self.rnn_layer_sizes[0], self.attn_length,
                                                self.input_size, name="attention_cell")
        self.attention_layer = keras.layers.RNN(self.attention_cell, return_sequences=True,
                                                return_state=True, name="attention_lstm_0")
        self.lstm_layers = [
            keras.layers.LSTM(units, return_sequences=True, return_state=True, name=f"lstm_{i}")
            for i, units in enumerate(self.rnn_layer_sizes[1:], start=1)]
        self.dropout_layers = [keras.layers.Dropout(self.dropout_rate, name=f"dropout_{i}")
                               for i in range(len(self.rnn_layer_sizes))]
        self.output_layer = keras.layers.Dense(self.num_classes, name="logits")
        self(tf.zeros([1, 1, self.input_size]))

    # ----- state ------------------------------------------------------------------------------
    @property
    def _layer_widths(self):
        """Widths of the flat state's parts, in order."""
        u0, a = self.rnn_layer_sizes[0], self.rnn_layer_sizes[0]
        widths = [u0, u0, a, a * self.attn_length]
        for units in self.rnn_layer_sizes[1:]:
            widths += [units, units]
        return widths

    @property
    def state_size(self):
        return sum(self._layer_widths)

    def split_state(self, state):
        """Flat state -> ([h0, c0, attns, attn_states], [(h, c) of each upper layer])."""
        parts = tf.split(state, self._layer_widths, axis=-1)
        c0, h0, attns, attn_states = parts[:4]
        upper = [(parts[4 + 2 * i + 1], parts[4 + 2 * i]) for i in range(len(self.lstm_layers))]
        return [h0, c0, attns, attn_states], upper

    @staticmethod
    def join_state(attention_state, upper):
        h0, c0, attns, attn_states = attention_state
        return tf.concat([c0, h0, attns, attn_states] + [t for h, c in upper for t in (c, h)],
                         axis=-1)

    # ----- running ----------------------------------------------------------------------------
    def run_sequence(self, inputs, initial_state=None, training=False, mask=None):
        """Returns (logits [batch, time, classes], final flat state)."""
        x = tf.cast(tf.convert_to_tensor(inputs), tf.float32)
        if initial_state is None:
            initial_state = self.zero_state(tf.shape(x)[0])
        attention_state, upper = self.split_state(initial_state)
        x, *attention_final = self.attention_layer(x, initial_state=attention_state,
                                                   training=training, mask=mask)
        x = self.dropout_layers[0](x, training=training)
        finals = []
        for lstm, dropout, (h, c) in zip(self.lstm_layers, self.dropout_layers[1:], upper):
            x, h, c = lstm(x, initial_state=[h, c], training=training, mask=mask)
            x = dropout(x, training=training)
            finals.append((h, c))
        return self.output_layer(x), self.join_state(attention_final, finals)

    def step_eager(self, inputs, state):
        x = tf.cast(tf.convert_to_tensor(inputs), tf.float32)
        attention_state, upper = self.split_state(state)
        x, attention_state = self.attention_cell(x, attention_state)
        finals = []
        for lstm, (h, c) in zip(self.lstm_layers, upper):
            x, (h, c) = lstm.cell(x, [h, c])
            finals.append((h, c))
        return self.output_layer(x), self.join_state(attention_state, finals)

    # ----- configuration ----------------------------------------------------------------------
    def get_config(self):
        return {"rnn_layer_sizes": self.rnn_layer_sizes, "num_classes": self.num_classes,
                "input_size": self.input_size, "attn_length": self.attn_length,
                "dropout_rate": self.dropout_rate}

