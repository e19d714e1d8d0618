"""The paper's music experiment end to end: Note RNN, Q / Psi / G tuning over seeds, evaluation on
many compositions, the table beside the paper's, plots, MIDI and a report.

Every stage runs through the same code as the `pretrain` and `tune` commands (each run is one of
their output directories), so a reproduction interrupted anywhere resumes where it stopped: a
finished stage is skipped, an unfinished run continues from its last checkpoint.
"""
import dataclasses
import json
import logging
import os
import time

import numpy as np

from sequence_tutor_tf.utils.files import atomic_write_text

log = logging.getLogger(__name__)

ALGORITHM_COLUMNS = {"q": "Q", "psi": "Psi", "g": "G", "pure_rl": "pure RL"}


@dataclasses.dataclass
class Preset:
    """Step counts of one reproduction. `paper` follows rl_tuner_train.py and the paper."""
    corpus: str
    pretrain_steps: int
    pretrain_steps_per_epoch: int
    training_steps: int
    exploration_steps: int
    output_every_nth: int
    eval_compositions: int
    seeds: int
    num_envs: int


PRESETS = {
    "paper": Preset(corpus="default", pretrain_steps=3000, pretrain_steps_per_epoch=300,
                    training_steps=1_000_000, exploration_steps=500_000,
                    output_every_nth=50_000, eval_compositions=10_000, seeds=3, num_envs=512),
    "quick": Preset(corpus="bach", pretrain_steps=300, pretrain_steps_per_epoch=150,
                    training_steps=20_000, exploration_steps=10_000, output_every_nth=5_000,
                    eval_compositions=1_000, seeds=1, num_envs=256),
}


def run_dirs(output_dir, algorithms, seeds):
    return {(alg, seed): os.path.join(output_dir, "runs", f"{alg}_seed{seed}")
            for alg in algorithms for seed in range(seeds)}


def _cli(argv):
    """Runs one of our commands in this process (same code, same resume behaviour)."""
    from sequence_tutor_tf.cli.main import main
    code = main(argv)
    if code:
        raise RuntimeError(f"`sequence-tutor {' '.join(argv)}` failed with exit code {code}")


def pretrain_stage(output_dir, preset, seed, cache_dir=None):
    """Trains the Note RNN unless a finished one is there; returns its directory."""
    pretrain_dir = os.path.join(output_dir, "note_rnn_pretrain")
    model_dir = os.path.join(pretrain_dir, "note_rnn")
    if os.path.exists(os.path.join(pretrain_dir, "metrics.json")):
        log.info("Note RNN already trained: %s", model_dir)
        return model_dir
    argv = ["pretrain", "--corpus", preset.corpus, "--output-dir", pretrain_dir,
            "--num-training-steps", str(preset.pretrain_steps),
            "--steps-per-epoch", str(preset.pretrain_steps_per_epoch), "--seed", str(seed),
            "--verbose", "2"]
    if cache_dir:
        argv += ["--cache-dir", cache_dir]
    _cli(argv)
    return model_dir


def tune_config(algorithm, preset, seed, settings="paper", fix_quirks=False):
    """The TunerConfig of one reproduction run: the named settings plus the preset's steps."""
    from sequence_tutor_tf.music.tune_settings import SETTINGS
    from sequence_tutor_tf.rl.config import TunerConfig, settings_layer
    from sequence_tutor_tf.utils.dataclass_flags import resolve
    layer = {"algorithm": algorithm, "training_steps": preset.training_steps,
             "exploration_steps": preset.exploration_steps,
             "output_every_nth": preset.output_every_nth, "num_envs": preset.num_envs,
             "seed": seed}
    if fix_quirks:
        layer["fix_quirks"] = True
    return resolve(TunerConfig, settings_layer(SETTINGS, settings), layer)


def tune_stage(note_rnn_dir, run_dir, algorithm, preset, seed, fix_quirks=False,
               settings="paper"):
    from sequence_tutor_tf.music.tune_settings import MusicTuneSettings
    from sequence_tutor_tf.music.tuning import tune_music
    from sequence_tutor_tf.rl.tuning import finished_steps
    if finished_steps(run_dir) >= preset.training_steps:
        log.info("%s already tuned", run_dir)
        return
    config = tune_config(algorithm, preset, seed, settings, fix_quirks)
    tune_music(config, MusicTuneSettings(note_rnn=note_rnn_dir), run_dir,
               settings_name=settings, progress=False)


def tune_settings(algorithm, preset, seed, settings="paper", fix_quirks=False,
                  note_rnn_dir=None):
    """The `tune` settings (flag names) of one reproduction run: tune_config's layer as flags,
    so `tune` resolves the same TunerConfig (tests/test_sweep.py checks it)."""
    values = {"algorithm": algorithm, "training_steps": preset.training_steps,
              "exploration_steps": preset.exploration_steps,
              "output_every_nth": preset.output_every_nth, "num_envs": preset.num_envs,
              "seed": seed, "settings": settings, "note_rnn": note_rnn_dir, "num_samples": 0,
              "progress": False}
    if fix_quirks:
        values["fix_quirks"] = True
    return values


