"""`sequence-tutor`: the single entry point.

Each subcommand lives in its own module of this package, exposing `HELP` (one line),
`add_arguments(parser)` and `run(args) -> int`. Settings come from flags or a JSON config file
(`--config`); flags given on the command line win over the file.

Building the parser must not import TensorFlow (`--help` answers at once): a module's top level
and its `add_arguments` import only light modules, and `run` imports the rest.

Errors: a failure the user caused ends with one line on stderr,
`sequence-tutor COMMAND: error: MESSAGE`, and exit code 2 (see cli/errors.py); `--log-level DEBUG`
shows the traceback instead.
"""
import argparse
import importlib
import logging
import os
import re
import sys
import tempfile

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
    "compare": "sequence_tutor_tf.cli.compare",
    "sweep": "sequence_tutor_tf.cli.sweep",
}

# TensorFlow's start-up lines that say nothing to a user: absl's pre-initialisation notice, no
# CUDA driver on a CPU machine, CPU instruction sets, oneDNN, duplicate CUDA plugin factories.
_STARTUP_NOISE = re.compile(
    r"All log messages before absl::InitializeLog|cudart_stub\.cc|cuda_platform\.cc.*cuInit|"
    r"cuda_diagnostics|cpu_feature_guard|This TensorFlow binary is optimized|"
    r"To enable the following instructions|rebuild TensorFlow with the appropriate compiler|"
    r"oneDNN custom operations|Unable to register cu(DNN|FFT|BLAS) factory|"
    r"computation placer already registered|TF-TRT Warning|could not open file to read NUMA|"
    r"Could not find cuda drivers")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends "(default: X)" only where it tells something: not for None, nor twice."""

    def _get_help_string(self, action):
        if action.default is None or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def build_parser(only=None):
    """The argument parser; `only` (a command name, or () for none) limits which commands get
    their flags, so `sequence-tutor COMMAND ...` imports only COMMAND's flag definitions."""
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
                           formatter_class=_HelpFormatter)
        if only is None or name == only:
            module.add_arguments(p)
        p.set_defaults(_module=module, _parser=p, _command=name)
    return parser


def _quiet_native_logging_default():
    """TF_CPP_MIN_LOG_LEVEL=2 (warnings and errors only) unless the user chose a level; returns
    whether to filter TensorFlow's start-up lines.

    They are written through absl before any level applies, so a user's level 1-3 does not
    silence them either: they are filtered unless the user asked for everything (level 0).
    """
    level = os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return level.strip() != "0"


def _start_tensorflow(args, filter_noise):
    """Imports TensorFlow, sets the thread pools and lists the devices, with TensorFlow's
    start-up noise (written to file descriptor 2 before any log level applies) filtered out.

    Every other line written meanwhile is passed on to stderr unchanged.
    """
    from sequence_tutor_tf.cli.common import apply_thread_arguments
    if not filter_noise or "tensorflow" in sys.modules:
        if hasattr(args, "intra_op_threads"):
            apply_thread_arguments(args)
        return
    sys.stderr.flush()
    try:
        saved = os.dup(2)
        capture = tempfile.TemporaryFile()
    except OSError:          # no usable fd 2 (embedded use): import without filtering
        if hasattr(args, "intra_op_threads"):
            apply_thread_arguments(args)
        return
    os.dup2(capture.fileno(), 2)
    try:
        from sequence_tutor_tf._tf import tf
        if hasattr(args, "intra_op_threads"):
            apply_thread_arguments(args)   # before the runtime starts: it fixes its pools
        tf.config.list_physical_devices("GPU")   # CUDA's own "no driver" lines come now
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        capture.seek(0)
        text = capture.read().decode("utf-8", "replace")
        capture.close()
        kept = [line for line in text.splitlines() if line.strip()
                and not _STARTUP_NOISE.search(line)]
        if kept:
            sys.stderr.write("\n".join(kept) + "\n")
            sys.stderr.flush()


def main(argv=None):
    """Runs one command; returns its exit code (0 ok, 2 a user error, 130 interrupted)."""
    filter_noise = _quiet_native_logging_default()
    from sequence_tutor_tf.cli.common import expand_config_file
    from sequence_tutor_tf.cli.errors import (EXIT_USER_ERROR, UserError, describe,
                                              user_error_types)
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=argv[0] if argv and argv[0] in SUBCOMMANDS else ())
    args = parser.parse_args(expand_config_file(parser, argv))
    command = getattr(args, "_command", None) or "?"
    debug = getattr(args, "log_level", "INFO") == "DEBUG"
    try:
        _start_tensorflow(args, filter_noise and not debug)
        return args._module.run(args) or 0
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume from the last checkpoint",
              file=sys.stderr)
        return 130
    except user_error_types() as e:
        if debug:
            raise
        logging.getLogger("sequence_tutor_tf").debug("user error", exc_info=True)
        message = describe(e, getattr(args, "output_dir", None))
        if not isinstance(e, UserError) and hasattr(args, "log_level"):
            message += " (--log-level DEBUG shows where)"
        print(f"sequence-tutor {command}: error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
