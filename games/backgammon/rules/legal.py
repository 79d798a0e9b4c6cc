"""The Python face of the move generator: validated inputs, ``Play`` values, notation in."""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from operator import index

import numpy as np

from . import movegen
from .board import as_board, check_dice
from .notation import (
    OFF_INDEX,
    NotationError,
    format_moves,
    mover_row_after,
    parse_parts,
    point_name,
)

_local = threading.local()


def _buffers():
    bufs = getattr(_local, "bufs", None)
    if bufs is None:
        bufs = _local.bufs = movegen.new_buffers()
    return bufs


@dataclass(frozen=True, eq=False)
class Play:
    """One distinct legal result of a roll.

    ``board`` is the position after the play, in the same orientation (the mover still in row 1);
    ``moves`` one (src, dst, hit) sequence that reaches it, -1-padded to 4 rows.
    Two plays are equal when their results are.
    """

    board: np.ndarray
    moves: np.ndarray

    @cached_property  # written on first use only: most plays are never shown
    def notation(self) -> str:
        """gnubg's notation, in the mover's numbering: ``24/18*/13``, ``bar/22``, ``13/7(2)``."""
        return format_moves(self.moves)

    def key(self) -> bytes:
        return self.board.tobytes()

    def __eq__(self, other):
        return isinstance(other, Play) and self.key() == other.key()

    def __hash__(self):
        return hash(self.key())

    def __str__(self):
        return self.notation

    def __repr__(self):
        return f"Play({self.notation!r})"


_INT8 = np.dtype(np.int8)  # compared with ==: arrays made by Numba carry an equal, not the same, dtype


class Plays(Sequence):
    """The legal plays of one roll, as ``legal_plays`` returns them: a read-only list of ``Play``.

    Each ``Play`` is built the first time it is looked at (and then kept, so ``plays[0] is
    plays[0]``): building them all costs more than generating them, and most callers look at
    one play, the count, or the boards. Apart from that it behaves as a list: ``len``, indexing
    (a slice gives a ``Plays``), iteration, truthiness, ``==`` with a list or another ``Plays``,
    ``in``, ``index``, ``+``, and a list's repr. ``list(plays)`` gives a real (mutable) list.
    """

    __slots__ = ("boards", "moves", "_built")

    def __init__(self, boards: np.ndarray, moves: np.ndarray):
        self.boards = boards  # (n, 2, 25) int8: every result at once, e.g. to score them together
        self.moves = moves  # (n, 4, 3) int8: one move sequence per result, as Play.moves
        self._built = None  # list of the Plays built so far (None where not yet), made on first use

    def __len__(self) -> int:
        return len(self.boards)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Plays(self.boards[i], self.moves[i])
        built = self._built
        if built is None:
            built = self._built = [None] * len(self.boards)
        p = built[i]  # a list's own IndexError and TypeError for a bad index
        if p is None:
            k = index(i)  # as a list reads it: plays[True] is plays[1], never a NumPy mask
            p = built[k] = Play(self.boards[k], self.moves[k])
        return p

    def __iter__(self):
        return iter(self._all())

    def _all(self) -> list[Play]:
        """Every play, building those not built yet (in one pass: cheaper than one by one)."""
        built = self._built
        if built is None:
            built = self._built = list(map(Play, self.boards, self.moves))
        else:
            for i, p in enumerate(built):
                if p is None:
                    built[i] = Play(self.boards[i], self.moves[i])
        return built

    def __eq__(self, other):
        if isinstance(other, Plays):  # equal results in the same order, as Play == Play says
            return self.boards.shape == other.boards.shape and bool((self.boards == other.boards).all())
        if isinstance(other, list):
            return self._all() == other
        return NotImplemented

    __hash__ = None  # a list is not hashable either

    def __add__(self, other):
        if isinstance(other, (list, Plays)):
            return self._all() + list(other)
        return NotImplemented

    def __radd__(self, other):
        if isinstance(other, list):
            return other + self._all()
        return NotImplemented

    def __repr__(self):
        return repr(self._all())


def legal_plays(board, d1: int, d2: int) -> Plays:
    """Every distinct legal result of rolling d1-d2 on ``board`` (mover in row 1), in the move
    generator's order, as a list-like ``Plays``.

    Returns an empty one (``== []``) when no checker can move. Raises ValueError for an invalid
    board or dice.
    """
    try:
        d1, d2 = check_dice(d1, d2)
    except Exception:
        as_board(board)  # a bad board is reported before bad dice, as always
        raise
    bufs = _buffers()
    # The common case, an int8 C-contiguous (2, 25) array, is checked by one small compiled call.
    # Any other input, and an invalid board, goes through as_board, which converts the one and
    # raises for the other, naming what is wrong. The type test also keeps Numba from compiling a
    # new version for another array type.
    if not (type(board) is np.ndarray and board.dtype == _INT8 and board.ndim == 2 and board.flags.carray
            and movegen.valid_board(board)):
        board = as_board(board)
    n = movegen.generate(board, d1, d2, *bufs)
    return Plays(bufs[0][:n].copy(), bufs[1][:n].copy())


