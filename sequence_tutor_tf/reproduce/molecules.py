"""The paper's molecule experiment end to end: a SMILES prior by MLE on MOSES, Q / Psi / G / pure
RL tuning over seeds with the research code's settings, evaluation of each model's samples, and
a report (table, reward curves, property histograms, a grid of molecules, samples as CSV).

Every stage resumes: a finished prior is reused, a finished run skipped, an unfinished one
continued from its last checkpoint. Samples are scored on their final SMILES: % valid, the
properties of the valid ones, MOSES-style uniqueness, novelty and internal diversity, the exact
KL per token from the prior, and the reward a finished molecule earns (10 m + 600 + length
penalty if valid, the length penalty if not; the research code's terminal reward).
"""
import dataclasses
import json
import logging
import os
import time

import numpy as np

from sequence_tutor_tf.utils.files import atomic_write_text

log = logging.getLogger(__name__)

COLUMNS = {"mle": "MLE", "q": "Q", "psi": "Psi", "g": "G", "pure_rl": "pure RL"}
ROWS = (("percent_valid", "% valid", 1), ("mean_logp", "logP (valid)", 3),
        ("mean_sa", "SA (valid)", 3), ("mean_qed", "QED (valid)", 3),
        ("mean_ring_penalty", "ring penalty (valid)", 3),
        ("percent_no_ring_over_6", "% no ring > 6", 1), ("mean_length", "mean length", 1),
        ("unique", "unique", 3), ("novelty", "novelty", 3), ("int_div1", "IntDiv", 3),
        ("kl_per_token", "KL per token from prior", 3), ("mean_reward", "mean final reward", 1))


@dataclasses.dataclass
class Preset:
    molecules: int              # training molecules (MOSES train, seeded subsample)
    rnn_layer_sizes: tuple
    pretrain_steps: int
    pretrain_steps_per_epoch: int
    training_steps: int
    output_every_nth: int
    num_envs: int
    minibatch_size: int
    eval_samples: int
    seeds: int
    # XLA for the learner and policy: compiling costs more than it saves in runs as short as
    # the quick preset's (measured: 29 s with, 23 s without, for one quick Q run).
    jit: bool = True


PRESETS = {
    # The research code trains 2.5M steps per run with minibatch 512; at 2 cores that would
    # take days for 4 algorithms x 3 seeds, so the full preset trains 100k steps per run and
    # scores 2,000 samples per model (RDKit's QED alone costs about 15 ms a molecule here);
    # docs/results.md states the time it took.
    "paper": Preset(molecules=200_000, rnn_layer_sizes=(100,), pretrain_steps=3000,
                    pretrain_steps_per_epoch=500, training_steps=100_000,
                    output_every_nth=25_000, num_envs=256, minibatch_size=512,
                    eval_samples=2_000, seeds=3),
    "quick": Preset(molecules=3_000, rnn_layer_sizes=(64,), pretrain_steps=200,
                    pretrain_steps_per_epoch=100, training_steps=2_048, output_every_nth=1_024,
                    num_envs=128, minibatch_size=128, eval_samples=300, seeds=1, jit=False),
}


def tune_config(algorithm, preset, seed, settings="paper"):
    from sequence_tutor_tf.molecules.tune_settings import SETTINGS
    from sequence_tutor_tf.rl.config import TunerConfig, layer_over, settings_layer
    from sequence_tutor_tf.utils.dataclass_flags import resolve
    return resolve(TunerConfig, layer_over(settings_layer(SETTINGS, settings), {
        "algorithm": algorithm, "training_steps": preset.training_steps,
        "hparams": f"minibatch_size={preset.minibatch_size}",
        "output_every_nth": preset.output_every_nth, "num_envs": preset.num_envs,
        "eval_trials": 64, "seed": seed, "jit": preset.jit}))


def prior_stage(output_dir, preset, seed, progress, cache_dir=None):
    """Trains the SMILES prior unless it is there; returns (prior dir, train SMILES, test SMILES)."""
    from sequence_tutor_tf.molecules.data import load_smiles_corpus
    from sequence_tutor_tf.molecules.prior import split_by_batches, train_prior
    from sequence_tutor_tf.molecules.vocabulary import make_vocabulary
    vocabulary = make_vocabulary("faithful")
    corpus = load_smiles_corpus("moses", vocabulary=vocabulary, max_molecules=preset.molecules,
                                seed=seed, cache_dir=cache_dir)
    test = load_smiles_corpus("moses", vocabulary=vocabulary, split="test",
                              max_molecules=min(10_000, preset.molecules), seed=seed,
                              cache_dir=cache_dir)
    progress(corpus.summary())
    train_idx, val_idx, _ = split_by_batches(len(corpus.smiles), seed=seed)
    smiles = corpus.smiles
    directory = os.path.join(output_dir, "prior")
    train_prior([smiles[i] for i in train_idx], [smiles[i] for i in val_idx], vocabulary,
                directory, preset.pretrain_steps, preset.pretrain_steps_per_epoch,
                rnn_layer_sizes=preset.rnn_layer_sizes, seed=seed,
                # One line per epoch, as the music reproduction's prior stage prints: the full
                # preset's prior trains for about 18 minutes here.
                verbose=2)
    return os.path.join(directory, "note_rnn"), smiles, test.smiles


