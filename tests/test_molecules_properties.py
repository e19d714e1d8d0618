"""RDKit properties and scoring components (molecules/properties.py, molecules/rewards.py)."""
import math
import sys
import types

import numpy as np
import pytest

from sequence_tutor_tf.molecules import properties as props
from sequence_tutor_tf.molecules import rewards

# molecule-facts.md, "Reference property values" (rdkit 2026.9, Crippen logP, Contrib SA, QED).
REFERENCE = {
    "CCO": (-0.0014, 1.9803, 0.4068, 0),
    "c1ccccc1": (1.6866, 1.0000, 0.4426, 0),
    "CC(=O)Oc1ccccc1C(=O)O": (1.3101, 1.5800, 0.5501, 0),
    "C1CCCCCCC1": (3.1208, 1.0000, 0.4514, -2),
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C": (-1.0293, 2.2980, 0.5385, 0),
}


@pytest.mark.parametrize("smiles", sorted(REFERENCE))
def test_reference_values(smiles):
    ok, logp, sa, qed, ring, score = props.molecule_properties(smiles)
    want = REFERENCE[smiles]
    assert ok
    assert (logp, sa, qed, ring) == pytest.approx(want, abs=1e-3)
    assert score == pytest.approx(3 * want[0] - 2 * want[1] + 5 * want[3] + 50 * want[2],
                                  abs=0.06)


def test_batched_properties_match_single_and_flag_invalid():
    smiles = list(REFERENCE) + ["", "C1CC", "(", " ", "CC(C"]
    out = props.compute_properties(smiles)
    assert out["valid"].tolist() == [True] * 5 + [False] * 5
    for name in ("logp", "sa", "qed", "ring_penalty", "score"):
        assert np.all(np.isnan(out[name][5:]))
    assert out["qed"][:5] == pytest.approx([REFERENCE[s][2] for s in REFERENCE], abs=1e-3)


@pytest.mark.parametrize("bad", ["", "   ", None, 42, "C\x00C", "[Xx]", "c1cccc1", "C" * 5000 + "("])
def test_invalid_input_never_raises(bad):
    assert props.parse_smiles(bad) is None
    for name in rewards.COMPONENTS:
        if name in ("length_penalty", "carbon_run") and not isinstance(bad, str):
            continue
        values = rewards.COMPONENTS[name]([bad])
        assert values.shape == (1,) and np.isfinite(values).all()


def test_empty_string_is_invalid_although_rdkit_parses_it():
    from rdkit import Chem
    assert Chem.MolFromSmiles("") is not None and Chem.MolFromSmiles("").GetNumAtoms() == 0
    assert props.molecule_properties("")[0] is False
    assert rewards.validity(["", "C"]).tolist() == [0.0, 1.0]


def test_failure_fallbacks(monkeypatch):
    """The research code: SA failing counts 5 (its -5 x multiplier 2), logP / QED failing 0."""
    def boom(*_):
        raise RuntimeError("no")
    monkeypatch.setattr(props.sascorer(), "calculateScore", boom)
    from rdkit.Chem import QED, Crippen
    monkeypatch.setattr(QED, "qed", boom)
    monkeypatch.setattr(Crippen, "MolLogP", boom)
    ok, logp, sa, qed, ring, score = props.molecule_properties("CCO")
    assert ok and (logp, sa, qed, ring) == (0.0, 5.0, 0.0, 0.0) and score == -10.0


def test_ring_penalty_uses_largest_cycle_of_the_cycle_basis():
    assert props.ring_penalty(props.parse_smiles("C1CCCCCCCCC1")) == -4.0   # 10-ring
    assert props.ring_penalty(props.parse_smiles("C1CCCCC1")) == 0.0
    # naphthalene: two 6-cycles in the basis, no penalty
    assert props.ring_penalty(props.parse_smiles("c1ccc2ccccc2c1")) == 0.0


def test_length_and_carbon_components():
    # length in tokens = characters + EOS; < 19 -> -200, < 45.82 - 2 * 9.37 = 27.08 -> -25
    smiles = ["C" * 17, "C" * 18, "C" * 26, "C" * 27]
    assert rewards.length_penalty(smiles).tolist() == [-200.0, -25.0, -25.0, 0.0]
    assert rewards.carbon_run_penalty(["C" * 12, "C" * 13, "O" + "C" * 13, "C" * 13 + "O"]
                                      ).tolist() == [0.0, -150.0, -150.0, 0.0]


# ---- user components
def _install(monkeypatch, **functions):
    module = types.ModuleType("user_mol_components")
    for name, fn in functions.items():
        setattr(module, name, fn)
    monkeypatch.setitem(sys.modules, "user_mol_components", module)


def test_user_component_resolves_and_runs(monkeypatch):
    _install(monkeypatch, heavy=lambda smiles: [float(len(s)) for s in smiles])
    name, fn = rewards.check_component("user_mol_components:heavy")
    assert rewards.call_component(name, fn, ["CC", "CCCO"]).tolist() == [2.0, 4.0]


@pytest.mark.parametrize("fn, words", [
    (lambda smiles: 1 / 0, "raised ZeroDivisionError"),
    (lambda smiles: [math.nan] * len(smiles), "non-finite"),
    (lambda smiles: [math.inf] * len(smiles), "non-finite"),
    (lambda smiles: ["1.0"] * len(smiles), "type"),
    (lambda smiles: [1.0], "shape"),
    (lambda smiles: None, "type"),
])
def test_bad_user_component_is_a_clear_value_error(monkeypatch, fn, words):
    _install(monkeypatch, broken=fn)
    with pytest.raises(ValueError) as info:
        rewards.check_component("user_mol_components:broken")
    assert "user_mol_components:broken" in str(info.value) and words in str(info.value)


def test_unknown_component_specs():
    with pytest.raises(ValueError, match="unknown reward component"):
        rewards.resolve_component("no_such_thing")
    with pytest.raises(ValueError, match="cannot import module"):
        rewards.resolve_component("no_such_module_xyz:f")
    with pytest.raises(ValueError, match="has no function"):
        rewards.resolve_component("math:no_such_function")
