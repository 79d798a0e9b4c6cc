"""Pictures of training runs and of calibration (matplotlib, imported only when a picture is drawn)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_history(history: list, path, title: str = "") -> None:
    """Training curves (loss and validation agreement per epoch) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in history]
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].plot(epochs, [r["train_loss"] for r in history], marker="o")
    ax[0].set(xlabel="epoch", ylabel="training loss", title="loss")
    if any("valid_top1" in r for r in history):
        for key, label in (("valid_top1", "top-1"), ("valid_top3", "top-3")):
            ax[1].plot(epochs, [100 * r.get(key, np.nan) for r in history], marker="o", label=label)
        ax[1].set(xlabel="epoch", ylabel="agreement with the expert (%)", title="validation")
        ax[1].legend()
    for a in ax:
        a.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def reliability_table(predicted, actual, n_bins: int = 10) -> dict:
    """Predicted probabilities against what happened, in ``n_bins`` equal-width bins of [0, 1].

    ``predicted`` (N,) probabilities of an event, ``actual`` (N,) 1.0 / 0.0 whether it happened
    (NaN: unknown, left out). Returns plain lists (JSON-ready), one entry per bin: ``edges``
    (n_bins + 1,), ``count``, ``mean_predicted`` and ``observed`` (the event's frequency; NaN in
    an empty bin); and ``n``, ``brier`` (mean squared error) and ``ece`` (the count-weighted mean
    of |observed - mean_predicted|, the expected calibration error).
    """
    predicted = np.asarray(predicted, np.float64)
    actual = np.asarray(actual, np.float64)
    if predicted.shape != actual.shape or predicted.ndim != 1:
        raise ValueError(f"predicted and actual must be (N,) arrays of one length, got {predicted.shape} "
                         f"and {actual.shape}")
    keep = ~np.isnan(actual) & ~np.isnan(predicted)
    p, y = np.clip(predicted[keep], 0.0, 1.0), actual[keep]
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)        # (N,) bin of each prediction
    count = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(which, weights=p, minlength=n_bins) / count
        observed = np.bincount(which, weights=y, minlength=n_bins) / count
    filled = count > 0
    ece = float((count[filled] * np.abs(observed[filled] - mean_p[filled])).sum() / max(int(count.sum()), 1))
    return {"edges": edges.tolist(), "count": count.tolist(), "mean_predicted": mean_p.tolist(),
            "observed": observed.tolist(), "n": int(len(p)),
            "brier": float(np.mean((p - y) ** 2)) if len(p) else float("nan"), "ece": ece}


def plot_reliability(tables: dict, path, title: str = "", what: str = "win") -> None:
    """A reliability diagram as a PNG: for each name in ``tables`` ({name: reliability_table(...)}),
    the observed frequency against the mean predicted probability per bin (a line; the diagonal is
    perfect calibration), and below, the number of predictions in each bin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.5, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    for name, t in tables.items():
        count = np.asarray(t["count"])
        filled = count > 0
        label = f"{name} (n {t['n']:,}, ECE {t['ece']:.3f}, Brier {t['brier']:.3f})"
        line, = top.plot(np.asarray(t["mean_predicted"])[filled], np.asarray(t["observed"])[filled],
                         marker="o", label=label)
        edges = np.asarray(t["edges"])
        bottom.stairs(count, edges, color=line.get_color())
    top.set(xlim=(0, 1), ylim=(0, 1), ylabel=f"observed {what} frequency",
            title=title or f"reliability of the predicted {what} probability")
    top.legend(fontsize=8, loc="upper left")
    bottom.set(xlabel=f"predicted {what} probability", ylabel="count")
    for a in (top, bottom):
        a.grid(alpha=0.3)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


__all__ = ["plot_history", "plot_reliability", "reliability_table"]
