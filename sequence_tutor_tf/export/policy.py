"""The melody policy as a `tf.Module` of compiled functions: what gets exported, and what
`sequence-tutor generate` runs in memory when given a checkpoint.

Which distribution is sampled follows `RLTuner.build_graph`: `softmax(action_scores)` of the
Q network for Q, Psi and pure-RL tuning, and for G-learning `softmax(action_scores +
reward_scores)`, the Q network's scores plus the Reward RNN prior. We add the prior's
log-softmax rather than its raw logits: the softmax (hence every sample and argmax) is the same,
and the reported logits become G + log p(a|s). State is each network's flat state, concatenated.

The module holds the networks' variables, not the Keras models, so the SavedModel is a plain
TensorFlow graph with no Keras objects to revive. Sampling uses stateless random ops keyed by
(seed, step), so a seed gives the same melodies on every call.
"""
import json

from sequence_tutor_tf._tf import tf


class MelodyPolicy(tf.Module):
    """Step, generate, initial_state and metadata functions over one or two Note RNNs."""

    def __init__(self, source, metadata, name="melody_policy"):
        super().__init__(name=name)
        self._models = [model for _, model in source.networks]
        self._combine_prior = source.algorithm == "g"
        self.num_classes = source.num_classes
        self.state_size = sum(m.state_size for m in self._models)
        self.network_variables = [v for m in self._models for v in m.variables]
        self._metadata_json = json.dumps(metadata, sort_keys=True)

        c, s = self.num_classes, self.state_size
        self.step = tf.function(self._step_one_hot, input_signature=[
            tf.TensorSpec([None, c], tf.float32, name="inputs"),
            tf.TensorSpec([None, s], tf.float32, name="state")])
        self.step_indices = tf.function(self._step_indices, input_signature=[
            tf.TensorSpec([None], tf.int32, name="events"),
            tf.TensorSpec([None, s], tf.float32, name="state")])
        self.generate = tf.function(self._generate, input_signature=[
            tf.TensorSpec([None, None], tf.int32, name="primer"),
            tf.TensorSpec([], tf.int32, name="num_steps"),
            tf.TensorSpec([], tf.float32, name="temperature"),
            tf.TensorSpec([], tf.bool, name="sample"),
            tf.TensorSpec([], tf.int64, name="seed")])
        self.initial_state = tf.function(self._initial_state, input_signature=[
            tf.TensorSpec([], tf.int32, name="batch_size")])
        self.metadata = tf.function(self._metadata, input_signature=[])

    def signatures(self):
        """The serving signatures, by name (concrete functions)."""
        return {name: getattr(self, name).get_concrete_function()
                for name in ("step", "step_indices", "generate", "initial_state", "metadata")}

    # ----- the policy ---------------------------------------------------------------------------
    def policy_logits(self, one_hot, state):
        """Scores the original softmaxes over (up to a per-row constant for G), and new state."""
        outputs, states, offset = [], [], 0
        for model in self._models:
            part = state[:, offset:offset + model.state_size]
            offset += model.state_size
            logits, new_state = model.step_eager(one_hot, part)
            outputs.append(logits)
            states.append(new_state)
        from sequence_tutor_tf.rl.policy import policy_scores
        prior = tf.nn.log_softmax(outputs[1]) if self._combine_prior else None
        logits = policy_scores(outputs[0], prior, self._combine_prior)
        return logits, tf.concat(states, axis=-1)

    def _step_one_hot(self, inputs, state):
        logits, new_state = self.policy_logits(inputs, state)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits), "state": new_state}

    def _step_indices(self, events, state):
        checks = [tf.debugging.assert_less(events, self.num_classes,
                                           message="step_indices: event index >= num_classes"),
                  tf.debugging.assert_non_negative(events,
                                                   message="step_indices: negative event index")]
        with tf.control_dependencies(checks):
            one_hot = tf.one_hot(events, self.num_classes, dtype=tf.float32)
        return self._step_one_hot(one_hot, state)

    def _initial_state(self, batch_size):
        return {"state": tf.zeros(tf.stack([batch_size, self.state_size]), tf.float32)}

    def _metadata(self):
        return {"json": tf.constant(self._metadata_json)}

    # ----- generation ---------------------------------------------------------------------------
    def _generate(self, primer, num_steps, temperature, sample, seed):
        """Feeds the primer, then `num_steps` events each drawn from the policy and fed back.

        Returns `generated` [batch, num_steps] and `events` = primer followed by generated.
        `sample=False` takes the argmax (the original's `most_probable`); temperature divides the
        logits before sampling, as melody_rnn does (the RL Tuner itself always used 1).
        """
        batch = tf.shape(primer)[0]
        primer_len = tf.shape(primer)[1]
        checks = [
            tf.debugging.assert_positive(primer_len, message="generate: primer must hold at least "
                                         "one event per row (shape [batch, >=1])"),
            tf.debugging.assert_non_negative(primer, message="generate: negative primer event"),
            tf.debugging.assert_less(primer, self.num_classes,
                                     message="generate: primer event index >= num_classes"),
            tf.debugging.assert_non_negative(num_steps, message="generate: num_steps < 0"),
            tf.debugging.assert_positive(temperature, message="generate: temperature must be > 0"),
        ]
        with tf.control_dependencies(checks):
            state = tf.zeros(tf.stack([batch, self.state_size]), tf.float32)
        logits = tf.zeros(tf.stack([batch, self.num_classes]), tf.float32)
        for t in tf.range(primer_len):
            logits, state = self.policy_logits(
                tf.one_hot(primer[:, t], self.num_classes, dtype=tf.float32), state)

        generated = tf.TensorArray(tf.int32, size=num_steps, element_shape=tf.TensorShape([None]))
        for i in tf.range(num_steps):
            if sample:
                step_seed = tf.stack([seed, tf.cast(i, tf.int64)])
                event = tf.random.stateless_categorical(logits / temperature, 1, step_seed,
                                                        dtype=tf.int32)[:, 0]
            else:
                event = tf.argmax(logits, axis=-1, output_type=tf.int32)
            generated = generated.write(i, event)
            logits, state = self.policy_logits(
                tf.one_hot(event, self.num_classes, dtype=tf.float32), state)
        # An empty TensorArray of unknown element shape cannot be stacked: num_steps=0 is special.
        new_events = tf.cond(num_steps > 0, lambda: tf.transpose(generated.stack()),
                             lambda: tf.zeros(tf.stack([batch, 0]), tf.int32))
        return {"generated": new_events, "events": tf.concat([primer, new_events], axis=1)}
