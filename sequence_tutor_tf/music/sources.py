"""Where melodies come from: built-in corpus, MIDI files, or Magenta's TFRecords.

Anything a Magenta user already has works unchanged: a directory of MIDI files, the NoteSequence
TFRecord written by `convert_dir_to_note_sequences`, or the SequenceExample TFRecord written by
`melody_rnn_create_dataset` (basic_rnn encoding). `load_melodies` picks the reader.
"""
import collections
import os
import warnings

import numpy as np

from sequence_tutor_tf.music import corpus as builtin_corpus
from sequence_tutor_tf.music import encoding, melody_extraction
from sequence_tutor_tf.music.melody_corpus import EmptyCorpusError, MelodyCorpus, make_corpus

__all__ = ["MelodyCorpus", "EmptyCorpusError", "SourceItemSkipped", "load_melodies",
           "load_midi_directory", "load_note_sequence_tfrecord",
           "load_sequence_example_tfrecord", "sniff_tfrecord"]

MIDI_EXTENSIONS = (".mid", ".midi")


class SourceItemSkipped(UserWarning):
    """A file or record of a user's source could not be read and was left out."""


def _warn_skip(what, reason):
    warnings.warn(f"skipped {what}: {reason}", SourceItemSkipped, stacklevel=3)


def _extract_all(named_sequences, source, total, progress):
    """Runs melody extraction over (name, NoteSequence or exception) pairs."""
    from tqdm import tqdm
    melodies, extraction, skipped = [], collections.Counter(), collections.Counter()
    read = 0
    for name, ns in tqdm(named_sequences, total=total, disable=not progress,
                         desc="extracting melodies", unit="seq"):
        read += 1
        if isinstance(ns, Exception):
            skipped["unreadable"] += 1
            _warn_skip(name, f"{type(ns).__name__}: {ns}")
            continue
        events, stats = melody_extraction.note_sequence_to_melody_events(ns)
        extraction.update(stats)
        melodies.extend(events)
    return make_corpus(melodies, source, read, skipped, extraction)


def _midi_files(root):
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            if f.lower().endswith(MIDI_EXTENSIONS):
                found.append(os.path.join(dirpath, f))
    return found


def _read_midi(path):
    import note_seq
    try:
        ns = note_seq.midi_io.midi_file_to_note_sequence(path)
    except Exception as e:  # corrupt MIDI raises from several layers (mido, pretty_midi)
        return e
    ns.filename = path
    return ns


# Below this many files per process one process converts them: a spawned worker takes 3-5 s to
# start (importing note_seq), as long as converting 1,000-2,000 small files (scripts/
# benchmark_midi_conversion.py).
MIN_FILES_PER_WORKER = 1000


def convert_midi_file(path):
    """Worker: one MIDI file -> (path, [int8 event bytes], extraction stats, error or None)."""
    ns = _read_midi(path)
    if isinstance(ns, Exception):
        return path, [], {}, f"{type(ns).__name__}: {ns}"
    try:
        events, stats = melody_extraction.note_sequence_to_melody_events(ns)
    except Exception as e:  # noqa: BLE001  (a malformed file must not stop a 170k-file run)
        return path, [], {}, f"{type(e).__name__}: {e}"[:300]
    return path, [np.asarray(e, np.int8).tobytes() for e in events], dict(stats), None


