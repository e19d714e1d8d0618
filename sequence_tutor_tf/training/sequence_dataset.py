"""tf.data batches for maximum-likelihood training of any token language model with `fit`.

Each element is (one-hot inputs of tokens[:-1], integer labels tokens[1:], per-step loss
weights), padded into a batch; weights are 0 on padding and on the first `skip_first_n_losses`
steps of a sequence. Sequences longer than `max_length` are cut into windows that overlap by one
token, so every transition is trained on exactly once. Music (music/dataset.py) and molecules
(molecules/prior.py) both batch their token sequences here.
"""
import numpy as np

from sequence_tutor_tf._tf import tf


def _windows(sequences, max_length, skip_first_n_losses):
    if max_length < 2:
        raise ValueError(f"max_length must be at least 2 tokens, got {max_length}")
    pieces, skips = [], []
    for seq in sequences:
        arr = np.asarray(seq, np.int32)
        if len(arr) < 2:
            continue  # no transition to learn from
        start = 0
        while start < len(arr) - 1:
            pieces.append(arr[start:start + max_length])
            skips.append(skip_first_n_losses if start == 0 else 0)
            start += max_length - 1
    return pieces, skips


def make_sequence_dataset(sequences, num_classes, batch_size, skip_first_n_losses=0,
                          shuffle=True, seed=0, repeat=False, bucket_boundaries=(),
                          max_length=512, what="sequence"):
    """(inputs float32 [B, T, num_classes], labels int32 [B, T], weights float32 [B, T])."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if skip_first_n_losses < 0:
        raise ValueError(f"skip_first_n_losses must be >= 0, got {skip_first_n_losses}")
    pieces, skips = _windows(sequences, max_length, skip_first_n_losses)
    if not pieces:
        raise ValueError(f"no {what} with at least 2 tokens among {len(sequences)}")
    lengths = np.asarray([len(p) for p in pieces], np.int64)
    tokens = tf.RaggedTensor.from_row_lengths(np.concatenate(pieces).astype(np.int32), lengths)
    ds = tf.data.Dataset.from_tensor_slices((tokens, np.asarray(skips, np.int32)))
    if shuffle:
        ds = ds.shuffle(len(pieces), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()

    def to_example(seq, skip):
        seq = seq if isinstance(seq, tf.Tensor) else seq.to_tensor()
        inputs = tf.one_hot(seq[:-1], num_classes, dtype=tf.float32)
        labels = seq[1:]
        weights = tf.cast(tf.range(tf.shape(labels)[0]) >= skip, tf.float32)
        return inputs, labels, weights

    ds = ds.map(to_example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    padded_shapes = ([None, num_classes], [None], [None])
    boundaries = tuple(bucket_boundaries or ())
    if boundaries:
        ds = ds.bucket_by_sequence_length(
            element_length_func=lambda x, y, w: tf.shape(y)[0],
            bucket_boundaries=list(boundaries),
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            padded_shapes=padded_shapes)
    else:
        ds = ds.padded_batch(batch_size, padded_shapes=padded_shapes)
    return ds.prefetch(tf.data.AUTOTUNE)
