"""Monophonic melodies out of NoteSequences, the way `melody_rnn_create_dataset` finds them.

The Note RNN of the RL Tuner was trained on Magenta's melody_rnn dataset pipeline: split on time
changes, quantize at 4 steps per quarter, extract melodies (at least 7 bars and 5 distinct pitch
classes, cut at 512 steps, ended by a bar of silence, polyphonic tracks rejected), then squash
into MIDI 48..83 transposed to C. note-seq 0.0.5 has the Melody primitives but not magenta's
`extract_melodies` loop, so the loop is restated here; `tests/test_music_data.py` checks it
against magenta's own on real and hand-made sequences.
"""
import collections

import numpy as np
import note_seq
from note_seq import events_lib, sequences_lib

from sequence_tutor_tf.music import encoding

# Settings of `melody_rnn_pipeline.get_pipeline` (MelodyExtractor and basic_rnn config).
MIN_BARS = 7
MAX_STEPS_TRUNCATE = 512
MIN_UNIQUE_PITCHES = 5
GAP_BARS = 1.0
IGNORE_POLYPHONIC_NOTES = False
FILTER_DRUMS = True

# Bump when anything here changes what a corpus yields: it is part of the corpus cache key.
EXTRACTION_VERSION = 1

_EXTRACT_COUNTERS = (
    "polyphonic_tracks_discarded",
    "melodies_discarded_too_short",
    "melodies_discarded_too_few_pitches",
    "melodies_discarded_too_long",
    "melodies_truncated",
)


def extract_melodies(quantized_sequence, search_start_step=0, min_bars=MIN_BARS,
                     max_steps_truncate=None, max_steps_discard=None, gap_bars=GAP_BARS,
                     min_unique_pitches=MIN_UNIQUE_PITCHES, ignore_polyphonic_notes=True,
                     pad_end=False, filter_drums=FILTER_DRUMS):
    """Magenta's `melody_pipelines.extract_melodies`, same arguments and defaults.

    Returns `(melodies, stats)`: a list of `note_seq.Melody` and a dict of plain counts named as
    magenta's counters, plus `melody_lengths_in_bars`, a Counter of raw lengths in bars (magenta
    keeps a bucketed histogram of the same numbers). Raises `NonIntegerStepsPerBarError` as
    magenta does.
    """
    sequences_lib.assert_is_relative_quantized_sequence(quantized_sequence)
    stats = {name: 0 for name in _EXTRACT_COUNTERS}
    lengths = collections.Counter()
    melodies = []
    steps_per_bar = int(sequences_lib.steps_per_bar_in_quantized_sequence(quantized_sequence))
    # Set iteration order as magenta's, so melodies come out in the same order.
    for instrument in set(n.instrument for n in quantized_sequence.notes):
        start = search_start_step
        while True:
            melody = note_seq.Melody()
            try:
                melody.from_quantized_sequence(
                    quantized_sequence, instrument=instrument, search_start_step=start,
                    gap_bars=gap_bars, ignore_polyphonic_notes=ignore_polyphonic_notes,
                    pad_end=pad_end, filter_drums=filter_drums)
            except note_seq.PolyphonicMelodyError:
                stats["polyphonic_tracks_discarded"] += 1
                break
            # The next search starts at the first bar boundary at or after this melody's end.
            start = melody.end_step + (search_start_step - melody.end_step) % steps_per_bar
            if not melody:
                break
            if len(melody) < melody.steps_per_bar * min_bars:
                stats["melodies_discarded_too_short"] += 1
                continue
            if max_steps_discard is not None and len(melody) > max_steps_discard:
                stats["melodies_discarded_too_long"] += 1
                continue
            if max_steps_truncate is not None and len(melody) > max_steps_truncate:
                keep = max_steps_truncate
                if pad_end:
                    keep -= max_steps_truncate % melody.steps_per_bar
                melody.set_length(keep)
                stats["melodies_truncated"] += 1
            if np.count_nonzero(melody.get_note_histogram()) < min_unique_pitches:
                stats["melodies_discarded_too_few_pitches"] += 1
                continue
            lengths[len(melody) // melody.steps_per_bar] += 1
            melodies.append(melody)
    stats["melody_lengths_in_bars"] = lengths
    return melodies, stats


def _quantize(note_sequence, steps_per_quarter, stats):
    """Magenta's Quantizer pipeline: a sequence it cannot quantize is counted and dropped."""
    try:
        return sequences_lib.quantize_note_sequence(note_sequence, steps_per_quarter)
    except sequences_lib.MultipleTimeSignatureError:
        stats["sequences_discarded_because_multiple_time_signatures"] += 1
    except sequences_lib.MultipleTempoError:
        stats["sequences_discarded_because_multiple_tempos"] += 1
    except sequences_lib.BadTimeSignatureError:
        stats["sequences_discarded_because_bad_time_signature"] += 1
    except sequences_lib.NegativeTimeError:
        stats["sequences_discarded_because_negative_time"] += 1
    return None


def note_sequence_to_melody_events(note_sequence,
                                   steps_per_quarter=encoding.STEPS_PER_QUARTER):
    """The whole melody_rnn dataset route for one NoteSequence, to encoded event arrays.

    Returns `(events_list, stats)` with `stats` a `collections.Counter` of what happened; a
    sequence that yields nothing is not an error here (the caller counts and reports).
    """
    stats = collections.Counter()
    out = []
    for piece in sequences_lib.split_note_sequence_on_time_changes(note_sequence):
        quantized = _quantize(piece, steps_per_quarter, stats)
        if quantized is None:
            continue
        try:
            melodies, extract_stats = extract_melodies(
                quantized, min_bars=MIN_BARS, max_steps_truncate=MAX_STEPS_TRUNCATE,
                min_unique_pitches=MIN_UNIQUE_PITCHES, gap_bars=GAP_BARS,
                ignore_polyphonic_notes=IGNORE_POLYPHONIC_NOTES, filter_drums=FILTER_DRUMS)
        except events_lib.NonIntegerStepsPerBarError:
            stats["non_integer_steps_per_bar"] += 1
            continue
        extract_stats.pop("melody_lengths_in_bars")
        stats.update(extract_stats)
        for melody in melodies:
            melody.squash(encoding.MIN_NOTE, encoding.MAX_NOTE, encoding.TRANSPOSE_TO_KEY)
            out.append(encoding.melody_to_events(melody))
    return out, stats
