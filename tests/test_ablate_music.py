"""scripts/ablate_music.py end to end at toy size: a 2-setting grid writes its JSON and markdown
table, and a second invocation skips the finished runs (resumable). Values are not checked."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _ablate(*argv):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, "scripts/ablate_music.py", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


def test_ablation_grid_writes_tables_and_resumes(tmp_path):
    from sequence_tutor_tf.models.checkpoints import save_note_rnn
    from sequence_tutor_tf.models.note_rnn import NoteRNN
    note_rnn = str(tmp_path / "note_rnn")
    save_note_rnn(NoteRNN([8]), note_rnn)
    out = tmp_path / "ablation"
    argv = ["--note-rnn", note_rnn, "--output-dir", str(out), "--settings", "base,credit_greedy",
            "--algorithms", "q", "--steps", "256", "--exploration-steps", "128",
            "--output-every-nth", "128", "--num-envs", "8", "--eval-trials", "2",
            "--eval-compositions", "40", "--hparams", "minibatch_size=8,max_experience=1000",
            "--no-jit"]
    first = _ablate(*argv)
    assert first.count("[base / q]") == 1 and first.count("[credit_greedy / q]") == 1, first
    assert "(behaviour {'credit_greedy_action': True})" in first
    data = json.loads((out / "ablation.json").read_text())
    assert set(data["results"]) == {"base", "credit_greedy"}
    for name in ("base", "credit_greedy"):
        res = data["results"][name]["q"]
        assert "error" not in res, res
        assert len(res["table"]) == 11 and len(res["directions"]) == 11
        assert res["matches"] == sum(d[2] for d in res["directions"].values())
        assert res["num_compositions"] == 40
        assert "--fix-quirks" in res["argv"] and "--reward-scaler" in res["argv"]
    assert data["results"]["credit_greedy"]["q"]["behaviour_overrides"] == {
        "credit_greedy_action": True}
    config = json.loads((out / "runs" / "base" / "q" / "tuner_config.json").read_text())
    assert config["algorithm"] == "q" and config["behaviour"]["credit_greedy_action"] is False
    # The single switch reached the run through `tune --behaviour`.
    switched = json.loads((out / "runs" / "credit_greedy" / "q" / "tuner_config.json")
                          .read_text())
    assert switched["behaviour"]["credit_greedy_action"] is True
    assert switched["behaviour"]["g_trains_prior"] is False
    table = (out / "ablation.md").read_text()
    assert "## Q" in table and "| base |" in table and "| credit_greedy |" in table
    # Resumable: nothing is tuned again.
    second = _ablate(*argv)
    assert "[base / q]" not in second and "[credit_greedy / q]" not in second, second
    assert json.loads((out / "ablation.json").read_text())["results"] == data["results"]


def test_ablation_lists_settings():
    out = _ablate("--list")
    for name in ("base", "code", "scaler_0.1", "egreedy", "credit_greedy", "long_note_rnn"):
        assert name in out
