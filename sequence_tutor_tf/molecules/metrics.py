"""Metrics of a set of generated SMILES: MOSES-style and the paper's statistics.

MOSES-style (definitions of moses 0.3.1's `get_all_metrics`, reimplemented without torch):
validity; unique@1k / unique@10k (canonical SMILES among the first k *valid* molecules);
novelty (unique valid canonical SMILES not in the training set, as MOSES compares them to its
train file as written); IntDiv1 = 1 - mean Tanimoto over all ordered pairs of valid molecules
(self pairs included, as MOSES does) on Morgan radius-2 1024-bit fingerprints, over a seeded
subsample of `intdiv_max_molecules` (default 10,000) when there are more; Filters = fraction of
valid molecules passing the MCF and PAINS lists shipped in the molsets wheel plus MOSES's atom,
charge and ring-size rules; Scaf / Frag = cosine similarity of Bemis-Murcko scaffold counts
(scaffolds with at least 2 rings, as MOSES) and of BRICS fragment counts to a reference set.
FCD needs the optional `fcd` package and is otherwise skipped with the reason in the output.

The paper's statistics (smiles_tutor.get_stat_dict_string): % valid, % without rings over 6
atoms (over all sequences, as the research code divides by the number of sequences), mean
length (characters; the research code counted tokens with the EOS), and mean logP, SA, QED and
ring penalty over the valid molecules.
"""
import collections
import importlib.util
import math

import numpy as np

from sequence_tutor_tf.molecules import properties as props

FP_BITS = 1024
FP_RADIUS = 2
ALLOWED_ATOMS = {"C", "N", "S", "O", "F", "Cl", "Br", "H"}
_filters = None


def canonical(mol):
    from rdkit import Chem
    try:
        return Chem.MolToSmiles(mol)
    except Exception:
        return None


def fingerprints(mols):
    """uint8 [N, 1024] Morgan radius-2 bit vectors."""
    from rdkit import DataStructs
    from rdkit.Chem import rdFingerprintGenerator
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=FP_RADIUS, fpSize=FP_BITS)
    out = np.zeros((len(mols), FP_BITS), np.uint8)
    for i, m in enumerate(mols):
        DataStructs.ConvertToNumpyArray(gen.GetFingerprint(m), out[i])
    return out


def internal_diversity(fps, max_molecules=10_000, seed=0, block=1024):
    """1 - mean Tanimoto over all ordered pairs (self pairs included), blocked matmuls."""
    n = len(fps)
    if n == 0:
        return math.nan
    if n > max_molecules:
        idx = np.sort(np.random.default_rng(seed).choice(n, max_molecules, replace=False))
        fps = fps[idx]
        n = max_molecules
    x = fps.astype(np.float32)
    counts = x.sum(1)
    total = 0.0
    for a in range(0, n, block):
        inter = x[a:a + block] @ x.T
        union = counts[a:a + block, None] + counts[None, :] - inter
        with np.errstate(invalid="ignore", divide="ignore"):
            sim = np.where(union > 0, inter / union, 1.0)   # two empty fingerprints: identical
        total += float(sim.sum(dtype=np.float64))
    return 1.0 - total / (n * n)


def _filter_patterns():
    global _filters
    if _filters is None:
        from rdkit import Chem
        from sequence_tutor_tf.molecules import moses
        props.quiet_rdkit()
        _filters = [p for p in (Chem.MolFromSmarts(s) for s in moses.read_filter_smarts())
                    if p is not None]
    return _filters


def _passes_basic_rules(mol):
    from rdkit import Chem
    try:
        if any(len(r) >= 8 for r in mol.GetRingInfo().AtomRings()):
            return False
        if any(a.GetFormalCharge() != 0 for a in mol.GetAtoms()):
            return False
        if any(a.GetSymbol() not in ALLOWED_ATOMS for a in mol.GetAtoms()):
            return False
        smiles = Chem.MolToSmiles(mol, isomericSmiles=False)
        return bool(smiles) and Chem.MolFromSmiles(smiles) is not None
    except Exception:
        return False


def passes_filters_one_by_one(mol):
    """MOSES's mol_passes_filters for one molecule: no ring of 8+ atoms, no charge, allowed
    atoms only, no MCF or PAINS match (on the molecule with explicit hydrogens), and the
    canonical SMILES re-parses. Slow (about 40 ms a molecule): `passes_filters` is the same
    answer for a list."""
    from rdkit import Chem
    if not _passes_basic_rules(mol):
        return False
    try:
        h_mol = Chem.AddHs(mol)
        return not any(h_mol.HasSubstructMatch(p) for p in _filter_patterns())
    except Exception:
        return False


def passes_filters(mols):
    """`passes_filters_one_by_one` for a list, through an RDKit SubstructLibrary: its pattern
    fingerprints screen out most (molecule, SMARTS) pairs before matching, about 20x faster
    (tests check both give the same flags)."""
    from rdkit import Chem
    from rdkit.Chem import rdSubstructLibrary
    flags = np.asarray([_passes_basic_rules(m) for m in mols], bool)
    candidates = np.flatnonzero(flags)
    if candidates.size == 0:
        return flags
    library = rdSubstructLibrary.SubstructLibrary(rdSubstructLibrary.MolHolder(),
                                                  rdSubstructLibrary.PatternHolder())
    for i in candidates.tolist():
        library.AddMol(Chem.AddHs(mols[i]))
    hit = set()
    for pattern in _filter_patterns():
        hit.update(library.GetMatches(pattern, maxResults=len(candidates), numThreads=1))
    for k in hit:
        flags[candidates[k]] = False
    return flags


