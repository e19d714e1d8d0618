"""Runs every learner at the same number of environment steps and scores each the same way.

Each (learner, seed) is a normal `tune` run directory under OUTPUT/runs/ (resumable: rerunning
`compare` continues unfinished runs and re-scores finished ones without training them again;
the wall time of the training call is kept in compare_run.json). The untuned prior is scored
as the row "prior". Off-policy learners keep their schedule (the named settings: one update
per train_every_nth steps from a replay); the on-policy ones collect `onpolicy_num_envs`
whole sequences per update (docs/baselines.md).
"""
import csv
import json
import logging
import os
import time

import numpy as np

from sequence_tutor_tf.compare import metrics as metrics_lib
from sequence_tutor_tf.compare.plot import pareto_plot, summarise
from sequence_tutor_tf.rl.hparams import ALGORITHMS, ONPOLICY_ALGORITHMS

log = logging.getLogger("sequence_tutor_tf.compare")
ALL_LEARNERS = ALGORITHMS + ONPOLICY_ALGORITHMS
RUN_FILE = "compare_run.json"
COLUMNS = ("task_reward", "kl_per_token", "entropy_per_token", "prior_logp_per_token",
           "unique_sequences", "distinct_2", "distinct_4", "env_steps", "wall_s")


def _tune(domain_name, config, settings, run_dir, restart, progress, learner_hparams,
          raml_data):
    if config.algorithm in ONPOLICY_ALGORITHMS:
        from sequence_tutor_tf.baselines.tuning import tune_onpolicy
        return tune_onpolicy(domain_name, config, settings, run_dir, settings_name="compare",
                             restart=restart, progress=progress,
                             learner_hparams=learner_hparams.get(config.algorithm, ""),
                             raml_data=raml_data)
    if domain_name == "molecules":
        from sequence_tutor_tf.molecules.tuning import tune_molecules as tune
    else:
        from sequence_tutor_tf.music.tuning import tune_music as tune
    return tune(config, settings, run_dir, settings_name="compare", restart=restart,
                progress=progress)


def score(engine, domain_name, num, rng_seed):
    """Metrics of `num` sequences the engine's policy samples (fixed seed per row)."""
    engine.rng = np.random.default_rng(rng_seed)
    played = engine.rollout(num, score=True)
    out = metrics_lib.rollout_metrics(played)
    domain_fn = (metrics_lib.molecule_metrics if domain_name == "molecules"
                 else metrics_lib.music_metrics)
    out.update(domain_fn(engine.domain, played.sequences, played.lengths))
    return out


def run_one(domain_name, config, settings, run_dir, eval_samples, restart=False,
            progress=False, learner_hparams=None, raml_data=None):
    from sequence_tutor_tf.rl.tuning import finished_steps
    record_path = os.path.join(run_dir, RUN_FILE)
    stored = {}
    if os.path.exists(record_path) and not restart:
        with open(record_path, encoding="utf-8") as f:
            stored = json.load(f)
    done_before = 0 if restart else finished_steps(run_dir)
    start = time.time()
    engine = _tune(domain_name, config, settings, run_dir, restart, progress,
                   learner_hparams or {}, raml_data)
    wall = time.time() - start
    if done_before >= config.training_steps and "wall_s" in stored:
        wall = stored["wall_s"]          # already trained: keep the time it took then
    elif done_before > 0 and "wall_s" in stored:
        wall += stored["wall_s"]         # resumed: both parts
    row = {"learner": config.algorithm, "seed": config.seed, "env_steps": engine.env_steps,
           "wall_s": wall, "run_dir": run_dir}
    row.update(score(engine, domain_name, eval_samples, 10_000 + config.seed))
    with open(record_path, "w", encoding="utf-8") as f:
        json.dump(row, f, indent=2)
    return row


