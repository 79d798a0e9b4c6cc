"""Mixtures of expert scorers: routers, sparse upcycling, router preferences.

A position is given as tokens (B, T, d) (a game's token encoding, e.g. backgammon's points); experts
read the tokens a router gives them, inside one position, and a shared trunk turns what they
read into a score (B,). See ``scorer`` for the architecture, ``routers`` for the routers,
``upcycle`` for starting from a trained dense scorer and ``preferences`` for training a router
by comparison.

    net = moe.build_scorer(router="expert_choice", n_tokens=26, d_token=12, n_experts=4)
    up = moe.upcycle(dense, router="token_choice", n_experts=4, n_tokens=26, d_token=12)
    free = moe.with_router(net, "usmoe", alpha=0.5)   # a trained mixture read by USMoE, untrained
"""
from .preferences import (
    best_expert_agreement,
    expert_pair_losses,
    preference_loss,
    preference_pairs,
    preference_targets,
    router_preference_loss,
)
from .routers import ROUTERS, Router, Routing, sinkhorn, sparse_simplex_projection, with_router
from .scorer import ACTIVATIONS, MoEScorer, build_scorer, from_config
from .upcycle import upcycle

__all__ = [
    "ACTIVATIONS", "MoEScorer", "ROUTERS", "Router", "Routing", "best_expert_agreement", "build_scorer",
    "expert_pair_losses", "from_config", "preference_loss", "preference_pairs", "preference_targets",
    "router_preference_loss", "sinkhorn", "sparse_simplex_projection", "upcycle", "with_router",
]
