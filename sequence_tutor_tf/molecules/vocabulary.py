"""SMILES vocabularies: `faithful` (the research code's 35 characters) and `atoms` (regex tokens).

`faithful` is what the paper's prior used: one id per character, index 0 (space) is EOS, no BOS
(each sequence is primed with one random token instead, see `random_priming_tokens`), no PAD:
finished rows are filled with EOS (`fill_id`), which decodes the same and is what the research
data loader padded its labels with. Masks must therefore come from lengths, never from
`ids == fill_id` (that would mask the EOS the model has to learn).

`atoms` treats `Cl`, `Br`, bracket atoms `[...]` and two-digit ring closures `%NN` as one token
each, and has PAD 0 / BOS 1 / EOS 2; its alphabet is built from a corpus and travels in
`metadata()`. There is no UNK: an unseen token is a ValueError naming it.

`max_length` counts the tokens a model generates, EOS included (BOS and the faithful priming
token are inputs, not generated): 120 as in the research code. Both vocabularies have
`encode_batch` / `decode_batch` (NumPy over a whole corpus: 1.58M MOSES SMILES in seconds,
where a Python loop over `encode` takes about a minute) returning ragged `(ids, lengths)`.
"""
import re

import numpy as np

from sequence_tutor_tf.vocabulary import Vocabulary

# The research code's zinc_char_list.json, in its order (molecule-facts.md).
FAITHFUL_CHARS = (" ", "#", "(", ")", "+", "-", "/", "1", "2", "3", "4", "5", "6", "7", "8", "=",
                  "@", "B", "C", "F", "H", "I", "N", "O", "P", "S", "[", "\\", "]", "c", "l",
                  "n", "o", "r", "s")
MAX_LENGTH = 120
# Atoms tokenizer: a bracket atom, Br, Cl, a %NN ring closure, or any single character.
ATOM_TOKEN_RE = re.compile(r"(\[[^\]]+\]|Br|Cl|%\d{2}|.)", re.DOTALL)
ATOM_SPECIALS = ("<pad>", "<bos>", "<eos>")
_CHUNK = 100_000   # rows per NumPy batch: bounds the memory of decode_batch's gathers


def _ragged_rows(lengths):
    lengths = np.asarray(lengths, np.int64)
    return np.repeat(np.arange(len(lengths)), lengths), np.concatenate([[0], np.cumsum(lengths)])


def to_padded(ids, lengths, fill, max_length=None):
    """Ragged `(ids, lengths)` -> int32 [N, T] filled with `fill` (T = max length or given)."""
    lengths = np.asarray(lengths, np.int64)
    width = int(lengths.max(initial=0) if max_length is None else max_length)
    out = np.full((len(lengths), width), fill, np.int32)
    rows, offsets = _ragged_rows(lengths)
    cols = np.arange(len(ids)) - offsets[rows]
    keep = cols < width
    out[rows[keep], cols[keep]] = np.asarray(ids)[keep]
    return out


