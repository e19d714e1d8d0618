"""The one MIDI writer for generated melodies (tune samples, RLTuner, reproduce, generate)."""
import os


def write_midi(events, path, rl_tuner_pitch=False, qpm=None):
    """Writes the melody events [T] as a MIDI file at `path` (directories made); returns it.

    `rl_tuner_pitch=True` writes the original's two-semitones-high pitches
    (docs/differences/data.md)."""
    from note_seq import midi_io

    from sequence_tutor_tf.music.encoding import DEFAULT_QPM, events_to_note_sequence
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    sequence = events_to_note_sequence(events, qpm=DEFAULT_QPM if qpm is None else qpm,
                                       rl_tuner_pitch=rl_tuner_pitch)
    midi_io.sequence_proto_to_midi_file(sequence, path)
    return path
