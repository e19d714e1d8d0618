"""The batched RL engine: N sequences in parallel, replay, and a learner on the original's schedule.

One engine step = one compiled rollout call for all N sequences, a NumPy task reward, a batched
replay add and, when due, K learner updates fused into one compiled call. With N=1 the order of
acting, storing, evaluating and training is the original's `train()` loop step for step: the
update counter follows `training_step` (train when the call count is a multiple of
train_every_nth; the counter waits while the replay holds fewer than minibatch_size). With N>1 the
same ratio of updates to environment steps holds unless `updates_per_step` asks for another.

With `overlap_collection`, step t's updates run on a worker thread while step t+1 is collected
(background_updates.py); the acting networks are copies refreshed after each batch of updates, so
the policy acts with weights one batch of updates older than the synchronous schedule's.
"""
import math

import numpy as np

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.rl.background_updates import BackgroundUpdates
from sequence_tutor_tf.rl.behaviour import OriginalBehaviour
from sequence_tutor_tf.rl.domain import allowed_actions
from sequence_tutor_tf.rl.exploration import ExplorationSchedule
from sequence_tutor_tf.rl.hparams import (ALGORITHMS, EXPLORATION_MODES, check_choice,
                                          validate_dqn_hparams)
from sequence_tutor_tf.rl.kl_control import compose_reward, prior_in_reward
from sequence_tutor_tf.rl.learners import make_learner
from sequence_tutor_tf.rl.policy import RolloutPolicy
from sequence_tutor_tf.rl.priming import RandomTokenPrimer
from sequence_tutor_tf.rl.replay import REPLAY_KINDS, make_replay
from sequence_tutor_tf.rl.rollout import play
from sequence_tutor_tf.rl.specs import transition_spec

MAX_FUSED_UPDATES = 256

# Attributes that make up the engine's resumable bookkeeping (saved by run_dir.py). "task" is
# the domain's reward times reward_scaler, "prior" the prior's log p(a|s), "reward" their
# KL-control total.
COUNTERS = ("actions_executed_so_far", "num_times_store_called", "num_times_train_called",
            "iteration", "env_steps", "reward_last_n", "task_reward_last_n",
            "prior_reward_last_n", "pending_updates")
HISTORIES = ("rewards_batched", "task_rewards_batched", "prior_rewards_batched",
             "eval_avg_reward", "eval_avg_task_reward", "eval_avg_prior_reward",
             "target_val_list")
# The music-named keys of earlier versions (and of magenta's RLTuner), for run directories
# written before the rename and for the drop-in RLTuner's attributes.
LEGACY_NAMES = {"music_theory_reward_last_n": "task_reward_last_n",
                "note_rnn_reward_last_n": "prior_reward_last_n",
                "music_theory_rewards_batched": "task_rewards_batched",
                "note_rnn_rewards_batched": "prior_rewards_batched",
                "eval_avg_music_theory_reward": "eval_avg_task_reward",
                "eval_avg_note_rnn_reward": "eval_avg_prior_reward"}


class EvaluationMixin:
    """Scored rollouts and the evaluation histories, shared by RLEngine and the on-policy
    engine (rl/onpolicy/engine.py). Uses the engine's policy, primer, domain, rng, pad_token,
    reward_scaler, behaviour, eval_avg_* lists and its `_eval_rewards` cache."""

    def _play(self, num, length, sample_next_obs, score):
        reward = None
        if score:
            if num not in self._eval_rewards:
                self._eval_rewards[num] = self.domain.make_task_reward(num, prior_in_reward=False)
            reward = self._eval_rewards[num]
        return play(self.policy, self.primer, num, length or self.domain.max_length, self.rng,
                    task_reward=reward, sample_next_obs=sample_next_obs,
                    eos=self.domain.vocabulary.eos, pad=self.pad_token)

    def _record_evaluation(self, played):
        """Appends one evaluation's mean total, prior and task reward per sequence (the last
        step's only under `eval_last_step_only`, as the original)."""
        logps, task = played.prior_logps, played.task_rewards * self.reward_scaler
        if self.behaviour.eval_last_step_only:
            rows, last = np.arange(len(played.lengths)), played.lengths - 1
            prior, task = logps[rows, last], task[rows, last]
        else:
            prior, task = logps.sum(1), task.sum(1)
        self.eval_avg_reward.append(float(np.mean(prior + task)))
        self.eval_avg_prior_reward.append(float(np.mean(prior)))
        self.eval_avg_task_reward.append(float(np.mean(task)))
        self.last_eval = played


