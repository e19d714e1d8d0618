"""Files of a music reproduction: table.md / table.csv, conservativeness, plots, MIDI, report.md."""
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sequence_tutor_tf.reproduce import figures, table  # noqa: E402
from sequence_tutor_tf.utils.files import atomic_write_text  # noqa: E402


def _histories(dirs):
    """{algorithm: [histories dict per seed]} from each run's saved training state."""
    from sequence_tutor_tf.rl.run_dir import read_meta
    out = {}
    for (alg, _), run_dir in sorted(dirs.items()):
        out.setdefault(alg, []).append(read_meta(run_dir)["histories"])
    return out


def _mean_curve(curves):
    n = min(len(c) for c in curves)
    return np.mean([c[:n] for c in curves], axis=0) if n else np.zeros(0)


def plot_curves(dirs, output_every_nth, path, keys, title):
    """One panel per algorithm, the mean over seeds of each history in `keys`."""
    histories = _histories(dirs)
    fig, axes = plt.subplots(1, len(histories), figsize=(4.5 * len(histories), 3.6),
                             squeeze=False)
    for ax, (alg, runs) in zip(axes[0], sorted(histories.items())):
        for key, label in keys:
            curve = _mean_curve([h[key] for h in runs])
            ax.plot(output_every_nth * np.arange(len(curve)), curve, marker=".", label=label)
        ax.set(title=f"{alg} ({len(runs)} seed{'s' if len(runs) > 1 else ''})",
               xlabel="environment step")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _fmt3(x):
    return f"{round(float(x), 3) + 0.0:.3f}"    # + 0.0: no "-0.000" for a rounded-off zero


def conservative_table(extras):
    """Log-likelihood of samples under the Note RNN and KL from it, mean +- std over seeds."""
    lines = ["| Model | music-theory reward per composition | log p_NoteRNN per note | "
             "KL(model || Note RNN) per note | entropy per note |",
             "|---|---|---|---|---|"]
    for model, runs in extras.items():
        cells = []
        for key in ("music_theory_reward_per_composition", "prior_log_likelihood_per_note",
                    "kl_from_prior_per_note", "policy_entropy_per_note"):
            values = np.array([r[key] for r in runs])
            cells.append(_fmt3(values.mean()) + (f" +- {_fmt3(values.std())}" if len(values) > 1
                                                 else ""))
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_samples(samples, directory):
    from sequence_tutor_tf.music.midi import write_midi
    paths = []
    for model, seqs in samples.items():
        for i, events in enumerate(seqs):
            name = model.replace(" ", "_").lower()
            paths.append(write_midi(events, os.path.join(directory, f"{name}_{i}.mid")))
    return paths


def summary_lines(extras, per_model_counts):
    """The report's opening, in plain words: does tuning beat the Note RNN on the music-theory
    reward, by how much, at what KL, and how many rows move the paper's way (`table.counts`)."""
    def mean(model, key):
        return float(np.mean([r[key] for r in extras[model]]))
    base = mean("MLE", "music_theory_reward_per_composition")
    lines = [f"The Note RNN (MLE) earns {base:.1f} music-theory reward per 32-note composition "
             "(the sum of the RL Tuner's rules, unscaled)."]
    for model in extras:
        if model == "MLE":
            continue
        tuned = mean(model, "music_theory_reward_per_composition")
        way, closer, rows = per_model_counts.get(model, (0, 0, 0))
        verdict = "beats" if tuned > base else "does not beat"
        lines.append(
            f"- {model} {verdict} it: {tuned:.1f} ({tuned - base:+.1f}), at a KL from the Note RNN "
            f"of {mean(model, 'kl_from_prior_per_note'):.2f} nats per note; "
            f"{way} of {rows} table rows move the paper's way, {closer} of {rows} end nearer the "
            "paper's tuned value than the Note RNN started.")
    return lines


def write_audio(samples, directory):
    """One WAV per model (its first sample), rendered by music/audio.py; {model: path}."""
    from sequence_tutor_tf.music.audio import render_wav
    os.makedirs(directory, exist_ok=True)
    out = {}
    for model, seqs in samples.items():
        path = os.path.join(directory, f"{model.replace(' ', '_').lower()}_0.wav")
        renderer = render_wav(np.asarray(seqs[0]), path)
        out[model] = (path, renderer)
    return out


