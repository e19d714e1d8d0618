"""Runs a sweep's `tune` runs in parallel: local worker processes, or tasks on a Ray cluster.

Each run is `python -m sequence_tutor_tf.cli.main tune ... --output-dir SWEEP/runs/NAME` in a
process of its own (its output in NAME/sweep.log), so it resumes like any `tune` run. When it
ends with exit code 0 the sweep writes NAME/sweep_run.json (status finished, its settings, wall
time); a later sweep skips runs whose record says finished with the same settings, and reruns
(resumes) the others. That is what makes an interrupted sweep resume.

Thread pools: N local workers on C cores give each run `--intra-op-threads max(1, C // N)` and
`--inter-op-threads max(2, C // N)` (unless the config sets them), so runs do not fight over
cores. On Ray each run asks for `cpus_per_run` CPUs and gets as many intra-op threads.
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import threading
import time

RECORD_FILE = "sweep_run.json"
LOG_FILE = "sweep.log"
THREAD_FLAGS = ("intra_op_threads", "inter_op_threads")


def available_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def thread_pools(cpus, workers):
    """(intra, inter) op threads for each of `workers` runs sharing `cpus` cores."""
    per_run = max(1, cpus // max(1, workers))
    return per_run, max(2, per_run)


def with_threads(spec, intra, inter):
    """The run's argv with thread pool flags, unless its settings choose them."""
    argv = list(spec.argv)
    if not any(k in spec.settings or k.replace("_", "-") in spec.settings for k in THREAD_FLAGS):
        argv += ["--intra-op-threads", str(intra), "--inter-op-threads", str(inter)]
    return argv


def read_record(run_dir):
    try:
        with open(os.path.join(run_dir, RECORD_FILE), encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def is_finished(spec):
    """True when the run's record says it finished with these settings."""
    record = read_record(spec.run_dir)
    return bool(record and record.get("status") == "finished"
                and record.get("settings") == json.loads(json.dumps(spec.settings)))


def execute(argv, run_dir, name, settings, hparams):
    """Runs one `sequence-tutor` command in a child process; writes its record. Returns the
    record (a dict). Runs where the worker runs: in this process's pool, or in a Ray task."""
    os.makedirs(run_dir, exist_ok=True)
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.time()
    with open(os.path.join(run_dir, LOG_FILE), "ab") as log:
        log.write(f"\n=== {time.ctime()}: sequence-tutor {' '.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen([sys.executable, "-m", "sequence_tutor_tf.cli.main", *argv],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
        _RUNNING.add(proc)
        try:
            code = proc.wait()
        finally:
            _RUNNING.discard(proc)
    record = {"name": name, "status": "finished" if code == 0 else "failed",
              "returncode": code, "wall_s": round(time.time() - start, 3),
              "settings": settings, "hparams": hparams, "argv": argv,
              "host": os.uname().nodename, "finished_at": time.time()}
    from sequence_tutor_tf.utils.files import atomic_write_text
    atomic_write_text(os.path.join(run_dir, RECORD_FILE), json.dumps(record, indent=2))
    return record


class _Running:
    """Child processes of this process's workers, to stop them on Ctrl-C."""

    def __init__(self):
        self.lock = threading.Lock()
        self.procs = set()

    def add(self, proc):
        with self.lock:
            self.procs.add(proc)

    def discard(self, proc):
        with self.lock:
            self.procs.discard(proc)

    def terminate(self):
        with self.lock:
            procs = list(self.procs)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


_RUNNING = _Running()


def run_local(specs, workers, on_done, cpus=None):
    """Runs `specs` on `workers` local processes at a time; `on_done(spec, record)` as each ends."""
    intra, inter = thread_pools(cpus or available_cpus(), workers)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(execute, with_threads(s, intra, inter), s.run_dir, s.name,
                               s.settings, s.hparams): s for s in specs}
        try:
            for future in concurrent.futures.as_completed(futures):
                on_done(futures[future], future.result())
        except BaseException:      # Ctrl-C: stop the runs; their checkpoints let them resume
            for future in futures:
                future.cancel()
            _RUNNING.terminate()
            raise


def connect_ray(address):
    """ray.init on `address` ('local' starts a private instance); a clear error without ray."""
    try:
        import ray
    except ImportError:
        from sequence_tutor_tf.cli.errors import UserError
        raise UserError("--ray-address: the ray package is not installed; pip install "
                        "'sequence-tutor-tf[ray]' (or pip install ray)") from None
    if not ray.is_initialized():
        kwargs = {"include_dashboard": False, "log_to_driver": False}
        if address == "local":
            ray.init(**kwargs)
        else:
            ray.init(address=address, **kwargs)
    return ray


def run_ray(specs, address, on_done, cpus_per_run=1):
    """Runs each spec as a Ray task asking for `cpus_per_run` CPUs. Every node needs this
    package installed and the sweep directory on a file system all nodes share."""
    ray = connect_ray(address)
    task = ray.remote(num_cpus=cpus_per_run, max_retries=0)(execute)
    intra, inter = thread_pools(cpus_per_run, 1)
    pending = {task.remote(with_threads(s, intra, inter), s.run_dir, s.name, s.settings,
                           s.hparams): s for s in specs}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                spec = pending.pop(ref)
                try:
                    record = ray.get(ref)
                except Exception as e:   # the task itself died (node lost, ...)
                    record = {"name": spec.name, "status": "failed", "returncode": None,
                              "error": f"{type(e).__name__}: {str(e).splitlines()[0]}"}
                on_done(spec, record)
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
