"""SMILES corpora (molecules/data.py): formats, skip-and-count, errors, cache, subsampling."""
import os
import warnings

import pytest

from sequence_tutor_tf.molecules import data
from sequence_tutor_tf.molecules.data import SmilesLineSkipped, load_smiles_corpus
from sequence_tutor_tf.molecules.vocabulary import FaithfulVocabulary


def load(path, tmp_path, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        corpus = load_smiles_corpus(str(path), cache_dir=str(tmp_path / "cache"), **kwargs)
    return corpus, [str(w.message) for w in caught if issubclass(w.category, SmilesLineSkipped)]


def test_smi_with_header_names_and_skips(tmp_path):
    f = tmp_path / "mols.smi"
    f.write_text("smiles name\nCCO ethanol\nC1CC broken\n\nc1ccccc1\tbenzene\nC%12CC%12 pct\n"
                 "C.C dot\n" + "C" * 125 + "\n")
    corpus, messages = load(f, tmp_path, vocabulary=FaithfulVocabulary())
    assert corpus.smiles == ["CCO", "c1ccccc1"]
    assert corpus.stats["lines_read"] == 7 and corpus.stats["skipped"] == {
        "blank": 1, "invalid": 1, "too_long": 1, "unknown_characters": 2}
    assert any(f"{f}:3: skipped (RDKit cannot parse 'C1CC'" in m for m in messages)
    assert any(f"{f}:6:" in m and "character '%' at column 2" in m for m in messages)
    assert any(f"{f}:7:" in m and "character '.'" in m for m in messages)
    summary = [m for m in messages if "SMILES kept" in m]
    assert summary and "2 SMILES kept of 7 lines read" in summary[0]


def test_csv_smiles_column_and_zinc_style_quotes(tmp_path):
    f = tmp_path / "zinc.csv"
    f.write_text('logP,SMILES,qed\n1.0,"CCO\n",0.4\n2.0,"c1ccccc1\n",0.4\n3.0,"C(",0.1\n')
    corpus, messages = load(f, tmp_path)
    assert corpus.smiles == ["CCO", "c1ccccc1"] and corpus.stats["skipped"] == {"invalid": 1}
    assert any(f"{f}:6:" in m for m in messages)          # line numbers count the quoted newlines


def test_csv_without_header_takes_first_column_and_directory(tmp_path):
    d = tmp_path / "corpus"
    os.makedirs(d / "sub")
    (d / "a.csv").write_text("CCO,x\nCCN,y\n")
    (d / "sub" / "b.txt").write_text("c1ccccc1\n")
    (d / "ignored.json").write_text("{}")
    corpus, _ = load(d, tmp_path)
    assert corpus.smiles == ["CCO", "CCN", "c1ccccc1"]


def test_empty_and_unreadable_are_clear_errors(tmp_path):
    empty = tmp_path / "empty.smi"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="holds no usable molecule"):
        load(empty, tmp_path)
    allbad = tmp_path / "bad.smi"
    allbad.write_text("C1CC\n((\n")
    with pytest.raises(ValueError, match="invalid 2"):
        load(allbad, tmp_path)
    binary = tmp_path / "bin.smi"
    binary.write_bytes(b"CCO\n\xff\xfe\n")
    with pytest.raises(ValueError, match=r"bin.smi:2: not UTF-8"):
        load(binary, tmp_path)
    with pytest.raises(ValueError, match="neither 'moses', a file nor a directory"):
        load(tmp_path / "missing.smi", tmp_path)
    os.makedirs(tmp_path / "nothing")
    with pytest.raises(ValueError, match="holds no SMILES files"):
        load(tmp_path / "nothing", tmp_path)


def test_cache_and_seeded_subsample(tmp_path):
    f = tmp_path / "many.smi"
    rows = ["C" * k + "O" for k in range(1, 41)]
    f.write_text("\n".join(rows) + "\n")
    first, _ = load(f, tmp_path, max_molecules=10, seed=3)
    again, _ = load(f, tmp_path, max_molecules=10, seed=3)
    other, _ = load(f, tmp_path, max_molecules=10, seed=4)
    assert first.stats["cache"] == "written" and again.stats["cache"] == "hit"
    assert again.smiles == first.smiles and len(first) == 10 and other.smiles != first.smiles
    assert first.smiles == [s for s in rows if s in set(first.smiles)]   # corpus order kept
    f.write_text("\n".join(rows[:5]) + "\n")                              # changed file: re-read
    changed, _ = load(f, tmp_path)
    assert changed.smiles == rows[:5] and changed.stats["cache"] == "written"
    with pytest.raises(ValueError, match="max_molecules"):
        load(f, tmp_path, max_molecules=0)


def test_moses_subsample_without_importing_moses(tmp_path):
    import sys
    corpus = load_smiles_corpus("moses", split="test", max_molecules=500, seed=0,
                                vocabulary=FaithfulVocabulary(), cache_dir=str(tmp_path))
    assert len(corpus) == 500 and corpus.stats["lines_read"] == 176_074
    assert "moses" not in sys.modules and "torch" not in sys.modules
    assert data.moses.filter_paths()[0].endswith("mcf.csv")
