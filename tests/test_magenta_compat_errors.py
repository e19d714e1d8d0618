"""Bad files get one error naming everything wrong and what would have fitted."""
import numpy as np
import pytest
from note_seq.protobuf import generator_pb2

import magenta_compat
from magenta_compat import checkpoint_io, gates, naming
from magenta_compat.errors import CheckpointMismatchError, UnsupportedGeneratorError
from sequence_tutor_tf.utils.hparams import HParams

LAYOUT = {"rnn_layer_sizes": [8, 6], "input_size": 38, "num_classes": 38}


def _rl_tuner_arrays(scope="rnn_model"):
    rng = np.random.RandomState(0)
    shapes = naming.role_shapes(LAYOUT)
    names = naming.rl_tuner_names(LAYOUT, scope)
    return {names[r]: rng.uniform(-1, 1, shapes[r]).astype(np.float32) for r in names}


def test_missing_extra_and_misshaped_are_reported_together(tmp_path):
    arrays = _rl_tuner_arrays()
    del arrays["rnn_model/fully_connected/bias"]
    arrays["rnn_model/rnn/multi_rnn_cell/cell_1/lstm_cell/kernel"] = np.zeros((14, 20), np.float32)
    arrays["rnn_model/mystery/weights"] = np.zeros((3, 3), np.float32)
    arrays["rnn_model/fully_connected/weights/Adam"] = np.zeros((6, 38), np.float32)  # ignored
    checkpoint_io.write_checkpoint(arrays, str(tmp_path / "note_rnn.ckpt"))
    with pytest.raises(CheckpointMismatchError) as info:
        magenta_compat.load_note_rnn(str(tmp_path), hparams=HParams(rnn_layer_sizes=[8, 6],
                                                                     one_hot_length=38))
    err = info.value
    text = str(err)
    assert err.missing == [("rnn_model/fully_connected/bias", (38,))]
    assert err.unexpected == [("rnn_model/mystery/weights", (3, 3))]
    assert err.misshaped == [("rnn_model/rnn/multi_rnn_cell/cell_1/lstm_cell/kernel",
                              (14, 24), (14, 20))]
    assert "missing variable rnn_model/fully_connected/bias (expected shape [38])" in text
    assert "unexpected variable rnn_model/mystery/weights (found shape [3, 3])" in text
    assert "expected [14, 24], found [14, 20]" in text
    assert "Adam" not in text
    assert "rnn_layer_sizes=[8, 5]" in text  # what the file's own shapes say


def test_wrong_hparams_error_suggests_the_files_hparams(tmp_path):
    checkpoint_io.write_checkpoint(_rl_tuner_arrays(), str(tmp_path / "note_rnn.ckpt"))
    with pytest.raises(CheckpointMismatchError) as info:
        magenta_compat.load_note_rnn(str(tmp_path), note_rnn_type="default",
                                     hparams=HParams(rnn_layer_sizes=[100], one_hot_length=38))
    text = str(info.value)
    assert "rnn_layer_sizes=[100]" in text
    assert "unexpected variable rnn_model/rnn/multi_rnn_cell/cell_1/lstm_cell/kernel" in text
    assert ("The file's shapes fit: note_rnn_type='default', checkpoint_scope='rnn_model', "
            "rnn_layer_sizes=[8, 6] (input size 38, 38 classes)") in text


def test_rl_tuner_file_read_as_melody_rnn_names_the_right_type(tmp_path):
    checkpoint_io.write_checkpoint(_rl_tuner_arrays(), str(tmp_path / "note_rnn.ckpt"))
    with pytest.raises(CheckpointMismatchError) as info:
        magenta_compat.load_note_rnn(str(tmp_path), note_rnn_type="basic_rnn")
    text = str(info.value)
    assert "missing variable rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel" in text
    assert "note_rnn_type='default'" in text


def test_unsupported_generator_id(tmp_path):
    bundle = generator_pb2.GeneratorBundle()
    bundle.generator_details.id = "drums_rnn"
    bundle.checkpoint_file.append(b"not read")
    path = tmp_path / "drums.mag"
    path.write_bytes(bundle.SerializeToString())
    with pytest.raises(UnsupportedGeneratorError) as info:
        magenta_compat.load_note_rnn(str(path))
    text = str(info.value)
    assert "'drums_rnn'" in text and str(path) in text
    for supported in ("attention_rnn", "basic_rnn", "lookback_rnn", "mono_rnn"):
        assert supported in text


def test_not_a_checkpoint_or_bundle(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(FileNotFoundError, match="notes.txt"):
        magenta_compat.load_note_rnn(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no such file"):
        magenta_compat.load_note_rnn(str(tmp_path / "absent"))
    with pytest.raises(ValueError, match="note_rnn_type must be one of"):
        magenta_compat.load_note_rnn(str(tmp_path), note_rnn_type="drums")


def test_gate_conversion_round_trip_and_forget_bias_fold():
    rng = np.random.RandomState(1)
    kernel, bias = rng.normal(size=(7 + 3, 12)), rng.normal(size=12)
    k, rk, b = gates.tf1_lstm_to_keras(kernel, bias, input_size=7)
    assert k.shape == (7, 12) and rk.shape == (3, 12)
    np.testing.assert_allclose(k[:, 3:6], kernel[:7, 6:9])   # Keras f = TF1 f
    np.testing.assert_allclose(k[:, 6:9], kernel[:7, 3:6])   # Keras c = TF1 j
    np.testing.assert_allclose(b[3:6], bias[6:9] + 1.0, rtol=1e-6)
    back_k, back_b = gates.keras_lstm_to_tf1(k, rk, b)
    np.testing.assert_allclose(back_k, kernel, rtol=1e-6)
    np.testing.assert_allclose(back_b, bias, atol=1e-6)
