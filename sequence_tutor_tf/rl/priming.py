"""How a composition starts: the original's priming modes as batched primers.

Each primer returns, for `n` new compositions, the first observations and the initial states of
the Q network (also used for the target network) and of the Reward RNN.
"""
import numpy as np

from sequence_tutor_tf._tf import tf


class RandomNotePrimer:
    """'random_note': zero state and a uniformly random first note. The original draws from
    randint(0, num_actions - 1), never the last class; `exclude_last=False` fixes that."""

    def __init__(self, num_actions, exclude_last=True):
        self.num_actions = num_actions
        self.exclude_last = exclude_last

    def random_notes(self, n, rng):
        high = self.num_actions - 1 if self.exclude_last else self.num_actions
        return rng.integers(0, high, size=n).astype(np.int32)

    def prime(self, n, rng, q_network, prior):
        zeros_q = np.zeros((n, q_network.state_size), np.float32)
        zeros_r = np.zeros((n, prior.state_size), np.float32)
        return self.random_notes(n, rng), zeros_q, zeros_r


def _run_events(model, events):
    """Final state and argmax next event after feeding `events` [T] from the zero state."""
    x = tf.constant(np.asarray(events, np.int32)[None])
    logits, state = model.run_sequence(x, model.zero_state(1))
    return int(np.argmax(logits[0, -1].numpy())), state.numpy()


class SequencePrimer:
    """'single_midi': every composition starts after the same primer melody, run through each
    network with its current weights; the first observation is the Q network's argmax."""

    def __init__(self, events):
        events = np.asarray(events, np.int32)
        if events.ndim != 1 or len(events) == 0:
            raise ValueError("the priming melody (midi_primer) has no events")
        self.events = events

    def prime(self, n, rng, q_network, prior):
        note, q_state = _run_events(q_network, self.events)
        _, r_state = _run_events(prior, self.events)
        return (np.full(n, note, np.int32), np.repeat(q_state, n, 0),
                np.repeat(r_state, n, 0))


class CorpusPrimer:
    """'random_midi': states after training melodies, computed once with the initial Q network
    (the original runs one batch of 128 training melodies at start-up). The Reward RNN gets an
    independently drawn melody's state when `independent_prior=True` (the original)."""

    def __init__(self, melodies, q_network, rng, batch_size=128, max_length=192,
                 independent_prior=True):
        if not len(melodies):
            raise ValueError("random_midi priming needs training melodies; the corpus is empty")
        pick = rng.choice(len(melodies), size=min(batch_size, len(melodies)), replace=False)
        states, notes = [], []
        for i in pick:
            events = np.asarray(melodies[i], np.int32)[:max_length]
            if len(events) == 0:
                continue
            note, state = _run_events(q_network, events)
            notes.append(note)
            states.append(state[0])
        if not states:
            raise ValueError("random_midi priming: all training melodies are empty")
        self.states = np.stack(states).astype(np.float32)
        self.notes = np.asarray(notes, np.int32)
        self.independent_prior = independent_prior

    def prime(self, n, rng, q_network, prior):
        idx = rng.integers(0, len(self.notes), size=n)
        r_idx = rng.integers(0, len(self.notes), size=n) if self.independent_prior else idx
        return self.notes[idx], self.states[idx], self.states[r_idx]
