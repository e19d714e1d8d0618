"""TD learners of the RL Tuner: Q, Psi, G (and pure_rl, which is Q on the task reward only).

Each learner owns the Q network, its target copy and the prior (the Reward RNN) and turns a
minibatch of transitions into one Adam update followed by the soft target update, exactly the
pair of `session.run`s in the original's `training_step`. The algorithms differ only in
`next_values`, the estimate of the future at s' that the target bootstraps from:

- q:   max_a' Q_target(s', a')
- psi: logsumexp_a' Psi_target(s', a')
- g:   logsumexp_a' (Q_target(s', a') + log p(a'|s')), the prior's log-probabilities
"""
import functools

import numpy as np

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.rl import packed_updates
from sequence_tutor_tf.rl.specs import TRANSITION_FIELDS
from sequence_tutor_tf.rl.update_math import (  # noqa: F401  (re-exported for tests and scripts)
    ADAM_EPSILON, ADAM_LEARNING_RATE, CLIP_NORM, clip_by_joint_norm, clip_groups, make_optimizer,
    sum_of_squares, taken_scores)
from sequence_tutor_tf.utils.tensors import as_tensor

# Packing costs a copy of the weights and Adam slots in and out of each call: with XLA it pays
# from a few updates per call on (measured: 1 update 7-13% slower, 205 updates 9-16% faster).
PACKED_MIN_UPDATES = 4


