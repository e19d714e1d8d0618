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
    out = str(tmp_path / "run")
    assert main(_args(checkpoint, out, 320)) == 0
    for d in ("q_network", "reward_rnn", "train_state", "logs", "plots", "samples"):
        assert os.path.isdir(os.path.join(out, d)), d
    config = json.load(open(os.path.join(out, "tuner_config.json")))
    assert config["algorithm"] == "g" and config["reward_mode"] == "music_theory_only"
    assert config["hparams"]["discount_rate"] == 0.5 and config["env_steps"] == 320
    assert os.listdir(os.path.join(out, "samples")) == ["g_0.mid"]
    state = json.load(open(os.path.join(out, "train_state", "engine_state.json")))
    # Continue to 480 steps: counters pick up where they were, histories grow.
    assert main(_args(checkpoint, out, 480)) == 0
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
    with pytest.raises(FileNotFoundError, match="not found"):
        main(["tune", "--note-rnn", str(tmp_path / "missing"), "--output-dir", str(tmp_path)])
