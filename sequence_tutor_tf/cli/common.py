"""Flags every subcommand shares: `--config`, `--seed`, `--output-dir`, logging, resolved config;
and the argparse types that check a value where it is typed (`finite_float`, `bounded_int`,
`nonnegative_int`, `positive_int`, `seed_int`).

TensorFlow-free at import time: the parser is built for `--help` without loading TensorFlow.
"""
import argparse
import json
import logging
import math
import os
import sys

from sequence_tutor_tf.cli.errors import UserError  # noqa: F401  (re-exported for commands)

MAX_SEED = 2 ** 32 - 1


def add_common_arguments(parser, output_dir_default=None, output_required=False):
    parser.add_argument("--config", metavar="FILE",
                        help="JSON file of settings (keys are flag names with underscores); "
                             "flags on the command line win over it")
    parser.add_argument("--seed", type=seed_int, default=0,
                        help=f"seed for Python, NumPy and TensorFlow (0..{MAX_SEED}): same seed, "
                             "same run")
    parser.add_argument("--output-dir", default=output_dir_default, required=output_required,
                        help="directory for checkpoints, TensorBoard logs, plots and MIDI")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="logging verbosity")
    add_thread_arguments(parser)


def add_music_rule_arguments(parser):
    """--magenta-bugs and --extra-reward: how the music-theory rules score, for every command
    that scores melodies (tune, evaluate)."""
    parser.add_argument("--magenta-bugs", action=argparse.BooleanOptionalAction, default=True,
                        help="reproduce the original's numbers bug for bug (special-event "
                             "labels, uncounted in-key thirds); see docs/differences/rewards.md")
    parser.add_argument("--extra-reward", action="append", default=[], metavar="SPEC",
                        help="add a user reward to the rules: a registered name or "
                             "'package.module:function' (repeatable; see docs/rewards.md)")


def add_thread_arguments(parser):
    """--intra-op-threads / --inter-op-threads: TensorFlow's CPU thread pools for this run."""
    parser.add_argument("--intra-op-threads", type=bounded_int(0, 4096), default=0, metavar="N",
                        help="threads one TensorFlow op (or XLA computation) may split across; "
                             "0 = TensorFlow's default (all cores). The RL engine's ops are "
                             "small: for tune, 1 was 5-10%% faster on our 2-core CPU "
                             "(docs/performance.md)")
    parser.add_argument("--inter-op-threads", type=bounded_int(0, 4096), default=0, metavar="N",
                        help="ops TensorFlow may run at once; 0 = TensorFlow's default")


def apply_thread_arguments(args):
    """Sets the thread pools before TensorFlow starts its runtime (it cannot change them later).

    Returns the (intra, inter) values in force, as TensorFlow reports them (0: its default).
    """
    from sequence_tutor_tf._tf import tf
    pools = tf.config.threading
    for flag, value, getter, setter in (
            ("--intra-op-threads", args.intra_op_threads,
             pools.get_intra_op_parallelism_threads, pools.set_intra_op_parallelism_threads),
            ("--inter-op-threads", args.inter_op_threads,
             pools.get_inter_op_parallelism_threads, pools.set_inter_op_parallelism_threads)):
        if value < 0:
            raise UserError(f"{flag}: expected 0 (TensorFlow's default) or a positive number "
                            f"of threads, got {value}")
        if value == 0 or getter() == value:
            continue
        try:
            setter(value)
        except RuntimeError:
            raise UserError(f"{flag} {value}: TensorFlow is already running in this process "
                            f"with {getter() or 'its default number of'} threads and cannot "
                            "change them; run the command in a fresh process") from None
    return pools.get_intra_op_parallelism_threads(), pools.get_inter_op_parallelism_threads()


def _config_path(argv):
    for i, token in enumerate(argv):
        if token == "--config" and i + 1 < len(argv):
            return argv[i + 1]
        if token.startswith("--config="):
            return token.split("=", 1)[1]
    return None


def expand_config_file(parser, argv):
    """argv with the `--config` file's settings turned into flags placed before the user's own.

    As flags, the file's values go through the same types, choices and required-flag checks as
    typed ones, and a flag given on the command line, coming later, wins.
    """
    path = _config_path(argv)
    if not argv or path is None:
        return argv
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    command = subparsers.choices.get(argv[0])
    if command is None:
        return argv
    try:
        with open(path, encoding="utf-8") as f:
            values = json.load(f)
    except (OSError, ValueError) as e:   # ValueError: bad JSON, not UTF-8
        command.error(f"--config {path}: cannot read a UTF-8 JSON object ({e})")
    if not isinstance(values, dict):
        command.error(f"--config {path}: expected a JSON object of settings, got "
                      f"{type(values).__name__}")
    return [argv[0]] + _settings_to_flags(command, values, path) + argv[1:]


def _settings_to_flags(parser, values, path):
    by_dest = {a.dest: a for a in parser._actions if a.option_strings and a.dest != "help"}
    unknown = sorted(k for k in values if k.replace("-", "_") not in by_dest or k == "config")
    if unknown:
        parser.error(f"--config {path}: unknown settings {unknown}; known: "
                     f"{sorted(d for d in by_dest if d != 'config')}")
    flags = []
    for key, value in values.items():
        action = by_dest[key.replace("-", "_")]
        option = next(o for o in action.option_strings if o.startswith("--"))
        if isinstance(action, argparse.BooleanOptionalAction):
            if not isinstance(value, bool):
                parser.error(f"--config {path}: {key} must be true or false, got {value!r}")
            flags.append(option if value else "--no-" + option[2:])
        elif action.nargs == 0:      # store_true / store_false: only the non-default value
            if not isinstance(value, bool):
                parser.error(f"--config {path}: {key} must be true or false, got {value!r}")
            if value != action.default:
                flags.append(option)
        elif isinstance(action, argparse._AppendAction):
            for item in value if isinstance(value, list) else [value]:
                flags += [option, str(item)]
        elif isinstance(value, list):  # e.g. rnn_layer_sizes: [512, 512]
            flags += [option, ",".join(str(v) for v in value)]
        elif value is None:
            if action.default is not None:
                parser.error(f"--config {path}: {key} is null; give a value or leave the key "
                             f"out for the default ({action.default})")
        elif isinstance(value, (dict, list)) or (isinstance(value, float)
                                                 and not math.isfinite(value)):
            parser.error(f"--config {path}: {key} must be a single finite value, got {value!r}")
        else:
            flags += [option, str(value)]
    return flags


