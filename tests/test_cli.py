"""The command line itself: `--config` files, flag checks, --help."""
import json
import subprocess
import sys

import pytest

from sequence_tutor_tf.cli.common import expand_config_file
from sequence_tutor_tf.cli.main import SUBCOMMANDS, build_parser, main


def _parse(argv):
    parser = build_parser()
    return parser.parse_args(expand_config_file(parser, argv))


def test_config_file_supplies_required_flags_and_typed_values(tmp_path):
    config = tmp_path / "tune.json"
    config.write_text(json.dumps({"note_rnn": "ckpt", "output_dir": "out", "algorithm": "psi",
                                  "num_envs": 64, "reward_scaler": 0.5, "jit": False,
                                  "magenta_bugs": False, "extra_reward": ["a:b", "c:d"]}))
    args = _parse(["tune", "--config", str(config)])
    assert (args.note_rnn, args.output_dir, args.algorithm) == ("ckpt", "out", "psi")
    assert args.num_envs == 64 and args.reward_scaler == 0.5
    assert args.jit is False and args.magenta_bugs is False
    assert args.extra_reward == ["a:b", "c:d"]
    # A flag on the command line wins over the file.
    assert _parse(["tune", "--config", str(config), "--num-envs", "8"]).num_envs == 8
    layers = tmp_path / "pretrain.json"
    layers.write_text(json.dumps({"rnn_layer_sizes": [512, 512]}))
    assert _parse(["pretrain", "--config", str(layers)]).rnn_layer_sizes == [512, 512]


@pytest.mark.parametrize("settings, message", [
    ({"num_envs": 0}, "positive integer"),
    ({"algorithm": "sarsa"}, "invalid choice"),
    ({"jit": "no"}, "true or false"),
    ({"num_env": 3}, "unknown settings"),
])
def test_bad_config_values_are_refused_like_bad_flags(tmp_path, capsys, settings, message):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps(dict({"note_rnn": "x", "output_dir": "y"}, **settings)))
    with pytest.raises(SystemExit) as exit_info:
        _parse(["tune", "--config", str(config)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_every_subcommand_explains_itself(capsys):
    for name in SUBCOMMANDS:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        out = capsys.readouterr().out
        assert "usage: sequence-tutor " + name in out
        assert "--output-dir" in out or name in ("convert", "inspect", "export"), name


def test_console_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "sequence_tutor_tf.cli.main", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and all(name in out.stdout for name in SUBCOMMANDS)


def test_tensorflow_warnings_print_once():
    # tf_keras's import gives the "tensorflow" logger its own handler before ours exists; a Keras
    # warning ("Callback method ... is slow") then printed twice in every pretrain.
    code = ("import os; os.environ['TF_USE_LEGACY_KERAS'] = '1'\n"
            "import tensorflow as tf, tf_keras\n"
            "from sequence_tutor_tf.cli.common import configure_logging\n"
            "configure_logging('INFO')\n"
            "tf.get_logger().warning('probe-warning')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stderr.count("probe-warning") == 1, out.stderr[-2000:]
