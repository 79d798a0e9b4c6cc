"""The mixture-of-experts scorer: tokens of a position in, one score out.

A dense scorer on a position of T tokens of d features is an MLP on the flat vector,
V(x) = trunk(W x + b) with trunk = activation, (Linear, activation)*, Linear(., 1). Its first
layer is a sum over tokens, W x = sum_t W[t] x_t, W[t] the (H, d) block that reads token t.
The mixture gives every expert its own first layer W_e (E copies of the T blocks) and lets a
router say how much expert e reads token t:

    h = b + sum_t sum_e c[t, e] W_e[t] x_t          c = router(x), (B, T, E)
    V(x) = trunk(h)                                 trunk shared by the experts

Expert e on its own (every token to e) is the dense scorer trunk(W_e x + b): a full scorer over
positions, which router preferences compare. The first layer holds nearly all the weights of a
Tesauro-style net (T * d * H against H * H' + H' for the rest) and is the layer that sees the
position, so that is where the experts differ; they share the bias and the trunk.

Routers (:mod:`comparison.moe.routers`) make every token's weights sum to one (Soft MoE: sum to
T over the position), so a net whose experts are copies of one dense first layer scores as
that dense net whatever its router does: sparse upcycling (:mod:`comparison.moe.upcycle`).

Compute (:mod:`comparison.moe.dispatch`): a router that picks gives its weights as picked
gates plus a remainder read by the experts' average, c[t, e] = gates[t, e] + rest[t] / E, and
the scorer computes only the picked (token, expert) pairs, each through its block, plus one
matmul of dense size against the average W_mean = mean_e W_e: with k experts per token,
(k + 1) times the dense first layer. Hard routers (phase, preference) run only the chosen
expert of each position. Soft MoE has no picks: every slot mixes every token of the
position, so every expert reads every token and its first layer is the dense formula below
(the slots folded into c; E times the dense first layer however many slots per expert).
``sparse = False`` computes every router through that dense formula, the reference.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..models import ACTIVATIONS, BaseScorer
from .dispatch import picked_positions, sparse_first_layer
from .preferences import preference_loss
from .routers import ROUTERS, Router


def activation_name(module: nn.Module) -> str | None:
    """The name in ACTIVATIONS of an activation module (exact type), or None."""
    for name, cls in ACTIVATIONS.items():
        if type(module) is cls:
            return name
    return None


def make_trunk(hidden: list[int], activation: str) -> nn.Sequential:
    """What follows a dense MLP's first Linear: act, (Linear(h_i, h_i+1), act)*, Linear(h_last, 1)."""
    act = ACTIVATIONS[activation]
    layers: list[nn.Module] = [act()]
    for a, b in zip(hidden, hidden[1:]):
        layers += [nn.Linear(a, b), act()]
    layers.append(nn.Linear(hidden[-1], 1))
    return nn.Sequential(*layers)


