"""One tuning run in a run directory, for any domain: lock, resume, train, checkpoint, log.

`tune_run` is what the `tune` command and `reproduce` call (a domain module builds the engine:
music/tuning.py). It refuses a directory another process is using, resumes an interrupted run
only when the stored configuration agrees with the new one, checkpoints at every output, and
writes TensorBoard scalars under domain-neutral names in the convention of TRL's dashboard:
objective/scores (task reward), objective/logprior, objective/kl and objective/entropy (exact,
from the policy's and the prior's distributions), plus each reward component's mean and how often
it fires, and a histogram of the emitted tokens.
"""
import logging
import os

import numpy as np

from sequence_tutor_tf.rl import config as config_lib
from sequence_tutor_tf.rl import run_dir as rd

log = logging.getLogger("sequence_tutor_tf.tune")


class TensorBoardLogger:
    """Scalars averaged over blocks of about `every` env steps."""

    def __init__(self, log_dir, exploration_period, every=1000):
        from sequence_tutor_tf._tf import tf
        self.tf = tf
        self.writer = tf.summary.create_file_writer(log_dir)
        self.exploration_period = exploration_period
        self.every = every
        self._reset()

    def _reset(self):
        self.n = 0
        self.sums = {"objective/total": 0.0, "objective/scores": 0.0,
                     "objective/logprior": 0.0, "objective/kl": 0.0, "objective/entropy": 0.0}
        self.components = {}
        self.tokens = []
        self.losses, self.targets = [], []

    def on_step(self, engine, info):
        self.n += len(info["rewards"])
        self.sums["objective/total"] += float(np.sum(info["rewards"]))
        self.sums["objective/scores"] += float(np.sum(info["task_rewards"])) * \
            engine.reward_scaler
        self.sums["objective/logprior"] += float(np.sum(info["prior_logp"]))
        self.sums["objective/kl"] += float(np.sum(info["kl"]))
        self.sums["objective/entropy"] += float(np.sum(info["entropy"]))
        for name, values in getattr(engine.task_reward, "components", {}).items():
            total, fired = self.components.get(name, (0.0, 0))
            values = np.asarray(values)
            self.components[name] = (total + float(values.sum()),
                                     fired + int(np.count_nonzero(values)))
        self.tokens.append(np.asarray(info["actions"]))
        self.losses.extend(info["losses"])
        self.targets.extend(info["target_values"])
        if self.n >= self.every:
            self.flush(engine)

    def flush(self, engine):
        from sequence_tutor_tf.rl.exploration import ExplorationSchedule
        if not self.n:
            return
        tf, step = self.tf, engine.env_steps
        eps = ExplorationSchedule(engine.exploration_mode, self.exploration_period,
                                  engine.hparams.random_action_probability).epsilon(
                                      engine.actions_executed_so_far)
        with self.writer.as_default():
            for k, v in self.sums.items():
                tf.summary.scalar(k, v / self.n, step=step)
            for name, (total, fired) in sorted(self.components.items()):
                tf.summary.scalar(f"reward_components/{name}/mean", total / self.n, step=step)
                tf.summary.scalar(f"reward_components/{name}/fires", fired / self.n, step=step)
            if self.tokens:
                tf.summary.histogram("tokens", np.concatenate(self.tokens).astype(np.float32),
                                     step=step, buckets=engine.domain.num_actions)
            if self.losses:
                tf.summary.scalar("loss", float(np.mean(self.losses)), step=step)
                tf.summary.scalar("target_value", float(np.mean(self.targets)), step=step)
            tf.summary.scalar("exploration_probability", eps, step=step)
            if engine.eval_avg_reward:
                tf.summary.scalar("eval/total", engine.eval_avg_reward[-1], step=step)
                tf.summary.scalar("eval/scores", engine.eval_avg_task_reward[-1], step=step)
                tf.summary.scalar("eval/logprior", engine.eval_avg_prior_reward[-1], step=step)
                played = getattr(engine, "last_eval", None)
                if played is not None and played.kls is not None:
                    mask = played.played()
                    tf.summary.scalar("eval/kl", float(played.kls[mask].mean()), step=step)
                    tf.summary.scalar("eval/entropy", float(played.entropies[mask].mean()),
                                      step=step)
        self.writer.flush()
        self._reset()


