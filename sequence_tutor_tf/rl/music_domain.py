"""The music domain: 38 melody events, the RL Tuner's music-theory rewards and metrics.

Uses the batched music-theory reward (music/rewards/batched.py) when available and otherwise N
copies of the per-step rules; both compute the reward on the composition so far, then append.
"""
import numpy as np

from sequence_tutor_tf.rl.domain import Domain, TaskReward

NUM_CLASSES = 38


class PerStepBatchReward(TaskReward):
    """N per-step `MusicTheoryRewards` side by side: slow, but the exact original rules."""

    def __init__(self, batch_size, reward_mode, num_notes_in_melody, key=None, tonic_note=None):
        from sequence_tutor_tf.music.rewards.per_step import MusicTheoryRewards
        self.rules = [MusicTheoryRewards(num_notes_in_melody, reward_mode, key, tonic_note)
                      for _ in range(batch_size)]

    def reset(self, mask=None):
        for i, r in enumerate(self.rules):
            if mask is None or mask[i]:
                r.reset_composition()

    def step(self, actions, observations=None):
        out = np.empty(len(self.rules), np.float32)
        for i, r in enumerate(self.rules):
            obs = None if observations is None else int(observations[i])
            out[i] = r.task_reward(obs, int(actions[i]))
            r.append_to_composition(int(actions[i]))
        return out

    @property
    def compositions(self):
        return np.array([r.composition for r in self.rules])


class BatchedRewardAdapter(TaskReward):
    """Wraps music.rewards.batched.BatchedMusicTheoryReward (passing observations if it takes
    them: the 'scale' rule looks at the previous observation)."""

    def __init__(self, impl):
        import inspect
        self.impl = impl
        self._takes_obs = "observations" in inspect.signature(impl.step).parameters

    def reset(self, mask=None):
        self.impl.reset(mask)

    def step(self, actions, observations=None):
        if self._takes_obs:
            return np.asarray(self.impl.step(actions, observations=observations), np.float32)
        return np.asarray(self.impl.step(actions), np.float32)

    @property
    def compositions(self):
        return np.asarray(self.impl.compositions)


class MusicDomain(Domain):
    num_actions = NUM_CLASSES

    def __init__(self, num_notes_in_melody=32, key=None, tonic_note=None, batched_rewards=True):
        self.sequence_length = int(num_notes_in_melody)
        self.key, self.tonic_note = key, tonic_note
        self.batched_rewards = batched_rewards

    def make_task_reward(self, batch_size, reward_mode):
        from sequence_tutor_tf.music.rewards.modes import check_reward_mode
        check_reward_mode(reward_mode)
        if self.batched_rewards:
            try:
                from sequence_tutor_tf.music.rewards.batched import BatchedMusicTheoryReward
            except ImportError:
                pass
            else:
                return BatchedRewardAdapter(BatchedMusicTheoryReward(
                    batch_size, reward_mode=reward_mode,
                    num_notes_in_melody=self.sequence_length, key=self.key,
                    tonic_note=self.tonic_note))
        return PerStepBatchReward(batch_size, reward_mode, self.sequence_length, self.key,
                                  self.tonic_note)

    def combine_rewards(self, reward_mode, prior_logp, task_reward, reward_scaler):
        from sequence_tutor_tf.music.rewards.modes import combine_rewards
        return np.asarray(combine_rewards(reward_mode, prior_logp, task_reward, reward_scaler),
                          np.float32)

    def uses_prior_reward(self, reward_mode):
        from sequence_tutor_tf.music.rewards.modes import uses_note_rnn_reward
        return uses_note_rnn_reward(reward_mode)

    def effective_reward_mode(self, algorithm, reward_mode):
        """The original forces music_theory_only for g and pure_rl."""
        return "music_theory_only" if algorithm in ("g", "pure_rl") else reward_mode

    def sequence_metrics(self, sequences):
        try:
            from sequence_tutor_tf.music.metrics import compute_composition_stats
        except ImportError:
            return {}
        return compute_composition_stats(np.asarray(sequences))


def make_music_primer(priming_mode, q_network, rng, midi_primer=None, training_data=None,
                      behaviour=None):
    """The primer for the original's priming modes (priming.py) from music files."""
    from sequence_tutor_tf.rl.behaviour import OriginalBehaviour
    from sequence_tutor_tf.rl.hparams import PRIMING_MODES, check_choice
    from sequence_tutor_tf.rl.priming import CorpusPrimer, RandomNotePrimer, SequencePrimer
    check_choice("priming_mode", priming_mode, PRIMING_MODES)
    behaviour = behaviour or OriginalBehaviour()
    if priming_mode == "random_note":
        return RandomNotePrimer(NUM_CLASSES, behaviour.random_note_excludes_last)
    if priming_mode == "single_midi":
        if not midi_primer:
            raise ValueError("priming_mode 'single_midi' needs a MIDI primer file (midi_primer)")
        from note_seq import midi_io

        from sequence_tutor_tf.music.encoding import note_sequence_to_events
        try:
            events = note_sequence_to_events(midi_io.midi_file_to_note_sequence(midi_primer))
        except (OSError, midi_io.MIDIConversionError) as e:
            raise ValueError(f"midi_primer {midi_primer!r}: cannot read a melody ({e})") from None
        return SequencePrimer(events)
    if not training_data:
        raise ValueError("priming_mode 'random_midi' needs training melodies "
                         "(training_file_list / --training-data-path)")
    from sequence_tutor_tf.music.sources import load_melodies
    sources = training_data if isinstance(training_data, (list, tuple)) else [training_data]
    melodies = []
    for source in sources:
        melodies.extend(load_melodies(source, progress=False).melodies)
    return CorpusPrimer(melodies, q_network, rng,
                        independent_prior=behaviour.prime_prior_independently)
