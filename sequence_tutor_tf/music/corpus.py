"""Built-in melody corpus from the scores that ship with the music21 package.

The RL Tuner's Note RNN was trained on a private set of 30,000 MIDI songs; the folk-tune and
chorale collections in music21 are the nearest freely installed stand-in (about 10,500 melodies).
Converting them takes minutes, so each collection is converted once, in parallel, and cached.

Names: `essen`, `oneills`, `ryans`, `bach` (chorale soprano lines), `all`/`default` (the four),
`demo` (bach + the first 500 essen tunes, for quick runs). Any name may take a slice of its tunes,
e.g. `ryans[0:40]`.
"""
import collections
import json
import multiprocessing
import os
import re
import warnings

import numpy as np

from sequence_tutor_tf.music import melody_extraction
from sequence_tutor_tf.music.melody_corpus import make_corpus
from sequence_tutor_tf.utils.files import atomic_write_bytes

COLLECTIONS = ("essen", "oneills", "ryans", "bach")
# Each preset is a list of (collection, start, stop) parts.
PRESETS = {
    "all": [(c, None, None) for c in COLLECTIONS],
    "default": [(c, None, None) for c in COLLECTIONS],
    "demo": [("bach", None, None), ("essen", 0, 500)],
}
_MUSIC21_DIRS = {"essen": "essenFolksong", "oneills": "oneills1850", "ryans": "ryansMammoth"}
_NAME_RE = re.compile(r"^(?P<name>[a-z]+)(\[(?P<start>\d*):(?P<stop>\d*)\])?$")
_QPM = 120.0  # any fixed tempo works: quantization is per quarter note


class CorpusItemSkipped(UserWarning):
    """A tune of a built-in collection could not be converted and was left out."""


