"""`sequence-tutor tune`: run directory layout, resume after an interruption, flag errors."""
import json
import os

import pytest

from sequence_tutor_tf.cli.main import main
from tests import rl_magenta_oracle as oracle


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return oracle.make_magenta_checkpoint(str(tmp_path_factory.mktemp("magenta_ckpt")))


def _args(ckpt, out, steps, algorithm="g"):
    return ["tune", "--note-rnn", ckpt, "--output-dir", out, "--algorithm", algorithm,
            "--training-steps", str(steps), "--num-envs", "8", "--output-every-nth", "160",
            "--eval-trials", "4", "--num-notes-in-melody", "16", "--num-samples", "1",
            "--hparams", "minibatch_size=8,max_experience=2000", "--no-progress", "--no-jit",
            "--settings", "code"]


def test_tune_writes_run_dir_and_resumes(checkpoint, tmp_path):
    # With the updates on a worker thread: checkpoints and resume see settled networks.
    out = str(tmp_path / "run")
    assert main(_args(checkpoint, out, 320) + ["--overlap-collection"]) == 0
    for d in ("q_network", "reward_rnn", "train_state", "logs", "plots", "samples"):
        assert os.path.isdir(os.path.join(out, d)), d
    config = json.load(open(os.path.join(out, "tuner_config.json")))
    assert config["algorithm"] == "g" and config["reward_mode"] == "music_theory_only"
    assert config["hparams"]["discount_rate"] == 0.5 and config["env_steps"] == 320
    assert os.listdir(os.path.join(out, "samples")) == ["g_0.mid"]
    state = json.load(open(os.path.join(out, "train_state", "engine_state.json")))
    # Continue to 480 steps: counters pick up where they were, histories grow.
    assert main(_args(checkpoint, out, 480) + ["--overlap-collection"]) == 0
    resumed = json.load(open(os.path.join(out, "train_state", "engine_state.json")))
    assert resumed["counters"]["env_steps"] == 480
    assert resumed["counters"]["iteration"] > state["counters"]["iteration"]
    assert len(resumed["histories"]["rewards_batched"]) == 2   # outputs at 160 and 320


def _error(capsys, argv):
    """(exit code, stderr) of main(argv): a user's mistake is one line and exit code 2."""
    try:
        code = main(argv)
    except SystemExit as e:      # argparse's own errors: usage, then one error line
        code = e.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_tune_flag_errors(checkpoint, tmp_path, capsys):
    base = ["tune", "--note-rnn", checkpoint, "--output-dir", str(tmp_path)]
    for extra, culprit in (
            (["--priming-mode", "single_midi"], "--midi-primer"),
            (["--midi-primer", "x.mid"], "--priming-mode single_midi"),
            (["--hparams", "minibatch_size=0"], "minibatch_size"),
            (["--reward-scaler", "nan"], "reward-scaler"),
            (["--reward-scaler", "inf"], "reward-scaler"),
            (["--num-notes-in-melody", "0"], "num-notes-in-melody"),
            (["--exploration-steps", "-1"], "exploration-steps"),
            (["--seed", "-1"], "seed")):
        code, err = _error(capsys, base + extra)
        assert code == 2 and culprit in err, (extra, err)
    code, err = _error(capsys, ["tune", "--note-rnn", str(tmp_path / "missing"),
                                "--output-dir", str(tmp_path)])
    assert code == 2 and "--note-rnn" in err and "missing" in err


def test_resume_with_other_settings_is_refused_unless_restart(checkpoint, tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(_args(checkpoint, out, 160, algorithm="q")) == 0
    code, err = _error(capsys, _args(checkpoint, out, 320, algorithm="psi"))
    assert code == 2 and "algorithm: stored 'q', now 'psi'" in err
    # Extending the run is a resume, not a change of settings.
    assert main(_args(checkpoint, out, 320, algorithm="q")) == 0
    assert main(_args(checkpoint, out, 320, algorithm="psi") + ["--restart"]) == 0
    config = json.load(open(os.path.join(out, "tuner_config.json")))
    assert config["algorithm"] == "psi" and config["config"]["algorithm"] == "psi"


def test_a_run_directory_in_use_is_refused(checkpoint, tmp_path, capsys):
    import socket
    import subprocess
    import sys
    out = tmp_path / "run"
    out.mkdir()
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / ".lock").write_text(json.dumps({"pid": owner.pid, "host": socket.gethostname(),
                                               "started": 0}))
        code, err = _error(capsys, _args(checkpoint, str(out), 160))
        assert code == 2 and f"in use by process {owner.pid}" in err
        assert not (out / "train_state").exists()
    finally:
        owner.kill()
        owner.wait()
    # The owner is gone: its lock is stale and taken over.
    assert main(_args(checkpoint, str(out), 160)) == 0
    assert not (out / ".lock").exists()


