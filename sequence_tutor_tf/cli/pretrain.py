"""Train the Note RNN (the MLE prior of Sequence Tutor) on melodies.

Data: a built-in music21 corpus by name (`default` = Essen + O'Neill + Ryan's + Bach sopranos,
`demo` = a small subset), a directory of MIDI files, or a TFRecord of NoteSequences or of
melody_rnn SequenceExamples. Writes, under --output-dir: note_rnn/ (the model in our checkpoint
format, read by `tune`, `generate` and `export`), backup/ (resume state: rerun the same command
after an interruption to continue), logs/ (TensorBoard), training_log.csv, training_curves.png,
metrics.json (validation NLL and accuracy beside the unigram baseline) and samples/*.mid.
"""
import json
import logging
import os

from sequence_tutor_tf.cli.common import add_common_arguments, int_list, positive_int, setup_run

HELP = "train the Note RNN by maximum likelihood on a melody corpus"
log = logging.getLogger("sequence_tutor_tf.pretrain")


def add_arguments(parser):
    add_common_arguments(parser, output_dir_default="runs/pretrain")
    data = parser.add_argument_group("data")
    data.add_argument("--corpus", default="default",
                      help="built-in corpus name (default, demo, essen, oneills, ryans, bach, "
                           "all), a directory of MIDI files, or a .tfrecord of NoteSequences or "
                           "melody_rnn SequenceExamples")
    data.add_argument("--cache-dir", default=None,
                      help="where converted corpora are cached (default: $SEQUENCE_TUTOR_CACHE "
                           "or ~/.cache/sequence_tutor_tf)")
    data.add_argument("--max-melodies", type=positive_int, default=None,
                      help="use at most this many melodies (after shuffling with --seed)")
    data.add_argument("--validation-fraction", type=float, default=0.1,
                      help="fraction of melodies held out for validation")
    data.add_argument("--num-workers", type=positive_int, default=2,
                      help="processes used to convert a built-in corpus the first time")
    model = parser.add_argument_group("model and optimisation (names of default_hparams())")
    model.add_argument("--hparams", default="",
                       help="Magenta-style overrides of default_hparams(), e.g. "
                            "'rnn_layer_sizes=[256,256],batch_size=64,l2_reg=0'")
    model.add_argument("--rnn-layer-sizes", type=int_list, default=None,
                       help="LSTM sizes, e.g. 100 (RL Tuner) or 512,512 (basic_rnn); "
                            "overrides --hparams")
    model.add_argument("--batch-size", type=positive_int, default=None,
                       help="batch size (default: hparams batch_size, 128)")
    model.add_argument("--num-training-steps", type=positive_int, default=3000,
                       help="optimizer steps in all (rounded up to whole epochs)")
    model.add_argument("--steps-per-epoch", type=positive_int, default=300,
                       help="steps between validation, checkpoints and log lines")
    dist = parser.add_argument_group("distribution")
    dist.add_argument("--strategy", default="default", choices=["default", "mirrored",
                                                                 "multi_worker"],
                      help="tf.distribute strategy for fit(); mirrored uses all GPUs, or the "
                           "logical CPUs of --logical-cpus; multi_worker reads TF_CONFIG")
    dist.add_argument("--logical-cpus", type=int, default=0,
                      help="split the CPU into this many logical devices (to run mirrored "
                           "training without GPUs)")
    out = parser.add_argument_group("outputs")
    out.add_argument("--num-samples", type=int, default=4,
                     help="melodies sampled from the trained model and written as MIDI")
    out.add_argument("--sample-steps", type=positive_int, default=64,
                     help="length of each sampled melody in 16th-note steps")
    out.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2],
                     help="Keras progress output: 0 none, 1 progress bar, 2 one line per epoch")


def resolve_hparams(args):
    from sequence_tutor_tf.models.hparams import default_hparams
    hparams = default_hparams()
    if args.hparams:
        hparams.parse(args.hparams)
    if args.rnn_layer_sizes:
        hparams.rnn_layer_sizes = list(args.rnn_layer_sizes)
    if args.batch_size:
        hparams.batch_size = args.batch_size
    return hparams


