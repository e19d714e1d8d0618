"""Train the prior of Sequence Tutor by maximum likelihood: the Note RNN on melodies, or
(`--domain molecules`) a SMILES LSTM on MOSES or your own SMILES file.

Molecules: `--corpus moses` (the default there; the MOSES train split in the molsets wheel) or a
.smi / .csv / .txt file or directory; `--vocabulary faithful` (the research code's 35 characters,
a random priming token, no BOS) or `atoms` (Cl, Br and bracket atoms as tokens; BOS/EOS/PAD);
the research code's optimiser settings (molecules/prior.py). Its samples are scored with
MOSES-style metrics (validity, uniqueness, novelty, internal diversity, filters, scaffold and
fragment similarity) into metrics.json, and written to samples/samples.smi.

Data: a built-in music21 corpus by name (`default` = Essen + O'Neill + Ryan's + Bach sopranos,
`demo` = a small subset), a directory of MIDI files, or a TFRecord of NoteSequences or of
melody_rnn SequenceExamples. Writes, under --output-dir: note_rnn/ (the model in our checkpoint
format, read by `tune`, `generate` and `export`), backup/ and pretrain_state.json (resume state:
rerun the same command after an interruption to continue; a finished run is not trained again),
logs/ (TensorBoard), training_log.csv, training_curves.png, metrics.json (validation NLL and
accuracy beside the unigram baseline) and samples/*.mid.

Warm start: `--init-from` begins from an existing Note RNN (ours, an RL Tuner checkpoint, a
melody_rnn checkpoint or .mag bundle) instead of random weights, e.g. to adapt Magenta's
basic_rnn.mag to your MIDI files (`--rnn-layer-sizes 512,512`); shapes must match. Several
machines: `--strategy multi_worker` on each, with TF_CONFIG (README.md, "Warm starts, sweeps and
several machines").
"""
import json
import logging
import os
import shutil

from sequence_tutor_tf.cli.common import (UserError, add_common_arguments, bounded_int,
                                          finite_float, int_list, positive_int,
                                          setup_run)

HELP = "train the prior (Note RNN, or a SMILES LSTM) by maximum likelihood on a corpus"
log = logging.getLogger("sequence_tutor_tf.pretrain")


