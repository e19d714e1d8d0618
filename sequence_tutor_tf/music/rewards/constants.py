"""The RL Tuner's music-theory constants, with the values `rl_tuner_ops` / `rl_tuner` give them.

Event indices are those of the 38-class melody alphabet: 2..37 are note-ons for MIDI 48..83. The
two special indices carry the *RL Tuner's* labels (`NOTE_OFF = 0`, `NO_EVENT = 1`), which are the
reverse of the alphabet the Note RNN was trained on (0 = no event, 1 = note off; see
docs/differences/rewards.md). Reward code reads the labels from a `KeySpec` so the swap can be
switched off; these module constants are the original's.
"""

NUM_CLASSES = 38
NUM_SPECIAL_EVENTS = 2

# rl_tuner.py labels the special actions this way round.
NOTE_OFF = 0
NO_EVENT = 1
# The note_seq.MelodyOneHotEncoding labels (what the data and rl_tuner_ops.decoder use).
ENCODING_NO_EVENT = 0
ENCODING_NOTE_OFF = 1

# Music theory constants; action 2 = MIDI 48 (C3), action 14 = MIDI 60 (C4).
C_MAJOR_SCALE = (2, 4, 6, 7, 9, 11, 13, 14, 16, 18, 19, 21, 23, 25, 26)
C_MAJOR_KEY = (0, 1, 2, 4, 6, 7, 9, 11, 13, 14, 16, 18, 19, 21, 23, 25, 26, 28,
               30, 31, 33, 35, 37)
C_MAJOR_TONIC = 14
A_MINOR_TONIC = 23

# Half-steps in musical intervals, in order of dissonance.
OCTAVE = 12
FIFTH = 7
THIRD = 4
SIXTH = 9
SECOND = 2
FOURTH = 5
SEVENTH = 11
HALFSTEP = 1

# Special "intervals" that detect_sequential_interval returns.
REST_INTERVAL = -1
HOLD_INTERVAL = -1.5
REST_INTERVAL_AFTER_THIRD_OR_FIFTH = -2
HOLD_INTERVAL_AFTER_THIRD_OR_FIFTH = -2.5
IN_KEY_THIRD = -3
IN_KEY_FIFTH = -5

# Melody direction and leap outcomes.
ASCENDING = 1
DESCENDING = -1
LEAP_RESOLVED = 1
LEAP_DOUBLED = -1

# Default amounts of each rule, as the original's keyword defaults.
KEY_PENALTY = -1.0
TONIC_REWARD = 3.0
NON_REPEATING_REWARD = 0.1
REPEATING_PENALTY = -100.0
AUTOCORRELATION_PENALTY_WEIGHT = 3.0
AUTOCORRELATION_THRESHOLD = 0.15
AUTOCORRELATION_LAGS = (1, 2, 3)
MOTIF_REWARD = 3.0
MOTIF_COMPLEXITY_STEP = 0.3
REPEATED_MOTIF_REWARD = 4.0
BAR_LENGTH = 8
MIN_NOTES_IN_MOTIF = 3
INTERVAL_SCALER = 5.0
HIGH_LOW_UNIQUE_REWARD = 3.0
STEPS_BETWEEN_LEAPS = 6
RESOLVING_LEAP_BONUS = 5.0
LEAPING_TWICE_PUNISHMENT = -5.0

# detect_repeating_notes thresholds: repeats allowed before the penalty applies.
MAX_REPEATED_NOTE_OFFS = 1
MAX_REPEATS_PLAIN = 4
MAX_REPEATS_WITH_HOLDS_OR_RESTS = 6

# reward_preferred_intervals: interval -> unscaled reward, applied in the original's order
# (later matches override earlier ones; intervals above an octave get -1.0; any other 0.0).
PREFERRED_INTERVAL_REWARDS = (
    (REST_INTERVAL, 0.05),
    (HOLD_INTERVAL, 0.075),
    (REST_INTERVAL_AFTER_THIRD_OR_FIFTH, 0.15),
    (HOLD_INTERVAL_AFTER_THIRD_OR_FIFTH, 0.3),
    (SEVENTH, -0.3),
    ("above_octave", -1.0),
    (IN_KEY_FIFTH, 0.1),
    (IN_KEY_THIRD, 0.15),
    (THIRD, 0.09),
    (SECOND, 0.08),
    (FOURTH, 0.07),
    (SIXTH, 0.05),
    (FIFTH, 0.02),
)
