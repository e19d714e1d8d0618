"""Our Table 1 beside the paper's: mean +- std over seeds, and whether each change from MLE goes
the paper's way."""
import csv
import io

import numpy as np

from sequence_tutor_tf.reproduce.paper_table import CITATION, MODELS, ROWS, table_values


def aggregate(stats_by_model):
    """{model: [stat_dict per seed]} -> {model: {row: (mean, std, n)}}."""
    out = {}
    for model, stat_dicts in stats_by_model.items():
        per_row = {}
        for row in ROWS:
            values = np.array([table_values(s)[row.name] for s in stat_dicts], float)
            finite = values[np.isfinite(values)]
            per_row[row.name] = (float(np.mean(finite)) if finite.size else np.nan,
                                 float(np.std(finite)) if finite.size else np.nan, int(finite.size))
        out[model] = per_row
    return out


def direction(mle, tuned, tolerance=1e-12):
    if not (np.isfinite(mle) and np.isfinite(tuned)):
        return "n/a"
    if abs(tuned - mle) <= tolerance:
        return "="
    return "up" if tuned > mle else "down"


def direction_matches(aggregated):
    """{(row, model): (ours, paper's, match)} for each tuned model present beside MLE."""
    result = {}
    if "MLE" not in aggregated:
        return result
    for i, row in enumerate(ROWS):
        for j, model in enumerate(MODELS[1:], start=1):
            if model not in aggregated:
                continue
            ours = direction(aggregated["MLE"][row.name][0], aggregated[model][row.name][0])
            paper = direction(row.paper[0], row.paper[j])
            result[(row.name, model)] = (ours, paper, ours == paper)
    return result


def closer_to_paper(aggregated):
    """{(row, model): bool}: does the tuned model end nearer the paper's tuned value than our
    Note RNN started?

    The sign test above depends on where the Note RNN starts: the paper's repeated notes 63% of
    the time, ours (another corpus) 3%, so "down" may be out of reach for ours. This test asks
    instead whether tuning moved us towards what the paper's tuned model did (overshooting it
    by more than the start's distance counts as not closer).
    """
    result = {}
    if "MLE" not in aggregated:
        return result
    for row in ROWS:
        for j, model in enumerate(MODELS[1:], start=1):
            if model not in aggregated:
                continue
            mle, tuned = aggregated["MLE"][row.name][0], aggregated[model][row.name][0]
            target = row.paper[j]
            if np.isfinite(mle) and np.isfinite(tuned):
                result[(row.name, model)] = bool(abs(tuned - target) < abs(mle - target))
    return result


def counts(aggregated):
    """{model: (rows the paper's way, rows closer to the paper's tuned value, rows)}."""
    matches, closer = direction_matches(aggregated), closer_to_paper(aggregated)
    out = {}
    for model in MODELS[1:]:
        keys = [k for k in matches if k[1] == model]
        if keys:
            out[model] = (sum(matches[k][2] for k in keys), sum(closer.get(k, False) for k in keys),
                          len(keys))
    return out


def _fmt(value, is_percentage):
    if not np.isfinite(value):
        return "nan"
    return f"{100 * value:.2f}%" if is_percentage else f"{value:.3f}"


def _cell(stat, is_percentage):
    mean, std, n = stat
    text = _fmt(mean, is_percentage)
    return text if n <= 1 else f"{text} +- {_fmt(std, is_percentage)}"


def markdown_table(aggregated):
    models = [m for m in MODELS if m in aggregated]
    matches = direction_matches(aggregated)
    header = ["Metric"] + [f"{m} (ours)" for m in models] + [f"{m} (paper)" for m in MODELS]
    header += [f"{m} direction" for m in models if m != "MLE"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, row in enumerate(ROWS):
        cells = [row.name] + [_cell(aggregated[m][row.name], row.is_percentage) for m in models]
        cells += [_fmt(v, row.is_percentage) for v in row.paper]
        for m in models:
            if m == "MLE":
                continue
            ours, paper, ok = matches[(row.name, m)]
            cells.append(f"{ours} vs {paper} {'(match)' if ok else '(differs)'}")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    per_model = counts(aggregated)
    if per_model:
        lines.append("Rows whose change from the Note RNN goes the paper's way: " + ", ".join(
            f"{m} {c[0]} of {c[2]}" for m, c in per_model.items()) + ". Rows where the tuned "
            "model ends nearer the paper's tuned value than our Note RNN started: " + ", ".join(
            f"{m} {c[1]} of {c[2]}" for m, c in per_model.items()) + ".")
        lines.append("")
    lines.append(f"Paper: {CITATION}. Ours: mean +- std over seeds; 'direction' compares the "
                 "change from MLE to each tuned model with the paper's.")
    return "\n".join(lines)


def csv_table(aggregated):
    models = [m for m in MODELS if m in aggregated]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["metric"] + [f"{m}_mean" for m in models] + [f"{m}_std" for m in models]
                    + [f"{m}_paper" for m in MODELS])
    for i, row in enumerate(ROWS):
        writer.writerow([row.name] + [aggregated[m][row.name][0] for m in models]
                        + [aggregated[m][row.name][1] for m in models] + list(row.paper))
    return buffer.getvalue()
