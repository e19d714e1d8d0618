"""Key tables: which action indices are in key, the tonic, and the notes the interval rules prize.

The original hard-codes C major (`C_MAJOR_KEY`, `C_MAJOR_TONIC`, and inside
`detect_sequential_interval` the C, E and G notes). Other keys are a parameter here: `KeySpec`
holds every table a rule reads, so rules never consult a global, and the C-major defaults come
out equal to the original's constants.
"""
import dataclasses
import re

from sequence_tutor_tf.music.rewards import constants as c

_MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
_MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10)  # natural minor
_PITCH_CLASSES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_NOTE_INDICES = range(c.NUM_SPECIAL_EVENTS, c.NUM_CLASSES)


@dataclasses.dataclass(frozen=True)
class KeySpec:
    """Everything key-dependent a reward or metric reads, plus the special-event labels."""
    key: tuple           # in-key action indices (the original counts both special events in key)
    tonic_note: int      # action index of the tonic the composition should start and end on
    scale: tuple         # two octaves around the tonic, for reward_scale
    tonic_notes: tuple   # the original's c_notes / tonic_notes
    third_notes: tuple   # the original's e_notes
    fifth_notes: tuple   # the original's g_notes / fifth_notes
    note_off: int        # index the rules treat as NOTE_OFF
    no_event: int        # index the rules treat as NO_EVENT
    magenta_bugs: bool   # True: reproduce the original's numbers bug for bug

    @property
    def key_set(self):
        return frozenset(self.key)


def key_table(tonic_pitch_class: int, mode: str = "major") -> tuple:
    """In-key action indices for a tonic pitch class (0 = C) and mode, with both special events."""
    if mode not in ("major", "minor"):
        raise ValueError(f"mode must be 'major' or 'minor', got {mode!r}")
    steps = _MAJOR_STEPS if mode == "major" else _MINOR_STEPS
    pc = int(tonic_pitch_class) % 12
    return (0, 1) + tuple(i for i in _NOTE_INDICES
                          if (i - c.NUM_SPECIAL_EVENTS - pc) % 12 in steps)


def parse_key_name(name: str):
    """'C', 'G major', 'F#', 'Bb minor', 'Am' -> (key table, tonic_note).

    The tonic is placed in the octave of the original's tonics (C4 = 14 ... B4 = 25), so
    'C' gives C_MAJOR_TONIC and 'A minor' gives A_MINOR_TONIC.
    """
    m = re.fullmatch(r"\s*([A-Ga-g])([#b]?)\s*(m|min|minor|maj|major)?\s*", str(name))
    if not m:
        raise ValueError(f"cannot read key {name!r}; expected a note name and optional mode, "
                         "like 'C', 'G major', 'F#', 'Bb minor' or 'Am'")
    letter, accidental, mode = m.groups()
    pc = (_PITCH_CLASSES[letter.upper()] + {"#": 1, "b": -1, "": 0}[accidental]) % 12
    mode = "minor" if mode in ("m", "min", "minor") else "major"
    return key_table(pc, mode), c.C_MAJOR_TONIC + pc


def _check_index(value, what, lo, hi):
    try:
        ivalue = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be an action index, got {value!r}") from None
    if ivalue != value or not lo <= ivalue < hi:
        raise ValueError(f"{what} must be an integer action index in {lo}..{hi - 1}, got {value!r}")
    return ivalue


def resolve_key(key=None, tonic_note=None, magenta_bugs=True) -> KeySpec:
    """Builds the tables for `key` (in-key action indices; None = C major) and `tonic_note`.

    `magenta_bugs=True` keeps the original's special-event labels (0 = NOTE_OFF, 1 = NO_EVENT);
    False uses the Note RNN alphabet's (0 = no event, 1 = note off).
    """
    if key is None:
        key = c.C_MAJOR_KEY
    if isinstance(key, str):
        raise ValueError(f"key must be a list of action indices, got the string {key!r}; "
                         "use keys.parse_key_name for names like 'G major'")
    key = tuple(sorted({_check_index(k, "key entry", 0, c.NUM_CLASSES) for k in key}))
    if not any(k >= c.NUM_SPECIAL_EVENTS for k in key):
        raise ValueError(f"key {list(key)} holds no note (indices 2..37)")
    tonic = c.C_MAJOR_TONIC if tonic_note is None else tonic_note
    tonic = _check_index(tonic, "tonic_note", c.NUM_SPECIAL_EVENTS, c.NUM_CLASSES)
    if tonic not in key:
        raise ValueError(f"tonic_note {tonic} is not in key {list(key)}")
    third = 4 if (tonic + 4) in key or (tonic - 8) in key else 3

    def same_class(offset):
        return tuple(i for i in _NOTE_INDICES if (i - tonic - offset) % 12 == 0)

    scale = tuple(k for k in key if k >= c.NUM_SPECIAL_EVENTS and tonic - 12 <= k <= tonic + 12)
    if magenta_bugs:
        note_off, no_event = c.NOTE_OFF, c.NO_EVENT
    else:
        note_off, no_event = c.ENCODING_NOTE_OFF, c.ENCODING_NO_EVENT
    return KeySpec(key=key, tonic_note=tonic, scale=scale, tonic_notes=same_class(0),
                   third_notes=same_class(third), fifth_notes=same_class(7),
                   note_off=note_off, no_event=no_event, magenta_bugs=bool(magenta_bugs))
