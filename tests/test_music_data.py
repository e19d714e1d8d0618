"""Melody data: encoding, extraction parity with magenta, corpus, sources and tf.data pipeline."""
import numpy as np
import pytest

import note_seq
from note_seq import sequences_lib
from note_seq.protobuf import music_pb2

from magenta.models.melody_rnn import melody_rnn_model, melody_rnn_pipeline
from magenta.models.rl_tuner import rl_tuner as magenta_rl_tuner
from magenta.models.rl_tuner import rl_tuner_ops
from magenta.pipelines import melody_pipelines, statistics

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.music import corpus, dataset, encoding, melody_extraction, sources
from sequence_tutor_tf.music.melody_corpus import EmptyCorpusError

SEC = 0.125  # one 16th-note step at 120 qpm


def make_sequence(notes, numerator=4, denominator=4, instrument_notes=None):
    """notes: (pitch, start_step, end_step) at 120 qpm, 16th-note steps."""
    ns = music_pb2.NoteSequence(ticks_per_quarter=220)
    ns.tempos.add(qpm=120.0)
    ns.time_signatures.add(numerator=numerator, denominator=denominator)
    for instrument, group in [(0, notes)] + list((instrument_notes or {}).items()):
        for pitch, start, end in group:
            ns.notes.add(pitch=pitch, velocity=100, start_time=start * SEC, end_time=end * SEC,
                         instrument=instrument)
            ns.total_time = max(ns.total_time, end * SEC)
    return ns


def scale_run(bars, first_step=0, pitches=(60, 62, 64, 65, 67, 69, 71, 72), step_len=4):
    """A melody of quarter notes cycling through `pitches` for `bars` bars of 4/4."""
    n = bars * 16 // step_len
    return [(pitches[i % len(pitches)], first_step + i * step_len,
             first_step + (i + 1) * step_len - 1) for i in range(n)]


HAND_MADE = {
    "simple": make_sequence(scale_run(8)),
    "too_short": make_sequence(scale_run(3)),
    "too_few_pitches": make_sequence(scale_run(8, pitches=(60, 62, 72))),
    "long_truncated": make_sequence(scale_run(40)),
    "gap_split": make_sequence(scale_run(8) + scale_run(8, first_step=16 * 10)),
    "polyphonic": make_sequence(scale_run(8) + [(48, 16, 20)]),
    "two_instruments": make_sequence(scale_run(8), instrument_notes={
        1: scale_run(9, pitches=(50, 52, 53, 55, 57, 59))}),
    "three_four": make_sequence(scale_run(9), numerator=3, denominator=4),
    "pickup": make_sequence([(67, 12, 15)] + scale_run(8, first_step=16)),
}


def magenta_stats(stats_list):
    counts, hist = {}, None
    for s in stats_list:
        if isinstance(s, statistics.Histogram):
            hist = s
        else:
            counts[s.name] = s.count
    return counts, hist


def bucket(hist, lengths):
    """Our raw length counts, bucketed as magenta's histogram does."""
    out = dict.fromkeys(hist.counters, 0)
    for bars, n in lengths.items():
        out[max(b for b in hist.buckets if b <= bars)] += n
    return out


def assert_same_extraction(quantized, **kwargs):
    ours, our_stats = melody_extraction.extract_melodies(quantized, **kwargs)
    theirs, their_stats = melody_pipelines.extract_melodies(quantized, **kwargs)
    assert [list(m) for m in ours] == [list(m) for m in theirs]
    assert [m.start_step for m in ours] == [m.start_step for m in theirs]
    counts, hist = magenta_stats(their_stats)
    lengths = our_stats.pop("melody_lengths_in_bars")
    assert our_stats == counts
    assert bucket(hist, lengths) == hist.counters
    return ours, our_stats


# ---------------------------------------------------------------- encoding