def add_arguments(parser):
    add_common_arguments(parser, output_dir_default="runs/pretrain")
    parser.add_argument("--domain", default="music", choices=["music", "molecules"],
                        help="music: a Note RNN on melodies; molecules: a SMILES LSTM")
    data = parser.add_argument_group("data")
    data.add_argument("--corpus", default=None,
                      help="music: a built-in corpus name (default, demo, essen, oneills, ryans, "
                           "bach, all), a directory of MIDI files, or a .tfrecord of "
                           "NoteSequences or melody_rnn SequenceExamples (default: default); "
                           "molecules: moses (default) or a SMILES file or directory")
    data.add_argument("--cache-dir", default=None,
                      help="where converted corpora are cached (default: $SEQUENCE_TUTOR_CACHE "
                           "or ~/.cache/sequence_tutor_tf)")
    data.add_argument("--max-melodies", type=positive_int, default=None,
                      help="use at most this many melodies or molecules (seeded subsample)")
    data.add_argument("--vocabulary", default="faithful", choices=["faithful", "atoms"],
                      help="molecules: the SMILES tokens (faithful: the research code's 35 "
                           "characters; atoms: multi-character atoms, BOS/EOS/PAD)")
    data.add_argument("--eval-samples", type=bounded_int(0, 100000), default=10000,
                      help="molecules: SMILES sampled for the MOSES-style metrics (0..100000)")
    data.add_argument("--validation-fraction",
                      type=finite_float(0, 1, min_inclusive=False, max_inclusive=False),
                      default=0.1, help="fraction of melodies held out for validation (0..1)")
    data.add_argument("--num-workers", type=bounded_int(1, 256), default=2,
                      help="processes that convert the corpus: a built-in one (the first "
                           "time) or a directory of MIDI files (one per 1,000 files at most, "
                           "e.g. for Lakh MIDI)")
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
    model.add_argument("--init-from", default=None, metavar="CKPT_OR_BUNDLE",
                       help="warm start: begin training from this Note RNN instead of random "
                            "weights: our note_rnn/ directory (or a tune run directory: its "
                            "q_network), a Magenta RL Tuner checkpoint (note_rnn.ckpt), a "
                            "melody_rnn checkpoint or a .mag bundle (basic_rnn). Its shapes "
                            "must match the model's: set --rnn-layer-sizes to the source's "
                            "(512,512 for Magenta's basic_rnn.mag)")
    model.add_argument("--init-checkpoint-scope", default="rnn_model",
                       help="outer variable scope of an RL Tuner checkpoint given to --init-from")
    dist = parser.add_argument_group("distribution")
    dist.add_argument("--strategy", default="default", choices=["default", "mirrored",
                                                                 "multi_worker"],
                      help="tf.distribute strategy for fit(); mirrored uses all GPUs, or the "
                           "logical CPUs of --logical-cpus; multi_worker reads TF_CONFIG")
    dist.add_argument("--logical-cpus", type=bounded_int(0, 256), default=0,
                      help="split the CPU into this many logical devices (to run mirrored "
                           "training without GPUs)")
    out = parser.add_argument_group("outputs")
    out.add_argument("--num-samples", type=bounded_int(0, 1000), default=4,
                     help="melodies sampled from the trained model and written as MIDI (0..1000)")
    out.add_argument("--sample-steps", type=bounded_int(1, 20000), default=64,
                     help="length of each sampled melody in 16th-note steps (1..20000)")
    parser.add_argument("--restart", action="store_true",
                        help="delete this run's own outputs in --output-dir (note_rnn/, backup/, "
                             "logs/, samples/, the state, log, metrics and curves) and train "
                             "from scratch; other files are left alone")
    out.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2],
                     help="Keras progress output: 0 none, 1 progress bar, 2 one line per epoch")


def resolve_hparams(args, vocabulary=None):
    from sequence_tutor_tf.models.hparams import default_hparams
    if vocabulary is not None:
        from sequence_tutor_tf.molecules.prior import prior_hparams
        hparams = prior_hparams(vocabulary)
    else:
        hparams = default_hparams()
    if args.hparams:
        hparams.parse(args.hparams)
    if args.rnn_layer_sizes:
        hparams.rnn_layer_sizes = list(args.rnn_layer_sizes)
    if args.batch_size:
        hparams.batch_size = args.batch_size
    return hparams


# What this command writes into --output-dir; --restart deletes these and nothing else.
OWN_OUTPUTS = ("note_rnn", "backup", "logs", "samples", "pretrain_state.json",
               "training_log.csv", "training_curves.png", "metrics.json", "pretrain_config.json")
# The settings a resumed run must share with the run it continues.
RESUME_SETTINGS = ("domain", "corpus", "vocabulary", "max_melodies", "validation_fraction",
                   "seed", "num_training_steps", "steps_per_epoch", "init_from")


def run_settings(args, hparams):
    settings = {k: getattr(args, k, None) for k in RESUME_SETTINGS}
    settings["hparams"] = hparams.values()
    return json.loads(json.dumps(settings))   # as stored: lists, not tuples


def restart(output_dir):
    for name in OWN_OUTPUTS:
        path = os.path.join(output_dir, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)


