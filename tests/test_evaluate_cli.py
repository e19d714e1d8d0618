"""`sequence-tutor evaluate`: MIDI or NoteSequence files and directories in, scores out."""
import json
import os

import note_seq
import numpy as np
import pytest
from note_seq.protobuf import music_pb2

from sequence_tutor_tf.cli.main import main
from sequence_tutor_tf.music import encoding, metrics
from sequence_tutor_tf.music.rewards.scoring import score_compositions

PITCHES = [60, 62, 64, 65, 67, 69, 71, 72, 72, 72, 67, 64, 60, 55, 60, 64, 67, 72, 76, 79]


def write_song(path, pitches=PITCHES, step=0.25, qpm=120):
    ns = music_pb2.NoteSequence(ticks_per_quarter=220)
    ns.tempos.add(qpm=qpm)
    for i, pitch in enumerate(pitches):
        ns.notes.add(pitch=pitch, velocity=80, start_time=i * step, end_time=(i + 1) * step)
    ns.total_time = len(pitches) * step
    note_seq.sequence_proto_to_midi_file(ns, str(path))
    return ns


def test_single_midi_json_matches_the_library(tmp_path, capsys):
    song = tmp_path / "song.mid"
    ns = write_song(song)
    assert main(["evaluate", str(song), "--format", "json", "--per-step"]) == 0
    report = json.loads(capsys.readouterr().out)
    (result,) = report["files"]
    events = encoding.note_sequence_to_events(note_seq.midi_file_to_note_sequence(str(song)),
                                              transpose_to_key=0)
    assert result["events"] == events.tolist() and len(events) == len(ns.notes) * 2
    scores = score_compositions(events[None, :])
    assert result["rewards"]["total"] == pytest.approx(float(scores["total"].sum()), abs=1e-12)
    assert result["per_step"]["key"] == scores["key"].tolist()
    want = metrics.stats_summary(metrics.compute_composition_stats(events[None, :]))
    assert report["metrics"] == json.loads(json.dumps(want))
    assert report["metrics"]["counts"]["num_starting_tonic"] == 1  # starts on C4 = tonic 14


def test_directory_text_report_and_outputs(tmp_path, capsys):
    songs = tmp_path / "songs"
    os.makedirs(songs / "nested")
    write_song(songs / "a.mid")
    write_song(songs / "nested" / "b.midi", [p + 2 for p in PITCHES] * 2)
    (songs / "notes.txt").write_text("not music")
    out = tmp_path / "out"
    assert main(["evaluate", str(songs), "--length", "16", "--output-dir", str(out)]) == 0
    text = capsys.readouterr().out
    assert "a.mid: 40 events -> 2 composition(s) of 16" in text
    assert "b.midi: 80 events -> 5 composition(s) of 16" in text
    assert "Total compositions: 7.0" in text and "Percent notes in motif:" in text
    saved = json.loads((out / "evaluate.json").read_text())
    assert [os.path.basename(f["path"]) for f in saved["files"]] == ["a.mid", "b.midi"]
    scored = sorted(os.listdir(out))
    assert "000_a.scored.mid" in scored and "001_b.scored.mid" in scored
    back = encoding.note_sequence_to_events(
        note_seq.midi_file_to_note_sequence(str(out / "000_a.scored.mid")))
    assert back.tolist() == saved["files"][0]["events"]


def test_noteseq_proto_key_and_switches(tmp_path, capsys):
    ns = write_song(tmp_path / "x.mid")
    (tmp_path / "x.pb").write_bytes(ns.SerializeToString())
    assert main(["evaluate", str(tmp_path / "x.pb"), "--key", "G", "--no-magenta-bugs",
                 "--reward-mode", "music_theory_basic", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tonic_note"] == 21 and report["magenta_bugs"] is False
    assert list(report["files"][0]["rewards"]) == ["key", "tonic", "penalize_repeating", "total"]
    assert (report["files"][0]["events"][0] - 21) % 12 == 0  # transposed into G: starts on G


def test_extra_reward_flag(tmp_path, capsys):
    write_song(tmp_path / "x.mid")
    assert main(["evaluate", str(tmp_path / "x.mid"), "--format", "json", "--extra-reward",
                 "tests.test_evaluate_cli:one_per_note"]) == 0
    rewards = json.loads(capsys.readouterr().out)["files"][0]["rewards"]
    assert rewards["one_per_note"] == 40.0


def one_per_note(ctx):
    return np.ones(len(ctx.actions))


def test_errors_are_named(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "missing.mid")]) == 2
    assert "neither a file nor a directory" in capsys.readouterr().err
    os.makedirs(tmp_path / "empty")
    assert main(["evaluate", str(tmp_path / "empty")]) == 2
    assert "holds no MIDI" in capsys.readouterr().err
    (tmp_path / "bad.mid").write_bytes(b"not a midi file")
    assert main(["evaluate", str(tmp_path / "bad.mid")]) == 2
    err = capsys.readouterr().err
    assert "skipping" in err and "bad.mid" in err
    write_song(tmp_path / "short.mid", [60, 62])
    assert main(["evaluate", str(tmp_path / "short.mid"), "--length", "32"]) == 2
    assert "fewer than one composition of 32" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "short.mid"), "--key", "H"]) == 2
    assert "cannot read key 'H'" in capsys.readouterr().err
    write_song(tmp_path / "a.mid")
    assert main(["evaluate", str(tmp_path / "a.mid"), "--extra-reward", "no_such_rule"]) == 2
    err = capsys.readouterr().err
    assert "unknown reward 'no_such_rule'" in err and "skipping" not in err


def test_installed_command_finds_a_user_reward_module_in_the_working_directory(tmp_path):
    # docs/rewards.md's example, run the way a user runs it: the console script, a module
    # beside the user, no PYTHONPATH.
    import subprocess
    import sys
    (tmp_path / "my_rewards.py").write_text(
        "import numpy as np\n\ndef two_per_note(ctx):\n    return np.full(len(ctx.actions), 2.0)\n")
    write_song(tmp_path / "song.mid")
    script = os.path.join(os.path.dirname(sys.executable), "sequence-tutor")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([script, "evaluate", "song.mid", "--format", "json", "--extra-reward",
                          "my_rewards:two_per_note"], cwd=tmp_path, capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout)["files"][0]["rewards"]["two_per_note"] == 80.0


def test_a_note_held_for_hours_is_refused_at_once_and_scores_with_length(tmp_path, capsys):
    """One note of 20,000 s is 160,000 events: scored whole, the per-step rules would take hours
    (their cost grows with the square of the length); the file is skipped naming --length, and
    cut with --length it is scored."""
    import note_seq

    from sequence_tutor_tf.cli.main import main
    seq = note_seq.NoteSequence()
    seq.tempos.add(qpm=120)
    seq.notes.add(pitch=60, start_time=0, end_time=20000, velocity=80)
    seq.total_time = 20000
    path = str(tmp_path / "long.mid")
    note_seq.sequence_proto_to_midi_file(seq, path)
    assert main(["evaluate", path]) == 2
    err = capsys.readouterr().err
    assert "160000 events" in err and "--length" in err and "Traceback" not in err
    assert main(["evaluate", path, "--length", "32", "--format", "json"]) == 0
    assert '"num_compositions": 5000' in capsys.readouterr().out
