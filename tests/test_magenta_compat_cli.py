"""`sequence-tutor convert` and `sequence-tutor inspect` on Magenta files and ours."""
import json

import numpy as np

import magenta_compat
from magenta_compat import checkpoint_io, naming
from sequence_tutor_tf.cli.main import main
from sequence_tutor_tf.models.checkpoints import load_note_rnn as load_ours


def _write_rl_tuner(path, sizes=(5,)):
    layout = {"rnn_layer_sizes": list(sizes), "input_size": 38, "num_classes": 38}
    rng = np.random.RandomState(0)
    shapes, names = naming.role_shapes(layout), naming.rl_tuner_names(layout, "rnn_model")
    checkpoint_io.write_checkpoint(
        {names[r]: rng.uniform(-1, 1, shapes[r]).astype(np.float32) for r in names},
        str(path / "note_rnn.ckpt"))


def test_convert_round_trip_and_inspect(tmp_path, capsys):
    src = tmp_path / "magenta"
    _write_rl_tuner(src)
    assert main(["inspect", str(src)]) == 0
    out = capsys.readouterr().out
    assert "rnn_model/rnn/multi_rnn_cell/cell_0/lstm_cell/kernel [43, 20]" in out
    assert "detected: note_rnn_type='default', checkpoint_scope='rnn_model', rnn_layer_sizes=[5]" in out

    ours = tmp_path / "ours"
    assert main(["convert", str(src), str(ours)]) == 0
    model, config = load_ours(str(ours))
    assert config["magenta_config_id"] == "default"
    original = magenta_compat.load_note_rnn(str(src))
    for a, b in zip(original.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)

    back = tmp_path / "back"
    assert main(["convert", str(ours), str(back), "--checkpoint-scope", "q_network"]) == 0
    again = magenta_compat.load_note_rnn(str(back), checkpoint_scope="q_network")
    for a, b in zip(original.get_weights(), again.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)

    bundle = tmp_path / "tuned.mag"
    assert main(["convert", str(ours), str(bundle)]) == 0
    assert "(mag)" in capsys.readouterr().out
    assert main(["inspect", str(bundle), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "mag" and report["generator_id"] == "basic_rnn"
    assert report["layouts"][0]["note_rnn_type"] == "basic_rnn"
    assert report["layouts"][0]["batch_size"] == 1


def test_convert_reports_errors_without_traceback(tmp_path, capsys):
    src = tmp_path / "magenta"
    _write_rl_tuner(src)
    assert main(["convert", str(src), str(tmp_path / "x"), "--note-rnn-type", "mono_rnn"]) == 2
    err = capsys.readouterr().err
    assert "missing variable rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel" in err
    assert "note_rnn_type='default'" in err


def test_attention_rnn_round_trips_through_our_format_and_bundle(tmp_path, capsys):
    from sequence_tutor_tf.models.attention_rnn import AttentionRNN
    from sequence_tutor_tf.models.checkpoints import save_note_rnn
    model = AttentionRNN([4, 3], num_classes=40, input_size=74, attn_length=2)
    save_note_rnn(model, str(tmp_path / "ours"), extra_config={"magenta_config_id": "attention_rnn"})
    loaded = magenta_compat.load_note_rnn(str(tmp_path / "ours"))  # delegates to our format
    assert isinstance(loaded, AttentionRNN) and loaded.attn_length == 2
    assert main(["convert", str(tmp_path / "ours"), str(tmp_path / "a.mag"),
                 "--config-id", "attention_rnn"]) == 0
    again = magenta_compat.load_note_rnn(str(tmp_path / "a.mag"))
    assert again.attn_length == 2
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
