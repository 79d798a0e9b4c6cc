"""Pictures of training runs (matplotlib, imported only when a picture is drawn)."""
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


__all__ = ["plot_history"]
