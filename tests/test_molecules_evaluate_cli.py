"""`sequence-tutor evaluate --domain molecules`: molecules.csv, evaluate.json and bad input."""
import csv
import json
import os
import subprocess
import sys

import pytest

from sequence_tutor_tf.cli.main import main

LINES = ["CCO", "C1CC", "", "c1ccccc1", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "CCO"]


def test_csv_columns_rows_and_summary(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SEQUENCE_TUTOR_CACHE", str(tmp_path / "cache"))
    f = tmp_path / "gen.smi"
    f.write_text("\n".join(LINES) + "\n")
    train = tmp_path / "train.smi"
    train.write_text("CCO\n")
    out = tmp_path / "out"
    assert main(["evaluate", "--domain", "molecules", str(f), "--output-dir", str(out),
                 "--train", str(train), "--reference", str(train), "--log-level",
                 "WARNING"]) == 0
    with open(out / "molecules.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["smiles", "valid", "logp", "sa", "qed", "ring_penalty", "score"]
    assert [r[0] for r in rows[1:]] == LINES                       # one row per line, in order
    assert [r[1] for r in rows[1:]] == ["1", "0", "0", "1", "1", "1"]
    assert rows[2][2:] == [""] * 5 and rows[3][2:] == [""] * 5
    caffeine = [float(x) for x in rows[5][2:]]
    assert caffeine[:4] == pytest.approx([-1.0293, 2.2980, 0.5385, 0], abs=1e-3)
    assert caffeine[4] == pytest.approx(3 * caffeine[0] - 2 * caffeine[1] + 5 * caffeine[3]
                                        + 50 * caffeine[2], abs=1e-6)
    report = json.loads((out / "evaluate.json").read_text())
    stats, moses = report["paper_statistics"], report["moses_metrics"]
    assert stats["percent_valid"] == pytest.approx(400 / 6) and stats["num_sequences"] == 6
    assert moses["unique@1k"] == pytest.approx(3 / 4) and moses["novelty"] == pytest.approx(2 / 3)
    assert moses["scaf"] is None          # the 1-molecule reference has no 2-ring scaffold
    assert 0 < moses["frag"] <= 1
    assert "fcd_note" in moses
    assert "percent_valid" in capsys.readouterr().out


def test_music_is_still_the_default_domain():
    from sequence_tutor_tf.cli.main import build_parser
    args = build_parser().parse_args(["evaluate", "x.mid"])
    assert args.domain == "music"


BAD_CASES = {
    "empty": ("empty.smi", "", "empty.smi: the file holds no SMILES"),
    "blank": ("blank.smi", "\n\n", "blank.smi: the file holds no SMILES"),
    "unknown": ("odd.smi", "CCO\nC[Na+].[Cl-]\n", "odd.smi:2: character 'a' at column 4"),
    "binary": ("bin.smi", b"CCO\n\xff\n", "bin.smi:2: not UTF-8"),
    "missing": ("missing.smi", None, "missing.smi: no such file"),
    "directory": ("adir", "dir", "is a directory"),
}


def test_bad_inputs_exit_2_with_one_line_and_no_traceback(tmp_path, capsys, monkeypatch):
    """Every case through main() in this process (an escaping exception would fail the test),
    and one through the installed entry point in a subprocess, checked at the process level."""
    monkeypatch.setenv("SEQUENCE_TUTOR_CACHE", str(tmp_path / "c"))
    paths = {}
    for name, (fname, content, _) in BAD_CASES.items():
        p = tmp_path / fname
        if content == "dir":
            os.makedirs(p)
        elif isinstance(content, bytes):
            p.write_bytes(content)
        elif content is not None:
            p.write_text(content)
        paths[name] = str(p)
    for name, (_, _, words) in BAD_CASES.items():
        code = main(["evaluate", "--domain", "molecules", paths[name], "--output-dir",
                     str(tmp_path / "o"), "--train", "none", "--reference", "none"])
        err = capsys.readouterr().err
        assert code == 2, (name, err)
        assert err.count("\n") == 1 and "Traceback" not in err, (name, err)
        assert err.startswith("sequence-tutor evaluate: error: ") and words in err, (name, err)
    # as a user runs it: no TF_CPP_MIN_LOG_LEVEL, so main() filters TensorFlow's start-up lines
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["SEQUENCE_TUTOR_CACHE"] = str(tmp_path / "c")
    proc = subprocess.run([sys.executable, "-m", "sequence_tutor_tf.cli.main", "evaluate",
                           "--domain", "molecules", paths["unknown"]],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and BAD_CASES["unknown"][2] in lines[0], proc.stderr


def test_bad_extra_component_is_a_user_error(tmp_path, capsys):
    f = tmp_path / "gen.smi"
    f.write_text("CCO\n")
    assert main(["evaluate", "--domain", "molecules", str(f), "--extra-reward",
                 "math:no_such_function", "--train", "none", "--reference", "none"]) == 2
    assert "has no function 'no_such_function'" in capsys.readouterr().err
