"""Routers: which experts read which token of a position, and with what weight.

Every router maps the tokens of a batch of positions, x (B, T, d), to combine weights
c (B, T, E): the share of expert e in reading token t. The scorer
(:mod:`comparison.moe.scorer`) then forms its first layer as sum_t sum_e c[t, e] W_e[t] x[t].
All routing is done inside one position (top-k over the experts of a token, over the tokens of
an expert, over the token x expert grid of a position, softmaxes over a position's tokens), so a
position's score never depends on the other positions of its batch: comparison training
needs V(a) to be a function of a alone. Only the auxiliary losses and the statistics look at
the whole batch; they do not change a score.

The routed weights and the rest. A token-level router that picks experts (token choice,
expert choice, USMoE, position gating) gives a picked pair (t, e) the router's probability
p[t, e] (softmax over the experts of token t) as its weight, as Switch / V-MoE / expert choice
do, so the main loss trains the router (the Sinkhorn and sparsity-constrained routers select
by a balanced transport plan of the position, but weigh by p the same way). The probability
mass of the experts that were *not* picked, 1 - sum_picked p[t, e], is spread evenly over all
experts: it reads the token through the experts' average W_mean[t] = mean_e W_e[t], a shared
path. So every token's weights sum to one, whatever was picked, dropped by a capacity, or left out by every expert:
- a token that no expert picked (expert choice, USMoE) or whose choices all overflowed their
  capacity (token choice) is still read, by the experts' average;
- when the experts are copies of one dense first layer (sparse upcycling), sum_e c[t, e] W_e[t]
  = W[t] for any router state, so the upcycled net scores exactly as the dense one;
- with k = E and no capacity, the weights are just the softmax (dense gating).
The shared path costs one more expert block per token (the average of the weights is taken
once per batch, not per token). Option ``unpicked="renormalize"`` instead scales the picked
probabilities to sum to one (Mixtral style) and keeps the average for tokens with no pick;
also exact at upcycling, but with one pick per token the main loss then trains no router.

Soft MoE has no picking; its weights, derived in :class:`SoftRouter`, conserve the total
weight of a position (sum over t and e is T) but may move weight between tokens. Hard routers
(phase, preference) give weight one to a single expert for every token of the position.

Statistics per batch (:class:`Routing`): ``load`` (E,), the amount routed to each expert (picked
token-expert pairs; positions for position-level routers; weight for Soft MoE), and, where a
router can fail to place something, ``attempted`` / ``dropped`` counts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass
class Routing:
    """What a router decided for one batch."""

    combine: Tensor  # (B, T, E) weights; the scorer's first layer reads token t through expert e with it
    load: Tensor  # (E,) amount routed to each expert (detached)
    aux_loss: Tensor  # scalar: load-balance and z losses times their coefficients; 0 when none
    attempted: float = 0.0  # assignments tried (token-expert pairs, or tokens), for the dropped fraction
    dropped: float | Tensor = 0.0  # of which none was made (over capacity, or a token no expert picked)
    routed: Tensor | None = None  # (B, T) mass of each token on picked experts; the rest on the average
    hard_expert: Tensor | None = None  # (B,) int64 when every token of a position goes to one expert
    # The sparse form of combine, for a scorer that computes only what is routed (None for Soft MoE,
    # whose weights have no picks): combine = gates + rest / E. Shapes (B, T, E) and (B, T) for
    # token-level routers, (B, E) and (B,) for routers of whole positions (gate, phase, preference).
    picked: Tensor | None = None  # bool: the pairs read by their own expert
    gates: Tensor | None = None  # the weight of each picked pair, 0 elsewhere
    rest: Tensor | None = None  # the weight read through the experts' average; None when always 0 (hard routers)


class Router(nn.Module):
    """Base: T tokens of d features, E experts; subclasses say ``name`` and what they count."""

    name = ""
    # whether ``Routing.dropped`` means anything for this router (statistics report it only then)
    counts_drops = False
    # whether the router is trained by router preferences (moe.preferences) instead of the main loss
    learns_from_preferences = False

    def __init__(self, n_tokens: int, d_token: int, n_experts: int):
        super().__init__()
        for key, v in (("n_tokens", n_tokens), ("d_token", d_token), ("n_experts", n_experts)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{self.name} router: {key} must be a positive integer, got {v!r}")
        self.n_tokens, self.d_token, self.n_experts = n_tokens, d_token, n_experts
        self._config: dict = {}

    @property
    def config(self) -> dict:
        """The router's keyword arguments (JSON-able), as ``build_scorer`` takes them."""
        return dict(self._config)

    def reset_for_upcycling(self) -> None:
        """Put the router in the state upcycling needs (most routers: nothing to do)."""

    def forward(self, x: Tensor) -> Routing:  # x (B, T, d)
        raise NotImplementedError


