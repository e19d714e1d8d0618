"""scripts/ablate_molecules.py end to end at toy size, on a tiny `reproduce molecules --quick`:
`base` reuses the reproduction's run, another setting trains with its change, the tables are
written, and a second invocation trains and scores nothing again. Values are not checked."""
import json
import os
import subprocess
import sys

from sequence_tutor_tf.cli.main import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _ablate(*argv):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    return subprocess.run([sys.executable, "scripts/ablate_molecules.py", *argv], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=400)


def test_molecule_ablation_reuses_the_reproduction_and_resumes(tmp_path):
    source = str(tmp_path / "reproduction")
    assert main(["reproduce", "molecules", "--quick", "--output-dir", source, "--algorithms",
                 "q", "--pretrain-steps", "20", "--training-steps", "256",
                 "--eval-compositions", "30", "--num-envs", "16"]) == 0
    out = tmp_path / "ablation"
    argv = ["--from", source, "--output-dir", str(out), "--settings", "base,scaler_0.1",
            "--algorithms", "q", "--eval-samples", "20"]
    first = _ablate(*argv)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-3000:]
    assert "[base q] tuning" not in first.stdout          # the reproduction's q_seed0
    assert "[scaler_0.1 q] tuning 256 steps" in first.stdout
    config = json.loads((out / "runs" / "scaler_0.1_q" / "tuner_config.json").read_text())
    assert config["reward_scaler"] == 0.1 and config["config"]["training_steps"] == 256
    data = json.loads((out / "ablation.json").read_text())
    assert set(data["results"]) == {"base/q", "scaler_0.1/q"}
    assert data["results"]["base/q"]["run_dir"] == os.path.join(source, "runs", "q_seed0")
    for result in data["results"].values():
        assert result["num_sequences"] == 20 and 0 <= result["percent_valid"] <= 100
    table = (out / "ablation.md").read_text()
    assert "| MLE (prior) |" in table and "| scaler_0.1 |" in table and "## q" in table
    second = _ablate(*argv)
    assert second.returncode == 0 and "tuning" not in second.stdout, second.stdout
    assert json.loads((out / "ablation.json").read_text()) == data
    bad = _ablate("--from", str(tmp_path), "--output-dir", str(out))
    assert bad.returncode == 2 and "no reproduce_config.json" in bad.stderr
    assert "Traceback" not in bad.stderr
