"""One seed for Python, NumPy and TensorFlow, so that `--seed` makes a run repeatable."""
import os
import random

import numpy as np


def set_global_seed(seed):
    if seed is None:
        return
    from sequence_tutor_tf._tf import tf
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
