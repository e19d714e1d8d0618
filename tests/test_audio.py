"""music/audio.py: melodies to WAV with the NumPy sine fallback and, where installed, FluidSynth."""
import wave

import numpy as np
import pytest

from sequence_tutor_tf.music import audio


def _melody():
    from note_seq.protobuf import music_pb2
    seq = music_pb2.NoteSequence()
    for i, pitch in enumerate((60, 64, 67, 72)):
        seq.notes.add(pitch=pitch, velocity=100, start_time=0.5 * i, end_time=0.5 * i + 0.4)
    seq.total_time = 1.9
    return seq


def _samples(path):
    with wave.open(str(path), "rb") as f:
        assert f.getnchannels() in (1, 2) and f.getsampwidth() == 2
        frames = np.frombuffer(f.readframes(f.getnframes()), "<i2")
        return frames, f.getframerate(), f.getnframes()


def test_sine_fallback_writes_the_melody_duration_with_sound_where_notes_are(tmp_path):
    path = tmp_path / "sine.wav"
    assert audio.render_wav(_melody(), str(path), renderer="sine") == "sine"
    frames, rate, count = _samples(path)
    assert rate == audio.SAMPLE_RATE == 22050
    assert count == round(1.9 * rate)                     # ends where the last note ends
    assert audio.wav_duration(path) == pytest.approx(1.9, abs=1e-4)
    assert np.abs(frames).max() > 10000                   # normalised, not silent
    gap = frames[int(0.42 * rate):int(0.48 * rate)]       # between notes 1 and 2
    assert np.abs(gap).max() == 0
    note = frames[int(0.1 * rate):int(0.3 * rate)].astype(float)
    # 261.6 Hz fundamental: the spectrum peaks there.
    spectrum = np.abs(np.fft.rfft(note))
    peak_hz = np.argmax(spectrum) * rate / len(note)
    assert peak_hz == pytest.approx(261.6, abs=6)


def test_sine_fallback_from_midi_file_and_events(tmp_path):
    from note_seq import midi_io
    midi = tmp_path / "m.mid"
    midi_io.note_sequence_to_midi_file(_melody(), str(midi))
    assert audio.render_wav(str(midi), str(tmp_path / "a.wav"), renderer="sine") == "sine"
    assert audio.wav_duration(tmp_path / "a.wav") == pytest.approx(1.9, abs=0.01)
    events = [14, 0, 1, 18, 0, 1, 21, 0]                   # C4 held, rest, E4, rest, G4
    assert audio.render_wav(events, str(tmp_path / "e.wav"), renderer="sine") == "sine"
    frames, _, count = _samples(tmp_path / "e.wav")
    assert count > 0 and np.abs(frames).max() > 10000


def test_renderer_errors(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="renderer"):
        audio.render_wav(_melody(), str(tmp_path / "x.wav"), renderer="piano")
    with pytest.raises(TypeError, match="MIDI path"):
        audio.render_wav(3.5, str(tmp_path / "x.wav"))
    monkeypatch.setattr(audio.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="fluidsynth"):
        audio.render_wav(_melody(), str(tmp_path / "x.wav"), renderer="fluidsynth")
    assert audio.render_wav(_melody(), str(tmp_path / "y.wav")) == "sine"   # auto falls back


@pytest.mark.skipif(not audio.fluidsynth_available(),
                    reason="fluidsynth / fluid-soundfont-gm not installed (make install-audio)")
def test_fluidsynth_renders_the_melody(tmp_path):
    path = tmp_path / "gm.wav"
    assert audio.render_wav(_melody(), str(path)) == "fluidsynth"
    frames, rate, count = _samples(path)
    assert rate == audio.SAMPLE_RATE
    with wave.open(str(path), "rb") as f:
        seconds = count / rate
        channels = f.getnchannels()
    assert seconds >= 1.9 - 0.05 and seconds < 1.9 + 5      # the melody plus a release tail
    played = frames.reshape(-1, channels)[: int(1.9 * rate)]
    assert np.abs(played).max() > 300                        # sound, not silence
