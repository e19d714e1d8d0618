"""The research code's composite per-step reward and MoleculeTaskReward (molecules/rewards.py).

Expected values are written from molecule-facts.md's description and its reference property
table (CCO, aspirin, caffeine), not from our own output.
"""
import numpy as np
import pytest

from sequence_tutor_tf.molecules import properties as props
from sequence_tutor_tf.molecules.rewards import MoleculeTaskReward
from sequence_tutor_tf.molecules.vocabulary import AtomsVocabulary, FaithfulVocabulary

VOCAB = FaithfulVocabulary()


def m_from_table(logp, sa, qed, ring):
    return 3 * logp - 2 * sa + 5 * ring + 50 * qed


M_CCO = m_from_table(-0.0014, 1.9803, 0.4068, 0)
M_ASPIRIN = m_from_table(1.3101, 1.5800, 0.5501, 0)
M_CAFFEINE = m_from_table(-1.0293, 2.2980, 0.5385, 0)
TOL = 0.05   # the table is rounded to 4 decimals; 10 m multiplies it


def play(smiles, eos=True, vocab=VOCAB, **kwargs):
    """Rewards and done flags of one row writing `smiles` (then EOS)."""
    env = MoleculeTaskReward(1, vocab, **kwargs)
    ids = [vocab.token_id(t) for t in vocab.tokenize(smiles)] + ([vocab.eos] if eos else [])
    rewards, dones = [], []
    for a in ids:
        r, d = env.step(np.asarray([a]))
        rewards.append(float(r[0]))
        dones.append(bool(d[0]))
    return rewards, dones


def test_prefix_invalid_and_valid_steps():
    rewards, dones = play("C1CC", eos=False)
    # 'C' valid: 5 + m('C'); 'C1' invalid (open ring): -5; 'C1C', 'C1CC' invalid: -5
    assert rewards[0] == pytest.approx(5 + props.molecule_properties("C")[5], abs=1e-4)
    assert rewards[1:] == [-5.0, -5.0, -5.0]
    assert dones == [False] * 4
    rewards, _ = play("CCO", eos=False)
    assert rewards[2] == pytest.approx(5 + M_CCO, abs=TOL)


def test_finished_valid_with_each_length_penalty():
    # CCO + EOS = 4 tokens < 19: 10 m + 600 - 200
    rewards, dones = play("CCO")
    assert dones == [False, False, False, True]
    assert rewards[-1] == pytest.approx(10 * M_CCO + 600 - 200, abs=10 * TOL)
    # aspirin: 21 characters + EOS = 22 tokens, 19 <= 22 < 27.08: -25
    rewards, _ = play("CC(=O)Oc1ccccc1C(=O)O")
    assert rewards[-1] == pytest.approx(10 * M_ASPIRIN + 600 - 25, abs=10 * TOL)
    # caffeine: 28 + EOS = 29 tokens: no length penalty
    rewards, _ = play("CN1C=NC2=C1C(=O)N(C(=O)N2C)C")
    assert rewards[-1] == pytest.approx(10 * M_CAFFEINE + 600, abs=10 * TOL)


def test_finished_invalid():
    assert play("C1CC")[0][-1] == -200.0                    # 5 tokens
    assert play("C1CC" + "O" * 20)[0][-1] == -25.0          # 25 tokens
    assert play("C1CC" + "O" * 30)[0][-1] == 0.0            # 35 tokens


def test_eos_alone_is_invalid_and_finishes():
    rewards, dones = play("")
    assert rewards == [-200.0] and dones == [True]


def test_carbon_run_penalty_applies_after_more_than_eleven():
    rewards, _ = play("C" * 14, eos=False)
    base = [5 + props.molecule_properties("C" * k)[5] for k in range(1, 15)]
    got = np.asarray(rewards) - np.asarray(base)
    assert got[:12] == pytest.approx([0.0] * 12, abs=1e-4)       # 0..11 C's before the new one
    assert got[12:] == pytest.approx([-150.0, -150.0], abs=1e-4)  # 12 and 13 before it
    # an O breaks the run; 'c' (aromatic) is not 'C'
    rewards, _ = play("C" * 12 + "O" + "C", eos=False)
    assert rewards[-1] == pytest.approx(5 + props.molecule_properties("C" * 12 + "OC")[5],
                                        abs=1e-4)