def test_extended_runs_keep_the_uninterrupted_schedule(checkpoint, tmp_path):
    """A run extended twice makes the updates, evaluations and reward batches of one long run
    (compositions in flight at each stop start afresh, so the rewards themselves differ)."""
    whole, pieces = str(tmp_path / "whole"), str(tmp_path / "pieces")
    assert main(_args(checkpoint, whole, 480, algorithm="q")) == 0
    for steps in (160, 320, 480):
        assert main(_args(checkpoint, pieces, steps, algorithm="q")) == 0
    a, b = (json.load(open(os.path.join(d, "train_state", "engine_state.json")))
            for d in (whole, pieces))
    for key in ("env_steps", "iteration", "num_times_train_called", "num_times_store_called",
                "pending_updates"):
        assert a["counters"][key] == b["counters"][key], key
    assert {k: len(v) for k, v in a["histories"].items()} == \
        {k: len(v) for k, v in b["histories"].items()}


def test_stale_temporaries_are_removed_on_resume(checkpoint, tmp_path):
    out = tmp_path / "run"
    assert main(_args(checkpoint, str(out), 160)) == 0
    state = out / "train_state"
    leftovers = [state / ".engine_state.json.ab12cd", state / ".engine-999.npz.x1y2z3",
                 state / "engine-999.npz", state / "networks" / "step-999_temp"]
    for path in leftovers[:3]:
        path.write_bytes(b"partial")
    leftovers[3].mkdir()
    assert main(_args(checkpoint, str(out), 320)) == 0
    assert not any(p.exists() for p in leftovers)
    assert len(list(state.glob("engine-*.npz"))) == 1


def nonfinite_bonus(ctx):
    """A user reward that overflows: float32 inf."""
    import numpy as np
    return np.full(len(ctx.actions), 1e300)


def test_a_non_finite_reward_stops_the_run_naming_step_and_part(checkpoint, tmp_path, capsys):
    code, err = _error(capsys, _args(checkpoint, str(tmp_path / "run"), 160, algorithm="q") +
                       ["--extra-reward", "tests.test_rl_tune_cli:nonfinite_bonus"])
    assert code == 2 and "non-finite task reward" in err and "env step 0" in err


def constant_bonus(ctx):
    """A user reward for the test below: +1000 for every note played."""
    import numpy as np
    return np.full(len(ctx.actions), 1000.0)


def test_tune_adds_a_user_reward_named_by_flag(checkpoint, tmp_path):
    runs = {}
    for name, extra in (("plain", []), ("bonus", ["--extra-reward",
                                                  "tests.test_rl_tune_cli:constant_bonus"])):
        out = str(tmp_path / name)
        assert main(_args(checkpoint, out, 320, algorithm="q") + extra) == 0
        state = json.load(open(os.path.join(out, "train_state", "engine_state.json")))
        runs[name] = state["histories"]["task_rewards_batched"][0]
    # The first reward batch covers about 160 steps: x 1000 x reward_scaler 0.1 = 16,000 more.
    assert runs["bonus"] - runs["plain"] == pytest.approx(16000, rel=0.05)


def test_killed_tune_resumes_from_its_last_checkpoint(checkpoint, tmp_path):
    import signal
    import subprocess
    import sys
    import time
    out = tmp_path / "killed"
    args = _args(checkpoint, str(out), 6000)
    args[args.index("--output-every-nth") + 1] = "400"
    cmd = [sys.executable, "-m", "sequence_tutor_tf.cli.main", *args]
    state_file = out / "train_state" / "engine_state.json"
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and not state_file.exists():
        assert first.poll() is None, "the first run ended before it could be interrupted"
        time.sleep(0.1)
    time.sleep(1.0)
    assert first.poll() is None, "the first run ended before it could be interrupted"
    first.send_signal(signal.SIGKILL)
    first.wait()
    saved = json.loads(state_file.read_text())["counters"]["env_steps"]
    assert 0 < saved < 6000
    # The resumed run also sets TensorFlow's thread pools (read back, so they took effect).
    proc = subprocess.run(cmd + ["--intra-op-threads", "1", "--inter-op-threads", "2"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"resuming from env step {saved} of 6000" in proc.stderr
    assert "TensorFlow threads: intra-op 1, inter-op 2" in proc.stderr
    assert json.loads(state_file.read_text())["counters"]["env_steps"] == 6000


def test_a_crafted_state_index_cannot_make_tune_read_or_delete_outside_the_run(checkpoint,
                                                                               tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_args(checkpoint, str(out), 160)) == 0
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    index = out / "train_state" / "engine_state.json"
    for field, value in (("engine_arrays", str(victim)), ("network_checkpoint", "../../x")):
        meta = json.loads(index.read_text())
        good = meta[field]
        meta[field] = value
        index.write_text(json.dumps(meta))
        code, err = _error(capsys, _args(checkpoint, str(out), 320))
        assert code == 2 and field in err and ("outside" in err or "relative" in err), err
        assert victim.read_text() == "keep me"
        meta[field] = good
        index.write_text(json.dumps(meta))
