"""Writing games as a .mat file in gnubg's own layout.

gnubg's exporter: header tags, `` N point match``, then per game `` Game N``, the score line
(`` name0 : s0`` padded to 32 columns, then ``name1 : s1``), and numbered rows: ``%3d) `` and the
left cell padded to 27 columns plus a space, then the right cell. A play is ``dd: `` and its
single-die moves ``from/to`` in the mover's numbering with ``*`` for hits, bar = 25, off = 0.
"Wins N point(s)" goes on its own line, 6 spaces in for the left-hand player, 34 for the right;
a left-hand drop carries it on the same row, as gnubg does.

Cube actions are cells of their own: `` Doubles => N`` (N the cube it proposes), `` Takes`` and
`` Drops``, each in its player's column; they alternate with the rolls as the players act (the
doubler, the taker, then the doubler's roll). "Wins N points" counts the cube. The game loop's games (:func:`games.backgammon.play.game.record_game`) write this way and
read back, and gnubg's own import reads them the same (tests/test_cube_loop.py).

One extension: a roll the game ended before playing is written ``dd: ????`` (or ``????``), the
Studio way; gnubg's own empty ``dd:`` would read back as "cannot move".
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Iterable, Optional, Union

from .model import CheckerPlay, CubeAction, Game, Match, Unplayed

LEFT_WIDTH = 27
WINS_LEFT = " " * 6
WINS_RIGHT = " " * 34


def _point(index: int) -> str:
    return "25" if index == 24 else "0" if index < 0 else str(index + 1)


def play_cell(action: CheckerPlay) -> str:
    """``52: 13/8 13/11`` with gnubg's spacing: a trailing space unless four moves were made."""
    d1, d2 = action.dice
    moves = [] if action.play is None else [m for m in action.play.moves if m[0] >= 0]
    parts = [f"{_point(int(s))}/{_point(int(d))}{'*' if h else ''}" for s, d, h in moves]
    text = f"{d1}{d2}: " + " ".join(parts)
    if 0 < len(parts) < 4:
        text += " "
    return text


def cube_cell(action: CubeAction, cube: int) -> str:
    if action.kind == "double":
        return f" Doubles => {action.value or cube * 2}"
    if action.kind == "beaver":
        return f" Beavers => {action.value}" if action.value else " Beavers"
    return " Takes" if action.kind == "take" else " Drops"


def _points(n: int) -> str:
    return f"Wins {n} point{'s' if n != 1 else ''}"


class _Rows:
    """gnubg's row layout: cells alternate left, right; each row numbered."""

    def __init__(self, out: io.StringIO):
        self.out = out
        self.i = 0            # cells written: even = next cell is left, odd = right

    def cell(self, player: int, text: str) -> None:
        if (self.i & 1) != player:   # the same player twice (a beaver's take): leave a cell empty
            self._put("")
        self._put(text)

    def _put(self, text: str) -> None:
        if self.i & 1:
            self.out.write(text + "\n")
        else:
            self.out.write(f"{(self.i >> 1) + 1:3d}) {text:<{LEFT_WIDTH}} ")
        self.i += 1

    def end_line(self) -> None:
        if self.i & 1:
            self.out.write("\n")
            self.i += 1


def _write_game(out: io.StringIO, game: Game, players: tuple[str, str]) -> None:
    out.write(f" Game {game.number}\n")
    left = f"{players[0]} : {game.score[0]}"
    out.write(f" {left:<31}{players[1]} : {game.score[1]}\n")
    rows = _Rows(out)
    cube = 1
    ended = False
    for a in game.actions:
        if isinstance(a, CheckerPlay):
            rows.cell(a.player, play_cell(a))
        elif isinstance(a, Unplayed):
            text = f"{a.dice[0]}{a.dice[1]}: ????" if a.dice else "????"
            rows.cell(a.player, text)
        elif isinstance(a, CubeAction):
            if a.kind == "drop" and game.winner is not None and game.points is not None:
                _write_drop(rows, a, game)
                ended = True
                break
            rows.cell(a.player, cube_cell(a, cube))
            if a.kind == "double":
                cube = a.value or cube * 2
    if not ended:
        rows.end_line()
        if game.winner is not None and game.points is not None:
            out.write((WINS_LEFT if game.winner == 0 else WINS_RIGHT) + _points(game.points) + "\n")
    out.write("\n")


def _write_drop(rows: _Rows, a: CubeAction, game: Game) -> None:
    if a.player == 0:                       # left drops: "Wins" on the same row, right's column
        if rows.i & 1:
            rows._put("")
        rows.out.write(f"{(rows.i >> 1) + 1:3d})  Drops{' ' * 23}{_points(game.points)} \n")
        rows.i += 2
    else:
        rows.cell(1, " Drops")
        rows.out.write((WINS_LEFT if game.winner == 0 else WINS_RIGHT) + _points(game.points) + "\n")


def format_mat(games: Iterable[Game], players: tuple[str, str], match_length: int,
               headers: Optional[dict] = None) -> str:
    out = io.StringIO()
    for k, v in (headers or {}).items():
        out.write(f'; [{k} "{v}"]\n')
    out.write("\n")
    out.write(f" {match_length} point match\n\n")
    for g in games:
        _write_game(out, g, players)
    return out.getvalue()


def write_mat(match_or_games: Union[Match, Game, Iterable[Game]], path_or_file,
              players: Optional[tuple[str, str]] = None, match_length: Optional[int] = None,
              headers: Optional[dict] = None) -> None:
    """Write a match, a game or games as a .mat file in gnubg's layout.

    Only good games are written (a game whose replay failed has no complete record). ``players``,
    ``match_length`` and ``headers`` default to the match's (or the first game's).
    """
    write_records(format_mat, match_or_games, path_or_file, players, match_length, headers)


def write_records(format_text, match_or_games, path_or_file, players=None, match_length=None, headers=None) -> None:
    """Shared by the .mat and SGF writers: the good games of a match, a game or games, with the
    players, match length and headers defaulting to the match's (or the first game's), formatted
    by ``format_text(games, players, match_length, headers)`` into a path or an open text file."""
    if isinstance(match_or_games, Match):
        m = match_or_games
        games = list(m.games)
        players = players or m.players
        match_length = m.match_length if match_length is None else match_length
        headers = m.headers if headers is None else headers
    else:
        games = [match_or_games] if isinstance(match_or_games, Game) else list(match_or_games)
        if games:
            players = players or games[0].players
            match_length = games[0].match_length if match_length is None else match_length
    games = [g for g in games if g.ok]
    text = format_text(games, tuple(players or ("Player 1", "Player 2")), match_length or 0, headers)
    if hasattr(path_or_file, "write"):
        path_or_file.write(text)
    else:
        Path(path_or_file).write_text(text, encoding="utf-8")
