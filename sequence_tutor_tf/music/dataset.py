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


def _windows(melodies, max_length, skip_first_n_losses):
    """Cuts melodies into windows of at most `max_length` events overlapping by one event, so
    every transition is trained on exactly once; only a melody's first window skips losses."""
    if max_length < 2:
        raise ValueError(f"max_length must be at least 2 events, got {max_length}")
    pieces, skips = [], []
    for idx, m in enumerate(melodies):
        arr = encoding.check_events(m, f"melody {idx}")
        if len(arr) < 2:
            continue  # no transition to learn from
        start = 0
        while start < len(arr) - 1:
            pieces.append(arr[start:start + max_length])
            skips.append(skip_first_n_losses if start == 0 else 0)
            start += max_length - 1
    return pieces, skips


def make_dataset(melodies, batch_size, skip_first_n_losses=0, shuffle=True, seed=0,
                 repeat=False, bucket_boundaries=None, max_length=DEFAULT_MAX_LENGTH):
    """Batches of (inputs, labels, sample_weights) for `fit`; see `dataset_element_spec`.

    `bucket_boundaries=None` uses DEFAULT_BUCKET_BOUNDARIES; pass `()` for one padded batch
    stream without bucketing (deterministic batch composition, handy for evaluation).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if skip_first_n_losses < 0:
        raise ValueError(f"skip_first_n_losses must be >= 0, got {skip_first_n_losses}")
    pieces, skips = _windows(melodies, max_length, skip_first_n_losses)
    if not pieces:
        raise ValueError(f"no melody with at least 2 events among {len(melodies)} melodies")
    lengths = np.asarray([len(p) for p in pieces], np.int64)
    events = tf.RaggedTensor.from_row_lengths(
        np.concatenate(pieces).astype(np.int32), lengths)
    ds = tf.data.Dataset.from_tensor_slices((events, np.asarray(skips, np.int32)))
    if shuffle:
        ds = ds.shuffle(len(pieces), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()

    def to_example(ev, skip):
        ev = ev if isinstance(ev, tf.Tensor) else ev.to_tensor()
        inputs = tf.one_hot(ev[:-1], encoding.NUM_CLASSES, dtype=tf.float32)
        labels = ev[1:]
        steps = tf.range(tf.shape(labels)[0])
        weights = tf.cast(steps >= skip, tf.float32)
        return inputs, labels, weights

    ds = ds.map(to_example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    padded_shapes = ([None, encoding.NUM_CLASSES], [None], [None])
    boundaries = DEFAULT_BUCKET_BOUNDARIES if bucket_boundaries is None else tuple(
        bucket_boundaries)
    if boundaries:
        ds = ds.bucket_by_sequence_length(
            element_length_func=lambda x, y, w: tf.shape(y)[0],
            bucket_boundaries=list(boundaries),
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            padded_shapes=padded_shapes)
    else:
        ds = ds.padded_batch(batch_size, padded_shapes=padded_shapes)
    return ds.prefetch(tf.data.AUTOTUNE)


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
