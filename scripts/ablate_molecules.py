"""Ablation of the molecule experiment's RL constants: which ones keep Q and Psi near the prior.

    python scripts/ablate_molecules.py --from runs/mol_paper --output-dir runs/mol_ablation \
        [--settings base,scaler_0.1,...] [--algorithms q,psi,pure_rl] [--steps 100000] \
        [--eval-samples 2000]

`--from` is a finished `reproduce molecules` directory: its prior is tuned, its training and test
SMILES give novelty and the reference statistics, and its seed-0 runs are reused for the
`base` setting (the same preset, so nothing is trained twice). Each other setting is one change
from `base` (the `paper` molecule settings: the research code's final run, terminal masking,
uniform replay, reward_scaler 0.35). Why these: at reward_scaler 0.35 a valid prefix earns
0.35 x (5 + m), about 15 per step, against a log-prior of about -1 per token, so the KL term
the method relies on is ~1/15 of the reward; the scalers below shrink the task term until the
two are comparable.

For every (setting, algorithm) the script tunes with the same engine `reproduce molecules` uses,
samples `--eval-samples` molecules and scores them as the reproduction does (% valid, properties
over valid ones, uniqueness, IntDiv, exact KL per token from the prior, the research code's
terminal reward). Resumable: a finished run is skipped, an unfinished one continues from its
checkpoint, a scored one has OUTPUT_DIR/results/SETTING_ALG.json. Writes OUTPUT_DIR/ablation.json
and OUTPUT_DIR/ablation.md (one table per algorithm, rows = settings, MLE first) after each run.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# name -> (changes to the TunerConfig values of `paper`, description)
SETTINGS = {
    "base": ({}, "paper molecule settings (research code's final run, terminal masking, "
                 "uniform replay), reward_scaler 0.35"),
    "code": ({"settings": "code"}, "the research code exactly (prioritized replay, no terminal "
                                   "masking)"),
    "scaler_0.1": ({"reward_scaler": 0.1}, "reward_scaler 0.1"),
    "scaler_0.035": ({"reward_scaler": 0.035}, "reward_scaler 0.035 (a tenth of the code's)"),
    "scaler_0.01": ({"reward_scaler": 0.01}, "reward_scaler 0.01"),
    "discount_0.5": ({"hparams": "discount_rate=0.5"}, "discount 0.5 (music paper's text)"),
    # The research code made 2.5M / 50 = 50,000 updates; at 100k steps `base` makes 2,000.
    "updates_x10": ({"hparams": "train_every_nth=5"},
                    "train every 5 steps: 20,000 updates in 100k steps"),
    "updates_x25": ({"hparams": "train_every_nth=2"},
                    "train every 2 steps: 50,000 updates, the research code's count"),
    "updates_x10_scaler_0.1": ({"hparams": "train_every_nth=5", "reward_scaler": 0.1},
                               "updates_x10 and reward_scaler 0.1 (two changes)"),
    "updates_x10_scaler_0.035": ({"hparams": "train_every_nth=5", "reward_scaler": 0.035},
                                 "updates_x10 and reward_scaler 0.035 (two changes)"),
    # A longer horizon: at discount 0.95 a finished molecule's terminal reward 40 tokens away
    # is worth 0.95^40 = 0.13 of one paid now, so a one-atom molecule wins (measured).
    "updates_x10_discount_0.99_scaler_0.035": (
        {"hparams": "train_every_nth=5,discount_rate=0.99", "reward_scaler": 0.035},
        "updates_x10, discount 0.99 and reward_scaler 0.035 (three changes)"),
    "updates_x10_discount_0.99": (
        {"hparams": "train_every_nth=5,discount_rate=0.99"},
        "updates_x10 and discount 0.99 (two changes)"),
    # Another task reward (`tune --reward qed`): 100 x QED when a molecule finishes valid.
    "qed": ({"reward": "qed"}, "task reward qed instead of the research code's"),
    "qed_discount_1": ({"reward": "qed", "hparams": "discount_rate=1.0"},
                       "reward qed and discount 1 (two changes; episodes end, terminal reward "
                       "undiscounted)"),
    "qed_discount_1_updates_x10": (
        {"reward": "qed", "hparams": "discount_rate=1.0,train_every_nth=5"},
        "reward qed, discount 1 and updates_x10 (three changes)"),
    # Collection by sampling from the policy (the music `paper` settings' exploration) instead
    # of e-greedy around the greedy molecule, which fills the replay with a few molecules.
    "boltzmann": ({"exploration_mode": "boltzmann"}, "boltzmann exploration"),
    "qed_discount_1_updates_x10_boltzmann": (
        {"reward": "qed", "hparams": "discount_rate=1.0,train_every_nth=5",
         "exploration_mode": "boltzmann"},
        "reward qed, discount 1, updates_x10 and boltzmann (four changes)"),
}
# Keys of a setting's changes that are molecule settings (MoleculeTuneSettings), not TunerConfig.
DOMAIN_KEYS = ("reward",)
COLUMNS = (("percent_valid", "% valid", 1), ("mean_score", "m (valid)", 1),
           ("mean_logp", "logP", 2), ("mean_sa", "SA", 2), ("mean_qed", "QED", 3),
           ("percent_no_ring_over_6", "% no ring > 6", 1), ("mean_length", "length", 1),
           ("unique", "unique", 3), ("int_div1", "IntDiv", 3),
           ("kl_per_token", "KL/token", 3), ("entropy_per_token", "entropy/token", 3),
           ("mean_reward", "final reward", 1))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from", dest="source", required=True, metavar="DIR",
                   help="a finished `reproduce molecules` output directory (its prior, data and "
                        "seed-0 runs)")
    p.add_argument("--output-dir", required=True)
    p.add_argument("--settings", default=",".join(SETTINGS),
                   help="comma-separated settings (--list shows them)")
    p.add_argument("--algorithms", default="q,psi,pure_rl")
    p.add_argument("--steps", type=int, default=None,
                   help="RL steps per run (default: the source reproduction's preset)")
    p.add_argument("--output-every-nth", type=int, default=None,
                   help="steps between checkpoints and evaluations (default: the preset's; "
                        "each checkpoint holds the replay buffer, about 1.2 GB when full)")
    p.add_argument("--eval-samples", type=int, default=None)
    p.add_argument("--seed", type=int, default=None,
                   help="the tuning runs' seed (default: the source reproduction's)")
    p.add_argument("--list", action="store_true", help="print the settings and exit")
    args = p.parse_args(argv)
    args.settings = [s for s in args.settings.split(",") if s]
    args.algorithms = [a for a in args.algorithms.split(",") if a]
    for s in args.settings:
        if s not in SETTINGS:
            p.error(f"--settings: unknown setting {s!r}; known: {', '.join(SETTINGS)}")
    for a in args.algorithms:
        if a not in ("q", "psi", "g", "pure_rl"):
            p.error(f"--algorithms: {a!r} is not one of q, psi, g, pure_rl")
    return args


def _row(name, stats):
    cells = []
    for key, _, digits in COLUMNS:
        v = stats.get(key)
        cells.append("n/a" if v is None or v != v else f"{v:.{digits}f}")
    return f"| {name} | " + " | ".join(cells) + " |"


def write_tables(output_dir, mle, results):
    """Both files, over every result under OUTPUT_DIR/results (earlier invocations' too)."""
    results = dict(results)
    for name in sorted(os.listdir(os.path.join(output_dir, "results"))):
        for setting in SETTINGS:
            for alg in ("q", "psi", "g", "pure_rl"):
                if name == f"{setting}_{alg}.json" and (setting, alg) not in results:
                    with open(os.path.join(output_dir, "results", name), encoding="utf-8") as f:
                        results[(setting, alg)] = json.load(f)
    head = "| setting | " + " | ".join(c[1] for c in COLUMNS) + " |"
    rule = "|---" * (len(COLUMNS) + 1) + "|"
    lines = ["# Molecule ablation (one seed)", "",
             "Each setting is one change from `base`; see scripts/ablate_molecules.py.", ""]
    for name, (_, description) in SETTINGS.items():
        lines.append(f"- `{name}`: {description}")
    algorithms = sorted({a for _, a in results}, key=["q", "psi", "g", "pure_rl"].index)
    for alg in algorithms:
        lines += ["", f"## {alg}", "", head, rule, _row("MLE (prior)", mle)]
        lines += [_row(s, results[(s, a)]) for s in SETTINGS for a in [alg]
                  if (s, a) in results]
    with open(os.path.join(output_dir, "ablation.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(output_dir, "ablation.json"), "w", encoding="utf-8") as f:
        json.dump({"mle": mle, "results": {f"{s}/{a}": r for (s, a), r in results.items()}},
                  f, indent=2, default=float)


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        for name, (changes, description) in SETTINGS.items():
            print(f"{name:14s} {description}  {json.dumps(changes)}")
        return 0
    config_path = os.path.join(args.source, "reproduce_config.json")
    if not os.path.isfile(config_path):
        print(f"ablate_molecules.py: error: --from {args.source}: no reproduce_config.json "
              "(expected the output directory of `sequence-tutor reproduce molecules`)",
              file=sys.stderr)
        return 2
    with open(config_path, encoding="utf-8") as f:
        source_config = json.load(f)
    if source_config.get("experiment") != "molecules":
        print(f"ablate_molecules.py: error: --from {args.source} is a "
              f"{source_config.get('experiment')!r} reproduction, not molecules", file=sys.stderr)
        return 2
    import sequence_tutor_tf  # noqa: F401  (Keras 2 before TensorFlow loads)
    from sequence_tutor_tf.cli.reproduce import molecule_preset
    from sequence_tutor_tf.molecules.metrics import reference_statistics
    from sequence_tutor_tf.molecules.prior import load_prior
    from sequence_tutor_tf.molecules.tune_settings import MoleculeTuneSettings
    from sequence_tutor_tf.molecules.tuning import tune_molecules
    from sequence_tutor_tf.reproduce import molecules as rm
    from sequence_tutor_tf.rl.config import TunerConfig, layer_over
    from sequence_tutor_tf.rl.run_dir import load_tuned
    from sequence_tutor_tf.rl.tuning import finished_steps
    from sequence_tutor_tf.utils.dataclass_flags import resolve

    # The source's own preset (its flags' overrides too), so its prior and runs are reused.
    preset = molecule_preset(argparse.Namespace(**source_config))
    if args.steps:
        preset = rm.dataclasses.replace(preset, training_steps=args.steps,
                                        output_every_nth=min(preset.output_every_nth,
                                                             args.steps))
    if args.output_every_nth:
        preset = rm.dataclasses.replace(preset, output_every_nth=args.output_every_nth)
    eval_samples = args.eval_samples or preset.eval_samples
    os.makedirs(os.path.join(args.output_dir, "results"), exist_ok=True)
    source_seed = int(source_config.get("seed") or 0)   # the prior's and its runs' seed
    args.seed = source_seed if args.seed is None else args.seed
    prior_dir, train_smiles, test_smiles = rm.prior_stage(args.source, preset, source_seed, print)
    prior, vocabulary = load_prior(prior_dir)
    train_set, reference = set(train_smiles), reference_statistics(test_smiles[:5000])

    mle_path = os.path.join(args.output_dir, "results", "mle.json")
    if os.path.exists(mle_path):
        with open(mle_path, encoding="utf-8") as f:
            mle = json.load(f)
    else:
        mle = rm.evaluate_model(prior, prior, vocabulary, False, eval_samples,
                                args.seed + 1000, train_set, reference)[0]
        with open(mle_path, "w", encoding="utf-8") as f:
            json.dump(mle, f, indent=2, default=float)
    results = {}
    for setting in args.settings:
        changes, _ = SETTINGS[setting]
        for alg in args.algorithms:
            result_path = os.path.join(args.output_dir, "results", f"{setting}_{alg}.json")
            if os.path.exists(result_path):
                with open(result_path, encoding="utf-8") as f:
                    results[(setting, alg)] = json.load(f)
                continue
            source_run = os.path.join(args.source, "runs", f"{alg}_seed0")
            if (setting == "base" and args.seed == source_seed and
                    finished_steps(source_run) >= preset.training_steps):
                run_dir = source_run
            else:
                run_dir = os.path.join(args.output_dir, "runs", f"{setting}_{alg}")
                values = rm.tune_config(alg, preset, args.seed,
                                        changes.get("settings", "paper")).to_dict()
                config = resolve(TunerConfig, layer_over(
                    values, {k: v for k, v in changes.items()
                             if k != "settings" and k not in DOMAIN_KEYS}))
                domain_settings = MoleculeTuneSettings(
                    prior=prior_dir, **{k: v for k, v in changes.items() if k in DOMAIN_KEYS})
                t0 = time.time()
                print(f"[{setting} {alg}] tuning {preset.training_steps} steps", flush=True)
                if finished_steps(run_dir) < preset.training_steps:
                    tune_molecules(config, domain_settings, run_dir,
                                   settings_name=changes.get("settings", "paper"),
                                   progress=False)
                print(f"[{setting} {alg}] tuned in {time.time() - t0:.0f} s", flush=True)
            algorithm, q, run_prior, _ = load_tuned(run_dir)
            stats = rm.evaluate_model(q, run_prior, vocabulary, algorithm == "g", eval_samples,
                                      args.seed + 1000, train_set, reference)[0]
            stats["run_dir"] = run_dir
            with open(result_path, "w", encoding="utf-8") as f:
                json.dump(stats, f, indent=2, default=float)
            results[(setting, alg)] = stats
            write_tables(args.output_dir, mle, results)
    write_tables(args.output_dir, mle, results)
    print(open(os.path.join(args.output_dir, "ablation.md"), encoding="utf-8").read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
