"""What keeps `reproduce molecules --quick` fast: MOSES rows made into lines only when read,
the cache directory without the music corpus import, and the quick preset's settings."""
from sequence_tutor_tf.molecules import data


def test_moses_rows_become_lines_when_read():
    rows = ["CCO\n", " c1ccccc1", "CC(=O)O"]
    lazy = data._CsvRows("moses/train", rows)
    eager = [data.SmilesLine("moses/train", i + 2, s.strip()) for i, s in enumerate(rows)]
    assert len(lazy) == 3 and [lazy[i] for i in range(3)] == eager
    kept = data.filter_lines(lazy, max_molecules=2, seed=0)
    assert kept == [s for s in data.filter_lines(eager, max_molecules=2, seed=0)]
    assert len(kept) == 2


def test_the_cache_directory_is_the_music_corpus_one(monkeypatch, tmp_path):
    from sequence_tutor_tf.music import corpus
    monkeypatch.delenv("SEQUENCE_TUTOR_CACHE", raising=False)
    assert data.default_cache_dir() == corpus.default_cache_dir()
    monkeypatch.setenv("SEQUENCE_TUTOR_CACHE", str(tmp_path))
    assert data.default_cache_dir() == corpus.default_cache_dir() == str(tmp_path)


def test_quick_preset_skips_xla_and_the_paper_preset_keeps_its_sizes():
    from sequence_tutor_tf.reproduce.molecules import PRESETS, tune_config
    quick, paper = PRESETS["quick"], PRESETS["paper"]
    assert not tune_config("q", quick, 0).jit and tune_config("q", paper, 0).jit
    assert (paper.training_steps, paper.eval_samples, paper.seeds, paper.molecules) == \
        (100_000, 2_000, 3, 200_000)
    assert tune_config("q", paper, 0, "code").replay == "prioritized"
    assert tune_config("q", paper, 0).replay == "uniform"