def tune_parallel(note_rnn_dir, dirs, preset, seed, parallel, fix_quirks=False,
                  settings="paper", root=None, progress=print):
    """The tuning stage as a sweep (sequence_tutor_tf.sweep): each unfinished run a `tune`
    process, `parallel['workers']` at a time, or tasks on the Ray cluster at
    `parallel['ray_address']`. Raises RuntimeError naming the runs that failed."""
    from sequence_tutor_tf.rl.tuning import finished_steps
    from sequence_tutor_tf.sweep import failed_runs, run_sweep
    from sequence_tutor_tf.sweep.grid import RunSpec, tune_argv
    specs = []
    for (alg, s), run_dir in sorted(dirs.items()):
        if finished_steps(run_dir) >= preset.training_steps:
            continue
        values = tune_settings(alg, preset, seed + s, settings, fix_quirks, note_rnn_dir)
        run_dir = os.path.abspath(run_dir)
        specs.append(RunSpec(os.path.basename(run_dir), run_dir,
                             {"algorithm": alg, "seed": seed + s, "settings": settings},
                             values, tune_argv(values, run_dir)))
    if not specs:
        return
    summary = run_sweep(specs, root or os.path.dirname(os.path.dirname(specs[0].run_dir)),
                        workers=parallel.get("workers") or 1,
                        ray_address=parallel.get("ray_address"),
                        cpus_per_run=parallel.get("cpus_per_run") or 1, progress=progress)
    failed = failed_runs(summary)
    if failed:
        raise RuntimeError(f"tuning runs failed: {', '.join(failed)} (see their sweep.log)")


def load_policy(model_dir=None, run_dir=None):
    """The sampling policy of a Note RNN (MLE row) or of a tuned run, as the original samples:
    softmax(Q), or softmax(Q + prior logits) for G-learning with its own (trained) prior."""
    from sequence_tutor_tf.models.loading import load_note_rnn_any
    from sequence_tutor_tf.rl.policy import RolloutPolicy
    from sequence_tutor_tf.rl.run_dir import load_tuned
    if run_dir is None:
        q = load_note_rnn_any(model_dir)
        return RolloutPolicy(q, q, sample_next_obs=True)
    algorithm, q, prior, _ = load_tuned(run_dir)
    return RolloutPolicy(q, prior, add_prior_to_scores=(algorithm == "g"), sample_next_obs=True)


def reference_log_probs(note_rnn, rollout, batch=2000):
    """log p(event | history) of the rollout's sequences under the pretrained Note RNN.

    Scored by the Note RNN itself rather than by the run's Reward RNN, which G-learning moves
    (docs/differences/rl.md): the paper's conservativeness is distance from the data prior.
    """
    from sequence_tutor_tf._tf import tf
    inputs = np.concatenate([rollout.first_observations[:, None], rollout.sequences[:, :-1]], 1)
    out = []
    for start in range(0, len(inputs), batch):
        logits = note_rnn(tf.constant(inputs[start:start + batch]))
        logp = tf.nn.log_softmax(logits).numpy()
        rows = rollout.sequences[start:start + batch]
        out.append(np.take_along_axis(logp, rows[..., None], axis=-1)[..., 0])
    return np.concatenate(out)


def evaluate_policy(policy, note_rnn, num_compositions, seed, length=32, batch=2000):
    """Composes `num_compositions` pieces (random first note, sampled notes, as the original's
    compute_composition_stats) and scores them. Returns (stat_dict, extras, sequences)."""
    from sequence_tutor_tf.music.metrics import compute_composition_stats
    from sequence_tutor_tf.music.priming import RandomNotePrimer
    from sequence_tutor_tf.rl.rollout import play

    from sequence_tutor_tf.music.domain import MusicDomain
    rng = np.random.default_rng(seed)
    primer = RandomNotePrimer(policy.q_network.num_classes)
    domain = MusicDomain(length)
    parts = [play(policy, primer, n, length, rng,
                  task_reward=domain.make_task_reward(n, prior_in_reward=False))
             for n in (min(batch, num_compositions - start)
                       for start in range(0, num_compositions, batch))]
    sequences = np.concatenate([p.sequences for p in parts])
    reference = np.concatenate([reference_log_probs(note_rnn, p) for p in parts])
    own = np.concatenate([p.policy_logps for p in parts])
    entropy = np.concatenate([p.entropies for p in parts])
    theory = np.concatenate([p.task_rewards.sum(1) for p in parts])
    extras = {"music_theory_reward_per_composition": float(theory.mean()),
              "prior_log_likelihood_per_note": float(reference.mean()),
              "kl_from_prior_per_note": float((own - reference).mean()),
              "policy_entropy_per_note": float(entropy.mean())}
    return compute_composition_stats(sequences), extras, sequences


def probabilities_along(policy, events):
    """The policy's next-event distribution at each step of one composition (for the figure)."""
    from sequence_tutor_tf._tf import tf
    q_state = policy.q_network.zero_state(1)
    r_state = policy.prior.zero_state(1)
    rows = []
    previous = np.array([events[0]], np.int32)
    for event in events[1:]:
        scores, _, q_state, r_state = policy.scores(tf.constant(previous), q_state, r_state)
        rows.append(tf.nn.softmax(scores)[0].numpy())
        previous = np.array([event], np.int32)
    return np.stack(rows)


