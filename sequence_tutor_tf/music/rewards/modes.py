"""Which rules each `reward_mode` sums, and how the task reward meets the Reward RNN's log p(a|s).

From `RLTuner.collect_reward`:

=================================  =============================================  ===============
reward_mode                        task reward (summed in this order)             returned
=================================  =============================================  ===============
scale                              reward_scale(obs, action)                      c * task
key                                reward_key_distribute_prob                     c * task
key_and_tonic                      key + tonic                                    c * task
non_repeating                      reward_non_repeating                           c * task
music_theory_random                key + tonic + penalize_repeating               c * task
music_theory_basic                 key + tonic + penalize_repeating               c * task + logp
music_theory_basic_plus_variety    ... + penalize_autocorrelation                 c * task + logp
preferred_intervals                reward_preferred_intervals                     c * task
music_theory_all                   reward_music_theory (all nine rules)           c * task + logp
music_theory_only                  reward_music_theory (all nine rules)           c * task
=================================  =============================================  ===============

`c` is `reward_scaler` and `logp` the Reward RNN's log-softmax of the played note. Only three
modes add `logp`; the others are pure RL on the task reward. (The original also switches
reward_mode to 'music_theory_only' when algorithm is 'g' or 'pure_rl'; that is the RL engine's
business.)
"""
import numpy as np

# Rule names; rule `x` is the method `reward_x` of the per-step face.
MUSIC_THEORY_RULES = ("key", "tonic", "penalize_repeating", "penalize_autocorrelation", "motif",
                      "repeated_motif", "preferred_intervals", "leap_up_back", "high_low_unique")

MODE_RULES = {
    "scale": ("scale",),
    "key": ("key_distribute_prob",),
    "key_and_tonic": ("key", "tonic"),
    "non_repeating": ("non_repeating",),
    "music_theory_random": ("key", "tonic", "penalize_repeating"),
    "music_theory_basic": ("key", "tonic", "penalize_repeating"),
    "music_theory_basic_plus_variety": ("key", "tonic", "penalize_repeating",
                                        "penalize_autocorrelation"),
    "preferred_intervals": ("preferred_intervals",),
    "music_theory_all": MUSIC_THEORY_RULES,
    "music_theory_only": MUSIC_THEORY_RULES,
}
REWARD_MODES = tuple(MODE_RULES)

# Modes whose collect_reward returns `reward * reward_scaler + note_rnn_reward`.
MODES_WITH_NOTE_RNN_REWARD = frozenset(
    {"music_theory_basic", "music_theory_basic_plus_variety", "music_theory_all"})


def check_reward_mode(reward_mode):
    """Returns the mode, or raises naming the valid ones (the original fails later, obscurely)."""
    if reward_mode not in MODE_RULES:
        raise ValueError(f"reward_mode must be one of {list(REWARD_MODES)}, got {reward_mode!r}")
    return reward_mode


def uses_note_rnn_reward(reward_mode) -> bool:
    return check_reward_mode(reward_mode) in MODES_WITH_NOTE_RNN_REWARD


def combine_rewards(reward_mode, reward_rnn_logprob, task_reward, reward_scaler):
    """The reward `collect_reward` returns: `task * reward_scaler (+ log p(a|s) for three modes)`.

    Works on floats or arrays: the KL-control composition of the RL core, with the prior term
    where the mode adds it.
    """
    from sequence_tutor_tf.rl.kl_control import compose_reward
    return compose_reward(task_reward, reward_rnn_logprob, reward_scaler,
                          uses_note_rnn_reward(reward_mode))


def reward_rnn_logprob(action, reward_scores):
    """log p(action | state) from the Reward RNN's scores (`reward_from_reward_rnn_scores`).

    `action` is an index or one-hot vector; `reward_scores` the 38 logits. Batched: [B] indices
    and [B, 38] scores give [B] log-probabilities.
    """
    import scipy.special
    scores = np.asarray(reward_scores, dtype=np.float64)
    if scores.ndim == 1:
        note = int(np.argmax(action)) if np.ndim(action) else int(action)
        return scores[note] - scipy.special.logsumexp(scores)
    actions = np.asarray(action)
    if actions.ndim == 2:
        actions = np.argmax(actions, axis=1)
    picked = scores[np.arange(len(scores)), actions]
    return picked - scipy.special.logsumexp(scores, axis=1)
