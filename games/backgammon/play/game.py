"""The one game loop: the state of a game and the rules of a turn.

Every driver plays through this module: matches (:mod:`.match`, many games in lockstep), record
generation (:mod:`.generate`), the Gymnasium environments and the terminal session. The rules of
the flow live here once:

- the opening roll (:meth:`Dice.opening`): one die each, ties thrown again; the higher die moves
  first, playing both dice;
- a turn: the player on roll plays one of the legal plays of its dice (or nothing, when no checker
  can move); if it has borne off all its checkers the game ends and it wins
  :func:`~games.backgammon.rules.scoring.points_won`; else the board turns to the other side's view
  (:func:`~games.backgammon.rules.board.swap_sides`) and the other side rolls.

A state is seen from the player on roll: ``board[1]`` is the side whose ``turn`` it is (seat 0 or
1; seat 0 throws the first die of the opening roll). It also carries the match score, the match
length (0 = money), the Crawford flag and the cube, which stays at 1 and centred until the cube
is played.

:class:`Games` is the same loop over many games at once, as arrays, so that a player can choose
for all the games where it is on roll in one call (one forward pass of a network).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..rules.board import start_board, swap_sides
from ..rules.legal import legal_plays
from ..rules.scoring import points_won, points_won_batch

CENTRED = -1
"""``cube_owner`` while the cube is in the middle."""


class Dice:
    """Dice thrown from a NumPy Generator: two at a time, ``integers(1, 7, size=2)``."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def roll(self) -> tuple[int, int]:
        d = self.rng.integers(1, 7, size=2)
        return int(d[0]), int(d[1])

    def opening(self) -> tuple[int, int]:
        """The opening roll (seat 0's die, seat 1's die): one die each, ties thrown again."""
        d0, d1 = self.roll()
        while d0 == d1:
            d0, d1 = self.roll()
        return d0, d1


@dataclass
class GameState:
    """One game: the board from the view of the player on roll, whose turn, its dice, the match.

    ``dice`` is None once the game is over; ``winner`` (a seat) and ``points`` are set then.
    """

    board: np.ndarray                  # (2, 25) int8, board[1] = the player on roll
    turn: int                          # seat on roll: 0 or 1
    dice: Optional[tuple[int, int]]    # the roll to play
    score: tuple[int, int] = (0, 0)    # match score before this game, by seat
    match_length: int = 0              # 0 = money play
    crawford: bool = False             # this is the Crawford game
    cube_value: int = 1
    cube_owner: int = CENTRED          # a seat, or CENTRED
    winner: Optional[int] = None
    points: int = 0                    # points the winner won (single 1, gammon 2, backgammon 3)
    plies: int = 0                     # turns played
    opening: tuple[int, int] = field(default=(0, 0))  # the opening roll (seat 0's die, seat 1's die)

    @property
    def over(self) -> bool:
        return self.winner is not None

    def legal_plays(self):
        """The legal plays of the player on roll for its dice ([] when none; [] once the game is over)."""
        return [] if self.dice is None else legal_plays(self.board, *self.dice)

    def copy(self) -> "GameState":
        return GameState(**{**self.__dict__, "board": self.board.copy()})


def new_game(dice: Dice, score=(0, 0), match_length: int = 0, crawford: bool = False) -> GameState:
    """A game at the opening position after the opening roll: the higher die's seat is on roll."""
    d0, d1 = dice.opening()
    turn = 0 if d0 > d1 else 1
    return GameState(start_board(), turn, (d0, d1), tuple(score), match_length, crawford, opening=(d0, d1))


def play_turn(state: GameState, result: Optional[np.ndarray], dice: Optional[Dice]) -> GameState:
    """The player on roll ends its turn with the board ``result`` (None: no checker could move).

    If it has borne off all its checkers the game ends (winner, points); else the other side is on
    roll and throws ``dice`` (pass None to set ``state.dice`` yourself). Changes ``state`` in place
    and returns it.
    """
    if state.over:
        raise RuntimeError("the game is over")
    state.plies += 1
    board = state.board if result is None else np.asarray(result, dtype=np.int8)
    if result is not None and board[1].sum() == 0:  # the mover has borne off all 15
        state.board, state.dice = board, None
        state.winner, state.points = state.turn, int(points_won(np.ascontiguousarray(board[0])))
        return state
    state.board = swap_sides(board)
    state.turn ^= 1
    state.dice = dice.roll() if dice is not None else None
    return state


def resign_points(state: GameState) -> int:
    """What the player on roll loses by resigning now: what it would lose if the other side bore off."""
    return int(points_won(np.ascontiguousarray(state.board[1])))


class Games:
    """Many games in lockstep, as arrays: the loop of :func:`new_game` / :func:`play_turn`.

    ``boards`` (n, 2, 25) from each mover's view, ``turn`` (n,) seats on roll, ``dice`` (n, 2),
    ``active`` the indices of games not yet over, ``points`` (n,) signed from seat 0's view once
    over. Game i throws its dice from ``dice_rngs[i]``, exactly as a :class:`GameState` with
    ``Dice(dice_rngs[i])`` would.
    """

    def __init__(self, dice_rngs):
        self.dice_sources = [Dice(r) for r in dice_rngs]
        n = len(self.dice_sources)
        self.boards = np.repeat(start_board()[None], n, axis=0)
        self.dice = np.empty((n, 2), np.int64)
        self.turn = np.empty(n, np.int8)
        for i, d in enumerate(self.dice_sources):
            self.dice[i] = d.opening()
            self.turn[i] = 0 if self.dice[i, 0] > self.dice[i, 1] else 1
        self.points = np.zeros(n, np.int8)
        self.active = np.arange(n)

    def on_roll(self, seat: int) -> np.ndarray:
        """Indices of the active games where ``seat`` is on roll."""
        return self.active[self.turn[self.active] == seat]

    def play(self, results: np.ndarray) -> np.ndarray:
        """Every active game's mover ends its turn with ``results`` (len(active), 2, 25) (the board
        itself where no checker could move); returns the indices of the games that ended."""
        idx = self.active
        self.boards[idx] = results
        won = self.boards[idx, 1].sum(axis=1) == 0  # the mover has borne off all
        done = idx[won]
        if len(done):
            pts = points_won_batch(np.ascontiguousarray(self.boards[done, 0]))
            self.points[done] = np.where(self.turn[done] == 0, pts, -pts)
            idx = idx[~won]
            self.active = idx
        self.boards[idx] = swap_sides(self.boards[idx])
        self.turn[idx] ^= 1
        for i in idx:
            self.dice[i] = self.dice_sources[i].roll()
        return done


__all__ = ["CENTRED", "Dice", "GameState", "Games", "new_game", "play_turn", "resign_points"]