def legal_results_batch(boards, dice) -> tuple[np.ndarray, np.ndarray]:
    """Distinct legal results of many positions at once, compiled end to end.

    boards (N, 2, 25), dice (N, 2) -> results (M, 2, 25) int8 and offsets (N+1,): the results of
    position i are ``results[offsets[i]:offsets[i + 1]]``.
    """
    b = np.asarray(boards)
    d = np.asarray(dice)
    if b.ndim != 3 or b.shape[1:] != (2, 25):
        raise ValueError(f"boards: expected shape (N, 2, 25), got {b.shape}")
    if d.shape != (b.shape[0], 2):
        raise ValueError(f"dice: expected shape ({b.shape[0]}, 2), got {d.shape}")
    if ((d < 1) | (d > 6)).any():
        i = int(np.argwhere((d < 1) | (d > 6))[0][0])
        raise ValueError(f"dice[{i}] = {d[i].tolist()} has a die outside 1..6")
    b8 = np.ascontiguousarray(b, dtype=np.int8)
    if b.dtype != np.int8 or (b < 0).any():
        for i in range(len(b)):  # full validation only when the array is not plainly a board
            as_board(b[i], name=f"boards[{i}]")
    return movegen.results_batch(b8, np.ascontiguousarray(d, dtype=np.int64))


def parse_play(board, d1: int, d2: int, text: str) -> Play:
    """The one legal play that ``text`` describes, written as people and sites write it.

    Parts in any order, with or without ``*``, ``bar``/``25``, ``off``/``0``, ``(2)``, chains
    ``24/18/13``, doubles as four single moves. An empty text (or "cannot move") means no play and
    is legal only when nothing can be played. Raises NotationError saying why otherwise.
    """
    b = as_board(board)
    d1, d2 = check_dice(d1, d2)
    plays = legal_plays(b, d1, d2)
    t = text.strip()
    if t == "" or t.lower().replace("'", "") in ("cannot move", "no move", "cant move", "can not move"):
        if plays:
            raise NotationError(f"{d1}{d2}: a play is possible here (e.g. {plays[0].notation}), so one must be made")
        return Play(b.copy(), np.full((4, 3), -1, np.int8))
    parts = parse_parts(t)
    if not plays:
        raise NotationError(f"{d1}{d2}: no checker can move here, so {t!r} is illegal")
    same, fits = read_written(b, plays.boards, parts)
    if not same:
        raise NotationError(_why_illegal(b, d1, d2, t, parts, plays))
    if len(same) == 1:
        return plays[same[0]]
    if len(fits) == 1:
        return plays[fits[0]]
    options = ", ".join(plays[i].notation for i in (fits or same))
    if not fits:
        raise NotationError(f"{t!r} with {d1}{d2} names hits that no legal play makes; did you mean {options}?")
    raise NotationError(f"{t!r} with {d1}{d2} is ambiguous: it could be {options}; name the hit points")


def read_written(board: np.ndarray, results: np.ndarray, parts) -> tuple[list[int], list[int]]:
    """Which of a roll's ``results`` (n, 2, 25) the written ``parts`` (:func:`parse_parts`) describe.

    Returns (same, fits): the indices whose mover's row is the one the text leads to, and, among
    them, those whose hits fit the text (same itself when it has at most one). Equal mover's rows
    that differ in hits are told apart by the written points: a play hits only where the text
    lands (every point named after a source), surely where a named landing point held a blot, and
    where the text says *. The one reading rule of parse_play and of records replay.
    """
    row = mover_row_after(board, parts)
    same = [int(i) for i in np.flatnonzero((results[:, 1, :] == row).all(axis=1))] if len(results) else []
    if len(same) <= 1:
        return same, same
    named = {p for points, _h, _c in parts for p in points[1:] if p != OFF_INDEX}
    blots = {p for p in named if board[0, 23 - p] == 1}
    starred = {p for points, hits, _c in parts for p, h in zip(points, hits) if h}
    return same, [i for i in same if (blots | starred) <= hit_points(board, results[i]) <= named]


def hit_points(board: np.ndarray, result: np.ndarray) -> set[int]:
    """Points (mover's indices) where the play from ``board`` to ``result`` hit a blot."""
    before = board[0, :24][::-1]  # opponent's checkers in the mover's numbering
    after = result[0, :24][::-1]
    return {int(i) for i in np.nonzero((before == 1) & (after == 0))[0]}


def _why_illegal(board, d1, d2, text, parts, plays) -> str:
    dice = [d1] * 4 if d1 == d2 else [d1, d2]
    n_needed = max(sum(1 for m in p.moves if m[0] >= 0) for p in plays)
    msg = f"{text!r} is not a legal play with {d1}{d2}"
    if board[1, 24] > 0 and not any(points[0] == 24 for points, _h, _c in parts):
        return msg + f": {board[1, 24]} checker(s) on the bar must enter first"
    pips = 0
    for points, _h, count in parts:
        src, dst = points[0], points[-1]
        if dst != OFF_INDEX:
            pips += (src - dst) * count
        else:
            pips = None
            break
    if pips is not None and pips != sum(dice[:n_needed]) and n_needed == len(dice):
        return msg + f": it moves {pips} pips, the dice give {sum(dice)} and all of them can be played"
    for points, _h, _c in parts:
        for p in points[1:]:
            if p >= 0 and board[0, 23 - p] >= 2:
                return msg + f": the {point_name(p)}-point is held by the opponent"
    if n_needed < len(dice):
        return msg + f"; only {n_needed} of the dice can be played here, e.g. {plays[0].notation}"
    return msg + "; legal plays include " + ", ".join(p.notation for p in plays[:6])


def results_crc(results) -> int:
    """CRC-32 of a roll's legal results (K, 2, 25) as int8 boards, in the move generator's order: a
    fingerprint that ties labels written for each result (``records generate --label-candidates``)
    to the list a reader generates (same results, same order)."""
    import zlib

    return zlib.crc32(np.ascontiguousarray(results, dtype=np.int8).tobytes())


__all__ = ["Play", "Plays", "legal_plays", "legal_results_batch", "parse_play", "results_crc", "NotationError"]
