"""The measurement scripts run end to end at small sizes, so that the speed claims stay checkable.

No timing is asserted (timings belong to the scripts' own runs); what is checked is that each
side ran, the printed ratios are the printed rates' ratios, and the settings asked for took
effect.
"""
import os
import re
import subprocess
import sys

import pytest

from sequence_tutor_tf.cli.common import UserError, apply_thread_arguments

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run_script(*argv):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


def test_benchmark_vs_magenta_times_both_sides():
    out = _run_script("scripts/benchmark_vs_magenta.py", "--algorithms", "g", "--units", "16",
                      "--steps", "40", "--fast-steps", "256", "--num-envs", "8",
                      "--fast-ratio", "0.25", "--eval-trials", "2", "--no-overlap",
                      "--intra-op-threads", "1", "--inter-op-threads", "2")
    rows = re.findall(r"^g\s+(.+?)\s{2,}(\S+(?: / \d+)?)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s*$",
                      out, re.M)
    engines = [r[0] for r in rows]
    assert engines == ["magenta RLTuner", "ours N=1 mb=32", "ours N=8 mb=32",
                       "ours N=8 mb=32 frozen prior", "ours N=8 mb=32"], out
    magenta = float(rows[0][2])
    assert magenta > 0
    for _, _, sps, _, ratio in rows[1:]:
        assert float(sps) > 0
        assert float(ratio) == pytest.approx(float(sps) / magenta, abs=0.06)
    assert "TensorFlow threads (both sides): intra-op 1, inter-op 2" in out


def test_profile_learner_times_each_algorithm_and_lists_thunks():
    out = _run_script("scripts/profile_learner.py", "--algorithms", "q", "g", "--units", "8",
                      "--minibatch-size", "4", "--updates-per-call", "3", "--calls", "2",
                      "--repeats", "1", "--xla-profile", "--top", "3",
                      "--intra-op-threads", "1")
    timed = dict((label, (float(us), int(params.replace(",", "")))) for label, us, params in
                 re.findall(r"^(\S.*?)\s+([\d.]+) us/update\s+trainable params ([\d,]+)$",
                            out, re.M))
    assert set(timed) == {"q", "g", "g, Reward RNN frozen"}, out
    q_params = (38 + 8) * 4 * 8 + 4 * 8 + 8 * 38 + 38      # LSTM kernels and bias, dense layer
    assert timed["q"][1] == q_params
    assert timed["g"][1] == 2 * q_params                    # the original's G trains the prior
    assert timed["g, Reward RNN frozen"][1] == q_params
    assert all(us > 0 for us, _ in timed.values())
    thunks = [int(n) for n in re.findall(r"XLA thunks, traced .*: (\d+) per update", out)]
    assert len(thunks) == 3 and min(thunks) > 10, out
    assert thunks[1] > thunks[0]                            # G's update has more to run than Q's
    assert out.count("thunks  matmul") == 3
    assert "intra-op 1, inter-op default" in out


def test_benchmark_metrics_checks_identical_stats():
    out = _run_script("scripts/benchmark_metrics.py", "--num-compositions", "20")
    assert "20 compositions of 32 notes; identical stat_dicts" in out
    assert re.search(r"speed-up: [\d.]+x", out)


def test_thread_flags_explain_what_cannot_be_changed():
    from sequence_tutor_tf._tf import tf
    tf.constant(1.0) + 1.0       # TensorFlow's runtime is running from here on
    current = tf.config.threading.get_intra_op_parallelism_threads()

    class Args:
        intra_op_threads, inter_op_threads = current + 3, 0
    with pytest.raises(UserError, match=r"--intra-op-threads %d: TensorFlow is already running"
                                        % (current + 3)):
        apply_thread_arguments(Args)
    Args.intra_op_threads, Args.inter_op_threads = 0, -1
    with pytest.raises(UserError, match="--inter-op-threads: expected 0 .* got -1"):
        apply_thread_arguments(Args)
    Args.inter_op_threads = 0       # 0 keeps TensorFlow's settings and is always accepted
    assert apply_thread_arguments(Args) == (current,
                                            tf.config.threading.get_inter_op_parallelism_threads())
