"""Maximum-likelihood training of the Note RNN (the prior of Sequence Tutor) with Keras `fit`.

The optimisation follows the names of `default_hparams()`: Adam, a learning rate that decays
exponentially (`initial_learning_rate` x `decay_rate` every `decay_steps`) or a constant `lr`,
gradients clipped to norm `clip_norm`, an L2 penalty `l2_reg` on the weight matrices, and the
first `skip_first_n_losses` positions of each melody left out of the loss (they are weighted 0
by the data pipeline).

Resuming is Keras' own `BackupAndRestore`: a killed run restarted with the same command continues
from its last backup (model, optimizer, epoch and step). The finished model is written in our Note
RNN format, which every other command reads.
"""
import dataclasses
import json
import logging
import os

from sequence_tutor_tf._tf import keras, tf
from sequence_tutor_tf.models.checkpoints import save_note_rnn
from sequence_tutor_tf.models.note_rnn import NoteRNN
from sequence_tutor_tf.utils.files import atomic_write_text

log = logging.getLogger(__name__)

STRATEGIES = ("default", "mirrored", "multi_worker")


@dataclasses.dataclass
class MLEResult:
    model: NoteRNN
    model_dir: str
    metrics: dict


def make_strategy(name, logical_cpus=0):
    """The tf.distribute strategy named by `--strategy`.

    `mirrored` replicates over all GPUs, or over the logical CPUs made by `logical_cpus`
    (which must be configured before TensorFlow initialises its devices).
    """
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; expected one of {STRATEGIES}")
    if logical_cpus and logical_cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * logical_cpus)
        except RuntimeError as e:
            raise RuntimeError(f"--logical-cpus {logical_cpus}: TensorFlow devices were "
                               f"already initialised ({e})") from None
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = ([d.name for d in gpus] if gpus else
                   [d.name for d in tf.config.list_logical_devices("CPU")])
        return tf.distribute.MirroredStrategy(devices)
    return tf.distribute.MultiWorkerMirroredStrategy()


def make_optimizer(hparams):
    if hparams.exponentially_decay_learning_rate:
        learning_rate = keras.optimizers.schedules.ExponentialDecay(
            hparams.initial_learning_rate, decay_steps=hparams.decay_steps,
            decay_rate=hparams.decay_rate, staircase=True)
    else:
        learning_rate = hparams.lr
    return keras.optimizers.Adam(learning_rate=learning_rate, global_clipnorm=hparams.clip_norm)


def add_l2_penalty(model, l2_reg):
    """l2_reg x (sum of squared weight matrices) / 2, as tf.nn.l2_loss; biases are not penalised."""
    if not l2_reg:
        return
    matrices = [w for w in model.trainable_weights if "bias" not in w.name]
    model.add_loss(lambda: l2_reg * tf.add_n([tf.nn.l2_loss(w) for w in matrices]))


def compile_for_mle(model, hparams):
    add_l2_penalty(model, hparams.l2_reg)
    model.compile(
        optimizer=make_optimizer(hparams),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[keras.metrics.SparseCategoricalCrossentropy(from_logits=True, name="nll"),
                          keras.metrics.SparseCategoricalAccuracy(name="accuracy")])


class SaveNoteRNNCallback(keras.callbacks.Callback):
    """Writes the model in our Note RNN format at each epoch end (readable while training)."""

    def __init__(self, model_dir, steps_per_epoch, extra_config):
        super().__init__()
        self.model_dir = model_dir
        self.steps_per_epoch = steps_per_epoch
        self.extra_config = extra_config

    def on_epoch_end(self, epoch, logs=None):
        save_note_rnn(self.model, self.model_dir, step=(epoch + 1) * self.steps_per_epoch,
                      extra_config=self.extra_config)


def train_note_rnn(train_ds, val_ds, hparams, output_dir, num_training_steps, steps_per_epoch,
                   strategy=None, extra_config=None, verbose=1):
    """Trains a Note RNN by MLE; resumes from `output_dir/backup` if a previous run was cut off.

    Args:
      train_ds: repeated tf.data dataset of (inputs, labels, weights) batches.
      val_ds: finite validation dataset of the same structure.
      num_training_steps: total optimizer steps; rounded up to whole epochs of steps_per_epoch.
    Returns:
      MLEResult with the trained model, its directory and the final validation metrics.
    """
    strategy = strategy or tf.distribute.get_strategy()
    epochs = max(1, -(-num_training_steps // steps_per_epoch))
    model_dir = os.path.join(output_dir, "note_rnn")
    with strategy.scope():
        model = NoteRNN.from_hparams(hparams)
        compile_for_mle(model, hparams)
    callbacks = [
        keras.callbacks.BackupAndRestore(os.path.join(output_dir, "backup"),
                                         save_freq=min(steps_per_epoch, 200)),
        keras.callbacks.CSVLogger(os.path.join(output_dir, "training_log.csv"), append=True),
        keras.callbacks.TensorBoard(os.path.join(output_dir, "logs"), update_freq=50,
                                    profile_batch=0),
        SaveNoteRNNCallback(model_dir, steps_per_epoch, extra_config),
    ]
    model.fit(train_ds, epochs=epochs, steps_per_epoch=steps_per_epoch, validation_data=val_ds,
              callbacks=callbacks, verbose=verbose)
    values = model.evaluate(val_ds, return_dict=True, verbose=0)
    metrics = {"validation_nll": float(values["nll"]),
               "validation_accuracy": float(values["accuracy"]),
               "optimizer_steps": int(model.optimizer.iterations.numpy())}
    save_note_rnn(model, model_dir, step=epochs * steps_per_epoch, extra_config=extra_config)
    atomic_write_text(os.path.join(output_dir, "metrics.json"), json.dumps(metrics, indent=2))
    return MLEResult(model=model, model_dir=model_dir, metrics=metrics)