def reproduce_music(output_dir, preset, algorithms=("q", "psi", "g"), note_rnn_dir=None,
                    seed=0, cache_dir=None, progress=print, fix_quirks=False, settings="paper",
                    parallel=None):
    """Runs the whole experiment with the named settings (rl/config.py); returns the path of
    report.md. `parallel` ({'workers': N} or {'ray_address': ...}): tune the runs as a sweep
    (tune_parallel) instead of one after another in this process."""
    from sequence_tutor_tf.reproduce import report

    os.makedirs(output_dir, exist_ok=True)
    timings = {}
    t0 = time.time()
    given_note_rnn = note_rnn_dir
    if note_rnn_dir is None:
        progress("[1/4] Note RNN: pretraining by MLE")
        note_rnn_dir = pretrain_stage(output_dir, preset, seed, cache_dir)
    timings["pretrain_s"] = time.time() - t0

    dirs = run_dirs(output_dir, algorithms, preset.seeds)
    t1 = time.time()
    if parallel:
        progress(f"[2/4] tuning {len(dirs)} runs in parallel: {preset.training_steps} steps each")
        tune_parallel(note_rnn_dir, dirs, preset, seed, parallel, fix_quirks, settings,
                      root=output_dir, progress=progress)
    for i, ((alg, s), run_dir) in enumerate(sorted(dirs.items()) if not parallel else [],
                                            start=1):
        progress(f"[2/4] tuning {alg} seed {s} ({i}/{len(dirs)}): "
                 f"{preset.training_steps} steps")
        tune_stage(note_rnn_dir, run_dir, alg, preset, seed + s, fix_quirks, settings)
    timings["tune_s"] = time.time() - t1

    t2 = time.time()
    progress(f"[3/4] evaluating each model on {preset.eval_compositions} compositions")
    stats, extras, samples, policies = {"MLE": []}, {"MLE": []}, {}, {}
    mle_policy = load_policy(model_dir=note_rnn_dir)
    note_rnn = mle_policy.q_network
    for s in range(preset.seeds):
        st, ex, seqs = evaluate_policy(mle_policy, note_rnn, preset.eval_compositions,
                                       seed + 1000 + s)
        stats["MLE"].append(st)
        extras["MLE"].append(ex)
        samples.setdefault("MLE", seqs[:4])
    policies["MLE"] = mle_policy
    for (alg, s), run_dir in sorted(dirs.items(), key=lambda item: (
            list(ALGORITHM_COLUMNS).index(item[0][0]), item[0][1])):
        column = ALGORITHM_COLUMNS[alg]
        policy = load_policy(run_dir=run_dir)
        st, ex, seqs = evaluate_policy(policy, note_rnn, preset.eval_compositions,
                                       seed + 1000 + s)
        stats.setdefault(column, []).append(st)
        extras.setdefault(column, []).append(ex)
        samples.setdefault(column, seqs[:4])
        policies.setdefault(column, policy)
    timings["evaluate_s"] = time.time() - t2

    progress("[4/4] writing the table, plots, MIDI and report")
    path = report.write_report(output_dir, preset, stats, extras, samples, policies, dirs,
                               timings, probabilities_along, settings=settings,
                               note_rnn=given_note_rnn)
    timings["total_s"] = time.time() - t0
    atomic_write_text(os.path.join(output_dir, "timings.json"), json.dumps(timings, indent=2))
    return path


def reproduce_both(output_dir, preset, algorithms=("q", "psi", "g"), note_rnn_dir=None, seed=0,
                   cache_dir=None, progress=print, fix_quirks=False, parallel=None):
    """`paper` and `code` settings on one Note RNN, each into its own subdirectory; report.md
    puts both tables side by side. Returns its path."""
    os.makedirs(output_dir, exist_ok=True)
    if note_rnn_dir is None:
        progress("Note RNN: pretraining by MLE (shared by both settings)")
        note_rnn_dir = pretrain_stage(output_dir, preset, seed, cache_dir)
    reports = {}
    for settings in ("paper", "code"):
        progress(f"== settings {settings} ==")
        reports[settings] = reproduce_music(
            os.path.join(output_dir, settings), preset, algorithms, note_rnn_dir=note_rnn_dir,
            seed=seed, cache_dir=cache_dir, progress=progress,
            fix_quirks=fix_quirks and settings == "code", settings=settings,
            parallel=parallel)
    lines = ["# Sequence Tutor music reproduction: paper and code settings", ""]
    for settings, path in reports.items():
        with open(os.path.join(os.path.dirname(path), "table.md"), encoding="utf-8") as f:
            table_md = f.read()
        lines += [f"## Settings `{settings}` ([full report]({settings}/report.md))", "",
                  table_md, ""]
    path = os.path.join(output_dir, "report.md")
    atomic_write_text(path, "\n".join(lines))
    return path

