"""Outcome heads: a scorer that says how good a position is, as probabilities of its outcomes.

Tesauro's comparison net only orders sibling candidates: its V is known up to a constant per
decision. An outcome scorer outputs the probabilities of the game's outcomes for the side that
made the move, consistent by construction, and V is the expected points (the cubeless equity)
computed from them; the comparison loss still trains V on the experts' choices, and where
absolute targets exist (an engine's probabilities, game results) a second term pins them down.

Outcomes come in nested levels of points (backgammon: ``levels=(1, 2, 3)``, single game, gammon,
backgammon). For L levels the 2L - 1 probabilities are, in GNU Backgammon's order and convention
(a higher level counts within the lower ones)::

    win, win >= level 2, ..., win >= level L, lose >= level 2, ..., lose >= level L

made from 2L - 1 logits a: win = s(a_0); win >= l = (win >= l-1) * s(a_l); lose = 1 - win;
lose >= l = (lose >= l-1) * s(a_{L-1+l}). So gammons never exceed wins, backgammons never exceed
gammons. The equity is v_1 (win - lose) + sum_l (v_l - v_{l-1}) (win >= l - lose >= l):
for backgammon 2 win - 1 + wg + wbg - lg - lbg, gnubg's cubeless equity.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .models import ACTIVATIONS, BaseScorer


def probabilities_from_logits(logits: Tensor, n_levels: int) -> Tensor:
    """(B, 2L-1) logits -> (B, 2L-1) consistent outcome probabilities (see the module doc)."""
    p = torch.sigmoid(logits)
    win = p[:, :1]                                   # (B, 1)
    wins, loses = [win], [1.0 - win]
    for lv in range(1, n_levels):
        wins.append(wins[-1] * p[:, lv:lv + 1])                    # win at this level or above
        loses.append(loses[-1] * p[:, n_levels - 1 + lv:n_levels + lv])
    return torch.cat(wins + loses[1:], dim=1)


def equity_from_probabilities(probs: Tensor, levels) -> Tensor:
    """(B, 2L-1) outcome probabilities -> (B,) expected points for the side they belong to."""
    L = len(levels)
    win = probs[:, 0]
    eq = levels[0] * (2.0 * win - 1.0)
    for lv in range(1, L):
        step = levels[lv] - levels[lv - 1]
        eq = eq + step * (probs[:, lv] - probs[:, L - 1 + lv])
    return eq


def masked_bce(probs: Tensor, targets: Tensor) -> Tensor:
    """Binary cross-entropy of probabilities (M, K) against targets (M, K), averaged over the known
    components only: a NaN target component is left out on its own, so a candidate whose win is
    known but whose gammons are not (a game ended by a refused double) still teaches the win.
    With no known component at all, a zero that keeps ``probs`` in the graph (data parallel
    training needs every parameter reached)."""
    known = ~torch.isnan(targets)                                # (M, K)
    if not known.any():
        return probs.sum() * 0.0
    return F.binary_cross_entropy(probs[known].clamp(1e-6, 1 - 1e-6), targets[known])


class OutcomeScorer(BaseScorer):
    """(B, ...) features -> (B,) scores = ``sharpness`` x equity; ``probabilities(x)`` -> (B, 2L-1).

    The comparison loss reads scores on a logit scale, while the equities of sibling plays differ
    by hundredths: a learned positive factor (``sharpness``) lets it, without changing the ranking
    or the probabilities. ``equity(x)`` is the calibrated value. Absolute targets, when a batch
    carries them (``Batch.targets`` (M, 2L-1), NaN where unknown: a whole row, or single
    components), add ``target_weight`` x the binary cross-entropy of the probabilities over the
    known components (:meth:`extra_loss`, :func:`masked_bce`).
    """

    def __init__(self, d_in: int, hidden=(128,), activation: str = "relu", levels=(1, 2, 3),
                 target_weight: float = 1.0, sharpness: float = 10.0):
        super().__init__()
        hidden = tuple(int(h) for h in ((hidden,) if isinstance(hidden, int) else hidden))
        if not hidden:
            raise ValueError("an outcome scorer needs at least one hidden layer")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        levels = tuple(float(v) for v in levels)
        if not levels or levels[0] <= 0 or any(b <= a for a, b in zip(levels, levels[1:])):
            raise ValueError(f"levels must be increasing positive points, e.g. (1, 2, 3); got {levels}")
        self.levels = levels
        self.n_outcomes = 2 * len(levels) - 1
        self.target_weight = float(target_weight)
        self.config = {"kind": "outcome", "d_in": int(d_in), "hidden": list(hidden), "activation": activation,
                       "levels": list(levels), "target_weight": self.target_weight, "sharpness": float(sharpness)}
        layers, width = [], int(d_in)
        for h in hidden:
            layers += [nn.Linear(width, h), ACTIVATIONS[activation]()]
            width = h
        layers.append(nn.Linear(width, self.n_outcomes))
        self.net = nn.Sequential(*layers)
        self.log_sharpness = nn.Parameter(torch.tensor(math.log(sharpness)))
        self._last_probs = None  # the probabilities of the last training forward, for extra_loss

    def probabilities(self, x: Tensor) -> Tensor:
        """(B, ...) -> (B, 2L-1) outcome probabilities of the side that moved (module doc's order)."""
        return probabilities_from_logits(self.net(x.flatten(1)), len(self.levels))

    def equity(self, x: Tensor) -> Tensor:
        """(B, ...) -> (B,) expected points (cubeless equity) of the side that moved."""
        return equity_from_probabilities(self.probabilities(x), self.levels)

    def forward(self, x: Tensor) -> Tensor:
        probs = self.probabilities(x)
        if self.training:
            self._last_probs = probs
        return self.log_sharpness.exp() * equity_from_probabilities(probs, self.levels)

    def extra_loss(self, batch) -> tuple[Tensor, dict[str, float]]:
        targets = getattr(batch, "targets", None)
        probs, self._last_probs = self._last_probs, None
        if targets is None or probs is None or self.target_weight == 0:
            return batch.x.new_zeros(()), {}
        bce = masked_bce(probs, targets)
        return self.target_weight * bce, {"target_bce": float(bce.detach())}


def build_outcome_scorer(d_in: int, hidden=(128,), activation: str = "relu", levels=(1, 2, 3),
                         target_weight: float = 1.0, sharpness: float = 10.0) -> OutcomeScorer:
    return OutcomeScorer(d_in, hidden, activation, levels, target_weight, sharpness)


def from_config(config: dict) -> OutcomeScorer:
    return OutcomeScorer(config["d_in"], tuple(config["hidden"]), config.get("activation", "relu"),
                         tuple(config.get("levels", (1, 2, 3))), config.get("target_weight", 1.0),
                         config.get("sharpness", 10.0))


__all__ = ["OutcomeScorer", "build_outcome_scorer", "equity_from_probabilities", "from_config", "masked_bce",
           "probabilities_from_logits"]
