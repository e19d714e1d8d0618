"""Export a Note RNN or a tuned Q / Psi / G policy as a SavedModel that runs without this package.

Signatures: step, step_indices, generate, initial_state, metadata (see docs/export.md). Inspect
the result with `saved_model_cli show --all --dir OUT`. `--overwrite` replaces only a previous
export (a directory with our assets.extra/metadata.json), never the source, a directory holding
it, or the working directory.

`--format magenta-js` writes what @magenta/music's MusicRNN loads from a URL (config.json,
weights_manifest.json and its shards) plus index.html, a page that continues a primer melody,
draws it and plays it; the source may also be a melody_rnn basic_rnn `.mag` bundle or checkpoint
(see docs/export.md).
"""
HELP = ("export a Note RNN or RL Tuner run as a self-contained SavedModel, or for Magenta.js "
        "(--format magenta-js)")
FORMATS = ("saved-model", "magenta-js")


def add_arguments(parser):
    parser.add_argument("--checkpoint", required=True, metavar="DIR",
                        help="RL Tuner run directory (tuner_config.json, q_network/, reward_rnn/) "
                             "or Note RNN checkpoint directory (note_rnn_config.json); with "
                             "--format magenta-js also a melody_rnn basic_rnn .mag bundle or "
                             "checkpoint, or an RL Tuner note_rnn.ckpt")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="directory to write the SavedModel to (must not exist or be empty)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace --out if it holds a previous export (written by this "
                             "command); anything else is never deleted")
    parser.add_argument("--format", choices=list(FORMATS), default="saved-model",
                        help="saved-model: a TensorFlow SavedModel; magenta-js: config.json, "
                             "weights_manifest.json (+ shards) and index.html for "
                             "@magenta/music's MusicRNN (then --checkpoint may also be a "
                             "melody_rnn basic_rnn .mag bundle or checkpoint)")
    parser.add_argument("--script-url", default=None, metavar="URL",
                        help="magenta-js: where index.html loads @magenta/music's browser bundle "
                             "from (default: the pinned version on the jsDelivr CDN)")
    parser.add_argument("--primer-melody", default=None, metavar="LIST",
                        help="magenta-js: the page's initial primer, note_seq Melody values like "
                             "\"[60, -2, 62, -2]\" (-2 = no event, -1 = note off); editable there")
    parser.add_argument("--config", metavar="FILE",
                        help="JSON file of settings (keys are flag names with underscores)")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="logging verbosity (DEBUG also shows an error's traceback)")


def run(args):
    from sequence_tutor_tf.cli.common import configure_logging
    configure_logging(args.log_level)
    if args.format == "magenta-js":
        return _run_magenta_js(args)
    if args.script_url is not None or args.primer_melody is not None:
        from sequence_tutor_tf.cli.errors import UserError
        raise UserError("--script-url and --primer-melody are for --format magenta-js")
    from sequence_tutor_tf.export.saved_model import export_saved_model
    path = export_saved_model(args.checkpoint, args.out, overwrite=args.overwrite)
    print(f"wrote SavedModel to {path}\ninspect it with: saved_model_cli show --all --dir {path}")
    return 0


def _run_magenta_js(args):
    from sequence_tutor_tf.cli.errors import UserError
    from sequence_tutor_tf.export import magenta_js
    primer = None
    if args.primer_melody is not None:
        from sequence_tutor_tf.cli.generate import parse_primer_melody
        primer = parse_primer_melody(args.primer_melody)
    try:
        path = magenta_js.export_magenta_js(
            args.checkpoint, args.out, overwrite=args.overwrite,
            script_url=args.script_url or magenta_js.DEFAULT_SCRIPT_URL, primer_melody=primer)
    except magenta_js.MagentaJsExportError as e:
        raise UserError(str(e)) from None
    print(f"wrote a Magenta.js MusicRNN to {path}\nserve it over HTTP, e.g. "
          f"`python -m http.server --directory {path}`, and open index.html; or load it with "
          f"new mm.MusicRNN(URL)")
    return 0
