"""The SMILES prior: the same Keras LSTM family as the Note RNN, trained by MLE on a corpus.

Faithful settings (the research code's smiles_rnn): one LSTM of 100 units, batch 128, Adam with
learning rate 0.01 decayed x0.85 every 1,000 steps (staircase), global-norm clip 5, no L2, and
the data split by batches of 128 into train / validation / test with probabilities 0.6 / 0.2 /
0.2. With the `faithful` vocabulary every training sequence starts with one random priming token
(ids 1..33, drawn once per molecule), as every RL episode does; with `atoms` it starts at BOS.
The checkpoint carries the vocabulary (note_rnn_config.json), so `tune`, `generate` and `export`
know its tokens.
"""
import logging
import os

import numpy as np

log = logging.getLogger(__name__)

RESEARCH_SPLIT = (0.6, 0.2, 0.2)
SPLIT_BATCH = 128


def prior_hparams(vocabulary, rnn_layer_sizes=(100,), batch_size=128):
    """default_hparams() with the research code's SMILES settings."""
    from sequence_tutor_tf.models.hparams import default_hparams
    hp = default_hparams()
    hp.one_hot_length = vocabulary.size
    hp.rnn_layer_sizes = [int(u) for u in rnn_layer_sizes]
    hp.batch_size = int(batch_size)
    hp.l2_reg = 0.0
    hp.skip_first_n_losses = 0
    hp.initial_learning_rate = 0.01
    hp.decay_steps = 1000
    hp.decay_rate = 0.85
    hp.clip_norm = 5
    return hp


def split_by_batches(n, seed=0, batch=SPLIT_BATCH, probabilities=RESEARCH_SPLIT):
    """(train, validation, test) index arrays: consecutive batches of `batch` molecules, each
    assigned at random with the research code's probabilities."""
    rng = np.random.default_rng(seed)
    starts = np.arange(0, n, batch)
    which = rng.choice(3, size=len(starts), p=probabilities)
    parts = [[], [], []]
    for start, w in zip(starts, which):
        parts[w].append(np.arange(start, min(start + batch, n)))
    out = tuple(np.concatenate(p) if p else np.zeros(0, np.int64) for p in parts)
    if not len(out[0]) or not len(out[1]):
        # Too few batches for the random split (a small corpus): cut the last batch off.
        cut = max(1, n // 5)
        return np.arange(n - cut), np.arange(n - cut, n), np.zeros(0, np.int64)
    return out


def training_sequences(smiles, vocabulary, seed=0):
    """Token id sequences the prior is trained on: [priming token or BOS] tokens EOS."""
    from sequence_tutor_tf.molecules.domain import MoleculeDomain
    rng = np.random.default_rng(seed)
    primer = MoleculeDomain(vocabulary).make_primer()
    out = []
    for s in smiles:
        ids = vocabulary.encode(s)
        if vocabulary.bos is None:
            first = primer.random_notes(1, rng)
            ids = np.concatenate([first, ids])
        out.append(ids.astype(np.int32))
    return out


def train_prior(train_smiles, val_smiles, vocabulary, output_dir, num_training_steps=3000,
                steps_per_epoch=300, rnn_layer_sizes=(100,), batch_size=128, seed=0,
                strategy=None, verbose=1, state=None):
    """Trains (or resumes, or finds finished) a SMILES prior; returns training.mle's MLEResult."""
    from sequence_tutor_tf.training.mle import train_note_rnn
    from sequence_tutor_tf.training.sequence_dataset import make_sequence_dataset
    hp = prior_hparams(vocabulary, rnn_layer_sizes, batch_size)
    length = vocabulary.max_length + 1
    train = make_sequence_dataset(training_sequences(train_smiles, vocabulary, seed),
                                  vocabulary.size, hp.batch_size, shuffle=True, seed=seed,
                                  repeat=True, max_length=length, what="molecule")
    val = make_sequence_dataset(training_sequences(val_smiles, vocabulary, seed + 1),
                                vocabulary.size, hp.batch_size, shuffle=False,
                                max_length=length, what="molecule")
    return train_note_rnn(train, val, hp, output_dir, num_training_steps, steps_per_epoch,
                          strategy=strategy, verbose=verbose, state=state,
                          extra_config={"domain": "molecules",
                                        "vocabulary": vocabulary.metadata()})


def load_prior(directory):
    """(model, vocabulary) of a prior written by `train_prior` (or a tuned run's network)."""
    from sequence_tutor_tf.models.checkpoints import load_note_rnn
    from sequence_tutor_tf.models.note_rnn import read_model_config
    from sequence_tutor_tf.molecules.vocabulary import vocabulary_from_metadata
    config = read_model_config(directory)
    meta = config.get("vocabulary")
    if not isinstance(meta, dict):
        raise ValueError(f"{directory}: its {os.path.basename(directory)}/note_rnn_config.json "
                         "names no SMILES vocabulary; expected a prior trained with "
                         "`pretrain --domain molecules`")
    vocabulary = vocabulary_from_metadata(meta)
    model, _ = load_note_rnn(directory)
    if model.num_classes != vocabulary.size or model.input_size != vocabulary.size:
        raise ValueError(f"{directory}: the model has {model.num_classes} classes but its "
                         f"vocabulary {vocabulary.size} tokens")
    return model, vocabulary


def sample_smiles(model, vocabulary, num, seed=0, batch=2000, prior=None):
    """(smiles list, Rollout list) of `num` molecules sampled from the model's softmax."""
    from sequence_tutor_tf.molecules.domain import MoleculeDomain
    from sequence_tutor_tf.rl.policy import RolloutPolicy
    from sequence_tutor_tf.rl.rollout import play
    domain = MoleculeDomain(vocabulary)
    policy = RolloutPolicy(model, prior or model, sample_next_obs=True,
                           action_mask=domain.action_mask())
    rng = np.random.default_rng(seed)
    parts = [play(policy, domain.make_primer(), min(batch, num - start), domain.max_length, rng,
                  eos=vocabulary.eos, pad=vocabulary.fill_id)
             for start in range(0, num, batch)]
    smiles = []
    for p in parts:
        smiles += domain.decode(p.sequences, p.lengths)
    return smiles, parts
