"""tf.data input pipeline for maximum-likelihood training of the Note RNN with `keras.Model.fit`.

Each element is what Magenta's melody_rnn SequenceExamples hold, padded into a batch: one-hot
inputs of events[:-1], integer labels events[1:], plus per-step loss weights. Weights are 0 on
padding and on the first `skip_first_n_losses` steps of a melody: the original Note RNN
(`skip_first_n_losses` in the RL Tuner's hparams, 32 there) did not train on the opening steps,
which are predicted from almost no context.
"""
import numpy as np

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.music import encoding

# Label lengths at which batches are split; melodies are at most 512 steps.
DEFAULT_BUCKET_BOUNDARIES = (64, 128, 192, 256, 320, 384, 448)
DEFAULT_MAX_LENGTH = 512  # events per window (Magenta's max_steps_truncate)


def dataset_element_spec():
    """(inputs float32 [B,T,38], labels int32 [B,T], sample_weights float32 [B,T])."""
    return (tf.TensorSpec([None, None, encoding.NUM_CLASSES], tf.float32),
            tf.TensorSpec([None, None], tf.int32),
            tf.TensorSpec([None, None], tf.float32))


def split_train_validation(melodies, validation_fraction=0.1, seed=0):
    """Deterministic random split; returns (train, validation) lists of melodies."""
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    melodies = list(melodies)
    n = len(melodies)
    n_val = int(round(n * validation_fraction))
    if validation_fraction > 0 and n_val == 0 and n >= 2:
        n_val = 1
    order = np.random.default_rng(seed).permutation(n)
    val_idx = set(order[:n_val].tolist())
    train = [m for i, m in enumerate(melodies) if i not in val_idx]
    val = [m for i, m in enumerate(melodies) if i in val_idx]
    return train, val


def make_dataset(melodies, batch_size, skip_first_n_losses=0, shuffle=True, seed=0,
                 repeat=False, bucket_boundaries=None, max_length=DEFAULT_MAX_LENGTH):
    """Batches of (inputs, labels, sample_weights) for `fit`; see `dataset_element_spec`.

    `bucket_boundaries=None` uses DEFAULT_BUCKET_BOUNDARIES; pass `()` for one padded batch
    stream without bucketing (deterministic batch composition, handy for evaluation).
    """
    from sequence_tutor_tf.training.sequence_dataset import make_sequence_dataset
    checked = [encoding.check_events(m, f"melody {idx}") for idx, m in enumerate(melodies)]
    return make_sequence_dataset(
        checked, encoding.NUM_CLASSES, batch_size, skip_first_n_losses=skip_first_n_losses,
        shuffle=shuffle, seed=seed, repeat=repeat,
        bucket_boundaries=DEFAULT_BUCKET_BOUNDARIES if bucket_boundaries is None
        else bucket_boundaries, max_length=max_length, what="melody")


def unigram_nll(train_melodies, eval_melodies, smoothing=1.0, skip_first_n_losses=0):
    """Nats per event of the eval labels under the train labels' frequencies (add-one smoothed).

    The baseline a Note RNN must beat: a model that ignores context entirely. With
    `skip_first_n_losses` it scores the same labels that `make_dataset` weighs in, so the two
    numbers compare like for like.
    """
    counts = np.full(encoding.NUM_CLASSES, float(smoothing))
    for m in train_melodies:
        arr = encoding.check_events(m)
        counts += np.bincount(arr[1:], minlength=encoding.NUM_CLASSES)
    log_p = np.log(counts / counts.sum())
    total, n = 0.0, 0
    for m in eval_melodies:
        labels = encoding.check_events(m)[1 + skip_first_n_losses:]
        total -= float(log_p[labels].sum())
        n += len(labels)
    if n == 0:
        raise ValueError("eval_melodies hold no transitions to score")
    return total / n