def check_resume(run_dir, record, settings_defaults=None):
    """Raises RunDirError listing the settings that differ from the stored run's.

    `settings_defaults`: the domain settings' defaults, which a run stored before that setting
    existed is taken to have had."""
    stored = rd.read_config(run_dir)
    if stored is None or "config" not in stored:
        return
    diffs = config_lib.differences(
        dict(stored.get("config", {}), domain=stored.get("domain"),
             **{f"domain.{k}": v for k, v in (stored.get("domain_settings") or {}).items()}),
        dict(record["config"], domain=record.get("domain"),
             **{f"domain.{k}": v for k, v in (record.get("domain_settings") or {}).items()}),
        defaults={f"domain.{k}": v for k, v in (settings_defaults or {}).items()})
    if diffs:
        listed = "; ".join(f"{k}: stored {a!r}, now {b!r}" for k, a, b in diffs)
        raise rd.RunDirError(
            f"{run_dir} holds a run with other settings ({listed}); rerun with the stored "
            f"settings to resume, pass --restart to start over there, or use another "
            f"--output-dir")


def tune_run(engine, run_dir, record, restart=False, progress=True, plot_labels=None,
             write_samples=None, num_samples=0, settings_defaults=None):
    """Trains `engine` in `run_dir` to record['config']['training_steps'] env steps.

    `record` is what tuner_config.json holds (configuration, domain settings, legacy keys);
    `settings_defaults` the domain settings' defaults (check_resume).
    `write_samples(sequences, directory)` writes `num_samples` samples at the end.
    Returns the engine.
    """
    config = record["config"]
    training_steps = int(config["training_steps"])
    with rd.RunLock(run_dir):
        resumed = rd.has_train_state(run_dir) and not restart
        if resumed:
            check_resume(run_dir, record, settings_defaults)
            rd.remove_stale_temporaries(run_dir)
            rd.load_train_state(engine, run_dir)
            log.info("resuming from env step %d of %d", engine.env_steps, training_steps)
        logger = TensorBoardLogger(os.path.join(run_dir, "logs"), config["exploration_steps"])
        engine.step_callback = logger.on_step
        name = config["algorithm"]

        def checkpoint(eng):
            logger.flush(eng)
            rd.save_networks(eng, run_dir, record)
            rd.save_train_state(eng, run_dir)
            rd.save_plots(eng, os.path.join(run_dir, "plots"), name, plot_labels)
        engine.output_callback = checkpoint

        remaining = training_steps - engine.env_steps
        if remaining > 0:
            bar = None
            if progress:
                from tqdm import tqdm
                bar = tqdm(total=training_steps, initial=engine.env_steps, unit="step",
                           desc=f"tune {name}")
            try:
                engine.train(remaining, config["exploration_steps"],
                             evaluate_at_start=not resumed, reset_exploration=not resumed,
                             progress=None if bar is None else bar.update)
            finally:
                if bar is not None:
                    bar.close()
        logger.flush(engine)
        rd.save_networks(engine, run_dir, record)
        rd.save_train_state(engine, run_dir)
        rd.save_plots(engine, os.path.join(run_dir, "plots"), name, plot_labels)
        if num_samples > 0 and write_samples is not None:
            write_samples(engine.generate(num_samples), os.path.join(run_dir, "samples"))
    return engine


def finished_steps(run_dir):
    """Env steps a run directory's resumable state has reached (0 when it has none)."""
    meta = rd.read_meta(run_dir)
    return 0 if meta is None else int(meta["counters"]["env_steps"])
