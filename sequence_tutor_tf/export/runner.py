"""One generator interface over an exported SavedModel or a checkpoint directory.

`sequence-tutor generate` accepts either; both run the same `generate` graph (the checkpoint
path builds it in memory), so a seed gives the same melodies from a run dir and from its export.
Before use, the model's metadata is checked against the encoding this package writes MIDI with.
"""
import json
import os

import numpy as np

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.export import metadata as meta_lib


def is_saved_model_dir(path):
    return os.path.isdir(path) and (os.path.exists(os.path.join(path, "saved_model.pb")) or
                                    os.path.exists(os.path.join(path, "saved_model.pbtxt")))


def check_metadata(metadata, path):
    """Raises ValueError saying what was found when `path` is not a melody policy we can decode."""
    if metadata.get("format") == meta_lib.SMILES_FORMAT:
        if not isinstance(metadata.get("vocabulary"), dict):
            raise ValueError(f"{path}: a SMILES policy without its vocabulary in the metadata")
        return
    if metadata.get("format") != meta_lib.FORMAT:
        raise ValueError(f"{path}: metadata format is {metadata.get('format')!r}, expected "
                         f"{meta_lib.FORMAT!r} (a model written by `sequence-tutor export`)")
    expected = meta_lib.encoding_metadata()
    found = {k: metadata.get(k) for k in ("encoding", "num_classes", "min_note", "max_note")}
    wanted = {k: expected[k] for k in found}
    if found != wanted:
        raise ValueError(f"{path}: the model's encoding is {found}, but generate decodes "
                         f"{wanted}; it cannot turn this model's events into melodies")


class MelodyGenerator:
    """`generate(primer, num_steps, temperature, sample, seed)` -> int32 [batch, P + num_steps]."""

    def __init__(self, path, generate_fn, metadata, kind, keep_alive=None):
        self.path, self.metadata, self.kind = path, metadata, kind
        self._generate = generate_fn
        self._keep_alive = keep_alive  # a loaded SavedModel's signatures need it alive

    def generate(self, primer, num_steps, temperature=1.0, sample=True, seed=0):
        import math
        if not (math.isfinite(float(temperature)) and float(temperature) >= 1e-3):
            raise ValueError(f"temperature must be a finite number >= 0.001, got {temperature!r}")
        if not 0 <= int(num_steps) < 2 ** 31:
            raise ValueError(f"num_steps must be 0..2**31-1, got {num_steps!r}")
        primer = np.asarray(primer, np.int32)
        if primer.ndim != 2 or primer.shape[1] < 1:
            raise ValueError(f"primer: expected int event indices of shape [batch, >=1], got "
                             f"shape {primer.shape}")
        out = self._generate(primer=tf.constant(primer),
                             num_steps=tf.constant(num_steps, tf.int32),
                             temperature=tf.constant(temperature, tf.float32),
                             sample=tf.constant(bool(sample)), seed=tf.constant(seed, tf.int64))
        return out["events"].numpy()


def load_generator(path):
    """A `MelodyGenerator` for a SavedModel dir, an RL Tuner run dir or a Note RNN dir."""
    if is_saved_model_dir(path):
        loaded = tf.saved_model.load(path)
        missing = [n for n in ("generate", "metadata") if n not in loaded.signatures]
        if missing:
            raise ValueError(f"{path}: SavedModel has no {missing} signature(s) (found "
                             f"{sorted(loaded.signatures)}); export it with `sequence-tutor export`")
        raw = loaded.signatures["metadata"]()["json"].numpy().decode("utf-8")
        metadata = json.loads(raw)
        check_metadata(metadata, path)
        return MelodyGenerator(path, loaded.signatures["generate"], metadata, "saved_model",
                               keep_alive=loaded)
    from sequence_tutor_tf.export.saved_model import build_policy
    policy = build_policy(path)
    metadata = json.loads(policy.metadata()["json"].numpy().decode("utf-8"))
    return MelodyGenerator(path, policy.generate, metadata, "checkpoint", keep_alive=policy)

