"""The Pareto plot: task reward per sequence against KL(policy || prior) per token, one point
per learner (mean over seeds, bars one standard deviation), the prior at KL 0, and the
frontier of points no other point beats on both axes."""
import numpy as np


def pareto_front(points):
    """Indices of the points (kl, reward) no other point dominates (lower KL, higher reward)."""
    front = []
    for i, (kl, reward) in enumerate(points):
        if not any((k <= kl and r >= reward) and (k < kl or r > reward)
                   for j, (k, r) in enumerate(points) if j != i):
            front.append(i)
    return sorted(front, key=lambda i: points[i][0])


def pareto_plot(summary, path, title="task reward vs KL from the prior"):
    """`summary`: {learner: {"kl": (mean, std), "reward": (mean, std)}}."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    names = list(summary)
    points = [(summary[n]["kl"][0], summary[n]["reward"][0]) for n in names]
    fig, ax = plt.subplots(figsize=(7, 5))
    for name, (kl, reward) in zip(names, points):
        ax.errorbar(kl, reward, xerr=summary[name]["kl"][1], yerr=summary[name]["reward"][1],
                    fmt="o", capsize=3, label=name)
        ax.annotate(name, (kl, reward), textcoords="offset points", xytext=(5, 5), fontsize=8)
    front = pareto_front(points)
    ax.plot([points[i][0] for i in front], [points[i][1] for i in front], "k--", lw=0.8,
            label="Pareto front")
    ax.set_xlabel("KL(policy || prior) per token (nats)")
    ax.set_ylabel("task reward per sequence")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def summarise(rows, key):
    values = np.array([r[key] for r in rows], float)
    return float(np.mean(values)), float(np.std(values))
