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

from typing import Optional

import numpy as np

from ..rules.legal import NotationError, parse_play, read_written
from ..rules.notation import parse_parts

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


__all__ = ["find_written", "index_of_result", "index_of_written"]
