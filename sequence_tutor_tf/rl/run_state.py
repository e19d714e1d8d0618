"""Resumable training state under RUN_DIR/train_state/, written atomically.

- `networks/`: a TF2 checkpoint of the Q, target and Reward RNN networks and the optimizer
  (TensorFlow writes data files first and the `checkpoint` index last);
- `engine-<step>.npz`: replay buffer, counters, reward histories and the NumPy RNG state,
  written to a temporary file and renamed; its name records the checkpoint it belongs to, so a
  crash between the two writes resumes from the previous consistent pair;
- `engine_state.json`: the index naming the current pair.
"""
import io
import json
import os

import numpy as np

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.rl.engine import COUNTERS, HISTORIES
from sequence_tutor_tf.utils.files import atomic_write_bytes, atomic_write_text

STATE_DIR = "train_state"


def _paths(run_dir):
    root = os.path.join(run_dir, STATE_DIR)
    return root, os.path.join(root, "networks"), os.path.join(root, "engine_state.json")


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
    previous = read_meta(run_dir)
    atomic_write_text(index_path, json.dumps(meta, default=_json_default))
    if previous:   # the new pair is complete: drop the old one (unless it was overwritten)
        if previous["engine_arrays"] != npz_name:
            _remove_quietly(os.path.join(root, previous["engine_arrays"]))
        if previous["network_checkpoint"] != meta["network_checkpoint"]:
            for suffix in (".index", ".data-00000-of-00001"):
                _remove_quietly(os.path.join(root, previous["network_checkpoint"] + suffix))
    return meta


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


def read_meta(run_dir):
    _, _, index_path = _paths(run_dir)
    if not os.path.exists(index_path):
        return None
    with open(index_path, encoding="utf-8") as f:
        return json.load(f)


def has_train_state(run_dir):
    return read_meta(run_dir) is not None


def load_train_state(engine, run_dir):
    """Restores networks, optimizer, replay, counters, histories and RNG; returns `extra`."""
    meta = read_meta(run_dir)
    if meta is None:
        raise FileNotFoundError(f"no resumable training state in {run_dir}/{STATE_DIR}")
    root, _, _ = _paths(run_dir)
    engine.learner.build_optimizer()
    ckpt = tf.train.Checkpoint(**engine.learner.checkpoint_objects())
    ckpt.read(os.path.join(root, meta["network_checkpoint"])).assert_existing_objects_matched()
    with np.load(os.path.join(root, meta["engine_arrays"])) as arrays:
        engine.replay.load_state_dict(dict(arrays))
    for k, v in meta["counters"].items():
        setattr(engine, k, v)
    for k, v in meta["histories"].items():
        setattr(engine, k, list(v))
    engine.rng.bit_generator.state = meta["rng_state"]
    engine._obs = None      # compositions in flight restart from a fresh priming
    return meta.get("extra", {})
