"""A written play read against a roll's results that are already generated.

Replaying a record generates each roll's legal results once; the written play, gnubg's candidate
plays (SGF ``A[]``, the shared analyses) and the training set all use that one list, instead of
calling ``parse_play``, which would generate the plays again for every text it reads.

:func:`find_written` reads a text with parse_play's own rule (``rules.legal.read_written``) on
the results at hand; for a text that names no single legal play, :func:`index_of_written` lets
``parse_play`` itself decide, so the error messages are parse_play's own (the second generation
happens only on that rare path).
"""
from __future__ import annotations

import threading
from typing import Optional

import numpy as np

from ..rules import movegen
from ..rules.legal import NotationError, Play, parse_play, read_written
from ..rules.notation import parse_parts

_local = threading.local()


def roll_results(board: np.ndarray, d1: int, d2: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct legal results of rolling d1-d2 on ``board`` and one move sequence for each.

    Returns results (n, 2, 25) int8, in the engine's order (that of ``legal_plays`` and
    ``legal_results_batch``), the mover still in row 1, and moves (n, 4, 3) int8. n is 0 when
    nothing can be played. The board and dice are not checked: replay only reaches positions
    the engine made from the starting one, with dice it checked.
    """
    bufs = getattr(_local, "bufs", None)
    if bufs is None:
        bufs = _local.bufs = movegen.new_buffers()
    n = movegen.generate(board, int(d1), int(d2), *bufs)
    return bufs[0][:n].copy(), bufs[1][:n].copy()


def find_written(board: np.ndarray, results: np.ndarray, text: str) -> Optional[int]:
    """The index in ``results`` of the one result ``text`` describes, as ``parse_play`` reads it;
    None when the text does not name exactly one of them (no play, ambiguous, illegal).

    Raises NotationError when the parts cannot be read or a source lacks checkers; parse_play
    words some of those cases differently ("cannot move" with a play possible):
    :func:`index_of_written` gives parse_play's messages.
    """
    if len(results) == 0:
        return None
    same, fits = read_written(board, results, parse_parts(text))
    if len(same) == 1:
        return same[0]
    return fits[0] if len(fits) == 1 else None


def index_of_written(board: np.ndarray, d1: int, d2: int, text: str, results: np.ndarray) -> Optional[int]:
    """The index in ``results`` (the roll's legal results) of the play ``text`` describes.

    Reads exactly as ``parse_play``: returns None when the text rightly says that nothing can
    be played; raises parse_play's NotationError, message and all, for any other text that names
    no single legal play.
    """
    try:
        index = find_written(board, results, text)
    except NotationError:
        index = None
    if index is not None:
        return index
    # Rare: a bad text, "cannot move", or one the fast reading leaves open. parse_play decides
    # (and says why); only this path generates the plays a second time.
    play = parse_play(board, d1, d2, text)
    if len(results) == 0:
        return None
    return index_of_result(results, play.board, f"{text!r} with {d1}{d2}")


def index_of_result(results: np.ndarray, result: np.ndarray, what: str = "the result") -> int:
    """The index of ``result`` in ``results``; ValueError when it is not there (a bug, not bad input)."""
    hit = np.flatnonzero((results.reshape(len(results), -1) == np.asarray(result).reshape(1, -1)).all(axis=1))
    if len(hit) != 1:
        raise ValueError(f"{what}: {len(hit)} matches among the {len(results)} legal results (expected 1)")
    return int(hit[0])


def play_at(results: np.ndarray, moves: np.ndarray, index: int) -> Play:
    """The engine's Play for ``results[index]`` (its notation written from ``moves[index]``)."""
    return Play(results[index], moves[index])


__all__ = ["find_written", "index_of_result", "index_of_written", "play_at", "roll_results"]
