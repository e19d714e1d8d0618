"""Playing whole sequences with a policy and no exploration: evaluation, generation, reports.

Kept apart from the training engine so that a tuned model can be evaluated from its run directory
without building a learner or a replay buffer.
"""
import dataclasses

import numpy as np


@dataclasses.dataclass
class Rollout:
    """Sequences played without exploration, with what each step cost under prior and policy.

    `policy_logps - prior_logps`, averaged, estimates KL(policy || prior) per step: how far tuning
    moved the model from what it learned from data (the paper's "conservative" part).
    """
    sequences: np.ndarray       # int32 [num, length]
    prior_logps: np.ndarray     # log p_prior(event | history), float32 [num, length]
    policy_logps: np.ndarray    # log pi(event | history) of the sampling policy
    task_rewards: object        # float32 [num, length], or None without a task reward
    first_observations: np.ndarray  # int32 [num]: the priming event each sequence follows


def play(policy, primer, num, length, rng, task_reward=None, sample_next_obs=True):
    """Plays `num` sequences of `length` events in parallel with a `RolloutPolicy`.

    The next event is sampled from the policy's softmax (`sample_next_obs`, as the original's
    evaluation and composition do) or taken greedily.
    """
    obs, q_state, r_state = primer.prime(num, rng, policy.q_network, policy.prior)
    first = np.asarray(obs, np.int32).copy()
    if task_reward is not None:
        task_reward.reset()
    seqs = np.zeros((num, length), np.int32)
    prior_logps = np.zeros((num, length), np.float32)
    policy_logps = np.zeros((num, length), np.float32)
    tasks = np.zeros((num, length), np.float32) if task_reward is not None else None
    zeros = np.zeros(num, np.float32)
    no_notes = np.zeros(num, np.int32)
    rows = np.arange(num)
    for t in range(length):
        step = policy.step(obs, q_state, r_state, zeros, no_notes, rng.random(num), zeros,
                           sample_next_obs=sample_next_obs)
        q_state, r_state, nxt = step.q_state, step.r_state, step.next_obs.numpy()
        if task_reward is not None:
            tasks[:, t] = task_reward.step(nxt, observations=obs)
        seqs[:, t], prior_logps[:, t] = nxt, step.logp.numpy()
        policy_logps[:, t] = np.log(np.maximum(step.probs.numpy()[rows, nxt], 1e-30))
        obs = nxt
    return Rollout(seqs, prior_logps, policy_logps, tasks, first)
