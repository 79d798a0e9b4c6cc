"""Value types of match records: matches, games, their actions, decisions and errors.

Boards are the engine's (2, 25) int8 arrays with the player on roll in row 1. Players are
numbered as the record numbers them: 0 = the left column of a .mat file ("Player 1", SGF's W),
1 = the right column ("Player 2", SGF's B).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional, Union

import numpy as np

from ..rules.board import swap_sides


class RecordError(ValueError):
    """Something in a record that cannot be read or replayed legally.

    ``file`` and ``line`` locate it (line 1-based, 0 when the whole file is concerned), ``text`` is
    the offending text as written, ``reason`` says why; ``kind`` groups errors for statistics
    ("illegal play", "unreadable", "out of turn", "after end", "truncated", "empty file",
    "binary file", "format").
    """

    def __init__(self, file: str, line: int, text: str, reason: str, kind: str = "unreadable"):
        super().__init__(file, line, text, reason, kind)
        self.file = str(file)
        self.line = int(line)
        self.text = text
        self.reason = reason
        self.kind = kind

    def __str__(self) -> str:
        text = self.text.strip()
        return f"{self.file}:{self.line}: {self.reason}" + (f": {text}" if text else "")

    def __repr__(self) -> str:
        return f"RecordError({self.file!r}, {self.line}, {self.text!r}, {self.reason!r}, kind={self.kind!r})"

    def __eq__(self, other):
        return isinstance(other, RecordError) and self.args == other.args

    def __hash__(self):
        return hash(self.args)


@dataclass(frozen=True, eq=False)
class CheckerPlay:
    """A roll and the play made with it (possibly no move at all, when none was possible)."""

    player: int
    dice: tuple[int, int]
    text: str                    # as written: "13/11 24/23", "Cannot Move", "" or SGF's "52lqac"
    line: int
    board: np.ndarray            # before the play, the mover in row 1
    result: np.ndarray           # after the play, the mover still in row 1
    play: object                 # the engine's matched Play, None when no move was possible
    n_legal: int                 # distinct legal results of the roll (0: no move possible)
    cube: int = 1                # cube value when the play was made
    candidates: Optional[tuple] = None   # SGF analysis: ((result board or notation, equity), ...)
    # the roll's distinct legal results (n_legal, 2, 25) int8 in the engine's order, and the index
    # of ``result`` among them (None for no move); None when the maker of the play did not keep them
    results: Optional[np.ndarray] = None
    chosen_index: Optional[int] = None

    kind = "play"

    @property
    def notation(self) -> str:
        """The play in gnubg's notation ("" for no move)."""
        return self.play.notation if self.play is not None else ""

    def __repr__(self) -> str:
        return f"CheckerPlay(player={self.player}, dice={self.dice}, text={self.text!r}, line={self.line})"


@dataclass(frozen=True)
class CubeAction:
    """A cube action: kind is "double", "take", "drop" or "beaver"; value the cube it proposes or
    accepts ("Doubles => 4" has value 4)."""

    player: int
    kind: str
    value: Optional[int]
    line: int
    text: str = ""


@dataclass(frozen=True)
class Unplayed:
    """A roll written without a play because the game ended first (``????``, or the empty
    ``dd:`` that gnubg writes for dice rolled before a resignation). dice is None for ``????``."""

    player: int
    dice: Optional[tuple[int, int]]
    line: int
    text: str = ""

    kind = "unplayed"


Action = Union[CheckerPlay, CubeAction, Unplayed]


@dataclass(frozen=True, eq=False)
class Game:
    """One game: its number, the score before it, its actions in order and how it ended.

    ``winner`` (0/1) and ``points`` come from the record's "Wins N point(s)" when written, else from
    the final position or the drop. ``resigned`` is True when the game ended with a winner although
    nobody bore off and nobody dropped a double (a resignation, or a timeout on some sites).
    ``error`` is set when the game could not be replayed to its end; its actions then stop before
    the bad one, and :func:`decisions` leaves the game out. ``crawford`` is True for the Crawford
    game of a match (see :func:`crawford_flags`).
    """

    number: int
    score: tuple[int, int]
    actions: tuple
    players: tuple[str, str] = ("", "")
    match_length: int = 0
    winner: Optional[int] = None
    points: Optional[int] = None
    match_won: bool = False
    resigned: bool = False
    error: Optional[RecordError] = None
    line: int = 0
    crawford: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def plays(self) -> tuple:
        """The checker plays, in order."""
        return tuple(a for a in self.actions if isinstance(a, CheckerPlay))

    @property
    def first_player(self) -> Optional[int]:
        return self.actions[0].player if self.actions else None

    @property
    def final_board(self) -> Optional[np.ndarray]:
        """The last position reached, from player 0's side (player 0 in row 1)."""
        for a in reversed(self.actions):
            if isinstance(a, CheckerPlay):
                return a.result if a.player == 0 else swap_sides(a.result)
        return None

    def __repr__(self) -> str:
        state = "ok" if self.ok else f"error at line {self.error.line}"
        crawford = ", crawford" if self.crawford else ""
        return (f"Game(number={self.number}, score={self.score}, plays={len(self.plays)}, "
                f"winner={self.winner}, points={self.points}{crawford}, {state})")


