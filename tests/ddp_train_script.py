"""Helper of test_comparison: small training runs, the same under torchrun or as one process.

    python tests/ddp_train_script.py OUT_DIR [dense|preference|token_choice ...]

For each model name: trains it on a fixed synthetic set and writes OUT_DIR/<name>.pt (the
trainer's checkpoint, rank 0), OUT_DIR/<name>.init.pt (the weights before training) and
OUT_DIR/<name>.rank<r>.pt (every rank's weights after training, to check the ranks agree).
"""
import os
import sys
from pathlib import Path

import numpy as np
import torch

from comparison import models, moe
from comparison.data import DecisionSet
from comparison.train import TrainConfig, Trainer, finish_distributed

T, D = 6, 4  # the mixtures' tokens: (T, D) per candidate


def dense_set() -> DecisionSet:
    """300 decisions of 2..12 candidates of 8 features; the expert maximises a hidden linear V*."""
    rng = np.random.default_rng(4)
    w = rng.normal(size=8)
    sizes = rng.integers(2, 13, size=300)
    items = rng.normal(size=(int(sizes.sum()), 8)).astype(np.float32)
    return _choose(items, np.concatenate([[0], np.cumsum(sizes)]), items @ w)


def token_set() -> DecisionSet:
    """300 decisions of 4 candidates of T x D token features (flat); V* is linear in them.

    Every decision has as many candidates so that the two ranks hold as many token rows: a mean
    over a rank's tokens (the z loss) then averages across ranks to the mean over the batch.
    """
    rng = np.random.default_rng(5)
    w = rng.normal(size=T * D)
    items = rng.normal(size=(300 * 4, T * D)).astype(np.float32)
    return _choose(items, np.arange(301) * 4, items @ w)


def _choose(items, offsets, value) -> DecisionSet:
    chosen = np.array([int(np.argmax(value[offsets[g]:offsets[g + 1]])) for g in range(len(offsets) - 1)])
    return DecisionSet(items, offsets, chosen)


def as_tokens(items):
    return items.reshape(len(items), T, D)


def build(name):
    """(scorer, training set, featurize) of a model name."""
    torch.manual_seed(0)
    if name == "dense":
        return models.build_scorer("mlp", d_in=8, hidden=(16,)), dense_set(), lambda x: x
    if name == "preference":  # its router is trained by the preference loss, outside the scorer's forward
        return moe.build_scorer("preference", n_tokens=T, d_token=D, n_experts=3, hidden=8), token_set(), as_tokens
    if name == "token_choice":
        # the z loss but no load-balance loss: Switch's balance loss multiplies two means over the
        # whole batch, so two halves' losses do not average to it (one process and two would differ)
        net = moe.build_scorer("token_choice", n_tokens=T, d_token=D, n_experts=3, hidden=8, top_k=1,
                               capacity_factor=1.0, balance_coef=0.0, z_coef=0.01)
        return net, token_set(), as_tokens
    raise SystemExit(f"unknown model {name!r}")


def main(out_dir, names):
    out_dir = Path(out_dir)
    rank = int(os.environ.get("RANK", "0"))
    for name in names:
        model, data, featurize = build(name)
        if rank == 0:
            torch.save(model.state_dict(), out_dir / f"{name}.init.pt")
        cfg = TrainConfig(epochs=2, batch_size=32, lr=1e-2, seed=0, patience=100, threads=1, device="cpu")
        trainer = Trainer(model, data, None, featurize, cfg, out=str(out_dir / f"{name}.pt"), progress=False,
                          log=lambda s: None)
        trainer.fit()
        torch.save(model.state_dict(), out_dir / f"{name}.rank{rank}.pt")
    finish_distributed()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or ["dense"])
