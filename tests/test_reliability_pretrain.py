"""Issue 19 for `pretrain`: nothing lost on rerun or resume, and no silent NaN.

- a rerun of a finished run trains nothing and keeps its checkpoints and log (data loss);
- a kill after `fit` ended (BackupAndRestore has deleted backup/ by then) resumes only the stages
  left (samples here), with no duplicate rows in training_log.csv;
- a non-finite loss stops training with exit 2 and a message naming the step and the last good
  checkpoint (non-finite values); bad hparams are refused before any work.

Tiny: 12 synthetic 10-bar MIDI melodies, a 4-unit LSTM, two epochs of 3 steps.
"""
import csv
import json
import os

import numpy as np
import pytest

from sequence_tutor_tf.cli.main import main


@pytest.fixture(scope="module")
def midi_corpus(tmp_path_factory):
    import note_seq
    directory = tmp_path_factory.mktemp("midi_corpus")
    rng = np.random.default_rng(0)
    for i in range(12):
        sequence = note_seq.NoteSequence(ticks_per_quarter=220)
        sequence.tempos.add(qpm=120)
        # 40 quarter notes at 120 qpm: 10 bars, as melody extraction needs at least 7.
        for j, pitch in enumerate(rng.integers(60, 72, size=40)):
            sequence.notes.add(pitch=int(pitch), velocity=80, start_time=j * 0.5,
                               end_time=(j + 1) * 0.5)
        sequence.total_time = 40 * 0.5
        note_seq.sequence_proto_to_midi_file(sequence, str(directory / f"m{i:02d}.mid"))
    return str(directory)


def _argv(corpus, out, *extra):
    return ["pretrain", "--corpus", corpus, "--cache-dir", os.path.join(out, "..", "cache"),
            "--output-dir", out, "--rnn-layer-sizes", "4", "--batch-size", "4",
            "--hparams", "skip_first_n_losses=0", "--num-training-steps", "6",
            "--steps-per-epoch", "3", "--validation-fraction", "0.25", "--verbose", "0",
            "--num-samples", "2", "--sample-steps", "8", "--log-level", "WARNING", *extra]


def _rows(out):
    with open(os.path.join(out, "training_log.csv"), encoding="utf-8") as f:
        return [r["epoch"] for r in csv.DictReader(f)]


def _checkpoint_files(out):
    model_dir = os.path.join(out, "note_rnn")
    return {name: os.stat(os.path.join(model_dir, name)).st_mtime_ns
            for name in os.listdir(model_dir) if name.startswith("note_rnn-")}


