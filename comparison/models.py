"""Scorers V: features of one candidate -> a real score; and Tesauro's symmetric comparison net.

A scorer maps (B, ...) -> (B,); inputs with more than one trailing dimension (tokens) are
flattened. Every scorer carries ``config``, a JSON-able dict from which :func:`from_config`
rebuilds it, so a checkpoint file alone rebuilds its model, and the two methods of
:class:`BaseScorer` the trainer calls (extra losses, statistics per epoch).
"""
from __future__ import annotations

import torch
from torch import nn

# the one table of activations, for dense and mixture scorers (comparison.moe builds from it too)
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
}


class BaseScorer(nn.Module):
    """What the trainer asks of a scorer besides ``forward`` (B, ...) -> (B,) and ``config``.

    A scorer owns any loss it adds to the comparison loss (a mixture's router losses) and any
    statistics it reports (a mixture's expert load); a plain scorer has neither.
    """

    def extra_loss(self, batch) -> tuple[torch.Tensor, dict[str, float]]:
        """(loss to add to the main loss, {name: value} to log) on ``batch`` (a comparison.data.Batch).

        The trainer calls it right after ``forward(batch.x)`` in training, inside the forward that
        DistributedDataParallel wraps, so every parameter this loss reaches is averaged too.
        """
        return batch.x.new_zeros(()), {}

    def epoch_stats(self) -> dict:
        """Statistics gathered since the last call (then reset), for the epoch's history row."""
        return {}


class Scorer(BaseScorer):
    """A linear or MLP scorer: ``net`` is [Linear(d_in, h1), act, ..., Linear(h_k, 1)]."""

    def __init__(self, d_in: int, hidden=(), activation: str = "relu", dropout: float = 0.0,
                 n_tokens: int | None = None, d_token: int | None = None):
        super().__init__()
        hidden = tuple(int(h) for h in ((hidden,) if isinstance(hidden, int) else hidden))
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        self.config = {"kind": "mlp" if hidden else "linear", "d_in": int(d_in), "hidden": list(hidden),
                       "activation": activation, "dropout": float(dropout)}
        if n_tokens is not None:  # it reads (B, T, d) tokens flattened: moe.upcycle needs to know T and d
            if int(n_tokens) * int(d_token) != int(d_in):
                raise ValueError(f"n_tokens * d_token = {n_tokens} * {d_token} is not d_in = {d_in}")
            self.config.update(n_tokens=int(n_tokens), d_token=int(d_token))
        layers, width = [], int(d_in)
        for h in hidden:
            layers += [nn.Linear(width, h), ACTIVATIONS[activation]()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(-1)  # (B, d_in) -> (B,)


def build_scorer(kind: str = "mlp", d_in: int = 198, hidden=(128,), activation: str = "relu",
                 dropout: float = 0.0, n_tokens: int | None = None, d_token: int | None = None) -> Scorer:
    """``"linear"`` (no hidden layer) or ``"mlp"`` (``hidden``: an int or a tuple of widths).

    ``n_tokens`` and ``d_token`` say that the input is (B, T, d) tokens read flattened (T * d =
    ``d_in``); ``moe.upcycle`` then knows the token shape without being told.
    """
    if kind == "linear":
        return Scorer(d_in, (), activation, 0.0, n_tokens, d_token)
    if kind == "mlp":
        if not hidden:
            raise ValueError("an mlp needs at least one hidden layer (use kind='linear' for none)")
        return Scorer(d_in, hidden, activation, dropout, n_tokens, d_token)
    raise ValueError(f"unknown scorer kind {kind!r}; choose 'linear' or 'mlp' (or a moe scorer)")


def from_config(config: dict) -> nn.Module:
    """Rebuild a scorer (dense or mixture of experts) from its ``config``."""
    kind = config.get("kind")
    if kind in ("linear", "mlp"):
        return build_scorer(kind, config["d_in"], tuple(config.get("hidden", ())), config.get("activation", "relu"),
                            config.get("dropout", 0.0), config.get("n_tokens"), config.get("d_token"))
    if kind == "moe":
        from comparison import moe

        return moe.from_config(config)
    if kind == "outcome":
        from comparison import outcomes

        return outcomes.from_config(config)
    raise ValueError(f"unknown scorer kind {kind!r} in config")


class ComparisonNet(nn.Module):
    """Tesauro's comparison network: P(a better than b) = sigmoid(V(a) - V(b)) with V shared.

    Sharing V makes the net antisymmetric (P(a, b) = 1 - P(b, a)) and transitive, so at play time
    V alone ranks every candidate.
    """

    def __init__(self, scorer: nn.Module):
        super().__init__()
        self.scorer = scorer

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.scorer(a) - self.scorer(b))  # (B,)


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["ACTIVATIONS", "BaseScorer", "ComparisonNet", "Scorer", "build_scorer", "from_config", "n_parameters"]