def check_resume(args, settings):
    """The run's state to continue from ({} for a new run); a UserError when the directory holds
    a run made with other settings, or outputs of a run that left no state."""
    from sequence_tutor_tf.training.mle import read_state
    out = args.output_dir
    state = read_state(out)
    if state is None:
        leftovers = [n for n in ("note_rnn", "training_log.csv", "metrics.json")
                     if os.path.exists(os.path.join(out, n))]
        if leftovers and not os.path.isdir(os.path.join(out, "backup")):
            raise UserError(
                f"--output-dir {out} already holds a pretrain run ({', '.join(leftovers)}) but no "
                "pretrain_state.json to resume it from (made by an older version?); training "
                "again would replace its checkpoints. Choose another --output-dir, or pass "
                "--restart to delete that run and train from scratch")
        return {"settings": settings}
    stored = state.get("settings") or {}
    differ = [f"{k}: {stored.get(k)!r} before, {settings[k]!r} now" for k in settings
              if stored.get(k) != settings[k]]
    if differ:
        raise UserError(
            f"--output-dir {out} holds a pretrain run made with other settings ("
            + "; ".join(differ) + "). Rerun with the same settings to resume it, choose "
            "another --output-dir, or pass --restart to delete it and train from scratch")
    return state


def _molecule_vocabulary(args):
    """(vocabulary, corpus) of --domain molecules: the corpus is read once, here."""
    from sequence_tutor_tf.molecules.data import load_smiles_corpus
    from sequence_tutor_tf.molecules.vocabulary import make_vocabulary
    probe = make_vocabulary("faithful") if args.vocabulary == "faithful" else None
    corpus = load_smiles_corpus(args.corpus, vocabulary=probe, max_molecules=args.max_melodies,
                                seed=args.seed, cache_dir=args.cache_dir)
    vocabulary = probe or make_vocabulary("atoms", corpus.smiles)
    return vocabulary, corpus


def run(args):
    from sequence_tutor_tf.training.mle import validate_mle_hparams
    molecules = None
    if args.domain == "molecules":
        args.corpus = args.corpus or "moses"
        molecules = _molecule_vocabulary(args)
    else:
        args.corpus = args.corpus or "default"
    try:
        hparams = validate_mle_hparams(resolve_hparams(args, molecules and molecules[0]))
    except ValueError as e:
        raise UserError(f"--hparams: {e}") from None
    init_path = getattr(args, "init_from", None)
    if molecules is not None and init_path:
        raise UserError("--init-from: warm start is for Note RNNs (--domain music); a SMILES "
                        "prior trains from random weights")
    if init_path and not os.path.exists(init_path) and not os.path.exists(init_path + ".index"):
        raise UserError(f"--init-from {init_path}: no such file or directory")
    if molecules is None and hparams.one_hot_length != 38:
        raise UserError(f"--hparams: hparam one_hot_length={hparams.one_hot_length}: the melody "
                        "encoding has 38 classes (MIDI 48..83 and two special events)")
    if args.restart and os.path.isdir(args.output_dir or ""):
        restart(args.output_dir)
    settings = run_settings(args, hparams)
    if args.output_dir is not None and os.path.isdir(args.output_dir):
        state = check_resume(args, settings)
        if _finished(args, state):
            print(f"{args.output_dir}: this pretrain run is already finished "
                  f"({state.get('epochs_completed')} epochs); not training again (--restart "
                  "trains from scratch)")
            with open(os.path.join(args.output_dir, "metrics.json"), encoding="utf-8") as f:
                print(f.read().strip())
            return 0
    else:
        state = {"settings": settings}
    from sequence_tutor_tf.training.mle import make_strategy
    strategy = make_strategy(args.strategy, args.logical_cpus)  # before TF touches devices
    setup_run(args, "pretrain")
    log.info("strategy %s with %d replica(s)", type(strategy).__name__,
             strategy.num_replicas_in_sync)
    from sequence_tutor_tf.training.mle import NonFiniteLossError
    try:
        if molecules is not None:
            result = pretrain_molecules(args, hparams, strategy, state, *molecules)
        else:
            result = pretrain(args, hparams, strategy, state)
    except NonFiniteLossError as e:
        raise UserError(str(e)) from None
    print(json.dumps(result, indent=2))
    print(f"{'SMILES prior' if molecules else 'Note RNN'} written to "
          f"{os.path.join(args.output_dir, 'note_rnn')}")
    return 0


