"""Convert Note RNNs between Magenta's files and ours.

SRC may be an RL Tuner checkpoint (directory or path), a melody_rnn checkpoint, a .mag bundle or
our checkpoint directory. `--to ours` writes our format; `--to rl_tuner` an RL Tuner Note RNN
checkpoint that Magenta's NoteRNNLoader restores; `--to mag` a .mag bundle that Magenta's
melody_rnn generator runs. Default: ours for Magenta sources; for our sources, mag when DST ends
in .mag, else rl_tuner.
"""
import sys

HELP = "convert Note RNN checkpoints between Magenta (RL Tuner, melody_rnn, .mag) and ours"


def add_arguments(parser):
    from magenta_compat.loader import NOTE_RNN_TYPES
    from magenta_compat.melody_configs import CONFIGS
    parser.add_argument("src", metavar="SRC", help="file or directory to read")
    parser.add_argument("dst", metavar="DST", help="directory (ours, rl_tuner) or file (mag)")
    parser.add_argument("--to", choices=["auto", "ours", "rl_tuner", "mag"], default="auto",
                        help="format to write")
    parser.add_argument("--note-rnn-type", choices=list(NOTE_RNN_TYPES), default="auto",
                        help="layout of SRC: 'default' is the RL Tuner's, others melody_rnn configs")
    parser.add_argument("--checkpoint-scope", default="rnn_model",
                        help="outer variable scope of RL Tuner checkpoints (read and write)")
    parser.add_argument("--config-id", choices=sorted(CONFIGS), default=None,
                        help="generator id of a written .mag bundle (default: the source's, "
                             "else basic_rnn)")
    parser.add_argument("--description", default=None, help="bundle description for --to mag")


def _target(args, source_format):
    if args.to != "auto":
        return args.to
    if source_format != "ours":
        return "ours"
    return "mag" if args.dst.endswith(".mag") else "rl_tuner"


def run(args):
    from magenta_compat import (MagentaCompatError, load_note_rnn_with_info,
                                save_rl_tuner_checkpoint, write_mag_bundle)
    from sequence_tutor_tf.models.checkpoints import save_note_rnn
    try:
        model, info = load_note_rnn_with_info(args.src, args.note_rnn_type,
                                              args.checkpoint_scope)
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
    except (MagentaCompatError, ValueError, FileNotFoundError) as e:
        print(f"sequence-tutor convert: {e}", file=sys.stderr)
        return 2
    print(f"{args.src} ({info['format']}, {info.get('note_rnn_type')}) -> {written} ({target})")
    return 0
