"""TensorBoard HParams records of a sweep, so `tensorboard --logdir SWEEP_ROOT` shows its runs
side by side (the HPARAMS tab: one row per run, its grid values and final metrics).

The experiment (every grid key with its values, and the metrics) is written once into
SWEEP_ROOT/logs; each run's session record (its grid values) goes into the run's own TensorBoard
directory, runs/NAME/logs, where `tune` writes the scalars that the metrics name, so the
dashboard reads the metrics straight from the run. `final_scalars` reads their last values for
sweep_summary.csv.
"""
import os

# tune's scalars (rl/tuning.py TensorBoardLogger) shown as the sweep's metrics.
METRICS = (("objective/scores", "task reward x reward_scaler per step"),
           ("objective/kl", "KL(policy || prior) per step"),
           ("objective/logprior", "log p_prior per step"),
           ("eval/scores", "evaluation task reward"),
           ("loss", "learner loss"))


def _hparam_value(value):
    if isinstance(value, (bool, int, float, str)):
        return value
    import json
    return json.dumps(value)


def _as_recorded(values, value):
    """`value` as the HParams records hold it: one type per key (a Discrete domain's rule), so
    ints among floats become floats, and a key of mixed kinds becomes text."""
    kinds = {type(_hparam_value(v)) for v in values}
    value = _hparam_value(value)
    if kinds == {int, float} and not isinstance(value, bool):
        return float(value)
    return value if len(kinds) == 1 else str(value)


def _domain(values):
    from tensorboard.plugins.hparams import api as hp
    return hp.Discrete(sorted({_as_recorded(values, v) for v in values}, key=str))


def write_experiment(root, grid):
    """The HParams experiment record (keys, their values, the metrics) in root/logs."""
    from tensorboard.plugins.hparams import api as hp

    from sequence_tutor_tf._tf import tf
    hparams = [hp.HParam(key, _domain(values)) for key, values in grid.items()]
    metrics = [hp.Metric(tag, display_name=tag, description=text) for tag, text in METRICS]
    writer = tf.summary.create_file_writer(os.path.join(root, "logs"))
    with writer.as_default():
        hp.hparams_config(hparams=hparams, metrics=metrics)
    writer.close()


def write_session(spec, grid=None):
    """The run's HParams session record (its grid values) in runs/NAME/logs."""
    from tensorboard.plugins.hparams import api as hp

    from sequence_tutor_tf._tf import tf
    grid = grid or {}
    values = {k: _as_recorded(grid.get(k, [v]), v) for k, v in spec.hparams.items()}
    writer = tf.summary.create_file_writer(os.path.join(spec.run_dir, "logs"))
    with writer.as_default():
        hp.hparams(values, trial_id=spec.name)
    writer.close()


def final_scalars(log_dir, tags=tuple(t for t, _ in METRICS)):
    """{tag: last value} of the scalars `tune` wrote under log_dir (absent tags left out)."""
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util
    if not os.path.isdir(log_dir):
        return {}
    import logging
    quiet = logging.getLogger("tensorboard")      # its directory watcher logs every file at INFO
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        acc = event_accumulator.EventAccumulator(log_dir, size_guidance={"tensors": 0,
                                                                          "scalars": 0})
        acc.Reload()
    finally:
        quiet.setLevel(level)
    out = {}
    available = set(acc.Tags().get("tensors", []))
    for tag in tags:
        if tag in available:
            events = acc.Tensors(tag)
            if events:
                out[tag] = float(tensor_util.make_ndarray(events[-1].tensor_proto))
    return out
