"""The Note RNN: the compiled single-step API agrees with the sequence API; checkpoints round-trip."""
import numpy as np
import pytest

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.models.checkpoints import load_note_rnn, save_note_rnn
from sequence_tutor_tf.models.note_rnn import NoteRNN


@pytest.mark.parametrize("sizes", [[100], [12, 7]])
def test_step_matches_sequence_and_state_layout(sizes):
    model = NoteRNN(sizes)
    rng = np.random.default_rng(0)
    events = rng.integers(0, 38, size=(3, 6))
    initial = tf.constant(rng.normal(size=(3, model.state_size)), tf.float32)
    logits_seq, final_seq = model.run_sequence(tf.one_hot(events, 38), initial)
    state = initial
    for t in range(events.shape[1]):
        logits, state = model.step(tf.constant(events[:, t]), state)
        np.testing.assert_allclose(logits.numpy(), logits_seq[:, t].numpy(), atol=1e-5)
    np.testing.assert_allclose(state.numpy(), final_seq.numpy(), atol=1e-5)
    assert model.state_size == 2 * sum(sizes)
    # Layout [c, h] per layer: the last h of the top layer feeds the read-out.
    h_top = state[:, -sizes[-1]:]
    np.testing.assert_allclose(model.output_layer(h_top).numpy(), logits.numpy(), atol=1e-5)



@pytest.mark.parametrize("sizes", [[100], [12, 7]])
def test_packed_step_matches_keras_step(sizes):
    """step_packed (the learner's joint-kernel layout) computes what the Keras cells compute."""
    from sequence_tutor_tf.rl.packed_updates import pack, unpack
    model = NoteRNN(sizes)
    rng = np.random.default_rng(1)
    events = tf.constant(rng.integers(0, 38, size=5), tf.int32)
    state = tf.constant(rng.normal(size=(5, model.state_size)), tf.float32)
    groups = model.parameter_groups()
    packed = pack(groups)
    assert packed[0].shape == (38 + sizes[0], 4 * sizes[0])       # TF1's joint kernel
    for ours, theirs in zip(model.step_packed(packed, events, state),
                            model.step_eager(events, state)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5)
    for variable, value in unpack(packed, groups):
        np.testing.assert_array_equal(variable.numpy(), value.numpy())

def test_checkpoint_round_trip_and_mismatch_error(tmp_path):
    model = NoteRNN([8])
    x = tf.one_hot([[3, 4, 5]], 38)
    save_note_rnn(model, str(tmp_path / "a"), step=7)
    loaded, config = load_note_rnn(str(tmp_path / "a"))
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert config["config"]["rnn_layer_sizes"] == [8]
    # A config that disagrees with the weights is refused, not silently half-loaded.
    save_note_rnn(NoteRNN([9]), str(tmp_path / "b"))
    import shutil
    shutil.copy(tmp_path / "a" / "note_rnn_config.json", tmp_path / "b" / "note_rnn_config.json")
    with pytest.raises(Exception, match="9|8|shape"):
        load_note_rnn(str(tmp_path / "b"))


def test_bad_layer_sizes_and_missing_config(tmp_path):
    with pytest.raises(ValueError, match="rnn_layer_sizes"):
        NoteRNN([])
    with pytest.raises(FileNotFoundError, match="note_rnn_config.json"):
        load_note_rnn(str(tmp_path))


def test_attention_rnn_checkpoint_loads_in_a_process_that_never_imported_it(tmp_path):
    import subprocess
    import sys
    from sequence_tutor_tf.models.attention_rnn import AttentionRNN
    save_note_rnn(AttentionRNN([6, 5], num_classes=40, input_size=12, attn_length=3),
                  str(tmp_path / "attn"))
    code = ("import sys; import sequence_tutor_tf\n"
            "from sequence_tutor_tf.models.checkpoints import load_note_rnn\n"
            "assert 'sequence_tutor_tf.models.attention_rnn' not in sys.modules\n"
            f"model, _ = load_note_rnn({str(tmp_path / 'attn')!r})\n"
            "print(type(model).__name__, model.attn_length)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["AttentionRNN", "3"]
