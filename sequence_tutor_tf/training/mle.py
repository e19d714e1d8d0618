"""Maximum-likelihood training of the Note RNN (the prior of Sequence Tutor) with Keras `fit`.

The optimisation follows the names of `default_hparams()`: Adam, a learning rate that decays
exponentially (`initial_learning_rate` x `decay_rate` every `decay_steps`) or a constant `lr`,
gradients clipped to norm `clip_norm`, an L2 penalty `l2_reg` on the weight matrices, and the
first `skip_first_n_losses` positions of each melody left out of the loss (they are weighted 0
by the data pipeline).

Resuming is Keras' own `BackupAndRestore`: a killed run restarted with the same command continues
from its last backup (model, optimizer, epoch and step). `BackupAndRestore` deletes its backup
when `fit` ends, so our own record, `pretrain_state.json` (written atomically after each epoch's
Note RNN checkpoint), says how many epochs are done: a rerun after `fit` ended (during the
evaluation, or later stages) restores the finished model instead of training again. The log
`training_log.csv` is rewritten atomically at each epoch end, without rows for epochs that a
resumed run trains again. The finished model is written in our Note RNN format, which every
other command reads.

Training stops at the first non-finite loss (or non-finite weights at an epoch end) with a
`NonFiniteLossError` naming the optimizer step and the last good checkpoint.
"""
import csv
import dataclasses
import io
import json
import logging
import math
import numbers
import os

from sequence_tutor_tf._tf import keras, tf
from sequence_tutor_tf.models.checkpoints import latest_checkpoint_inside, save_note_rnn
from sequence_tutor_tf.models.note_rnn import NoteRNN
from sequence_tutor_tf.utils.files import atomic_write_text, resolve_inside

log = logging.getLogger(__name__)

STRATEGIES = ("default", "mirrored", "multi_worker")
STATE_FILE_NAME = "pretrain_state.json"
LOG_FILE_NAME = "training_log.csv"
MAX_LEARNING_RATE = 10.0


class NonFiniteLossError(RuntimeError):
    """The training loss or the weights became NaN or inf; the message says when and which
    checkpoint is the last good one."""


def validate_mle_hparams(hparams):
    """ValueError naming the hparam when a value would train nothing or diverge silently."""
    def number(name, low=None, high=None, low_open=False, integer=False):
        value = getattr(hparams, name)
        ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
              and math.isfinite(value) and (not integer or float(value).is_integer()))
        if ok and low is not None:
            ok = value > low if low_open else value >= low
        if ok and high is not None:
            ok = value <= high
        if not ok:
            wanted = "an integer" if integer else "a finite number"
            if low is not None:
                wanted += f" {'>' if low_open else '>='} {low:g}"
            if high is not None:
                wanted += f" and <= {high:g}"
            raise ValueError(f"hparam {name}={value!r}: expected {wanted}")
        return value

    sizes = hparams.rnn_layer_sizes
    if (not isinstance(sizes, (list, tuple)) or not sizes
            or not all(isinstance(u, int) and not isinstance(u, bool) and 0 < u <= 65536
                       for u in sizes)):
        raise ValueError(f"hparam rnn_layer_sizes={sizes!r}: expected a non-empty list of "
                         "positive integers like [100] or [512, 512]")
    number("batch_size", 1, 1 << 20, integer=True)
    number("one_hot_length", 1, integer=True)
    number("skip_first_n_losses", 0, integer=True)
    number("l2_reg", 0)
    number("clip_norm", 0, low_open=True)
    if not isinstance(hparams.exponentially_decay_learning_rate, bool):
        raise ValueError(f"hparam exponentially_decay_learning_rate="
                         f"{hparams.exponentially_decay_learning_rate!r}: expected true or false")
    if hparams.exponentially_decay_learning_rate:
        number("initial_learning_rate", 0, MAX_LEARNING_RATE, low_open=True)
        number("decay_steps", 1, integer=True)
        number("decay_rate", 0, 1, low_open=True)
    else:
        number("lr", 0, MAX_LEARNING_RATE, low_open=True)
    return hparams


def read_state(output_dir):
    """The run's pretrain_state.json as a dict, or None when there is none."""
    path = os.path.join(output_dir, STATE_FILE_NAME)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
    except ValueError as e:
        raise ValueError(f"{path}: not a pretrain state file ({e}); rerun with --restart to "
                         "start this run over") from None
    if not isinstance(state, dict) or not isinstance(state.get("epochs_completed", 0), int):
        raise ValueError(f"{path}: not a pretrain state file; rerun with --restart to start this "
                         "run over")
    return state


def write_state(output_dir, state):
    atomic_write_text(os.path.join(output_dir, STATE_FILE_NAME), json.dumps(state, indent=2))


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


