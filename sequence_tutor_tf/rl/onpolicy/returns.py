"""Per-token rewards, returns, baselines and GAE for whole sequences (NumPy, before an update).

r_t = reward_scaler * task_t - kl_coef * (log pi(a_t) - log p_prior(a_t)): the RLHF recipe's
per-token KL penalty with the sampled estimator (Ziegler et al. 2019). Its expectation over the
policy is the exact KL, so E[sum_t r_t] = reward_scaler * E[R] - kl_coef * KL(pi || p).
"""
import numpy as np


def kl_penalised_rewards(task, policy_logps, prior_logps, mask, reward_scaler, kl_coef):
    return mask * (reward_scaler * task - kl_coef * (policy_logps - prior_logps))


def rewards_to_go(rewards):
    """G_t = sum_{u >= t} r_u per row (rewards are 0 past a row's end)."""
    return np.cumsum(rewards[:, ::-1], axis=1)[:, ::-1]


def leave_one_out_baseline(returns, mask):
    """b_{i,t}: the mean return-to-go at step t over the other rows that played step t (RLOO's
    baseline per time step); unbiased, since it does not depend on row i's actions."""
    played = mask.sum(0, keepdims=True)
    total = (returns * mask).sum(0, keepdims=True)
    others = np.maximum(played - mask, 1.0)
    return np.where(played > 1, (total - returns * mask) / others, 0.0) * mask


def gae(rewards, values, mask, gamma=1.0, lam=0.95):
    """(advantages, returns) by generalized advantage estimation; V = 0 past a row's end."""
    n, t_max = rewards.shape
    values = values * mask
    adv = np.zeros((n, t_max), np.float32)
    last = np.zeros(n, np.float32)
    for t in reversed(range(t_max)):
        nxt = values[:, t + 1] if t + 1 < t_max else np.zeros(n, np.float32)
        delta = rewards[:, t] + gamma * nxt - values[:, t]
        last = (delta + gamma * lam * last) * mask[:, t]
        adv[:, t] = last
    return adv, (adv + values) * mask


def whiten(x, mask, eps=1e-8):
    """(x - mean) / std over the played tokens (TRL whitens advantages per batch)."""
    m = mask.astype(bool)
    if m.sum() < 2:
        return x * mask
    mean, std = x[m].mean(), x[m].std()
    return (x - mean) / (std + eps) * mask