class SmilesVocabulary(Vocabulary):
    """What both SMILES vocabularies share (see the module docstring)."""

    kind = None
    max_length = MAX_LENGTH

    def __init__(self, tokens, max_length=MAX_LENGTH):
        self.tokens = tuple(tokens)
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError(f"{self.name}: duplicate tokens in {self.tokens}")
        self.max_length = int(max_length)
        self._index = {t: i for i, t in enumerate(self.tokens)}
        # Per-id padded bytes for decode_batch.
        encoded = [t.encode("utf-8") if i not in self.special_tokens.values() else b""
                   for i, t in enumerate(self.tokens)]
        self._tok_len = np.asarray([len(b) for b in encoded], np.int64)
        width = max(1, int(self._tok_len.max(initial=1)))
        self._tok_bytes = np.zeros((len(encoded), width), np.uint8)
        for i, b in enumerate(encoded):
            self._tok_bytes[i, :len(b)] = np.frombuffer(b, np.uint8)

    @property
    def size(self):
        return len(self.tokens)

    def token(self, token_id):
        return self.tokens[int(token_id)]

    def token_id(self, token):
        return self._index[token]

    def tokenize(self, smiles):
        """Token strings of one SMILES (no special tokens)."""
        raise NotImplementedError

    def _unknown(self, smiles, position, token):
        shown = "".join(t for t in self.tokens if t not in ATOM_SPECIALS) if self.kind == \
            "faithful" else ", ".join(repr(t) for t in self.tokens[3:][:40])
        return ValueError(f"{'character' if len(token) == 1 else 'token'} {token!r} at position "
                          f"{position} of {smiles!r} is not in the {self.name} vocabulary "
                          f"(expected one of: {shown})")

    def encode(self, item):
        """int32 ids of one SMILES: [BOS] tokens EOS (BOS only where the vocabulary has one)."""
        if not isinstance(item, str):
            raise ValueError(f"expected a SMILES string, got {type(item).__name__}")
        ids = [] if self.bos is None else [self.bos]
        position = 0
        for t in self.tokenize(item):
            i = self._index.get(t)
            if i is None or i in self.special_tokens.values():
                raise self._unknown(item, position, t)
            ids.append(i)
            position += len(t)
        ids.append(self.eos)
        return np.asarray(ids, np.int32)

    def decode(self, ids):
        """The SMILES of ids: stops at the first EOS, skips BOS and PAD."""
        arr = self.check_ids(ids)
        out = []
        for i in arr.tolist():
            if i == self.eos:
                break
            if i == self.bos or i == self.pad:
                continue
            out.append(self.tokens[i])
        return "".join(out)

    def metadata(self):
        meta = super().metadata()
        meta.update(kind=self.kind, max_length=self.max_length)
        return meta

    # ---- whole corpora ----
    def encode_batch(self, smiles_list):
        """Ragged encoding of many SMILES: (int32 ids, int64 lengths), specials included, the
        same ids as `encode` row by row. Raises like `encode` on the first bad row (its index
        is in the message)."""
        all_ids, all_lengths = [], []
        for start in range(0, len(smiles_list), _CHUNK):
            chunk = list(smiles_list[start:start + _CHUNK])
            ids, lengths = self._encode_chunk(chunk, start)
            all_ids.append(ids)
            all_lengths.append(lengths)
        if not all_ids:
            return np.zeros(0, np.int32), np.zeros(0, np.int64)
        return np.concatenate(all_ids), np.concatenate(all_lengths)

    def _encode_chunk(self, chunk, start):
        raise NotImplementedError

    def _encode_rows_slowly(self, chunk, start):
        out = []
        for j, s in enumerate(chunk):
            try:
                out.append(self.encode(s))
            except ValueError as e:
                raise ValueError(f"SMILES number {start + j}: {e}") from None
        return out

    def decode_batch(self, ids, lengths):
        """SMILES of ragged `(ids, lengths)` rows, as `decode` gives them one by one."""
        ids = np.asarray(ids)
        lengths = np.asarray(lengths, np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            raise ValueError(f"decode_batch: ids outside 0..{self.size - 1}")
        out = []
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        for r0 in range(0, len(lengths), _CHUNK):
            r1 = min(r0 + _CHUNK, len(lengths))
            out += self._decode_chunk(ids[offsets[r0]:offsets[r1]], lengths[r0:r1])
        return out

    def _decode_chunk(self, ids, lengths):
        rows, offsets = _ragged_rows(lengths)
        # Keep a token when no EOS comes at or before it in its row.
        eos_seen = np.cumsum(ids == self.eos, dtype=np.int32)
        before_row = np.concatenate([[0], eos_seen])[offsets[:-1]]
        keep = (eos_seen - before_row[rows]) == 0
        nbytes = self._tok_len[ids] * keep
        width = self._tok_bytes.shape[1]
        gathered = self._tok_bytes[ids]
        mask = np.arange(width)[None, :] < nbytes[:, None]
        text = gathered[mask].tobytes().decode("utf-8")
        row_bytes = np.bincount(rows, weights=nbytes, minlength=len(lengths)).astype(np.int64)
        if all(b < 128 for b in self._tok_bytes.ravel().tolist()):
            ends = np.cumsum(row_bytes).tolist()
            starts = [0] + ends[:-1]
            return [text[a:b] for a, b in zip(starts, ends)]
        raw = gathered[mask].tobytes()   # non-ASCII tokens: slice bytes, then decode
        ends = np.cumsum(row_bytes).tolist()
        return [raw[a:b].decode("utf-8") for a, b in zip([0] + ends[:-1], ends)]


class FaithfulVocabulary(SmilesVocabulary):
    """The research code's 35 characters; EOS = 0 (space), no BOS, no PAD (fill with EOS)."""

    name = "smiles_faithful"
    kind = "faithful"
    eos = 0

    def __init__(self, max_length=MAX_LENGTH):
        super().__init__(FAITHFUL_CHARS, max_length)
        self._lut = np.full(256, -1, np.int32)
        for i, c in enumerate(FAITHFUL_CHARS[1:], start=1):
            self._lut[ord(c)] = i

    def tokenize(self, smiles):
        return list(smiles)

    def _encode_chunk(self, chunk, start):
        try:
            raw = "\n".join(chunk).encode("ascii")
        except UnicodeEncodeError:
            raw = None
        if raw is None or any("\n" in s for s in chunk):
            rows = self._encode_rows_slowly(chunk, start)
            return (np.concatenate(rows) if rows else np.zeros(0, np.int32),
                    np.asarray([len(r) for r in rows], np.int64))
        codes = np.frombuffer(raw, np.uint8)
        ids = self._lut[codes]
        newline = codes == ord("\n")
        ids[newline] = self.eos         # each row's separator becomes its EOS
        bad = np.flatnonzero(ids < 0)
        if bad.size:
            self._encode_rows_slowly(chunk, start)   # raises naming row and character
        ids = np.concatenate([ids, [self.eos]]).astype(np.int32)
        lengths = np.asarray([len(s) + 1 for s in chunk], np.int64)
        return ids, lengths


def random_priming_tokens(size, rng):
    """The research code's priming token (and its random exploration action): uniform over ids
    1..33, `np.random.randint(EOS + 1, num_actions - 1)`. Never EOS; its exclusive upper bound
    also leaves out id 34 ('s'), reproduced here. `rng` is a `np.random.Generator`."""
    return rng.integers(1, len(FAITHFUL_CHARS) - 1, size=size).astype(np.int32)


class AtomsVocabulary(SmilesVocabulary):
    """Regex atom tokens with PAD 0, BOS 1, EOS 2; the alphabet comes from a corpus."""

    name = "smiles_atoms"
    kind = "atoms"
    pad, bos, eos = 0, 1, 2

    def __init__(self, tokens, max_length=MAX_LENGTH):
        tokens = tuple(tokens)
        if tokens[:3] != ATOM_SPECIALS:
            tokens = ATOM_SPECIALS + tuple(t for t in tokens if t not in ATOM_SPECIALS)
        super().__init__(tokens, max_length)
        self._lut = np.full(256, -1, np.int32)
        for t, i in self._index.items():
            if len(t) == 1 and ord(t) < 128:
                self._lut[ord(t)] = i

    @classmethod
    def from_corpus(cls, smiles_list, max_length=MAX_LENGTH):
        """Alphabet = every token of the corpus, most frequent first (ties by token)."""
        counts = {}
        for s in smiles_list:
            for t in ATOM_TOKEN_RE.findall(s):
                counts[t] = counts.get(t, 0) + 1
        if not counts:
            raise ValueError("cannot build an atoms vocabulary from an empty corpus")
        ordered = sorted(counts, key=lambda t: (-counts[t], t))
        return cls(ordered, max_length)

    @classmethod
    def from_metadata(cls, meta):
        if meta.get("kind") != cls.kind:
            raise ValueError(f"metadata describes a {meta.get('kind')!r} vocabulary, not atoms")
        return cls(meta["tokens"], meta.get("max_length", MAX_LENGTH))

    def tokenize(self, smiles):
        return ATOM_TOKEN_RE.findall(smiles)

    def _encode_chunk(self, chunk, start):
        """Vectorised over rows whose brackets are simple (`[` ... `]`, no nesting); others
        (and any row with a '%' or non-ASCII) go through the regex, so the ids always equal
        `encode`'s."""
        try:
            raw = "\n".join(chunk).encode("ascii")
        except UnicodeEncodeError:
            raw = None
        if raw is None or "%" in raw.decode("ascii") or any("\n" in s for s in chunk):
            rows = self._encode_rows_slowly(chunk, start)
            return np.concatenate(rows), np.asarray([len(r) for r in rows], np.int64)
        c = np.frombuffer(raw, np.uint8)
        n = len(c)
        row_of_char = np.cumsum(c == ord("\n"))
        opens = (c == ord("[")).astype(np.int64)
        closes = (c == ord("]")).astype(np.int64)
        depth_after = np.cumsum(opens - closes)
        depth_before = depth_after - opens + closes
        # A row is simple when its depth stays in {0, 1}, ends at 0, and no '[]' occurs.
        bad_char = (depth_after < 0) | (depth_after > 1)
        empty_pair = np.zeros(n, bool)
        empty_pair[:-1] = (c[:-1] == ord("[")) & (c[1:] == ord("]"))
        newline = c == ord("\n")
        bad_char |= empty_pair | (newline & (depth_before != 0))
        if depth_after[-1] != 0:
            bad_char[-1] = True
        if bad_char.any():
            rows = self._encode_rows_slowly(chunk, start)
            return np.concatenate(rows), np.asarray([len(r) for r in rows], np.int64)
        inside = (depth_before == 1) & ~opens.astype(bool)    # chars after '[' up to ']'
        start_mask = ~inside
        prev = np.concatenate([[0], c[:-1]])
        start_mask &= ~((c == ord("l")) & (prev == ord("C")) & (depth_before == 0))
        start_mask &= ~((c == ord("r")) & (prev == ord("B")) & (depth_before == 0))
        starts = np.flatnonzero(start_mask)
        tok_len = np.diff(np.concatenate([starts, [n]]))
        ids = self._lut[c[starts]]
        multi = np.flatnonzero(tok_len > 1)
        for k in multi.tolist():
            s0 = int(starts[k])
            ids[k] = self._index.get(raw[s0:s0 + int(tok_len[k])].decode("ascii"), -1)
        is_sep = c[starts] == ord("\n")
        ids[is_sep] = self.eos
        if (ids < 0).any():
            self._encode_rows_slowly(chunk, start)      # raises naming row and token
            raise ValueError("internal error: vectorised atoms tokenizer disagrees with encode")
        tok_row = row_of_char[starts] - is_sep            # a separator ends the row before it
        counts = np.bincount(tok_row, minlength=len(chunk)).astype(np.int64)
        # Insert BOS at each row's start and the final row's EOS.
        body = np.concatenate([ids, [self.eos]]).astype(np.int32)
        lengths = counts.copy()
        lengths[-1] += 1
        out = np.empty(len(body) + len(chunk), np.int32)
        row_start = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        bos_pos = row_start + np.arange(len(chunk))
        out[bos_pos] = self.bos
        mask = np.ones(len(out), bool)
        mask[bos_pos] = False
        out[mask] = body
        return out, lengths + 1


VOCABULARIES = ("faithful", "atoms")


def make_vocabulary(kind, corpus=None, max_length=MAX_LENGTH):
    """`faithful`, or `atoms` built from `corpus` (a list of SMILES)."""
    if kind == "faithful":
        return FaithfulVocabulary(max_length)
    if kind == "atoms":
        if corpus is None:
            raise ValueError("the atoms vocabulary is built from a corpus; give its SMILES")
        return AtomsVocabulary.from_corpus(corpus, max_length)
    raise ValueError(f"unknown SMILES vocabulary {kind!r}: expected one of "
                     f"{', '.join(VOCABULARIES)}")


def vocabulary_from_metadata(meta):
    """The vocabulary that `metadata()` described (checkpoints, SavedModels)."""
    kind = meta.get("kind")
    if kind == "faithful":
        vocab = FaithfulVocabulary(meta.get("max_length", MAX_LENGTH))
        if list(meta.get("tokens", vocab.tokens)) != list(vocab.tokens):
            raise ValueError("metadata tokens differ from the faithful 35 characters")
        return vocab
    if kind == "atoms":
        return AtomsVocabulary.from_metadata(meta)
    raise ValueError(f"metadata kind {kind!r} is not a SMILES vocabulary "
                     f"({', '.join(VOCABULARIES)})")
