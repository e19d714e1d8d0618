"""Sequence models: the Note RNN (an LSTM language model over melody events) and its hparams."""
