"""The on-policy engine: whole sequences collected batched with `rl.rollout.play`, one
learner call per batch, and the RLEngine's surface for `tune`'s run directory.

Each engine step plays `num_envs` sequences with the current policy (no exploration beyond
sampling from its softmax), scores every token with the domain's task reward, and hands the
batch to the learner (raml instead draws its sequences from q around training sequences and
scores those). Environment steps are tokens scored by the task reward, the same unit the
off-policy engine counts, so budgets compare one to one. Counters, histories, evaluation, the
step and output callbacks and the checkpoint objects follow `rl.engine.RLEngine`, so
`rl.tuning.tune_run` checkpoints, logs and resumes these runs like the others.
"""
import json
import math

import numpy as np

from sequence_tutor_tf.rl.domain import allowed_actions
from sequence_tutor_tf.rl.engine import COUNTERS, HISTORIES, EvaluationMixin, NonFiniteError
from sequence_tutor_tf.rl.onpolicy import ALGORITHMS
from sequence_tutor_tf.rl.onpolicy.hparams import learner_hparams
from sequence_tutor_tf.rl.policy import RolloutPolicy
from sequence_tutor_tf.rl.priming import RandomTokenPrimer
from sequence_tutor_tf.rl.rollout import play


def make_onpolicy_learner(algorithm, q_network, prior, hparams, reward_scaler=1.0,
                          learning_rate=None, jit_compile=False, action_mask=None,
                          bucket_key=None):
    from sequence_tutor_tf.rl.onpolicy.dap import DAPLearner
    from sequence_tutor_tf.rl.onpolicy.ppo import PPOKLLearner
    from sequence_tutor_tf.rl.onpolicy.raml import RAMLLearner
    from sequence_tutor_tf.rl.onpolicy.reinforce import ReinforceKLLearner
    classes = {"reinforce_kl": ReinforceKLLearner, "ppo_kl": PPOKLLearner, "dap": DAPLearner,
               "raml": RAMLLearner}
    kwargs = dict(learning_rate=learning_rate, jit_compile=jit_compile,
                  action_mask=action_mask, reward_scaler=reward_scaler)
    if algorithm == "dap":
        kwargs["bucket_key"] = bucket_key
    return classes[algorithm](q_network, prior, hparams, **kwargs)


class RecordingPrimer:
    """A primer that remembers the initial states it handed out (the learner recomputes the
    policy's log-probabilities from the same states)."""

    def __init__(self, primer):
        self.primer = primer
        self.q_state = self.r_state = None

    def prime(self, n, rng, q_network, prior):
        obs, q_state, r_state = self.primer.prime(n, rng, q_network, prior)
        self.q_state = np.asarray(q_state, np.float32)
        self.r_state = np.asarray(r_state, np.float32)
        return obs, q_state, r_state


def score_sequences(task_reward, first, sequences, lengths):
    """Per-token task rewards [N, T] of given sequences, fed token by token as `play` does."""
    n, t_max = sequences.shape
    out = np.zeros((n, t_max), np.float32)
    task_reward.reset()
    live = np.ones(n, bool)
    prev = np.asarray(first, np.int32)
    for t in range(t_max):
        reward, done = task_reward.step(sequences[:, t], observations=prev)
        out[live, t] = np.asarray(reward)[live]
        ended = live & (np.asarray(done, bool) | (t + 1 >= lengths))
        live &= ~ended
        if not live.any():
            break
        if ended.any():
            task_reward.reset(ended)
        prev = sequences[:, t]
    return out


class LearnerState:
    """Stands in for the replay buffer in the run directory: the learner's JSON state."""

    def __init__(self, learner):
        self.learner = learner

    def __len__(self):
        return 0

    def state_dict(self):
        return {"replay/capacity": np.array(0),
                "learner/state": np.array(json.dumps(self.learner.state()))}

    def load_state_dict(self, arrays):
        if "learner/state" in arrays:
            self.learner.load_state(json.loads(str(arrays["learner/state"])))


