"""Export a Note RNN or a tuned Q / Psi / G policy as a SavedModel that runs without this package.

Signatures: step, step_indices, generate, initial_state, metadata (see docs/export.md). Inspect
the result with `saved_model_cli show --all --dir OUT`. `--overwrite` replaces only a previous
export (a directory with our assets.extra/metadata.json), never the source, a directory holding
it, or the working directory.
"""
HELP = "export a Note RNN or RL Tuner run as a self-contained SavedModel"


def add_arguments(parser):
    parser.add_argument("--checkpoint", required=True, metavar="DIR",
                        help="RL Tuner run directory (tuner_config.json, q_network/, reward_rnn/) "
                             "or Note RNN checkpoint directory (note_rnn_config.json)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="directory to write the SavedModel to (must not exist or be empty)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace --out if it holds a previous export (written by this "
                             "command); anything else is never deleted")
    parser.add_argument("--config", metavar="FILE",
                        help="JSON file of settings (keys are flag names with underscores)")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="logging verbosity (DEBUG also shows an error's traceback)")


def run(args):
    from sequence_tutor_tf.cli.common import configure_logging
    configure_logging(args.log_level)
    from sequence_tutor_tf.export.saved_model import export_saved_model
    path = export_saved_model(args.checkpoint, args.out, overwrite=args.overwrite)
    print(f"wrote SavedModel to {path}\ninspect it with: saved_model_cli show --all --dir {path}")
    return 0
