"""Melodies to WAV, so that a reader can hear what tuning changed.

`render_wav(source, path)` takes a MIDI file, a `NoteSequence` or melody events (the 38-class
encoding) and writes a mono 16-bit WAV. It renders with FluidSynth and a General MIDI soundfont
when both are installed (Debian: `apt-get install fluidsynth fluid-soundfont-gm`, or
`make install-audio`), and otherwise with a plain NumPy additive-sine synthesiser (a fundamental
and two overtones per note, a short attack and release), written with the standard `wave`
module, so a report always gets audio.
"""
import os
import shutil
import subprocess
import tempfile
import wave

import numpy as np

SAMPLE_RATE = 22050
# Where Debian's fluid-soundfont-gm (and a few other distributions) put a GM soundfont.
SOUNDFONT_CANDIDATES = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
)
SOUNDFONT_ENV = "SEQUENCE_TUTOR_SOUNDFONT"
RENDERERS = ("auto", "fluidsynth", "sine")

# The sine renderer's voice: overtone amplitudes, attack and release (seconds).
_PARTIALS = (1.0, 0.5, 0.25)
_ATTACK_S = 0.01
_RELEASE_S = 0.05


def find_soundfont(soundfont=None):
    """The soundfont to use: the argument, $SEQUENCE_TUTOR_SOUNDFONT, or a system GM one."""
    for path in (soundfont, os.environ.get(SOUNDFONT_ENV)) + SOUNDFONT_CANDIDATES:
        if path and os.path.isfile(path):
            return path
    return None


def fluidsynth_available(soundfont=None):
    return shutil.which("fluidsynth") is not None and find_soundfont(soundfont) is not None


def _as_note_sequence(source):
    from note_seq import midi_io
    from note_seq.protobuf import music_pb2
    if isinstance(source, music_pb2.NoteSequence):
        return source
    if isinstance(source, (str, os.PathLike)):
        return midi_io.midi_file_to_note_sequence(os.fspath(source))
    events = np.asarray(source)
    if events.ndim == 1 and np.issubdtype(events.dtype, np.integer):
        from sequence_tutor_tf.music.encoding import events_to_note_sequence
        return events_to_note_sequence(events)
    raise TypeError(f"expected a MIDI path, a NoteSequence or 1-D melody events, got "
                    f"{type(source).__name__}")


def synthesize_sine(note_sequence, sample_rate=SAMPLE_RATE):
    """float32 samples in [-1, 1] of the sequence's notes; as long as its last note ends."""
    notes = [n for n in note_sequence.notes if n.end_time > n.start_time]
    end = max((n.end_time for n in notes), default=0.0)
    total = int(round(end * sample_rate))
    out = np.zeros(total, np.float64)
    attack = max(1, int(_ATTACK_S * sample_rate))
    for n in notes:
        start = int(round(n.start_time * sample_rate))
        stop = min(total, int(round(n.end_time * sample_rate)))
        count = stop - start
        if count <= 0:
            continue
        t = np.arange(count) / sample_rate
        freq = 440.0 * 2.0 ** ((n.pitch - 69) / 12.0)
        tone = sum(a * np.sin(2 * np.pi * freq * (k + 1) * t) for k, a in enumerate(_PARTIALS)
                   if freq * (k + 1) < sample_rate / 2)
        envelope = np.ones(count)
        rise = min(attack, count)
        envelope[:rise] = np.linspace(0.0, 1.0, rise, endpoint=False)
        fall = min(max(1, int(_RELEASE_S * sample_rate)), count - rise)
        if fall > 0:
            envelope[count - fall:] *= np.linspace(1.0, 0.0, fall)
        velocity = (n.velocity or 100) / 127.0
        out[start:stop] += velocity * envelope * tone
    peak = np.max(np.abs(out)) if total else 0.0
    if peak > 0:
        out *= 0.8 / peak
    return out.astype(np.float32)


def write_wav(samples, path, sample_rate=SAMPLE_RATE):
    """Mono 16-bit PCM WAV of float samples in [-1, 1] (stdlib `wave`)."""
    pcm = (np.clip(np.asarray(samples, np.float64), -1.0, 1.0) * 32767).astype("<i2")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with wave.open(os.fspath(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes(pcm.tobytes())
    return path


def _render_fluidsynth(note_sequence, path, sample_rate, soundfont, gain=0.8, timeout=120):
    from note_seq import midi_io
    with tempfile.TemporaryDirectory() as tmp:
        midi = os.path.join(tmp, "melody.mid")
        midi_io.note_sequence_to_midi_file(note_sequence, midi)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        cmd = ["fluidsynth", "-ni", "-q", "-g", str(gain), "-r", str(sample_rate),
               "-T", "wav", "-O", "s16", "-F", os.fspath(path), soundfont, midi]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0 or not os.path.exists(path) or os.path.getsize(path) <= 44:
        raise RuntimeError(f"fluidsynth failed ({done.returncode}): {done.stderr[-500:]}")
    return path


def render_wav(source, path, renderer="auto", sample_rate=SAMPLE_RATE, soundfont=None):
    """Writes `source` (MIDI path, NoteSequence or melody events) to the WAV file `path`.

    `renderer`: 'fluidsynth' (FluidSynth + a GM soundfont; raises if either is missing),
    'sine' (the NumPy fallback) or 'auto' (FluidSynth when available, else sine; a FluidSynth
    failure falls back too). Returns the renderer that wrote the file.
    """
    if renderer not in RENDERERS:
        raise ValueError(f"renderer must be one of {RENDERERS}, got {renderer!r}")
    note_sequence = _as_note_sequence(source)
    if renderer in ("auto", "fluidsynth"):
        font = find_soundfont(soundfont)
        if shutil.which("fluidsynth") and font:
            try:
                _render_fluidsynth(note_sequence, path, sample_rate, font)
                return "fluidsynth"
            except (RuntimeError, OSError, subprocess.TimeoutExpired):
                if renderer == "fluidsynth":
                    raise
        elif renderer == "fluidsynth":
            raise RuntimeError("fluidsynth or a GM soundfont is not installed (apt-get install "
                               "fluidsynth fluid-soundfont-gm, or set $" + SOUNDFONT_ENV + ")")
    write_wav(synthesize_sine(note_sequence, sample_rate), path, sample_rate)
    return "sine"


def wav_duration(path):
    """Seconds of audio in a WAV file."""
    with wave.open(os.fspath(path), "rb") as f:
        return f.getnframes() / float(f.getframerate())
