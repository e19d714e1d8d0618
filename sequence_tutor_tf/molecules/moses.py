"""Where the MOSES benchmark's files live inside the `molsets` 0.3.1 wheel, read without
importing `moses` (its `__init__` imports torch, which we do not install).

`make install` installs the wheel with `--no-deps`; we only read its CSVs and filter lists.
"""
import csv
import gzip
import importlib.util
import os

SPLITS = {"train": "train.csv.gz", "test": "test.csv.gz",
          "test_scaffolds": "test_scaffolds.csv.gz"}
INSTALL_HINT = "install it with `pip install --no-deps molsets==0.3.1` (`make install` does)"


def package_dir():
    """Directory of the installed `moses` package (found, not imported)."""
    spec = importlib.util.find_spec("moses")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"the MOSES data (package `molsets`) is not installed; {INSTALL_HINT}")
    return list(spec.submodule_search_locations)[0]


def version():
    """The installed molsets version (part of cache keys)."""
    from importlib import metadata
    try:
        return metadata.version("molsets")
    except metadata.PackageNotFoundError:
        return "unknown"


def split_path(split):
    if split not in SPLITS:
        raise ValueError(f"unknown MOSES split {split!r}: expected one of {', '.join(SPLITS)}")
    path = os.path.join(package_dir(), "dataset", "data", SPLITS[split])
    if not os.path.exists(path):
        raise ValueError(f"MOSES file {path} is missing; reinstall molsets ({INSTALL_HINT})")
    return path


def read_split(split):
    """The SMILES column of one split, in file order (train: 1,584,663 rows, about 1 s)."""
    with gzip.open(split_path(split), "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        col = header.index("SMILES")
        return [row[col] for row in reader]


def filter_paths():
    """(mcf.csv, wehi_pains.csv) shipped with the wheel (MOSES's `Filters` metric)."""
    base = os.path.join(package_dir(), "metrics")
    paths = (os.path.join(base, "mcf.csv"), os.path.join(base, "wehi_pains.csv"))
    for p in paths:
        if not os.path.exists(p):
            raise ValueError(f"MOSES filter list {p} is missing; reinstall molsets "
                             f"({INSTALL_HINT})")
    return paths


def read_filter_smarts():
    """SMARTS of the MCF list (header names,smarts) and the PAINS list (no header: smarts,name),
    as MOSES reads them."""
    mcf, pains = filter_paths()
    with open(mcf, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
        smarts = [r["smarts"].strip() for r in rows]
    with open(pains, encoding="utf-8", newline="") as f:
        smarts += [row[0].strip() for row in csv.reader(f) if row]
    return smarts
