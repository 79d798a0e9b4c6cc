"""Players named on the command line: ``pubeval``, ``random``, ``gnubg[:N]``, ``default`` or a model file.

``make_player(spec, seed)`` turns such a name into a bot (a :class:`~games.backgammon.players.bots.Bot`).
Heavy modules load only for the player that needs them: torch for a model, gnubg-nn (the optional
GPL extra) for gnubg.
"""
from __future__ import annotations

from pathlib import Path

PLAYER_HELP = ("pubeval, random, gnubg or gnubg:N (gnubg at N plies, the optional gnubg-nn extra), "
               "default (the packaged model) or the path of a model file")


class PlayerError(ValueError):
    """A player spec that cannot be turned into a player; the message says why and what is accepted."""


def _gnubg_plies(spec: str) -> int:
    _, _, plies = spec.partition(":")
    if plies == "":
        return 0
    if not plies.isdigit() or int(plies) > 4:
        raise PlayerError(f"player {spec!r}: the plies after 'gnubg:' must be a whole number 0..4")
    return int(plies)


def _load_agent(path):
    from .agent import load_agent

    try:
        return load_agent(path)
    except (OSError, ValueError) as e:
        where = "the default model" if path is None else f"model file {str(path)!r}"
        raise PlayerError(f"cannot load {where}: {e}") from None


def make_player(spec: str, seed=None):
    """The bot that ``spec`` names; ``seed`` seeds a random player (others are deterministic).

    Raises :class:`PlayerError` with a readable reason for an unknown name, a missing file, gnubg
    without the gnubg-nn module, or a model that cannot be loaded.
    """
    s = str(spec).strip()
    low = s.lower()
    if low == "pubeval":
        from .bots import PubevalBot

        return PubevalBot()
    if low == "random":
        from .bots import RandomBot

        return RandomBot(seed)
    if low == "gnubg" or low.startswith("gnubg:"):
        plies = _gnubg_plies(low)
        from .gnubg import GnubgBot

        try:
            return GnubgBot(plies)
        except ImportError as e:
            raise PlayerError(str(e)) from None
    if low == "default":
        return _load_agent(None)
    path = Path(s).expanduser()
    if path.is_file():
        return _load_agent(path)
    if path.exists():
        raise PlayerError(f"player {s!r} is not a file; expected {PLAYER_HELP}")
    raise PlayerError(f"unknown player {s!r} (no such file); expected {PLAYER_HELP}")


def player_name(bot, spec: str) -> str:
    """A short name for tables and prompts: the bot's own ``name``, else the spec."""
    name = getattr(bot, "name", None)
    return str(name) if name and name != "bot" else str(spec)


__all__ = ["PLAYER_HELP", "PlayerError", "make_player", "player_name"]