def _check_coef(router: str, **values) -> None:
    for key, v in values.items():
        if v is None or not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0 or math.isnan(v):
            raise ValueError(f"{router} router: {key} must be a number >= 0, got {v!r}")


UNPICKED = ("mean", "renormalize")


def mix_with_mean(p: Tensor, picked: Tensor, unpicked: str = "mean") -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Combine weights from probabilities p (..., E) and a picked mask (..., E); they sum to one.

    Picked experts get their probability. ``unpicked="mean"``: the mass left over is spread
    evenly over all experts (the experts' average reads the token). ``"renormalize"``: the
    picked probabilities are scaled to sum to one instead (Mixtral-style; with one pick per
    token the main loss then gives the router no gradient), and only a token with no pick at
    all is read by the experts' average. Returns (combine, routed mass (...), gates, rest), the
    last two the sparse form combine = gates + rest / E (:attr:`Routing.gates`, :attr:`Routing.rest`).
    """
    on_picked = p * picked.to(p.dtype)  # (..., E)
    routed = on_picked.sum(-1)  # (...)
    rest = 1.0 - routed
    if unpicked == "renormalize":
        any_pick = picked.any(-1)
        gates = torch.where(any_pick.unsqueeze(-1), on_picked / routed.clamp_min(1e-30).unsqueeze(-1), 0.0)
        combine = torch.where(any_pick.unsqueeze(-1), gates, (rest / p.shape[-1]).unsqueeze(-1).expand_as(p))
        return combine, any_pick.to(p.dtype), gates, (~any_pick).to(p.dtype)
    return on_picked + (rest / p.shape[-1]).unsqueeze(-1), routed, on_picked, rest


def _check_unpicked(router: str, unpicked: str) -> str:
    if unpicked not in UNPICKED:
        raise ValueError(f"{router} router: unpicked must be one of {', '.join(UNPICKED)}, got {unpicked!r}")
    return unpicked


def softmax(logits: Tensor, dim: int = -1) -> Tensor:
    """Softmax written out: on CPU, torch's kernel is many times slower over a short last axis (E)."""
    e = (logits - logits.detach().amax(dim, keepdim=True)).exp()
    return e / e.sum(dim, keepdim=True)


def top_mask(p: Tensor, k: int, dim: int) -> Tensor:
    """Bool mask of the k largest entries of p along dim (ties broken the same way in every slice)."""
    idx = p.argmax(dim, keepdim=True) if k == 1 else p.topk(k, dim=dim).indices
    return torch.zeros_like(p, dtype=torch.bool).scatter_(dim, idx, True)


def z_loss(logits: Tensor) -> Tensor:
    """ST-MoE's router z loss: mean squared log-partition, keeps router logits small."""
    return torch.logsumexp(logits.float(), dim=-1).pow(2).mean()


def balance_loss(p: Tensor, picked: Tensor) -> Tensor:
    """Switch's load-balance loss E * sum_e f_e P_e over every routed item of the batch.

    p (..., E) router probabilities, picked (..., E) what each item asked for (before capacity);
    f_e is the share of requests for e, P_e the mean probability of e. 1 when balanced.
    """
    E = p.shape[-1]
    p = p.reshape(-1, E)
    want = picked.reshape(-1, E).to(p.dtype)
    f = want.sum(0) / want.sum().clamp_min(1.0)
    return E * (f * p.mean(0)).sum()


class _LearnedTokenRouter(Router):
    """A linear router on each token's features: logits (B, T, E), optional noise while training."""

    def __init__(self, n_tokens, d_token, n_experts, z_coef, noise_std, unpicked):
        super().__init__(n_tokens, d_token, n_experts)
        _check_coef(self.name, z_coef=z_coef, noise_std=noise_std)
        self.z_coef, self.noise_std = float(z_coef), float(noise_std)
        self.unpicked = _check_unpicked(self.name, unpicked)
        self.proj = nn.Linear(d_token, n_experts, bias=False)

    def logits(self, x: Tensor) -> Tensor:
        logits = self.proj(x)  # (B, T, E)
        if self.training and self.noise_std > 0:
            logits = logits + self.noise_std * torch.randn_like(logits)
        return logits


class TokenChoiceRouter(_LearnedTokenRouter):
    """Softmax top-k: each token picks its k most likely experts (Switch, GShard).

    With a capacity (``capacity_factor`` not None) an expert takes at most
    ceil(capacity_factor * k * T / E) tokens of one position; when more ask, tokens are served
    in order of priority, the highest router probability first (batch priority routing, V-MoE),
    all first choices before any second choice, and the rest are dropped (their mass goes to
    the experts' average). Losses: Switch's load balance and ST-MoE's z loss.
    """

    name = "token_choice"
    counts_drops = True

    def __init__(self, n_tokens, d_token, n_experts, top_k: int = 1, capacity_factor: float | None = 1.25,
                 balance_coef: float = 0.01, z_coef: float = 1e-3, noise_std: float = 0.0,
                 unpicked: str = "mean"):
        super().__init__(n_tokens, d_token, n_experts, z_coef, noise_std, unpicked)
        if not isinstance(top_k, int) or not 1 <= top_k <= n_experts:
            raise ValueError(f"token_choice router: top_k must be an integer in 1..{n_experts}, got {top_k!r}")
        if capacity_factor is not None:
            _check_coef(self.name, capacity_factor=capacity_factor)
            if capacity_factor <= 0:
                raise ValueError("token_choice router: capacity_factor must be > 0 (or None for no capacity)")
        _check_coef(self.name, balance_coef=balance_coef)
        self.top_k, self.balance_coef = top_k, float(balance_coef)
        self.capacity_factor = None if capacity_factor is None else float(capacity_factor)
        self.capacity = (None if capacity_factor is None
                         else min(n_tokens, math.ceil(capacity_factor * top_k * n_tokens / n_experts)))
        self._config = dict(top_k=top_k, capacity_factor=self.capacity_factor, balance_coef=self.balance_coef,
                            z_coef=self.z_coef, noise_std=self.noise_std, unpicked=self.unpicked)

    def choice_scores(self, logits: Tensor, p: Tensor) -> Tensor:
        """(B, T, E) scores each token ranks the experts by (and capacity serves by): here p itself."""
        return p

    def forward(self, x: Tensor) -> Routing:
        B, T, _ = x.shape
        E, k = self.n_experts, self.top_k
        logits = self.logits(x)  # (B, T, E)
        p = softmax(logits)
        choice = self.choice_scores(logits, p)  # (B, T, E) what the tokens rank experts by
        top_s, top_e = choice.max(-1, keepdim=True) if k == 1 else choice.topk(k, dim=-1)  # (B, T, k), best first
        asked = torch.zeros_like(p, dtype=torch.bool).scatter_(-1, top_e, True)  # (B, T, E)
        if self.capacity is None:
            picked = asked
        else:
            picked = capacity_mask(top_e, top_s[..., 0], E, self.capacity)
        combine, routed, gates, rest = mix_with_mean(p, picked, self.unpicked)
        aux = logits.new_zeros(())
        if self.training:
            aux = self.balance_coef * balance_loss(p, asked) + self.z_coef * z_loss(logits)
        n_picked = picked.sum()
        return Routing(combine, picked.sum((0, 1)).detach().to(torch.float64), aux,
                       attempted=float(B * T * k), dropped=(B * T * k - n_picked).detach(), routed=routed.detach(),
                       picked=picked, gates=gates, rest=rest)


def capacity_mask(top_e: Tensor, priority: Tensor, n_experts: int, capacity: int) -> Tensor:
    """Token-choice assignments that fit in each expert's capacity, per position.

    top_e (B, T, k) experts asked by each token, best first; priority (B, T) order of service
    (higher first). Within each position, round r serves every token's r-th choice in priority
    order, an expert accepting until it holds ``capacity`` tokens. Returns picked (B, T, E) bool.
    """
    B, T, k = top_e.shape
    order = priority.argsort(dim=1, descending=True, stable=True)  # (B, T) tokens, first served first
    back = order.argsort(dim=1)  # where each token sits in that order
    by_order = order.unsqueeze(-1).expand(B, T, n_experts)
    by_token = back.unsqueeze(-1).expand(B, T, n_experts)
    used = torch.zeros(B, 1, n_experts, dtype=torch.long, device=top_e.device)  # slots taken so far
    picked = torch.zeros(B, T, n_experts, dtype=torch.bool, device=top_e.device)
    for r in range(k):
        ask = F.one_hot(top_e[..., r], n_experts).gather(1, by_order)  # (B, T, E) in service order
        slot = used + ask.cumsum(1)  # the slot each request would take, 1-based
        keep = (ask > 0) & (slot <= capacity)
        used = used + keep.sum(1, keepdim=True)
        picked |= keep.gather(1, by_token)
    return picked


class ExpertChoiceRouter(_LearnedTokenRouter):
    """Expert choice (Zhou et al. 2022) inside a position: each expert picks its top c tokens.

    c = ceil(capacity_factor * T / E) tokens per expert, by the token's router probability for
    that expert (softmax over experts); ``capacity_factor`` is the mean number of experts per
    token. Perfectly balanced by construction; a token may be picked by several experts or by
    none (then read by the experts' average; ``dropped`` counts such tokens). Loss: z loss.
    """

    name = "expert_choice"
    counts_drops = True

    def __init__(self, n_tokens, d_token, n_experts, capacity_factor: float = 1.0, z_coef: float = 1e-3,
                 noise_std: float = 0.0, unpicked: str = "mean"):
        super().__init__(n_tokens, d_token, n_experts, z_coef, noise_std, unpicked)
        _check_coef(self.name, capacity_factor=capacity_factor)
        if capacity_factor <= 0:
            raise ValueError("expert_choice router: capacity_factor must be > 0")
        self.capacity_factor = float(capacity_factor)
        self.capacity = max(1, min(n_tokens, math.ceil(capacity_factor * n_tokens / n_experts)))
        self._config = dict(capacity_factor=self.capacity_factor, z_coef=self.z_coef, noise_std=self.noise_std,
                            unpicked=self.unpicked)

    def choose_tokens(self, logits: Tensor, p: Tensor) -> Tensor:
        """(B, T, E) logits and probabilities -> picked (B, T, E) bool: here each expert's top c by p."""
        return top_mask(p, self.capacity, dim=1)

    def forward(self, x: Tensor) -> Routing:
        B, T, _ = x.shape
        logits = self.logits(x)  # (B, T, E)
        p = softmax(logits)
        picked = self.choose_tokens(logits, p)  # (B, T, E): each expert's tokens
        combine, routed, gates, rest = mix_with_mean(p, picked, self.unpicked)
        aux = self.z_coef * z_loss(logits) if self.training else logits.new_zeros(())
        n_unpicked = (~picked.any(-1)).sum()
        return Routing(combine, picked.sum((0, 1)).detach().to(torch.float64), aux,
                       attempted=float(B * T), dropped=n_unpicked.detach(), routed=routed.detach(),
                       picked=picked, gates=gates, rest=rest)


class USMoERouter(_LearnedTokenRouter):
    """USMoE (Do, Le, Tran 2025): the top token x expert pairs of a unified score.

    score = alpha * softmax over tokens (the expert-choice score) + (1 - alpha) * softmax over
    experts (the token-choice score); the round(top_k * T) best pairs of the position's T x E
    grid are kept (top_k: mean experts per token). A kept pair's weight is its token-choice
    probability, the rest going to the experts' average as for the other routers; tokens in no
    kept pair count as dropped. Losses: load balance over kept pairs and z loss.
    """

    name = "usmoe"
    counts_drops = True

    def __init__(self, n_tokens, d_token, n_experts, top_k: float = 1.0, alpha: float = 0.5,
                 balance_coef: float = 0.01, z_coef: float = 1e-3, noise_std: float = 0.0,
                 unpicked: str = "mean"):
        super().__init__(n_tokens, d_token, n_experts, z_coef, noise_std, unpicked)
        _check_coef(self.name, top_k=top_k, alpha=alpha, balance_coef=balance_coef)
        if not 0 <= alpha <= 1:
            raise ValueError(f"usmoe router: alpha must be in [0, 1], got {alpha!r}")
        self.top_k, self.alpha, self.balance_coef = float(top_k), float(alpha), float(balance_coef)
        self.n_pairs = max(1, min(n_tokens * n_experts, round(top_k * n_tokens)))
        self._config = dict(top_k=self.top_k, alpha=self.alpha, balance_coef=self.balance_coef,
                            z_coef=self.z_coef, noise_std=self.noise_std, unpicked=self.unpicked)

    def unified_score(self, logits: Tensor) -> Tensor:
        """(B, T, E) logits -> the score the pairs are ranked by."""
        return self.alpha * softmax(logits, 1) + (1 - self.alpha) * softmax(logits, -1)

    def forward(self, x: Tensor) -> Routing:
        B, T, _ = x.shape
        E = self.n_experts
        logits = self.logits(x)  # (B, T, E)
        p = softmax(logits)
        picked = top_mask(self.unified_score(logits).reshape(B, T * E), self.n_pairs, dim=1).view(B, T, E)
        combine, routed, gates, rest = mix_with_mean(p, picked, self.unpicked)
        aux = logits.new_zeros(())
        if self.training:
            aux = self.balance_coef * balance_loss(p, picked) + self.z_coef * z_loss(logits)
        n_unpicked = (~picked.any(-1)).sum()
        return Routing(combine, picked.sum((0, 1)).detach().to(torch.float64), aux,
                       attempted=float(B * T), dropped=n_unpicked.detach(), routed=routed.detach(),
                       picked=picked, gates=gates, rest=rest)


def sinkhorn(logits: Tensor, n_iters: int) -> Tensor:
    """Balanced token -> expert assignment of each position: (B, T, E) logits -> (B, T, E) matrix.

    Entropic optimal transport between the position's T tokens (one unit each) and its E experts
    (T / E units each), Sinkhorn's iterations in the log domain: start from the softmax over
    experts (rows sum to one), then ``n_iters`` times scale the columns to T / E, then the rows
    back to one. Rows end exact, columns approach T / E as n_iters grows; with n_iters = 0 this
    is the softmax. Normalizes over the tokens of one position only (dim 1), never the batch.
    """
    T, E = logits.shape[1], logits.shape[2]
    log_p = torch.log_softmax(logits, dim=-1)  # (B, T, E), rows one
    log_col = math.log(T / E)
    for _ in range(n_iters):
        log_p = log_p - torch.logsumexp(log_p, dim=1, keepdim=True) + log_col  # columns T / E
        log_p = log_p - torch.logsumexp(log_p, dim=-1, keepdim=True)  # rows one
    return log_p.exp()


def sparse_simplex_projection(z: Tensor, k: int, dim: int) -> Tensor:
    """Euclidean projection of z onto the simplex with at most k nonzeros, along ``dim``.

    The k-sparse projection (Kyrillidis et al. 2013) is sparsemax of the k largest entries, zero
    elsewhere: exact zeros, at least one nonzero, entries summing to one.
    """
    top, idx = z.topk(k, dim=dim)  # sorted, largest first
    cssv = top.cumsum(dim) - 1.0
    shape = [1] * z.dim()
    shape[dim] = k
    r = torch.arange(1, k + 1, dtype=z.dtype, device=z.device).view(shape)
    support = (top - cssv / r > 0).sum(dim, keepdim=True)  # size of the support, >= 1 (a prefix of top)
    tau = cssv.gather(dim, support - 1) / support.to(z.dtype)  # the threshold
    return torch.zeros_like(z).scatter_(dim, idx, (top - tau).clamp_min(0.0))


def _check_iters(router: str, n_iters) -> int:
    if not isinstance(n_iters, int) or isinstance(n_iters, bool) or n_iters < 0:
        raise ValueError(f"{router} router: n_iters must be an integer >= 0, got {n_iters!r}")
    return n_iters


class SinkhornTokenChoiceRouter(TokenChoiceRouter):
    """Sinkhorn token choice (S-BASE, Clark et al. 2022; "Routers in Vision MoE", Liu et al. 2024).

    Each token takes its top k experts by the position's Sinkhorn-balanced assignment matrix
    (:func:`sinkhorn`, ``n_iters`` iterations over the position's (T, E) logits), not by its own
    softmax: an expert many tokens prefer is discounted, so the choices come out balanced without
    a loss. A picked pair's weight is still the original softmax probability p[t, e] (the
    balanced matrix only selects; the softmax is what the main loss trains), the rest going to
    the experts' average. Capacity and priority as :class:`TokenChoiceRouter`, priority by the
    balanced matrix. Losses: z loss; load balance off by default (``balance_coef``), the
    assignment balances itself. With n_iters = 0 it is token choice.
    """

    name = "sinkhorn_token_choice"

    def __init__(self, n_tokens, d_token, n_experts, top_k: int = 1, capacity_factor: float | None = 1.25,
                 n_iters: int = 10, balance_coef: float = 0.0, z_coef: float = 1e-3, noise_std: float = 0.0,
                 unpicked: str = "mean"):
        super().__init__(n_tokens, d_token, n_experts, top_k=top_k, capacity_factor=capacity_factor,
                         balance_coef=balance_coef, z_coef=z_coef, noise_std=noise_std, unpicked=unpicked)
        self.n_iters = _check_iters(self.name, n_iters)
        self._config["n_iters"] = self.n_iters

    def choice_scores(self, logits: Tensor, p: Tensor) -> Tensor:
        return sinkhorn(logits.detach(), self.n_iters)  # selection only: no gradient through the iterations


class SinkhornExpertChoiceRouter(ExpertChoiceRouter):
    """Sinkhorn expert choice ("Routers in Vision MoE", Liu et al. 2024), inside a position.

    Each expert picks its top c = ceil(capacity_factor * T / E) tokens by the position's
    Sinkhorn-balanced assignment matrix (:func:`sinkhorn`, ``n_iters`` iterations) instead of the
    softmax: a token every expert wants is shared out, so fewer tokens are left to no expert.
    A picked pair's weight is the softmax probability p[t, e] (the matrix only selects), the
    rest to the experts' average; tokens no expert picked count as dropped. Loss: z loss.
    With n_iters = 0 it is expert choice.
    """

    name = "sinkhorn_expert_choice"

    def __init__(self, n_tokens, d_token, n_experts, capacity_factor: float = 1.0, n_iters: int = 10,
                 z_coef: float = 1e-3, noise_std: float = 0.0, unpicked: str = "mean"):
        super().__init__(n_tokens, d_token, n_experts, capacity_factor=capacity_factor, z_coef=z_coef,
                         noise_std=noise_std, unpicked=unpicked)
        self.n_iters = _check_iters(self.name, n_iters)
        self._config["n_iters"] = self.n_iters

    def choose_tokens(self, logits: Tensor, p: Tensor) -> Tensor:
        return top_mask(sinkhorn(logits.detach(), self.n_iters), self.capacity, dim=1)


class SparsityConstrainedExpertChoiceRouter(ExpertChoiceRouter):
    """Sparsity-constrained expert choice ("Routers in Vision MoE"; Liu, Puigcerver, Blondel 2023).

    The formulation: optimal transport, inside one position, of its T tokens (one unit each) to
    its E experts (T / E units each) at cost -logits, with a quadratic (L2) regularization and a
    cardinality constraint: each expert's column of the plan P (T, E) has at most
    c = ceil(capacity_factor * T / E) nonzeros,
        min  <P, -logits> + gamma / 2 sum_e |P[:, e]|^2 / b   over P >= 0, rows 1, columns b = T / E,
             |P[:, e]|_0 <= c,
    solved in the semi-dual over token potentials alpha (T,): given alpha, column e is
    b * (the c-sparse simplex projection of (alpha + logits[:, e]) / gamma), that is sparsemax of
    its c largest entries with exact zeros elsewhere (:func:`sparse_simplex_projection`), and
    alpha climbs the semi-dual by ``n_iters`` gradient steps alpha += (gamma / T) (1 - row sums),
    step 1 / L for its (T / gamma)-Lipschitz gradient, raising the tokens the experts under-serve.
    alpha starts at -logsumexp of the token's logits (columns then see log-softmax / gamma, the
    analogue of Sinkhorn starting from the softmax). Columns meet their marginal exactly, rows
    approximately (the constraint makes the semi-dual nonsmooth; a fixed number of steps, as
    the paper solves it).

    Each expert picks the tokens where its column is nonzero: at most c, fewer where sparsemax
    cuts. Weights as the other routers: a picked pair gets the softmax probability p[t, e], the
    rest goes to the experts' average; the plan only selects and carries no gradient. Tokens no
    expert picked count as dropped. Loss: z loss.
    """

    name = "sparsity_constrained_expert_choice"

    def __init__(self, n_tokens, d_token, n_experts, capacity_factor: float = 1.0, gamma: float = 1.0,
                 n_iters: int = 20, z_coef: float = 1e-3, noise_std: float = 0.0, unpicked: str = "mean"):
        super().__init__(n_tokens, d_token, n_experts, capacity_factor=capacity_factor, z_coef=z_coef,
                         noise_std=noise_std, unpicked=unpicked)
        _check_coef(self.name, gamma=gamma)
        if gamma <= 0:
            raise ValueError("sparsity_constrained_expert_choice router: gamma must be > 0")
        self.gamma = float(gamma)
        self.n_iters = _check_iters(self.name, n_iters)
        self._config.update(gamma=self.gamma, n_iters=self.n_iters)

    def transport_plan(self, logits: Tensor) -> Tensor:
        """(B, T, E) logits -> the plan (B, T, E): columns sum to T / E with <= c nonzeros, rows near one."""
        T, E = logits.shape[1], logits.shape[2]
        s = logits.detach()  # selection only: no gradient through the solver
        b = T / E
        alpha = -torch.logsumexp(s, dim=-1, keepdim=True)  # (B, T, 1) token potentials, per position
        P = b * sparse_simplex_projection((alpha + s) / self.gamma, self.capacity, dim=1)
        for _ in range(self.n_iters):
            alpha = alpha + (self.gamma / T) * (1.0 - P.sum(-1, keepdim=True))  # semi-dual gradient step
            P = b * sparse_simplex_projection((alpha + s) / self.gamma, self.capacity, dim=1)
        return P

    def choose_tokens(self, logits: Tensor, p: Tensor) -> Tensor:
        return self.transport_plan(logits) > 0


class SoftRouter(Router):
    """Soft MoE (Puigcerver et al. 2024) inside a position, S slots per expert.

    Logits L[t, s] = scale * <x_t / |x_t|, phi_s / |phi_s|> (normalized tokens and slot
    parameters, a learned scale). Dispatch D = softmax of L over the tokens (each slot a mixture
    of the position's tokens), combine C = softmax of L over the slots (each output token a
    mixture of slot outputs). Slot s of expert e reads its mixture through e's first layer:
    y_s = sum_t D[t, s] W_e[t] x_t (position-specific blocks, so the mixing is done on what
    each token contributes). The scorer sums the output tokens, sum_t sum_s C[t, s] y_s =
    sum_s m_s y_s with m_s = sum_t C[t, s]; so the weight of (t, e) is
    c[t, e] = sum_{s of e} m_s D[t, s]. These sum to T over the position (a token may weigh more
    or less than one); with scale = 0 (uniform D and C) every token weighs exactly one, which is
    how upcycling starts a Soft MoE (``reset_for_upcycling``). No losses, nothing dropped.
    """

    name = "soft"

    def __init__(self, n_tokens, d_token, n_experts, slots_per_expert: int = 1, scale_init: float = 1.0):
        super().__init__(n_tokens, d_token, n_experts)
        if not isinstance(slots_per_expert, int) or slots_per_expert < 1:
            raise ValueError(f"soft router: slots_per_expert must be a positive integer, got {slots_per_expert!r}")
        _check_coef(self.name, scale_init=scale_init)
        self.slots_per_expert = slots_per_expert
        self.phi = nn.Parameter(torch.randn(d_token, n_experts * slots_per_expert) / math.sqrt(d_token))
        self.scale = nn.Parameter(torch.tensor(float(scale_init)))
        self._config = dict(slots_per_expert=slots_per_expert, scale_init=float(scale_init))

    def reset_for_upcycling(self) -> None:
        with torch.no_grad():
            self.scale.zero_()

    def slot_weights(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Dispatch D and combine C, both (B, T, E * S)."""
        logits = self.scale * (F.normalize(x, dim=-1) @ F.normalize(self.phi, dim=0))  # (B, T, E*S)
        return softmax(logits, 1), softmax(logits, -1)

    def forward(self, x: Tensor) -> Routing:
        B, T, _ = x.shape
        dispatch, combine_slots = self.slot_weights(x)
        m = combine_slots.sum(1, keepdim=True)  # (B, 1, E*S) how much the output tokens take of each slot
        combine = (dispatch * m).view(B, T, self.n_experts, self.slots_per_expert).sum(-1)  # (B, T, E)
        return Routing(combine, combine.detach().sum((0, 1)).to(torch.float64), x.new_zeros(()))


class PhaseRouter(Router):
    """Hard routing by a phase the game computes and puts in the tokens (a one-hot).

    ``phase_features`` are the indices of the one-hot among a token's features and
    ``phase_token`` the token it is read from; expert i scores every position of phase i (for
    backgammon contact / race / bear-off, the way GNU Backgammon picks its nets). No losses.
    """

    name = "phase"

    def __init__(self, n_tokens, d_token, n_experts, phase_token: int | None = None,
                 phase_features: list[int] | tuple[int, ...] | None = None):
        super().__init__(n_tokens, d_token, n_experts)
        if phase_token is None or phase_features is None:
            raise ValueError("phase router: give phase_token and phase_features (where the game's phase "
                             "one-hot sits in the tokens; a game gives them as its router_options('phase'))")
        features = [int(f) for f in phase_features]
        if not 0 <= int(phase_token) < n_tokens:
            raise ValueError(f"phase router: phase_token {phase_token} is not a token index (0..{n_tokens - 1})")
        if any(not 0 <= f < d_token for f in features):
            raise ValueError(f"phase router: phase_features {features} are not all feature indices (0..{d_token - 1})")
        if len(features) != n_experts:
            raise ValueError(f"phase router: {len(features)} phases need n_experts={len(features)}, got {n_experts}")
        self.phase_token = int(phase_token)
        self.register_buffer("phase_features", torch.tensor(features, dtype=torch.long), persistent=False)
        self._config = dict(phase_token=self.phase_token, phase_features=features)

    def forward(self, x: Tensor) -> Routing:
        B, T, _ = x.shape
        expert = x[:, self.phase_token, self.phase_features].argmax(-1)  # (B,)
        onehot = F.one_hot(expert, self.n_experts).to(x.dtype)  # (B, E)
        return Routing(onehot.unsqueeze(1).expand(B, T, self.n_experts), onehot.detach().sum(0).to(torch.float64),
                       x.new_zeros(()), hard_expert=expert, picked=onehot > 0, gates=onehot)


class _PositionRouter(Router):
    """A router that scores the experts for a whole position: a linear map of the flat tokens."""

    def __init__(self, n_tokens, d_token, n_experts):
        super().__init__(n_tokens, d_token, n_experts)
        self.score = nn.Linear(n_tokens * d_token, n_experts)

    def expert_preferences(self, x: Tensor) -> Tensor:
        """(B, T, d) -> (B, E): the router's score of each expert on each position."""
        return self.score(x.reshape(x.shape[0], -1))


class GateRouter(_PositionRouter):
    """End-to-end gating of whole positions: softmax over experts, top k, no capacity.

    Every token of a position gets the position's weights (picked experts their probability,
    the rest to the experts' average). Trained by the main loss, with load balance (over
    positions) and z losses.
    """

    name = "gate"

    def __init__(self, n_tokens, d_token, n_experts, top_k: int = 1, balance_coef: float = 0.01,
                 z_coef: float = 1e-3, noise_std: float = 0.0, unpicked: str = "mean"):
        super().__init__(n_tokens, d_token, n_experts)
        self.unpicked = _check_unpicked(self.name, unpicked)
        if not isinstance(top_k, int) or not 1 <= top_k <= n_experts:
            raise ValueError(f"gate router: top_k must be an integer in 1..{n_experts}, got {top_k!r}")
        _check_coef(self.name, balance_coef=balance_coef, z_coef=z_coef, noise_std=noise_std)
        self.top_k, self.balance_coef = top_k, float(balance_coef)
        self.z_coef, self.noise_std = float(z_coef), float(noise_std)
        self._config = dict(top_k=top_k, balance_coef=self.balance_coef, z_coef=self.z_coef,
                            noise_std=self.noise_std, unpicked=self.unpicked)

    def forward(self, x: Tensor) -> Routing:
        B, T, _ = x.shape
        logits = self.expert_preferences(x)  # (B, E)
        if self.training and self.noise_std > 0:
            logits = logits + self.noise_std * torch.randn_like(logits)
        p = softmax(logits)
        picked = top_mask(p, self.top_k, dim=-1)
        weights, routed, gates, rest = mix_with_mean(p, picked, self.unpicked)  # (B, E), (B,), (B, E), (B,)
        aux = logits.new_zeros(())
        if self.training:
            aux = self.balance_coef * balance_loss(p, picked) + self.z_coef * z_loss(logits)
        return Routing(weights.unsqueeze(1).expand(B, T, self.n_experts), picked.sum(0).detach().to(torch.float64),
                       aux, routed=routed.detach().unsqueeze(1).expand(B, T), picked=picked, gates=gates, rest=rest)


class PreferenceRouter(_PositionRouter):
    """Hard routing of whole positions to the expert the router scores best.

    The argmax passes no gradient: the router is trained by router preferences
    (:mod:`comparison.moe.preferences`), a comparison loss on pairs "expert i handled this
    decision better than expert j"; the experts by the main loss on the positions routed to them.
    """

    name = "preference"
    learns_from_preferences = True

    def forward(self, x: Tensor) -> Routing:
        B, T, _ = x.shape
        expert = self.expert_preferences(x).argmax(-1)  # (B,)
        onehot = F.one_hot(expert, self.n_experts).to(x.dtype)
        return Routing(onehot.unsqueeze(1).expand(B, T, self.n_experts), onehot.detach().sum(0).to(torch.float64),
                       x.new_zeros(()), hard_expert=expert, picked=onehot > 0, gates=onehot)


ROUTERS: dict[str, type[Router]] = {
    cls.name: cls
    for cls in (PhaseRouter, TokenChoiceRouter, ExpertChoiceRouter, SoftRouter, USMoERouter, GateRouter,
                PreferenceRouter, SinkhornTokenChoiceRouter, SinkhornExpertChoiceRouter,
                SparsityConstrainedExpertChoiceRouter)
}


def with_router(scorer: nn.Module, router: str = "usmoe", **options) -> nn.Module:
    """A trained mixture read through another router, without training (USMoE's training-free use).

    Returns a scorer of the same class that shares ``scorer``'s experts, bias and trunk (the same
    parameters, not copies) and whose router, ``ROUTERS[router](**options)``, shares the trained
    router's logits (its ``proj``): e.g. a token- or expert-choice mixture scored at inference by
    USMoE's unified score over the very logits it was trained with. Both routers must be learned
    token routers (token choice, expert choice, USMoE, the Sinkhorn and sparsity-constrained
    ones). Mode (train / eval) and ``sparse`` are taken from ``scorer``.
    """
    old = getattr(scorer, "router", None)
    if not isinstance(old, _LearnedTokenRouter):
        raise ValueError("with_router: the scorer's router must be a learned token router "
                         f"(one of {', '.join(n for n, c in ROUTERS.items() if issubclass(c, _LearnedTokenRouter))})")
    cls = ROUTERS.get(router)
    if cls is None or not issubclass(cls, _LearnedTokenRouter):
        raise ValueError(f"with_router: {router!r} is not a learned token router")
    new_router = cls(old.n_tokens, old.d_token, old.n_experts, **options)
    new_router.proj = old.proj  # the trained logits, shared
    new = type(scorer)(new_router, scorer.hidden, scorer.activation)
    new.expert_weight, new.bias, new.trunk = scorer.expert_weight, scorer.bias, scorer.trunk  # shared
    new.sparse = scorer.sparse
    return new.train(scorer.training)
