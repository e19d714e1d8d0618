"""The 38-class melody event alphabet shared by the Note RNN, the RL Tuner and the data.

Index layout is that of `note_seq.MelodyOneHotEncoding(48, 84)`, which the RL Tuner's Note RNN was
trained with: 0 = no event (hold the previous note or rest), 1 = note off, 2..37 = note on for MIDI
48..83. Keeping one definition here means a model's output index and a corpus label never disagree.
"""
import numpy as np
import note_seq
from note_seq import sequences_lib

from sequence_tutor_tf.vocabulary import Vocabulary

NUM_CLASSES = 38
MIN_NOTE = 48  # inclusive MIDI pitch
MAX_NOTE = 84  # exclusive MIDI pitch
NUM_SPECIAL_EVENTS = 2
NO_EVENT = 0
NOTE_OFF = 1
STEPS_PER_QUARTER = 4
DEFAULT_QPM = 80.0  # the tempo the RL Tuner writes its MIDI files at
TRANSPOSE_TO_KEY = 0  # C major

# note_seq's Melody event values for the two special events.
MELODY_NO_EVENT = note_seq.MELODY_NO_EVENT  # -2
MELODY_NOTE_OFF = note_seq.MELODY_NOTE_OFF  # -1


def _melody_event_to_index(event):
    if event == MELODY_NO_EVENT:
        return NO_EVENT
    if event == MELODY_NOTE_OFF:
        return NOTE_OFF
    if not MIN_NOTE <= event < MAX_NOTE:
        raise ValueError(
            f"melody pitch {event} is outside the encodable range {MIN_NOTE}..{MAX_NOTE - 1}; "
            "squash the melody first (Melody.squash(48, 84, 0))")
    return event - MIN_NOTE + NUM_SPECIAL_EVENTS


def melody_to_events(melody) -> np.ndarray:
    """Encodes a `note_seq.Melody` (or list of Melody event values) as int32 class indices."""
    return np.asarray([_melody_event_to_index(int(e)) for e in melody], dtype=np.int32)


def check_events(events, what="events") -> np.ndarray:
    """Returns `events` as a 1-D int32 array, or raises naming the first out-of-range index."""
    arr = np.asarray(events)
    if arr.ndim != 1:
        raise ValueError(f"{what}: expected a 1-D sequence of class indices, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.equal(np.mod(arr, 1), 0)):
            raise ValueError(f"{what}: expected integer class indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int32)
    bad = np.flatnonzero((arr < 0) | (arr >= NUM_CLASSES))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{what}: index {int(arr[i])} at position {i} is outside 0..{NUM_CLASSES - 1}")
    return arr


def events_to_melody_values(events, transpose_amount=0, rl_tuner_pitch=False) -> list:
    """Class indices to Melody event values (-2 no event, -1 note off, else MIDI pitch).

    Pitches follow `MelodyOneHotEncoding`, the encoding the Note RNN is trained on (index 14 is
    MIDI 60, the C the RL Tuner's music-theory rewards call the tonic). The RL Tuner's own
    `rl_tuner_ops.decoder` forgets to subtract the two special events and so writes every pitch
    two semitones high; `rl_tuner_pitch=True` reproduces that (docs/differences/data.md).
    """
    arr = check_events(events)
    offset = MIN_NOTE - transpose_amount - (0 if rl_tuner_pitch else NUM_SPECIAL_EVENTS)
    return [int(e) - NUM_SPECIAL_EVENTS if e < NUM_SPECIAL_EVENTS else int(e) + offset
            for e in arr]


def events_to_melody(events, transpose_amount=0, steps_per_quarter=STEPS_PER_QUARTER,
                     rl_tuner_pitch=False):
    """Class indices to a `note_seq.Melody` (4/4, 16th-note steps by default)."""
    return note_seq.Melody(events_to_melody_values(events, transpose_amount, rl_tuner_pitch),
                           steps_per_quarter=steps_per_quarter,
                           steps_per_bar=4 * steps_per_quarter)


def events_to_note_sequence(events, qpm=DEFAULT_QPM, steps_per_quarter=STEPS_PER_QUARTER,
                            transpose_amount=0, rl_tuner_pitch=False):
    """The NoteSequence the RL Tuner writes as MIDI for a generated composition.

    Same route as `RLTuner.generate_music_sequence`: decode to a Melody, then
    `Melody.to_sequence(qpm=80)`; with `rl_tuner_pitch=True` the file matches the original's
    note for note, by default its pitches are those of the training encoding.
    """
    return events_to_melody(events, transpose_amount, steps_per_quarter,
                            rl_tuner_pitch).to_sequence(qpm=qpm)


def note_sequence_to_events(note_sequence, steps_per_quarter=STEPS_PER_QUARTER,
                            gap_bars=1.0, transpose_to_key=None) -> np.ndarray:
    """Scores any monophonic NoteSequence: quantize, take its first melody, encode.

    Pitches outside 48..83 are octave-folded into range (`Melody.squash`); with the default
    `transpose_to_key=None` in-range pitches are kept, so `events_to_note_sequence` output maps
    back to the same events. Pass 0 to transpose to C as the training data is.
    Raises ValueError (not an empty result) when the sequence holds no melody, so a caller never
    scores silence by mistake.
    """
    if note_sequence.quantization_info.steps_per_quarter:
        quantized = note_sequence
    else:
        quantized = sequences_lib.quantize_note_sequence(note_sequence, steps_per_quarter)
    melody = note_seq.Melody()
    melody.from_quantized_sequence(quantized, gap_bars=gap_bars, ignore_polyphonic_notes=True)
    if not len(melody):
        raise ValueError(
            f"note sequence {note_sequence.id or note_sequence.filename or '(unnamed)'!r} "
            f"holds no melody ({len(note_sequence.notes)} notes)")
    melody.squash(MIN_NOTE, MAX_NOTE, transpose_to_key)
    return melody_to_events(melody)


def one_hot(events) -> np.ndarray:
    """float32 [T, 38] one-hot rows of class indices."""
    arr = check_events(events)
    out = np.zeros((len(arr), NUM_CLASSES), np.float32)
    out[np.arange(len(arr)), arr] = 1.0
    return out


_PITCH_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


class MelodyVocabulary(Vocabulary):
    """The 38 melody events as a `Vocabulary`: no BOS, EOS or PAD (a composition is a fixed
    number of 16th-note steps), items are lists of note_seq Melody event values."""

    name = "melody"

    @property
    def size(self):
        return NUM_CLASSES

    def encode(self, item):
        return melody_to_events(item)

    def decode(self, ids):
        return events_to_melody_values(self.check_ids(ids))

    def token(self, token_id):
        token_id = int(token_id)
        if token_id == NO_EVENT:
            return "no_event"
        if token_id == NOTE_OFF:
            return "note_off"
        pitch = token_id - NUM_SPECIAL_EVENTS + MIN_NOTE
        return f"{_PITCH_NAMES[pitch % 12]}{pitch // 12 - 1}"

    def metadata(self):
        meta = super().metadata()
        meta.update(min_note=MIN_NOTE, max_note=MAX_NOTE, steps_per_quarter=STEPS_PER_QUARTER)
        return meta


MELODY_VOCABULARY = MelodyVocabulary()