class OnPolicyEngine(EvaluationMixin):
    """Args as RLEngine's where they mean the same; the off-policy ones (dqn_hparams'
    replay, exploration, updates_per_step, overlap) are accepted and unused here; `tune`
    refuses them when a user gives them (cli/tune.py OFFPOLICY_ONLY).

      learner_hparams: 'name=value,...' over the learner's defaults (onpolicy/hparams.py).
      targets: raml only: `targets(n, rng) -> (first [n], sequences [n, T], lengths [n])`,
        training sequences of the domain.
      bucket_key: dap's diversity filter: `bucket_key(sequences, lengths) -> keys`.
    """

    def __init__(self, algorithm, q_network, prior, domain, dqn_hparams=None, primer=None,
                 reward_scaler=1.0, num_envs=256, output_every_nth=1000, eval_num_trials=100,
                 behaviour=None, seed=0, jit_compile=False, learning_rate=None,
                 learner_hparams="", targets=None, bucket_key=None, **unused):
        from sequence_tutor_tf.rl.behaviour import OriginalBehaviour
        from sequence_tutor_tf.rl.hparams import default_dqn_hparams
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {list(ALGORITHMS)}, got {algorithm!r}")
        if algorithm == "raml" and targets is None:
            raise ValueError("raml needs training sequences (the domain's targets)")
        self.algorithm, self.domain = algorithm, domain
        self.hparams = dqn_hparams or default_dqn_hparams()
        self.learner_hparams = learner_hparams_of(algorithm, learner_hparams)
        self.behaviour = behaviour or OriginalBehaviour.fixed()
        self.exploration_mode = "boltzmann"
        self.reward_scaler = float(reward_scaler)
        self.num_envs, self.output_every_nth = int(num_envs), int(output_every_nth)
        self.eval_num_trials = int(eval_num_trials)
        self.rng = np.random.default_rng(seed)
        self.q_network, self.prior = q_network, prior
        mask = domain.action_mask()
        self.learner = make_onpolicy_learner(
            algorithm, q_network, prior, self.learner_hparams, self.reward_scaler,
            learning_rate, jit_compile, mask, bucket_key)
        self.policy = RolloutPolicy(q_network, prior, sample_next_obs=True,
                                    credit_greedy_action=False, jit_compile=jit_compile,
                                    action_mask=mask)
        self.allowed = allowed_actions(mask, domain.num_actions)
        self.primer = primer or RandomTokenPrimer(domain.num_actions, exclude_last=False,
                                                  allowed=self.allowed)
        self.targets = targets
        self.replay = LearnerState(self.learner)
        self.task_reward = domain.make_task_reward(self.num_envs, prior_in_reward=False)
        self._raml_reward = None
        self._eval_rewards = {}
        self.output_callback = self.step_callback = None
        for name in COUNTERS:
            setattr(self, name, 0)
        for name in HISTORIES:
            setattr(self, name, [])
        self.last_losses, self.last_stats, self.last_eval = [], {}, None
        self.last_sequences = self.last_lengths = None
        self._obs = None

    @property
    def pad_token(self):
        return self.domain.vocabulary.fill_id

    def finish_updates(self):
        return np.zeros(0), np.zeros(0)

    # ----- collection -------------------------------------------------------------------------
    def collect(self):
        """A batch of N sequences from the current policy, scored token by token."""
        recorder = RecordingPrimer(self.primer)
        played = play(self.policy, recorder, self.num_envs, self.domain.max_length, self.rng,
                      task_reward=self.task_reward, sample_next_obs=True,
                      eos=self.domain.vocabulary.eos, pad=self.pad_token)
        mask = played.played().astype(np.float32)
        return {"first": played.first_observations, "q_state": recorder.q_state,
                "r_state": recorder.r_state, "actions": played.sequences, "mask": mask,
                "lengths": played.lengths, "task_rewards": played.task_rewards * mask,
                "policy_logps": played.policy_logps * mask,
                "prior_logps": played.prior_logps * mask, "kls": played.kls * mask,
                "entropies": played.entropies * mask, "scored": int(mask.sum())}

    def collect_raml(self):
        """N sequences drawn from q(y | y*) around training sequences (raml.py)."""
        first, targets, lengths = self.targets(self.num_envs, self.rng)
        first = np.asarray(first, np.int32)
        lengths = np.asarray(lengths, np.int32)
        eos = self.domain.vocabulary.eos
        proposals = self.learner.propose(targets, lengths, self.allowed, self.rng, eos)
        k, n, t_max = proposals.shape
        if self._raml_reward is None:
            self._raml_reward = self.domain.make_task_reward(k * n, prior_in_reward=False)
        task = score_sequences(self._raml_reward, np.tile(first, k),
                               proposals.reshape(k * n, t_max), np.tile(lengths, k))
        mask = (np.arange(t_max)[None] < lengths[:, None]).astype(np.float32)
        sequences, task = self.learner.choose(proposals, task.reshape(k, n, t_max), mask,
                                              self.rng)
        zeros_q = np.zeros((n, self.q_network.state_size), np.float32)
        zeros_r = np.zeros((n, self.prior.state_size), np.float32)
        return {"first": first, "q_state": zeros_q, "r_state": zeros_r,
                "actions": sequences.astype(np.int32), "mask": mask, "lengths": lengths,
                "task_rewards": task * mask, "scored": int(k * mask.sum())}

    # ----- the training loop ------------------------------------------------------------------
    def train(self, num_steps=10000, exploration_period=0, enable_random=True,
              evaluate_at_start=True, reset_exploration=True, progress=None):
        """Runs at least `num_steps` environment steps (whole batches of sequences)."""
        if evaluate_at_start and self.eval_num_trials > 0:
            self.evaluate(self.eval_num_trials)
        goal = self.env_steps + int(num_steps)
        while self.env_steps < goal:
            self._train_step(progress)

    def _train_step(self, progress):
        batch = self.collect_raml() if self.algorithm == "raml" else self.collect()
        stats = self.learner.train(batch, self.rng)
        self.last_stats = stats
        for key in ("prior_logps", "kls", "entropies"):     # raml: from its update
            if key in stats:
                batch[key] = stats[key] * batch["mask"]
        steps, start = batch["scored"], self.env_steps
        self.env_steps += steps
        self.actions_executed_so_far += steps
        self.num_times_train_called += 1
        self.iteration += 1
        loss = stats["loss"]
        if not math.isfinite(loss):
            raise NonFiniteError(f"the {self.algorithm} learner's loss became {loss} at env "
                                 f"step {self.env_steps}; the last checkpoint before it is "
                                 f"still in the run directory")
        played = batch["mask"] > 0
        task = batch["task_rewards"][played]
        prior = batch["prior_logps"][played]
        if not (np.isfinite(task).all() and np.isfinite(prior).all()):
            raise NonFiniteError(f"non-finite task reward or prior log-probability at env "
                                 f"step {self.env_steps}")
        total = task * self.reward_scaler + prior
        self.task_reward_last_n += float(task.sum() * self.reward_scaler)
        self.prior_reward_last_n += float(prior.sum())
        self.reward_last_n += float(total.sum())
        self.last_losses = [loss]
        self.last_sequences, self.last_lengths = batch["actions"], batch["lengths"]
        first = max(start, 1)
        crossed = (start + steps - 1) // self.output_every_nth * self.output_every_nth
        output_now = crossed >= first
        info = {"rewards": total, "task_rewards": task, "prior_logp": prior,
                "kl": batch["kls"][played], "entropy": batch["entropies"][played],
                "actions": batch["actions"][played], "losses": [loss],
                "target_values": [float(stats.get("value_mean", loss))],
                "output": output_now, "done": np.ones(len(batch["actions"]), bool),
                "learner": {k: v for k, v in stats.items() if np.isscalar(v)}}
        if output_now:
            self.output()
        if self.step_callback is not None:
            self.step_callback(self, info)
        if progress is not None:
            progress(steps)

    def output(self):
        if self.eval_num_trials > 0:
            self.evaluate(self.eval_num_trials)
        self.rewards_batched.append(self.reward_last_n)
        self.task_rewards_batched.append(self.task_reward_last_n)
        self.prior_rewards_batched.append(self.prior_reward_last_n)
        self.reward_last_n = self.task_reward_last_n = self.prior_reward_last_n = 0.0
        if self.output_callback is not None:
            self.output_callback(self)

    # ----- evaluation and generation ----------------------------------------------------------
    def rollout(self, num, length=None, sample_next_obs=True, score=False):
        return self._play(num, length, sample_next_obs, score)

    def evaluate(self, num_trials=100, sample_next_obs=True):
        played = self.rollout(num_trials, self.domain.max_length, True, score=True)
        self._record_evaluation(played)
        return played.sequences

    def generate(self, num=1, length=None, most_probable=False):
        return self.rollout(num, length, sample_next_obs=not most_probable).sequences


def learner_hparams_of(algorithm, overrides):
    if hasattr(overrides, "values") and not isinstance(overrides, (str, dict)):
        return overrides
    return learner_hparams(algorithm, overrides)
