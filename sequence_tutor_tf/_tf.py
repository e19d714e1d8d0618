"""Imports TensorFlow with tf-keras (Keras 2) selected.

`TF_USE_LEGACY_KERAS` must be set before TensorFlow is first imported; every module of the package
imports TensorFlow through here so that `tf.keras` is always Keras 2, whoever imports us first.
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
if os.environ["TF_USE_LEGACY_KERAS"] not in ("1", "true", "True"):
    raise ImportError(
        "sequence_tutor_tf needs Keras 2 (tf-keras): TF_USE_LEGACY_KERAS is set to "
        f"{os.environ['TF_USE_LEGACY_KERAS']!r}; unset it or set it to 1.")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402  (must follow the environment set-up)

keras = tf.keras


def keras_major_version(k=keras) -> int:
    """2 when `k` is tf-keras (Keras 2), 3 for Keras 3, read off where its Layer class lives."""
    return 2 if k.layers.Layer.__module__.startswith("tf_keras") else 3


if keras_major_version() != 2:
    raise ImportError(
        f"tf.keras is {keras.layers.Layer.__module__}, expected Keras 2 from tf-keras. TensorFlow was "
        "imported before TF_USE_LEGACY_KERAS=1 was set; import sequence_tutor_tf first or set the "
        "variable in the environment.")

__all__ = ["tf", "keras"]