def test_kill_after_fit_resumes_the_rest_and_a_finished_run_is_not_trained_again(
        midi_corpus, tmp_path, monkeypatch, capsys):
    out = str(tmp_path / "run")
    import sequence_tutor_tf.cli.pretrain as pretrain_cli

    def killed(*args, **kwargs):   # the process dies while writing the samples, after fit()
        raise KeyboardInterrupt
    with monkeypatch.context() as patch:
        patch.setattr(pretrain_cli, "write_samples", killed)
        assert main(_argv(midi_corpus, out)) == 130
    assert not [f for f in os.listdir(os.path.join(out, "backup"))], \
        "BackupAndRestore should have deleted its backup at the end of fit"
    assert _rows(out) == ["0", "1"]
    checkpoints = _checkpoint_files(out)
    assert sorted(checkpoints) == ["note_rnn-3.data-00000-of-00001", "note_rnn-3.index",
                                   "note_rnn-6.data-00000-of-00001", "note_rnn-6.index"]
    capsys.readouterr()

    # Resume: only the samples are left to do; nothing is trained again.
    assert main(_argv(midi_corpus, out)) == 0
    assert _rows(out) == ["0", "1"], "training ran again after fit had finished"
    assert _checkpoint_files(out) == checkpoints
    assert sorted(os.listdir(os.path.join(out, "samples"))) == ["sample_00.mid",
                                                                "sample_01.mid"]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["optimizer_steps"] == 6 and np.isfinite(metrics["validation_nll"])
    capsys.readouterr()

    # Rerun of the finished run: "already finished", the same files, exit 0.
    assert main(_argv(midi_corpus, out)) == 0
    assert "already finished" in capsys.readouterr().out
    assert _rows(out) == ["0", "1"] and _checkpoint_files(out) == checkpoints

    # Other settings in the same directory: a clear error, nothing touched.
    assert main(_argv(midi_corpus, out, "--seed", "3")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "seed: 0 before, 3 now" in err[0] and "--restart" in err[0]
    assert _checkpoint_files(out) == checkpoints


def test_non_finite_loss_stops_with_the_step_and_last_good_checkpoint(
        midi_corpus, tmp_path, monkeypatch, capsys):
    from sequence_tutor_tf._tf import tf
    from sequence_tutor_tf.music import dataset as melody_dataset
    make_dataset = melody_dataset.make_dataset

    def poisoned(melodies, batch_size, *args, repeat=False, **kwargs):
        ds = make_dataset(melodies, batch_size, *args, repeat=repeat, **kwargs)
        if not repeat:
            return ds
        # The loss becomes NaN from the 5th batch on (epoch 2, after one good checkpoint).
        return ds.enumerate().map(lambda i, b: (b[0], b[1], tf.where(
            i >= 4, tf.fill(tf.shape(b[2]), float("nan")), b[2])))
    monkeypatch.setattr(melody_dataset, "make_dataset", poisoned)
    out = str(tmp_path / "nan_run")
    assert main(_argv(midi_corpus, out)) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1:]   # after the extraction progress
    assert err[0].startswith("sequence-tutor pretrain: error: the training loss became nan")
    assert "optimizer step 5" in err[0] and "epoch 2" in err[0]
    assert "Last good checkpoint: " + os.path.join(out, "note_rnn", "note_rnn-3") in err[0]
    assert sorted(_checkpoint_files(out)) == ["note_rnn-3.data-00000-of-00001",
                                              "note_rnn-3.index"]
    assert not os.path.exists(os.path.join(out, "metrics.json"))


@pytest.mark.parametrize("hparams, culprit", [
    ("decay_steps=0", "decay_steps=0"),
    ("initial_learning_rate=1e12", "initial_learning_rate"),
    ("initial_learning_rate=-0.5", "initial_learning_rate=-0.5"),
    ("exponentially_decay_learning_rate=false,lr=1e12", "hparam lr="),
    ("rnn_layer_sizes=[]", "rnn_layer_sizes=[]"),
    ("rnn_layer_sizes=[0]", "rnn_layer_sizes=[0]"),
    ("rnn_layer_sizes=abc", "rnn_layer_sizes='abc'"),
    ("clip_norm=inf", "clip_norm"),
    ("batch_size=2.5", "batch_size=2.5"),
    ("one_hot_length=40", "one_hot_length=40"),
])
def test_bad_hparams_are_refused_naming_the_hparam(hparams, culprit, tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["pretrain", "--hparams", hparams, "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sequence-tutor pretrain: error: --hparams: ")
    assert culprit in err[0], err[0]
    assert not out.exists()


def test_hparams_parse_keeps_types():
    from sequence_tutor_tf.models.hparams import default_hparams
    hparams = default_hparams().parse("rnn_layer_sizes=256,clip_norm=2.5,lr=1,"
                                      "exponentially_decay_learning_rate=false")
    assert hparams.rnn_layer_sizes == [256] and hparams.clip_norm == 2.5
    assert isinstance(hparams.lr, float) and hparams.exponentially_decay_learning_rate is False
    for bad, message in (("lr=1e999", "finite"), ("lr=nan", "number"),
                         ("rnn_layer_sizes=[1.5]", "integers"), ("nosuch=1", "unknown hparam"),
                         ("=1", "name=value")):
        with pytest.raises(ValueError, match=message):
            default_hparams().parse(bad)
