"""Builds Magenta source files with magenta's own code, and runs its graphs, for the
magenta_compat parity tests. Every graph lives in its own tf.compat.v1.Graph."""
import copy
import os

import numpy as np
import tensorflow.compat.v1 as tf1
from magenta.models.melody_rnn import melody_rnn_model, melody_rnn_sequence_generator
from magenta.models.rl_tuner import note_rnn_loader, rl_tuner_ops
from magenta.models.shared import events_rnn_graph


def randomize(session, variables, seed):
    """Gives every variable (biases included) random values, so no weight hides behind zeros."""
    rng = np.random.RandomState(seed)
    with session.graph.as_default():
        for v in variables:
            v.load(rng.uniform(-0.6, 0.6, v.shape.as_list()).astype(np.float32), session)


def rl_tuner_hparams(sizes):
    hparams = rl_tuner_ops.default_hparams()
    hparams.rnn_layer_sizes = list(sizes)
    return hparams


def rl_tuner_loader(sizes, checkpoint_dir=None, scope="q_network", checkpoint_scope="rnn_model"):
    return note_rnn_loader.NoteRNNLoader(tf1.Graph(), scope, checkpoint_dir,
                                         hparams=rl_tuner_hparams(sizes),
                                         checkpoint_scope=checkpoint_scope)


def write_rl_tuner_checkpoint(directory, sizes, seed=0, checkpoint_scope="rnn_model"):
    """A NoteRNNLoader graph with random weights, saved under the names its restore expects
    (`checkpoint_scope/...`, as the paper's note_rnn.ckpt was written). Returns the loader."""
    loader = rl_tuner_loader(sizes, checkpoint_scope=checkpoint_scope)
    loader.initialize_new()
    randomize(loader.session, loader.variables(), seed)
    with loader.graph.as_default():
        saver = tf1.train.Saver(var_list=loader.get_variable_name_dict())
        saver.save(loader.session, os.path.join(directory, "note_rnn.ckpt"))
    return loader


def run_rl_tuner(loader, inputs, state):
    """Magenta's softmax [batch, time, classes] and final state for one-hot inputs."""
    batch, steps, classes = inputs.shape
    softmax, final = loader.session.run(
        [loader.softmax, loader.state_tensor],
        {loader.melody_sequence: inputs, loader.initial_state: state,
         loader.lengths: np.full(batch, steps, dtype=np.int32)})
    return softmax.reshape(batch, steps, -1), final


def melody_config(config_id, sizes, attn_length=3, batch_size=2):
    config = copy.deepcopy(melody_rnn_model.default_configs[config_id])
    config.hparams.rnn_layer_sizes = list(sizes)
    config.hparams.batch_size = batch_size
    if config.hparams.attn_length:
        config.hparams.attn_length = attn_length
    return config


def write_melody_rnn_sources(directory, config_id, sizes, seed=0, attn_length=3, batch_size=2):
    """A melody_rnn generate graph with random weights saved as a checkpoint directory, and the
    .mag bundle MelodyRnnSequenceGenerator.create_bundle_file makes from it.

    Returns (checkpoint_dir, bundle_path, generator); the generator's session holds the graph.
    """
    config = melody_config(config_id, sizes, attn_length, batch_size)
    checkpoint_dir = os.path.join(directory, f"{config_id}_train")
    graph = tf1.Graph()
    with graph.as_default():
        events_rnn_graph.get_build_graph_fn("generate", config)()
        with tf1.Session(graph=graph) as session:
            session.run(tf1.global_variables_initializer())
            randomize(session, tf1.global_variables(), seed)
            tf1.train.Saver().save(session, os.path.join(checkpoint_dir, "model.ckpt"),
                                   global_step=7)
    generator = melody_rnn_sequence_generator.MelodyRnnSequenceGenerator(
        melody_rnn_model.MelodyRnnModel(config), config.details,
        steps_per_quarter=config.steps_per_quarter, checkpoint=checkpoint_dir)
    bundle_path = os.path.join(directory, f"{config_id}.mag")
    generator.create_bundle_file(bundle_path, "parity test bundle")
    return checkpoint_dir, bundle_path, generator


def run_generate_graph(session, inputs, state_parts):
    """Runs a melody_rnn generate graph (collections) on inputs and initial state parts."""
    graph = session.graph
    feed = {graph.get_collection("inputs")[0]: inputs,
            graph.get_collection("temperature")[0]: 1.0}
    for tensor, value in zip(graph.get_collection("initial_state"), state_parts):
        feed[tensor] = value
    softmax, final = session.run([graph.get_collection("softmax")[0],
                                  graph.get_collection("final_state")], feed)
    return softmax, final


def state_widths(session):
    return [t.shape.as_list()[-1] for t in session.graph.get_collection("initial_state")]