def configure_logging(log_level):
    """Our loggers at `log_level` on stderr; TensorFlow's absl INFO only with DEBUG.

    absl's INFO lines (each checkpoint's "Sharding callback duration", renamed graph inputs in an
    export) are no news to users.
    """
    logging.basicConfig(level=getattr(logging, log_level), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # tf.get_logger() gives the "tensorflow" logger a handler of its own when it is first called
    # before the root logger has one (tf_keras calls it on import); its records also reach ours,
    # so every Keras warning printed twice. Ours alone remains.
    tf_logger = logging.getLogger("tensorflow")
    for handler in list(tf_logger.handlers):
        if type(handler) is logging.StreamHandler:
            tf_logger.removeHandler(handler)
    if log_level != "DEBUG":
        logging.getLogger("absl").setLevel(logging.WARNING)


def setup_run(args, command):
    """Logging, seeds and the resolved configuration written into the output directory."""
    configure_logging(args.log_level)
    _log_thread_pools()
    from sequence_tutor_tf.utils.seeds import set_global_seed
    set_global_seed(args.seed)
    if getattr(args, "output_dir", None) is not None:
        ensure_output_dir(args.output_dir)
        write_resolved_config(args, command)


def ensure_output_dir(path, flag="--output-dir"):
    """Creates `path` if needed; a UserError when it is empty, a file, or not writable."""
    if not str(path).strip():
        raise UserError(f"{flag} is empty: expected a directory name (use . for the working "
                        "directory)")
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"{flag} {path}: is a file, expected a directory")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise UserError(f"{flag} {path}: cannot create the directory ({e.strerror or e})") \
            from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {path}: the directory is not writable")
    return path


_logged_pools = []


def _log_thread_pools():
    """Once per process (commands like `reproduce` run others in the same process)."""
    from sequence_tutor_tf._tf import tf
    pools = (tf.config.threading.get_intra_op_parallelism_threads() or "default",
             tf.config.threading.get_inter_op_parallelism_threads() or "default")
    if pools not in _logged_pools:
        _logged_pools.append(pools)
        logging.getLogger("sequence_tutor_tf").info(
            "TensorFlow threads: intra-op %s, inter-op %s", *pools)


def resolved_config(args):
    return {k: v for k, v in sorted(vars(args).items()) if not k.startswith("_")}


def write_resolved_config(args, command):
    from sequence_tutor_tf.utils.files import atomic_write_text
    config = dict(resolved_config(args), command=command)
    atomic_write_text(os.path.join(args.output_dir, f"{command}_config.json"),
                      json.dumps(config, indent=2, default=str))


def _type(name, function):
    function.__name__ = name       # argparse names the type in its messages
    return function


def finite_float(min=None, max=None, min_inclusive=True, max_inclusive=True):
    """An argparse type: a finite float (no nan or inf) within [min, max].

    `finite_float(0, min_inclusive=False)` is a positive number; bounds of None are open.
    The message states the accepted range: "expected a finite number > 0 and <= 1000, got 'inf'".
    """
    parts = []
    if min is not None:
        parts.append(f"{'>=' if min_inclusive else '>'} {min:g}")
    if max is not None:
        parts.append(f"{'<=' if max_inclusive else '<'} {max:g}")
    wanted = "a finite number" + (" " + " and ".join(parts) if parts else "")

    def parse(text):
        try:
            value = float(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        if min is not None and (value < min or (value == min and not min_inclusive)):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        if max is not None and (value > max or (value == max and not max_inclusive)):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value
    return _type("finite_float", parse)


def bounded_int(min=None, max=None):
    """An argparse type: an integer within [min, max] (bounds of None are open)."""
    parts = ([f">= {min}"] if min is not None else []) + ([f"<= {max}"] if max is not None else [])
    wanted = "an integer" + (" " + " and ".join(parts) if parts else "")

    def parse(text):
        try:
            value = int(str(text).strip())
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
        if (min is not None and value < min) or (max is not None and value > max):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value
    return _type("bounded_int", parse)


seed_int = _type("seed_int", bounded_int(0, MAX_SEED))
nonnegative_int = _type("nonnegative_int", bounded_int(0, None))


MAX_INT = 2 ** 31 - 1


def positive_int(text):
    """An argparse type: an integer 1..2**31-1 (step counts, sizes)."""
    try:
        value = int(str(text).strip())
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0 or value > MAX_INT:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer (1..{MAX_INT}), got {value}")
    return value


def int_list(text):
    """'100' or '512,512' or '[512, 512]' -> list of ints."""
    cleaned = text.strip().strip("[]")
    try:
        values = [int(v) for v in cleaned.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers like 512,512, got {text!r}") from None
    if not values or min(values) <= 0 or max(values) > MAX_LAYER_SIZE:
        raise argparse.ArgumentTypeError(
            f"expected positive integers (1..{MAX_LAYER_SIZE} units), got {text!r}")
    return values


MAX_LAYER_SIZE = 65536
