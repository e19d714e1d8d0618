"""Helpers for the RL parity tests: a tiny Magenta Note RNN checkpoint, magenta's RLTuner built on
it (the oracle), and its live weights in the Keras layout (magenta_compat's conversion: i, j, f, o
gates + forget_bias 1.0 at run time in TF1; i, f, c, o with the forget bias folded in for Keras)."""
import os

import numpy as np

import magenta_compat
from magenta_compat.gates import tf1_lstm_to_keras
from sequence_tutor_tf._tf import tf

LAYERS = [8]


def magenta_hparams(layers=LAYERS):
    from magenta.models.rl_tuner import rl_tuner_ops
    hp = rl_tuner_ops.default_hparams()
    hp.rnn_layer_sizes = list(layers)
    return hp


def make_magenta_checkpoint(directory, layers=LAYERS, seed=0, scale=0.4):
    """A Magenta RL Tuner Note RNN checkpoint ('rnn_model/...' names) with random weights."""
    from magenta.models.rl_tuner import note_rnn_loader
    rng = np.random.default_rng(seed)
    graph = tf.compat.v1.Graph()
    note_rnn_loader.NoteRNNLoader(graph, "rnn_model", None, hparams=magenta_hparams(layers))
    with graph.as_default():
        sess = tf.compat.v1.Session(graph=graph)
        variables = tf.compat.v1.global_variables()
        for v in variables:
            v.load(rng.normal(0, scale, v.shape.as_list()).astype(np.float32), sess)
        path = tf.compat.v1.train.Saver().save(sess, os.path.join(directory, "note_rnn.ckpt"))
        sess.close()
    return path


def tf1_values_to_keras(values, layers=LAYERS, num_classes=38):
    """{inner variable name: array} (names after the scope) -> NoteRNN weight list, through
    magenta_compat's gate conversion (the same code the package loads checkpoints with)."""
    weights, input_size = [], num_classes
    for n, units in enumerate(layers):
        prefix = f"rnn/multi_rnn_cell/cell_{n}/lstm_cell/"
        weights += tf1_lstm_to_keras(values[prefix + "kernel"], values[prefix + "bias"],
                                     input_size)
        input_size = units
    weights += [values["fully_connected/weights"], values["fully_connected/bias"]]
    return weights


def load_keras_from_checkpoint(path, layers=LAYERS):
    model = magenta_compat.load_note_rnn(path, note_rnn_type="default")
    assert model.rnn_layer_sizes == list(layers)
    return model


def magenta_network_weights(rlt, network):
    """The oracle's weights of one of its networks, converted to the NoteRNN layout."""
    variables = network.variables()
    names = [v.name.split("/", 1)[1].rsplit(":", 1)[0] for v in variables]
    values = dict(zip(names, rlt.session.run(variables)))
    return tf1_values_to_keras(values, rlt.note_rnn_hparams.rnn_layer_sizes)


def build_magenta_rl_tuner(ckpt_path, output_dir, algorithm="q", dqn_hparams=None, **kwargs):
    from magenta.models.rl_tuner import rl_tuner
    return rl_tuner.RLTuner(
        output_dir, dqn_hparams=dqn_hparams, algorithm=algorithm,
        note_rnn_checkpoint_dir=os.path.dirname(ckpt_path), note_rnn_checkpoint_file=ckpt_path,
        note_rnn_hparams=magenta_hparams(), **kwargs)