class MoEScorer(BaseScorer):
    """(B, T, d) tokens -> (B,) scores; see the module doc. Build with :func:`build_scorer`."""

    def __init__(self, router: Router, hidden: list[int], activation: str):
        super().__init__()
        T, d, E, H = router.n_tokens, router.d_token, router.n_experts, hidden[0]
        self.n_tokens, self.d_token, self.n_experts = T, d, E
        self.hidden, self.activation = list(hidden), activation
        self.router = router
        # expert e's first layer, (T * d, H): rows t*d .. t*d+d-1 read token t; nn.Linear's default init
        bound = 1.0 / math.sqrt(T * d)
        self.expert_weight = nn.Parameter(torch.empty(E, T * d, H).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(H).uniform_(-bound, bound))
        self.trunk = make_trunk(self.hidden, activation)
        self.aux_loss: Tensor = torch.zeros(())
        self.track_stats = True
        self.sparse = True  # compute only what is routed; False: the dense formula for every router (reference)
        self._reset_stats()

    # ------------------------------------------------------------------ config

    @property
    def config(self) -> dict:
        """JSON-able; ``from_config(config)`` builds the same architecture."""
        return dict(kind="moe", router=self.router.name, n_tokens=self.n_tokens, d_token=self.d_token,
                    n_experts=self.n_experts, hidden=list(self.hidden), activation=self.activation,
                    **self.router.config)

    # ------------------------------------------------------------------ scoring

    def _check(self, x: Tensor) -> None:
        if x.dim() != 3 or tuple(x.shape[1:]) != (self.n_tokens, self.d_token):
            raise ValueError(f"MoE scorer: expected tokens (B, {self.n_tokens}, {self.d_token}), "
                             f"got shape {tuple(x.shape)}")

    def forward(self, x: Tensor) -> Tensor:  # (B, T, d) -> (B,)
        self._check(x)
        routing = self.router(x)
        if self.sparse and routing.picked is not None:
            h = sparse_first_layer(x, routing.picked, routing.gates, routing.rest, self.expert_weight, self.bias)
        else:
            h = self.first_layer(x, routing.combine)
        self.aux_loss = routing.aux_loss if self.training else x.new_zeros(())
        if self.track_stats:
            self._accumulate(routing, x.shape[0])
        return self.trunk(h).squeeze(-1)

    def first_layer(self, x: Tensor, combine: Tensor) -> Tensor:
        """h = b + sum_t sum_e combine[t, e] W_e[t] x_t: (B, T, d), (B, T, E) -> (B, H)."""
        B, T, d = x.shape
        weighted = combine.unsqueeze(-1) * x.unsqueeze(2)  # (B, T, E, d)
        # the experts' blocks stacked in the same order: (E, T*d, H) -> (T, E, d, H) -> (T*E*d, H)
        stacked = self.expert_weight.view(self.n_experts, T, d, -1).transpose(0, 1).reshape(-1, self.hidden[0])
        return weighted.reshape(B, -1) @ stacked + self.bias

    def _first_layer_hard(self, x: Tensor, expert: Tensor) -> Tensor:
        """Each position through its one expert: (B, T, d), (B,) -> (B, H)."""
        onehot = torch.nn.functional.one_hot(expert, self.n_experts).to(x.dtype)  # (B, E)
        return picked_positions(x, onehot > 0, onehot, self.expert_weight) + self.bias

    def expert_scores(self, x: Tensor) -> Tensor:
        """Every expert on its own (all tokens to it): (B, T, d) -> (B, E)."""
        self._check(x)
        h = torch.einsum("bk,ekh->beh", x.reshape(x.shape[0], -1), self.expert_weight) + self.bias  # (B, E, H)
        return self.trunk(h).squeeze(-1)

    # ------------------------------------------------------------------ what the trainer asks

    def extra_loss(self, batch) -> tuple[Tensor, dict[str, float]]:
        """The router's losses on ``batch``, right after ``self(batch.x)`` in training.

        The auxiliary losses of that forward (load balance, z; times the router's coefficients;
        0 for routers without) and, for a router trained by preferences, the router-preference
        loss of the batch's decisions (which trains the router only; see moe.preferences).
        """
        loss = self.aux_loss
        logs = {"router_aux": float(loss.detach())}
        if self.router.learns_from_preferences:
            preference = preference_loss(self, batch.x, batch.group, batch.offsets, batch.chosen)
            loss = loss + preference
            logs["router_preference"] = float(preference.detach())
        return loss, logs

    def epoch_stats(self) -> dict:
        """{"router": :meth:`router_stats`}: the routing since the last call."""
        return {"router": self.router_stats()}

    # ------------------------------------------------------------------ router statistics

    def _reset_stats(self) -> None:
        # running sums, kept as tensors where they come from so that scoring never waits on a device
        self._load = 0.0
        self._attempted = 0.0
        self._dropped = 0.0
        self._routed_sum = 0.0
        self._routed_count = 0
        self._positions = 0

    def _accumulate(self, routing, n_positions: int) -> None:
        self._load = self._load + routing.load.detach()
        self._attempted += routing.attempted
        self._dropped = self._dropped + routing.dropped
        if routing.routed is not None:
            self._routed_sum = self._routed_sum + routing.routed.detach().sum()
            self._routed_count += routing.routed.numel()
        self._positions += n_positions

    def router_stats(self) -> dict:
        """Routing since the last call (training and evaluation forwards alike), then reset.

        ``positions``: positions scored; ``load``: share of each expert in what was routed
        (token-expert pairs, positions for position routers, weight for Soft MoE);
        ``load_entropy`` (nats) and ``load_entropy_max`` = ln E; ``dropped``: where a router can
        fail to place something, the share not placed (token choice: requests over capacity;
        expert choice, USMoE: tokens no expert took); ``routed_mass``: for routers that pick,
        the mean weight of a token on its picked experts (the rest goes to the experts' average).
        """
        load = torch.as_tensor(self._load, dtype=torch.float64).cpu().expand(self.n_experts)
        total = float(load.sum())
        load = load / total if total > 0 else torch.zeros(self.n_experts, dtype=torch.float64)
        nz = load[load > 0]
        stats = {
            "positions": float(self._positions),
            "load": [float(v) for v in load],
            "load_entropy": float((nz * nz.log()).sum().neg().clamp_min(0.0)) if total > 0 else 0.0,
            "load_entropy_max": math.log(self.n_experts),
        }
        if self.router.counts_drops:
            stats["dropped"] = float(self._dropped) / self._attempted if self._attempted else 0.0
        if self._routed_count:
            stats["routed_mass"] = float(self._routed_sum) / self._routed_count
        self._reset_stats()
        return stats


def build_scorer(router: str = "token_choice", n_tokens: int | None = None, d_token: int | None = None,
                 n_experts: int = 4, hidden: int | list[int] | tuple[int, ...] = (64,), activation: str = "relu",
                 **router_kwargs) -> MoEScorer:
    """A mixture of ``n_experts`` expert scorers over (B, n_tokens, d_token) tokens -> (B,) scores.

    ``hidden``: the dense MLP's hidden sizes (an int for one layer); ``activation``: one of
    ACTIVATIONS; ``router``: a name in ROUTERS, its options as keywords (see each class).
    """
    if router not in ROUTERS:
        raise ValueError(f"unknown router {router!r}; routers: {', '.join(ROUTERS)}")
    if n_tokens is None or d_token is None:
        raise ValueError("moe.build_scorer needs n_tokens and d_token (the game's token shape)")
    hidden_list = [hidden] if isinstance(hidden, int) else list(hidden)
    if not hidden_list or any(not isinstance(h, int) or isinstance(h, bool) or h < 1 for h in hidden_list):
        raise ValueError(f"hidden must be a positive integer or a list of them, got {hidden!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; activations: {', '.join(ACTIVATIONS)}")
    cls = ROUTERS[router]
    try:
        r = cls(n_tokens, d_token, n_experts, **router_kwargs)
    except TypeError as e:  # an option this router does not take
        raise ValueError(f"{router} router: {e}") from None
    return MoEScorer(r, hidden_list, activation)


def from_config(config: dict) -> MoEScorer:
    """The scorer a ``MoEScorer.config`` describes (fresh weights; load a state dict into it)."""
    cfg = dict(config)
    kind = cfg.pop("kind", "moe")
    if kind != "moe":
        raise ValueError(f"moe.from_config: config of kind {kind!r}, not 'moe'")
    return build_scorer(**cfg)