def _samples_stage(args):
    return {"num_samples": args.num_samples, "sample_steps": args.sample_steps}


def _finished(args, state):
    stages = state.get("stages") or {}
    return (state.get("finished") and stages.get("samples") == _samples_stage(args)
            and os.path.exists(os.path.join(args.output_dir, "metrics.json")))


def pretrain(args, hparams, strategy, state=None):
    """Loads data, trains, and writes curves, metrics and samples. Returns the metrics dict.

    `state` (see training.mle.read_state) records what is done; stages done before (training,
    evaluation, curves, samples) are not done again."""
    import numpy as np

    from sequence_tutor_tf.music import dataset as melody_dataset
    from sequence_tutor_tf.music.sources import load_melodies
    from sequence_tutor_tf.training.mle import train_note_rnn
    from sequence_tutor_tf.utils.files import atomic_write_text
    from sequence_tutor_tf.utils.plots import plot_training_curves

    init_from = None
    if getattr(args, "init_from", None):   # read and checked before the corpus is converted
        from sequence_tutor_tf.models.note_rnn import NoteRNN
        from sequence_tutor_tf.training.mle import copy_initial_weights
        source = load_init_source(args.init_from, args.init_checkpoint_scope)
        copy_initial_weights(NoteRNN.from_hparams(hparams), source, args.init_from)
        init_from = (source, args.init_from)
    corpus = load_melodies(args.corpus, cache_dir=args.cache_dir, num_workers=args.num_workers)
    log.info(corpus.summary_line())
    melodies = list(corpus.melodies)
    if args.max_melodies and len(melodies) > args.max_melodies:
        order = np.random.default_rng(args.seed).permutation(len(melodies))
        melodies = [melodies[i] for i in sorted(order[:args.max_melodies])]
    train, val = melody_dataset.split_train_validation(
        melodies, args.validation_fraction, seed=args.seed)
    if not val or not train:
        raise UserError(f"--corpus {args.corpus}: {len(melodies)} melodies leave "
                        f"{'none for validation' if not val else 'none for training'} at "
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
    from sequence_tutor_tf.training.mle import write_state
    state = {"settings": run_settings(args, hparams)} if state is None else state
    if init_from is not None:
        extra["init_from"] = args.init_from
    result = train_note_rnn(train_ds, val_ds, hparams, args.output_dir, args.num_training_steps,
                            args.steps_per_epoch, strategy=strategy, extra_config=extra,
                            verbose=args.verbose, state=state, init_from=init_from)
    metrics = dict(result.metrics, unigram_baseline_nll=float(baseline),
                   train_melodies=len(train), validation_melodies=len(val),
                   corpus_summary=corpus.summary_line())
    atomic_write_text(os.path.join(args.output_dir, "metrics.json"), json.dumps(metrics, indent=2))
    stages = state.setdefault("stages", {})
    if not stages.get("curves") or not os.path.exists(
            os.path.join(args.output_dir, "training_curves.png")):
        plot_training_curves(os.path.join(args.output_dir, "training_log.csv"),
                             os.path.join(args.output_dir, "training_curves.png"), baseline)
        stages["curves"] = True
        write_state(args.output_dir, state)
    if stages.get("samples") != _samples_stage(args):
        if args.num_samples > 0:
            write_samples(result.model, os.path.join(args.output_dir, "samples"),
                          args.num_samples, args.sample_steps, args.seed)
        stages["samples"] = _samples_stage(args)
        write_state(args.output_dir, state)
    state["finished"] = True
    write_state(args.output_dir, state)
    return metrics


def load_init_source(path, checkpoint_scope="rnn_model"):
    """The Note RNN a warm start begins from: our model directory, a tune run directory (its
    q_network), an RL Tuner or melody_rnn checkpoint, or a .mag bundle."""
    from sequence_tutor_tf.models.loading import load_note_rnn_any
    q_network = os.path.join(path, "q_network")
    if os.path.isdir(q_network) and os.path.exists(os.path.join(path, "tuner_config.json")):
        path = q_network
    return load_note_rnn_any(path, checkpoint_scope=checkpoint_scope)


def pretrain_molecules(args, hparams, strategy, state, vocabulary, corpus):
    """The molecule half of `pretrain`: the research code's split, MLE, then MOSES-style
    metrics of the prior's samples. Returns the metrics dict."""
    from sequence_tutor_tf.molecules import metrics as mol_metrics
    from sequence_tutor_tf.molecules.data import load_smiles_corpus
    from sequence_tutor_tf.molecules.prior import split_by_batches, sample_smiles, train_prior
    from sequence_tutor_tf.training.mle import write_state
    from sequence_tutor_tf.utils.files import atomic_write_text
    from sequence_tutor_tf.utils.plots import plot_training_curves
    log.info(corpus.summary())
    smiles = corpus.smiles
    train_idx, val_idx, test_idx = split_by_batches(len(smiles), seed=args.seed)
    train = [smiles[i] for i in train_idx]
    result = train_prior(train, [smiles[i] for i in val_idx], vocabulary, args.output_dir,
                         args.num_training_steps, args.steps_per_epoch,
                         rnn_layer_sizes=hparams.rnn_layer_sizes, batch_size=hparams.batch_size,
                         seed=args.seed, strategy=strategy, verbose=args.verbose, state=state)
    metrics = dict(result.metrics, train_molecules=len(train),
                   validation_molecules=len(val_idx), test_molecules=len(test_idx),
                   vocabulary=vocabulary.name, corpus_summary=corpus.summary())
    stages = state.setdefault("stages", {})
    plot_training_curves(os.path.join(args.output_dir, "training_log.csv"),
                         os.path.join(args.output_dir, "training_curves.png"))
    if args.eval_samples:
        sampled, _ = sample_smiles(result.model, vocabulary, args.eval_samples, seed=args.seed)
        reference = None
        if args.corpus == "moses":
            test = load_smiles_corpus("moses", split="test", max_molecules=10000,
                                      seed=args.seed, cache_dir=args.cache_dir)
            reference = mol_metrics.reference_statistics(test.smiles)
        metrics["samples"] = mol_metrics.moses_metrics(sampled, train=set(train),
                                                       reference=reference, seed=args.seed)
        metrics["samples"].update(mol_metrics.paper_statistics(sampled))
        os.makedirs(os.path.join(args.output_dir, "samples"), exist_ok=True)
        atomic_write_text(os.path.join(args.output_dir, "samples", "samples.smi"),
                          "\n".join(sampled) + "\n")
    atomic_write_text(os.path.join(args.output_dir, "metrics.json"),
                      json.dumps(metrics, indent=2, default=float))
    stages["samples"] = _samples_stage(args)
    state["finished"] = True
    write_state(args.output_dir, state)
    return metrics


def write_samples(model, directory, num_samples, num_steps, seed):
    """A few melodies sampled from the model (after one random pitch, through the same
    `rollout.play` as every other generation path), as MIDI files."""
    import numpy as np

    from sequence_tutor_tf.music.encoding import NUM_SPECIAL_EVENTS
    from sequence_tutor_tf.music.midi import write_midi
    from sequence_tutor_tf.rl.policy import RolloutPolicy
    from sequence_tutor_tf.rl.priming import RandomTokenPrimer
    from sequence_tutor_tf.rl.rollout import play

    primer = RandomTokenPrimer(model.num_classes,
                               allowed=np.arange(NUM_SPECIAL_EVENTS, model.num_classes))
    played = play(RolloutPolicy(model, model, sample_next_obs=True), primer, num_samples,
                  num_steps - 1, np.random.default_rng(seed))
    events = np.concatenate([played.first_observations[:, None], played.sequences], axis=1)
    return [write_midi(row, os.path.join(directory, f"sample_{i:02d}.mid"))
            for i, row in enumerate(events)]