class TDLearner:
    """Base learner: loss = mean (Q(s,a) - (r + gamma * next_values))^2.

    Args:
      q_network, target_network, prior: NoteRNN-like models with `step_eager(inputs, state)`.
      discount_rate, target_network_update_rate: the dqn_hparams of the same names.
      train_prior: G only; True reproduces the original's gradient into the prior.
      joint_lstm_clipping: clip LSTM kernels as TF1's single kernel variable (faithful).
      mask_terminals: multiply the discount by (1 - terminal); the original does not.
      action_mask: bool [num_actions], False for actions the domain forbids: the policy never
        takes them, so the target bootstraps from the allowed actions only. None: all allowed.
      jit_compile: compile the update with XLA.
      packed: run K updates with the weights carried as loop values in TF1's layout
        (packed_updates.py; same math). None uses it where it is faster: with XLA, for calls
        of at least PACKED_MIN_UPDATES updates, when the networks and optimizer allow it.
        False always takes the per-update variable path; True also without XLA.
    """

    algorithm = None
    uses_prior_in_target = False

    def __init__(self, q_network, target_network, prior, discount_rate=0.95,
                 target_network_update_rate=0.01, optimizer=None, train_prior=False,
                 joint_lstm_clipping=True, mask_terminals=False, jit_compile=False,
                 packed=None, action_mask=None):
        self.q_network = q_network
        self.target_network = target_network
        self.prior = prior
        self.discount_rate = float(discount_rate)
        self.target_network_update_rate = float(target_network_update_rate)
        self.optimizer = optimizer or make_optimizer()
        self.train_prior = bool(train_prior) and self.uses_prior_in_target
        self.mask_terminals = bool(mask_terminals)
        self.joint_lstm_clipping = bool(joint_lstm_clipping)
        # Forbidden actions' target scores sit far below any reachable value (a finite number,
        # so that max, logsumexp and their gradients stay finite).
        self._mask_bias = None if action_mask is None else tf.constant(
            [0.0 if allowed else -1e9 for allowed in action_mask], tf.float32)
        self.trainable_variables = list(q_network.trainable_variables)
        if self.train_prior:
            self.trainable_variables += list(prior.trainable_variables)
        models = [q_network] + ([prior] if self.train_prior else [])
        self._clip_groups = clip_groups(models, self.trainable_variables, joint_lstm_clipping)
        if len(target_network.weights) != len(q_network.weights):
            raise ValueError("target_network and q_network must have the same architecture")
        self._packed = None
        if packed or (packed is None and jit_compile):
            if packed_updates.supports(self):
                self._packed = packed_updates.PackedUpdates(self)
            elif packed:
                raise ValueError("packed=True needs NoteRNN-like networks (parameter_groups, "
                                 "step_packed) of one architecture and the default Adam")
        compile_ = lambda fn: tf.function(fn, jit_compile=jit_compile, reduce_retracing=True)
        self._train_many = compile_(self._train_many_impl)
        # The same updates returning each row's post-update TD error (prioritized replay); a
        # function of its own, so that the uniform path's graph is the one it always was.
        self._train_many_td = compile_(self._train_many_td_impl)
        self._td_errors = compile_(self._td_errors_impl)
        self._min_packed = 1 if packed else PACKED_MIN_UPDATES
        if self._packed is not None:
            self._train_many_packed = compile_(self._packed.run)
            self._train_many_packed_td = compile_(functools.partial(self._packed.run,
                                                                    with_td=True))

    # ----- the part that differs between algorithms --------------------------------------------
    def next_values(self, next_scores, next_prior_logits):
        raise NotImplementedError

    # ----- one update --------------------------------------------------------------------------
    def _clip(self, grads):
        clipped = list(grads)
        for group in self._clip_groups:
            gs = [grads[i] for i in group]
            if any(g is None for g in gs):
                continue
            # == clip_by_norm of the concatenation, TF1's single LSTM kernel variable
            for i, g in zip(group, clip_by_joint_norm(gs, CLIP_NORM)):
                clipped[i] = g
        return clipped

    def _loss(self, batch, q_step=None, target_step=None, prior_step=None, with_future=False):
        """(loss, per-row next values) of the networks on the minibatch; with `with_future`
        also the per-row targets r + gamma * next values (what a TD error is measured from).

        The `*_step(inputs, state)` arguments replace a network's own `step_eager`: the packed
        loop passes steps that read its loop-carried weights.
        """
        q_step = q_step or self.q_network.step_eager
        target_step = target_step or self.target_network.step_eager
        scores, _ = q_step(batch["observations"], batch["states"])
        next_scores, _ = target_step(batch["new_observations"], batch["new_states"])
        prior_logits = None
        if self.uses_prior_in_target:
            prior_logits, _ = (prior_step or self.prior.step_eager)(
                batch["new_observations"], batch["new_reward_states"])
            if not self.train_prior:
                prior_logits = tf.stop_gradient(prior_logits)
        loss, target_vals, future = self._td_parts(batch, scores, next_scores, prior_logits)
        return (loss, target_vals, future) if with_future else (loss, target_vals)

    def td_loss(self, batch, scores, next_scores, prior_logits):
        """(loss, per-row next values) from the networks' outputs on the minibatch."""
        return self._td_parts(batch, scores, next_scores, prior_logits)[:2]

    def _td_parts(self, batch, scores, next_scores, prior_logits):
        """(loss, per-row next values, per-row targets r + gamma * next values)."""
        taken = taken_scores(scores, batch["actions"])
        next_scores = tf.stop_gradient(next_scores)
        if self._mask_bias is not None:
            next_scores = next_scores + self._mask_bias
        target_vals = self.next_values(next_scores, prior_logits)
        discount = self.discount_rate
        if self.mask_terminals:
            discount = discount * (1.0 - batch["terminals"])
        future = batch["rewards"] + discount * target_vals
        loss = tf.reduce_mean(tf.square(taken - future))
        return loss, target_vals, tf.stop_gradient(future)

    def td_errors_after(self, batch, future, q_step=None):
        """Q(s, a) - future per row, Q read after the update (the research code runs its
        `td_error` op after `train_op` and before the target update, with the same feed)."""
        scores, _ = (q_step or self.q_network.step_eager)(batch["observations"], batch["states"])
        return taken_scores(scores, batch["actions"]) - future

    def _update(self, batch, with_td=False):
        with tf.GradientTape() as tape:
            loss, target_vals, future = self._loss(batch, with_future=True)
        # Dense gradients: an embedding-style input would give IndexedSlices, which clipping
        # and Adam must see as the TF1 graph did (a dense tensor).
        grads = [None if g is None else tf.convert_to_tensor(g)
                 for g in tape.gradient(loss, self.trainable_variables)]
        pairs = [(g, v) for g, v in zip(self._clip(grads), self.trainable_variables)
                 if g is not None]
        self.optimizer.apply_gradients(pairs)
        td = self.td_errors_after(batch, future) if with_td else None
        rate = self.target_network_update_rate
        for target, source in zip(self.target_network.weights, self.q_network.weights):
            target.assign_sub(rate * (target - source))
        return loss, tf.reduce_mean(target_vals), td

    def _train_many_impl(self, batches):
        k = tf.shape(batches["rewards"])[0]
        losses = tf.TensorArray(tf.float32, size=k)
        targets = tf.TensorArray(tf.float32, size=k)
        for i in tf.range(k):
            batch = {name: value[i] for name, value in batches.items()}
            loss, target_mean, _ = self._update(batch)
            losses = losses.write(i, loss)
            targets = targets.write(i, target_mean)
        return losses.stack(), targets.stack()

    def _train_many_td_impl(self, batches):
        """`_train_many_impl` that also returns each row's post-update TD error [K, B]."""
        k = tf.shape(batches["rewards"])[0]
        losses = tf.TensorArray(tf.float32, size=k)
        targets = tf.TensorArray(tf.float32, size=k)
        tds = tf.TensorArray(tf.float32, size=k)
        for i in tf.range(k):
            batch = {name: value[i] for name, value in batches.items()}
            loss, target_mean, td = self._update(batch, with_td=True)
            losses = losses.write(i, loss)
            targets = targets.write(i, target_mean)
            tds = tds.write(i, td)
        return losses.stack(), targets.stack(), tds.stack()

    def _td_errors_impl(self, batch):
        _, _, future = self._loss(batch, with_future=True)
        return self.td_errors_after(batch, future)

    @property
    def fields(self):
        """The transition fields `train` reads; the engine samples only these from the replay."""
        skip = set()
        if not self.uses_prior_in_target:
            skip.add("new_reward_states")
        if not self.mask_terminals:
            skip.add("terminals")
        return tuple(f for f in TRANSITION_FIELDS if f not in skip)

    def train(self, batches, td_errors=False):
        """Runs K updates in one compiled call; batches are arrays shaped [K, B, ...].

        Returns (losses [K], mean target values [K]) as NumPy arrays; with `td_errors` also
        each row's TD error after its update, Q(s, a) - (r + gamma * next values) [K, B], for
        prioritized replay.
        """
        # The replay's gathers are shared with TF, not copied (utils/tensors.py).
        batches = {name: as_tensor(batches[name]) for name in self.fields}
        packed = self._packed is not None and batches["rewards"].shape[0] >= self._min_packed
        if td_errors:
            fn = self._train_many_packed_td if packed else self._train_many_td
            return tuple(t.numpy() for t in fn(batches))
        losses, targets = (self._train_many_packed if packed else self._train_many)(batches)
        return losses.numpy(), targets.numpy()

    def td_errors(self, batch):
        """Each transition's TD error under the current networks, without updating (arrays
        shaped [N, ...]): the priority of a transition as it is stored."""
        batch = {name: as_tensor(np.ascontiguousarray(batch[name])) for name in self.fields}
        return self._td_errors(batch).numpy()

    def train_one(self, batch):
        """One update from a single minibatch (arrays shaped [B, ...]); returns (loss, target)."""
        losses, targets = self.train({k: v[None] for k, v in batch.items()})
        return float(losses[0]), float(targets[0])

    def loss_and_targets(self, batch):
        """(loss, per-row next values) for a minibatch without updating: diagnostics, tests."""
        batch = {name: tf.convert_to_tensor(batch[name]) for name in TRANSITION_FIELDS}
        loss, target_vals = self._loss(batch)
        return float(loss), target_vals.numpy()

    def build_optimizer(self):
        """Creates Adam's slots now, so a checkpoint restores into them instead of deferring."""
        self.optimizer._create_all_weights(self.trainable_variables)

    def checkpoint_objects(self):
        return {"q_network": self.q_network, "target_q_network": self.target_network,
                "reward_rnn": self.prior, "optimizer": self.optimizer}


