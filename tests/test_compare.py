"""`sequence-tutor compare` end to end at a tiny budget, `tune --algorithm` for the on-policy
learners (run directory, resume, refusals), and the Pareto front."""
import json
import os

import numpy as np
import pytest

import sequence_tutor_tf  # noqa: F401
from sequence_tutor_tf.cli.main import main
from sequence_tutor_tf.compare.plot import pareto_front


@pytest.fixture(scope="module")
def note_rnn(tmp_path_factory):
    from sequence_tutor_tf.models.checkpoints import save_note_rnn
    from sequence_tutor_tf.models.note_rnn import NoteRNN
    path = str(tmp_path_factory.mktemp("prior") / "note_rnn")
    save_note_rnn(NoteRNN([8]), path)
    return path


@pytest.fixture(scope="module")
def melodies(tmp_path_factory):
    from sequence_tutor_tf.music.midi import write_midi
    root = tmp_path_factory.mktemp("midi")
    rng = np.random.default_rng(0)
    for i in range(3):
        notes = rng.choice([14, 16, 17, 19, 21, 23, 26], size=64)   # C major, 2 steps each
        events = np.stack([notes, np.ones_like(notes)], 1).reshape(-1)
        write_midi(events, str(root / f"m{i}.mid"))
    return str(root)


def _error(capsys, argv):
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_compare_end_to_end(note_rnn, melodies, tmp_path, capsys):
    out = str(tmp_path / "cmp")
    argv = ["compare", "--note-rnn", note_rnn, "--output-dir", out, "--training-steps", "256",
            "--algorithms", "q", "ppo_kl", "raml", "--seeds", "3", "--num-envs", "8",
            "--num-notes-in-melody", "8",
            "--onpolicy-num-envs", "8", "--eval-samples", "16", "--eval-trials", "0",
            "--raml-data", melodies, "--no-jit"]
    assert main(argv) == 0
    rows = json.load(open(os.path.join(out, "results.json")))
    assert [r["learner"] for r in rows] == ["prior", "q", "ppo_kl", "raml"]
    for r in rows[1:]:
        assert 256 <= r["env_steps"] < 256 + 8 * 8 * 4 and r["wall_s"] > 0 and r["seed"] == 3
        assert os.path.isfile(os.path.join(r["run_dir"], "tuner_config.json"))
        for key in ("task_reward", "kl_per_token", "entropy_per_token", "distinct_2",
                    "music/Notes in motif"):
            assert np.isfinite(r[key]), key
    assert rows[0]["kl_per_token"] == pytest.approx(0.0, abs=1e-5)
    assert all(r["kl_per_token"] > 0 for r in rows[1:] if r["learner"] == "q")
    table = open(os.path.join(out, "table.md")).read()
    assert "| ppo_kl | 1 |" in table and "Notes in motif" in table
    assert os.path.getsize(os.path.join(out, "pareto.png")) > 1000
    # A rerun scores the finished runs again without training them (wall time kept).
    walls = {(r["learner"], r["seed"]): r["wall_s"] for r in rows[1:]}
    assert main(argv) == 0
    again = json.load(open(os.path.join(out, "results.json")))
    assert {(r["learner"], r["seed"]): r["wall_s"] for r in again[1:]} == walls
    code, err = _error(capsys, argv[:-1] + ["--learner-hparams", "nope:x=1"])
    assert code == 2 and "--learner-hparams" in err
    code, err = _error(capsys, [a for a in argv if a != melodies and a != "--raml-data"])
    assert code == 2 and "--raml-data" in err


def test_compare_passes_offpolicy_settings_to_its_runs(note_rnn, tmp_path, capsys):
    # The molecule comparison on the qed reward needs the off-policy learners' discount, update
    # rate and exploration changed, as tune --hparams / --exploration-mode change them.
    out = str(tmp_path / "cmp")
    argv = ["compare", "--note-rnn", note_rnn, "--output-dir", out, "--training-steps", "64",
            "--algorithms", "q", "--seeds", "0", "--num-envs", "8", "--num-notes-in-melody",
            "8", "--eval-samples", "8", "--eval-trials", "0", "--no-jit",
            "--exploration-mode", "egreedy", "--hparams", "discount_rate=0.9,train_every_nth=4"]
    assert main(argv) == 0
    config = json.load(open(os.path.join(out, "runs", "q-seed0", "tuner_config.json")))
    flat = json.dumps(config)
    assert '"exploration_mode": "egreedy"' in flat
    assert "discount_rate=0.9,train_every_nth=4" in flat
    code, err = _error(capsys, argv[:-1] + ["discount_rate=oops"])
    assert code == 2 and "discount_rate" in err


