"""Sweeps: many `tune` runs in parallel (local worker processes, or a Ray cluster).

`run_sweep(specs, root, ...)` runs the RunSpecs of `grid.plan` (or any list of them, as
`reproduce` makes) and writes SWEEP_ROOT/sweep_summary.json and .csv and TensorBoard HParams
records; finished runs are skipped, so rerunning an interrupted sweep resumes it.
"""
import csv
import io
import json
import logging
import os
import time

from sequence_tutor_tf.sweep.grid import RunSpec, plan, read_config  # noqa: F401
from sequence_tutor_tf.sweep.runner import is_finished, run_local, run_ray

log = logging.getLogger(__name__)


def run_sweep(specs, root, workers=1, ray_address=None, cpus_per_run=1, grid=None,
              progress=print, hparams_records=True):
    """Runs the unfinished `specs`; returns the summary dict (also written to the root).

    `grid` ({key: [values]}) declares the HParams experiment; default: from the specs.
    """
    from sequence_tutor_tf.utils.files import atomic_write_text
    os.makedirs(root, exist_ok=True)
    if grid is None:
        grid = {}
        for spec in specs:
            for key, value in spec.hparams.items():
                if value not in grid.setdefault(key, []):
                    grid[key].append(value)
    if hparams_records and grid:
        from sequence_tutor_tf.sweep import hparams as hp_records
        hp_records.write_experiment(root, grid)
    todo = [s for s in specs if not is_finished(s)]
    skipped = [s.name for s in specs if s not in todo]
    if skipped:
        progress(f"sweep: {len(skipped)} of {len(specs)} runs already finished, skipped")
    where = f"Ray at {ray_address}" if ray_address else f"{workers} local worker(s)"
    progress(f"sweep: {len(todo)} run(s) on {where}")
    records, start = {}, time.time()

    def on_done(spec, record):
        records[spec.name] = record
        if hparams_records and record.get("status") == "finished":
            from sequence_tutor_tf.sweep import hparams as hp_records
            hp_records.write_session(spec, grid)
        progress(f"sweep: {spec.name} {record.get('status')} ({record.get('wall_s') or 0:.1f} s;"
                 f" log {os.path.join(spec.run_dir, 'sweep.log')})")

    if todo:
        if ray_address:
            run_ray(todo, ray_address, on_done, cpus_per_run)
        else:
            run_local(todo, max(1, min(workers, len(todo))), on_done)
    wall = time.time() - start
    summary = {"root": os.path.abspath(root), "runs": [], "wall_s": round(wall, 3),
               "executed": len(todo), "skipped": skipped,
               "backend": "ray" if ray_address else "local", "workers": workers}
    for spec in specs:
        from sequence_tutor_tf.sweep import hparams as hp_records
        from sequence_tutor_tf.sweep.runner import read_record
        record = records.get(spec.name) or read_record(spec.run_dir) or {}
        summary["runs"].append({"name": spec.name, "run_dir": spec.run_dir,
                                "status": record.get("status", "not run"),
                                "wall_s": record.get("wall_s"), "hparams": spec.hparams,
                                "metrics": hp_records.final_scalars(
                                    os.path.join(spec.run_dir, "logs"))})
    atomic_write_text(os.path.join(root, "sweep_summary.json"),
                      json.dumps(summary, indent=2, default=str))
    keys = list(grid)
    tags = sorted({t for r in summary["runs"] for t in r["metrics"]})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "status", "wall_s"] + keys + tags)
    for r in summary["runs"]:
        writer.writerow([r["name"], r["status"], r["wall_s"]]
                        + [json.dumps(r["hparams"].get(k)) if not isinstance(
                            r["hparams"].get(k), str) else r["hparams"].get(k) for k in keys]
                        + [r["metrics"].get(t, "") for t in tags])
    atomic_write_text(os.path.join(root, "sweep_summary.csv"), out.getvalue())
    return summary


def failed_runs(summary):
    return [r["name"] for r in summary["runs"] if r["status"] != "finished"]
