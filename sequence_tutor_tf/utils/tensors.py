"""Handing NumPy arrays to TensorFlow without a copy.

Why: `tf.convert_to_tensor` copies. A fused call of 205 minibatch-32 G updates reads about
16 MB of replayed LSTM states, and copying them took 6.7 ms of a 66 ms call on our CPU. TF can
share a NumPy array's memory through DLPack, but only memory aligned for Eigen (64 bytes with
AVX-512; a misaligned tensor aborts the process inside some kernels), so the replay gathers into
arrays from `aligned_empty` and the learner passes them through `as_tensor`.
"""
import numpy as np

from sequence_tutor_tf._tf import tf

ALIGNMENT = 64       # bytes: Eigen's largest alignment (EIGEN_MAX_ALIGN_BYTES with AVX-512)
_SHAREABLE = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64))


def aligned_empty(shape, dtype):
    """An uninitialised C-contiguous array whose data starts on an ALIGNMENT-byte boundary."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + ALIGNMENT, np.uint8)
    offset = (-raw.ctypes.data) % ALIGNMENT
    return raw[offset:offset + nbytes].view(dtype).reshape(shape)


def can_share(array):
    """True when `as_tensor(array)` shares the array's memory instead of copying it."""
    return (isinstance(array, np.ndarray) and array.dtype in _SHAREABLE
            and array.flags.c_contiguous and array.flags.writeable and array.size > 0
            and array.ctypes.data % ALIGNMENT == 0)


def as_tensor(array):
    """A tensor with `array`'s values: the same memory where `can_share`, else a copy.

    A shared array must not be written while the tensor is in use; the replay's gathers are
    fresh arrays, read once by one learner call.
    """
    if can_share(array):
        return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
    return tf.convert_to_tensor(array)
