"""The arithmetic both update paths share (the per-update variables of learners.py and the packed
loop of packed_updates.py): TF1's Adam defaults, clipping by norm, and picking the taken action's
score. Kept apart so that neither path imports the other.
"""
from sequence_tutor_tf._tf import keras, tf

ADAM_LEARNING_RATE = 0.001    # tf.train.AdamOptimizer() defaults, used for every algorithm
ADAM_EPSILON = 1e-8
CLIP_NORM = 5.0


def make_optimizer(learning_rate=ADAM_LEARNING_RATE):
    """TF1 AdamOptimizer's defaults (the music original uses them; the molecule research code
    sets 1e-4); the fused ResourceApplyAdam kernel, as in TF1."""
    return keras.optimizers.legacy.Adam(learning_rate=learning_rate, beta_1=0.9,
                                        beta_2=0.999, epsilon=ADAM_EPSILON)


def sum_of_squares(t):
    """sum(t**2) as a matmul of the squares with a ones vector, then a sum of the row sums.

    Same value as `tf.reduce_sum(tf.square(t))` up to float32 summation order. XLA on CPU emits a
    full reduction of a [100, 400] gradient as an unvectorised tree (about 25 us) and splits
    column sums into a separate square and a windowed reduction; it fuses the square into this
    matmul, and clipping computes one per gradient per update.
    """
    t = tf.square(tf.reshape(t, [1, -1]) if t.shape.rank < 2 else t)
    return tf.reduce_sum(tf.matmul(t, tf.ones([t.shape[-1], 1], t.dtype)))


def clip_by_joint_norm(grads, clip_norm):
    """`tf.clip_by_global_norm(grads, clip_norm)[0]`: the group's gradients scaled together by
    clip_norm / max(norm, clip_norm), with the norm from `sum_of_squares`."""
    norm = tf.sqrt(tf.add_n([sum_of_squares(g) for g in grads]))
    scale = clip_norm * tf.minimum(1.0 / norm, 1.0 / clip_norm)
    return [g * scale for g in grads]


def taken_scores(scores, actions):
    """scores[i, actions[i]] for each row: the scores of the actions taken.

    A one-hot mask and a row sum instead of `tf.gather`: the same values (one score plus
    zeros) and the same gradient. The gather's gradient is a scatter into zeros, and in XLA's
    thunk graph it held back the work that could run beside it: G's update was 8-10% faster
    without it, with two intra-op threads (docs/performance.md).
    """
    columns = tf.range(tf.shape(scores)[1], dtype=actions.dtype)
    mask = tf.equal(columns[None, :], actions[:, None])
    return tf.reduce_sum(tf.where(mask, scores, tf.zeros_like(scores)), axis=1)


def clip_groups(models, variables, joint_lstm_kernels=True):
    """Index groups clipped together: TF1 stores an LSTM layer's input and recurrent kernels as
    one variable, so `clip_by_norm(g, 5)` saw their gradients as one tensor."""
    position = {id(v): i for i, v in enumerate(variables)}
    groups, seen = [], set()
    if joint_lstm_kernels:
        for model in models:
            for layer in getattr(model, "lstm_layers", []):
                pair = [position.get(id(layer.cell.kernel)),
                        position.get(id(layer.cell.recurrent_kernel))]
                if None not in pair:
                    groups.append(pair)
                    seen.update(pair)
    groups.extend([i] for i in range(len(variables)) if i not in seen)
    return groups
