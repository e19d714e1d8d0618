"""A token alphabet, in the spirit of note-seq's `OneHotEncoding`: what the models, the data
pipeline, the RL core and export need to know about a domain's tokens, and nothing more.

A vocabulary maps items (a melody's events, a SMILES string) to int32 token ids and back, names
its special tokens (each optional: BOS starts a sequence, EOS ends one, PAD fills finished rows)
and describes itself as JSON metadata, so a SavedModel or a checkpoint can carry it and be read
back without our package.
"""
import abc

import numpy as np


class Vocabulary(abc.ABC):
    """Args of the metadata: `name`, `size`, `tokens` (one display string per id) and the ids of
    the special tokens (None where the vocabulary has none)."""

    name = None
    bos = None
    eos = None
    pad = None
    max_length = None   # tokens a model generates per sequence, EOS included (None: no limit)

    @property
    @abc.abstractmethod
    def size(self):
        """Number of token ids (the models' softmax width)."""

    @abc.abstractmethod
    def encode(self, item):
        """int32 [T] token ids of one item; raises ValueError naming what cannot be encoded."""

    @abc.abstractmethod
    def decode(self, ids):
        """The item for token ids [T]; stops at EOS and skips PAD/BOS where the vocabulary has
        them."""

    @abc.abstractmethod
    def token(self, token_id):
        """Display string of one id (for plots, errors and metadata)."""

    @property
    def special_tokens(self):
        """{'bos': id, 'eos': id, 'pad': id} for the special tokens this vocabulary has."""
        return {k: v for k, v in (("bos", self.bos), ("eos", self.eos), ("pad", self.pad))
                if v is not None}

    @property
    def fill_id(self):
        """What fills a finished row: PAD where there is one, else EOS (else 0). Loss and
        metric masks come from lengths, never from `ids == fill_id`: that id may be EOS."""
        for token in (self.pad, self.eos):
            if token is not None:
                return token
        return 0

    def check_ids(self, ids, what="tokens"):
        """`ids` as a 1-D int32 array, or ValueError naming the first id outside 0..size-1."""
        arr = np.asarray(ids)
        if arr.ndim != 1:
            raise ValueError(f"{what}: expected a 1-D sequence of token ids, got shape "
                             f"{arr.shape}")
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            if not np.all(np.equal(np.mod(arr, 1), 0)):
                raise ValueError(f"{what}: expected integer token ids, got dtype {arr.dtype}")
        arr = arr.astype(np.int32)
        bad = np.flatnonzero((arr < 0) | (arr >= self.size))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"{what}: id {int(arr[i])} at position {i} is outside "
                             f"0..{self.size - 1} of the {self.name} vocabulary")
        return arr

    def metadata(self):
        """JSON-serialisable description (exported with models; see docs/export.md)."""
        return {"name": self.name, "size": int(self.size),
                "tokens": [self.token(i) for i in range(self.size)],
                "bos": self.bos, "eos": self.eos, "pad": self.pad}
