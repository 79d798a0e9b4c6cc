"""Router preferences: the router learns by comparison which expert handles a decision best.

The router is itself a scorer, over experts: r(x) (E,) for a position x. Each decision of the
records says which expert is better there: score the decision's candidates with every expert
on its own, take each expert's pairwise (Tesauro) loss on the decision, and say "expert i
handles this decision better than expert j" when loss_i + margin < loss_j. The router is then
trained on those pairs with the same comparison loss the scorers use,
softplus(-(r_i(x) - r_j(x))), so that it ranks the experts as their losses do.

The router scores each candidate position by itself (a position's score never depends on its
batch-mates), so at play time every candidate is scored by the expert the router puts first
on it, as GNU Backgammon scores each candidate with the net of its class. In training every
candidate row of a decision learns the decision's pairs; each decision weighs the same.

Batch layout (as in ``comparison.data``): the candidates of G decisions flattened to M rows,
``group`` (M,) int64 the decision of each row (a decision's rows contiguous), ``offsets``
(G + 1,) where decision g's rows start, ``chosen`` (G,) the global row of the play the human
chose.

Training with :class:`~comparison.moe.routers.PreferenceRouter` (``scorer.router.learns_from_preferences``):
loss = main loss of the routed scores + ``preference_loss(scorer, x, group, offsets, chosen)``, the
second term added by the scorer's own ``MoEScorer.extra_loss``; the argmax routing passes no
gradient to the router, and this loss none to the experts.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ..losses import pair_logistic, pairwise_per_decision


def _check_batch(n_rows: int, group: Tensor, offsets: Tensor, chosen: Tensor) -> None:
    if group.shape != (n_rows,):
        raise ValueError(f"group: expected shape ({n_rows},), got {tuple(group.shape)}")
    if offsets.dim() != 1 or chosen.shape != (len(offsets) - 1,):
        raise ValueError(f"offsets (G + 1,) and chosen (G,) disagree: {tuple(offsets.shape)}, {tuple(chosen.shape)}")


def expert_pair_losses(expert_scores: Tensor, group: Tensor, offsets: Tensor, chosen: Tensor) -> Tensor:
    """Each expert's pairwise loss on each decision: scores (M, E) -> (G, E).

    loss[g, e] = mean over the decision's other candidates b of softplus(-(V_e(chosen) - V_e(b)));
    0 for a decision with a single candidate (no pair). The trainer's pairwise loss, expert by expert.
    """
    _check_batch(expert_scores.shape[0], group, offsets, chosen)
    return pairwise_per_decision(expert_scores, group, chosen)


def preference_targets(expert_losses: Tensor, margin: float = 0.0) -> Tensor:
    """Which expert beats which on each decision: (G, E) losses -> (G, E, E) bool, [g, i, j] = i better than j."""
    return expert_losses.unsqueeze(2) + margin < expert_losses.unsqueeze(1)


def preference_pairs(expert_losses: Tensor, margin: float = 0.0) -> tuple[Tensor, Tensor, Tensor]:
    """The preference pairs as index lists (decision, better expert, worse expert), each (P,) int64."""
    g, i, j = preference_targets(expert_losses, margin).nonzero(as_tuple=True)
    return g, i, j


def router_preference_loss(router_scores: Tensor, expert_losses: Tensor, group: Tensor | None = None,
                           margin: float = 0.0) -> Tensor:
    """The comparison loss of a router's expert scores on the experts' preference pairs.

    ``router_scores``: (G, E) one row per decision, or (M, E) one per candidate row with
    ``group`` (M,) (every row learns its decision's pairs, averaged per decision). Mean over
    the decisions that have at least one pair; 0 (with a graph) when none has.
    """
    targets = preference_targets(expert_losses.detach(), margin).to(router_scores.dtype)  # (G, E, E)
    G = expert_losses.shape[0]
    if group is None:
        if router_scores.shape[0] != G:
            raise ValueError(f"router_scores: {router_scores.shape[0]} rows for {G} decisions; pass group")
        group = torch.arange(G, device=router_scores.device)
    elif group.shape != (router_scores.shape[0],):
        raise ValueError(f"group: expected shape ({router_scores.shape[0]},), got {tuple(group.shape)}")
    diff = router_scores.unsqueeze(2) - router_scores.unsqueeze(1)  # (M, E, E) r_i - r_j
    t = targets[group]  # (M, E, E)
    n_pairs = t.sum((1, 2))  # (M,)
    per_row = (pair_logistic(diff) * t).sum((1, 2)) / n_pairs.clamp_min(1.0)
    rows = router_scores.new_zeros(G).index_add_(0, group, torch.ones_like(per_row))
    per_decision = router_scores.new_zeros(G).index_add_(0, group, per_row) / rows.clamp_min(1.0)
    has_pairs = targets.sum((1, 2)) > 0  # (G,)
    if not bool(has_pairs.any()):
        return router_scores.sum() * 0.0
    return per_decision[has_pairs].mean()


def preference_loss(scorer, x: Tensor, group: Tensor, offsets: Tensor, chosen: Tensor,
                    margin: float = 0.0) -> Tensor:
    """Router-preference loss of a mixture on a batch of candidate tokens x (M, T, d).

    The experts' own scores are taken without gradient (this loss trains the router only);
    the router must score experts per position (``scorer.router.expert_preferences``).
    """
    if not hasattr(scorer.router, "expert_preferences"):
        raise ValueError(f"router preferences need a router that scores experts per position "
                         f"('preference' or 'gate'), not {scorer.router.name!r}")
    with torch.no_grad():
        losses = expert_pair_losses(scorer.expert_scores(x), group, offsets, chosen)
    return router_preference_loss(scorer.router.expert_preferences(x), losses, group, margin)


def best_expert_agreement(router_scores: Tensor, expert_losses: Tensor, group: Tensor | None = None) -> float:
    """Share of decisions (with a strict best expert) where the router puts that expert first.

    With per-row router scores, a decision's router scores are the mean over its rows.
    """
    G, E = expert_losses.shape
    if group is not None:
        counts = router_scores.new_zeros(G).index_add_(0, group, torch.ones_like(group, dtype=router_scores.dtype))
        router_scores = router_scores.new_zeros(G, E).index_add_(0, group, router_scores) / counts.clamp_min(1).unsqueeze(1)
    best = expert_losses.argmin(1)
    strict = (expert_losses == expert_losses.gather(1, best[:, None])).sum(1) == 1  # no tie for first
    if not bool(strict.any()):
        return 0.0
    return float((router_scores.argmax(1) == best)[strict].float().mean())
