"""The board: gnubg's 2 x 25 layout, validation at the Python boundary, pips.

``board[1]`` is the player on roll, ``board[0]`` the opponent; each row is indexed from its own
side: index 0 is that player's 1-point, 23 its 24-point, 24 its bar. Checkers borne off are
15 minus the row's sum. A point of the mover's numbering p (1..24) is the opponent's 25 - p.
"""
from __future__ import annotations

import numpy as np

from .phases import is_race  # noqa: F401  (re-exported: the board's public helpers)
from .scoring import game_result  # noqa: F401

N_POINTS = 24
BAR = 24
N_CHECKERS = 15

_START_ROW = [0, 0, 0, 0, 0, 5, 0, 3, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0]


def start_board() -> np.ndarray:
    """The opening position, as a fresh (2, 25) int8 array."""
    return np.array([_START_ROW, _START_ROW], dtype=np.int8)


def as_board(board, name: str = "board") -> np.ndarray:
    """Check a board and return it as a contiguous (2, 25) int8 array.

    Raises ValueError naming what is wrong: shape, negative counts, more than 15 checkers on a
    side, or both sides on one point.
    """
    try:
        arr = np.asarray(board)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name}: not an array of checker counts ({exc})") from None
    if arr.shape != (2, 25):
        raise ValueError(f"{name}: expected shape (2, 25), got {arr.shape}")
    if arr.dtype.kind not in "iub":
        if arr.dtype.kind == "f" and np.all(arr == np.round(arr)):
            pass
        else:
            raise ValueError(f"{name}: checker counts must be integers, got dtype {arr.dtype}")
    a = arr.astype(np.int64)
    if (a < 0).any():
        side, idx = map(int, np.argwhere(a < 0)[0])
        raise ValueError(f"{name}: negative checker count {a[side, idx]} at board[{side}][{idx}]")
    totals = a.sum(axis=1)
    for side in (0, 1):
        if totals[side] > N_CHECKERS:
            who = "player on roll (board[1])" if side else "opponent (board[0])"
            raise ValueError(f"{name}: {who} has {totals[side]} checkers on the board, more than 15")
    # mover's index i (0..23) faces the opponent's index 23 - i
    both = (a[1, :24] > 0) & (a[0, 23::-1] > 0)
    if both.any():
        i = int(np.argmax(both))
        raise ValueError(
            f"{name}: both sides have checkers on the mover's {i + 1}-point "
            f"(board[1][{i}]={a[1, i]}, board[0][{23 - i}]={a[0, 23 - i]})"
        )
    return np.ascontiguousarray(a, dtype=np.int8)


def check_dice(d1, d2) -> tuple[int, int]:
    """Return the dice as ints, or raise ValueError when either is not in 1..6."""
    if type(d1) is int and type(d2) is int and 0 < d1 < 7 and 0 < d2 < 7:
        return d1, d2  # the common case, answered before the general loop (once per legal_plays)
    out = []
    for name, d in (("d1", d1), ("d2", d2)):
        try:
            v = int(d)
        except (TypeError, ValueError):
            raise ValueError(f"die {name}={d!r} is not a number") from None
        if v != d or not 1 <= v <= 6:
            raise ValueError(f"die {name}={d!r} is outside 1..6")
        out.append(v)
    return out[0], out[1]


def swap_sides(board: np.ndarray) -> np.ndarray:
    """The same position seen by the other player (who is then on roll); boards (..., 2, 25) too."""
    return np.ascontiguousarray(np.flip(board, axis=-2))


def pip_counts(board: np.ndarray) -> tuple[int, int]:
    """(pips of the player on roll, pips of the opponent); the bar counts 25."""
    w = np.arange(1, 26)
    return int(board[1].astype(np.int64) @ w), int(board[0].astype(np.int64) @ w)


def borne_off(board: np.ndarray) -> tuple[int, int]:
    """(checkers borne off by the player on roll, by the opponent)."""
    return N_CHECKERS - int(board[1].sum()), N_CHECKERS - int(board[0].sum())
