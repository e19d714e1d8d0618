"""SMILES corpora: `moses` (the MOSES train/test split in the molsets wheel) or the user's files.

A user corpus is a `.smi`, `.csv` or `.txt` file, or a directory of them (searched recursively),
one SMILES per line, so a ZINC-250k file works unchanged:
- `.csv`: the column named `SMILES` / `smiles` (any case) when the first row names one, else the
  first column; fields are stripped (ZINC-250k's quoted SMILES end in a newline).
- `.smi` / `.txt`: the first whitespace-separated field (a second one, the name, is ignored);
  a first line whose first field is `smiles` (any case) is a header.
Lines that cannot be used are skipped and counted by reason (`stats['skipped']`, and one summary
line logged and warned): `invalid` (RDKit cannot parse it, or it has no atoms),
`unknown_characters` (outside the vocabulary; each of the first few is reported with file, line
and character), `too_long` (more tokens than the vocabulary's `max_length`). Blank lines are
counted as `blank`. An empty result is a ValueError.

Checking 1.58M MOSES molecules with RDKit takes minutes, so each loaded corpus is cached (as the
music corpora are) under `$SEQUENCE_TUTOR_CACHE` or `~/.cache/sequence_tutor_tf`, keyed by the
source (files: path, size, mtime), the vocabulary, the subsample and the rdkit version.
`max_molecules` draws a seeded subsample (kept in corpus order) before the slow checks.
"""
import collections
import csv
import dataclasses
import hashlib
import io
import json
import logging
import os
import warnings

import numpy as np

from sequence_tutor_tf.molecules import moses

SMILES_EXTENSIONS = (".smi", ".csv", ".txt")
LOADER_VERSION = 1
MAX_REPORTED = 10   # per reason: further skipped lines are only counted
log = logging.getLogger("sequence_tutor_tf.molecules.data")


class SmilesLineSkipped(UserWarning):
    """A line of a SMILES corpus was left out (see the loader's summary for the totals)."""


@dataclasses.dataclass
class SmilesLine:
    path: str
    line: int       # 1-based line number in the file (MOSES: the CSV row's line)
    smiles: str


class _CsvRows:
    """The rows of a MOSES split as SmilesLines, made when read: a seeded subsample of 3,000
    of the 1,584,663 training rows then builds 3,000 of them, not 1.6M (12 s on 2 busy cores)."""

    def __init__(self, path, rows):
        self.path, self.rows = path, rows

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return SmilesLine(self.path, i + 2, self.rows[i].strip())


@dataclasses.dataclass
class SmilesCorpus:
    smiles: list
    source: str
    stats: dict

    def __len__(self):
        return len(self.smiles)

    def summary(self):
        s = self.stats
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(s["skipped"].items()) if v) or "none"
        return (f"{self.source}: {len(self.smiles)} SMILES kept of {s['lines_read']} lines read "
                f"(skipped: {skipped})")


