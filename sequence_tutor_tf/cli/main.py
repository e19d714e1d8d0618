"""`sequence-tutor`: the single entry point.

Each subcommand lives in its own module of this package, exposing `HELP` (one line),
`add_arguments(parser)` and `run(args) -> int`. Settings come from flags or a JSON config file
(`--config`); flags given on the command line win over the file.
"""
import argparse
import importlib
import sys

# name -> module that implements it.
SUBCOMMANDS = {
    "demo": "sequence_tutor_tf.cli.demo",
    "pretrain": "sequence_tutor_tf.cli.pretrain",
    "evaluate": "sequence_tutor_tf.cli.evaluate",
    "tune": "sequence_tutor_tf.cli.tune",
    "generate": "sequence_tutor_tf.cli.generate",
    "export": "sequence_tutor_tf.cli.export",
    "convert": "sequence_tutor_tf.cli.convert",
    "inspect": "sequence_tutor_tf.cli.inspect",
    "reproduce": "sequence_tutor_tf.cli.reproduce",
}


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sequence-tutor",
        description=("Sequence Tutor on TensorFlow 2: pretrain a Note RNN by maximum likelihood, "
                     "tune it with KL-controlled RL (Q, Psi, G-learning), evaluate, generate and "
                     "export. Run `sequence-tutor COMMAND --help` for a command's flags."),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_module=module, _parser=p)
    return parser


def main(argv=None):
    from sequence_tutor_tf.cli.common import expand_config_file
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(expand_config_file(parser, argv))
    if hasattr(args, "intra_op_threads"):
        from sequence_tutor_tf.cli.common import apply_thread_arguments
        apply_thread_arguments(args)     # first: TensorFlow fixes its pools when it starts
    try:
        return args._module.run(args) or 0
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume from the last checkpoint",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
