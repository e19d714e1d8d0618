"""MOSES-style metrics and the paper's statistics (molecules/metrics.py) on hand-made sets."""
import math

import numpy as np
import pytest

from sequence_tutor_tf.molecules import metrics
from sequence_tutor_tf.molecules import properties as props

# 10 lines: 8 valid, of which 6 distinct molecules ('OCC' is 'CCO'; 'c1ccccc1' twice)
GEN = ["CCO", "OCC", "c1ccccc1", "c1ccccc1", "CCN", "C1CC", "CC(=O)O", "", "c1ccncc1",
       "C1CCCCCCC1"]
TRAIN = {"CCO", "c1ccccc1"}   # canonical SMILES, as MOSES's train file holds them


def test_validity_unique_novelty_exact():
    out = metrics.moses_metrics(GEN, train=TRAIN)
    assert out["validity"] == pytest.approx(8 / 10)
    assert out["unique@1k"] == pytest.approx(6 / 8)          # over the valid molecules
    assert out["novelty"] == pytest.approx(4 / 6)            # CCN, CC(=O)O, pyridine, C8 ring
    assert out["scaf"] is None and "fcd_note" in out


def test_internal_diversity_against_rdkit_tanimoto():
    from rdkit import DataStructs
    from rdkit.Chem import rdFingerprintGenerator
    mols = [props.parse_smiles(s) for s in ("CCO", "c1ccccc1", "CC(=O)Oc1ccccc1C(=O)O")]
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    fps = [gen.GetFingerprint(m) for m in mols]
    sims = [DataStructs.BulkTanimotoSimilarity(f, fps) for f in fps]
    want = 1 - np.mean(sims)                                  # all ordered pairs, self included
    assert metrics.internal_diversity(metrics.fingerprints(mols)) == pytest.approx(want)
    same = metrics.fingerprints([mols[0]] * 5)
    assert metrics.internal_diversity(same) == pytest.approx(0.0)
    assert metrics.internal_diversity(metrics.fingerprints(mols), block=1) == pytest.approx(want)


def test_filters_library_equals_one_by_one():
    smiles = ["CCO", "c1ccccc1", "O=C(C=Cc1ccccc1)c1ccccc1", "Nc1ccc(N)cc1", "Oc1ccccc1O",
              "C[N+](C)(C)C", "CC[Si](C)C", "C1CCCCCCC1", "N=Nc1ccccc1", "CC(=O)Nc1ccc(O)cc1"]
    mols = [props.parse_smiles(s) for s in smiles]
    fast = metrics.passes_filters(mols).tolist()
    assert fast == [metrics.passes_filters_one_by_one(m) for m in mols]
    assert fast[0] and not fast[5] and not fast[6] and not fast[7]  # charge, Si, 8-ring
    assert not all(fast[2:5] + fast[8:9])                           # some PAINS/MCF hit


def test_cosine_similarity_and_reference():
    assert metrics.cosine_similarity({"a": 1, "b": 1}, {"a": 2, "b": 2}) == pytest.approx(1.0)
    assert metrics.cosine_similarity({"a": 1}, {"b": 1}) == 0.0
    assert metrics.cosine_similarity({"a": 3, "b": 4}, {"a": 1}) == pytest.approx(3 / 5)
    assert math.isnan(metrics.cosine_similarity({}, {"a": 1}))
    ref = metrics.reference_statistics(["c1ccc2ccccc2c1", "c1ccc(-c2ccccc2)cc1", "CCO"])
    assert set(ref["scaffolds"]) == {"c1ccc2ccccc2c1", "c1ccc(-c2ccccc2)cc1"}  # >= 2 rings
    out = metrics.moses_metrics(["Cc1ccc2ccccc2c1", "CCO"], reference=ref)
    assert out["scaf"] == pytest.approx(1 / math.sqrt(2))
    assert 0 < out["frag"] <= 1


def test_paper_statistics():
    stats = metrics.paper_statistics(GEN)
    assert stats["percent_valid"] == pytest.approx(80.0)
    # the 8-ring is the only valid molecule with a ring over 6 atoms; the research code divides
    # by all sequences: (8 - 1) / 10
    assert stats["percent_no_ring_over_6"] == pytest.approx(70.0)
    assert stats["mean_length"] == pytest.approx(np.mean([len(s) for s in GEN]))
    assert stats["mean_ring_penalty"] == pytest.approx(-2 / 8)
    valid = [s for s in GEN if props.parse_smiles(s) is not None]
    assert stats["mean_qed"] == pytest.approx(np.mean([props.molecule_properties(s)[3]
                                                       for s in valid]))
