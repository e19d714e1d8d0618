"""`pretrain --strategy multi_worker` with two worker processes on 127.0.0.1 (issue 17 part 6).

Two `pretrain` processes, each told the cluster and its own index by TF_CONFIG (free ports), train
one model together on the same data with a global batch of 8 (4 per worker); a third process
trains alone with the default strategy and the same global batch. MultiWorkerMirroredStrategy
splits every global batch between the workers and all-reduces the gradients, so both runs make
the same updates from the same batches, up to the order of float additions: each epoch's training
loss must agree to 1e-5 relative (float32 sums of a few hundred terms differ in the 7th digit;
we saw 1e-7; a run that fed the workers different batches, or averaged the gradients wrongly,
is off by percents), and so must the validation NLL.
"""
import csv
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

STEPS, PER_EPOCH, GLOBAL_BATCH = 12, 6, 8


@pytest.fixture(scope="module")
def midi_corpus(tmp_path_factory):
    import note_seq
    directory = tmp_path_factory.mktemp("mw_midi")
    rng = np.random.default_rng(2)
    for i in range(16):
        sequence = note_seq.NoteSequence(ticks_per_quarter=220)
        sequence.tempos.add(qpm=120)
        for j, pitch in enumerate(rng.integers(60, 72, size=40)):
            sequence.notes.add(pitch=int(pitch), velocity=80, start_time=j * 0.5,
                               end_time=(j + 1) * 0.5)
        sequence.total_time = 20.0
        note_seq.sequence_proto_to_midi_file(sequence, str(directory / f"m{i:02d}.mid"))
    return str(directory)


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _cmd(corpus, out, strategy):
    return [sys.executable, "-m", "sequence_tutor_tf.cli.main", "pretrain", "--corpus", corpus,
            "--output-dir", out, "--strategy", strategy, "--rnn-layer-sizes", "8",
            "--batch-size", str(GLOBAL_BATCH), "--hparams", "skip_first_n_losses=0",
            "--num-training-steps", str(STEPS), "--steps-per-epoch", str(PER_EPOCH),
            "--validation-fraction", "0.25", "--verbose", "0", "--num-samples", "0",
            "--intra-op-threads", "1", "--inter-op-threads", "2"]


def _losses(out):
    with open(os.path.join(out, "training_log.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return np.array([float(r["loss"]) for r in rows]), np.array([float(r["val_nll"])
                                                                 for r in rows])


def test_two_workers_on_localhost_match_one_worker_with_the_same_global_batch(midi_corpus,
                                                                              tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}}))
        # Each worker its own output directory, as on separate hosts; worker 0 is the chief.
        procs.append(subprocess.Popen(_cmd(midi_corpus, str(tmp_path / f"worker{index}"),
                                           "multi_worker"), env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    single = subprocess.run(_cmd(midi_corpus, str(tmp_path / "single"), "default"),
                            capture_output=True, text=True, timeout=400)
    outputs = []
    for proc in procs:
        try:
            outputs.append(proc.communicate(timeout=400)[0])
        finally:
            if proc.poll() is None:
                proc.kill()
    assert single.returncode == 0, single.stderr[-3000:]
    for proc, text in zip(procs, outputs):
        assert proc.returncode == 0, text[-3000:]
        # tf.distribute.MultiWorkerMirroredStrategy's class is CollectiveAllReduceStrategy.
        assert "CollectiveAllReduceStrategy with 2 replica(s)" in text, text[-2000:]

    loss_1, val_1 = _losses(str(tmp_path / "single"))
    loss_2, val_2 = _losses(str(tmp_path / "worker0"))
    assert len(loss_1) == len(loss_2) == STEPS // PER_EPOCH
    np.testing.assert_allclose(loss_2, loss_1, rtol=1e-5)
    np.testing.assert_allclose(val_2, val_1, rtol=1e-5)
    # The training moved the loss (so a match is not two untrained models agreeing).
    assert loss_1[-1] < loss_1[0]
    metrics = [json.load(open(tmp_path / d / "metrics.json")) for d in ("single", "worker0",
                                                                        "worker1")]
    assert metrics[1]["validation_nll"] == pytest.approx(metrics[0]["validation_nll"], rel=1e-5)
    assert metrics[2]["validation_nll"] == pytest.approx(metrics[1]["validation_nll"], rel=1e-6)


def test_midi_directory_converted_on_two_processes_equals_one(tmp_path, monkeypatch):
    """Sharded conversion (pretrain --num-workers on a MIDI directory) gives the same corpus, in
    the same order, and counts an unreadable file the same way."""
    import note_seq

    from sequence_tutor_tf.music import sources
    monkeypatch.setattr(sources, "MIN_FILES_PER_WORKER", 40)   # 2 processes for 83 files
    rng = np.random.default_rng(3)
    count = 2 * sources.MIN_FILES_PER_WORKER + 3
    for i in range(count):
        sequence = note_seq.NoteSequence(ticks_per_quarter=220)
        sequence.tempos.add(qpm=120)
        for j, pitch in enumerate(rng.integers(55, 80, size=32)):
            sequence.notes.add(pitch=int(pitch), velocity=80, start_time=j * 0.5,
                               end_time=(j + 1) * 0.5)
        sequence.total_time = 16.0
        sub = tmp_path / f"d{i % 3}"
        sub.mkdir(exist_ok=True)
        note_seq.sequence_proto_to_midi_file(sequence, str(sub / f"s{i:04d}.mid"))
    (tmp_path / "d0" / "broken.mid").write_bytes(b"MThd not really")
    with pytest.warns(sources.SourceItemSkipped, match="broken.mid"):
        one = sources.load_midi_directory(str(tmp_path), progress=False, num_workers=1)
    with pytest.warns(sources.SourceItemSkipped, match="broken.mid"):
        two = sources.load_midi_directory(str(tmp_path), progress=False, num_workers=2)
    assert len(one.melodies) >= count - 5 and one.stats["items_read"] == count + 1
    assert one.stats == two.stats
    assert [m.tobytes() for m in one.melodies] == [m.tobytes() for m in two.melodies]
