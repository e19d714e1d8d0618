"""Exact conversion between Magenta's Note RNN files and our Keras Note RNNs.

Reads the RL Tuner's Note RNN checkpoints (current and legacy TF names), melody_rnn checkpoints
and .mag bundles (basic_rnn, mono_rnn, lookback_rnn, attention_rnn), and writes RL Tuner
checkpoints and .mag bundles back. Package code never imports magenta; the tests use it as the
oracle.
"""
from magenta_compat.bundle import write_mag_bundle
from magenta_compat.errors import (CheckpointMismatchError, MagentaCompatError,
                                   UnsupportedGeneratorError)
from magenta_compat.inspect import format_report, inspect_checkpoint
from magenta_compat.loader import load_note_rnn, load_note_rnn_with_info
from magenta_compat.melody_configs import encoder_decoder
from magenta_compat.rl_tuner_format import save_rl_tuner_checkpoint

__all__ = ["load_note_rnn", "load_note_rnn_with_info", "save_rl_tuner_checkpoint",
           "write_mag_bundle", "inspect_checkpoint", "format_report", "encoder_decoder",
           "CheckpointMismatchError", "MagentaCompatError", "UnsupportedGeneratorError"]
