"""A tuning run's directory: its layout, and the one place that saves and loads it.

RUN_DIR/
  q_network/, reward_rnn/   the tuned network and the prior in our model format (for G the
                            reward_rnn is the prior the policy adds to its scores)
  tuner_config.json         the run's configuration (config.py) and how far it got
  train_state/              what resuming needs, written atomically:
    networks/step-N.*       a TF2 checkpoint of Q, target, prior and optimizer
    engine-N.npz            replay buffer (the filled part, oldest first, its next slot and,
                            under prioritized replay, each transition's priority)
    engine_state.json       the index naming the current pair, counters, histories, RNG state
  plots/, samples/, logs/   figures, sample outputs, TensorBoard
  .lock                     held by the process running the run (PID, host, start time)

TensorFlow writes a checkpoint's data files first and its index last; the engine arrays go to a
temporary file that is renamed; the index JSON names the pair, so a crash between writes resumes
from the previous consistent pair. Files named in an index must lie inside the run directory: a
crafted or copied run never makes us read or delete anything else.
"""
import glob
import io
import json
import logging
import os
import shutil
import socket
import time

import numpy as np

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.rl.engine import COUNTERS, HISTORIES, LEGACY_NAMES
from sequence_tutor_tf.utils.files import atomic_write_bytes, atomic_write_text

log = logging.getLogger(__name__)

STATE_DIR = "train_state"
Q_NETWORK_DIR = "q_network"
PRIOR_DIR = "reward_rnn"
CONFIG_FILE = "tuner_config.json"
LOCK_FILE = ".lock"


class RunDirError(ValueError):
    """A run directory that cannot be used as asked (locked, mismatched, unsafe)."""


def _paths(run_dir):
    root = os.path.join(run_dir, STATE_DIR)
    return root, os.path.join(root, "networks"), os.path.join(root, "engine_state.json")


def inside(root, relative, what):
    """`root/relative`, or RunDirError when `relative` is absolute or leaves `root`."""
    if not isinstance(relative, str) or os.path.isabs(relative):
        raise RunDirError(f"{what}: {relative!r} must be a path relative to {root}")
    path = os.path.realpath(os.path.join(root, relative))
    real_root = os.path.realpath(root)
    if os.path.commonpath([path, real_root]) != real_root:
        raise RunDirError(f"{what}: {relative!r} points outside {root}; refusing to use it")
    return path


