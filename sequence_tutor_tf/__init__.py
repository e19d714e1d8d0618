"""sequence_tutor_tf: Sequence Tutor (KL-controlled RL tuning of sequence models) on TF2 / tf-keras.

Importing the package selects Keras 2 (`TF_USE_LEGACY_KERAS=1`) before TensorFlow loads.
Heavy modules load lazily, so `import sequence_tutor_tf` stays cheap for the CLI's `--help`.
"""
import importlib
import os
import warnings

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
# note-seq imports pydub for audio we never touch; its missing-ffmpeg warning is noise here.
warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)

__version__ = "0.1.0"

# Public names, resolved on first use: name -> module that defines it.
_LAZY = {
    "NoteRNN": "sequence_tutor_tf.models.note_rnn",
    "RLTuner": "sequence_tutor_tf.music.rl_tuner",
    "default_dqn_hparams": "sequence_tutor_tf.rl.hparams",
    "default_hparams": "sequence_tutor_tf.models.hparams",
    "basic_rnn_hparams": "sequence_tutor_tf.models.hparams",
    "small_model_hparams": "sequence_tutor_tf.models.hparams",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sequence_tutor_tf' has no attribute {name!r}")


__all__ = sorted(_LAZY) + ["__version__"]
