"""RDKit properties of SMILES, as the research code computes them, that never raise.

Validity is a flag: an empty string, a SMILES RDKit cannot parse, or one that parses to a
0-atom molecule (RDKit accepts '') is invalid. For a valid molecule: logP = Crippen `MolLogP`,
SA = the RDKit Contrib SA_Score (`sascorer`, shipped in the rdkit wheel), QED = `rdkit.Chem.QED
.qed` (the research code used Silicos-it's `qed.default`, within 0.043 of it), ring penalty =
-(L - 6) when the largest cycle L of `networkx.cycle_basis` over the adjacency matrix exceeds 6
(the research code's definition; RDKit's ring info disagrees on about 0.2% of molecules).
Failures fall back as the research code's do: SA 5, logP 0, QED 0 (ring: 0).
The composite drug score is m = 3 logP - 2 SA + 5 ring + 50 QED.
"""
import math
import os
import sys

import numpy as np

SA_FALLBACK = 5.0
LOGP_FALLBACK = 0.0
QED_FALLBACK = 0.0
RING_FALLBACK = 0.0
SCORE_WEIGHTS = {"logp": 3.0, "sa": -2.0, "ring_penalty": 5.0, "qed": 50.0}
PROPERTY_NAMES = ("logp", "sa", "qed", "ring_penalty")

_sascorer = None


def quiet_rdkit():
    """RDKit's parse errors go to stderr one per invalid SMILES: most RL prefixes are invalid."""
    from rdkit import RDLogger
    RDLogger.DisableLog("rdApp.*")


def sascorer():
    """The Contrib SA_Score module of the installed rdkit."""
    global _sascorer
    if _sascorer is None:
        from rdkit.Chem import RDConfig
        path = os.path.join(RDConfig.RDContribDir, "SA_Score")
        if path not in sys.path:
            sys.path.append(path)
        import sascorer as module   # noqa: E402  (Contrib is not a package)
        _sascorer = module
    return _sascorer


def parse_smiles(smiles):
    """RDKit molecule of `smiles`, or None when invalid (never raises)."""
    if not isinstance(smiles, str) or not smiles.strip():
        return None
    quiet_rdkit()
    from rdkit import Chem
    try:
        mol = Chem.MolFromSmiles(smiles)
    except Exception:   # RDKit raises on some inputs (e.g. embedded NUL) instead of None
        return None
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    return mol


def _guarded(compute, mol, fallback):
    """compute(mol) as a float, or the research code's fallback when RDKit fails or returns
    NaN/inf: a property never raises."""
    try:
        value = float(compute(mol))
    except Exception:
        return fallback
    return value if math.isfinite(value) else fallback


def logp(mol):
    from rdkit.Chem import Crippen
    return _guarded(Crippen.MolLogP, mol, LOGP_FALLBACK)


def sa(mol):
    return _guarded(lambda m: sascorer().calculateScore(m), mol, SA_FALLBACK)


def qed(mol):
    from rdkit.Chem import QED
    return _guarded(QED.qed, mol, QED_FALLBACK)


def ring_penalty(mol):
    """-(L - 6) for the largest cycle L of networkx's cycle basis when L > 6, else 0."""
    try:
        import networkx as nx
        from rdkit.Chem import rdmolops
        cycles = nx.cycle_basis(nx.Graph(rdmolops.GetAdjacencyMatrix(mol)))
    except ImportError:
        raise
    except Exception:
        return RING_FALLBACK
    largest = max((len(c) for c in cycles), default=0)
    return -float(largest - 6) if largest > 6 else 0.0


def drug_score(logp_value, sa_value, qed_value, ring_value):
    """m = 3 logP - 2 SA + 5 ring + 50 QED (works on floats and arrays)."""
    return (SCORE_WEIGHTS["logp"] * logp_value + SCORE_WEIGHTS["sa"] * sa_value
            + SCORE_WEIGHTS["ring_penalty"] * ring_value + SCORE_WEIGHTS["qed"] * qed_value)


def mol_properties(mol):
    """(valid, logp, sa, qed, ring_penalty, score) of a parsed molecule (None: invalid, NaNs)."""
    if mol is None:
        return False, math.nan, math.nan, math.nan, math.nan, math.nan
    values = (logp(mol), sa(mol), qed(mol), ring_penalty(mol))
    return (True,) + values + (float(drug_score(*values)),)


def molecule_properties(smiles):
    """(valid, logp, sa, qed, ring_penalty, score) of one SMILES; NaN properties when invalid."""
    return mol_properties(parse_smiles(smiles))


def compute_properties(smiles_list, mols=None):
    """Batched: {'valid': bool [N], 'logp', 'sa', 'qed', 'ring_penalty', 'score': float [N]}
    with NaN where invalid. Never raises on bad SMILES. `mols`: already parsed (None = invalid)."""
    rows = [molecule_properties(s) for s in smiles_list] if mols is None else \
        [mol_properties(m) for m in mols]
    out = {"valid": np.asarray([r[0] for r in rows], bool)}
    for j, name in enumerate(PROPERTY_NAMES + ("score",), start=1):
        out[name] = np.asarray([r[j] for r in rows], np.float64)
    return out
