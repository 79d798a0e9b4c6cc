"""Input encodings of boards for scorers: Tesauro's 198 units and pubeval's 122.

Scorers rank every legal result of a roll, so encoders run on whole stacks of results at once:
each takes boards (N, 2, 25) and returns float32 (N, F) from one compiled loop. The boards are in
the engine's layout (``board[1]`` the player whose view the features take, ``board[0]`` the
other side); for a result of a play that is still the mover, which is what a move chooser wants.

``tesauro198`` (TD-Gammon's raw inputs; our exact order, since the paper leaves it open):

==========  =====================================================================
units       meaning
==========  =====================================================================
0..95       ``board[1]``'s points 1..24 (index i -> units 4i..4i+3), n checkers:
            [n >= 1, n >= 2, n >= 3, (n - 3) / 2 if n > 3 else 0]
96          ``board[1]``'s checkers on the bar / 2
97          ``board[1]``'s checkers borne off / 15
98..193     ``board[0]``'s points 1..24 in its own numbering, same four units
194         ``board[0]``'s bar / 2
195         ``board[0]``'s borne off / 15
196, 197    whose turn: (1, 0) = ``board[1]`` is on roll
==========  =====================================================================

The engine always stores a position from the side of the player on roll, so the turn units of an
encoded position are always (1, 0); they are kept so that the vector is the classic 198 and so
that a caller who encodes a position from the other side (``swap_sides``) can say so with
``tesauro198(boards, on_roll=0)`` (turn units (0, 1)).

``pubeval122``: exactly ``shared/reference/pubeval.md`` (block k = 0..23 describes ``board[1]``'s
point 24 - k; five units per block; then opponent's bar / 2 and own borne off / 15).
"""
from __future__ import annotations

import numpy as np
from numba import njit

TESAURO198_SIZE = 198
PUBEVAL122_SIZE = 122


@njit(cache=True)
def point_units(n, out, base):
    """Tesauro's four units of n checkers on a point, written at out[base:base + 4]."""
    if n >= 1:
        out[base] = 1.0
    if n >= 2:
        out[base + 1] = 1.0
    if n >= 3:
        out[base + 2] = 1.0
    if n > 3:
        out[base + 3] = (n - 3) / 2.0


@njit(cache=True)
def _tesauro_side(row, out, base):
    """Units of one side: 24 points x 4, then bar / 2, then borne off / 15."""
    total = 0
    for i in range(24):
        total += row[i]
        point_units(row[i], out, base + 4 * i)
    total += row[24]
    out[base + 96] = row[24] / 2.0
    out[base + 97] = (15 - total) / 15.0


@njit(cache=True)
def _tesauro198(boards, on_roll):
    n = boards.shape[0]
    out = np.zeros((n, TESAURO198_SIZE), np.float32)
    for k in range(n):
        _tesauro_side(boards[k, 1], out[k], 0)
        _tesauro_side(boards[k, 0], out[k], 98)
        if on_roll == 1:
            out[k, 196] = 1.0
        else:
            out[k, 197] = 1.0
    return out


@njit(cache=True)
def _pubeval122(boards):
    n = boards.shape[0]
    out = np.zeros((n, PUBEVAL122_SIZE), np.float32)
    for m in range(n):
        me = boards[m, 1]
        opp = boards[m, 0]
        for k in range(24):
            # block k: the mover's point 24 - k = its index 23 - k, which is the opponent's index k
            c = me[23 - k]
            if c == 0 and opp[k] > 0:
                c = -opp[k]
            j = 5 * k
            if c == -1:
                out[m, j] = 1.0
            elif c == 1:
                out[m, j + 1] = 1.0
            elif c >= 2:
                out[m, j + 2] = 1.0
                if c == 3:
                    out[m, j + 3] = 1.0
                elif c >= 4:
                    out[m, j + 4] = (c - 3) / 2.0
        out[m, 120] = opp[24] / 2.0
        left = 0
        for i in range(25):
            left += me[i]
        out[m, 121] = (15 - left) / 15.0
    return out


def _as_boards(boards) -> np.ndarray:
    """Shape and range checks (cheap, vectorised) before the kernels, which trust their input."""
    b = np.asarray(boards)
    if b.ndim != 3 or b.shape[1:] != (2, 25):
        raise ValueError(f"boards: expected shape (N, 2, 25), got {b.shape}")
    if b.dtype != np.int8:
        if b.dtype.kind not in "iu":
            raise ValueError(f"boards: checker counts must be integers, got dtype {b.dtype}")
        if b.size and (b.min() < 0 or b.max() > 15):
            raise ValueError("boards: checker counts must be in 0..15")
        b = b.astype(np.int8)
    elif b.size and b.min() < 0:
        raise ValueError("boards: negative checker count")
    if b.size and b.sum(axis=2, dtype=np.int64).max() > 15:
        raise ValueError("boards: a side has more than 15 checkers")
    return np.ascontiguousarray(b)


def tesauro198(boards, on_roll: int = 1) -> np.ndarray:
    """Tesauro's 198 inputs of each board: (N, 2, 25) -> float32 (N, 198); layout in the module doc.

    ``on_roll`` says which row is on roll for the two turn units (1, the engine's convention, or 0).
    """
    if on_roll not in (0, 1):
        raise ValueError(f"on_roll must be 0 or 1, got {on_roll!r}")
    return _tesauro198(_as_boards(boards), int(on_roll))


def pubeval122(boards) -> np.ndarray:
    """pubeval's 122 inputs of each board from ``board[1]``'s view: (N, 2, 25) -> float32 (N, 122)."""
    return _pubeval122(_as_boards(boards))


def tesauro198_one(board, on_roll: int = 1) -> np.ndarray:
    """:func:`tesauro198` of a single (2, 25) board -> float32 (198,)."""
    return tesauro198(np.asarray(board)[None], on_roll)[0]


def pubeval122_one(board) -> np.ndarray:
    """:func:`pubeval122` of a single (2, 25) board -> float32 (122,)."""
    return pubeval122(np.asarray(board)[None])[0]


__all__ = [
    "PUBEVAL122_SIZE",
    "TESAURO198_SIZE",
    "pubeval122",
    "pubeval122_one",
    "tesauro198",
    "tesauro198_one",
]