def _last_good(model_dir):
    path = latest_checkpoint_inside(model_dir) if os.path.isdir(model_dir) else None
    return path or "none (no epoch finished)"


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Raises NonFiniteLossError at the first batch whose loss is NaN or inf.

    Placed first among the callbacks, it runs before BackupAndRestore could back up the
    diverged weights; raising (rather than `stop_training`) also keeps the epoch-end callbacks
    from saving them.
    """

    def __init__(self, model_dir):
        super().__init__()
        self.model_dir = model_dir
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            step = int(self.model.optimizer.iterations.numpy())
            raise NonFiniteLossError(
                f"the training loss became {float(loss)} at optimizer step {step} (epoch "
                f"{self.epoch + 1}, batch {batch + 1}); training stopped. Last good checkpoint: "
                f"{_last_good(self.model_dir)}. Lower the learning rate or clip_norm in "
                "--hparams and rerun with --restart")


class EpochCSVLogger(keras.callbacks.Callback):
    """CSVLogger's file (epoch, then the logs' keys sorted), rewritten atomically at each epoch
    end, dropping rows of this and later epochs left by an interrupted attempt."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def _rows(self):
        if not os.path.exists(self.path):
            return []
        with open(self.path, encoding="utf-8", newline="") as f:
            return [r for r in csv.DictReader(f) if str(r.get("epoch", "")).isdigit()]

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch, **{k: float(v) for k, v in sorted((logs or {}).items())}}
        rows = [r for r in self._rows() if int(r["epoch"]) < epoch] + [row]
        fields = ["epoch"] + sorted({k for r in rows for k in r if k != "epoch"})
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fields, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path, out.getvalue())


class SaveNoteRNNCallback(keras.callbacks.Callback):
    """Writes the model in our Note RNN format at each epoch end (readable while training), then
    records the finished epoch in pretrain_state.json. Diverged weights are never saved."""

    def __init__(self, model_dir, steps_per_epoch, extra_config, output_dir=None, state=None):
        super().__init__()
        self.model_dir = model_dir
        self.steps_per_epoch = steps_per_epoch
        self.extra_config = extra_config
        self.output_dir = output_dir
        self.state = state

    def on_epoch_end(self, epoch, logs=None):
        import numpy as np
        step = int(self.model.optimizer.iterations.numpy())
        bad = [v.name for v in self.model.weights if not np.all(np.isfinite(v.numpy()))]
        if bad:
            raise NonFiniteLossError(
                f"the weights became NaN or inf ({bad[0]}) by optimizer step {step} (end of "
                f"epoch {epoch + 1}); training stopped. Last good checkpoint: "
                f"{_last_good(self.model_dir)}. Lower the learning rate or clip_norm in "
                "--hparams and rerun with --restart")
        path = save_note_rnn(self.model, self.model_dir,
                             step=(epoch + 1) * self.steps_per_epoch,
                             extra_config=self.extra_config)
        if self.state is not None:
            self.state.update(epochs_completed=epoch + 1, optimizer_steps=step,
                              checkpoint=os.path.relpath(path, self.output_dir))
            write_state(self.output_dir, self.state)


def _restore_finished(model, output_dir, state):
    """Loads the finished run's weights (the checkpoint its state names) into `model`."""
    relative = state.get("checkpoint")
    if not relative:
        raise ValueError(f"{os.path.join(output_dir, STATE_FILE_NAME)} says training finished but "
                         "names no checkpoint; rerun with --restart")
    path = resolve_inside(output_dir, relative, f"{STATE_FILE_NAME} 'checkpoint'")
    if not tf.io.gfile.exists(path + ".index"):
        raise FileNotFoundError(f"{path}: the finished checkpoint named in {STATE_FILE_NAME} is "
                                "missing; rerun with --restart")
    status = tf.train.Checkpoint(model=model).restore(path)
    status.expect_partial()
    status.assert_existing_objects_matched()
    from sequence_tutor_tf.models.checkpoints import check_finite_weights
    check_finite_weights(model, f"checkpoint {path}")
    return path


def _relative_name(variable):
    """'lstm_0/lstm_cell/kernel' of 'note_rnn/lstm_0/lstm_cell/kernel:0' (the model's own name,
    which Keras may have made unique, and the ':0' left out)."""
    name = variable.name.split(":")[0]
    return name.split("/", 1)[1] if "/" in name else name


