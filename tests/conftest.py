"""Test set-up shared by every test module.

Keras 2 must be selected before anything imports TensorFlow (magenta included), so it is set
here, the first code pytest runs.
"""
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import sequence_tutor_tf  # noqa: E402,F401  (selects Keras 2 before any other TF import)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
