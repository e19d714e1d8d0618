"""What the RL engine needs to know about a sequence domain, and nothing about music.

A domain supplies the vocabulary size, a batched task reward, how task reward and the prior's
log-probability combine (priming is the engine's `primer`), and how finished sequences are turned
into metrics or files. Music is `music_domain.MusicDomain`; a SMILES domain fits the same shape.
"""
import abc


class TaskReward(abc.ABC):
    """Batched task reward over N sequences in parallel."""

    @abc.abstractmethod
    def reset(self, mask=None):
        """Starts the sequences selected by the boolean mask [N] (all if None) afresh."""

    @abc.abstractmethod
    def step(self, actions, observations=None):
        """Reward [N] for playing `actions` after the sequence so far, then appends them."""


class Domain(abc.ABC):
    num_actions = None
    sequence_length = None

    @abc.abstractmethod
    def make_task_reward(self, batch_size, reward_mode):
        """A TaskReward for `batch_size` parallel sequences."""

    @abc.abstractmethod
    def combine_rewards(self, reward_mode, prior_logp, task_reward, reward_scaler):
        """Total reward per step, [N] arrays in and out."""

    def effective_reward_mode(self, algorithm, reward_mode):
        return reward_mode

    def sequence_metrics(self, sequences):
        """Optional summary statistics of finished sequences [N, T]; {} by default."""
        return {}
