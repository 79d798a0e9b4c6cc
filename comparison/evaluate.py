"""Move-selection metrics: how often a scorer picks the expert's candidate, and how far off it is.

All functions work on flat arrays in the DecisionSet layout: ``scores`` (M,) for every candidate,
``offsets`` (G+1,), ``chosen`` (G,) (index within each group). Ties count against the model: the
expert's candidate is ranked below every candidate scoring at least as high.
"""
from __future__ import annotations

import numpy as np
import torch

from .data import DecisionSet, iterate_batches


def expert_ranks(scores: np.ndarray, offsets: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """1-based rank of the expert's candidate in each group, (G,) int64 (1 = ranked first)."""
    scores = np.asarray(scores, dtype=np.float64)
    sizes = np.diff(offsets)
    group = np.repeat(np.arange(len(sizes)), sizes)
    expert_score = scores[offsets[:-1] + chosen]
    rows = np.arange(len(scores))
    better = (scores >= expert_score[group]) & (rows != (offsets[:-1] + chosen)[group])
    return 1 + np.bincount(group, weights=better, minlength=len(sizes)).astype(np.int64)


def picks(scores: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Index (within its group) of the first best-scoring candidate of each group, (G,)."""
    out = np.empty(len(offsets) - 1, np.int64)
    for g in range(len(out)):
        out[g] = int(np.argmax(scores[offsets[g]:offsets[g + 1]]))
    return out


def rank_metrics(scores, offsets, chosen) -> dict:
    """top-1 (agreement), top-3, mean reciprocal rank, number of decisions."""
    r = expert_ranks(scores, offsets, chosen)
    if len(r) == 0:
        return {"decisions": 0, "top1": float("nan"), "top3": float("nan"), "mrr": float("nan")}
    return {"decisions": int(len(r)), "top1": float((r == 1).mean()), "top3": float((r <= 3).mean()),
            "mrr": float((1.0 / r).mean())}


@torch.no_grad()
def score_set(model, data: DecisionSet, featurize, batch_size: int = 512, device="cpu") -> np.ndarray:
    """The model's score of every candidate of ``data``, (M,) float32, in eval mode."""
    was_training = model.training
    model.eval()
    out = np.empty(data.n_items, np.float32)
    pos = 0
    for batch in iterate_batches(data, featurize, batch_size):
        s = model(batch.x.to(device)).float().cpu().numpy()
        out[pos:pos + len(s)] = s
        pos += len(s)
    model.train(was_training)
    return out


def evaluate(model, data: DecisionSet, featurize, batch_size: int = 512, device="cpu") -> dict:
    return rank_metrics(score_set(model, data, featurize, batch_size, device), data.offsets, data.chosen)


__all__ = ["evaluate", "expert_ranks", "picks", "rank_metrics", "score_set"]
