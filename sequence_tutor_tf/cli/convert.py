"""Convert Note RNNs between Magenta's files and ours.

SRC may be an RL Tuner checkpoint (directory or path), a melody_rnn checkpoint, a .mag bundle or
our checkpoint directory. `--to ours` writes our format; `--to rl_tuner` an RL Tuner Note RNN
checkpoint that Magenta's NoteRNNLoader restores; `--to mag` a .mag bundle that Magenta's
melody_rnn generator runs. Default: ours for Magenta sources; for our sources, mag when DST ends
in .mag, else rl_tuner. DST must not be SRC, inside it, or a directory that holds it.
"""
import os

from sequence_tutor_tf.cli.errors import UserError

HELP = "convert Note RNN checkpoints between Magenta (RL Tuner, melody_rnn, .mag) and ours"

# magenta_compat.loader.NOTE_RNN_TYPES and sorted(melody_configs.CONFIGS), spelled out here so
# that building the parser does not import TensorFlow (tests/test_bad_inputs.py checks they agree).
NOTE_RNN_TYPES = ("auto", "default", "basic_rnn", "mono_rnn", "lookback_rnn", "attention_rnn")
CONFIG_IDS = ("attention_rnn", "basic_rnn", "lookback_rnn", "mono_rnn")


def add_arguments(parser):
    parser.add_argument("src", metavar="SRC", help="file or directory to read")
    parser.add_argument("dst", metavar="DST", help="directory (ours, rl_tuner) or file (mag); "
                        "not SRC, nor inside SRC, nor a directory holding SRC")
    parser.add_argument("--to", choices=["auto", "ours", "rl_tuner", "mag"], default="auto",
                        help="format to write")
    parser.add_argument("--note-rnn-type", choices=list(NOTE_RNN_TYPES), default="auto",
                        help="layout of SRC: 'default' is the RL Tuner's, others melody_rnn configs")
    parser.add_argument("--checkpoint-scope", default="rnn_model",
                        help="outer variable scope of RL Tuner checkpoints (read and write)")
    parser.add_argument("--config-id", choices=list(CONFIG_IDS), default=None,
                        help="generator id of a written .mag bundle (default: the source's, "
                             "else basic_rnn)")
    parser.add_argument("--description", default=None, help="bundle description for --to mag")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="logging verbosity (DEBUG also shows an error's traceback)")


def _target(args, source_format):
    if args.to != "auto":
        return args.to
    if source_format != "ours":
        return "ours"
    return "mag" if args.dst.endswith(".mag") else "rl_tuner"


def check_destination(src, dst):
    """A UserError when writing DST could overwrite SRC's files.

    A directory source: DST may not be it, lie inside it, or contain it. A file source (a
    bundle or a checkpoint prefix): DST may not be the file, its directory (where a `checkpoint`
    state file would be rewritten) or any directory above it.
    """
    from sequence_tutor_tf.utils.files import inside_directory
    if not dst.strip():
        raise UserError("DST is empty: expected a directory or .mag file to write")
    if os.path.isdir(src):
        root, what = src, "the source directory"
        clash = inside_directory(dst, root, allow_root=True)
    else:
        root = os.path.dirname(os.path.abspath(src))
        what = "the directory of the source files"
        files = [src, src + ".index"]
        clash = (any(os.path.exists(f) and os.path.realpath(f) == os.path.realpath(dst)
                     for f in files) or os.path.realpath(dst) == os.path.realpath(root))
    if clash or inside_directory(root, dst):
        raise UserError(f"DST {dst}: it is, contains or is inside {what} {root} (SRC {src}); "
                        "converting there would overwrite the source; choose a new DST")


def run(args):
    from sequence_tutor_tf.cli.common import configure_logging
    configure_logging(args.log_level)
    if not os.path.exists(args.src) and not os.path.exists(args.src + ".index"):
        raise UserError(f"SRC {args.src}: no such file or directory")
    check_destination(args.src, args.dst)
    if os.path.exists(args.dst) and not os.path.isdir(args.dst) and args.to != "mag" \
            and not args.dst.endswith(".mag"):
        raise UserError(f"DST {args.dst}: is a file; expected a directory to write the "
                        "checkpoint into (or a .mag path with --to mag)")
    from magenta_compat import (load_note_rnn_with_info, save_rl_tuner_checkpoint,
                                write_mag_bundle)
    from sequence_tutor_tf.models.checkpoints import save_note_rnn
    model, info = load_note_rnn_with_info(args.src, args.note_rnn_type, args.checkpoint_scope)
    target = _target(args, info["format"])
    if target == "ours":
        extra = {"magenta_config_id": info.get("note_rnn_type"), "magenta_source": args.src}
        written = save_note_rnn(model, args.dst, extra_config=extra)
    elif target == "rl_tuner":
        written = save_rl_tuner_checkpoint(model, args.dst, args.checkpoint_scope)
    else:
        config_id = args.config_id or (info.get("note_rnn_type")
                                       if info.get("note_rnn_type") not in (None, "default")
                                       else "basic_rnn")
        written = write_mag_bundle(model, args.dst, config_id, description=args.description)
    print(f"{args.src} ({info['format']}, {info.get('note_rnn_type')}) -> {written} ({target})")
    return 0
