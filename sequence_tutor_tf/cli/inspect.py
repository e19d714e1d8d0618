"""Show what a Note RNN file holds: variables and shapes, the detected Note RNN type and the
hparams (rnn_layer_sizes, checkpoint scope, ...) that would load it."""
import json
import os

from sequence_tutor_tf.cli.errors import UserError

HELP = "list a Magenta or sequence_tutor_tf checkpoint's variables, type and hparams"


def add_arguments(parser):
    parser.add_argument("file", metavar="FILE",
                        help="checkpoint directory or path, .mag bundle, or our checkpoint dir")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="logging verbosity (DEBUG also shows an error's traceback)")


def run(args):
    from sequence_tutor_tf.cli.common import configure_logging
    configure_logging(args.log_level)
    if not os.path.exists(args.file) and not os.path.exists(args.file + ".index"):
        raise UserError(f"FILE {args.file}: no such file or directory")
    from magenta_compat import format_report, inspect_checkpoint
    report = inspect_checkpoint(args.file)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(format_report(report))
    return 0
