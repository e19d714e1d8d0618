"""The music domain: 38 melody events, the RL Tuner's music-theory rewards and metrics.

The task reward is the batched face of the rules (music/rewards/batched.py): the reward of each
composition's next note is computed on the composition so far, then the note is appended.
"""
import numpy as np

from sequence_tutor_tf.music.encoding import NUM_CLASSES
from sequence_tutor_tf.rl.domain import Domain


class MusicDomain(Domain):
    num_actions = NUM_CLASSES

    def __init__(self, num_notes_in_melody=32, key=None, tonic_note=None, magenta_bugs=True,
                 extra_rewards=()):
        self.sequence_length = int(num_notes_in_melody)
        self.key, self.tonic_note = key, tonic_note
        self.magenta_bugs = magenta_bugs          # docs/differences/rewards.md
        self.extra_rewards = tuple(extra_rewards)  # user rewards: docs/rewards.md

    def make_task_reward(self, batch_size, reward_mode):
        """The batched music-theory rules (a `TaskReward` by shape: reset(mask), step)."""
        from sequence_tutor_tf.music.rewards.batched import BatchedMusicTheoryReward
        from sequence_tutor_tf.music.rewards.modes import check_reward_mode
        check_reward_mode(reward_mode)
        return BatchedMusicTheoryReward(batch_size, reward_mode=reward_mode,
                                        num_notes_in_melody=self.sequence_length, key=self.key,
                                        tonic_note=self.tonic_note,
                                        magenta_bugs=self.magenta_bugs,
                                        extra_rewards=self.extra_rewards)

    def combine_rewards(self, reward_mode, prior_logp, task_reward, reward_scaler):
        from sequence_tutor_tf.music.rewards.modes import combine_rewards
        return np.asarray(combine_rewards(reward_mode, prior_logp, task_reward, reward_scaler),
                          np.float32)

    @staticmethod
    def effective_reward_mode(algorithm, reward_mode):
        """The original forces music_theory_only for g and pure_rl."""
        return "music_theory_only" if algorithm in ("g", "pure_rl") else reward_mode

    def sequence_metrics(self, sequences):
        from sequence_tutor_tf.music.metrics import compute_composition_stats
        return compute_composition_stats(np.asarray(sequences), self.key, self.tonic_note,
                                         magenta_bugs=self.magenta_bugs)


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