@dataclass(frozen=True, eq=False)
class Match:
    """A match (or money session) as read from one file.

    ``games`` holds every game found, good or broken (``game.ok``); ``errors`` every RecordError
    met in the file, those of broken games and those about the file itself (empty, binary,
    truncated). ``match_length`` 0 means money play.
    """

    path: str
    headers: dict = field(default_factory=dict)
    match_length: int = 0
    players: tuple[str, str] = ("", "")
    games: tuple = ()
    errors: tuple = ()

    @property
    def good_games(self) -> tuple:
        return tuple(g for g in self.games if g.ok)

    @property
    def broken_games(self) -> tuple:
        return tuple(g for g in self.games if not g.ok)

    def __repr__(self) -> str:
        return (f"Match({self.path!r}, length={self.match_length}, players={self.players}, "
                f"games={len(self.games)}, errors={len(self.errors)})")


@dataclass(frozen=True, eq=False)
class Decision:
    """One checker-play decision from a record.

    ``board`` is the position before the play (the player on roll in row 1), ``chosen`` the result
    the player picked (same orientation), ``score`` the match score (own, opponent) before the game.
    ``forced`` is True when the roll had exactly one distinct legal result; ``n_legal`` is their
    number. ``results`` holds those results, (n_legal, 2, 25) int8 in the engine's order (as
    ``legal_results_batch`` lists them; read-only), and ``results[chosen_index]`` equals ``chosen``.
    ``crawford`` is True in the Crawford game of a match (no doubling allowed). ``candidates``
    carries an engine's analysis when the record has one (gnubg SGF's A[]):
    ((result board, or the notation when it could not be replayed, equity), ...).
    """

    board: np.ndarray
    dice: tuple[int, int]
    chosen: np.ndarray
    player: str
    player_index: int
    score: tuple[int, int]
    match_length: int
    forced: bool
    n_legal: int
    cube: int = 1
    candidates: Optional[tuple] = None
    file: str = ""
    game: int = 0
    line: int = 0
    text: str = ""
    crawford: bool = False
    results: Optional[np.ndarray] = None
    chosen_index: Optional[int] = None

    def __repr__(self) -> str:
        return (f"Decision({self.file}:{self.line}, {self.player!r}, dice={self.dice}, "
                f"text={self.text!r}, n_legal={self.n_legal})")


# --- the Crawford game ----------------------------------------------------------------------------

_OFF = ("off", "false", "no", "0")


def crawford_rule(headers: dict) -> bool:
    """Whether the Crawford rule is in force: on unless a ``Crawford`` header tag says "Off"."""
    value = next((v for k, v in headers.items() if k.strip().lower() == "crawford"), "On")
    return value.strip().lower() not in _OFF


def crawford_flags(scores, match_length: int, rule: bool = True) -> list[bool]:
    """Which games are the Crawford game, from the scores before each game of a match, in order.

    The Crawford game is the first game after one player reaches one point away from winning
    (score ``match_length - 1``) while the other is further away: exactly one player stands at
    ``match_length - 1`` and nobody did when the previous game began. Money play (length 0), 1-point
    matches and ``rule=False`` have none. A file that starts with a player already one away
    (a single game cut from a match) counts that game as the Crawford game: without the games
    before it, that is the likelier reading.
    """
    n = int(match_length)
    out = []
    previous = None
    for score in scores:
        a, b = (int(s) for s in score)
        one_away = (a == n - 1) != (b == n - 1) and max(a, b) < n
        first = previous is None or (n - 1) not in previous
        out.append(bool(rule and n > 1 and one_away and first))
        previous = (a, b)
    return out


def with_crawford(games, match_length: int, rule: bool = True, explicit=None) -> tuple:
    """The games with ``crawford`` set; ``explicit`` (one bool or None per game) overrides the
    computed flag where a record says so (gnubg SGF's ``RU[Crawford:CrawfordGame]``)."""
    games = list(games)
    flags = crawford_flags([g.score for g in games], match_length, rule)
    explicit = explicit or [None] * len(games)
    out = []
    for g, computed, said in zip(games, flags, explicit):
        flag = computed if said is None else bool(said)
        out.append(g if g.crawford == flag else replace(g, crawford=flag))
    return tuple(out)
