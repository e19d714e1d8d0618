"""`sequence-tutor sweep` (issue 17 part 5): a grid over tune flags, run on a Ray instance the test
starts, then resumed with local workers; and `reproduce --workers` tuning what the serial path
tunes. Tiny budgets: a 4-unit Note RNN, 48 env steps per run."""
import json
import os
import subprocess
import sys

import pytest

from sequence_tutor_tf.cli.errors import UserError


@pytest.fixture(scope="module")
def note_rnn(tmp_path_factory):
    from sequence_tutor_tf.models.checkpoints import save_note_rnn
    from sequence_tutor_tf.models.note_rnn import NoteRNN
    directory = str(tmp_path_factory.mktemp("sweep_prior") / "note_rnn")
    save_note_rnn(NoteRNN([4]), directory)
    return directory


def _config(note_rnn, path, grid):
    base = {"note_rnn": note_rnn, "training_steps": 48, "num_envs": 8, "output_every_nth": 24,
            "eval_trials": 4, "num_notes_in_melody": 8, "num_samples": 0, "jit": False,
            "hparams": "minibatch_size=8,max_experience=200", "settings": "code"}
    if path.endswith(".yaml"):
        import yaml
        text = yaml.safe_dump({"base": base, "grid": grid})
    else:
        text = json.dumps({"base": base, "grid": grid})
    with open(path, "w") as f:
        f.write(text)
    return path


def test_plan_checks_every_run_before_starting_and_names_runs(note_rnn, tmp_path):
    from sequence_tutor_tf.sweep import plan, read_config
    path = _config(note_rnn, str(tmp_path / "grid.yaml"),
                   {"algorithm": ["q", "psi"], "reward_scaler": [0.1, 1.0]})
    specs = plan(read_config(path), str(tmp_path / "out"))
    assert [s.name for s in specs] == ["algorithm=q,reward_scaler=0.1",
                                       "algorithm=q,reward_scaler=1.0",
                                       "algorithm=psi,reward_scaler=0.1",
                                       "algorithm=psi,reward_scaler=1.0"]
    assert specs[3].argv[:1] == ["tune"] and "--no-progress" in specs[3].argv
    assert specs[3].argv[-2:] == ["--output-dir", specs[3].run_dir]
    assert specs[3].run_dir == str(tmp_path / "out" / "runs" / specs[3].name)
    bad = _config(note_rnn, str(tmp_path / "bad.json"), {"algorithm": ["q", "qq"]})
    with pytest.raises(UserError, match="algorithm=qq"):
        plan(read_config(bad), str(tmp_path / "out"))
    typo = _config(note_rnn, str(tmp_path / "typo.json"), {"algoritm": ["q"]})
    with pytest.raises(UserError, match="not valid tune settings"):
        plan(read_config(typo), str(tmp_path / "out"))


def test_reproduce_runs_through_tune_get_the_serial_config():
    """reproduce --workers runs `tune` processes; they must resolve the TunerConfig the serial
    path (tune_config) trains with, or a resumed reproduction would be refused or differ."""
    from sequence_tutor_tf.cli.tune import configs_from_args
    from sequence_tutor_tf.reproduce.music import PRESETS, tune_config, tune_settings
    from sequence_tutor_tf.sweep.grid import _tune_parser, tune_argv
    parser = _tune_parser()
    for settings in ("paper", "code"):
        for fix_quirks in (False, True):
            for algorithm in ("q", "psi", "g"):
                values = tune_settings(algorithm, PRESETS["quick"], 5, settings, fix_quirks,
                                       "prior/note_rnn")
                args = parser.parse_args(tune_argv(values, "/tmp/run", parser)[1:])
                config, domain = configs_from_args(args)
                assert config == tune_config(algorithm, PRESETS["quick"], 5, settings,
                                             fix_quirks)
                assert domain.note_rnn == "prior/note_rnn"


def _sweep(*argv):
    return subprocess.run([sys.executable, "-m", "sequence_tutor_tf.cli.main", "sweep", *argv],
                          capture_output=True, text=True, timeout=600)


def test_two_run_sweep_on_ray_then_an_interrupted_sweep_resumes_locally(note_rnn, tmp_path):
    ray = pytest.importorskip("ray")
    from tensorboard.backend.event_processing import event_accumulator
    config = _config(note_rnn, str(tmp_path / "sweep.json"), {"algorithm": ["q", "psi"]})
    out = str(tmp_path / "sweep")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        address = ray.get_runtime_context().gcs_address
        proc = _sweep(config, "--output-dir", out, "--ray-address", address)
    finally:
        ray.shutdown()
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "2 run(s) on Ray at" in proc.stdout
    summary = json.load(open(os.path.join(out, "sweep_summary.json")))
    assert summary["backend"] == "ray" and summary["executed"] == 2
    for run in summary["runs"]:
        assert run["status"] == "finished"
        # An ordinary tune output directory, trained to the budget.
        state = json.load(open(os.path.join(run["run_dir"], "train_state",
                                            "engine_state.json")))
        assert state["counters"]["env_steps"] == 48
        assert "objective/kl" in run["metrics"] and "loss" in run["metrics"]
        # The HParams session record sits beside tune's own scalars.
        acc = event_accumulator.EventAccumulator(os.path.join(run["run_dir"], "logs"))
        acc.Reload()
        assert "_hparams_/session_start_info" in acc.PluginTagToContent("hparams")
    root = event_accumulator.EventAccumulator(os.path.join(out, "logs"))
    root.Reload()
    assert "_hparams_/experiment" in root.PluginTagToContent("hparams")

    # Interrupt one run's record (as a kill before it was written would) and rerun locally:
    # the finished run is skipped, the other runs again and resumes its tune directory.
    q_dir = os.path.join(out, "runs", "algorithm=q")
    os.remove(os.path.join(q_dir, "sweep_run.json"))
    proc = _sweep(config, "--output-dir", out, "--workers", "2")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "1 of 2 runs already finished, skipped" in proc.stdout
    summary = json.load(open(os.path.join(out, "sweep_summary.json")))
    assert summary["executed"] == 1 and summary["skipped"] == ["algorithm=psi"]
    log = open(os.path.join(q_dir, "sweep.log")).read()
    from sequence_tutor_tf.sweep.runner import available_cpus, thread_pools
    intra, inter = thread_pools(available_cpus(), 1)    # one run left: it gets every core
    assert f"--intra-op-threads {intra} --inter-op-threads {inter}" in log
    assert "tuned q for 48 env steps" in log
