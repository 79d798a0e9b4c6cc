"""Players named on the command line: ``pubeval``, ``random``, ``gnubg[:N]``, ``gnubg-full[:N]``,
``default[:N]`` or a model file (``model.pt[:N]``).

A model's ``:N`` (0..3) searches N plies deeper (:mod:`.search`; 0 is the plain agent), which needs
a model with outcome heads; ``gnubg:N`` is gnubg-nn's own N-ply evaluation; ``gnubg-full:N`` is the
full GNU Backgammon engine (:mod:`.gnubg_full`) at N plies, for checker play and cube decisions.

``make_player(spec, seed)`` turns such a name into a bot (a :class:`~games.backgammon.players.bots.Bot`).
Heavy modules load only for the player that needs them: torch for a model, gnubg-nn (the optional
GPL extra) for gnubg, the gnubg module (same extra) for gnubg-full.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

PLAYER_HELP = ("pubeval, random, gnubg or gnubg:N (gnubg at N plies, the optional gnubg-nn extra), "
               "gnubg-full or gnubg-full:N (the full GNU Backgammon engine at N = 0..4 plies, 0 by default: "
               "checker play and cube decisions, the optional gnubg extra), "
               "default (the packaged model) or the path of a model file, either followed by :N to "
               "search N = 0..3 plies deeper (a model with outcome heads)")

MAX_MODEL_PLIES = 3


class PlayerError(ValueError):
    """A player spec that cannot be turned into a player; the message says why and what is accepted."""


BUILTIN = ("pubeval", "random", "gnubg", "gnubg-full", "default")
"""The players known by name; anything else names a model file."""


@dataclass(frozen=True)
class PlayerSpec:
    """A player name, read: ``kind`` is one of BUILTIN or "file"; ``plies`` for gnubg, gnubg-full,
    default or a file (the search depth), ``path`` for a file."""

    kind: str
    plies: int = 0
    path: Optional[Path] = None


def parse_spec(spec: str) -> PlayerSpec:
    """Read a player name (the one place that knows the names). Raises :class:`PlayerError` for
    a malformed gnubg, gnubg-full or model depth, or a file that does not exist.

    A model's depth is a ``:N`` suffix of digits; a file whose own name ends so (it exists as
    written) is that file at depth 0.
    """
    s = str(spec).strip()
    low = s.lower()
    if low in ("pubeval", "random", "default"):
        return PlayerSpec(low)
    if low == "gnubg" or low.startswith("gnubg:"):
        _, _, plies = low.partition(":")
        if plies and (not plies.isdigit() or int(plies) > 4):
            raise PlayerError(f"player {spec!r}: the plies after 'gnubg:' must be a whole number 0..4")
        return PlayerSpec("gnubg", int(plies or 0))
    if low == "gnubg-full" or low.startswith("gnubg-full:"):
        _, _, plies = low.partition(":")
        if plies and (not plies.isdigit() or int(plies) > 4):
            raise PlayerError(f"player {spec!r}: the plies after 'gnubg-full:' must be a whole number 0..4")
        return PlayerSpec("gnubg-full", int(plies or 0))
    if low.startswith("default:"):
        return PlayerSpec("default", _model_plies(spec, low.partition(":")[2], "default"))
    path = Path(s).expanduser()
    if path.is_file():
        return PlayerSpec("file", path=path)
    head, sep, tail = s.rpartition(":")
    if sep and head and tail.strip().isdigit() and Path(head).expanduser().is_file():
        return PlayerSpec("file", _model_plies(spec, tail.strip(), head), Path(head).expanduser())
    if sep and head and Path(head).expanduser().is_file():
        raise PlayerError(f"player {s!r}: the depth after {head + ':'!r} must be a whole number 0..{MAX_MODEL_PLIES}")
    if path.exists():
        raise PlayerError(f"player {s!r} is not a file; expected {PLAYER_HELP}")
    raise PlayerError(f"unknown player {s!r} (no such file); expected {PLAYER_HELP}")


def _model_plies(spec, text: str, what: str) -> int:
    text = text.strip()
    if not text.isdigit() or int(text) > MAX_MODEL_PLIES:
        raise PlayerError(f"player {spec!r}: the depth after '{what}:' must be a whole number 0..{MAX_MODEL_PLIES}")
    return int(text)


def _load_agent(path):
    from .agent import load_agent

    try:
        return load_agent(path)
    except (OSError, ValueError) as e:
        if path is not None and str(path) in str(e):  # the message names the file already
            raise PlayerError(str(e)) from None
        where = "the default model" if path is None else f"model file {str(path)!r}"
        raise PlayerError(f"cannot load {where}: {e}") from None


def make_player(spec: str, seed=None):
    """The bot that ``spec`` names; ``seed`` seeds a random player (others are deterministic).

    Raises :class:`PlayerError` with a readable reason for an unknown name, a missing file, gnubg
    without the gnubg-nn module, gnubg-full without the gnubg module, a model that cannot be
    loaded, or a search depth (``:N``, N >= 1) asked of a model without outcome heads.
    """
    p = parse_spec(spec)
    if p.kind == "pubeval":
        from .bots import PubevalBot

        return PubevalBot()
    if p.kind == "random":
        from .bots import RandomBot

        return RandomBot(seed)
    if p.kind == "gnubg":
        from .gnubg import GnubgBot

        try:
            return GnubgBot(p.plies)
        except ImportError as e:
            raise PlayerError(str(e)) from None
    if p.kind == "gnubg-full":
        try:
            from .gnubg_full import GnubgFullBot

            return GnubgFullBot(p.plies)
        except ImportError as e:
            raise PlayerError(str(e)) from None
    agent = _load_agent(None if p.kind == "default" else p.path)
    if p.plies == 0:
        return agent
    from .search import SearchAgent

    try:
        return SearchAgent(agent, p.plies)
    except ValueError as e:
        raise PlayerError(f"player {str(spec).strip()!r}: {e}") from None


def player_name(bot, spec: str) -> str:
    """A short name for tables and prompts: the bot's own ``name``, else the spec."""
    name = getattr(bot, "name", None)
    return str(name) if name and name != "bot" else str(spec)


__all__ = ["BUILTIN", "MAX_MODEL_PLIES", "PLAYER_HELP", "PlayerError", "PlayerSpec", "make_player", "parse_spec",
           "player_name"]
