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
            "--hparams", "minibatch_size=8,max_experience=2000", "--no-progress", "--no-jit"]


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


def test_tune_flag_errors(checkpoint, tmp_path):
    with pytest.raises(SystemExit, match="midi-primer"):
        main(["tune", "--note-rnn", checkpoint, "--output-dir", str(tmp_path),
              "--priming-mode", "single_midi"])
    with pytest.raises(SystemExit, match="minibatch_size"):
        main(["tune", "--note-rnn", checkpoint, "--output-dir", str(tmp_path),
              "--hparams", "minibatch_size=0"])
    with pytest.raises(SystemExit, match="--note-rnn: .*missing: no such file"):
        main(["tune", "--note-rnn", str(tmp_path / "missing"), "--output-dir", str(tmp_path)])


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
        runs[name] = state["histories"]["music_theory_rewards_batched"][0]
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