def score_prior(domain_name, config, settings, eval_samples, seed):
    """The untuned prior's row: an on-policy engine before any update acts as the prior."""
    from sequence_tutor_tf.baselines.tuning import build_engine
    engine, _, _ = build_engine(domain_name, config.replace(algorithm="reinforce_kl"), settings)
    row = {"learner": "prior", "seed": seed, "env_steps": 0, "wall_s": 0.0, "run_dir": None}
    row.update(score(engine, domain_name, eval_samples, 10_000 + seed))
    return row


def run_comparison(domain_name, config, settings, output_dir, algorithms=ALL_LEARNERS,
                   seeds=(0,), eval_samples=500, onpolicy_num_envs=128, restart=False,
                   progress=False, learner_hparams=None, raml_data=None):
    """Trains and scores every (learner, seed); writes results.json, results.csv, table.md and
    pareto.png into output_dir; returns the rows."""
    unknown = [a for a in algorithms if a not in ALL_LEARNERS]
    if unknown:
        raise ValueError(f"--algorithms: unknown {unknown}; known: {list(ALL_LEARNERS)}")
    if "raml" in algorithms and domain_name == "music" and not raml_data:
        raise ValueError("--algorithms raml needs --raml-data (training melodies, e.g. demo)")
    os.makedirs(output_dir, exist_ok=True)
    rows = [score_prior(domain_name, config, settings, eval_samples, seeds[0])]
    for seed in seeds:
        for algorithm in algorithms:
            c = config.replace(algorithm=algorithm, seed=int(seed))
            if algorithm in ONPOLICY_ALGORITHMS:
                c = c.replace(num_envs=int(onpolicy_num_envs))
            run_dir = os.path.join(output_dir, "runs", f"{algorithm}-seed{seed}")
            log.info("compare: %s seed %d -> %s", algorithm, seed, run_dir)
            rows.append(run_one(domain_name, c, settings, run_dir, eval_samples, restart,
                                progress, learner_hparams, raml_data))
            write_results(rows, output_dir, domain_name)
    write_results(rows, output_dir, domain_name)
    return rows


def summary_by_learner(rows):
    out = {}
    for name in dict.fromkeys(r["learner"] for r in rows):
        mine = [r for r in rows if r["learner"] == name]
        out[name] = {"kl": summarise(mine, "kl_per_token"),
                     "reward": summarise(mine, "task_reward"), "rows": mine}
    return out


def markdown_table(rows, domain_name):
    extra = sorted({k for r in rows for k in r if k.startswith(f"{domain_name}/")})
    columns = list(COLUMNS) + extra
    lines = ["| learner | seeds | " + " | ".join(c.replace(f"{domain_name}/", "")
                                                  for c in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for name, s in summary_by_learner(rows).items():
        mine = s["rows"]
        cells = []
        for c in columns:
            values = np.array([r.get(c, np.nan) for r in mine], float)
            values = values[np.isfinite(values)]
            if not len(values):     # e.g. QED of a learner with no valid molecule
                cells.append("-")
                continue
            mean, std = float(values.mean()), float(values.std())
            fmt = "{:.0f}" if c in ("env_steps", "wall_s") else "{:.3g}"
            cell = fmt.format(mean)
            if len(mine) > 1 and c not in ("env_steps",):
                cell += " ± " + fmt.format(std)
            cells.append(cell)
        lines.append(f"| {name} | {len(mine)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_results(rows, output_dir, domain_name):
    with open(os.path.join(output_dir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=2)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with open(os.path.join(output_dir, "results.csv"), "w", newline="",
              encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    with open(os.path.join(output_dir, "table.md"), "w", encoding="utf-8") as f:
        f.write(markdown_table(rows, domain_name))
    summary = {k: {"kl": v["kl"], "reward": v["reward"]}
               for k, v in summary_by_learner(rows).items()}
    pareto_plot(summary, os.path.join(output_dir, "pareto.png"),
                title=f"{domain_name}: task reward vs KL per token")
