"""Points won: the one definition of single game, gammon and backgammon.

Compiled (Numba) so the compiled random-game loop and Python share it; a Python call costs about
a microsecond. ``loser`` is the losing side's row of a (2, 25) board, in its own numbering.
"""
from __future__ import annotations

import numpy as np
from numba import njit

N_CHECKERS = 15


@njit(cache=True)
def points_won(loser) -> int:
    """Points won from a loser whose opponent has borne off all: 1, 2 (gammon) or 3 (backgammon).

    A gammon when the loser has borne off no checker; a backgammon when, besides, a loser's
    checker is on the bar or in the winner's home board (the loser's own points 19..24).
    """
    left = 0
    for i in range(25):
        left += loser[i]
    if left < N_CHECKERS:
        return 1
    for i in range(18, 25):
        if loser[i] > 0:
            return 3
    return 2


@njit(cache=True)
def points_won_batch(losers) -> np.ndarray:
    """:func:`points_won` of each row of ``losers`` (M, 25) -> int8 (M,)."""
    out = np.empty(losers.shape[0], np.int8)
    for k in range(losers.shape[0]):
        out[k] = points_won(losers[k])
    return out


def game_result(board: np.ndarray) -> int:
    """0 while the game goes on; else the points won, signed from board[1]'s side.

    +1/+2/+3: the player in board[1] has borne off all checkers (single, gammon, backgammon);
    -1/-2/-3: the player in board[0] has.
    """
    if board[1].sum() == 0:
        return int(points_won(np.ascontiguousarray(board[0])))
    if board[0].sum() == 0:
        return -int(points_won(np.ascontiguousarray(board[1])))
    return 0


def cubeless_equity(probs) -> float:
    """Cubeless money equity of the five outcome probabilities (win, win gammon, win backgammon,
    lose gammon, lose backgammon; gnubg's convention: gammons include backgammons). Five numbers
    give a float; an array (..., 5) gives the array (...) of equities."""
    p = np.asarray(probs, np.float64)
    equity = 2.0 * p[..., 0] - 1.0 + p[..., 1] + p[..., 2] - p[..., 3] - p[..., 4]
    return float(equity) if equity.ndim == 0 else equity


__all__ = ["cubeless_equity", "game_result", "points_won", "points_won_batch"]