def test_encoding_constants_and_events_match_note_seq():
    enc = note_seq.MelodyOneHotEncoding(encoding.MIN_NOTE, encoding.MAX_NOTE)
    assert enc.num_classes == encoding.NUM_CLASSES == 38
    assert enc.encode_event(note_seq.MELODY_NO_EVENT) == encoding.NO_EVENT == 0
    assert enc.encode_event(note_seq.MELODY_NOTE_OFF) == encoding.NOTE_OFF == 1
    # The original rl_tuner.py names these two indices the other way round (see
    # docs/differences/data.md); its decoder, like ours, maps index 0 to no event.
    assert (magenta_rl_tuner.NO_EVENT, magenta_rl_tuner.NOTE_OFF) == (1, 0)
    assert rl_tuner_ops.decoder([0, 1], 0) == [note_seq.MELODY_NO_EVENT, note_seq.MELODY_NOTE_OFF]
    melody = note_seq.Melody([60, -2, -1, 48, 83, -2, 71, -1, -2, 64])
    events = encoding.melody_to_events(melody)
    assert events.dtype == np.int32
    assert events.tolist() == [enc.encode_event(e) for e in melody]
    assert list(encoding.events_to_melody(events)) == [enc.decode_event(i) for i in events]
    # Inputs/labels as magenta's encoder-decoder builds its SequenceExamples.
    inputs, labels = note_seq.OneHotEventSequenceEncoderDecoder(enc).encode(melody)
    np.testing.assert_array_equal(encoding.one_hot(events[:-1]), np.asarray(inputs))
    assert events[1:].tolist() == labels


def test_encoding_rejects_out_of_range_values():
    with pytest.raises(ValueError, match="pitch 90 is outside the encodable range 48..83"):
        encoding.melody_to_events(note_seq.Melody([60, 90]))
    with pytest.raises(ValueError, match="index 38 at position 1"):
        encoding.events_to_melody([2, 38])


def test_events_to_note_sequence_rl_tuner_pitch_difference():
    """Both behaviours: the RL Tuner's decoder writes pitches 2 semitones above the encoding."""
    events = [14, 0, 1, 16, 0, 0, 18, 19, 1, 0, 0, 21, 0, 23, 0, 26]
    theirs = note_seq.Melody(rl_tuner_ops.decoder(events, 0)).to_sequence(
        qpm=rl_tuner_ops.DEFAULT_QPM)
    legacy = encoding.events_to_note_sequence(events, rl_tuner_pitch=True)
    assert legacy == theirs
    assert encoding.events_to_melody_values(events, rl_tuner_pitch=True) == \
        rl_tuner_ops.decoder(events, 0)
    ours = encoding.events_to_note_sequence(events)
    assert ours.tempos[0].qpm == 80.0
    assert [n.pitch for n in ours.notes] == [n.pitch - 2 for n in theirs.notes]
    assert ours.notes[0].pitch == 60  # index 14 = rl_tuner_ops.C_MAJOR_TONIC = middle C
    assert [(n.start_time, n.end_time) for n in ours.notes] == \
        [(n.start_time, n.end_time) for n in theirs.notes]


def test_events_to_note_sequence_scores_back():
    events = [14, 0, 1, 16, 0, 0, 18, 19, 1, 0, 0, 21, 0, 23, 0, 26]
    ours = encoding.events_to_note_sequence(events)
    assert encoding.note_sequence_to_events(ours).tolist() == events
    with pytest.raises(ValueError, match="holds no melody"):
        encoding.note_sequence_to_events(music_pb2.NoteSequence(id="silence"))


# ---------------------------------------------------------------- extraction parity

