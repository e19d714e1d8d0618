"""Playing whole sequences with a policy and no exploration: evaluation, generation, reports.

Kept apart from the training engine so that a tuned model can be evaluated from its run directory
without building a learner or a replay buffer. Every generation path goes through `play`.
"""
import dataclasses

import numpy as np


@dataclasses.dataclass
class Rollout:
    """Sequences played without exploration, with what each step cost under prior and policy.

    `policy_logps - prior_logps`, averaged over the played steps, estimates KL(policy || prior)
    per step: how far tuning moved the model from what it learned from data (the paper's
    "conservative" part); `kls` is the same quantity computed exactly from both distributions.
    Rows that ended early (EOS, or the task reward's `done`) are padded past `lengths` with
    `pad` and zeros.
    """
    sequences: np.ndarray       # int32 [num, length]
    prior_logps: np.ndarray     # log p_prior(token | history), float32 [num, length]
    policy_logps: np.ndarray    # log pi(token | history) of the sampling policy
    task_rewards: object        # float32 [num, length], or None without a task reward
    first_observations: np.ndarray  # int32 [num]: the priming token each sequence follows
    lengths: np.ndarray = None  # int32 [num]: tokens played before the row ended
    kls: np.ndarray = None      # exact KL(policy || prior) per step, float32 [num, length]
    entropies: np.ndarray = None  # entropy of the policy per step, float32 [num, length]
    probs: np.ndarray = None    # the policy's distributions [num, length, V] (keep_probs only)

    def played(self):
        """bool [num, length]: True at the steps each row actually played."""
        return np.arange(self.sequences.shape[1])[None, :] < self.lengths[:, None]


def play(policy, primer, num, length, rng, task_reward=None, sample_next_obs=True, eos=None,
         pad=0, keep_probs=False):
    """Plays `num` sequences of at most `length` tokens in parallel with a `RolloutPolicy`.

    The next token is sampled from the policy's softmax (`sample_next_obs`, as the original's
    evaluation and composition do) or taken greedily. A row ends at `eos` or when the task
    reward says it is done; its remaining steps are padded. `keep_probs` also returns each
    step's distribution (for plots of one or a few sequences).
    """
    obs, q_state, r_state = primer.prime(num, rng, policy.q_network, policy.prior)
    first = np.asarray(obs, np.int32).copy()
    if task_reward is not None:
        task_reward.reset()
    seqs = np.full((num, length), pad, np.int32)
    prior_logps = np.zeros((num, length), np.float32)
    policy_logps = np.zeros((num, length), np.float32)
    kls = np.zeros((num, length), np.float32)
    entropies = np.zeros((num, length), np.float32)
    tasks = np.zeros((num, length), np.float32) if task_reward is not None else None
    lengths = np.full(num, length, np.int32)
    probs = [] if keep_probs else None
    live = np.ones(num, bool)
    zeros = np.zeros(num, np.float32)
    no_notes = np.zeros(num, np.int32)
    rows = np.arange(num)
    for t in range(length):
        step = policy.step(obs, q_state, r_state, zeros, no_notes, rng.random(num), zeros,
                           sample_next_obs=sample_next_obs)
        q_state, r_state, nxt = step.q_state, step.r_state, step.next_obs.numpy()
        done = np.zeros(num, bool) if eos is None else nxt == eos
        if task_reward is not None:
            reward, task_done = task_reward.step(nxt, observations=obs)
            tasks[live, t] = np.asarray(reward)[live]
            done |= np.asarray(task_done, bool)
        seqs[live, t] = nxt[live]
        prior_logps[live, t] = step.logp.numpy()[live]
        policy_logps[live, t] = np.log(np.maximum(step.probs.numpy()[rows, nxt], 1e-30))[live]
        kls[live, t] = step.kl.numpy()[live]
        entropies[live, t] = step.entropy.numpy()[live]
        if keep_probs:
            probs.append(step.probs.numpy())
        ended = live & done
        if ended.any():
            lengths[ended] = t + 1
            live &= ~ended
            if not live.any():
                break
            if task_reward is not None:
                task_reward.reset(ended)    # a finished row must not be scored past its end
        obs = nxt
    if keep_probs:
        probs = np.stack(probs, axis=1)
    return Rollout(seqs, prior_logps, policy_logps, tasks, first, lengths, kls, entropies, probs)
