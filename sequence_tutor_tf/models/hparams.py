"""Note RNN hparams with the names and defaults of magenta's `rl_tuner_ops`.

Magenta's NoteRNNLoader never trains; these are the values the paper's Note RNN was trained with.
See docs/differences.md for the one default we change for MLE training (`initial_learning_rate`).
"""
from sequence_tutor_tf.music.encoding import NUM_CLASSES  # the melody vocabulary's size
from sequence_tutor_tf.utils.hparams import HParams

BATCH_SIZE = 128

# Under Adam the paper's 0.5 does not train (Bach melodies, 400 steps: validation NLL 2.04 against
# 0.54 with 0.01 and a unigram baseline of 1.09); PAPER_INITIAL_LEARNING_RATE keeps the number.
PAPER_INITIAL_LEARNING_RATE = 0.5
DEFAULT_INITIAL_LEARNING_RATE = 0.01


def default_hparams():
    """The RL Tuner Note RNN: one LSTM of 100 units over the 38-class melody one-hot."""
    return HParams(
        use_dynamic_rnn=True,
        batch_size=BATCH_SIZE,
        lr=0.0002,
        l2_reg=2.5e-5,
        clip_norm=5,
        initial_learning_rate=DEFAULT_INITIAL_LEARNING_RATE,
        decay_steps=1000,
        decay_rate=0.85,
        rnn_layer_sizes=[100],
        skip_first_n_losses=32,
        one_hot_length=NUM_CLASSES,
        exponentially_decay_learning_rate=True)


def basic_rnn_hparams():
    """Magenta melody_rnn basic_rnn as in its pre-trained bundle: 2 x 512 LSTM."""
    return HParams(batch_size=128, rnn_layer_sizes=[512, 512], one_hot_length=NUM_CLASSES)


def small_model_hparams():
    """A tiny Note RNN for tests and smoke runs (not in the original)."""
    hparams = default_hparams()
    hparams.rnn_layer_sizes = [16]
    hparams.batch_size = 8
    hparams.skip_first_n_losses = 0
    return hparams
