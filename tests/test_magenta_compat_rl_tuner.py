"""RL Tuner Note RNN checkpoints: read exactly what Magenta's NoteRNNLoader reads, write what it
restores. Oracle: magenta's own NoteRNNLoader graph in a tf.compat.v1 Session."""
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf1

import magenta_compat
from tests import magenta_compat_oracle as oracle
from magenta_compat import checkpoint_io
from sequence_tutor_tf._tf import tf

SIZES = [8, 6]
TOL = 1e-5


def _inputs(state_size, seed=1, batch=2, steps=6):
    rng = np.random.RandomState(seed)
    x = np.eye(38, dtype=np.float32)[rng.randint(0, 38, (batch, steps))]
    state = rng.uniform(-1, 1, (batch, state_size)).astype(np.float32)
    return x, state


def _ours(model, x, state):
    logits, final = model.run_sequence(tf.constant(x), tf.constant(state))
    return tf.nn.softmax(logits).numpy(), final.numpy()


def _stepwise(model, x, state):
    state, probs = tf.constant(state), []
    for t in range(x.shape[1]):
        logits, state = model.step(tf.constant(x[:, t]), state)
        probs.append(tf.nn.softmax(logits).numpy())
    return np.stack(probs, 1), state.numpy()


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("rl_tuner"))
    loader = oracle.write_rl_tuner_checkpoint(directory, SIZES, seed=3)
    return directory, loader


def test_rl_tuner_checkpoint_softmax_matches_magenta(source):
    directory, loader = source
    model = magenta_compat.load_note_rnn(directory)  # directory: latest checkpoint, auto type
    assert model.rnn_layer_sizes == SIZES
    x, state = _inputs(model.state_size)
    want, want_state = oracle.run_rl_tuner(loader, x, state)
    got, got_state = _ours(model, x, state)
    stepped, stepped_state = _stepwise(model, x, state)
    diff = max(np.abs(got - want).max(), np.abs(stepped - want).max())
    print(f"rl_tuner max abs softmax difference: {diff:.3g}")
    assert diff <= TOL
    assert np.abs(got_state - want_state).max() <= TOL
    assert np.abs(stepped_state - want_state).max() <= TOL
    # A checkpoint path works as well as the directory; so does an explicit type.
    by_path = magenta_compat.load_note_rnn(os.path.join(directory, "note_rnn.ckpt"), "default")
    assert np.abs(_ours(by_path, x, state)[0] - want).max() <= TOL


def test_custom_checkpoint_scope(tmp_path):
    loader = oracle.write_rl_tuner_checkpoint(str(tmp_path), [5], seed=4,
                                              checkpoint_scope="my_net")
    with pytest.raises(magenta_compat.CheckpointMismatchError, match="checkpoint_scope='my_net'"):
        magenta_compat.load_note_rnn(str(tmp_path))  # default scope rnn_model is absent
    model = magenta_compat.load_note_rnn(str(tmp_path), checkpoint_scope="my_net")
    x, state = _inputs(model.state_size, seed=5)
    assert np.abs(_ours(model, x, state)[0] - oracle.run_rl_tuner(loader, x, state)[0]).max() <= TOL


LEGACY_TF0 = {"rnn/multi_rnn_cell/cell_{i}/lstm_cell/kernel": "RNN/MultiRNNCell/Cell{i}/LSTMCell/W_0",
              "rnn/multi_rnn_cell/cell_{i}/lstm_cell/bias": "RNN/MultiRNNCell/Cell{i}/LSTMCell/B",
              "fully_connected/weights": "Linear/Matrix", "fully_connected/bias": "Linear/Bias"}
LEGACY_TF1_0 = {"rnn/multi_rnn_cell/cell_{i}/lstm_cell/kernel":
                "rnn/multi_rnn_cell/cell_{i}/lstm_cell/weights",
                "rnn/multi_rnn_cell/cell_{i}/lstm_cell/bias":
                "rnn/multi_rnn_cell/cell_{i}/lstm_cell/biases",
                "fully_connected/weights": "fully_connected/weights",
                "fully_connected/bias": "fully_connected/bias"}


@pytest.mark.parametrize("renames", [LEGACY_TF0, LEGACY_TF1_0], ids=["tf0", "tf1.0"])
def test_legacy_variable_names(source, tmp_path, renames):
    directory, loader = source
    path = checkpoint_io.resolve_checkpoint(directory)
    arrays = checkpoint_io.read_arrays(path, checkpoint_io.read_shapes(path))
    old = {}
    for name, value in arrays.items():
        inner = name[len("rnn_model/"):]
        for i in range(len(SIZES)):
            for new_form, old_form in renames.items():
                if inner == new_form.format(i=i):
                    inner = old_form.format(i=i)
                    break
        old["rnn_model/" + inner] = value
    old["global_step"] = np.int64(1000)  # training state is ignored, not an error
    assert set(old) != set(arrays)
    checkpoint_io.write_checkpoint(old, str(tmp_path / "note_rnn.ckpt"))
    model = magenta_compat.load_note_rnn(str(tmp_path))
    x, state = _inputs(model.state_size, seed=6)
    assert np.abs(_ours(model, x, state)[0] - oracle.run_rl_tuner(loader, x, state)[0]).max() <= TOL


def test_written_checkpoint_restores_into_magenta(source, tmp_path):
    directory, _ = source
    model = magenta_compat.load_note_rnn(directory)
    rng = np.random.RandomState(7)
    model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32)
                       for w in model.get_weights()])
    out = str(tmp_path / "written")
    magenta_compat.save_rl_tuner_checkpoint(model, out)
    loader = oracle.rl_tuner_loader(SIZES, checkpoint_dir=out)
    with tf1.Session(graph=loader.graph) as session:
        loader.initialize_and_restore(session)  # magenta's own restore_vars_from_checkpoint
        x, state = _inputs(model.state_size, seed=8)
        want, want_state = oracle.run_rl_tuner(loader, x, state)
    got, got_state = _ours(model, x, state)
    diff = np.abs(got - want).max()
    print(f"written rl_tuner checkpoint max abs softmax difference: {diff:.3g}")
    assert diff <= TOL and np.abs(got_state - want_state).max() <= TOL
    # And it reads back into the same weights (forget bias folded and unfolded).
    again = magenta_compat.load_note_rnn(out)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
