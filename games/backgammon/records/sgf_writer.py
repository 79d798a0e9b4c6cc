"""Writing games as gnubg's SGF (GM[6]), the dialect :mod:`.sgf` reads.

As gnubg's SaveGame: one game tree per game, ``(;FF[4]GM[6]CA[UTF-8]AP[...]MI[length:L][game:i]
[ws:a][bs:b]PW[..]PB[..]`` then, in the first game only, the match information (DT, EV, RO, PC,
AN), the rules (``RU[Crawford]``, ``RU[Crawford:CrawfordGame]`` for the Crawford game), the result
``RE[W+2]`` (``R`` after the points for a resignation), and one node per action on its own line:
``;W[52lqac]`` (dice, then from/to letters in the mover's numbering: ``a`` its 1-point ... ``x``
its 24-point, read from B's side as ``x`` - index; ``y`` the bar, ``z`` off), ``;B[63]`` for a roll
that allowed no move, ``;W[double]``, ``;B[take]``, ``;B[drop]``, ``;B[beaver]``, and
``;PL[W]DI[41]`` for dice rolled but never played before the game ended.

What SGF cannot carry is left out: a ``????`` roll whose dice are unknown, the .mat header tags
that have no SGF property, and analysis (A[]) read from another file.
"""
from __future__ import annotations

import io
from typing import Iterable, Optional, Union

from .model import CheckerPlay, CubeAction, Game, Match, Unplayed, crawford_rule
from .writer import write_records

APP = "comparison-games"
# .mat header tags -> gnubg's root properties (the inverse of sgf._HEADER_PROPS)
_HEADER_PROPS = {"EventDate": "DT", "Event": "EV", "Round": "RO", "Site": "PC", "Transcriber": "AN"}
_COLOUR = ("W", "B")


def escape(text: str) -> str:
    """An SGF property value: ``]`` and ``\\`` escaped."""
    return str(text).replace("\\", "\\\\").replace("]", "\\]")


def point_letter(index: int, player: int) -> str:
    """The letter of a point index (the mover's 0..23, 24 = bar, -1 = off) for player 0 (W) or 1 (B)."""
    if index == 24:
        return "y"
    if index < 0:
        return "z"
    return chr(ord("a") + index) if player == 0 else chr(ord("x") - index)


def play_value(action: CheckerPlay) -> str:
    """``52lqac``: the dice, then a from/to letter pair per single-die move."""
    d1, d2 = action.dice
    moves = [] if action.play is None else [m for m in action.play.moves if m[0] >= 0]
    letters = "".join(point_letter(int(s), action.player) + point_letter(int(d), action.player)
                      for s, d, _hit in moves)
    return f"{d1}{d2}{letters}"


def _date(value: str) -> str:
    return value.replace(".", "-")


def _root(game: Game, players: tuple[str, str], match_length: int, headers: dict, first: bool,
          crawford: bool) -> str:
    from comparison import __version__

    out = [f"(;FF[4]GM[6]CA[UTF-8]AP[{APP}:{__version__}]",
           f"MI[length:{match_length}][game:{game.number - 1}][ws:{game.score[0]}][bs:{game.score[1]}]",
           f"PW[{escape(players[0])}]PB[{escape(players[1])}]"]
    if first:
        for key, prop in _HEADER_PROPS.items():
            if headers.get(key):
                value = _date(headers[key]) if prop == "DT" else headers[key]
                out.append(f"{prop}[{escape(value)}]")
    if crawford and match_length > 1:
        out.append("RU[Crawford:CrawfordGame]" if game.crawford else "RU[Crawford]")
    if game.winner is not None and game.points is not None:
        out.append(f"RE[{_COLOUR[game.winner]}+{game.points}{'R' if game.resigned else ''}]")
    return "".join(out)


def _nodes(game: Game) -> list[str]:
    out = []
    for a in game.actions:
        colour = _COLOUR[a.player]
        if isinstance(a, CheckerPlay):
            out.append(f";{colour}[{play_value(a)}]")
        elif isinstance(a, CubeAction):
            out.append(f";{colour}[{a.kind}]")
        elif isinstance(a, Unplayed) and a.dice is not None:
            out.append(f";PL[{colour}]DI[{a.dice[0]}{a.dice[1]}]")
    return out


def format_sgf(games: Iterable[Game], players: tuple[str, str], match_length: int,
               headers: Optional[dict] = None) -> str:
    """The SGF text of ``games`` (every game given; :func:`write_sgf` keeps the good ones)."""
    headers = headers or {}
    crawford = crawford_rule(headers)
    out = io.StringIO()
    for i, game in enumerate(games):
        names = tuple(p or q for p, q in zip(game.players, players))
        out.write(_root(game, names, match_length, headers, i == 0, crawford))
        for node in _nodes(game):
            out.write("\n" + node)
        out.write(")\n")
    return out.getvalue()


def write_sgf(match_or_games: Union[Match, Game, Iterable[Game]], path_or_file,
              players: Optional[tuple[str, str]] = None, match_length: Optional[int] = None,
              headers: Optional[dict] = None) -> None:
    """Write a match, a game or games as gnubg SGF; only good games are written (as write_mat)."""
    write_records(format_sgf, match_or_games, path_or_file, players, match_length, headers)


__all__ = ["format_sgf", "write_sgf", "play_value", "point_letter"]