@pytest.mark.parametrize("name", sorted(HAND_MADE))
@pytest.mark.parametrize("ignore_poly", [False, True])
def test_extract_melodies_matches_magenta_on_hand_made(name, ignore_poly):
    quantized = sequences_lib.quantize_note_sequence(HAND_MADE[name], 4)
    melodies, stats = assert_same_extraction(
        quantized, min_bars=7, max_steps_truncate=512, min_unique_pitches=5, gap_bars=1.0,
        ignore_polyphonic_notes=ignore_poly)
    expected = {"simple": 1, "too_short": 0, "too_few_pitches": 0, "long_truncated": 1,
                "gap_split": 2, "polyphonic": int(ignore_poly), "two_instruments": 2,
                "three_four": 1, "pickup": 1}
    assert len(melodies) == expected[name]
    if name == "long_truncated":
        assert stats["melodies_truncated"] == 1 and len(melodies[0]) == 512


def test_extract_melodies_matches_magenta_on_music21_tunes():
    items = (corpus.list_items("essen")[:6] + corpus.list_items("ryans")[:4]
             + corpus.list_items("bach")[:2])
    total = 0
    for label, kind, payload in items:
        import music21
        score = (music21.converter.parseData(payload, format="abc") if kind == "abc"
                 else music21.corpus.parse(payload))
        quantized = sequences_lib.quantize_note_sequence(
            corpus.stream_to_note_sequence(score), 4)
        for poly in (False, True):
            melodies, _ = assert_same_extraction(
                quantized, min_bars=7, max_steps_truncate=512, min_unique_pitches=5,
                gap_bars=1.0, ignore_polyphonic_notes=poly)
            total += len(melodies)
    assert total >= 12


def test_full_route_matches_magentas_melody_rnn_pipeline():
    """Our NoteSequence -> events equals magenta's SequenceExamples, label for label."""
    config = melody_rnn_model.default_configs["basic_rnn"]
    pipe = melody_rnn_pipeline.get_pipeline(config, eval_ratio=0.0)
    for name, ns in HAND_MADE.items():
        ours, _ = melody_extraction.note_sequence_to_melody_events(ns)
        theirs = pipe.transform(ns)["training_melodies"]
        assert [sources.sequence_example_to_events(ex).tolist() for ex in theirs] == \
            [e.tolist() for e in ours], name


# ---------------------------------------------------------------- built-in corpus

def test_corpus_slice_counts_and_cache(tmp_path, monkeypatch):
    c = corpus.load_corpus("ryans[0:40]", cache_dir=str(tmp_path), num_workers=1,
                           progress=False)
    # Measured with music21 10.5.1 / note-seq 0.0.5: 10 of the 40 tunes have double stops.
    assert c.stats["items_read"] == 40
    assert c.stats["extraction"]["polyphonic_tracks_discarded"] == 10
    assert c.stats["melodies_extracted"] == 30
    assert c.stats["duplicates_dropped"] == 1
    assert len(c) == 29 and c.stats["steps"] == 5804
    assert all(m.dtype == np.int32 and m.max() < 38 for m in c.melodies)
    assert list(c.stats["cache"].values()) == ["written"]
    assert "29 melodies" in c.summary_line()

    def no_conversion(*args, **kwargs):
        raise AssertionError("cache not used")
    monkeypatch.setattr(corpus, "_convert_part", no_conversion)
    again = corpus.load_corpus("ryans[0:40]", cache_dir=str(tmp_path), progress=False)
    assert list(again.stats["cache"].values()) == ["hit"]
    assert [m.tolist() for m in again.melodies] == [m.tolist() for m in c.melodies]


def test_corpus_skips_unparsable_tune_with_warning(tmp_path, monkeypatch):
    good = corpus.list_items("essen")[:3]
    monkeypatch.setattr(corpus, "list_items", lambda name: good + [
        ("essenFolksong/broken.abc#X:9", "corpus", "no/such/score")])
    with pytest.warns(corpus.CorpusItemSkipped, match="broken.abc#X:9"):
        c = corpus.load_corpus("essen[0:4]", cache_dir=str(tmp_path), num_workers=1,
                               progress=False)
    assert c.stats["skipped"] == {"unparsable": 1} and c.stats["items_read"] == 4