class QLearner(TDLearner):
    algorithm = "q"

    def next_values(self, next_scores, next_prior_logits):
        return tf.reduce_max(next_scores, axis=1)


class PureRLLearner(QLearner):
    """Q-learning; the reward has no prior term (reward_mode music_theory_only)."""
    algorithm = "pure_rl"


class PsiLearner(TDLearner):
    algorithm = "psi"

    def next_values(self, next_scores, next_prior_logits):
        return tf.reduce_logsumexp(next_scores, axis=1)


class GLearner(TDLearner):
    algorithm = "g"
    uses_prior_in_target = True

    def next_values(self, next_scores, next_prior_logits):
        log_prior = next_prior_logits - tf.reduce_logsumexp(next_prior_logits, axis=1,
                                                            keepdims=True)
        return tf.reduce_logsumexp(next_scores + log_prior, axis=1)


LEARNERS = {"q": QLearner, "psi": PsiLearner, "g": GLearner, "pure_rl": PureRLLearner}


def make_learner(algorithm, q_network, target_network, prior, dqn_hparams, behaviour=None,
                 learning_rate=None, **kwargs):
    """The learner for `algorithm` configured from dqn_hparams and the behaviour switches."""
    from sequence_tutor_tf.rl.behaviour import OriginalBehaviour
    if algorithm not in LEARNERS:
        raise ValueError(f"algorithm must be one of {sorted(LEARNERS)}, got {algorithm!r}")
    behaviour = behaviour or OriginalBehaviour()
    if learning_rate is not None:
        kwargs.setdefault("optimizer", make_optimizer(learning_rate))
    return LEARNERS[algorithm](
        q_network, target_network, prior,
        discount_rate=dqn_hparams.discount_rate,
        target_network_update_rate=dqn_hparams.target_network_update_rate,
        train_prior=behaviour.g_trains_prior,
        joint_lstm_clipping=behaviour.clip_lstm_kernels_jointly,
        mask_terminals=not behaviour.discount_across_compositions, **kwargs)
