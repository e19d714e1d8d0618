"""Files per second of MIDI-directory conversion (`pretrain --corpus DIR --num-workers N`).

Makes a directory of small synthetic MIDI files with note_seq (one 8- to 16-bar melody each,
like a short Lakh MIDI file's melody track) unless it exists, then converts it with each number of
processes, timing `sources.load_midi_directory` (read, melody extraction, encoding) end to end,
worker start-up included, and checks that every run gives the same melodies.

    python scripts/benchmark_midi_conversion.py --files 3000 --workers 1 2
"""
import argparse
import os
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


def make_directory(directory, count, seed=0):
    import note_seq
    import numpy as np
    os.makedirs(directory, exist_ok=True)
    have = sum(1 for f in os.listdir(directory) if f.endswith(".mid"))
    rng = np.random.default_rng(seed)
    for i in range(count):
        path = os.path.join(directory, f"{i // 1000:03d}", f"song{i:06d}.mid")
        bars = int(rng.integers(8, 17))
        if i < have or os.path.exists(path):
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        sequence = note_seq.NoteSequence(ticks_per_quarter=220)
        sequence.tempos.add(qpm=120)
        t = 0.0
        for pitch in rng.integers(55, 80, size=bars * 4):
            length = 0.5 * int(rng.integers(1, 3)) / 2 + 0.25
            sequence.notes.add(pitch=int(pitch), velocity=80, start_time=t, end_time=t + length)
            t += length
        sequence.total_time = t
        note_seq.sequence_proto_to_midi_file(sequence, path)
    return directory


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--directory", default="/tmp/sequence_tutor_midi_benchmark")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    t0 = time.time()
    make_directory(args.directory, args.files)
    print(f"directory {args.directory}: {args.files} files ready in {time.time() - t0:.1f} s")
    from sequence_tutor_tf.music.sources import load_midi_directory
    reference = None
    import resource

    def cpu_seconds():
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    for workers in args.workers:
        load = os.getloadavg()[0]
        start, cpu = time.time(), cpu_seconds()
        corpus = load_midi_directory(args.directory, progress=False, num_workers=workers)
        wall, cpu = time.time() - start, cpu_seconds() - cpu
        print(f"  (load average {load:.1f} before; {cpu:.1f} CPU s in all processes, "
              f"{1000 * cpu / corpus.stats['items_read']:.2f} ms per file)")
        melodies = [m.tobytes() for m in corpus.melodies]
        same = reference is None or melodies == reference
        reference = reference or melodies
        print(f"{workers} process(es): {corpus.stats['items_read']}"
              f" files in {wall:.1f} s = {corpus.stats['items_read'] / wall:.0f} files/s; "
              f"{len(melodies)} melodies; same as the first run: {same}")


if __name__ == "__main__":
    main()
