"""SMILES vocabularies (molecules/vocabulary.py): order, specials, metadata and round trips.

The full MOSES train set (1,584,663 SMILES) takes 20-35 s on our loaded 2-core machine, so the
test round-trips a seeded 200,000-molecule subset (seed 0) through the batched path and 2,000 of
them one by one; `python scripts/molecules_roundtrip.py` checks all of train and test.
"""
import json

import numpy as np
import pytest

from sequence_tutor_tf.molecules import moses
from sequence_tutor_tf.molecules.vocabulary import (AtomsVocabulary, FaithfulVocabulary,
                                                    random_priming_tokens, to_padded,
                                                    vocabulary_from_metadata)

# molecule-facts.md: "35 single characters: space, # ( ) + - / 1 2 ... r s"
FACTS_ORDER = [" "] + "# ( ) + - / 1 2 3 4 5 6 7 8 = @ B C F H I N O P S [ \\ ] c l n o r s".split()


@pytest.fixture(scope="module")
def train_subset():
    train = moses.read_split("train")
    assert len(train) == 1_584_663
    idx = np.sort(np.random.default_rng(0).choice(len(train), 200_000, replace=False))
    return [train[i] for i in idx.tolist()]


def test_faithful_alphabet_and_specials():
    v = FaithfulVocabulary()
    assert list(v.tokens) == FACTS_ORDER and v.size == 35
    assert (v.eos, v.bos, v.pad, v.fill_id, v.max_length) == (0, None, None, 0, 120)
    assert v.encode("CCl").tolist() == [v.token_id("C"), v.token_id("C"), v.token_id("l"), 0]
    assert v.decode([18, 18, 0, 23, 23]) == "CC"        # stops at EOS
    meta = json.loads(json.dumps(v.metadata()))
    assert meta["kind"] == "faithful" and vocabulary_from_metadata(meta).tokens == v.tokens


def test_faithful_unknown_character_is_named():
    with pytest.raises(ValueError, match=r"character '%' at position 1 of 'C%12'"):
        FaithfulVocabulary().encode("C%12")
    with pytest.raises(ValueError, match="SMILES number 1"):
        FaithfulVocabulary().encode_batch(["CC", "C.C"])
    with pytest.raises(ValueError):
        FaithfulVocabulary().encode("C C")                  # space is EOS, not a character


def test_priming_tokens_are_ids_1_to_33():
    tokens = random_priming_tokens(20_000, np.random.default_rng(0))
    assert tokens.min() == 1 and tokens.max() == 33 and len(set(tokens.tolist())) == 33


def test_atoms_tokens_specials_and_metadata():
    v = AtomsVocabulary.from_corpus(["CCl", "c1ccc[nH]c1Br", "C%12CC%12", "[C@@H](O)N"])
    assert v.tokenize("c1ccc[nH]c1Br") == ["c", "1", "c", "c", "c", "[nH]", "c", "1", "Br"]
    assert v.tokenize("C%12CC%12") == ["C", "%12", "C", "C", "%12"]
    assert (v.pad, v.bos, v.eos, v.fill_id) == (0, 1, 2, 0)
    ids = v.encode("CCl")
    assert ids[0] == v.bos and ids[-1] == v.eos and v.token(ids[2]) == "Cl"
    assert v.decode(np.concatenate([ids, [v.pad, v.pad]])) == "CCl"
    back = vocabulary_from_metadata(json.loads(json.dumps(v.metadata())))
    assert back.tokens == v.tokens and back.encode("[C@@H](O)N").tolist() == \
        v.encode("[C@@H](O)N").tolist()
    with pytest.raises(ValueError, match=r"token '\[Na\+\]'"):
        v.encode("C[Na+]")
    with pytest.raises(ValueError, match="empty corpus"):
        AtomsVocabulary.from_corpus([])


def test_batch_paths_equal_item_paths_on_awkward_rows():
    rows = ["C", "CCl", "BrCBr", "[nH]1cccc1", "C[C@H](N)C(=O)O", "Clc1ccccc1Cl", "[H]"]
    for v in (FaithfulVocabulary(), AtomsVocabulary.from_corpus(rows + ["C%10CC%10"])):
        for batch in (rows, rows + (["C%10CC%10"] if v.kind == "atoms" else [])):
            ids, lengths = v.encode_batch(batch)
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            for i, s in enumerate(batch):
                assert ids[offsets[i]:offsets[i + 1]].tolist() == v.encode(s).tolist()
            assert v.decode_batch(ids, lengths) == batch
            padded = to_padded(ids, lengths, v.fill_id)
            assert [v.decode(r) for r in padded] == batch


def test_round_trip_moses_train_subset(train_subset):
    vocabs = [FaithfulVocabulary(), AtomsVocabulary.from_corpus(train_subset)]
    for v in vocabs:
        ids, lengths = v.encode_batch(train_subset)
        assert v.decode_batch(ids, lengths) == train_subset, v.name
        assert int(lengths.max()) - (v.bos is not None) <= v.max_length
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        for i in range(0, len(train_subset), 100):           # 2,000 one by one
            item = v.encode(train_subset[i])
            assert ids[offsets[i]:offsets[i + 1]].tolist() == item.tolist()
            assert v.decode(item) == train_subset[i]
    # data-facts.md: 24 atom tokens in all of MOSES; the subset may lack the rarest ('6': 14 rows)
    assert 22 <= vocabs[1].size - 3 <= 24
