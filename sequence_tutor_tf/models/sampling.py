"""Sampling event sequences from a Note RNN through its batched `step` API."""
import math

import numpy as np

from sequence_tutor_tf._tf import tf


def sample_events(model, num_samples, num_steps, primer_events=None, temperature=1.0, seed=0,
                  greedy=False):
    """Returns int32 [num_samples, len(primer) + num_steps]: the primer, then sampled events.

    Without a primer each sample starts from one uniformly random pitch event (2..37).
    """
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature)
            and temperature >= 1e-3):
        raise ValueError(f"temperature must be a finite number >= 0.001, got {temperature!r}")
    rng = np.random.default_rng(seed)
    if primer_events is None or len(primer_events) == 0:
        primer = rng.integers(2, model.num_classes, size=(num_samples, 1))
    else:
        primer = np.tile(np.asarray(primer_events, np.int32)[None, :], (num_samples, 1))
    state = model.zero_state(num_samples)
    logits = None
    for t in range(primer.shape[1]):
        logits, state = model.step(tf.constant(primer[:, t], tf.int32), state)
    events = [primer]
    for _ in range(num_steps):
        scores = logits.numpy() / temperature
        if greedy:
            nxt = scores.argmax(-1)
        else:
            probs = np.exp(scores - scores.max(-1, keepdims=True))
            probs /= probs.sum(-1, keepdims=True)
            cumulative = probs.cumsum(-1)
            nxt = (rng.random((num_samples, 1)) < cumulative).argmax(-1)
        nxt = nxt.astype(np.int32)
        events.append(nxt[:, None])
        logits, state = model.step(tf.constant(nxt), state)
    return np.concatenate(events, axis=1).astype(np.int32)
