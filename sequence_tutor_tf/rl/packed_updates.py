"""K learner updates with the weights carried through the loop as tensors, in TF1's layout.

Why: at the original's ratio the learner's chain of small updates bounds the speed (see
docs/performance.md). Carrying the trained weights, Adam's moments and the target weights as loop
values, with each LSTM's input and recurrent kernels packed into TF1's one joint kernel, lets
each layer run one matmul forward and one backward, and clipping see the joint kernel as the
tensor it was in TF1. The math is the TDLearner's: same loss, per-variable clipping by norm 5,
the `ResourceApplyAdam` update with TF1's defaults, then the soft target update. The variables
(Keras weights and Adam slots) are written back once, after the K updates.

Used for models with `parameter_groups` / `step_packed` (NoteRNN) and the learner's default Adam;
any other model or optimizer takes TDLearner's per-update variable path.
"""
import functools

from sequence_tutor_tf._tf import keras, tf
from sequence_tutor_tf.rl.update_math import CLIP_NORM, clip_by_joint_norm

ADAM_SLOTS = ("m", "v")


def supports(learner):
    """True when `learner`'s networks and optimizer can run packed."""
    models = [learner.q_network, learner.target_network, learner.prior]
    if not all(hasattr(m, "parameter_groups") and hasattr(m, "step_packed") for m in models):
        return False
    shapes = [[tuple(v.shape) for g in m.parameter_groups() for v in g]
              for m in (learner.q_network, learner.target_network)]
    opt = learner.optimizer
    return (shapes[0] == shapes[1] and isinstance(opt, keras.optimizers.legacy.Adam)
            and not opt.amsgrad and not opt._initial_decay
            and not callable(opt._hyper.get("learning_rate")))


def pack(groups, read=lambda v: v):
    """One tensor per group: its variables (or `read(variable)`) concatenated on axis 0."""
    return [tf.concat([read(v) for v in g], axis=0) if len(g) > 1
            else tf.convert_to_tensor(read(g[0])) for g in groups]


def unpack(packed, groups):
    """Inverse of `pack`: [(variable, tensor)] with each group's tensor split by its rows."""
    out = []
    for tensor, group in zip(packed, groups):
        parts = tf.split(tensor, [int(v.shape[0]) for v in group], axis=0) if len(group) > 1 \
            else [tensor]
        out.extend(zip(group, parts))
    return out


class PackedUpdates:
    """The packed K-update loop of one TDLearner (call `run` inside its compiled function)."""

    def __init__(self, learner):
        self.learner = learner
        trained = [learner.q_network] + ([learner.prior] if learner.train_prior else [])
        self.groups = [m.parameter_groups() for m in trained]
        self.target_groups = learner.target_network.parameter_groups()
        # TF1 clipped each of its variables alone, and an LSTM kernel was one variable: the
        # packed kernel. With joint_lstm_clipping off, its input and recurrent parts are
        # clipped apart, as Keras' two variables would be.
        self.joint = learner.joint_lstm_clipping
        variables = [v for groups in self.groups for g in groups for v in g]
        learner.optimizer._create_all_weights(variables)     # slots exist before tracing

    def _clip(self, grad, group):
        if self.joint or len(group) == 1:
            return clip_by_joint_norm([grad], CLIP_NORM)[0]
        parts = tf.split(grad, [int(v.shape[0]) for v in group], axis=0)
        return tf.concat([clip_by_joint_norm([p], CLIP_NORM)[0] for p in parts], axis=0)

    def run(self, batches, with_td=False):
        """K updates; returns (losses [K], mean targets [K]), with `with_td` also each row's
        TD error after its update [K, B] (the Q network's new weights, the old target's)."""
        learner, opt = self.learner, self.learner.optimizer
        slot = lambda name: (lambda v: opt.get_slot(v, name))
        weights = [pack(g) for g in self.groups]
        moments = {name: [pack(g, slot(name)) for g in self.groups] for name in ADAM_SLOTS}
        target = pack(self.target_groups)
        lr = opt._get_hyper("learning_rate", tf.float32)
        beta_1 = opt._get_hyper("beta_1", tf.float32)
        beta_2 = opt._get_hyper("beta_2", tf.float32)
        epsilon = tf.constant(opt.epsilon, tf.float32)
        first_step = tf.cast(opt.iterations, tf.float32) + 1.0
        rate = learner.target_network_update_rate
        k = tf.shape(batches["rewards"])[0]

        packed_step = lambda model, packed: functools.partial(model.step_packed, packed)

        def loss_of(weights, target, batch):
            return learner._loss(
                batch, q_step=packed_step(learner.q_network, weights[0]),
                target_step=packed_step(learner.target_network, target),
                prior_step=packed_step(learner.prior, weights[1]) if learner.train_prior
                else None, with_future=with_td)

        def body(i, weights, m, v, target, losses, targets, *tds):
            batch = {name: value[i] for name, value in batches.items()}
            with tf.GradientTape() as tape:
                tape.watch(weights)
                loss, target_vals, *future = loss_of(weights, target, batch)
            grads = tape.gradient(loss, weights)
            step = first_step + tf.cast(i, tf.float32)
            alpha = lr * tf.sqrt(1.0 - tf.pow(beta_2, step)) / (1.0 - tf.pow(beta_1, step))
            new_w, new_m, new_v = [], [], []
            for model_w, model_g, model_m, model_v, groups in zip(weights, grads, m, v,
                                                                  self.groups):
                ws, ms, vs = [], [], []
                for w, g, m_, v_, group in zip(model_w, model_g, model_m, model_v, groups):
                    g = self._clip(g, group)
                    m_ = m_ + (g - m_) * (1.0 - beta_1)
                    v_ = v_ + (tf.square(g) - v_) * (1.0 - beta_2)
                    ws.append(w - alpha * m_ / (tf.sqrt(v_) + epsilon))
                    ms.append(m_)
                    vs.append(v_)
                new_w.append(ws)
                new_m.append(ms)
                new_v.append(vs)
            if with_td:      # read before the soft target update, as the research code does
                td = learner.td_errors_after(
                    batch, future[0], q_step=packed_step(learner.q_network, new_w[0]))
                tds = (tds[0].write(i, td),)
            target = [t - rate * (t - w) for t, w in zip(target, new_w[0])]
            return (i + 1, new_w, new_m, new_v, target, losses.write(i, loss),
                    targets.write(i, tf.reduce_mean(target_vals))) + tuple(tds)

        _, weights, m, v, target, losses, targets, *tds = tf.while_loop(
            lambda i, *_: i < k, body,
            (tf.constant(0), weights, moments["m"], moments["v"], target,
             tf.TensorArray(tf.float32, size=k), tf.TensorArray(tf.float32, size=k))
            + ((tf.TensorArray(tf.float32, size=k),) if with_td else ()))

        for model_w, model_m, model_v, groups in zip(weights, m, v, self.groups):
            for (var, value), (_, m_value), (_, v_value) in zip(
                    unpack(model_w, groups), unpack(model_m, groups), unpack(model_v, groups)):
                var.assign(value)
                opt.get_slot(var, "m").assign(m_value)
                opt.get_slot(var, "v").assign(v_value)
        for var, value in unpack(target, self.target_groups):
            var.assign(value)
        opt.iterations.assign_add(tf.cast(k, opt.iterations.dtype))
        if with_td:
            return losses.stack(), targets.stack(), tds[0].stack()
        return losses.stack(), targets.stack()