def test_corpus_names_and_cache_dir(monkeypatch, tmp_path):
    assert corpus.parse_name("demo") == [("bach", None, None), ("essen", 0, 500)]
    assert corpus.parse_name("essen[10:20]") == [("essen", 10, 20)]
    with pytest.raises(ValueError, match="unknown corpus 'nottingham'"):
        corpus.parse_name("nottingham")
    monkeypatch.setenv("SEQUENCE_TUTOR_CACHE", str(tmp_path))
    assert corpus.default_cache_dir() == str(tmp_path)
    assert "music21-" in corpus.cache_path(str(tmp_path), "bach", None, None)


# ---------------------------------------------------------------- user sources

def test_midi_directory_skips_corrupt_file(tmp_path):
    (tmp_path / "sub").mkdir()
    note_seq.sequence_proto_to_midi_file(HAND_MADE["long_truncated"], str(tmp_path / "a.mid"))
    note_seq.sequence_proto_to_midi_file(HAND_MADE["gap_split"], str(tmp_path / "sub" / "b.MID"))
    (tmp_path / "sub" / "bad.mid").write_bytes(b"MThd not really a midi file")
    (tmp_path / "notes.txt").write_text("ignored")
    with pytest.warns(sources.SourceItemSkipped, match="bad.mid"):
        c = sources.load_melodies(str(tmp_path), progress=False)
    assert c.stats["items_read"] == 3
    assert c.stats["skipped"] == {"unreadable": 1}
    assert len(c) == 2  # gap_split's two halves are the same melody: one dropped
    assert c.stats["duplicates_dropped"] == 1
    expected, _ = melody_extraction.note_sequence_to_melody_events(HAND_MADE["long_truncated"])
    assert c.melodies[0].tolist() == expected[0].tolist()


def test_empty_sources_raise_clear_errors(tmp_path):
    with pytest.raises(EmptyCorpusError, match="no MIDI files"):
        sources.load_melodies(str(tmp_path), progress=False)
    note_seq.sequence_proto_to_midi_file(HAND_MADE["too_short"], str(tmp_path / "s.mid"))
    with pytest.raises(EmptyCorpusError, match="read 1 items.*melodies_discarded_too_short: 1"):
        sources.load_melodies(str(tmp_path), progress=False)
    with pytest.raises(ValueError, match="neither an existing directory"):
        sources.load_melodies(str(tmp_path / "missing.tfrecord"))


def test_tfrecords_of_note_sequences_and_sequence_examples_agree(tmp_path):
    sequences = [HAND_MADE[k] for k in ("simple", "long_truncated", "two_instruments",
                                        "three_four", "polyphonic", "too_short")]
    ns_path = str(tmp_path / "notesequences.tfrecord")
    with tf.io.TFRecordWriter(ns_path) as w:
        for ns in sequences:
            w.write(ns.SerializeToString())
    # The SequenceExamples come from magenta's own melody_rnn dataset pipeline.
    pipe = melody_rnn_pipeline.get_pipeline(
        melody_rnn_model.default_configs["basic_rnn"], eval_ratio=0.0)
    se_path = str(tmp_path / "training_melodies.tfrecord")
    with tf.io.TFRecordWriter(se_path) as w:
        for ns in sequences:
            for ex in pipe.transform(ns)["training_melodies"]:
                w.write(ex.SerializeToString())
    assert sources.sniff_tfrecord(ns_path) == "note_sequence"
    assert sources.sniff_tfrecord(se_path) == "sequence_example"
    from_ns = sources.load_melodies(ns_path, progress=False)
    from_se = sources.load_melodies(se_path, progress=False)
    assert from_ns.stats["items_read"] == 6
    # simple, long_truncated, two_instruments (2, its first = simple), three_four
    assert from_ns.stats["melodies_extracted"] == 5 and len(from_ns) == 4
    assert from_se.stats["items_read"] == 5 and from_se.stats["duplicates_dropped"] == 1
    assert [m.tolist() for m in from_ns.melodies] == [m.tolist() for m in from_se.melodies]
    assert from_ns.stats["extraction"]["polyphonic_tracks_discarded"] == 1