def copy_initial_weights(model, source_model, source):
    """Warm start: `model` gets `source_model`'s weights (a Note RNN loaded from our format, an
    RL Tuner checkpoint or a melody_rnn checkpoint or bundle).

    Every variable must exist in both with the same shape; otherwise a ValueError names the
    variable and both shapes (and the source's layer sizes, the usual fix). Returns the number
    of values copied.
    """
    sizes = getattr(source_model, "rnn_layer_sizes", None)
    hint = (f"; {source} holds rnn_layer_sizes={sizes}, num_classes="
            f"{getattr(source_model, 'num_classes', '?')}, input_size="
            f"{getattr(source_model, 'input_size', '?')} (pass --rnn-layer-sizes "
            f"{','.join(str(u) for u in sizes)} to match its layers)" if sizes else "")
    if type(source_model).__name__ != type(model).__name__:
        raise ValueError(f"--init-from {source}: a {type(source_model).__name__} (e.g. "
                         f"attention_rnn), but pretrain trains a {type(model).__name__}; warm "
                         "start needs the same architecture (basic_rnn bundles, RL Tuner and "
                         "our Note RNN checkpoints)")
    theirs = {_relative_name(v): v for v in source_model.weights}
    ours = {_relative_name(v): v for v in model.weights}
    for name, variable in ours.items():
        if name not in theirs:
            raise ValueError(f"--init-from {source}: variable {name} (shape "
                             f"{tuple(variable.shape)}) of the model to train is not in the "
                             f"source{hint}")
        if tuple(theirs[name].shape) != tuple(variable.shape):
            raise ValueError(f"--init-from {source}: variable {name} has shape "
                             f"{tuple(theirs[name].shape)} in the source but "
                             f"{tuple(variable.shape)} in the model to train{hint}")
    extra = sorted(set(theirs) - set(ours))
    if extra:
        raise ValueError(f"--init-from {source}: variable {extra[0]} (shape "
                         f"{tuple(theirs[extra[0]].shape)}) of the source has no place in the "
                         f"model to train{hint}")
    for name, variable in ours.items():
        variable.assign(theirs[name].numpy())
    return sum(int(v.shape.num_elements()) for v in ours.values())


def train_note_rnn(train_ds, val_ds, hparams, output_dir, num_training_steps, steps_per_epoch,
                   strategy=None, extra_config=None, verbose=1, state=None, init_from=None):
    """Trains a Note RNN by MLE; resumes from `output_dir/backup` if a previous run was cut off,
    and trains nothing when `output_dir/pretrain_state.json` says every epoch is done.

    Args:
      train_ds: repeated tf.data dataset of (inputs, labels, weights) batches.
      val_ds: finite validation dataset of the same structure.
      num_training_steps: total optimizer steps; rounded up to whole epochs of steps_per_epoch.
      state: the run's state dict (see read_state); updated and written at each epoch end.
        None: read it from output_dir (a new one when there is none).
      init_from: optional (source model, description): a warm start, whose weights the model
        starts from (copy_initial_weights); a resumed run continues from its backup instead.
    Returns:
      MLEResult with the trained model, its directory and the final validation metrics.
    Raises:
      NonFiniteLossError: the loss or the weights became NaN or inf.
    """
    strategy = strategy or tf.distribute.get_strategy()
    epochs = max(1, -(-num_training_steps // steps_per_epoch))
    model_dir = os.path.join(output_dir, "note_rnn")
    if state is None:
        state = read_state(output_dir) or {}
    state.setdefault("epochs_completed", 0)
    state.update(epochs=epochs, steps_per_epoch=steps_per_epoch)
    with strategy.scope():
        model = NoteRNN.from_hparams(hparams)
        compile_for_mle(model, hparams)
    if state["epochs_completed"] >= epochs:
        path = _restore_finished(model, output_dir, state)
        log.info("training finished earlier (%d epochs, %s); not training again",
                 state["epochs_completed"], path)
    else:
        if init_from is not None:
            copied = copy_initial_weights(model, *init_from)
            log.info("warm start: %d weights from %s", copied, init_from[1])
            if "initial_validation" not in state:
                values = model.evaluate(val_ds, return_dict=True, verbose=0)
                state["initial_validation"] = {"validation_nll": float(values["nll"]),
                                               "validation_accuracy": float(values["accuracy"])}
        write_state(output_dir, state)
        callbacks = [
            StopOnNonFiniteLoss(model_dir),
            keras.callbacks.BackupAndRestore(os.path.join(output_dir, "backup"),
                                             save_freq=min(steps_per_epoch, 200)),
            EpochCSVLogger(os.path.join(output_dir, LOG_FILE_NAME)),
            keras.callbacks.TensorBoard(os.path.join(output_dir, "logs"), update_freq=50,
                                        profile_batch=0),
            SaveNoteRNNCallback(model_dir, steps_per_epoch, extra_config, output_dir, state),
        ]
        model.fit(train_ds, epochs=epochs, steps_per_epoch=steps_per_epoch,
                  validation_data=val_ds, callbacks=callbacks, verbose=verbose)
    metrics = state.get("validation")
    if not metrics:
        values = model.evaluate(val_ds, return_dict=True, verbose=0)
        metrics = {"validation_nll": float(values["nll"]),
                   "validation_accuracy": float(values["accuracy"])}
        if not all(math.isfinite(v) for v in metrics.values()):
            raise NonFiniteLossError(f"validation gave {metrics} after training; the model in "
                                     f"{model_dir} diverged. Rerun with --restart and other "
                                     "--hparams")
        state["validation"] = metrics
        write_state(output_dir, state)
    metrics = dict(metrics, optimizer_steps=int(state.get("optimizer_steps")
                                                or epochs * steps_per_epoch))
    if state.get("initial_validation"):
        metrics["initial_validation_nll"] = state["initial_validation"]["validation_nll"]
    atomic_write_text(os.path.join(output_dir, "metrics.json"), json.dumps(metrics, indent=2))
    return MLEResult(model=model, model_dir=model_dir, metrics=metrics)