def test_tune_onpolicy_run_dir_resume_and_refusals(note_rnn, tmp_path, capsys):
    out = str(tmp_path / "run")
    base = ["tune", "--note-rnn", note_rnn, "--output-dir", out, "--algorithm", "dap",
            "--num-envs", "8", "--output-every-nth", "256", "--eval-trials", "4",
            "--num-notes-in-melody", "16", "--num-samples", "1", "--no-progress", "--no-jit"]
    assert main(base + ["--training-steps", "256"]) == 0
    for d in ("q_network", "reward_rnn", "train_state", "logs", "plots", "samples"):
        assert os.path.isdir(os.path.join(out, d)), d
    config = json.load(open(os.path.join(out, "tuner_config.json")))
    assert config["algorithm"] == "dap" and config["learner_hparams"]["sigma"] == 128.0
    assert main(base + ["--training-steps", "512"]) == 0
    state = json.load(open(os.path.join(out, "train_state", "engine_state.json")))
    assert state["counters"]["env_steps"] == 512 and state["counters"]["iteration"] == 4
    code, err = _error(capsys, base + ["--training-steps", "768", "--learner-hparams",
                                       "sigma=60"])
    assert code == 2 and "learner_hparams.sigma: stored 128.0, now 60.0" in err
    code, err = _error(capsys, base + ["--learner-hparams", "nonsense=1"])
    assert code == 2 and "nonsense" in err
    code, err = _error(capsys, ["tune", "--note-rnn", note_rnn, "--output-dir", out + "x",
                                "--algorithm", "q", "--learner-hparams", "sigma=1"])
    assert code == 2 and "--learner-hparams" in err
    # The tuned policy exports like q's (softmax of q_network's scores) and generates.
    from sequence_tutor_tf._tf import tf
    from sequence_tutor_tf.models.checkpoints import load_note_rnn
    exported = str(tmp_path / "saved_model")
    assert main(["export", "--checkpoint", out, "--out", exported]) == 0
    m = tf.saved_model.load(exported)
    assert json.loads(m.signatures["metadata"]()["json"].numpy().decode())["algorithm"] == "dap"
    policy, _ = load_note_rnn(os.path.join(out, "q_network"))
    events = np.array([3, 7], np.int32)
    state = m.signatures["initial_state"](batch_size=tf.constant(2))["state"]
    probs = m.signatures["step_indices"](events=tf.constant(events), state=state)
    logits, _ = policy.step_eager(events, np.zeros([2, policy.state_size], np.float32))
    np.testing.assert_allclose(probs["probabilities"].numpy(), tf.nn.softmax(logits).numpy(),
                               atol=1e-6)
    assert main(["generate", "--checkpoint", out, "--output-dir", str(tmp_path / "gen"),
                 "--num-outputs", "2", "--num-steps", "8"]) == 0


def test_table_aggregates_seeds():
    from sequence_tutor_tf.compare.runner import markdown_table
    rows = [{"learner": "q", "seed": s, "task_reward": r, "kl_per_token": 1.0, "env_steps": 10,
             "wall_s": 2.0, "music/Notes in motif": 0.5} for s, r in ((0, 1.0), (1, 3.0))]
    table = markdown_table(rows, "music")
    assert "| q | 2 | 2 ± 1 | 1 ± 0 |" in table and "Notes in motif" in table


def test_table_marks_a_metric_no_seed_has(recwarn):
    # QED is undefined for a learner whose molecules are all invalid: a dash, no NumPy warning.
    from sequence_tutor_tf.compare.runner import markdown_table
    rows = [{"learner": "q", "seed": s, "task_reward": 0.0, "kl_per_token": 1.0,
             "molecules/qed": q}
            for s, q in ((0, float("nan")), (1, float("nan")))]
    rows += [{"learner": "g", "seed": s, "task_reward": 1.0, "kl_per_token": 1.0,
              "molecules/qed": q}
             for s, q in ((0, 0.8), (1, float("nan")))]
    lines = markdown_table(rows, "molecules").splitlines()
    assert lines[2].endswith("| - |") and lines[3].endswith("| 0.8 ± 0 |"), lines
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_pareto_front():
    points = [(0.0, -5.0), (1.0, 3.0), (2.0, 2.0), (0.5, 3.0), (3.0, 4.0)]
    assert pareto_front(points) == [0, 3, 4]
