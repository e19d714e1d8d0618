"""A sweep's runs: a grid over `tune` flags, read from a JSON or YAML file.

    # sweep.yaml
    output_dir: runs/sweep          # optional; --output-dir wins
    base:                           # tune settings every run shares (keys: tune's flag names)
      note_rnn: runs/pretrain/note_rnn
      training_steps: 20000
    grid:                           # every combination of these values is one run
      algorithm: [q, psi, g]
      seed: [0, 1, 2]

Each run is an ordinary `tune` output directory, SWEEP_ROOT/runs/NAME, NAME made of its grid
values (`algorithm=q,seed=0`). The settings of every run are checked with `tune`'s own parser
before the first run starts. Nothing here imports TensorFlow.
"""
import dataclasses
import itertools
import json
import os
import re

from sequence_tutor_tf.cli.errors import UserError

# Set by the sweep for each run; a config may not set them.
RESERVED = ("output_dir", "config")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


@dataclasses.dataclass
class RunSpec:
    """One run of a sweep: its name, directory, grid values and `sequence-tutor` argv."""
    name: str
    run_dir: str
    hparams: dict          # the grid values of this run (what the HParams dashboard compares)
    settings: dict         # every tune setting given (base + grid), as in the config file
    argv: list             # ["tune", ...flags..., "--output-dir", run_dir]


def read_config(path):
    """The sweep config file as a dict (JSON, or YAML when it ends in .yaml / .yml)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise UserError(f"CONFIG {path}: cannot read it ({e.strerror or e})") from None
    try:
        if path.lower().endswith((".yaml", ".yml")):
            try:
                import yaml
            except ImportError:
                raise UserError(f"CONFIG {path}: reading YAML needs PyYAML (pip install pyyaml);"
                                " or write the config as JSON") from None
            config = yaml.safe_load(text)
        else:
            config = json.loads(text)
    except UserError:
        raise
    except Exception as e:   # json.JSONDecodeError, yaml.YAMLError
        kind = "YAML" if path.lower().endswith((".yaml", ".yml")) else "JSON"
        raise UserError(f"CONFIG {path}: not valid {kind} ({str(e).splitlines()[0]})") from None
    if not isinstance(config, dict):
        raise UserError(f"CONFIG {path}: expected an object with 'grid' (and optionally 'base', "
                        f"'output_dir'), got {type(config).__name__}")
    unknown = sorted(set(config) - {"base", "grid", "output_dir", "command"})
    if unknown:
        raise UserError(f"CONFIG {path}: unknown keys {unknown}; expected base, grid, "
                        "output_dir (and command: tune)")
    if config.get("command", "tune") != "tune":
        raise UserError(f"CONFIG {path}: command {config.get('command')!r}: sweeps run `tune`")
    for key in ("base", "grid"):
        if not isinstance(config.get(key, {}), dict):
            raise UserError(f"CONFIG {path}: '{key}' must be an object of tune settings")
    grid = config.get("grid") or {}
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise UserError(f"CONFIG {path}: grid {key!r} must be a non-empty list of values, "
                            f"got {values!r}")
    return config


def _value_text(value):
    text = json.dumps(value) if isinstance(value, (list, dict, bool)) or value is None \
        else str(value)
    return _UNSAFE.sub("_", text)[:60]


def run_name(hparams):
    """`algorithm=q,seed=0` (values made safe for a file name)."""
    return ",".join(f"{k}={_value_text(v)}" for k, v in hparams.items()) or "run"


def expand(config):
    """[(grid values, settings)] of every combination, in the grid's key order."""
    base = dict(config.get("base") or {})
    grid = config.get("grid") or {}
    keys = list(grid)
    runs = []
    for values in itertools.product(*(grid[k] for k in keys)):
        hparams = dict(zip(keys, values))
        runs.append((hparams, dict(base, **hparams)))
    return runs


def _tune_parser():
    from sequence_tutor_tf.cli.main import build_parser
    parser = build_parser(only="tune")
    sub = next(a for a in parser._actions if hasattr(a, "choices") and isinstance(a.choices, dict))
    tune = sub.choices["tune"]
    tune.print_usage = lambda file=None: None   # its error line alone names the bad setting
    return tune


def tune_argv(settings, run_dir, parser=None, where="CONFIG"):
    """["tune", flags...] for `settings` (tune flag names as keys), checked by tune's parser."""
    from sequence_tutor_tf.cli.common import _settings_to_flags
    parser = parser or _tune_parser()
    bad = sorted(k for k in settings if k.replace("-", "_") in RESERVED)
    if bad:
        raise UserError(f"{where}: {bad} are set by the sweep for each run; leave them out")
    try:
        flags = _settings_to_flags(parser, settings, where)
        argv = ["tune"] + flags + ["--output-dir", run_dir]
        parser.parse_args(argv[1:])
    except SystemExit:     # argparse printed what is wrong (usage and message) above
        raise UserError(f"{where}: not valid tune settings (tune's message is above)") from None
    return argv


def plan(config, root, where="CONFIG"):
    """The RunSpecs of a sweep into `root`; every run's flags checked before any starts."""
    parser = _tune_parser()
    specs, seen = [], {}
    for hparams, settings in expand(config):
        name = run_name(hparams)
        if name in seen:
            raise UserError(f"{where}: runs {seen[name]} and {hparams} get the same directory "
                            f"name {name!r}; make the grid values differ")
        seen[name] = hparams
        run_dir = os.path.abspath(os.path.join(root, "runs", name))
        # No progress bars in the runs' log files, unless the config asks for them.
        argv = tune_argv(dict({"progress": False}, **settings), run_dir, parser,
                         f"{where} (run {name})")
        specs.append(RunSpec(name, run_dir, hparams, settings, argv))
    if not specs:
        raise UserError(f"{where}: the grid is empty")
    return specs