def evaluate_model(q, prior, vocabulary, add_prior, num, seed, train_set, reference):
    """Samples `num` molecules of one model and scores them (see the module docstring)."""
    from sequence_tutor_tf.molecules import metrics
    from sequence_tutor_tf.molecules.domain import MoleculeDomain
    from sequence_tutor_tf.molecules.properties import compute_properties
    from sequence_tutor_tf.molecules.rewards import length_penalty_for_tokens
    from sequence_tutor_tf.rl.policy import RolloutPolicy
    from sequence_tutor_tf.rl.rollout import play
    domain = MoleculeDomain(vocabulary)
    policy = RolloutPolicy(q, prior, add_prior_to_scores=add_prior, sample_next_obs=True,
                           action_mask=domain.action_mask())
    played = play(policy, domain.make_primer(), num, domain.max_length,
                  np.random.default_rng(seed), eos=vocabulary.eos, pad=vocabulary.fill_id)
    smiles = domain.decode(played.sequences, played.lengths)
    properties = compute_properties(smiles)
    stats = metrics.paper_statistics(smiles, properties)
    moses = metrics.moses_metrics(smiles, train=train_set, reference=reference,
                                  intdiv_max_molecules=2000, seed=seed)
    mask = played.played()
    valid = properties["valid"]
    penalty = length_penalty_for_tokens(played.lengths)
    final = np.where(valid, 10 * np.nan_to_num(properties["score"]) + 600 + penalty, penalty)
    stats.update(unique=moses["unique@1k"] if len(smiles) >= 1000 else
                 metrics.fraction_unique([s for s, v in zip(smiles, valid) if v], len(smiles)),
                 novelty=moses["novelty"], int_div1=moses["int_div1"],
                 filters=moses["filters"], kl_per_token=float(played.kls[mask].mean()),
                 entropy_per_token=float(played.entropies[mask].mean()),
                 mean_reward=float(final.mean()))
    return stats, smiles, properties


def _fmt(values, digits):
    values = np.asarray([v for v in values if v is not None and np.isfinite(v)], float)
    if not len(values):
        return "n/a"
    text = f"{values.mean():.{digits}f}"
    return text + (f" +- {values.std():.{digits}f}" if len(values) > 1 else "")


def markdown_table(stats):
    models = list(stats)
    lines = ["| metric | " + " | ".join(models) + " |", "|---" * (len(models) + 1) + "|"]
    for key, label, digits in ROWS:
        lines.append(f"| {label} | " + " | ".join(_fmt([s.get(key) for s in stats[m]], digits)
                                                  for m in models) + " |")
    return "\n".join(lines)


def _plots(output_dir, samples, test_smiles, run_dirs, reference_size=2000):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sequence_tutor_tf.molecules.properties import compute_properties
    from sequence_tutor_tf.rl.run_dir import read_meta
    plots = os.path.join(output_dir, "plots")
    os.makedirs(plots, exist_ok=True)
    # The data's histograms from as many test molecules as each model is scored on, at most
    # 2,000 (RDKit costs about 10 ms a valid molecule: 2,000 took 21 s of a quick run).
    data = compute_properties(test_smiles[:reference_size])
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, name in zip(axes, ("logp", "sa", "qed")):
        ax.hist(data[name][data["valid"]], bins=40, density=True, histtype="step", lw=2,
                color="black", label="MOSES test")
        for model, (_, properties) in samples.items():
            ax.hist(properties[name][properties["valid"]], bins=40, density=True,
                    histtype="step", label=model)
        ax.set(title=name, xlabel=name)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(plots, "property_histograms.png"), dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    for (alg, seed), run_dir in sorted(run_dirs.items()):
        meta = read_meta(run_dir)
        curve = meta["histories"]["eval_avg_task_reward"] if meta else []
        ax.plot(np.arange(len(curve)), curve, marker=".", label=f"{alg} seed {seed}")
    ax.set(xlabel="evaluation", ylabel="mean task reward (x reward_scaler)",
           title="evaluation reward during tuning")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(plots, "reward_curves.png"), dpi=100)
    plt.close(fig)
    from rdkit import Chem
    from rdkit.Chem import Draw
    mols, legends = [], []
    for model, (smiles, properties) in samples.items():
        picked = [s for s, v in zip(smiles, properties["valid"]) if v][:6]
        for s in picked:
            mols.append(Chem.MolFromSmiles(s))
            legends.append(model)
    if mols:
        Draw.MolsToGridImage(mols, molsPerRow=6, subImgSize=(220, 180),
                             legends=legends).save(os.path.join(plots, "molecules.png"))


