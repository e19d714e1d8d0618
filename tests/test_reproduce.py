"""`sequence-tutor reproduce music --quick` end to end (with smaller step counts): every file of
the report is written and the table has the paper's shape. Values are not checked here: they
depend on the corpus and the step counts (the closing notes report full runs)."""
import csv
import json
import os
import subprocess
import sys

from sequence_tutor_tf.reproduce.paper_table import MODELS, ROWS


def test_quick_reproduction_writes_table_plots_midi_and_report(tmp_path):
    out = tmp_path / "reproduce"
    cmd = [sys.executable, "scripts/reproduce_music.py", "--quick", "--output-dir", str(out),
           "--corpus", "bach[0:40]", "--cache-dir", str(tmp_path / "cache"),
           "--pretrain-steps", "20", "--training-steps", "1500", "--exploration-steps", "500",
           "--eval-compositions", "200", "--num-envs", "64"]
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=400, cwd=repo)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert f"report: {out / 'report.md'}" in proc.stdout
    for stage in ("[1/4]", "[2/4] tuning q", "[2/4] tuning psi", "[2/4] tuning g", "[3/4]",
                  "[4/4]"):
        assert stage in proc.stdout, stage

    rows = list(csv.reader((out / "table.csv").open()))
    assert rows[0][0] == "metric" and [r[0] for r in rows[1:]] == [r.name for r in ROWS]
    ours = [m for m in MODELS]
    assert rows[0][1:] == ([f"{m}_mean" for m in ours] + [f"{m}_std" for m in ours]
                           + [f"{m}_paper" for m in MODELS])
    assert all(len(r) == len(rows[0]) for r in rows)
    table_md = (out / "table.md").read_text()
    assert table_md.count("\n|") == len(ROWS) + 1 and "arXiv:1611.02796" in table_md

    conservative = json.loads((out / "conservative.json").read_text())
    assert sorted(conservative) == sorted(MODELS)
    # The MLE row samples the Note RNN itself, so it is at zero KL from itself.
    assert abs(conservative["MLE"][0]["kl_from_prior_per_note"]) < 1e-4
    stats = json.loads((out / "stats.json").read_text())
    assert stats["Q"][0]["num_compositions"] == 200

    plots = set(os.listdir(out / "plots"))
    assert {"reward_curves.png", "evaluation_curves.png", "piano_rolls.png"} <= plots
    assert {f"note_probabilities_{m.lower()}.png" for m in MODELS} <= plots
    assert len([f for f in os.listdir(out / "midi") if f.endswith(".mid")]) == 16
    report = (out / "report.md").read_text()
    assert "## Table 1" in report and "plots/piano_rolls.png" in report
    # It opens in plain words: the music-theory reward of each model against the Note RNN.
    first = report.split("\n\n")[1]
    assert "The Note RNN (MLE) earns" in first and "Settings: `paper`" in report
    for model in ("Q", "Psi", "G"):
        assert f"\n- {model} beats it" in first or f"\n- {model} does not beat it" in first
    assert len([f for f in os.listdir(out / "audio") if f.endswith(".wav")]) == 4
    assert "audio/q_0.wav" in report
    for alg in ("q", "psi", "g"):
        assert (out / "runs" / f"{alg}_seed0" / "tuner_config.json").exists()

    # A finished reproduction rerun skips every finished stage; evaluating the same models with
    # the same seeds rewrites the same table (evaluation is deterministic).
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=400, cwd=repo)
    assert again.returncode == 0, again.stderr[-4000:]
    assert "already trained" in again.stderr and "already tuned" in again.stderr
    assert list(csv.reader((out / "table.csv").open())) == rows
