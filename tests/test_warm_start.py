"""`pretrain --init-from`: MLE training that starts from an existing Note RNN (issue 17 part 4).

The sources are made by magenta's own code (tests/magenta_compat_oracle.py): a melody_rnn
basic_rnn `.mag` bundle (MelodyRnnSequenceGenerator.create_bundle_file) and an RL Tuner
`note_rnn.ckpt` (NoteRNNLoader's variables, saved by a tf.compat.v1 Saver), both with random
weights; and our own note_rnn/ directory. A learning rate of 1e-9 makes the trained weights equal
the source's to within Adam's step, so a warm start that silently kept the random
initialisation, or copied into the wrong variables, fails. (lr 1e-9: initial_learning_rate, as
default_hparams decays the learning rate exponentially.) A mismatch of shapes is one line
naming the variable and both shapes, exit code 2.
"""
import json
import os

import numpy as np
import pytest

from sequence_tutor_tf.cli.main import main

SIZES = [8, 6]


@pytest.fixture(scope="module")
def midi_corpus(tmp_path_factory):
    import note_seq
    directory = tmp_path_factory.mktemp("warm_midi")
    rng = np.random.default_rng(1)
    for i in range(12):
        sequence = note_seq.NoteSequence(ticks_per_quarter=220)
        sequence.tempos.add(qpm=120)
        for j, pitch in enumerate(rng.integers(60, 72, size=40)):
            sequence.notes.add(pitch=int(pitch), velocity=80, start_time=j * 0.5,
                               end_time=(j + 1) * 0.5)
        sequence.total_time = 20.0
        note_seq.sequence_proto_to_midi_file(sequence, str(directory / f"m{i:02d}.mid"))
    return str(directory)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    from tests import magenta_compat_oracle as oracle
    directory = str(tmp_path_factory.mktemp("warm_sources"))
    _, bundle, _ = oracle.write_melody_rnn_sources(directory, "basic_rnn", SIZES, seed=3)
    rl_dir = os.path.join(directory, "rl_tuner")
    os.makedirs(rl_dir)
    oracle.write_rl_tuner_checkpoint(rl_dir, [8], seed=4)
    return {"bundle": bundle, "rl_tuner": os.path.join(rl_dir, "note_rnn.ckpt")}


def _argv(corpus, out, sizes, *extra):
    return ["pretrain", "--corpus", corpus, "--output-dir", out,
            "--rnn-layer-sizes", ",".join(map(str, sizes)), "--batch-size", "4",
            "--hparams", "skip_first_n_losses=0,initial_learning_rate=1e-9",
            "--num-training-steps", "2", "--steps-per-epoch", "2", "--validation-fraction", "0.25", "--verbose", "0",
            "--num-samples", "0", "--log-level", "WARNING", *extra]


def _weights(path):
    import magenta_compat
    model = magenta_compat.load_note_rnn(path)
    return [w.numpy() for w in model.weights], model


def _assert_started_from(out, source):
    want, source_model = _weights(source)
    got, trained = _weights(os.path.join(out, "note_rnn"))
    assert trained.rnn_layer_sizes == source_model.rnn_layer_sizes
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.shape == b.shape
        # Adam moves each weight by at most ~lr per step; 2 steps at lr 1e-9.
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert max(np.abs(b).max() for b in want) > 0.1   # random weights, not zeros
    metrics = json.loads(open(os.path.join(out, "metrics.json")).read())
    assert np.isfinite(metrics["initial_validation_nll"])
    # Nothing was learnt at lr 1e-9: the NLL after training is the one of the source.
    assert abs(metrics["validation_nll"] - metrics["initial_validation_nll"]) < 1e-3
    config = json.loads(open(os.path.join(out, "note_rnn", "note_rnn_config.json")).read())
    assert config["init_from"] == source


def test_warm_start_from_magenta_bundle_rl_tuner_checkpoint_and_ours(midi_corpus, sources,
                                                                     tmp_path):
    out = str(tmp_path / "from_bundle")
    assert main(_argv(midi_corpus, out, SIZES, "--init-from", sources["bundle"])) == 0
    _assert_started_from(out, sources["bundle"])

    ours = str(tmp_path / "from_ours")   # our note_rnn/ directory, written by the run above
    assert main(_argv(midi_corpus, ours, SIZES, "--init-from",
                      os.path.join(out, "note_rnn"))) == 0
    _assert_started_from(ours, os.path.join(out, "note_rnn"))

    rl = str(tmp_path / "from_rl_tuner")
    assert main(_argv(midi_corpus, rl, [8], "--init-from", sources["rl_tuner"])) == 0
    _assert_started_from(rl, sources["rl_tuner"])


def test_shape_mismatch_names_the_variable_and_both_shapes(midi_corpus, sources, tmp_path,
                                                           capsys):
    out = str(tmp_path / "mismatch")
    code = main(_argv(midi_corpus, out, [8, 8], "--init-from", sources["bundle"]))
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert "lstm_0/lstm_cell/recurrent_kernel" not in err    # the first layer matches
    assert "lstm_1/lstm_cell/recurrent_kernel" in err or "lstm_1/lstm_cell/kernel" in err
    assert "(8, 24)" in err and "(8, 32)" in err, err          # both shapes
    assert "--rnn-layer-sizes 8,6" in err, err                 # and the fix
    assert not os.path.exists(os.path.join(out, "note_rnn"))
    code = main(_argv(midi_corpus, out, SIZES, "--init-from", str(tmp_path / "missing.mag")))
    assert code == 2 and "missing.mag" in capsys.readouterr().err
