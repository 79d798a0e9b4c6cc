"""Sparse first layer of the mixture: each expert computes only what is routed to it.

The first layer is h = b + sum_t sum_e c[t, e] W_e[t] x_t, and a router that picks gives its
weights in the sparse form c[t, e] = gates[t, e] + rest[t] / E (``Routing.gates`` nonzero on
the picked pairs only, ``Routing.rest`` the mass of the unpicked experts, spread evenly).
So h splits in two:

    picked part   sum over picked (t, e) of gates[t, e] W_e[t] x_t    dispatch, experts, combine
    average part  sum_t rest[t] Wbar[t] x_t, Wbar = mean_e W_e         one matmul of dense size

The picked part, for token-level routers: every picked (position, token, expert) triple is a row;
rows are gathered (dispatch), each is multiplied by its block W_e[t] (d, H), the block that
reads token t in expert e (experts), and the rows are summed back into their positions (combine,
a scatter-add). Its matmul FLOPs are 2 d H per picked pair: with k picks per token, k times the
dense first layer, plus once for the average part. Two ways to run the experts, equal in FLOPs
and in result: few rows (ranking one decision's candidates) gather each row's block and run one
batched matmul, since ~100 tiny matmuls would cost more in calls than in arithmetic; many rows
(training batches) sort the rows by block and let each block multiply its rows, since gathering
a (d, H) block per row would cost more in memory traffic.
Routers of whole positions (gate, phase, preference) pick experts for the position: a picked
expert reads the whole flat position (T * d) with its whole first layer.

Wbar is taken from the parameters at every forward (a cheap (T * d, H) reduction), so the
average part is exact under autograd: every expert gets 1 / E of its gradient.
"""
from __future__ import annotations

import torch
from torch import Tensor


def average_part(x: Tensor, rest: Tensor, weight: Tensor) -> Tensor:
    """sum_t rest[t] Wbar[t] x_t: (B, T, d), rest (B, T) or (B,), weight (E, T*d, H) -> (B, H)."""
    B = x.shape[0]
    scaled = x * rest.reshape(B, -1, 1)  # (B, T, d): a position-level rest scales every token alike
    return scaled.reshape(B, -1) @ weight.mean(0)  # (B, T*d) @ (T*d, H)


GATHER_MAX_ROWS = 4096  # up to this many picked rows, gather blocks per row (measured crossover ~5,000 on CPU)


def picked_tokens(x: Tensor, picked: Tensor, gates: Tensor, weight: Tensor) -> Tensor:
    """Picked part of token-level routing: (B, T, d), picked / gates (B, T, E), weight (E, T*d, H) -> (B, H)."""
    if int(picked.sum()) <= GATHER_MAX_ROWS:
        return picked_tokens_gathered(x, picked, gates, weight)
    return picked_tokens_by_block(x, picked, gates, weight)


def picked_tokens_gathered(x: Tensor, picked: Tensor, gates: Tensor, weight: Tensor) -> Tensor:
    """:func:`picked_tokens` as one batched matmul, each row with its own gathered block."""
    B, T, d = x.shape
    E, _, H = weight.shape
    b, t, e = picked.nonzero().t()  # (N,) each: one row per picked (position, token, expert)
    token = b * T + t  # row of (B*T, d)
    rows = x.reshape(B * T, d).index_select(0, token)  # (N, d)
    rows = rows * gates.reshape(-1).index_select(0, token * E + e).unsqueeze(1)  # (N, d) weighted by the gate
    blocks = weight.view(E * T, d, H).index_select(0, e * T + t)  # (N, d, H): each row's block W_e[t]
    out = torch.bmm(rows.unsqueeze(1), blocks).squeeze(1)  # (N, H)
    return x.new_zeros(B, H).index_add_(0, b, out)


def picked_tokens_by_block(x: Tensor, picked: Tensor, gates: Tensor, weight: Tensor) -> Tensor:
    """:func:`picked_tokens` with the rows sorted by block, one matmul per block that has rows."""
    B, T, d = x.shape
    E, _, H = weight.shape
    # dispatch: one row per picked (b, t, e), sorted by (e, t) so that each block's rows are contiguous
    e, t, b = picked.permute(2, 1, 0).nonzero().t().contiguous()  # (N,) each
    token = b * T + t  # row of (B*T, d)
    rows = x.reshape(B * T, d).index_select(0, token)  # (N, d)
    rows = rows * gates.reshape(-1).index_select(0, token * E + e).unsqueeze(1)  # (N, d) weighted by the gate
    # experts: block (e, t) multiplies its rows; a block no token picked costs nothing
    counts = picked.sum(0).t().reshape(-1).tolist()  # (E*T,) rows per block, in (e, t) order
    blocks = weight.view(E * T, d, H)
    out = [chunk @ blocks[g] for g, chunk in enumerate(rows.split(counts)) if len(chunk)]  # [(n_g, H)]
    h = x.new_zeros(B, H)
    if not out:  # nothing picked (everything dropped): the average part reads every token
        return h
    # combine: each row adds into its position
    return h.index_add_(0, b, torch.cat(out))


def picked_positions(x: Tensor, picked: Tensor, gates: Tensor, weight: Tensor) -> Tensor:
    """Picked part of position routing: (B, T, d), picked / gates (B, E), weight (E, T*d, H) -> (B, H)."""
    B = x.shape[0]
    E, _, H = weight.shape
    flat = x.reshape(B, -1)  # (B, T*d)
    h = flat.new_zeros(B, H)
    for e in range(E):
        rows = picked[:, e].nonzero().squeeze(1)  # positions that picked expert e
        if len(rows):
            gated = flat.index_select(0, rows) * gates[:, e].index_select(0, rows).unsqueeze(1)  # (n_e, T*d)
            h.index_add_(0, rows, gated @ weight[e])  # (n_e, T*d) @ (T*d, H)
    return h


def sparse_first_layer(x: Tensor, picked: Tensor, gates: Tensor, rest: Tensor | None, weight: Tensor,
                       bias: Tensor) -> Tensor:
    """h = b + picked part + average part; (B, T, E) picks route tokens, (B, E) picks route positions."""
    picked_part = picked_positions if picked.dim() == 2 else picked_tokens
    h = picked_part(x, picked, gates, weight)
    if rest is not None:
        h = h + average_part(x, rest, weight)
    return h + bias