def test_tfrecord_of_other_protos_is_rejected(tmp_path):
    path = str(tmp_path / "examples.tfrecord")
    with tf.io.TFRecordWriter(path) as w:
        w.write(tf.train.Example().SerializeToString())
    with pytest.raises(ValueError, match="neither a NoteSequence nor a SequenceExample"):
        sources.load_melodies(path)
    bad = tmp_path / "garbage.tfrecord"
    bad.write_bytes(b"\x00" * 40)
    with pytest.raises(ValueError, match="garbage.tfrecord is not a readable TFRecord"):
        sources.load_melodies(str(bad))


# ---------------------------------------------------------------- tf.data pipeline

def test_dataset_shapes_weights_and_skip_first_n_losses():
    rng = np.random.default_rng(0)
    melodies = [rng.integers(0, 38, n).astype(np.int32) for n in (10, 20, 7, 40)]
    ds = dataset.make_dataset(melodies, batch_size=8, skip_first_n_losses=3, shuffle=False,
                              bucket_boundaries=())
    assert dataset.dataset_element_spec()[0].is_compatible_with(ds.element_spec[0])
    assert all(a.is_compatible_with(b) for a, b in zip(dataset.dataset_element_spec(),
                                                        ds.element_spec))
    inputs, labels, weights = next(iter(ds))
    assert inputs.shape == (4, 39, 38) and labels.shape == (4, 39) and weights.shape == (4, 39)
    assert inputs.dtype == tf.float32 and labels.dtype == tf.int32
    for i, m in enumerate(melodies):
        n = len(m) - 1
        np.testing.assert_array_equal(np.argmax(inputs[i, :n], -1), m[:-1])
        np.testing.assert_array_equal(labels[i, :n], m[1:])
        expected = np.zeros(39, np.float32)
        expected[3:n] = 1.0
        np.testing.assert_array_equal(weights[i], expected)
        assert float(tf.reduce_sum(inputs[i, n:])) == 0.0


def test_dataset_windows_buckets_and_covers_every_transition():
    rng = np.random.default_rng(1)
    melodies = [rng.integers(0, 38, n).astype(np.int32) for n in (30, 100, 250, 60)]
    ds = dataset.make_dataset(melodies, batch_size=2, skip_first_n_losses=5, seed=3,
                              bucket_boundaries=(50, 90), max_length=90)
    pairs, weighted = 0, 0.0
    for inputs, labels, weights in ds:
        assert labels.shape[1] <= 89
        pairs += int(tf.reduce_sum(tf.cast(tf.reduce_sum(inputs, -1) > 0, tf.int32)))
        weighted += float(tf.reduce_sum(weights))
    assert pairs == sum(len(m) - 1 for m in melodies)
    assert weighted == pairs - 5 * len(melodies)  # only each melody's first window skips


def test_split_and_unigram_baseline():
    melodies = [np.full(5, i % 38, np.int32) for i in range(50)]
    train, val = dataset.split_train_validation(melodies, 0.1, seed=0)
    assert len(val) == 5 and len(train) == 45
    again, _ = dataset.split_train_validation(melodies, 0.1, seed=0)
    assert [m.tolist() for m in again] == [m.tolist() for m in train]
    with pytest.raises(ValueError, match="validation_fraction"):
        dataset.split_train_validation(melodies, 1.0)
    nll = dataset.unigram_nll([np.array([0, 0, 0, 2], np.int32)], [np.array([5, 0, 2], np.int32)])
    counts = np.ones(38)
    counts[0] += 2
    counts[2] += 1
    p = counts / counts.sum()
    assert nll == pytest.approx(-(np.log(p[0]) + np.log(p[2])) / 2)
