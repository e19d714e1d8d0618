"""Scoring a file of SMILES (what `sequence-tutor evaluate --domain molecules` runs).

One output row per input line, in input order, so a row can be traced back to its sample:
`molecules.csv` has exactly the columns `smiles,valid,logp,sa,qed,ring_penalty,score` (valid
0/1; property columns empty where invalid; score = m = 3 logP - 2 SA + 5 ring + 50 QED). The
summary holds the paper's statistics and the MOSES-style metrics (molecules/metrics.py).

The references of the MOSES-style metrics are the MOSES train set (novelty) and a seeded
subsample of the MOSES test set (Scaf/Frag; `reference_size`, 0 = all 176,074 molecules, which
takes minutes once). Their scaffold and fragment counts are cached like the corpora.
"""
import csv
import gzip
import hashlib
import io
import json
import math
import os

import numpy as np

from sequence_tutor_tf.molecules import metrics, moses
from sequence_tutor_tf.molecules import properties as props
from sequence_tutor_tf.molecules.data import (default_cache_dir, first_unknown_character,
                                              read_smiles_lines)
from sequence_tutor_tf.molecules.vocabulary import FaithfulVocabulary

CSV_COLUMNS = ("smiles", "valid", "logp", "sa", "qed", "ring_penalty", "score")
REFERENCE_VERSION = 1


def read_evaluation_file(path, check_characters=True):
    """The SMILES of every data line of `path` (blank lines kept as ''), or ValueError naming
    the file and line: unreadable, not UTF-8, no SMILES at all, a character outside the research
    vocabulary (with `check_characters`)."""
    if os.path.isdir(path):
        raise ValueError(f"{path} is a directory; expected one SMILES file (.smi, .csv, .txt)")
    if not os.path.exists(path):
        raise ValueError(f"{path}: no such file; expected a SMILES file (.smi, .csv, .txt)")
    lines = read_smiles_lines(path)
    if not any(item.smiles for item in lines):
        raise ValueError(f"{path}: the file holds no SMILES; expected one SMILES per line")
    if check_characters:
        vocab = FaithfulVocabulary()
        for item in lines:
            bad = first_unknown_character(item.smiles, vocab)
            if bad is not None:
                raise ValueError(
                    f"{path}:{item.line}: character {bad[1]!r} at column {bad[0] + 1} of "
                    f"{item.smiles!r} is not a SMILES character of the research vocabulary "
                    f"(expected one of {''.join(vocab.tokens[1:])}; "
                    "--no-check-characters scores it anyway)")
    return [item.smiles for item in lines]


def _cell(value):
    return "" if value is None or not math.isfinite(value) else f"{value:.10g}"


def molecules_csv(smiles, properties):
    """The text of molecules.csv (see the module docstring)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for i, s in enumerate(smiles):
        ok = bool(properties["valid"][i])
        row = [s, int(ok)]
        row += [_cell(float(properties[k][i])) if ok else ""
                for k in ("logp", "sa", "qed", "ring_penalty", "score")]
        writer.writerow(row)
    return buf.getvalue()


def jsonable(value):
    """NaN/inf -> None and NumPy scalars -> Python, so the summary is strict JSON."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def load_train_set(spec):
    """Training SMILES for novelty: 'moses', a SMILES file, or None."""
    if spec in (None, "none"):
        return None
    if spec == "moses":
        return set(moses.read_split("train"))
    return {item.smiles for item in read_smiles_lines(spec) if item.smiles}


def _reference_cache_path(cache_dir, spec, size, seed):
    import rdkit
    source = {"moses": moses.version()} if spec == "moses-test" else \
        {"file": os.path.abspath(spec), "size": os.stat(spec).st_size,
         "mtime": os.stat(spec).st_mtime_ns}
    key = json.dumps({"source": source, "size": size, "seed": seed, "rdkit": rdkit.__version__,
                      "version": REFERENCE_VERSION}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return os.path.join(cache_dir, "smiles", f"reference_{digest}.json.gz")


def load_reference(spec, size=10_000, seed=0, cache_dir=None, use_cache=True):
    """Scaffold/fragment counts of the Scaf/Frag reference: 'moses-test', a file, or None."""
    if spec in (None, "none"):
        return None
    cache_dir = cache_dir or default_cache_dir()
    path = _reference_cache_path(cache_dir, spec, size, seed)
    if use_cache and os.path.exists(path):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            data = json.load(f)
        return {"scaffolds": data["scaffolds"], "fragments": data["fragments"],
                "size": data["size"], "cache": "hit"}
    smiles = moses.read_split("test") if spec == "moses-test" else \
        [item.smiles for item in read_smiles_lines(spec) if item.smiles]
    if size and len(smiles) > size:
        idx = np.sort(np.random.default_rng(seed).choice(len(smiles), size, replace=False))
        smiles = [smiles[i] for i in idx.tolist()]
    ref = metrics.reference_statistics(smiles)
    if use_cache:
        from sequence_tutor_tf.utils.files import atomic_write_bytes
        payload = json.dumps({"scaffolds": dict(ref["scaffolds"]),
                              "fragments": dict(ref["fragments"]), "size": ref["size"]})
        atomic_write_bytes(path, gzip.compress(payload.encode("utf-8")))
    ref["cache"] = "written" if use_cache else "off"
    return ref


def evaluate_smiles(smiles, train=None, reference=None, extra_components=(),
                    intdiv_max_molecules=10_000, seed=0):
    """(properties dict of arrays, summary dict) for a list of SMILES."""
    from sequence_tutor_tf.molecules.rewards import call_component, check_component
    mols = [props.parse_smiles(s) for s in smiles]
    properties = props.compute_properties(smiles, mols=mols)
    summary = {"paper_statistics": metrics.paper_statistics(smiles, properties),
               "moses_metrics": metrics.moses_metrics(smiles, train, reference,
                                                      intdiv_max_molecules, seed, mols=mols)}
    if extra_components:
        valid = [s for s, ok in zip(smiles, properties["valid"]) if ok]
        summary["extra_components"] = {}
        for spec in extra_components:
            name, fn = check_component(spec)
            values = call_component(name, fn, valid) if valid else np.zeros(0)
            summary["extra_components"][name] = float(values.mean()) if valid else None
    return properties, summary