def default_cache_dir():
    """`$SEQUENCE_TUTOR_CACHE`, else `~/.cache/sequence_tutor_tf`."""
    return os.environ.get("SEQUENCE_TUTOR_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "sequence_tutor_tf")


def is_corpus_name(name) -> bool:
    m = _NAME_RE.match(str(name))
    return bool(m) and (m["name"] in COLLECTIONS or m["name"] in PRESETS)


def parse_name(name):
    """`name` -> list of (collection, start, stop) parts; a clear error for unknown names."""
    m = _NAME_RE.match(str(name))
    if not m or not (m["name"] in COLLECTIONS or m["name"] in PRESETS):
        raise ValueError(
            f"unknown corpus {name!r}: expected one of {', '.join(COLLECTIONS + tuple(PRESETS))}, "
            "optionally sliced as name[start:stop]")
    if m["name"] in PRESETS:
        if m["start"] is not None:
            raise ValueError(f"corpus preset {m['name']!r} cannot be sliced; slice a collection")
        return list(PRESETS[m["name"]])
    start = int(m["start"]) if m["start"] else None
    stop = int(m["stop"]) if m["stop"] else None
    return [(m["name"], start, stop)]


def _read_text(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _abc_tunes(path, label_prefix):
    """Splits an ABC file into its tunes; each keeps the file header (text before the first X:)."""
    lines = _read_text(path).splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("X:")]
    if not starts:
        return []
    header = lines[:starts[0]]
    out = []
    for a, b in zip(starts, starts[1:] + [len(lines)]):
        ref = lines[a][2:].strip()
        out.append((f"{label_prefix}#X:{ref}", "abc", "\n".join(header + lines[a:b])))
    return out


def list_items(collection):
    """Deterministically ordered (label, kind, payload) work items of one collection."""
    import music21
    from music21.corpus import chorales
    if collection == "bach":
        return [(f"bach/{os.path.basename(p)}", "corpus", p)
                for p in chorales.Iterator(returnType="filename")]
    root = os.path.join(os.path.dirname(music21.__file__), "corpus", _MUSIC21_DIRS[collection])
    items = []
    for fname in sorted(os.listdir(root)):
        if not fname.endswith(".abc"):
            continue
        if collection == "essen" and fname.startswith("test"):
            continue  # music21's parser test files, not folk songs
        items.extend(_abc_tunes(os.path.join(root, fname),
                                f"{_MUSIC21_DIRS[collection]}/{fname}"))
    return items


def stream_to_note_sequence(score):
    """music21 score -> NoteSequence of its first part (the melody; the soprano for chorales).

    Notes are walked directly (no MIDI round trip, which would sound ABC chord symbols and expand
    repeats); ties are merged, grace notes and chord symbols dropped, chords kept as simultaneous
    notes (so the extractor rejects them as polyphony, as magenta would), and a pickup measure is
    shifted by its `paddingLeft` so bar lines fall where the score puts them. Only the first time
    signature is kept: a mid-tune meter change would otherwise discard the tune.
    """
    from music21 import harmony
    from note_seq.protobuf import music_pb2
    parts = getattr(score, "parts", None)
    part = parts[0] if parts is not None and len(parts) else score
    part = part.stripTies()
    measures = part.getElementsByClass("Measure")
    pad = float(measures[0].paddingLeft) if len(measures) else 0.0
    seconds = 60.0 / _QPM
    ns = music_pb2.NoteSequence(ticks_per_quarter=220)
    ns.tempos.add(qpm=_QPM, time=0.0)
    time_signatures = part.recurse().getElementsByClass("TimeSignature")
    if len(time_signatures):
        ts = time_signatures[0]
        ns.time_signatures.add(numerator=ts.numerator, denominator=ts.denominator, time=0.0)
    for n in part.flatten().notes:
        if isinstance(n, harmony.Harmony):
            continue
        length = float(n.duration.quarterLength)
        if length <= 0:
            continue  # grace note
        start = (float(n.offset) + pad) * seconds
        for p in n.pitches:
            ns.notes.add(pitch=int(p.midi), velocity=100, start_time=start,
                         end_time=start + length * seconds)
            ns.total_time = max(ns.total_time, start + length * seconds)
    return ns


def convert_item(item):
    """Worker: one tune -> (label, [int8 event bytes], extraction stats, error or None)."""
    import music21
    label, kind, payload = item
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "abc":
                score = music21.converter.parseData(payload, format="abc")
            else:
                score = music21.corpus.parse(payload)
            ns = stream_to_note_sequence(score)
        ns.filename = label
        events, stats = melody_extraction.note_sequence_to_melody_events(ns)
    except Exception as e:  # music21 raises many types on malformed scores
        return label, [], {}, f"{type(e).__name__}: {e}"[:300]
    return label, [e.astype(np.int8).tobytes() for e in events], dict(stats), None


def _versions_key():
    import music21
    import note_seq
    ns_version = getattr(note_seq, "__version__", None)
    if ns_version is None:
        from importlib import metadata
        ns_version = metadata.version("note-seq")
    return (f"music21-{music21.__version__}_note-seq-{ns_version}"
            f"_extract-v{melody_extraction.EXTRACTION_VERSION}")


def cache_path(cache_dir, collection, start, stop):
    part = collection if start is None and stop is None else \
        f"{collection}[{'' if start is None else start}-{'' if stop is None else stop}]"
    return os.path.join(cache_dir, "melodies", f"{part}_{_versions_key()}.npz")


def _save_part(path, result):
    import io
    lengths = np.asarray([len(m) for m in result["melodies"]], np.int32)
    flat = (np.concatenate(result["melodies"]) if result["melodies"]
            else np.zeros(0, np.int32)).astype(np.int8)
    meta = {k: v for k, v in result.items() if k != "melodies"}
    buf = io.BytesIO()
    np.savez_compressed(buf, events=flat, lengths=lengths, meta=np.asarray(json.dumps(meta)))
    atomic_write_bytes(path, buf.getvalue())


def _load_part(path):
    with np.load(path, allow_pickle=False) as z:
        flat = z["events"].astype(np.int32)
        lengths = z["lengths"]
        meta = json.loads(str(z["meta"]))
    bounds = np.cumsum(lengths)[:-1] if len(lengths) else []
    meta["melodies"] = list(np.split(flat, bounds)) if len(lengths) else []
    return meta


def _convert_part(collection, start, stop, num_workers, progress):
    from tqdm import tqdm
    items = list_items(collection)[slice(start, stop)]
    melodies, extraction, skipped = [], collections.Counter(), collections.Counter()
    if num_workers and num_workers > 1 and len(items) > 1:
        # spawn, not fork: the parent may already hold TensorFlow's threads.
        pool = multiprocessing.get_context("spawn").Pool(num_workers)
        results = pool.imap(convert_item, items, chunksize=8)
    else:
        pool = None
        results = map(convert_item, items)
    try:
        for label, events, stats, error in tqdm(results, total=len(items), disable=not progress,
                                                desc=f"converting {collection}", unit="tune"):
            if error is not None:
                skipped["unparsable"] += 1
                warnings.warn(f"skipped {label} ({error})", CorpusItemSkipped, stacklevel=2)
                continue
            extraction.update(stats)
            melodies.extend(np.frombuffer(b, np.int8).astype(np.int32) for b in events)
    except BaseException:
        if pool is not None:        # Ctrl-C or an error: do not wait for the queued tunes
            pool.terminate()
            pool.join()
        raise
    if pool is not None:
        pool.close()
        pool.join()
    return {"melodies": melodies, "items_read": len(items), "skipped": dict(skipped),
            "extraction": dict(extraction)}


def load_corpus(name="default", cache_dir=None, num_workers=2, progress=True, use_cache=True):
    """Converts (or loads from cache) a built-in corpus; returns a deduplicated `MelodyCorpus`.

    The cache holds one file per collection (or slice), keyed by the music21 and note-seq versions
    and `melody_extraction.EXTRACTION_VERSION`, so upgrading either package re-converts.
    `stats['cache']` lists which parts came from the cache.
    """
    parts = parse_name(name)
    cache_dir = cache_dir or default_cache_dir()
    melodies, extraction, skipped = [], collections.Counter(), collections.Counter()
    items_read, cache_report = 0, {}
    for collection, start, stop in parts:
        path = cache_path(cache_dir, collection, start, stop)
        if use_cache and os.path.exists(path):
            result = _load_part(path)
            cache_report[os.path.basename(path)] = "hit"
        else:
            result = _convert_part(collection, start, stop, num_workers, progress)
            if use_cache:
                _save_part(path, result)
                cache_report[os.path.basename(path)] = "written"
        melodies.extend(result["melodies"])
        extraction.update(result["extraction"])
        skipped.update(result["skipped"])
        items_read += result["items_read"]
    corpus = make_corpus(melodies, f"music21 corpus {name!r}", items_read, skipped, extraction)
    corpus.stats["cache"] = cache_report
    return corpus
