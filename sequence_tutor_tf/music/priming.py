"""The original's priming modes by name, from music files: 'random_note' (a random first event),
'single_midi' (one MIDI primer) and 'random_midi' (states after training melodies).

The primers themselves know no music (rl/priming.py); this module reads the files.
"""
from sequence_tutor_tf.rl.priming import CorpusPrimer, RandomTokenPrimer, SequencePrimer

PRIMING_MODES = ("random_note", "single_midi", "random_midi")

RandomNotePrimer = RandomTokenPrimer   # the original's name for the random-event primer


def read_midi_primer(midi_primer):
    """Events of a MIDI primer file; ValueError naming the file when it holds no melody."""
    from note_seq import midi_io

    from sequence_tutor_tf.music.encoding import note_sequence_to_events
    try:
        return note_sequence_to_events(midi_io.midi_file_to_note_sequence(midi_primer))
    except (OSError, midi_io.MIDIConversionError, ValueError) as e:
        raise ValueError(f"midi_primer {midi_primer!r}: cannot read a melody ({e})") from None


def make_music_primer(priming_mode, q_network, rng, midi_primer=None, training_data=None,
                      behaviour=None):
    """The primer for one of the original's priming modes."""
    from sequence_tutor_tf.music.encoding import NUM_CLASSES
    from sequence_tutor_tf.rl.behaviour import OriginalBehaviour
    from sequence_tutor_tf.rl.hparams import check_choice
    check_choice("priming_mode", priming_mode, PRIMING_MODES)
    behaviour = behaviour or OriginalBehaviour()
    if priming_mode == "random_note":
        return RandomNotePrimer(NUM_CLASSES, behaviour.random_note_excludes_last)
    if priming_mode == "single_midi":
        if not midi_primer:
            raise ValueError("priming_mode 'single_midi' needs a MIDI primer file (midi_primer)")
        return SequencePrimer(read_midi_primer(midi_primer))
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
