"""Run a grid of `tune` runs in parallel, on local worker processes or on a Ray cluster.

CONFIG (JSON, or YAML ending in .yaml/.yml) holds `base` (tune settings every run shares; keys
are tune's flag names, as in `tune --config`), `grid` (lists of values; each combination is one
run) and optionally `output_dir`:

    {"output_dir": "runs/sweep",
     "base": {"note_rnn": "runs/pretrain/note_rnn", "training_steps": 20000},
     "grid": {"algorithm": ["q", "psi", "g"], "seed": [0, 1, 2]}}

Each run is an ordinary `tune` output directory, OUTPUT_DIR/runs/NAME (NAME from its grid
values, e.g. `algorithm=q,seed=0`), with its output in NAME/sweep.log. Rerunning the same
command resumes an interrupted sweep: finished runs are skipped, unfinished ones continue from
their last checkpoint. OUTPUT_DIR gets sweep_summary.json / .csv (status, wall time, final
scalars of every run) and TensorBoard HParams records: `tensorboard --logdir OUTPUT_DIR`, tab
HPARAMS, compares the runs side by side.

Local (default): --workers runs at a time, each with its share of the cores as TensorFlow
thread pools. Ray: `--ray-address HOST:PORT` (a cluster started with `ray start --head`; `auto`
uses $RAY_ADDRESS or the local cluster; `local` starts a private instance), each run a task of
--cpus-per-run CPUs; every node needs this package installed (pip install
'sequence-tutor-tf[ray]') and OUTPUT_DIR on a file system all nodes share.
"""
import os

from sequence_tutor_tf.cli.common import add_common_arguments, bounded_int
from sequence_tutor_tf.cli.errors import UserError

HELP = "run a grid of tune runs in parallel (local processes or a Ray cluster)"


def add_arguments(parser):
    parser.add_argument("sweep_config", metavar="CONFIG",
                        help="JSON or YAML file with base, grid and optionally output_dir")
    add_common_arguments(parser)
    parser.add_argument("--workers", type=bounded_int(1, 1024), default=None,
                        help="local runs at a time (default: the number of CPU cores)")
    parser.add_argument("--ray-address", default=None, metavar="ADDRESS",
                        help="run on this Ray cluster (HOST:PORT, auto, or local) instead of "
                             "local processes")
    parser.add_argument("--cpus-per-run", type=bounded_int(1, 1024), default=1,
                        help="Ray: CPUs each run asks for (its intra-op threads)")
    parser.add_argument("--dry-run", action="store_true",
                        help="list the runs and their commands; run nothing")


def run(args):
    from sequence_tutor_tf.sweep import failed_runs, plan, read_config, run_sweep
    from sequence_tutor_tf.sweep.runner import available_cpus, is_finished
    config = read_config(args.sweep_config)
    root = args.output_dir or config.get("output_dir")
    if not root:
        raise UserError("--output-dir: not given, and CONFIG has no output_dir")
    specs = plan(config, root, where=f"CONFIG {args.sweep_config}")
    if args.dry_run:
        for spec in specs:
            state = "finished" if is_finished(spec) else "to run"
            print(f"{spec.name} [{state}]: sequence-tutor {' '.join(spec.argv)}")
        return 0
    workers = args.workers or available_cpus()
    summary = run_sweep(specs, root, workers=workers, ray_address=args.ray_address,
                        cpus_per_run=args.cpus_per_run, grid=config.get("grid"),
                        progress=lambda text: print(text, flush=True))
    failed = failed_runs(summary)
    print(f"sweep: {len(specs) - len(failed)} of {len(specs)} runs finished in "
          f"{summary['wall_s']:.1f} s; summary {os.path.join(root, 'sweep_summary.csv')}; "
          f"tensorboard --logdir {root}")
    if failed:
        print(f"sweep: failed: {', '.join(failed)} (see their sweep.log; rerun to retry)")
        return 1
    return 0
