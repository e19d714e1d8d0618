"""Music-theory rewards of the RL Tuner (Sequence Tutor), exact to Magenta's.

Two faces over the same rules:

* `MusicTheoryRewards` (per_step.py): the original's `reward_*` / `detect_*` methods, one one-hot
  action at a time, for a drop-in RLTuner.
* `BatchedMusicTheoryReward` (batched.py): B compositions per call, vectorised, for the fast RL
  engine.

`combine_rewards` (modes.py) adds the Reward RNN's log p(a|s) the way `collect_reward` does;
`register_reward` (registry.py) lets a user add a rule. Deliberate differences from the original
are listed in docs/differences/rewards.md.
"""
from sequence_tutor_tf.music.rewards.batched import BatchedMusicTheoryReward
from sequence_tutor_tf.music.rewards.keys import KeySpec, key_table, parse_key_name, resolve_key
from sequence_tutor_tf.music.rewards.modes import (MODE_RULES, MODES_WITH_NOTE_RNN_REWARD,
                                                   MUSIC_THEORY_RULES, REWARD_MODES,
                                                   check_reward_mode, combine_rewards,
                                                   reward_rnn_logprob, uses_note_rnn_reward)
from sequence_tutor_tf.music.rewards.per_step import MusicTheoryRewards, autocorrelate
from sequence_tutor_tf.music.rewards.registry import (RewardContext, register_reward,
                                                      registered_rewards, resolve_reward,
                                                      unregister_reward)
from sequence_tutor_tf.music.rewards.state import CompositionState

__all__ = [
    "BatchedMusicTheoryReward", "CompositionState", "KeySpec", "MODES_WITH_NOTE_RNN_REWARD",
    "MODE_RULES", "MUSIC_THEORY_RULES", "MusicTheoryRewards", "REWARD_MODES", "RewardContext",
    "autocorrelate", "check_reward_mode", "combine_rewards", "key_table", "parse_key_name",
    "register_reward", "registered_rewards", "resolve_key", "resolve_reward",
    "reward_rnn_logprob", "unregister_reward", "uses_note_rnn_reward",
]