def default_cache_dir():
    """music.corpus.default_cache_dir's directory (`$SEQUENCE_TUTOR_CACHE`, else
    `~/.cache/sequence_tutor_tf`), without importing the music corpus and its note_seq
    (8.6 s of a quick molecule reproduction on 2 busy cores)."""
    return os.environ.get("SEQUENCE_TUTOR_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "sequence_tutor_tf")


def find_smiles_files(path):
    """The corpus files of `path` (a file, or a directory searched recursively), sorted."""
    if os.path.isdir(path):
        found = sorted(os.path.join(root, n) for root, _, names in os.walk(path) for n in names
                       if n.lower().endswith(SMILES_EXTENSIONS))
        if not found:
            raise ValueError(f"directory {path!r} holds no SMILES files "
                             f"({', '.join(SMILES_EXTENSIONS)})")
        return found
    if os.path.isfile(path):
        return [path]
    raise ValueError(f"SMILES corpus {path!r} is neither 'moses', a file nor a directory")


def _read_text(path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise ValueError(f"{path}:{line}: not UTF-8 text (byte {raw[e.start]:#x}); expected "
                         "one SMILES per line") from None


def read_smiles_lines(path):
    """Every data line of one file as `SmilesLine`s (header dropped; blank lines give '')."""
    text = _read_text(path)
    out = []
    if path.lower().endswith(".csv"):
        rows = list(csv.reader(io.StringIO(text)))
        # csv numbers rows, not lines: a quoted field may span lines, so track line numbers.
        col, first = 0, 0
        if rows and any(f.strip().lower() == "smiles" for f in rows[0]):
            col = [f.strip().lower() for f in rows[0]].index("smiles")
            first = 1
        reader = csv.reader(io.StringIO(text))
        line_no = 1
        for i, row in enumerate(reader):
            start_line = line_no
            line_no = reader.line_num + 1
            if i < first:
                continue
            field = row[col].strip() if len(row) > col else ""
            out.append(SmilesLine(path, start_line, field))
        return out
    for i, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        field = fields[0] if fields else ""
        if i == 1 and field.lower() == "smiles":
            continue
        out.append(SmilesLine(path, i, field))
    return out


def first_unknown_character(smiles, vocabulary):
    """(position, token) of the first part of `smiles` the vocabulary lacks, or None."""
    specials = set(vocabulary.special_tokens.values())
    position = 0
    for t in vocabulary.tokenize(smiles):
        i = vocabulary._index.get(t)
        if i is None or i in specials:
            return position, t
        position += len(t)
    return None


def is_valid_smiles(smiles):
    from sequence_tutor_tf.molecules.properties import parse_smiles
    return parse_smiles(smiles) is not None


class _Skipper:
    """Counts skipped lines by reason and warns for the first few of each."""

    def __init__(self):
        self.counts = collections.Counter()

    def skip(self, reason, where, detail):
        self.counts[reason] += 1
        if self.counts[reason] <= MAX_REPORTED:
            more = " (further lines of this kind are only counted)" \
                if self.counts[reason] == MAX_REPORTED else ""
            warnings.warn(f"{where}: skipped ({detail}){more}", SmilesLineSkipped, stacklevel=3)


def filter_lines(lines, vocabulary=None, validate=True, max_molecules=None, seed=0,
                 skipper=None, progress=False):
    """The usable SMILES of `lines` (corpus order), optionally a seeded subsample of them."""
    skipper = skipper or _Skipper()
    order = np.arange(len(lines))
    if max_molecules is not None:
        order = np.random.default_rng(seed).permutation(len(lines))
    kept = []
    iterator = order
    if progress and len(lines) > 50_000:
        from tqdm import tqdm
        iterator = tqdm(order, desc="checking SMILES", unit="mol", mininterval=2)
    for idx in iterator:
        if max_molecules is not None and len(kept) >= max_molecules:
            break
        item = lines[int(idx)]
        where = f"{item.path}:{item.line}"
        s = item.smiles
        if not s:
            skipper.counts["blank"] += 1
            continue
        if vocabulary is not None:
            bad = first_unknown_character(s, vocabulary)
            if bad is not None:
                skipper.skip("unknown_characters", where,
                             f"{'character' if len(bad[1]) == 1 else 'token'} {bad[1]!r} at "
                             f"column {bad[0] + 1} of {s!r} is not in the {vocabulary.name} "
                             "vocabulary")
                continue
            if len(vocabulary.encode(s)) - (vocabulary.bos is not None) > \
                    vocabulary.max_length:
                skipper.skip("too_long", where, f"{s!r} is longer than {vocabulary.max_length} "
                                                "tokens with EOS")
                continue
        if validate and not is_valid_smiles(s):
            skipper.skip("invalid", where, f"RDKit cannot parse {s!r} as a molecule")
            continue
        kept.append((int(idx), s))
    kept.sort()
    return [s for _, s in kept]


def _source_key(corpus, split):
    if corpus == "moses":
        return {"moses": moses.version(), "split": split}
    files = []
    for p in find_smiles_files(corpus):
        st = os.stat(p)
        files.append([os.path.abspath(p), st.st_size, st.st_mtime_ns])
    return {"files": files}


def cache_path(cache_dir, corpus, split, vocabulary, max_molecules, seed, validate):
    import rdkit
    key = {"source": _source_key(corpus, split), "loader": LOADER_VERSION,
           "rdkit": rdkit.__version__, "max_molecules": max_molecules,
           "seed": seed if max_molecules is not None else None, "validate": validate,
           "vocabulary": None if vocabulary is None else vocabulary.metadata()}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    label = f"moses-{split}" if corpus == "moses" else \
        os.path.basename(os.path.normpath(corpus)).replace(".", "_")
    return os.path.join(cache_dir, "smiles", f"{label}_{digest}.npz")


def _save(path, corpus):
    from sequence_tutor_tf.utils.files import atomic_write_bytes
    buf = io.BytesIO()
    np.savez_compressed(buf, smiles=np.asarray("\n".join(corpus.smiles)),
                        meta=np.asarray(json.dumps({"source": corpus.source,
                                                    "stats": corpus.stats})))
    atomic_write_bytes(path, buf.getvalue())


def _load(path):
    with np.load(path, allow_pickle=False) as z:
        text = str(z["smiles"])
        meta = json.loads(str(z["meta"]))
    return SmilesCorpus(text.split("\n") if text else [], meta["source"], meta["stats"])


def load_smiles_corpus(corpus="moses", vocabulary=None, split="train", max_molecules=None,
                       seed=0, validate=True, cache_dir=None, use_cache=True, progress=False):
    """Loads (or reads from the cache) a SMILES corpus; see the module docstring.

    `corpus`: 'moses' (then `split` is train, test or test_scaffolds) or a path.
    `vocabulary`: lines it cannot encode within its `max_length` are skipped (None: no check).
    """
    if max_molecules is not None and int(max_molecules) < 1:
        raise ValueError(f"max_molecules must be a positive number, got {max_molecules}")
    corpus = str(corpus)
    cache_dir = cache_dir or default_cache_dir()
    path = cache_path(cache_dir, corpus, split, vocabulary, max_molecules, seed, validate) \
        if use_cache else None
    if path is not None and os.path.exists(path):
        result = _load(path)
        result.stats["cache"] = "hit"
        log.info("%s (from cache %s)", result.summary(), path)
        return result
    skipper = _Skipper()
    if corpus == "moses":
        source = f"MOSES {split} (molsets {moses.version()})"
        rows = moses.read_split(split)
        lines = _CsvRows(f"moses/{split}", rows)
    else:
        source = corpus
        lines = []
        for p in find_smiles_files(corpus):
            lines += read_smiles_lines(p)
    smiles = filter_lines(lines, vocabulary, validate, max_molecules, seed, skipper, progress)
    stats = {"lines_read": len(lines), "kept": len(smiles),
             "skipped": {k: int(v) for k, v in sorted(skipper.counts.items())},
             "max_molecules": max_molecules, "seed": seed}
    result = SmilesCorpus(smiles, source, stats)
    if not smiles:
        raise ValueError(f"SMILES corpus {corpus!r} holds no usable molecule: "
                         f"{result.summary()}; expected one SMILES per line")
    summary = result.summary()
    if sum(skipper.counts.values()) - skipper.counts.get("blank", 0):
        warnings.warn(summary, SmilesLineSkipped, stacklevel=2)
    log.info("%s", summary)
    if path is not None:
        _save(path, result)
        result.stats["cache"] = "written"
    return result
