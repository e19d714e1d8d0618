"""Show what a Note RNN file holds: variables and shapes, the detected Note RNN type and the
hparams (rnn_layer_sizes, checkpoint scope, ...) that would load it."""
import json
import sys

HELP = "list a Magenta or sequence_tutor_tf checkpoint's variables, type and hparams"


def add_arguments(parser):
    parser.add_argument("file", metavar="FILE",
                        help="checkpoint directory or path, .mag bundle, or our checkpoint dir")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args):
    from magenta_compat import MagentaCompatError, format_report, inspect_checkpoint
    try:
        report = inspect_checkpoint(args.file)
    except (MagentaCompatError, ValueError, FileNotFoundError) as e:
        print(f"sequence-tutor inspect: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(format_report(report))
    return 0
