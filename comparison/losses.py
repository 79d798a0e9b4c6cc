"""Losses over decision groups (see comparison.data.Batch for the layout).

All take ``scores`` (M,) of every candidate row and the batch's ``group`` (M,), ``chosen`` (G,)
(global row of the expert's candidate); each decision weighs the same, however many candidates
it has, and the result is the mean over decisions.

- ``pairwise``: Tesauro's comparison paradigm. For the pair (chosen a, other b) the symmetric
  network says P(a better) = sigmoid(V(a) - V(b)); the target is 1, so the loss is
  softplus(-(V(a) - V(b))), averaged over the decision's pairs.
- ``listwise``: softmax over the whole decision, cross-entropy at the expert's choice.
- ``margin``: hinge max(0, 1 - (V(a) - V(b))) over the pairs.
- ``relative_score``: the paradigm comparison training replaced: regress a fixed target per play,
  1 for the expert's and 0 for every other (squared error of sigmoid(V)), ignoring that only the
  order within a decision matters.

A second kind of expert, an engine that values some candidates (``Batch.values``, NaN elsewhere),
adds :func:`engine_pairs`: every pair of valued candidates of a decision, ordered by the engine's
values, in the same pair loss, weighted by the values' gap.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def pair_logistic(diff: torch.Tensor) -> torch.Tensor:
    """Tesauro's pair loss, -log sigmoid(diff) for diff = V(better) - V(worse): the one definition
    that the scorers' pairwise loss and the router preferences (comparison.moe.preferences) share."""
    return F.softplus(-diff)


def _per_group_mean(values: torch.Tensor, group: torch.Tensor, n_groups: int, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` (M, ...) over the rows of each group where ``mask`` (M,): (G, ...); a group
    with no such row gives 0."""
    keep = mask.view(-1, *([1] * (values.dim() - 1)))  # (M, 1, ...) broadcasts over trailing dims
    v = torch.where(keep, values, torch.zeros_like(values))
    total = values.new_zeros((n_groups, *values.shape[1:])).index_add_(0, group, v)
    count = torch.zeros(n_groups, dtype=values.dtype, device=values.device).index_add_(0, group, mask.to(values.dtype))
    return total / count.clamp_min(1).view(-1, *([1] * (values.dim() - 1)))


def _pair_terms(scores, group, chosen, term):
    """Per decision, the mean of ``term(V(chosen) - V(other))`` over its other rows: (M, ...) -> (G, ...)."""
    diff = scores[chosen][group] - scores          # (M, ...) V(chosen) - V(row)
    others = torch.ones(len(scores), dtype=torch.bool, device=scores.device)
    others[chosen] = False
    return _per_group_mean(term(diff), group, len(chosen), others)


def pairwise_per_decision(scores: torch.Tensor, group: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
    """The pairwise loss of each decision, (M,) -> (G,); scores (M, E) of E scorers give (G, E).

    A decision with a single candidate (no pair) gives 0.
    """
    return _pair_terms(scores, group, chosen, pair_logistic)


def pairwise(scores: torch.Tensor, group: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
    return pairwise_per_decision(scores, group, chosen).mean()


def margin(scores: torch.Tensor, group: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
    return _pair_terms(scores, group, chosen, lambda d: F.relu(1.0 - d)).mean()


def group_logsumexp(scores: torch.Tensor, group: torch.Tensor, n_groups: int) -> torch.Tensor:
    """log sum exp of the scores of each group, (G,), stable."""
    top = torch.full((n_groups,), float("-inf"), dtype=scores.dtype, device=scores.device)
    top = top.scatter_reduce(0, group, scores.detach(), reduce="amax")
    sums = torch.zeros(n_groups, dtype=scores.dtype, device=scores.device).index_add_(0, group, torch.exp(scores - top[group]))
    return torch.log(sums) + top


def listwise(scores: torch.Tensor, group: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
    return (group_logsumexp(scores, group, len(chosen)) - scores[chosen]).mean()


def relative_score(scores: torch.Tensor, group: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
    target = torch.zeros_like(scores)
    target[chosen] = 1.0
    err = (torch.sigmoid(scores) - target) ** 2
    every = torch.ones_like(scores, dtype=torch.bool)
    return _per_group_mean(err, group, len(chosen), every).mean()


def engine_pairs_per_decision(scores: torch.Tensor, group: torch.Tensor, values: torch.Tensor,
                              n_groups: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The engine's preference loss of each decision: ((G,) losses, (G,) bool: has a pair).

    ``values`` (M,) are an engine's values of the candidates (higher = better for the mover; NaN
    where it gave none). Each pair (a, b) of valued candidates of one decision with
    values[a] > values[b] is a preference "a is better", scored by Tesauro's pair loss
    softplus(-(V(a) - V(b))) and weighted by the gap values[a] - values[b]: plays the engine finds
    nearly equal barely count, a blunder against the best play counts much. A decision's loss is
    the weighted mean over its pairs, so every decision with a pair weighs the same (as the
    people's decisions do); a decision without one (fewer than two valued candidates, or all
    valued equal) gives 0 and False.
    """
    known = ~torch.isnan(values)
    rows = torch.nonzero(known).flatten()                    # (L,) valued rows, in group order
    if len(rows) == 0:
        return scores.new_zeros(n_groups), torch.zeros(n_groups, dtype=torch.bool, device=scores.device)
    g = group[rows]                                           # (L,) their decisions
    counts = torch.bincount(g, minlength=n_groups)            # (G,)
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.arange(len(rows), device=scores.device) - starts[g]  # (L,) place within the decision
    width = int(counts.max())
    # (G, K) padded tables: scores 0 and values NaN in the padding, so no pair reaches it
    s = scores.new_zeros((n_groups, width)).index_put((g, slot), scores[rows])
    v = torch.full((n_groups, width), float("nan"), dtype=scores.dtype, device=scores.device)
    v = v.index_put((g, slot), values[rows].to(scores.dtype))
    gap = v[:, :, None] - v[:, None, :]                       # (G, K, K) value of a minus value of b
    weight = torch.where(gap > 0, gap, torch.zeros_like(gap))  # NaN compares False: padding gets 0
    term = pair_logistic(s[:, :, None] - s[:, None, :])       # (G, K, K) loss of "a better than b"
    total = weight.sum(dim=(1, 2))                            # (G,)
    has = total > 0
    per = (weight * term).sum(dim=(1, 2)) / torch.where(has, total, torch.ones_like(total))
    return per, has


def engine_pairs(scores: torch.Tensor, group: torch.Tensor, values: torch.Tensor, n_groups: int) -> torch.Tensor:
    """Mean of :func:`engine_pairs_per_decision` over the decisions that have a pair (0 when none:
    a zero that keeps ``scores`` in the graph)."""
    per, has = engine_pairs_per_decision(scores, group, values, n_groups)
    if not has.any():
        return scores.sum() * 0.0
    return per[has].mean()


LOSSES = {"pairwise": pairwise, "listwise": listwise, "margin": margin, "relative_score": relative_score}


def get(name: str):
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None


__all__ = ["LOSSES", "engine_pairs", "engine_pairs_per_decision", "get", "group_logsumexp", "listwise", "margin", "pair_logistic", "pairwise",
           "pairwise_per_decision", "relative_score"]
