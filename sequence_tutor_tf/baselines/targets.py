"""Training sequences y* for raml, as `targets(n, rng) -> (first, sequences, lengths)`.

Music: windows of T + 1 events from corpus melodies (the first event primes the networks, as a
random note does for the other learners; the next T are y*). Molecules: encoded SMILES, after
the priming token the domain's primer would give (BOS, or a random non-EOS token).
"""
import numpy as np


class MelodyWindows:
    def __init__(self, melodies, length):
        self.length = int(length)
        self.melodies = [np.asarray(m, np.int32) for m in melodies if len(m) > self.length]
        if not self.melodies:
            raise ValueError(f"raml: no training melody is longer than {self.length} events")
        self.sizes = np.array([len(m) - self.length for m in self.melodies])

    def __call__(self, n, rng):
        pick = rng.integers(0, len(self.melodies), size=n)
        offsets = (rng.random(n) * self.sizes[pick]).astype(np.int64)
        windows = np.stack([self.melodies[i][o:o + self.length + 1]
                            for i, o in zip(pick, offsets)])
        return windows[:, 0], windows[:, 1:], np.full(n, self.length, np.int32)


class SmilesTargets:
    def __init__(self, smiles, vocabulary, primer):
        self.vocabulary, self.primer = vocabulary, primer
        width = int(vocabulary.max_length)
        rows = [vocabulary.encode(s) for s in smiles]
        rows = [r for r in rows if 0 < len(r) <= width]
        if not rows:
            raise ValueError("raml: no training SMILES fits the vocabulary")
        self.sequences = np.full((len(rows), width), vocabulary.fill_id, np.int32)
        self.lengths = np.array([len(r) for r in rows], np.int32)
        for i, r in enumerate(rows):
            self.sequences[i, :len(r)] = r

    def __call__(self, n, rng):
        pick = rng.integers(0, len(self.sequences), size=n)
        first, _, _ = self.primer.prime(n, rng, _NoState(), _NoState())
        return np.asarray(first, np.int32), self.sequences[pick], self.lengths[pick]


class _NoState:
    state_size = 0


def music_targets(source, length, cache_dir=None):
    from sequence_tutor_tf.music.sources import load_melodies
    corpus = load_melodies(source, cache_dir=cache_dir, num_workers=1, progress=False)
    return MelodyWindows(corpus.melodies, length)


def molecule_targets(source, domain, max_molecules=20000):
    from sequence_tutor_tf.molecules.data import load_smiles_corpus
    corpus = load_smiles_corpus(source or "moses", vocabulary=domain.vocabulary,
                                max_molecules=max_molecules)
    return SmilesTargets(corpus.smiles, domain.vocabulary, domain.make_primer())
