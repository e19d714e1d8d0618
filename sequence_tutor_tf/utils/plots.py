"""PNG plots (matplotlib, Agg backend: no display needed)."""
import csv

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_training_curves(csv_path, png_path, baseline_nll=None):
    """Loss and accuracy per epoch from Keras' CSVLogger file, train vs validation."""
    with open(csv_path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{csv_path} holds no epochs to plot")
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, (ax_nll, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("nll", "train"), ("val_nll", "validation")):
        if key in rows[0]:
            ax_nll.plot(epochs, [float(r[key]) for r in rows], marker="o", label=label)
    if baseline_nll is not None:
        ax_nll.axhline(baseline_nll, color="gray", linestyle="--", label="unigram baseline")
    ax_nll.set(xlabel="epoch", ylabel="NLL (nats / event)", title="Note RNN negative log-likelihood")
    ax_nll.legend()
    for key, label in (("accuracy", "train"), ("val_accuracy", "validation")):
        if key in rows[0]:
            ax_acc.plot(epochs, [float(r[key]) for r in rows], marker="o", label=label)
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Next-event accuracy")
    ax_acc.legend()
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
    return png_path