def run(args):
    if not 0.0 < args.validation_fraction < 1.0:
        raise SystemExit(f"--validation-fraction must be between 0 and 1, got "
                         f"{args.validation_fraction}")
    try:
        hparams = resolve_hparams(args)
    except ValueError as e:
        raise SystemExit(f"--hparams: {e}") from None
    from sequence_tutor_tf.training.mle import make_strategy
    strategy = make_strategy(args.strategy, args.logical_cpus)  # before TF touches devices
    setup_run(args, "pretrain")
    log.info("strategy %s with %d replica(s)", type(strategy).__name__,
             strategy.num_replicas_in_sync)
    result = pretrain(args, hparams, strategy)
    print(json.dumps(result, indent=2))
    print(f"Note RNN written to {os.path.join(args.output_dir, 'note_rnn')}")
    return 0


def pretrain(args, hparams, strategy):
    """Loads data, trains, and writes curves, metrics and samples. Returns the metrics dict."""
    import numpy as np

    from sequence_tutor_tf.music import dataset as melody_dataset
    from sequence_tutor_tf.music.sources import load_melodies
    from sequence_tutor_tf.training.mle import train_note_rnn
    from sequence_tutor_tf.utils.files import atomic_write_text
    from sequence_tutor_tf.utils.plots import plot_training_curves

    corpus = load_melodies(args.corpus, cache_dir=args.cache_dir, num_workers=args.num_workers)
    log.info(corpus.summary_line())
    melodies = list(corpus.melodies)
    if args.max_melodies and len(melodies) > args.max_melodies:
        order = np.random.default_rng(args.seed).permutation(len(melodies))
        melodies = [melodies[i] for i in sorted(order[:args.max_melodies])]
    train, val = melody_dataset.split_train_validation(
        melodies, args.validation_fraction, seed=args.seed)
    if not val:
        raise SystemExit(f"{len(melodies)} melodies leave none for validation at "
                         f"--validation-fraction {args.validation_fraction}")
    baseline = melody_dataset.unigram_nll(train, val,
                                          skip_first_n_losses=hparams.skip_first_n_losses)
    global_batch = hparams.batch_size
    train_ds = melody_dataset.make_dataset(
        train, global_batch, skip_first_n_losses=hparams.skip_first_n_losses, shuffle=True,
        seed=args.seed, repeat=True)
    val_ds = melody_dataset.make_dataset(
        val, global_batch, skip_first_n_losses=hparams.skip_first_n_losses, shuffle=False)
    extra = {"hparams": hparams.values(), "corpus": corpus.source, "encoding": "melody_one_hot",
             "min_note": 48, "max_note": 84}
    result = train_note_rnn(train_ds, val_ds, hparams, args.output_dir, args.num_training_steps,
                            args.steps_per_epoch, strategy=strategy, extra_config=extra,
                            verbose=args.verbose)
    metrics = dict(result.metrics, unigram_baseline_nll=float(baseline),
                   train_melodies=len(train), validation_melodies=len(val),
                   corpus_summary=corpus.summary_line())
    atomic_write_text(os.path.join(args.output_dir, "metrics.json"), json.dumps(metrics, indent=2))
    plot_training_curves(os.path.join(args.output_dir, "training_log.csv"),
                         os.path.join(args.output_dir, "training_curves.png"), baseline)
    if args.num_samples > 0:
        write_samples(result.model, os.path.join(args.output_dir, "samples"), args.num_samples,
                      args.sample_steps, args.seed)
    return metrics


def write_samples(model, directory, num_samples, num_steps, seed):
    """A few melodies sampled from the model, as MIDI files."""
    import note_seq

    from sequence_tutor_tf.models.sampling import sample_events
    from sequence_tutor_tf.music.encoding import events_to_note_sequence

    os.makedirs(directory, exist_ok=True)
    events = sample_events(model, num_samples, num_steps, seed=seed)
    paths = []
    for i, row in enumerate(events):
        path = os.path.join(directory, f"sample_{i:02d}.mid")
        note_seq.sequence_proto_to_midi_file(events_to_note_sequence(row), path)
        paths.append(path)
    return paths