def scaffold(mol, min_rings=2):
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold
    try:
        scaf = MurckoScaffold.GetScaffoldForMol(mol)
        smiles = Chem.MolToSmiles(scaf)
    except Exception:
        return None
    if not smiles or scaf.GetRingInfo().NumRings() < min_rings:
        return None
    return smiles


def fragments(mol):
    from rdkit import Chem
    from rdkit.Chem import BRICS
    try:
        return Chem.MolToSmiles(BRICS.BreakBRICSBonds(mol)).split(".")
    except Exception:
        return []


def scaffold_counts(mols):
    return collections.Counter(s for s in (scaffold(m) for m in mols) if s is not None)


def fragment_counts(mols):
    counts = collections.Counter()
    for m in mols:
        counts.update(fragments(m))
    return counts


def cosine_similarity(ref_counts, gen_counts):
    """Cosine of two {key: count} dicts (missing keys count 0); NaN when either is empty."""
    if not ref_counts or not gen_counts:
        return math.nan
    keys = sorted(set(ref_counts) | set(gen_counts))
    r = np.asarray([ref_counts.get(k, 0) for k in keys], np.float64)
    g = np.asarray([gen_counts.get(k, 0) for k in keys], np.float64)
    return float(r @ g / (np.linalg.norm(r) * np.linalg.norm(g)))


def reference_statistics(smiles_list):
    """Scaffold and fragment counts of a reference set (e.g. MOSES test), to pass as `reference`
    (computing them for 176k molecules takes minutes: keep and reuse them)."""
    mols = [m for m in (props.parse_smiles(s) for s in smiles_list) if m is not None]
    return {"scaffolds": scaffold_counts(mols), "fragments": fragment_counts(mols),
            "size": len(mols)}


def fraction_unique(canon, k):
    """unique@k over canonical SMILES of valid molecules (NaN if none; all if fewer than k)."""
    head = canon[:k]
    return len(set(head)) / len(head) if head else math.nan


def moses_metrics(smiles_list, train=None, reference=None, intdiv_max_molecules=10_000,
                  seed=0, mols=None):
    """MOSES-style metrics (see the module docstring). `train`: a set (or list) of training
    SMILES for novelty; `reference`: `reference_statistics(...)` for Scaf/Frag."""
    if mols is None:
        mols = [props.parse_smiles(s) for s in smiles_list]
    valid_mols = [m for m in mols if m is not None]
    n = len(smiles_list)
    canon = [c for c in (canonical(m) for m in valid_mols) if c is not None]
    out = {"num_molecules": n, "num_valid": len(valid_mols),
           "validity": len(valid_mols) / n if n else math.nan}
    for k in (1000, 10000):
        out[f"unique@{k // 1000}k"] = fraction_unique(canon, k)
        if len(canon) < k:
            out[f"unique@{k // 1000}k_note"] = f"only {len(canon)} valid molecules"
    if train is not None:
        unique = set(canon)
        train_set = train if isinstance(train, (set, frozenset)) else set(train)
        out["novelty"] = len(unique - train_set) / len(unique) if unique else math.nan
    else:
        out["novelty"] = None
        out["novelty_note"] = "no training set given"
    out["int_div1"] = internal_diversity(fingerprints(valid_mols), intdiv_max_molecules, seed)
    out["int_div1_molecules"] = min(len(valid_mols), intdiv_max_molecules)
    out["filters"] = float(np.mean(passes_filters(valid_mols))) if valid_mols else math.nan
    if reference is not None:
        out["scaf"] = cosine_similarity(reference["scaffolds"], scaffold_counts(valid_mols))
        out["frag"] = cosine_similarity(reference["fragments"], fragment_counts(valid_mols))
        out["reference_size"] = reference.get("size")
    else:
        out["scaf"] = out["frag"] = None
        out["scaf_frag_note"] = "no reference set given"
    out.update(fcd_metric(canon))
    return out


def fcd_metric(canonical_smiles):
    """FCD is only computed where the optional `fcd` package is installed (it is not a
    dependency: it brings torch); otherwise the reason is reported."""
    if importlib.util.find_spec("fcd") is None:
        return {"fcd": None, "fcd_note": "skipped: the optional `fcd` package is not installed"}
    return {"fcd": None, "fcd_note": "skipped: `fcd` is installed but its test statistics are "
                                     "not wired in yet"}


def paper_statistics(smiles_list, properties=None):
    """The research code's evaluation statistics (see the module docstring)."""
    if properties is None:
        properties = props.compute_properties(smiles_list)
    n = len(smiles_list)
    valid = properties["valid"]
    nv = int(valid.sum())

    def mean_valid(name):
        return float(np.mean(properties[name][valid])) if nv else math.nan
    lengths = np.asarray([len(s) for s in smiles_list], np.float64)
    return {"num_sequences": n, "num_valid": nv,
            "percent_valid": 100.0 * nv / n if n else math.nan,
            "percent_no_ring_over_6": (100.0 * int(np.sum(valid & (properties["ring_penalty"]
                                                                   == 0))) / n
                                       if n else math.nan),
            "mean_length": float(lengths.mean()) if n else math.nan,
            "mean_logp": mean_valid("logp"), "mean_sa": mean_valid("sa"),
            "mean_qed": mean_valid("qed"), "mean_ring_penalty": mean_valid("ring_penalty"),
            "mean_score": mean_valid("score")}
