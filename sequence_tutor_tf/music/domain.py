"""The music domain of the RL core: 38 melody events, the RL Tuner's music-theory rewards and
metrics.

The task reward is the batched face of the rules (music/rewards/batched.py): the reward of each
composition's next note is computed on the composition so far, then the note is appended. Every
composition is `num_notes_in_melody` events long, so all rows end together and the engine's
schedule is the original's. `reward_mode` is music's: which rules sum, and whether the prior's
log p(a|s) joins them (only three of the original's modes add it; modes.py).
"""
import numpy as np

from sequence_tutor_tf.music.encoding import MELODY_VOCABULARY
from sequence_tutor_tf.rl.domain import Domain, TaskReward


class MusicTaskReward(TaskReward):
    """`BatchedMusicTheoryReward` as a TaskReward: a row is done after num_notes_in_melody."""

    def __init__(self, rules, adds_prior):
        self.rules = rules
        self.adds_prior = bool(adds_prior)
        self.components = {}    # each rule's reward [N] at the latest step (diagnostics)

    def reset(self, mask=None):
        self.rules.reset(mask)

    def step(self, actions, observations=None):
        self.components = self.rules.step_components(actions, observations=observations)
        reward = self.rules.total(self.components).astype(np.float32)
        return reward, self.rules.beat >= self.rules.num_notes_in_melody


class MusicDomain(Domain):
    """Args:
      num_notes_in_melody: events per composition (the original's 32).
      reward_mode: the original's reward_mode (modes.py); the algorithms without the prior in
        the reward (g, pure_rl) score with 'music_theory_only', as the original forces.
      key, tonic_note, magenta_bugs, extra_rewards: how the rules score (docs/rewards.md).
    """

    vocabulary = MELODY_VOCABULARY

    def __init__(self, num_notes_in_melody=32, key=None, tonic_note=None, magenta_bugs=True,
                 extra_rewards=(), reward_mode="music_theory_all"):
        from sequence_tutor_tf.music.rewards.modes import check_reward_mode
        self.max_length = int(num_notes_in_melody)
        self.key, self.tonic_note = key, tonic_note
        self.magenta_bugs = magenta_bugs          # docs/differences/rewards.md
        self.extra_rewards = tuple(extra_rewards)  # user rewards: docs/rewards.md
        self.reward_mode = check_reward_mode(reward_mode)

    @property
    def sequence_length(self):
        return self.max_length

    def effective_reward_mode(self, prior_in_reward=True):
        return self.reward_mode if prior_in_reward else "music_theory_only"

    def make_task_reward(self, batch_size, prior_in_reward=True):
        from sequence_tutor_tf.music.rewards.batched import BatchedMusicTheoryReward
        from sequence_tutor_tf.music.rewards.modes import uses_note_rnn_reward
        mode = self.effective_reward_mode(prior_in_reward)
        rules = BatchedMusicTheoryReward(batch_size, reward_mode=mode,
                                         num_notes_in_melody=self.max_length, key=self.key,
                                         tonic_note=self.tonic_note,
                                         magenta_bugs=self.magenta_bugs,
                                         extra_rewards=self.extra_rewards)
        return MusicTaskReward(rules, adds_prior=uses_note_rnn_reward(mode))

    def sequence_metrics(self, sequences, lengths=None):
        from sequence_tutor_tf.music.metrics import compute_composition_stats
        return compute_composition_stats(np.asarray(sequences), self.key, self.tonic_note,
                                         magenta_bugs=self.magenta_bugs)
