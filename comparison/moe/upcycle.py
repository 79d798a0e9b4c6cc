"""Sparse upcycling: a trained dense scorer becomes a mixture whose experts all start as it.

The dense scorer must be (or hold as ``.net``) an ``nn.Sequential``
[Linear(T * d, H1), act, (Linear(H_i, H_i+1), act)*, Linear(H_last, 1)] that reads the tokens
flattened row-major, (B, T, d) -> (B, T * d), so that input unit t * d + j is feature j of
token t. Every expert's first layer becomes a copy of the dense first layer, the bias and the
trunk (everything after the first Linear) are copied as they are, and the router is fresh.

Why the scores are the dense ones at step 0, for every router: the mixture's first layer is
b + sum_t sum_e c[t, e] W_e[t] x_t, and with W_e = W for every e that is
b + sum_t (sum_e c[t, e]) W[t] x_t. Token choice, expert choice, USMoE and position gating make
sum_e c[t, e] = 1 for every token, whatever they pick or drop (the mass of unpicked experts
reads the token through the experts' average, which is W); the hard routers (phase,
preference) give one expert weight one. Soft MoE's weights sum to one per token only when its
dispatch and combine are uniform, so upcycling sets its learned scale to 0 (the logits are
then 0; the scale gets a gradient at the first step and the router moves off uniform).
"""
from __future__ import annotations

import torch
from torch import nn

from .scorer import MoEScorer, activation_name, build_scorer


def dense_layers(dense: nn.Module) -> nn.Sequential:
    """The dense scorer's layers, checked against the shape upcycling copies."""
    net = dense if isinstance(dense, nn.Sequential) else getattr(dense, "net", None)
    if not isinstance(net, nn.Sequential):
        raise ValueError("upcycle: the dense scorer must be an nn.Sequential or hold one as .net "
                         "([Linear(T*d, H), act, (Linear, act)*, Linear(., 1)])")
    layers = [m for m in net if not isinstance(m, nn.Dropout)]
    shape_ok = len(layers) >= 3 and len(layers) % 2 == 1
    shape_ok = shape_ok and all(isinstance(m, nn.Linear) for m in layers[0::2])
    shape_ok = shape_ok and all(activation_name(m) is not None for m in layers[1::2])
    if not shape_ok:
        raise ValueError("upcycle: the dense layers must alternate Linear and a known activation, "
                         f"[Linear, act, (Linear, act)*, Linear(., 1)]; got {[type(m).__name__ for m in layers]}")
    names = {activation_name(m) for m in layers[1::2]}
    if len(names) != 1:
        raise ValueError(f"upcycle: the dense net mixes activations {sorted(names)}; the mixture needs one")
    if layers[-1].out_features != 1:
        raise ValueError(f"upcycle: the dense net's last Linear must have 1 output, has {layers[-1].out_features}")
    return net


def upcycle(dense: nn.Module, router: str = "token_choice", n_experts: int = 4, n_tokens: int | None = None,
            d_token: int | None = None, **router_kwargs) -> MoEScorer:
    """A mixture of ``n_experts`` copies of ``dense`` with a fresh ``router``; scores as ``dense`` at first.

    ``n_tokens`` and ``d_token`` default to ``dense.config["n_tokens"]`` / ``["d_token"]`` when the
    dense scorer has them. The result is in the dense scorer's mode (train/eval), device and dtype.
    """
    net = dense_layers(dense)
    cfg = getattr(dense, "config", None) or {}
    n_tokens = n_tokens if n_tokens is not None else cfg.get("n_tokens")
    d_token = d_token if d_token is not None else cfg.get("d_token")
    if n_tokens is None or d_token is None:
        raise ValueError("upcycle: give n_tokens and d_token (the token shape the dense scorer reads flattened)")
    layers = [m for m in net if not isinstance(m, nn.Dropout)]  # the mixture has no dropout
    first = layers[0]
    if first.in_features != n_tokens * d_token:
        raise ValueError(f"upcycle: the dense first layer reads {first.in_features} inputs, "
                         f"not n_tokens * d_token = {n_tokens} * {d_token}")
    hidden = [m.out_features for m in layers[0:-1:2]]
    moe = build_scorer(router, n_tokens, d_token, n_experts, hidden=hidden,
                       activation=activation_name(layers[1]), **router_kwargs)
    moe.to(device=first.weight.device, dtype=first.weight.dtype)
    with torch.no_grad():
        # nn.Linear stores (H, T*d); an expert stores (T*d, H)
        moe.expert_weight.copy_(first.weight.t().unsqueeze(0).expand_as(moe.expert_weight))
        moe.bias.copy_(first.bias if first.bias is not None else torch.zeros_like(moe.bias))
        for src, dst in zip(layers[1:], moe.trunk):
            if isinstance(src, nn.Linear):
                dst.weight.copy_(src.weight)
                dst.bias.copy_(src.bias if src.bias is not None else torch.zeros_like(dst.bias))
        moe.router.reset_for_upcycling()
    moe.train(dense.training)
    return moe
