"""`MelodyCorpus`: encoded melodies plus an account of how they were obtained.

Every loader (built-in corpus, MIDI directory, TFRecord) returns one, so training code sees one
type and a user can always see what was read, what was skipped and why.
"""
import collections
import dataclasses

import numpy as np


class EmptyCorpusError(ValueError):
    """Raised when a source was read but yielded no usable melody."""


@dataclasses.dataclass
class MelodyCorpus:
    """Melodies as int32 class-index arrays (see `encoding`), with their provenance.

    `stats` keys: `items_read` (files, tunes or records looked at), `skipped` (reason -> count),
    `melodies_extracted`, `duplicates_dropped`, `melodies`, `steps`, and `extraction` (the
    melody extractor's counters).
    """
    melodies: list
    source: str
    stats: dict = dataclasses.field(default_factory=dict)

    def __len__(self):
        return len(self.melodies)

    def summary_line(self) -> str:
        s = self.stats
        skipped = s.get("skipped", {})
        n_skipped = sum(skipped.values())
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(skipped.items()))
        return (f"{self.source}: {s.get('items_read', 0)} items read, {n_skipped} skipped"
                + (f" ({reasons})" if reasons else "")
                + f", {s.get('melodies_extracted', 0)} melodies extracted, "
                f"{s.get('duplicates_dropped', 0)} duplicates dropped -> "
                f"{len(self.melodies)} melodies, {sum(len(m) for m in self.melodies)} steps")


def make_corpus(melodies, source, items_read, skipped, extraction, require_nonempty=True):
    """Deduplicates `melodies` (first kept) and builds the corpus with its stats.

    With `require_nonempty`, an empty result raises `EmptyCorpusError` saying what was read and
    why nothing was kept, instead of handing an empty list to training.
    """
    seen = set()
    kept = []
    for m in melodies:
        arr = np.asarray(m, dtype=np.int32)
        key = arr.tobytes()
        if key in seen:
            continue
        seen.add(key)
        kept.append(arr)
    extraction = {k: int(v) for k, v in dict(extraction).items() if v}
    stats = {
        "items_read": int(items_read),
        "skipped": {k: int(v) for k, v in dict(skipped).items() if v},
        "melodies_extracted": len(melodies),
        "duplicates_dropped": len(melodies) - len(kept),
        "melodies": len(kept),
        "steps": int(sum(len(m) for m in kept)),
        "extraction": extraction,
    }
    corpus = MelodyCorpus(kept, source, stats)
    if require_nonempty and not kept:
        why = ", ".join(f"{k}: {v}" for k, v in sorted(
            collections.Counter({**stats["skipped"], **extraction}).items())) or "no notes found"
        raise EmptyCorpusError(
            f"no melodies from {source}: read {stats['items_read']} items, "
            f"{sum(stats['skipped'].values())} skipped, {len(melodies)} melodies extracted "
            f"({why}). Melodies need at least 7 bars, 5 distinct pitch classes and no "
            "simultaneous note onsets.")
    return corpus
