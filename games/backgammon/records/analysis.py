"""GNU Backgammon's analyses of recorded decisions, as judges of decision quality.

The shared analysis file (``human-analysis/lasse-4ply.jsonl.gz``) has, per checker play of the
human records, gnubg's listed candidates (its top five plus the played one) with their cubeful
match equities at up to 4-ply. A choice's loss is the best listed equity minus the choice's; a
choice that is not listed is charged the worst listed loss (a lower bound, as gnubg's own
benchmark files do).
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..rules.ids import position_id
from ..rules.legal import NotationError, legal_results_batch
from .written import index_of_written


@dataclass(frozen=True)
class Analysis:
    """One analysed decision: candidate results (K, 2, 25) and their equities (K,), best first;
    ``probs`` (K, 5): gnubg's cubeless outcome probabilities after each candidate, for the player
    who made it (win, win gammon, win backgammon, lose gammon, lose backgammon; gammons include
    backgammons), NaN where a row has none; ``indices`` (K,): each candidate's index among the
    roll's legal results (-1: no move was possible)."""

    results: np.ndarray
    equities: np.ndarray
    probs: np.ndarray = None
    indices: np.ndarray = None

    def loss(self, result: np.ndarray) -> tuple[float, bool]:
        """(equity lost by playing ``result``, whether it was listed)."""
        hit = np.flatnonzero((self.results.reshape(len(self.results), -1) == result.reshape(1, -1)).all(axis=1))
        best = float(self.equities.max())
        if len(hit):
            return best - float(self.equities[hit[0]]), True
        return best - float(self.equities.min()), False


def _key(file: str, game: int, pid: str, dice) -> tuple:
    return (Path(file).name, int(game), pid, tuple(sorted(int(x) for x in dice)))


def read_analysis_index(path) -> dict:
    """{(file name, game, position id, dice): raw JSON row}: cheap; parse rows with :func:`analysis_of`."""
    index = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            index[_key(row["match_file"], row["game"], row["position_id"], row["dice"])] = row
    return index


def analysis_of(row: dict, board: np.ndarray, results: np.ndarray | None = None) -> Analysis | None:
    """The candidates of one analysis row as result boards (None if a candidate cannot be parsed).

    The candidates' texts are read against ``results``, the roll's legal results (a decision's
    ``d.results``, or a decision set's candidates); without them, the results are generated here,
    once for the row.
    """
    d1, d2 = row["dice"]
    if results is None:
        results, _ = legal_results_batch(np.asarray(board)[None], [(d1, d2)])
    out, equities, probs, indices = [], [], [], []
    for c in row["candidates"]:
        try:
            index = index_of_written(board, d1, d2, c["play"], results)
        except NotationError:
            return None
        out.append(results[index] if index is not None else board)  # None: no move was possible
        equities.append(c["equity"])
        p = c.get("probs")
        # the file's six (win, wg, wbg, lose, lg, lbg) -> the five of gnubg's evaluator (lose = 1 - win)
        probs.append([p[0], p[1], p[2], p[4], p[5]] if p and len(p) == 6 else [np.nan] * 5)
        indices.append(-1 if index is None else index)
    if not out:
        return None
    return Analysis(np.stack(out), np.asarray(equities, np.float64), np.asarray(probs, np.float32),
                    np.asarray(indices, np.int64))


def match_decisions(index: dict, files, games, boards, dice, candidates=None) -> list:
    """The Analysis of each decision (None where there is none), by file, game, position, dice.

    ``candidates``, when given, holds each decision's legal results ((n, 2, 25) arrays, e.g. a
    decision set's ``items[offsets[i]:offsets[i + 1]]``): the analyses' plays are read against
    them instead of generating the plays again.
    """
    out = []
    if candidates is None:
        candidates = [None] * len(boards)
    for f, g, b, d, c in zip(files, games, boards, dice, candidates):
        row = index.get(_key(f, g, position_id(b), d))
        out.append(analysis_of(row, b, c) if row is not None else None)
    return out


def analyses_of(index: dict, decisions) -> list:
    """The Analysis of each of ``decisions`` (records.decisions' values), None where there is none,
    read against each decision's own legal results."""
    out = []
    for d in decisions:
        row = index.get(_key(d.file, d.game, position_id(d.board), d.dice))
        out.append(analysis_of(row, d.board, d.results) if row is not None else None)
    return out


__all__ = ["Analysis", "analyses_of", "analysis_of", "match_decisions", "read_analysis_index"]
