"""Ablation of the music experiment's settings: which ones reproduce the paper's Table 1 directions.

    python scripts/ablate_music.py --note-rnn runs/note_rnn/note_rnn --output-dir runs/ablation \
        [--settings base,code,scaler_0.1,...] [--algorithms q,psi,g] [--steps 200000] \
        [--exploration-steps 100000] [--num-envs 512] [--eval-compositions 10000]

Each *setting* is one change from a stated base (`BASE` below: the paper's text, c = 0.5 i.e.
reward_scaler 2, discount 0.5, with the original code's defects fixed, boltzmann exploration,
random-note priming). For every setting and algorithm the script tunes the Note RNN through the
public `tune` command, composes `--eval-compositions` pieces with the tuned policy (random first
note, sampled notes, as the original's compute_composition_stats) and records:

- the 11 rows of Table 1, and for each row whether the change from the Note RNN (MLE) goes the
  paper's way (the rule of `reproduce/table.py`: up / down / = against the paper's MLE -> model);
- the number of rows in the paper's direction (out of 11);
- the mean music-theory reward per composition (all nine rules, before reward_scaler);
- the KL per note from the pretrained Note RNN, and its log-likelihood per note.

Resumable: a finished (setting, algorithm) has a result file under OUTPUT_DIR/results/ and is
skipped; an interrupted tune run continues from its checkpoint (the tune command resumes).
Writes OUTPUT_DIR/ablation.json (all results) and OUTPUT_DIR/ablation.md (one table per
algorithm, rows = settings) after every run.

`--list` prints the settings. Each run is `tune --settings code` plus the setting's flags;
single behaviour switches (`rl/behaviour.py`) go through `tune --behaviour`.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sequence_tutor_tf  # noqa: E402,F401  (Keras 2 before TensorFlow loads)

# The base of the ablation: the paper's text with the code's defects fixed.
BASE = {
    "fix_quirks": True,          # every defect of docs/differences/rl.md fixed
    "reward_scaler": 2.0,        # r = log p + r_task / c, c = 0.5 (paper text); code: 0.1
    "discount_rate": 0.5,        # paper text and rl_tuner_train.py (default_dqn_hparams: 0.95)
    "exploration_mode": "boltzmann",   # rl_tuner_train.py
    "priming_mode": "random_note",     # rl_tuner_train.py
    "behaviour": {},             # switches of OriginalBehaviour set back to the original's
    "note_rnn": "default",       # "default" = --note-rnn; "long" = --long-note-rnn
    "steps_factor": 1.0,         # training and exploration steps x this
}

# One change from BASE each (name -> (changes, description)).
SETTINGS = {
    "base": ({}, "base: fixed defects, reward_scaler 2 (c = 0.5), discount 0.5, boltzmann"),
    "code": ({"fix_quirks": False, "reward_scaler": 0.1},
             "magenta's released code exactly (faithful defects, reward_scaler 0.1)"),
    "scaler_0.1": ({"reward_scaler": 0.1}, "reward_scaler 0.1 (rl_tuner_train.py)"),
    "scaler_0.5": ({"reward_scaler": 0.5}, "reward_scaler 0.5 (c = 2)"),
    "scaler_1": ({"reward_scaler": 1.0}, "reward_scaler 1 (c = 1)"),
    "scaler_5": ({"reward_scaler": 5.0}, "reward_scaler 5 (c = 0.2)"),
    "discount_0.95": ({"discount_rate": 0.95}, "discount 0.95 (default_dqn_hparams)"),
    "egreedy": ({"exploration_mode": "egreedy"}, "egreedy exploration, annealed"),
    "random_midi": ({"priming_mode": "random_midi"},
                    "compositions primed with a corpus melody"),
    "credit_greedy": ({"behaviour": {"credit_greedy_action": True}},
                      "original defect back: boltzmann stores the greedy action"),
    "g_trains_prior": ({"behaviour": {"g_trains_prior": True}},
                       "original defect back: G updates move the Reward RNN"),
    "no_terminal_mask": ({"behaviour": {"discount_across_compositions": True}},
                         "original defect back: no terminal masking"),
    "long_note_rnn": ({"note_rnn": "long"}, "the longer-trained Note RNN (--long-note-rnn)"),
    "steps_x5": ({"steps_factor": 5.0}, "5x the training and exploration steps"),
}
# Settings that only make a difference for some algorithms run only for those.
ONLY_ALGORITHMS = {"g_trains_prior": ("g",)}
DEFAULT_SETTINGS = ("base", "code", "scaler_0.1", "scaler_0.5", "scaler_1", "scaler_5",
                    "discount_0.95", "egreedy", "random_midi", "credit_greedy",
                    "g_trains_prior", "no_terminal_mask", "long_note_rnn")
# Short names of Table 1's rows for the markdown tables, in paper_table.ROWS order.
SHORT = ("repeat", "ac1", "ac2", "ac3", "not key", "tonic", "leaps", "u.max", "u.min", "motif",
         "rep.motif")


def setting_values(name):
    changes, _ = SETTINGS[name]
    values = dict(BASE, **changes)
    values["behaviour"] = dict(BASE["behaviour"], **changes.get("behaviour", {}))
    return values


def tune_argv_and_behaviour(values, algorithm, note_rnn, run_dir, args):
    """The `tune` command line of one run, and the behaviour switches it needs on top of it.

    The one place that knows how a setting becomes a tune run: adapt it when the CLI changes.
    """
    steps = int(round(args.steps * values["steps_factor"]))
    exploration = int(round(args.exploration_steps * values["steps_factor"]))
    argv = ["tune", "--algorithm", algorithm, "--note-rnn", note_rnn, "--output-dir", run_dir,
            "--training-steps", str(steps), "--exploration-steps", str(exploration),
            "--output-every-nth", str(max(1, min(args.output_every_nth, steps))),
            "--num-envs", str(args.num_envs), "--seed", str(args.seed),
            "--num-samples", "0", "--log-level", "WARNING", "--no-progress",
            "--eval-trials", str(args.eval_trials),
            "--reward-scaler", repr(float(values["reward_scaler"])),
            "--exploration-mode", values["exploration_mode"],
            "--priming-mode", values["priming_mode"],
            "--hparams", ",".join([f"discount_rate={values['discount_rate']}"]
                                  + ([args.hparams] if args.hparams else [])),
            "--intra-op-threads", str(args.intra_op_threads),
            "--inter-op-threads", str(args.inter_op_threads)]
    if values["priming_mode"] == "random_midi":
        argv += ["--training-data-path", args.priming_data]
    if values["fix_quirks"] or values["behaviour"]:
        argv.append("--fix-quirks")
    if values["behaviour"]:
        argv += ["--behaviour", ",".join(f"{k}={str(bool(v)).lower()}"
                                         for k, v in sorted(values["behaviour"].items()))]
    argv += ["--settings", "code"]      # every value above is over the released code's
    if not args.jit:
        argv.append("--no-jit")
    return argv, values["behaviour"]


def run_tune(argv, overrides=None):
    from sequence_tutor_tf.cli.main import main
    code = main(argv)
    if code:
        raise RuntimeError(f"`sequence-tutor {' '.join(argv)}` exited with {code}")


def evaluate(policy, note_rnn, num, seed):
    """Table 1 values, music-theory reward and KL of `num` compositions of `policy`."""
    import numpy as np

    from sequence_tutor_tf.music.rewards.scoring import score_compositions
    from sequence_tutor_tf.reproduce.music import evaluate_policy
    from sequence_tutor_tf.reproduce.paper_table import table_values
    stats, extras, sequences = evaluate_policy(policy, note_rnn, num, seed)
    reward = score_compositions(np.asarray(sequences, np.int64), "music_theory_all")["total"]
    return {"table": table_values(stats), "music_theory_reward": float(reward.sum(1).mean()),
            "kl_per_note": extras["kl_from_prior_per_note"],
            "prior_log_likelihood_per_note": extras["prior_log_likelihood_per_note"],
            "num_compositions": int(stats["num_compositions"])}


def row_directions(mle_table, table, algorithm):
    """{row: [ours, paper's, match]}: the change from MLE against the paper's (reproduce/table.py)."""
    from sequence_tutor_tf.reproduce.paper_table import MODELS, ROWS
    from sequence_tutor_tf.reproduce.table import direction
    j = MODELS.index({"q": "Q", "psi": "Psi", "g": "G"}[algorithm])
    out = {}
    for row in ROWS:
        ours = direction(mle_table[row.name], table[row.name])
        paper = direction(row.paper[0], row.paper[j])
        out[row.name] = [ours, paper, ours == paper]
    return out


def _load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _write(path, payload):
    from sequence_tutor_tf.utils.files import atomic_write_text
    atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True))


def _fmt(value, pct):
    import math
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    if pct:
        return f"{100 * value:.2f}" if abs(value) < 0.01 else f"{100 * value:.1f}"
    return f"{value:.2f}"


def markdown(results, mle, algorithms):
    from sequence_tutor_tf.reproduce.paper_table import MODELS, ROWS
    lines = ["# Music ablation", "",
             "Percentages in %, autocorrelations raw. `dir` = rows (of 11) whose change from the "
             "Note RNN goes the paper's way; a cell marked * goes against it. `reward` = mean "
             "music-theory reward per composition (nine rules, before reward_scaler); `KL` = "
             "KL per note from the pretrained Note RNN.", ""]
    header = "| setting | " + " | ".join(SHORT) + " | dir | reward | KL |"
    sep = "|---" * (len(SHORT) + 4) + "|"
    for key, m in sorted(mle.items()):
        cells = [_fmt(m["table"][r.name], r.is_percentage) for r in ROWS]
        lines += [f"Note RNN `{key}` (MLE): " + ", ".join(
            f"{s} {c}" for s, c in zip(SHORT, cells))
            + f"; reward {m['music_theory_reward']:.2f}", ""]
    for alg in algorithms:
        column = {"q": "Q", "psi": "Psi", "g": "G"}[alg]
        j = MODELS.index(column)
        lines += [f"## {column}", "", header, sep,
                  "| paper | " + " | ".join(_fmt(r.paper[j], r.is_percentage) for r in ROWS)
                  + " | 11 | | |"]
        for name, by_alg in results.items():
            res = by_alg.get(alg)
            if res is None:
                continue
            if "error" in res:
                lines.append(f"| {name} | failed: {res['error'][:80]} |")
                continue
            cells = []
            for r in ROWS:
                text = _fmt(res["table"][r.name], r.is_percentage)
                cells.append(text if res["directions"][r.name][2] else text + "*")
            lines.append(f"| {name} | " + " | ".join(cells)
                         + f" | {res['matches']} | {res['music_theory_reward']:.2f} | "
                         f"{res['kl_per_note']:.3f} |")
        lines.append("")
    lines += ["Settings:", ""]
    lines += [f"- `{name}`: {SETTINGS[name][1]}" for name in results if name in SETTINGS]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0].strip(),
        epilog="Settings: " + "; ".join(f"{k}: {v[1]}" for k, v in SETTINGS.items()),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--note-rnn", help="pretrained Note RNN directory (our format)")
    parser.add_argument("--long-note-rnn", default=None,
                        help="a longer-trained Note RNN for the long_note_rnn setting "
                             "(skipped when absent)")
    parser.add_argument("--output-dir", help="run directories, results/, ablation.json/.md")
    parser.add_argument("--settings", default=",".join(DEFAULT_SETTINGS),
                        help="comma-separated setting names (see --list)")
    parser.add_argument("--algorithms", default="q,psi,g")
    parser.add_argument("--steps", type=int, default=200_000, help="RL steps per run")
    parser.add_argument("--exploration-steps", type=int, default=100_000)
    parser.add_argument("--output-every-nth", type=int, default=50_000)
    parser.add_argument("--num-envs", type=int, default=512)
    parser.add_argument("--eval-trials", type=int, default=100,
                        help="compositions per in-training evaluation")
    parser.add_argument("--eval-compositions", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hparams", default="", help="extra DQN hparams for every run")
    parser.add_argument("--priming-data", default="default",
                        help="melodies for the random_midi setting (corpus name or path)")
    parser.add_argument("--intra-op-threads", type=int, default=1)
    parser.add_argument("--inter-op-threads", type=int, default=1)
    parser.add_argument("--no-jit", dest="jit", action="store_false")
    parser.add_argument("--list", action="store_true", help="print the settings and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name in SETTINGS:
            print(f"{name:18s} {SETTINGS[name][1]}\n{'':18s} {setting_values(name)}")
        return 0
    if not args.note_rnn or not args.output_dir:
        parser.error("--note-rnn and --output-dir are required")
    names = [s for s in args.settings.split(",") if s]
    unknown = [s for s in names if s not in SETTINGS]
    if unknown:
        parser.error(f"unknown settings {unknown}; known: {list(SETTINGS)}")
    algorithms = [a for a in args.algorithms.split(",") if a]
    note_rnns = {"default": args.note_rnn}
    if args.long_note_rnn:
        note_rnns["long"] = args.long_note_rnn
    elif "long_note_rnn" in names:
        print("long_note_rnn: no --long-note-rnn given; skipped")
        names.remove("long_note_rnn")

    from sequence_tutor_tf.cli.common import apply_thread_arguments
    apply_thread_arguments(args)
    from sequence_tutor_tf.reproduce.music import load_policy

    out = args.output_dir
    os.makedirs(os.path.join(out, "results"), exist_ok=True)
    mle, note_rnn_models = {}, {}
    for key, path in note_rnns.items():
        if not any(setting_values(n)["note_rnn"] == key for n in names):
            continue
        mle_path = os.path.join(out, "results", f"mle_{key}.json")
        policy = load_policy(model_dir=path)
        note_rnn_models[key] = policy.q_network
        if os.path.exists(mle_path):
            mle[key] = _load(mle_path)
        else:
            mle[key] = dict(evaluate(policy, policy.q_network, args.eval_compositions,
                                     args.seed + 1000), note_rnn=path)
            _write(mle_path, mle[key])
    results = {}
    for name in names:
        values = setting_values(name)
        results[name] = {}
        for alg in algorithms:
            if alg not in ONLY_ALGORITHMS.get(name, (alg,)):
                continue
            path = os.path.join(out, "results", f"{name}__{alg}.json")
            if os.path.exists(path):
                results[name][alg] = _load(path)
                continue
            run_dir = os.path.join(out, "runs", name, alg)
            argv, overrides = tune_argv_and_behaviour(values, alg, note_rnns[values["note_rnn"]],
                                                      run_dir, args)
            print(f"[{name} / {alg}] sequence-tutor {' '.join(argv)}"
                  + (f"  (behaviour {overrides})" if overrides else ""), flush=True)
            t0 = time.time()
            try:
                run_tune(argv, overrides)
                tune_s = time.time() - t0
                res = evaluate(load_policy(run_dir=run_dir), note_rnn_models[values["note_rnn"]],
                               args.eval_compositions, args.seed + 1000)
            except Exception as e:  # noqa: BLE001 (record and go on with the grid)
                results[name][alg] = {"error": f"{type(e).__name__}: {e}"}
                print(f"  failed: {e}", flush=True)
                continue
            mle_res = mle[values["note_rnn"]]
            res["directions"] = row_directions(mle_res["table"], res["table"], alg)
            res["matches"] = sum(d[2] for d in res["directions"].values())
            res.update(setting=name, algorithm=alg, values=values, argv=argv,
                       behaviour_overrides=overrides, tune_s=tune_s,
                       eval_s=time.time() - t0 - tune_s)
            _write(path, res)
            results[name][alg] = res
            print(f"  {res['matches']}/11 rows the paper's way, reward "
                  f"{res['music_theory_reward']:.2f} (MLE {mle_res['music_theory_reward']:.2f}), "
                  f"KL {res['kl_per_note']:.3f}; {tune_s:.0f}s tune", flush=True)
            _write_tables(out, mle, args)
    _write_tables(out, mle, args)
    print(f"table: {os.path.join(out, 'ablation.md')}")
    return 0


def _collect(out):
    """Every finished result under OUTPUT_DIR/results/ (earlier invocations included), in
    SETTINGS order: {setting: {algorithm: result}}."""
    found = {}
    directory = os.path.join(out, "results")
    for name in sorted(os.listdir(directory)):
        if name.endswith(".json") and "__" in name:
            setting, alg = name[:-len(".json")].split("__", 1)
            found.setdefault(setting, {})[alg] = _load(os.path.join(directory, name))
    order = list(SETTINGS)
    return dict(sorted(found.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order
                       else len(order)))


def _write_tables(out, mle, args):
    results = _collect(out)
    algorithms = [a for a in ("q", "psi", "g")
                  if any(a in by_alg for by_alg in results.values())]
    _write(os.path.join(out, "ablation.json"), {"mle": mle, "results": results,
                                                "args": vars(args)})
    _atomic_md(out, markdown(results, mle, algorithms))


def _atomic_md(out, text):
    from sequence_tutor_tf.utils.files import atomic_write_text
    atomic_write_text(os.path.join(out, "ablation.md"), text)


if __name__ == "__main__":
    sys.exit(main())
