"""TF1 LSTM weights <-> Keras LSTM weights.

TF1's `LSTMCell`/`BasicLSTMCell` keep one kernel over `concat([inputs, h])` with gate columns in
the order (i, j, f, o), j being the candidate, and add `forget_bias` to f at run time. Keras keeps
separate input and recurrent kernels with gates (i, f, c, o) and no run-time forget bias. The
conversion splits the kernel, swaps the two middle gate blocks and folds the forget bias into the
stored bias, so both cells compute the same numbers.
"""
import numpy as np

# Swapping blocks 1 and 2 maps (i, j, f, o) to (i, f, j, o) and back: the permutation is its
# own inverse, so one table serves both directions.
_SWAP_MIDDLE = (0, 2, 1, 3)
FORGET_BLOCK_KERAS = 1
DEFAULT_FORGET_BIAS = 1.0


def _reorder(array, axis):
    blocks = np.split(np.asarray(array), 4, axis=axis)
    return np.concatenate([blocks[i] for i in _SWAP_MIDDLE], axis=axis)


def tf1_lstm_to_keras(kernel, bias, input_size, forget_bias=DEFAULT_FORGET_BIAS):
    """(kernel [in+u, 4u], bias [4u]) in TF1 layout -> [kernel, recurrent_kernel, bias] for Keras."""
    kernel = np.asarray(kernel, np.float32)
    units = kernel.shape[1] // 4
    k = _reorder(kernel, axis=1)
    b = _reorder(np.asarray(bias, np.float32), axis=0).copy()
    b[FORGET_BLOCK_KERAS * units:(FORGET_BLOCK_KERAS + 1) * units] += np.float32(forget_bias)
    return [k[:input_size], k[input_size:], b]


def keras_lstm_to_tf1(kernel, recurrent_kernel, bias, forget_bias=DEFAULT_FORGET_BIAS):
    """Keras [kernel, recurrent_kernel, bias] -> (kernel [in+u, 4u], bias [4u]) in TF1 layout."""
    units = np.asarray(recurrent_kernel).shape[0]
    b = np.asarray(bias, np.float32).copy()
    b[FORGET_BLOCK_KERAS * units:(FORGET_BLOCK_KERAS + 1) * units] -= np.float32(forget_bias)
    k = np.concatenate([np.asarray(kernel, np.float32), np.asarray(recurrent_kernel, np.float32)],
                       axis=0)
    return _reorder(k, axis=1), _reorder(b, axis=0)