# ----- the lock ---------------------------------------------------------------------------------
class RunLock:
    """Exclusive use of a run directory by one process; a dead owner's lock is taken over.

    Two `tune` processes on one directory would both train and both report success, the last
    writer winning. The lock file is created with O_EXCL; it holds PID, host and start time.
    """

    def __init__(self, run_dir):
        self.path = os.path.join(run_dir, LOCK_FILE)
        self.held = False

    def acquire(self):
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner is not None and _alive(owner):
                    raise RunDirError(
                        f"{os.path.dirname(self.path)} is in use by process {owner.get('pid')} "
                        f"on {owner.get('host')} (started "
                        f"{time.ctime(owner.get('started', 0))}); wait for it or use another "
                        f"--output-dir") from None
                log.warning("taking over the stale lock %s of a process that is gone (%s)",
                            self.path, owner)
                try:
                    os.remove(self.path)
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self.held = True
            return self
        raise RunDirError(f"cannot take the lock {self.path}")

    def _owner(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def release(self):
        if self.held:
            self.held = False
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def _alive(owner):
    if owner.get("host") != socket.gethostname():
        return True      # another machine's process: we cannot tell, so never take it over
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ----- networks and configuration -------------------------------------------------------------
def save_networks(engine, run_dir, config=None):
    """Q network and prior in our format, plus tuner_config.json (atomic writes)."""
    from sequence_tutor_tf.models.checkpoints import save_note_rnn
    save_note_rnn(engine.q_network, os.path.join(run_dir, Q_NETWORK_DIR), engine.env_steps)
    save_note_rnn(engine.prior, os.path.join(run_dir, PRIOR_DIR), engine.env_steps)
    record = dict(config or {})
    record.setdefault("algorithm", engine.algorithm)
    record["env_steps"] = engine.env_steps
    atomic_write_text(os.path.join(run_dir, CONFIG_FILE),
                      json.dumps(record, indent=2, default=_json_default))


def _read_json_object(path):
    """The JSON object in `path`, None when the file is absent; RunDirError when unreadable."""
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise RunDirError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(value, dict):
        raise RunDirError(f"{path}: expected a JSON object")
    return value


def read_config(run_dir):
    """tuner_config.json as a dict, or None when the run has none yet."""
    return _read_json_object(os.path.join(run_dir, CONFIG_FILE))


def load_tuned(run_dir):
    """(algorithm, q_network, prior, config) of a finished or running run."""
    from sequence_tutor_tf.models.checkpoints import load_note_rnn
    config = read_config(run_dir)
    if config is None:
        raise FileNotFoundError(f"{run_dir}: no {CONFIG_FILE}; not a tuning run directory")
    q, _ = load_note_rnn(os.path.join(run_dir, Q_NETWORK_DIR))
    prior, _ = load_note_rnn(os.path.join(run_dir, PRIOR_DIR))
    return config.get("algorithm"), q, prior, config


def save_plots(engine, directory, name, labels=None):
    from sequence_tutor_tf.rl import plots
    kwargs = {} if labels is None else {"labels": labels}
    plots.plot_rewards(engine, os.path.join(directory, f"TrainRewards-{name}.png"), **kwargs)
    if engine.eval_avg_reward:
        plots.plot_evaluation(engine, os.path.join(directory, f"EvaluationRewards-{name}.png"),
                              **kwargs)
    if engine.target_val_list:
        plots.plot_target_vals(engine, os.path.join(directory, f"TargetVals-{name}.png"))


# ----- resumable training state ---------------------------------------------------------------
def save_train_state(engine, run_dir, extra=None):
    root, net_dir, index_path = _paths(run_dir)
    os.makedirs(net_dir, exist_ok=True)
    ckpt = tf.train.Checkpoint(**engine.learner.checkpoint_objects())
    prefix = ckpt.write(os.path.join(net_dir, f"step-{engine.env_steps}"))
    arrays = dict(engine.replay.state_dict())
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    npz_name = f"engine-{engine.env_steps}.npz"
    atomic_write_bytes(os.path.join(root, npz_name), buf.getvalue())
    meta = {"network_checkpoint": os.path.relpath(prefix, root), "engine_arrays": npz_name,
            "counters": {k: getattr(engine, k) for k in COUNTERS},
            "histories": {k: [float(v) for v in getattr(engine, k)] for k in HISTORIES},
            "rng_state": engine.rng.bit_generator.state, "extra": extra or {}}
    try:
        previous = read_meta(run_dir)
    except RunDirError:
        previous = None
    atomic_write_text(index_path, json.dumps(meta, default=_json_default))
    if previous:   # the new pair is complete: drop the old one (unless it was overwritten)
        if previous["engine_arrays"] != npz_name:
            _remove_quietly(inside(root, previous["engine_arrays"], "engine_arrays"))
        if previous["network_checkpoint"] != meta["network_checkpoint"]:
            old = inside(root, previous["network_checkpoint"], "network_checkpoint")
            for suffix in (".index", ".data-00000-of-00001"):
                _remove_quietly(old + suffix)
    return meta


def remove_stale_temporaries(run_dir):
    """Deletes what a killed writer left: `.name.XXXX` temporaries of atomic writes and
    checkpoint files no index names. Returns the paths removed."""
    root, net_dir, _ = _paths(run_dir)
    removed = []
    try:
        meta = read_meta(run_dir)
    except RunDirError:
        return removed
    for pattern in (os.path.join(run_dir, f".{CONFIG_FILE}.*"),
                    os.path.join(root, ".engine_state.json.*"),
                    os.path.join(root, ".engine-*.npz.*")):
        removed.extend(p for p in glob.glob(pattern) if os.path.isfile(p))
    for path in glob.glob(os.path.join(run_dir, "*", "*_temp*")) + \
            glob.glob(os.path.join(net_dir, "*_temp*")):
        removed.append(path)
    if meta:
        keep_npz = meta["engine_arrays"]
        keep_ckpt = os.path.basename(meta["network_checkpoint"])
        for path in glob.glob(os.path.join(root, "engine-*.npz")):
            if os.path.basename(path) != keep_npz:
                removed.append(path)
        for path in glob.glob(os.path.join(net_dir, "step-*")):
            if not os.path.basename(path).startswith(keep_ckpt + "."):
                removed.append(path)
    for path in removed:
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            _remove_quietly(path)
    if removed:
        log.info("removed %d stale temporary file(s) in %s", len(removed), run_dir)
    return removed


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


def read_meta(run_dir):
    """The resume index, with pre-rename (music-named) keys mapped; None when absent."""
    meta = _read_json_object(_paths(run_dir)[2])
    if meta is None:
        return None
    for part in ("counters", "histories"):
        values = meta.get(part, {})
        for old, new in LEGACY_NAMES.items():
            if old in values:
                values.setdefault(new, values.pop(old))
    return meta


def has_train_state(run_dir):
    return read_meta(run_dir) is not None


def load_train_state(engine, run_dir):
    """Restores networks, optimizer, replay, counters, histories and RNG; returns `extra`."""
    meta = read_meta(run_dir)
    if meta is None:
        raise FileNotFoundError(f"no resumable training state in {run_dir}/{STATE_DIR}")
    root, _, _ = _paths(run_dir)
    checkpoint = inside(root, meta["network_checkpoint"], "network_checkpoint")
    arrays_path = inside(root, meta["engine_arrays"], "engine_arrays")
    engine.learner.build_optimizer()
    ckpt = tf.train.Checkpoint(**engine.learner.checkpoint_objects())
    ckpt.read(checkpoint).assert_existing_objects_matched()
    with np.load(arrays_path, allow_pickle=False) as arrays:
        engine.replay.load_state_dict(dict(arrays))
    for k, v in meta["counters"].items():
        if k in COUNTERS:
            setattr(engine, k, v)
    for k, v in meta["histories"].items():
        if k in HISTORIES:
            setattr(engine, k, list(v))
    engine.rng.bit_generator.state = meta["rng_state"]
    engine._obs = None      # sequences in flight restart from a fresh priming
    return meta.get("extra", {})
