"""The main job on the built-in data: the paper's music experiment at the quick preset.

Converts a music21 corpus, pretrains a Note RNN, tunes it with Q, Psi and G-learning, and writes
the table beside the paper's, plots, MIDI and report.md (the same as `reproduce music --quick`).
"""
from sequence_tutor_tf.cli.common import add_common_arguments

HELP = "run the main job (reproduce music --quick) on the built-in melody corpus"


def add_arguments(parser):
    add_common_arguments(parser, output_dir_default="demo_output")


def run(args):
    from sequence_tutor_tf.cli.main import main
    argv = ["reproduce", "music", "--quick", "--output-dir", args.output_dir,
            "--seed", str(args.seed), "--log-level", args.log_level,
            "--intra-op-threads", str(args.intra_op_threads),
            "--inter-op-threads", str(args.inter_op_threads)]
    return main(argv)
