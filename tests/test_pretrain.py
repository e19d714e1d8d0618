"""`sequence-tutor pretrain` end to end on real music21 melodies: outputs, config, resume after a
kill, MirroredStrategy over two logical CPUs, and the learning-rate default we changed."""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

CORPUS = "bach[0:60]"


@pytest.fixture(scope="module")
def corpus_cache(tmp_path_factory):
    """Converts the slice once; every subprocess below reads it from this cache."""
    from sequence_tutor_tf.music.sources import load_melodies
    cache = str(tmp_path_factory.mktemp("corpus_cache"))
    load_melodies(CORPUS, cache_dir=cache, num_workers=2, progress=False)
    return cache


def _pretrain_cmd(out, cache, *extra):
    return [sys.executable, "-m", "sequence_tutor_tf.cli.main", "pretrain", "--corpus", CORPUS,
            "--cache-dir", cache, "--output-dir", str(out), "--rnn-layer-sizes", "16",
            "--batch-size", "8", "--verbose", "0", "--num-samples", "2", "--sample-steps", "16",
            *extra]


def _run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


def test_pretrain_writes_model_curves_samples_and_resolved_config(tmp_path, corpus_cache):
    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"num_training_steps": 999, "steps_per_epoch": 10,
                                  "validation_fraction": 0.2}))
    out = tmp_path / "run"
    # The config file sets 999 steps; the flag must win.
    proc = _run(_pretrain_cmd(out, corpus_cache, "--config", str(config),
                              "--num-training-steps", "20"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["optimizer_steps"] == 20
    assert metrics["validation_melodies"] > 0 and metrics["train_melodies"] > 0
    assert np.isfinite(metrics["validation_nll"]) and metrics["unigram_baseline_nll"] > 0
    resolved = json.loads((out / "pretrain_config.json").read_text())
    assert resolved["num_training_steps"] == 20 and resolved["steps_per_epoch"] == 10
    assert resolved["validation_fraction"] == 0.2 and resolved["seed"] == 0
    for name in ("training_curves.png", "training_log.csv", "note_rnn/note_rnn_config.json",
                 "samples/sample_00.mid", "samples/sample_01.mid"):
        assert (out / name).exists(), name
    assert os.listdir(out / "logs"), "no TensorBoard logs"
    from sequence_tutor_tf.models.checkpoints import load_note_rnn
    model, _ = load_note_rnn(str(out / "note_rnn"))
    assert model.rnn_layer_sizes == [16]


def test_unknown_config_key_and_bad_flag_are_clear_errors(tmp_path, corpus_cache):
    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"num_trainig_steps": 5}))
    proc = _run(_pretrain_cmd(tmp_path / "x", corpus_cache, "--config", str(config)))
    assert proc.returncode == 2 and "num_trainig_steps" in proc.stderr
    proc = _run(_pretrain_cmd(tmp_path / "x", corpus_cache, "--rnn-layer-sizes", "0"))
    assert proc.returncode == 2 and "positive" in proc.stderr


def test_killed_run_resumes_where_it_stopped(tmp_path, corpus_cache):
    out = tmp_path / "run"
    cmd = _pretrain_cmd(out, corpus_cache, "--num-training-steps", "400", "--steps-per-epoch",
                        "50", "--num-samples", "0")
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log_path = out / "training_log.csv"
    deadline = time.time() + 240
    # Kill once two epochs are logged (a backup exists by then) and training is still going.
    while time.time() < deadline:
        if log_path.exists() and len(log_path.read_text().strip().splitlines()) >= 3:
            break
        if first.poll() is not None:
            pytest.fail("the first run ended before it could be interrupted")
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    rows_before = list(csv.DictReader(log_path.open()))
    assert 2 <= len(rows_before) < 8
    proc = _run(cmd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = list(csv.DictReader(log_path.open()))
    resumed_epochs = [int(r["epoch"]) for r in rows[len(rows_before):]]
    assert resumed_epochs[0] >= len(rows_before) - 1, "the restarted run began again from epoch 0"
    assert resumed_epochs[-1] == 7
    assert json.loads((out / "metrics.json").read_text())["optimizer_steps"] == 400


def test_mirrored_strategy_over_two_logical_cpus(tmp_path, corpus_cache):
    out = tmp_path / "mirrored"
    proc = _run(_pretrain_cmd(out, corpus_cache, "--strategy", "mirrored", "--logical-cpus", "2",
                              "--num-training-steps", "10", "--steps-per-epoch", "5"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "MirroredStrategy with 2 replica(s)" in proc.stderr
    assert json.loads((out / "metrics.json").read_text())["optimizer_steps"] == 10
