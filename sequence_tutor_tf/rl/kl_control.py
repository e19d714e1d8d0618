"""The KL-control reward, in one place: r = log p_prior(a|s) + reward_scaler * r_task.

Q and Psi-learning put the prior's log-probability in the reward (the paper's eq. for KL-control
with c = 1 / reward_scaler). G-learning keeps the prior out of the reward: it enters the target
(learners.py); pure RL has no prior at all. A domain's task reward may still opt out of the prior
term (`TaskReward.adds_prior`), which is how the original's music reward modes without it stay
expressible.
"""
import numpy as np

# Algorithms whose reward holds the prior's log-probability.
PRIOR_IN_REWARD = frozenset({"q", "psi"})


def prior_in_reward(algorithm):
    return algorithm in PRIOR_IN_REWARD


def compose_reward(task_reward, prior_logp, reward_scaler, add_prior):
    """Total reward: `task * reward_scaler (+ log p_prior)`, for floats or [N] arrays (the
    dtype follows the inputs).

    The operations are the original's `collect_reward`, in its order, so its floats match.
    """
    scaled = np.multiply(task_reward, reward_scaler)
    return scaled + prior_logp if add_prior else scaled
