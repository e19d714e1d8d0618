"""How a sequence starts, as batched primers: a random token, one fixed primer, or states drawn
from a corpus (the original's priming modes random_note, single_midi and random_midi; their
names and the files they read are music's, music/priming.py).

Each primer returns, for `n` new sequences, the first observations and the initial states of
the Q network (also used for the target network) and of the prior. The engine primes only the
rows whose episode ended, so a primer is called with any `n` from 1 to N.
"""
import numpy as np


class RandomTokenPrimer:
    """Zero state and a uniformly random first token (also the exploration's random actions).

    The original music code draws from randint(0, num_actions - 1), never the last class;
    `exclude_last=False` fixes that. With `allowed` (token ids), only those are drawn: a
    domain's action mask, or the molecule code's "any token but EOS".
    """

    def __init__(self, num_actions, exclude_last=True, allowed=None):
        self.num_actions = num_actions
        self.exclude_last = exclude_last
        self.allowed = None if allowed is None else np.asarray(allowed, np.int32)
        if self.allowed is not None and not len(self.allowed):
            raise ValueError("RandomTokenPrimer: no token is allowed")

    def random_notes(self, n, rng):
        """`n` random token ids (int32)."""
        if self.allowed is not None:
            return self.allowed[rng.integers(0, len(self.allowed), size=n)]
        high = self.num_actions - 1 if self.exclude_last else self.num_actions
        return rng.integers(0, high, size=n).astype(np.int32)

    random_tokens = random_notes

    def prime(self, n, rng, q_network, prior):
        zeros_q = np.zeros((n, q_network.state_size), np.float32)
        zeros_r = np.zeros((n, prior.state_size), np.float32)
        return self.random_notes(n, rng), zeros_q, zeros_r


class TokenPrimer:
    """Zero state and the same first token for every sequence: a BOS (the molecule `atoms`
    vocabulary) or any start symbol."""

    def __init__(self, token):
        self.token = int(token)

    def prime(self, n, rng, q_network, prior):
        return (np.full(n, self.token, np.int32),
                np.zeros((n, q_network.state_size), np.float32),
                np.zeros((n, prior.state_size), np.float32))


def _run_events(model, events):
    """Final state and argmax next event after feeding `events` [T] from the zero state."""
    from sequence_tutor_tf._tf import tf
    x = tf.constant(np.asarray(events, np.int32)[None])
    logits, state = model.run_sequence(x, model.zero_state(1))
    return int(np.argmax(logits[0, -1].numpy())), state.numpy()


class SequencePrimer:
    """Every sequence starts after the same primer, run through each network with its current
    weights; the first observation is the Q network's argmax (the original's 'single_midi').

    Only the last `max_length` tokens are run: the networks need only a state, and a primer of
    one note held for hours would otherwise be rerun at every reset (docs/differences/rl.md).
    """

    MAX_LENGTH = 512

    def __init__(self, events, max_length=MAX_LENGTH):
        events = np.asarray(events, np.int32)
        if events.ndim != 1 or len(events) == 0:
            raise ValueError("the primer (midi_primer) has no events")
        self.events = events[-int(max_length):]

    def prime(self, n, rng, q_network, prior):
        note, q_state = _run_events(q_network, self.events)
        _, r_state = _run_events(prior, self.events)
        return (np.full(n, note, np.int32), np.repeat(q_state, n, 0),
                np.repeat(r_state, n, 0))


class CorpusPrimer:
    """States after training sequences (the original's 'random_midi'): states after training melodies, computed once with the initial Q network
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
