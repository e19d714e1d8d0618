"""The two roles a sequence domain plays for the RL core, and nothing about any domain.

A `Domain` names its vocabulary (`sequence_tutor_tf.vocabulary.Vocabulary`: size and special
tokens), the longest episode, the actions it forbids, and makes `TaskReward`s. A `TaskReward`
scores one new token per row and says which rows just finished. The core composes the
KL-control reward from that task reward and the prior (kl_control.py), so a domain never sees
the prior or an algorithm's name. Music is `music.domain.MusicDomain`; molecules plug in the
same way.
"""
import abc

import numpy as np


class TaskReward(abc.ABC):
    """Batched task reward over N sequences in parallel, each an episode of its own.

    `adds_prior` says whether the KL-control total adds log p_prior(a|s) to this reward when the
    algorithm puts the prior in the reward (q, psi). True for every domain written for the
    method; music's odd reward modes of the original set it False.
    """

    adds_prior = True
    # {component name: float [N]} of the latest step, for diagnostics (which rule fires how
    # often); a task reward without parts leaves it empty.
    components = {}

    @abc.abstractmethod
    def reset(self, mask=None):
        """Starts the sequences selected by the boolean mask [N] (all if None) afresh."""

    @abc.abstractmethod
    def step(self, actions, observations=None):
        """(reward float [N], done bool [N]) for playing `actions` after each row's sequence so
        far; the actions are appended. A row whose `done` is True is reset before it plays
        again."""


class Domain(abc.ABC):
    """Args of a domain: `vocabulary` (the tokens) and `max_length` (tokens per episode)."""

    vocabulary = None
    max_length = None

    @property
    def num_actions(self):
        return self.vocabulary.size

    @abc.abstractmethod
    def make_task_reward(self, batch_size, prior_in_reward=True):
        """A TaskReward for `batch_size` parallel sequences. `prior_in_reward` is False for the
        algorithms whose prior enters the target instead (g) or not at all (pure_rl)."""

    def action_mask(self):
        """bool [num_actions], True where an action may be taken; None allows every action.

        Exploration draws and policy sampling respect it (policy.py, priming.py)."""
        return None

    def exploration_actions(self):
        """int32 ids a random exploration action is drawn from; None: every allowed action (or
        the original music code's draw, which never picks the last class)."""
        return None

    def sequence_metrics(self, sequences, lengths=None):
        """Optional summary statistics of finished sequences [N, T] (rows padded past
        `lengths`); {} by default."""
        return {}


def allowed_actions(mask, num_actions):
    """int32 ids of the allowed actions for a mask (all of them for None)."""
    if mask is None:
        return np.arange(num_actions, dtype=np.int32)
    mask = np.asarray(mask, bool)
    if mask.shape != (num_actions,) or not mask.any():
        raise ValueError(f"action mask must be a bool [{num_actions}] array allowing at least "
                         f"one action, got shape {mask.shape} with {int(mask.sum())} allowed")
    return np.flatnonzero(mask).astype(np.int32)