def _write_samples(output_dir, samples):
    import csv
    directory = os.path.join(output_dir, "samples")
    os.makedirs(directory, exist_ok=True)
    for model, (smiles, p) in samples.items():
        with open(os.path.join(directory, f"{model.replace(' ', '_').lower()}.csv"), "w",
                  newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["smiles", "valid", "logp", "sa", "qed", "ring_penalty", "score"])
            for i, s in enumerate(smiles):
                ok = bool(p["valid"][i])
                w.writerow([s, int(ok)] + [f"{p[k][i]:.4f}" if ok else "" for k in
                                           ("logp", "sa", "qed", "ring_penalty", "score")])


def reproduce_molecules(output_dir, preset, algorithms=("q", "psi", "g", "pure_rl"), seed=0,
                        settings="paper", progress=print, cache_dir=None):
    """Runs the whole experiment; returns the path of report.md."""
    from sequence_tutor_tf.molecules.metrics import reference_statistics
    from sequence_tutor_tf.molecules.prior import load_prior
    from sequence_tutor_tf.molecules.tune_settings import MoleculeTuneSettings
    from sequence_tutor_tf.molecules.tuning import tune_molecules
    from sequence_tutor_tf.rl.run_dir import load_tuned
    from sequence_tutor_tf.rl.tuning import finished_steps
    os.makedirs(output_dir, exist_ok=True)
    t0, timings = time.time(), {}
    progress("[1/4] SMILES prior: MLE on MOSES")
    prior_dir, train_smiles, test_smiles = prior_stage(output_dir, preset, seed, progress,
                                                       cache_dir)
    timings["prior_s"] = time.time() - t0
    t1 = time.time()
    run_dirs = {(alg, s): os.path.join(output_dir, "runs", f"{alg}_seed{s}")
                for alg in algorithms for s in range(preset.seeds)}
    for i, ((alg, s), run_dir) in enumerate(sorted(run_dirs.items()), start=1):
        progress(f"[2/4] tuning {alg} seed {s} ({i}/{len(run_dirs)}): "
                 f"{preset.training_steps} steps")
        if finished_steps(run_dir) < preset.training_steps:
            tune_molecules(tune_config(alg, preset, seed + s, settings),
                           MoleculeTuneSettings(prior=prior_dir), run_dir,
                           settings_name=settings, progress=False)
    timings["tune_s"] = time.time() - t1
    t2 = time.time()
    progress(f"[3/4] evaluating each model on {preset.eval_samples} samples")
    prior, vocabulary = load_prior(prior_dir)
    train_set = set(train_smiles)
    reference = reference_statistics(test_smiles[:5000])
    stats, samples = {}, {}
    for s in range(preset.seeds):
        st, smi, props = evaluate_model(prior, prior, vocabulary, False, preset.eval_samples,
                                        seed + 1000 + s, train_set, reference)
        stats.setdefault("MLE", []).append(st)
        samples.setdefault("MLE", (smi, props))
    for (alg, s), run_dir in sorted(run_dirs.items(),
                                    key=lambda kv: (list(COLUMNS).index(kv[0][0]), kv[0][1])):
        algorithm, q, run_prior, _ = load_tuned(run_dir)
        st, smi, props = evaluate_model(q, run_prior, vocabulary, algorithm == "g",
                                        preset.eval_samples, seed + 1000 + s, train_set,
                                        reference)
        stats.setdefault(COLUMNS[alg], []).append(st)
        samples.setdefault(COLUMNS[alg], (smi, props))
    timings["evaluate_s"] = time.time() - t2
    progress("[4/4] writing the table, plots, samples and report")
    table = markdown_table(stats)
    atomic_write_text(os.path.join(output_dir, "table.md"), table + "\n")
    atomic_write_text(os.path.join(output_dir, "stats.json"),
                      json.dumps(stats, indent=2, default=float))
    _plots(output_dir, samples, test_smiles, run_dirs,
           reference_size=min(2000, preset.eval_samples))
    _write_samples(output_dir, samples)
    timings["total_s"] = time.time() - t0
    images = sorted(f for f in os.listdir(os.path.join(output_dir, "plots")) if
                    f.endswith(".png"))
    report = ["# Sequence Tutor molecule reproduction", "",
              f"Settings `{settings}` (molecules/tune_settings.py); preset "
              f"`{json.dumps(dataclasses.asdict(preset))}`.", "",
              "Mean +- std over seeds; properties over valid molecules; KL is the exact KL of "
              "the sampling policy from the prior per generated token; the final reward is the "
              "research code's terminal reward of each sampled molecule.", "",
              table, "", "## Figures", ""]
    report += [f"![{img}](plots/{img})" for img in images]
    report += ["", "Samples (with properties) are in `samples/*.csv`; each run's checkpoints "
               "and TensorBoard logs under `runs/`.", "",
               f"Timings (s): `{json.dumps({k: round(v, 1) for k, v in timings.items()})}`",
               ""]
    path = os.path.join(output_dir, "report.md")
    atomic_write_text(path, "\n".join(report))
    atomic_write_text(os.path.join(output_dir, "timings.json"), json.dumps(timings, indent=2))
    return path