def preset_line(preset, note_rnn=None):
    """The preset as the report states it: with --note-rnn, the Note RNN used instead of the
    preset's pretraining fields, which did not apply."""
    values = dict(preset.__dict__)
    if note_rnn:
        for key in ("corpus", "pretrain_steps", "pretrain_steps_per_epoch"):
            values.pop(key, None)
        values = dict(note_rnn=note_rnn, **values)
    return json.dumps(values)


def write_report(output_dir, preset, stats, extras, samples, policies, dirs, timings,
                 probabilities_along, settings=None, note_rnn=None):
    from sequence_tutor_tf.music.metrics import stats_summary
    plots_dir = os.path.join(output_dir, "plots")
    os.makedirs(plots_dir, exist_ok=True)
    aggregated = table.aggregate(stats)
    table_md = table.markdown_table(aggregated)
    atomic_write_text(os.path.join(output_dir, "table.md"), table_md + "\n")
    atomic_write_text(os.path.join(output_dir, "table.csv"), table.csv_table(aggregated))
    atomic_write_text(os.path.join(output_dir, "stats.json"), json.dumps(
        {m: [stats_summary(s) for s in runs] for m, runs in stats.items()}, indent=2,
        default=float))
    conservative = conservative_table(extras)
    atomic_write_text(os.path.join(output_dir, "conservative.json"),
                      json.dumps(extras, indent=2))

    plot_curves(dirs, preset.output_every_nth, os.path.join(plots_dir, "reward_curves.png"),
                [("task_rewards_batched", "music theory (x reward_scaler)"),
                 ("prior_rewards_batched", "Reward RNN log p")],
                "Training rewards summed per output_every_nth steps")
    plot_curves(dirs, preset.output_every_nth, os.path.join(plots_dir, "evaluation_curves.png"),
                [("eval_avg_task_reward", "music theory"),
                 ("eval_avg_prior_reward", "Reward RNN log p")],
                "Evaluation rewards")
    for model, seqs in samples.items():
        name = model.replace(" ", "_").lower()
        first = np.asarray(seqs[0])
        figures.plot_note_probabilities(probabilities_along(policies[model], first), first[1:],
                                        os.path.join(plots_dir, f"note_probabilities_{name}.png"),
                                        f"{model}: next-event probabilities of one composition")
    figures.plot_piano_rolls([seqs[0] for seqs in samples.values()],
                             [f"{m} sample" for m in samples],
                             os.path.join(plots_dir, "piano_rolls.png"))
    midi = write_samples(samples, os.path.join(output_dir, "midi"))
    audio = write_audio(samples, os.path.join(output_dir, "audio"))
    summary = summary_lines(extras, table.counts(aggregated))

    images = sorted(f for f in os.listdir(plots_dir) if f.endswith(".png"))
    report = [
        "# Sequence Tutor music reproduction", "",
        *summary, "",
        f"Settings: `{settings}` (rl/config.py, music/tune_settings.py: `paper` is the paper's "
        "method with the released code's defects fixed, `code` the released code exactly). "
        f"Preset: `{preset_line(preset, note_rnn)}`", "",
        "## Table 1: ours beside the paper's", "", table_md, "",
        "## How far each model moved from the Note RNN", "",
        "Average over the evaluation compositions of log p(note | history) under the Note RNN,",
        "and the per-note KL of the model's sampling distribution from it (a Monte-Carlo",
        "estimate on its own samples). The Note RNN is the pretrained one for every row, also",
        "for G (under `code` settings G's Reward RNN moves during training, as in the original).",
        "",
        conservative, "",
        "## Figures", ""]
    report += [f"![{img}](plots/{img})" for img in images]
    report += ["", "## Listen", ""]
    for model, (path, renderer) in audio.items():
        name = model.replace(" ", "_").lower()
        links = ", ".join(f"[{os.path.basename(p)}](midi/{os.path.basename(p)})"
                          for p in midi if os.path.basename(p).startswith(name + "_"))
        report.append(f"- {model}: [{os.path.basename(path)}](audio/{os.path.basename(path)}) "
                      f"({renderer}); MIDI {links}")
    report += ["", "Each run's checkpoints, TensorBoard logs and plots are under `runs/`.", "",
               f"Timings (s): `{json.dumps({k: round(v, 1) for k, v in timings.items()})}`", ""]
    path = os.path.join(output_dir, "report.md")
    atomic_write_text(path, "\n".join(report))
    return path
