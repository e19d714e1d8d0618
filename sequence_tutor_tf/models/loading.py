"""Loading the Note RNN the RL Tuner starts from: our format, or any Magenta checkpoint.

One entry point for the tuner, the CLI and the benchmark; magenta_compat does the reading (our
format, RL Tuner `note_rnn.ckpt`, melody_rnn bundles and checkpoint directories).
"""


def load_note_rnn_any(path, note_rnn_type="auto", checkpoint_scope="rnn_model", hparams=None):
    """A Note RNN model from `path`; a missing path is a FileNotFoundError naming it."""
    if path is None:
        raise FileNotFoundError("no Note RNN checkpoint given")
    import magenta_compat
    return magenta_compat.load_note_rnn(path, note_rnn_type=note_rnn_type,
                                        checkpoint_scope=checkpoint_scope, hparams=hparams)
