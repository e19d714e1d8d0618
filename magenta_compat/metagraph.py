"""Facts a TF1 metagraph knows and the variables do not (attention_rnn's attn_length, batch size).

melody_rnn writes a metagraph next to every checkpoint (`model.ckpt-N.meta`) and into every
bundle; its `inputs` and `initial_state` collections carry the shapes.
"""
from sequence_tutor_tf._tf import tf


def graph_facts(metagraph_bytes, rnn_layer_sizes):
    """{'batch_size', 'attn_length'} read off the bundle's metagraph (None where absent)."""
    facts = {"batch_size": None, "attn_length": None}
    if not metagraph_bytes:
        return facts
    meta = tf.compat.v1.MetaGraphDef()
    meta.ParseFromString(metagraph_bytes)
    graph = tf.compat.v1.Graph()
    with graph.as_default():
        tf.compat.v1.train.import_meta_graph(meta)
        inputs = graph.get_collection("inputs")
        if inputs:
            facts["batch_size"] = inputs[0].shape[0]
        widths = [s.shape[-1] for s in graph.get_collection("initial_state")]
    # Attention state of layer 0 is (c, h, attns, attn_states): attn_states = attn_size * length.
    if len(widths) == 2 * len(rnn_layer_sizes) + 2 and widths[3]:
        facts["attn_length"] = int(widths[3]) // int(rnn_layer_sizes[0])
    return facts