class RLEngine(EvaluationMixin):
    """Collection + learning for one algorithm on one domain.

    Each of the N rows is an episode of its own: it ends when the domain's task reward says so
    (or at the domain's max_length), is stored with a per-row terminal, and only the finished
    rows are primed afresh. Music's compositions all end together, so its schedule is the
    original's.

    Args:
      algorithm: 'q', 'psi', 'g' or 'pure_rl'.
      q_network, prior: NoteRNN-like models; the target network starts as a copy of q_network.
      domain: a `domain.Domain` (vocabulary, max_length, action mask, task reward).
      primer: how sequences start (priming.py); a random token by default.
      reward_scaler: weight of the task reward in the KL-control reward (1/c in the paper).
      num_envs: sequences played in parallel (1 = the original's schedule exactly).
      updates_per_step: learner updates per environment step; None keeps 1 / train_every_nth.
      output_every_nth: env steps between evaluations / reward batches (the original's).
      eval_num_trials: compositions per evaluation (the original's evaluate_model default 100).
      overlap_collection: run each step's updates on a worker thread while the next step is
        collected (a second CPU core); the policy then acts one batch of updates behind.
      learning_rate: Adam's (None: TF1 AdamOptimizer's 0.001, as the original).
      replay: 'uniform' (the original's) or 'prioritized' (the molecule research code's:
        priority (|TD error| + 0.01)^0.5, drawn proportionally, no importance weights; each new
        transition gets the TD error of a forward pass over the stored batch, each sampled one
        the TD error after its update).
    """

    def __init__(self, algorithm, q_network, prior, domain, dqn_hparams, primer=None,
                 reward_scaler=1.0, exploration_mode="egreedy",
                 stochastic_observations=False, num_envs=1, updates_per_step=None,
                 output_every_nth=1000, eval_num_trials=100, behaviour=None, seed=0,
                 jit_compile=False, target_network=None, overlap_collection=False,
                 learning_rate=None, replay="uniform"):
        check_choice("algorithm", algorithm, ALGORITHMS)
        check_choice("replay", replay, REPLAY_KINDS)
        if replay == "prioritized" and overlap_collection:
            raise ValueError("replay=prioritized cannot run with overlap_collection: new "
                             "transitions' priorities are computed with the networks the "
                             "worker thread is updating")
        check_choice("exploration_mode", exploration_mode, EXPLORATION_MODES)
        self.hparams = validate_dqn_hparams(dqn_hparams)
        if isinstance(num_envs, bool) or int(num_envs) != num_envs or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        if updates_per_step is not None and not updates_per_step > 0:
            raise ValueError(f"updates_per_step must be > 0 (or None for 1/train_every_nth), "
                             f"got {updates_per_step!r}")
        if int(output_every_nth) < 1:
            raise ValueError(f"output_every_nth must be >= 1, got {output_every_nth!r}")
        self.algorithm = algorithm
        self.domain = domain
        self.behaviour = behaviour or OriginalBehaviour()
        self.reward_scaler = float(reward_scaler)
        if not math.isfinite(self.reward_scaler):
            raise ValueError(f"reward_scaler must be a finite number, got {reward_scaler!r}")
        self.exploration_mode = exploration_mode
        self.stochastic_observations = bool(stochastic_observations)
        self.num_envs = int(num_envs)
        self.updates_per_step = updates_per_step
        self.output_every_nth = int(output_every_nth)
        self.eval_num_trials = int(eval_num_trials)
        self.rng = np.random.default_rng(seed)

        self.q_network = q_network
        self.prior = prior
        self.target_network = target_network or q_network.copy(name="target_q_network")
        mask = domain.action_mask()
        self.learner = make_learner(algorithm, q_network, self.target_network, prior,
                                    self.hparams, self.behaviour, jit_compile=jit_compile,
                                    action_mask=mask, learning_rate=learning_rate)
        self.overlap_collection = bool(overlap_collection)
        acting_q, acting_prior, self._acting_pairs = q_network, prior, []
        if self.overlap_collection:
            # The policy reads copies, so that the worker's updates never tear its weights.
            acting_q = q_network.copy(name="acting_q_network")
            self._acting_pairs = list(zip(acting_q.weights, q_network.weights))
            if self.learner.train_prior:
                acting_prior = prior.copy(name="acting_reward_rnn")
                self._acting_pairs += list(zip(acting_prior.weights, prior.weights))
            self._copy_acting_weights = tf.function(self._copy_acting_weights_impl)
        self.policy = RolloutPolicy(
            acting_q, acting_prior, add_prior_to_scores=(algorithm == "g"),
            sample_next_obs=(exploration_mode == "boltzmann" or self.stochastic_observations),
            credit_greedy_action=self.behaviour.credit_greedy_action, jit_compile=jit_compile,
            action_mask=mask)
        explore = domain.exploration_actions()
        if explore is None and mask is not None:
            explore = allowed_actions(mask, domain.num_actions)
        self.random_notes = RandomTokenPrimer(
            domain.num_actions, self.behaviour.random_note_excludes_last, allowed=explore)
        self.primer = primer or self.random_notes
        self.replay = make_replay(replay, self.hparams.max_experience,
                                  transition_spec(q_network.state_size, prior.state_size))
        self.prioritized = replay == "prioritized"
        self._background = BackgroundUpdates(self.learner) if self.overlap_collection else None
        self.task_reward = domain.make_task_reward(self.num_envs,
                                                   prior_in_reward=prior_in_reward(algorithm))
        self._add_prior = prior_in_reward(algorithm) and getattr(self.task_reward, "adds_prior",
                                                                 True)
        self._eval_rewards = {}
        self.output_callback = None        # called with the engine after each evaluation
        self.step_callback = None          # called with (engine, info) after each engine step
        for name in COUNTERS:
            setattr(self, name, 0)
        for name in HISTORIES:
            setattr(self, name, [])
        self.last_losses = []
        self.last_sequences = None      # the rows that finished at the latest engine step
        self.last_lengths = None
        self._obs = None

    @property
    def last_compositions(self):
        return self.last_sequences

    @property
    def pad_token(self):
        return self.domain.vocabulary.fill_id

    # ----- sequences --------------------------------------------------------------------------
    def reset_sequences(self, mask=None):
        """Primes every row afresh, or only the rows where the bool mask [N] is True."""
        n, width = self.num_envs, self.domain.max_length
        if mask is None or self._obs is None or mask.all():
            self._obs, self._q_state, self._r_state = self.primer.prime(
                n, self.rng, self.q_network, self.prior)
            self._obs = np.array(self._obs, np.int32)
            self._q_state, self._r_state = np.array(self._q_state), np.array(self._r_state)
            self._positions = np.zeros(n, np.int64)
            self._sequences = np.full((n, width), self.pad_token, np.int32)
            self.task_reward.reset()
            return
        rows = np.flatnonzero(mask)
        obs, q_state, r_state = self.primer.prime(len(rows), self.rng, self.q_network,
                                                  self.prior)
        self._obs[rows], self._q_state[rows], self._r_state[rows] = obs, q_state, r_state
        self._positions[rows] = 0
        self._sequences[rows] = self.pad_token
        self.task_reward.reset(mask)

    reset_compositions = reset_sequences

    def _epsilons(self, n, exploration_period, enable_random):
        if not enable_random or self.exploration_mode == "boltzmann":
            return np.zeros(n, np.float32)
        sched = ExplorationSchedule(self.exploration_mode, exploration_period,
                                    self.hparams.random_action_probability)
        start = self.actions_executed_so_far + 1     # action() counts before annealing
        return np.array([sched.epsilon(start + j) for j in range(n)], np.float32)

    # ----- one engine step ----------------------------------------------------------------------
    def collect_step(self, exploration_period, enable_random=True):
        n = self.num_envs
        if self._obs is None:
            self.reset_sequences()
        epsilon = self._epsilons(n, exploration_period, enable_random)
        self.actions_executed_so_far += n
        step = self.policy.step(
            self._obs, self._q_state, self._r_state, self.rng.random(n),
            self.random_notes.random_notes(n, self.rng), self.rng.random(n), epsilon)
        action, next_obs = step.action.numpy(), step.next_obs.numpy()
        q_new, r_new, logp = step.q_state.numpy(), step.r_state.numpy(), step.logp.numpy()
        task, done = self.task_reward.step(next_obs, observations=self._obs)
        task = np.asarray(task)
        total = np.asarray(compose_reward(task, logp, self.reward_scaler, self._add_prior),
                           np.float32)
        check_finite_rewards(task, logp, total, self.env_steps)
        self.prior_reward_last_n += float(np.sum(logp))
        self.task_reward_last_n += float(np.sum(task * self.reward_scaler))
        self.reward_last_n += float(np.sum(total))
        rows = np.arange(n)
        self._sequences[rows, self._positions] = next_obs
        self._positions += 1
        done = np.asarray(done, bool) | (self._positions >= self.domain.max_length)
        self._store(action, total, next_obs, q_new, r_new, done)
        self._obs, self._q_state, self._r_state = next_obs, q_new, r_new
        return {"rewards": total, "task_rewards": task, "prior_logp": logp, "done": done,
                "terminal": bool(done.all()), "kl": step.kl.numpy(),
                "entropy": step.entropy.numpy(), "actions": next_obs}

    def _store(self, action, reward, next_obs, q_new, r_new, done):
        n = self.num_envs
        keep = (self.num_times_store_called + np.arange(n)) % self.hparams.store_every_nth == 0
        self.num_times_store_called += n
        if not keep.any():
            return
        batch = {
            "observations": self._obs[keep], "states": self._q_state[keep],
            "actions": action[keep], "rewards": reward[keep].astype(np.float32),
            "new_observations": next_obs[keep], "new_states": q_new[keep],
            "new_reward_states": r_new[keep],
            "terminals": np.asarray(done, np.float32)[keep]}
        if self.prioritized:
            # The research code's store() runs a TD-error forward pass per transition; one
            # batched pass over the kept rows gives the same values (without its int cast of
            # the reward, docs/differences/molecules.md).
            td = self.learner.td_errors(batch)
            self._check_td(td, "a stored transition's")
            self.replay.add_batch(batch, td_errors=td)
        else:
            self.replay.add_batch(batch)

    # ----- learning ---------------------------------------------------------------------------
    def updates_due(self):
        """Advances the training-call counter by N calls; returns how many updates run now."""
        n, nth = self.num_envs, self.hparams.train_every_nth
        ready = len(self.replay) >= self.hparams.minibatch_size
        start = self.num_times_train_called
        if self.updates_per_step is not None:
            self.num_times_train_called += n
            if not ready:
                return 0
            r = self.updates_per_step
            return int(math.floor((start + n) * r + 1e-9) - math.floor(start * r + 1e-9))
        if not ready:   # the original returns before counting while the replay is too small
            self.num_times_train_called = start + (-start) % nth
            return 0
        self.num_times_train_called += n
        return -(-(start + n) // nth) - -(-start // nth)   # multiples of nth in [start, start+n)

    def _draw_update_indices(self, k):
        """Replay slots for k updates, in chunks of at most MAX_FUSED_UPDATES minibatches."""
        chunks = []
        while k > 0:
            chunk = min(k, MAX_FUSED_UPDATES)
            chunks.append(self.replay.sample_indices(self.hparams.minibatch_size, self.rng,
                                                     num_batches=chunk))
            k -= chunk
        return chunks

    def _minibatches(self, k):
        """Minibatches for k updates: dicts of [chunk, minibatch_size, ...] arrays."""
        fields = getattr(self.learner, "fields", None)
        return [self.replay.gather(idx, fields) for idx in self._draw_update_indices(k)]

    def run_updates(self, k):
        """k learner updates now, on this thread; returns (losses, target means) [k]."""
        if self.prioritized:
            return self._record(self._prioritized_updates(k))
        return self._record([self.learner.train(b) for b in self._minibatches(k)])

    def _prioritized_updates(self, k):
        """k updates in chunks, each chunk drawn with the priorities the previous one left;
        the sampled slots then take their post-update TD errors' priorities."""
        fields = getattr(self.learner, "fields", None)
        results = []
        while k > 0:
            chunk = min(k, MAX_FUSED_UPDATES)
            idx = self.replay.sample_indices(self.hparams.minibatch_size, self.rng,
                                             num_batches=chunk)
            losses, targets, td = self.learner.train(self.replay.gather(idx, fields),
                                                     td_errors=True)
            self._check_td(td, "a replayed transition's post-update")
            self.replay.update_priorities(idx, td)
            results.append((losses, targets))
            k -= chunk
        return results

    def _check_td(self, td, what):
        if not np.isfinite(td).all():
            raise NonFiniteError(
                f"{what} TD error became {td[~np.isfinite(td)][0]} at env step "
                f"{self.env_steps} (prioritized replay); the last checkpoint before it is still "
                f"in the run directory")

    def _record(self, results):
        """Bookkeeping of finished updates: the original's target_val_list and counters."""
        if not results:
            return np.zeros(0), np.zeros(0)
        losses = np.concatenate([l for l, _ in results])
        targets = np.concatenate([t for _, t in results])
        nth = self.hparams.train_every_nth
        for t in targets:
            if (self.iteration * nth) % self.output_every_nth == 0:
                self.target_val_list.append(float(t))
            self.iteration += 1
        self.last_losses = losses
        return losses, targets

    def finish_updates(self):
        """Waits for background updates, records them and refreshes the acting copies.

        Returns their (losses, targets); a no-op returning empty arrays without overlap.
        Everything that reads the networks or saves state calls this first.
        """
        if self._background is None:
            return np.zeros(0), np.zeros(0)
        done = self._record(self._background.result())
        self._copy_acting_weights()
        return done

    def _copy_acting_weights_impl(self):
        for acting, learned in self._acting_pairs:
            acting.assign(learned)

    # ----- the training loop ------------------------------------------------------------------
    def train(self, num_steps=10000, exploration_period=5000, enable_random=True,
              evaluate_at_start=True, reset_exploration=True, progress=None):
        """Runs `num_steps` environment steps (rounded up to a multiple of num_envs)."""
        self.finish_updates()            # acting copies match a restored or changed network
        if self.pending_updates:         # a resumed run: the updates its checkpoint preceded
            due, self.pending_updates = self.pending_updates, 0
            self.run_updates(due)
            self.finish_updates()
        if evaluate_at_start and self.eval_num_trials > 0:
            self.evaluate(self.eval_num_trials)
        if reset_exploration:
            self.actions_executed_so_far = 0
        self.reset_sequences()
        n = self.num_envs
        try:
            for _ in range(int(math.ceil(num_steps / n))):
                self._train_step(n, exploration_period, enable_random, progress)
        finally:
            self.finish_updates()

    def _train_step(self, n, exploration_period, enable_random, progress):
        start = self.env_steps
        info = self.collect_step(exploration_period, enable_random)
        self.env_steps += n
        # The original evaluates at step i > 0 with i % output_every_nth == 0.
        first = max(start, 1)
        crossed = (start + n - 1) // self.output_every_nth * self.output_every_nth
        output_now = crossed >= first
        due = self.updates_due()
        if output_now:
            # The original evaluates (and the tune command checkpoints) before this step's
            # updates: a checkpoint records them as pending, so that a resumed run runs them.
            self.pending_updates = due
            self.output()
            self.pending_updates = 0
        if self._background is None:
            losses, targets = self.run_updates(due)
        else:   # the previous step's updates end; this step's run beside the next collection
            minibatches = self._minibatches(due)
            losses, targets = self.finish_updates()
            if minibatches:
                self._background.start(minibatches)
        if len(losses) and not np.isfinite(losses).all():
            raise NonFiniteError(
                f"the {self.algorithm} learner's loss became {losses[~np.isfinite(losses)][0]} "
                f"at env step {self.env_steps}; the last checkpoint before it is still in the "
                f"run directory")
        info.update(losses=losses, target_values=targets, output=output_now)
        if self.step_callback is not None:
            self.step_callback(self, info)
        if progress is not None:
            progress(n)
        done = info["done"]
        if done.any():
            self.last_sequences = self._sequences[done].copy()
            self.last_lengths = self._positions[done].astype(np.int32)
        if output_now:      # the original starts a new composition after each evaluation
            self.reset_sequences()
        elif done.any():
            self.reset_sequences(done)

    def output(self):
        """Evaluation and reward batching every output_every_nth steps (the original's)."""
        self.finish_updates()     # evaluation and the callback's checkpoint see settled networks
        if self.eval_num_trials > 0:
            self.evaluate(self.eval_num_trials)
        if self.algorithm == "g":     # the original plots G's task reward plus its prior term
            self.rewards_batched.append(self.task_reward_last_n + self.prior_reward_last_n)
        else:
            self.rewards_batched.append(self.reward_last_n)
        self.task_rewards_batched.append(self.task_reward_last_n)
        self.prior_rewards_batched.append(self.prior_reward_last_n)
        # Zeroed before the callback, which may checkpoint: a resumed run must not count the
        # window it just recorded a second time.
        self.reward_last_n = self.task_reward_last_n = self.prior_reward_last_n = 0.0
        if self.output_callback is not None:
            self.output_callback(self)

    # ----- evaluation and generation ----------------------------------------------------------
    def rollout(self, num, length=None, sample_next_obs=True, score=False):
        """Plays `num` sequences without exploration; returns a `rollout.Rollout`.

        With `score`, each step is scored by the domain's task reward without the prior term
        (the original evaluates with 'music_theory_only')."""
        self.finish_updates()
        return self._play(num, length, sample_next_obs, score)

    def evaluate(self, num_trials=100, sample_next_obs=True):
        """The original's evaluate_model, all trials in parallel; returns the sequences."""
        if self.exploration_mode == "boltzmann":
            sample_next_obs = True       # action() forces sampling in boltzmann mode
        played = self.rollout(num_trials, self.domain.max_length, sample_next_obs, score=True)
        self._record_evaluation(played)
        if self.behaviour.eval_advances_exploration:
            self.actions_executed_so_far += int(played.lengths.sum())
        return played.sequences

    def generate(self, num=1, length=None, most_probable=False):
        """Sequences [num, length] sampled from the policy (argmax if most_probable)."""
        return self.rollout(num, length, sample_next_obs=not most_probable).sequences


class NonFiniteError(ValueError):
    """Training met NaN or inf: a user reward, a reward_scaler, or a diverging learner."""


def check_finite_rewards(task, prior_logp, total, env_step):
    """Stops a run whose rewards went NaN or infinite, naming the part and the step (a user
    reward returning inf would otherwise train every weight to NaN; TF-Agents' check_numerics
    is the convention)."""
    if np.isfinite(total).all():
        return
    for name, part in (("task reward", task), ("prior log-probability", prior_logp),
                       ("total reward", total)):
        bad = np.flatnonzero(~np.isfinite(part))
        if bad.size:
            raise NonFiniteError(
                f"non-finite {name} {part[bad[0]]!r} in row {int(bad[0])} at env step "
                f"{env_step}; the last checkpoint before it is still in the run directory")