def test_max_length_finishes_without_eos():
    smiles = "CCO" * 40                                  # 120 tokens, valid all along
    rewards, dones = play(smiles, eos=False)
    assert dones == [False] * 119 + [True]
    m = props.molecule_properties(smiles)[5]
    assert rewards[-1] == pytest.approx(10 * m + 600, abs=1e-3)


def test_rows_finish_independently_and_reset_mask():
    env = MoleculeTaskReward(3, VOCAB)
    c, o, eos = VOCAB.token_id("C"), VOCAB.token_id("O"), VOCAB.eos
    r, d = env.step([c, c, eos])
    assert d.tolist() == [False, False, True] and r[2] == -200.0
    r, d = env.step([o, eos, c])             # row 2 is done: ignored, reward 0
    assert d.tolist() == [False, True, True] and r[2] == 0.0
    assert env.smiles() == ["CO", "C", ""]
    env.reset(np.asarray([False, True, True]))
    assert env.smiles() == ["CO", "", ""] and env.num_tokens.tolist() == [2, 0, 0]
    r, d = env.step([eos, c, c])
    assert d.tolist() == [True, False, False]
    assert r.dtype == np.float32 and d.dtype == bool
    with pytest.raises(ValueError, match="shape"):
        env.reset(np.asarray([True]))
    with pytest.raises(ValueError, match="outside"):
        env.step([0, 1, 99])


def test_cache_reuses_prefixes_across_rows():
    env = MoleculeTaskReward(4, VOCAB)
    c = VOCAB.token_id("C")
    env.step([c] * 4)
    assert env.cache.misses == 1 and env.cache.hits == 0   # one unique prefix in the batch
    env.reset()
    env.step([c] * 4)
    assert env.cache.hits == 1


def test_extra_component_on_valid_finished_rows():
    env = MoleculeTaskReward(2, VOCAB, extra_components=[(lambda s: [100.0] * len(s), 2.0)])
    c, eos = VOCAB.token_id("C"), VOCAB.eos
    env.step([c, eos])
    r, _ = env.step([eos, c])
    plain = MoleculeTaskReward(1, VOCAB)
    plain.step([c])
    want, _ = plain.step([eos])
    assert r[0] == pytest.approx(want[0] + 200.0)


def test_atoms_vocabulary_special_action_breaks_the_row():
    vocab = AtomsVocabulary.from_corpus(["CCO", "CCl"])
    assert play("CCl", vocab=vocab)[0][-1] == pytest.approx(
        10 * props.molecule_properties("CCl")[5] + 600 - 200, abs=1e-4)
    env = MoleculeTaskReward(1, vocab)
    env.step([vocab.token_id("C")])
    r, d = env.step([vocab.bos])
    assert r[0] == -5.0 and not d[0]


def test_qed_objective_pays_only_at_the_end_of_a_valid_molecule():
    rewards, dones = play("CC(=O)Oc1ccccc1C(=O)O", objective="qed")
    assert rewards[:-1] == [0.0] * (len(rewards) - 1) and dones[-1]
    assert rewards[-1] == pytest.approx(100 * 0.5501, abs=0.01)      # the facts' aspirin QED
    assert play("C1CC", objective="qed")[0] == [0.0] * 5              # invalid: 0, no penalty
    assert play("", objective="qed")[0] == [0.0]                      # EOS alone is invalid
    assert play("CCO", eos=False, objective="qed")[0] == [0.0] * 3    # unfinished
    env = MoleculeTaskReward(2, VOCAB, objective="qed",
                             extra_components=[(lambda s: [1.0] * len(s), 3.0)])
    c, one, eos = VOCAB.token_id("C"), VOCAB.token_id("1"), VOCAB.eos
    env.step([c, one])
    r, d = env.step([eos, eos])          # 'C' valid, '1' invalid
    assert d.tolist() == [True, True]
    assert r[0] == pytest.approx(100 * props.molecule_properties("C")[3] + 3.0, abs=1e-4)
    assert r[1] == 0.0
    with pytest.raises(ValueError, match="objective"):
        MoleculeTaskReward(1, VOCAB, objective="logp")
