"""The TF1 generation graph a .mag bundle carries, built from our own ops.

Magenta's generator imports the bundle's metagraph and only talks to its collections:
`inputs` [batch, time, input_size], `temperature`, `softmax` [batch, time, classes] and the
flattened `initial_state` / `final_state` tensors (c, h per LSTM layer; plus attns and the
attention window after layer 0's c, h for attention_rnn). We build exactly that interface with a
`while_loop` over time, with variables under melody_rnn's names, so Magenta's own checkpoint
readers (and ours) see an ordinary melody_rnn checkpoint.
"""
import numpy as np

from magenta_compat import naming
from magenta_compat.gates import DEFAULT_FORGET_BIAS
from sequence_tutor_tf._tf import tf

v1 = tf.compat.v1


def _lstm(x, c, h, kernel, bias):
    z = tf.matmul(tf.concat([x, h], 1), kernel) + bias
    i, j, f, o = tf.split(z, 4, axis=1)
    c = c * tf.sigmoid(f + DEFAULT_FORGET_BIAS) + tf.sigmoid(i) * tf.tanh(j)
    return tf.tanh(c) * tf.sigmoid(o), c


def _attention_step(x, state, var, layout):
    """Layer 0 with attention; state = [c, h, attns, attn_states]."""
    c, h, attns, attn_states = state
    a, length = layout["rnn_layer_sizes"][0], layout["attn_length"]
    x = tf.matmul(tf.concat([x, attns], 1), var["attn/input_kernel"]) + var["attn/input_bias"]
    out, c = _lstm(x, c, h, var["lstm_0/kernel"], var["lstm_0/bias"])
    h = out
    window = tf.reshape(attn_states, [-1, length, a])
    features = tf.einsum("bla,av->blv", window, tf.reshape(var["attn/w"], [a, a]))
    query = tf.matmul(tf.concat([c, h], 1), var["attn/query_kernel"]) + var["attn/query_bias"]
    scores = tf.reduce_sum(var["attn/v"] * tf.tanh(features + query[:, None, :]), axis=2)
    new_attns = tf.reduce_sum(tf.nn.softmax(scores)[:, :, None] * window, axis=1)
    output = (tf.matmul(tf.concat([out, new_attns], 1), var["attn/output_kernel"])
              + var["attn/output_bias"])
    window = tf.concat([window[:, 1:], output[:, None, :]], axis=1)
    return output, [c, h, new_attns, tf.reshape(window, [-1, length * a])]


def _state_widths(layout):
    sizes = layout["rnn_layer_sizes"]
    widths = []
    for i, units in enumerate(sizes):
        widths += [units, units]
        if i == 0 and layout.get("attn_length"):
            widths += [units, units * layout["attn_length"]]
    return widths


def _step(x, flat_state, var, layout):
    """One time step through the stack: returns (top output, new flat state list)."""
    new_state, k = [], 0
    for i in range(len(layout["rnn_layer_sizes"])):
        if i == 0 and layout.get("attn_length"):
            x, parts = _attention_step(x, flat_state[0:4], var, layout)
            new_state += parts
            k = 4
        else:
            c, h = flat_state[k], flat_state[k + 1]
            x, c = _lstm(x, c, h, var[f"lstm_{i}/kernel"], var[f"lstm_{i}/bias"])
            new_state += [c, x]
            k += 2
    return x, new_state


def build_generate_graph(layout, arrays, prefix, batch_size=1):
    """Builds the graph with `arrays` ({melody_rnn name: value}) as variable values and saves
    a V1 checkpoint at `prefix` plus its metagraph at `prefix + '.meta'`."""
    names = naming.melody_rnn_names(layout)
    graph = v1.Graph()
    with graph.as_default():
        var = {role: v1.get_variable(names[role], initializer=np.asarray(arrays[names[role]],
                                                                          np.float32))
               for role in names}
        inputs = v1.placeholder(tf.float32, [batch_size, None, layout["input_size"]])
        temperature = v1.placeholder(tf.float32, [])
        initial = [v1.placeholder_with_default(tf.zeros([batch_size, w]), [batch_size, w])
                   for w in _state_widths(layout)]
        steps = tf.shape(inputs)[1]
        time_major = tf.transpose(inputs, [1, 0, 2])
        outputs = tf.TensorArray(tf.float32, size=steps)

        def body(t, outputs, *state):
            out, new_state = _step(time_major[t], list(state), var, layout)
            return (t + 1, outputs.write(t, out)) + tuple(new_state)

        loop = v1.while_loop(lambda t, *_: t < steps, body,
                             (tf.constant(0), outputs) + tuple(initial), swap_memory=True)
        final = list(loop[2:])
        top = tf.transpose(loop[1].stack(), [1, 0, 2])
        flat = tf.reshape(top, [-1, layout["rnn_layer_sizes"][-1]])
        logits = tf.matmul(flat, var["readout/kernel"]) + var["readout/bias"]
        softmax = tf.reshape(tf.nn.softmax(logits / temperature),
                             [batch_size, -1, layout["num_classes"]])
        v1.add_to_collection("inputs", inputs)
        v1.add_to_collection("temperature", temperature)
        v1.add_to_collection("softmax", softmax)
        for t in initial:
            v1.add_to_collection("initial_state", t)
        for t in final:
            v1.add_to_collection("final_state", t)
        saver = v1.train.Saver(sharded=False, write_version=v1.train.SaverDef.V1)
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            saver.save(session, prefix, meta_graph_suffix="meta", write_meta_graph=True)