def _convert_files(files, num_workers, progress):
    """(melodies, extraction stats, skipped) of `files`, on `num_workers` processes (spawned,
    as the parent may hold TensorFlow's threads), in the order of `files` whatever the number
    of processes, so the corpus and its split do not depend on it."""
    import multiprocessing

    from tqdm import tqdm
    melodies, extraction, skipped = [], collections.Counter(), collections.Counter()
    workers = min(num_workers or 1, len(files) // MIN_FILES_PER_WORKER)
    pool = None
    if workers > 1:
        pool = multiprocessing.get_context("spawn").Pool(workers)
        chunk = max(1, min(64, len(files) // (workers * 16)))
        results = pool.imap(convert_midi_file, files, chunksize=chunk)
    else:
        results = map(convert_midi_file, files)
    try:
        for name, events, stats, error in tqdm(results, total=len(files), disable=not progress,
                                               desc="extracting melodies", unit="file"):
            if error is not None:
                skipped["unreadable"] += 1
                _warn_skip(name, error)
                continue
            extraction.update(stats)
            melodies.extend(np.frombuffer(b, np.int8).astype(np.int32) for b in events)
    except BaseException:
        if pool is not None:       # Ctrl-C or an error: do not wait for the queued files
            pool.terminate()
            pool.join()
        raise
    if pool is not None:
        pool.close()
        pool.join()
    return melodies, extraction, skipped


def load_midi_directory(path, progress=True, num_workers=1):
    """All MIDI files under `path` (recursive); an unreadable file is warned about and counted.

    `num_workers` > 1 converts them on that many processes (at most one per
    MIN_FILES_PER_WORKER files; for directories like the Lakh MIDI dataset's 170k files); the
    result is the same as with one."""
    files = [path] if os.path.isfile(path) else _midi_files(path)
    if not files:
        raise EmptyCorpusError(f"no MIDI files ({'/'.join(MIDI_EXTENSIONS)}) found under {path}")
    melodies, extraction, skipped = _convert_files(files, num_workers, progress)
    return make_corpus(melodies, f"MIDI files under {path}", len(files), skipped, extraction)


def _records(path):
    from sequence_tutor_tf._tf import tf
    try:
        for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
            yield record
    except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as e:
        raise ValueError(f"{path} is not a readable TFRecord file: {e.message}") from None


def _as_sequence_example(record):
    from sequence_tutor_tf._tf import tf
    try:
        ex = tf.train.SequenceExample.FromString(record)
    except Exception:
        return None
    lists = ex.feature_lists.feature_list
    return ex if "inputs" in lists and "labels" in lists else None


def _as_note_sequence(record):
    from note_seq.protobuf import music_pb2
    try:
        ns = music_pb2.NoteSequence.FromString(record)
    except Exception:
        return None
    return ns if (ns.notes or ns.ticks_per_quarter or ns.tempos or ns.id) else None


def sniff_tfrecord(path) -> str:
    """'sequence_example' or 'note_sequence', from the first record; ValueError otherwise."""
    first = next(iter(_records(path)), None)
    if first is None:
        raise EmptyCorpusError(f"{path} holds no records")
    if _as_sequence_example(first) is not None:
        return "sequence_example"
    if _as_note_sequence(first) is not None:
        return "note_sequence"
    raise ValueError(
        f"{path}: first record is neither a NoteSequence nor a SequenceExample with 'inputs' and "
        "'labels' feature lists (the outputs of convert_dir_to_note_sequences and "
        "melody_rnn_create_dataset)")


def load_note_sequence_tfrecord(path, progress=True):
    """NoteSequence protos (convert_dir_to_note_sequences output) through melody extraction."""
    def pairs():
        for i, record in enumerate(_records(path)):
            ns = _as_note_sequence(record)
            name = f"{path} record {i}"
            if ns is None:
                yield name, ValueError("not a NoteSequence proto")
            else:
                yield (f"{name} ({ns.filename})" if ns.filename else name), ns
    return _extract_all(pairs(), f"NoteSequence TFRecord {path}", None, progress)


def sequence_example_to_events(example) -> np.ndarray:
    """Recovers the event sequence: first input's one-hot index, then every label."""
    lists = example.feature_lists.feature_list
    inputs = [list(f.float_list.value) for f in lists["inputs"].feature]
    labels = [int(f.int64_list.value[0]) for f in lists["labels"].feature]
    if not inputs or len(inputs) != len(labels):
        raise ValueError(f"{len(inputs)} inputs but {len(labels)} labels")
    x = np.asarray(inputs, np.float32)
    if x.shape[1] != encoding.NUM_CLASSES:
        raise ValueError(
            f"inputs have {x.shape[1]} features, expected {encoding.NUM_CLASSES} (the basic_rnn "
            "one-hot melody encoding); lookback/attention encodings cannot be decoded to events")
    if not np.all((x == 0) | (x == 1)) or not np.all(x.sum(axis=1) == 1):
        raise ValueError("inputs are not one-hot rows")
    shown = np.argmax(x, axis=1)
    if np.any(shown[1:] != np.asarray(labels[:-1])):
        raise ValueError("inputs and labels disagree (labels are not the next inputs)")
    return encoding.check_events(np.concatenate([[shown[0]], labels]), "SequenceExample events")


def load_sequence_example_tfrecord(path, progress=True):
    """melody_rnn_create_dataset SequenceExamples: already melodies, so only decoded."""
    from tqdm import tqdm
    melodies, skipped, read = [], collections.Counter(), 0
    for i, record in enumerate(tqdm(_records(path), disable=not progress,
                                    desc="reading SequenceExamples", unit="rec")):
        read += 1
        ex = _as_sequence_example(record)
        try:
            if ex is None:
                raise ValueError("not a SequenceExample with 'inputs' and 'labels'")
            melodies.append(sequence_example_to_events(ex))
        except ValueError as e:
            if "features, expected" in str(e):
                raise ValueError(f"{path} record {i}: {e}") from None
            skipped["undecodable"] += 1
            _warn_skip(f"{path} record {i}", str(e))
    return make_corpus(melodies, f"SequenceExample TFRecord {path}", read, skipped, {})


def load_melodies(source, cache_dir=None, num_workers=2, progress=True) -> MelodyCorpus:
    """One entry point: built-in corpus name, MIDI directory or file, or a .tfrecord file."""
    if isinstance(source, MelodyCorpus):
        return source
    source = os.fspath(source)
    if os.path.isdir(source):
        return load_midi_directory(source, progress=progress, num_workers=num_workers)
    if os.path.isfile(source):
        if source.lower().endswith(MIDI_EXTENSIONS):
            return load_midi_directory(source, progress=progress)
        kind = sniff_tfrecord(source)
        if kind == "sequence_example":
            return load_sequence_example_tfrecord(source, progress=progress)
        return load_note_sequence_tfrecord(source, progress=progress)
    if builtin_corpus.is_corpus_name(source):
        return builtin_corpus.load_corpus(source, cache_dir=cache_dir, num_workers=num_workers,
                                          progress=progress)
    raise ValueError(
        f"melody source {source!r} is neither an existing directory/file (MIDI files, a "
        "NoteSequence or SequenceExample .tfrecord) nor a built-in corpus name "
        f"({', '.join(builtin_corpus.COLLECTIONS + tuple(builtin_corpus.PRESETS))})")
