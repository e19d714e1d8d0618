"""Exploration schedules of the original: egreedy with linear annealing from 1.0, or boltzmann."""


def linear_annealing(n, total, p_initial, p_final):
    """p_initial at n=0 down to p_final at n=total, constant after (rl_tuner_ops semantics)."""
    if n >= total:
        return p_final
    return p_initial - (n * (p_initial - p_final)) / total


class ExplorationSchedule:
    """Probability of a random action as a function of actions executed so far.

    egreedy anneals 1.0 -> random_action_probability over `exploration_period` actions. boltzmann
    never acts at random (the next observation is sampled from the policy instead): always 0.
    """

    def __init__(self, mode, exploration_period, random_action_probability):
        if mode not in ("egreedy", "boltzmann"):
            raise ValueError(f"exploration_mode must be 'egreedy' or 'boltzmann', got {mode!r}")
        if exploration_period < 0:
            raise ValueError(f"exploration_period must be >= 0, got {exploration_period}")
        self.mode = mode
        self.exploration_period = exploration_period
        self.random_action_probability = random_action_probability

    def epsilon(self, actions_executed):
        if self.mode == "boltzmann":
            return 0.0
        return linear_annealing(actions_executed, self.exploration_period, 1.0,
                                self.random_action_probability)
