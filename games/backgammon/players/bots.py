"""Fixed opponents: a uniformly random player and Tesauro's pubeval.

They are the yardsticks of backgammon programs (``shared/reference/pubeval.md``): random play is
the floor, pubeval the classic baseline, and both serve as the default opponent of the
Gymnasium env. A bot ranks the distinct legal results of a roll; ``choose`` takes the best.

pubeval here reproduces gnubg's copy bit for bit (its ``pub_eval_score`` and ``pub_best_move`` are
the test oracles): inputs and weights are float32 and the score is summed in float32 in gnubg's
order, so that even near-ties break the same way.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np
from numba import njit

from ..rules.board import as_board
from ..rules.phases import is_race
from ..rules.phases import race_flags as phase_race_flags
from ..learn.encode import pubeval122
from ..rules.legal import Play, legal_plays, legal_results_batch

WIN_SCORE = np.float32(99999999.0)
"""pubeval's score of a result where the mover has borne off all 15 (1e8 once in float32, as in gnubg)."""


def result_boards(plays) -> np.ndarray:
    """The result boards of ``plays`` (M, 2, 25): those ``legal_plays`` holds already, else stacked."""
    boards = getattr(plays, "boards", None)
    return boards if boards is not None else np.stack([p.board for p in plays])


class Bot:
    """A player that scores plays; subclasses define :meth:`score_plays`.

    ``rank`` and ``choose`` take the position from the mover's view (mover in ``board[1]``).
    """

    name = "bot"

    def score_plays(self, board: np.ndarray, plays: list[Play]) -> np.ndarray:
        """One score per play (higher is better), as an array; ``plays`` is never empty."""
        raise NotImplementedError

    def rank(self, board, d1: int, d2: int) -> list[tuple[Play, float]]:
        """Every distinct legal play with its score, best first ([] when nothing can move).

        Equal scores keep the move generator's order, so ``rank(...)[0]`` is what ``choose`` picks.
        """
        b = as_board(board)
        plays = legal_plays(b, d1, d2)
        if not plays:
            return []
        scores = np.asarray(self.score_plays(b, plays))
        order = np.argsort(-scores, kind="stable")
        return [(plays[i], float(scores[i])) for i in order]

    def choose(self, board, d1: int, d2: int, rng=None) -> Play | None:
        """The play this bot makes, or None when no checker can move. ``rng`` is for random bots."""
        ranked = self.rank(board, d1, d2)
        return ranked[0][0] if ranked else None

    def pick(self, board, d1: int, d2: int, plays: list[Play]) -> Play:
        """The play this bot makes among ``plays``, the legal plays of ``board`` and the dice,
        already generated (game loops that record every play have them); ``plays`` is not empty.
        The first best score, as :meth:`choose` picks."""
        return plays[int(np.argmax(self.score_plays(board, plays)))]

    def choose_batch(self, boards, dice, rngs=None) -> tuple[np.ndarray, np.ndarray]:
        """The plays on many positions at once, for game loops that advance many games together.

        boards (N, 2, 25), dice (N, 2) -> (results (N, 2, 25) int8, n_plays (N,)): the result of
        each position's chosen play (the board itself where no checker can move, n_plays 0), the
        contract of :func:`pubeval_choose_batch`. ``rngs`` (one per position, optional) go to
        :meth:`choose` for random bots. This default calls :meth:`choose` once per position, so it
        picks exactly what ``choose`` picks; bots that can score many positions in one go
        (pubeval, neural agents) override it.
        """
        b = np.ascontiguousarray(boards, dtype=np.int8)
        d = np.asarray(dice)
        n_plays = np.diff(legal_results_batch(b, d)[1])
        results = b.copy()
        for i in range(len(b)):
            d1, d2 = int(d[i, 0]), int(d[i, 1])
            play = self.choose(b[i], d1, d2) if rngs is None else self.choose(b[i], d1, d2, rng=rngs[i])
            if play is not None:
                results[i] = play.board
        return results, n_plays

    def __repr__(self):
        return f"{type(self).__name__}()"


class RandomBot(Bot):
    """Chooses uniformly among the distinct legal results; reproducible from ``seed``."""

    name = "random"

    def __init__(self, seed=None):
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def score_plays(self, board, plays):
        return self.rng.random(len(plays))

    def choose(self, board, d1, d2, rng=None):
        plays = legal_plays(board, d1, d2)
        if not plays:
            return None
        r = self.rng if rng is None else rng
        return plays[int(r.integers(len(plays)))]

    def pick(self, board, d1, d2, plays):
        return plays[int(self.rng.integers(len(plays)))]

    def __repr__(self):
        return f"RandomBot(seed={self.seed!r})"


# ------------------------------------------------------------------------------ pubeval


@lru_cache(maxsize=1)
def _weights_data() -> dict:
    text = resources.files("games.backgammon").joinpath("data", "pubeval_weights.json").read_text()
    return json.loads(text)


@lru_cache(maxsize=1)
def pubeval_weights() -> tuple[np.ndarray, np.ndarray]:
    """(contact, race) weight vectors, float32 (122,) each, from the packaged JSON file."""
    out = []
    for key in ("contact", "race"):
        w = np.asarray(_weights_data()[key], dtype=np.float32)
        if w.shape != (122,):
            raise ValueError(f"pubeval_weights.json: {key!r} has {w.shape} weights, expected 122")
        w.setflags(write=False)
        out.append(w)
    return out[0], out[1]


@lru_cache(maxsize=1)
def _off_weights() -> tuple[np.float32, np.float32]:
    """Borne-off weights / 15, divided in double precision and then rounded, as gnubg stores them."""
    data = _weights_data()
    return np.float32(data["contact"][121] / 15.0), np.float32(data["race"][121] / 15.0)


@njit(cache=True)
def _pubeval_scores(x, race, contact_w, race_w, contact_off, race_off, results):
    """w . x in float32, summed in the order of gnubg's copy of pubeval, 99999999 for a win.

    gnubg adds the bar and borne-off terms first (its borne-off weight pre-divided by 15 and
    multiplied by the count), then one partial sum per point, 24-point first; following it keeps
    the scores equal to gnubg's bit for bit, so that near-ties break the same way.
    """
    m = x.shape[0]
    out = np.empty(m, np.float32)
    for r in range(m):
        left = 0
        for i in range(25):
            left += results[r, 1, i]
        if left == 0:
            out[r] = WIN_SCORE
            continue
        w = race_w if race[r] else contact_w
        w_off = race_off if race[r] else contact_off
        s = w[120] * x[r, 120] + w_off * np.float32(15 - left)
        for k in range(24):
            t = np.float32(0.0)
            for j in range(5 * k, 5 * k + 5):
                if x[r, j] != 0:
                    t += w[j] * x[r, j]
            s += t
        out[r] = s
    return out


def race_flags(boards) -> np.ndarray:
    """``is_race`` of each of (N, 2, 25) boards, compiled: True when contact is over."""
    b = np.ascontiguousarray(boards, dtype=np.int8)
    if b.ndim != 3 or b.shape[1:] != (2, 25):
        raise ValueError(f"boards: expected shape (N, 2, 25), got {b.shape}")
    return phase_race_flags(b)


def pubeval_scores(results, race) -> np.ndarray:
    """pubeval scores of results (M, 2, 25), mover in ``results[:, 1]``: float32 (M,).

    ``race`` is the race flag of the position *before* the play (pubeval picks its weights from
    it): one bool for all results, or one per result.
    """
    res = np.ascontiguousarray(results, dtype=np.int8)
    x = pubeval122(res)
    flags = np.broadcast_to(np.asarray(race, dtype=np.bool_), (len(res),))
    contact_w, race_w = pubeval_weights()
    contact_off, race_off = _off_weights()
    return _pubeval_scores(x, np.ascontiguousarray(flags), contact_w, race_w, contact_off, race_off, res)


def pubeval_choose_batch(boards, dice) -> tuple[np.ndarray, np.ndarray]:
    """pubeval's play on many positions at once, for fast matches.

    boards (N, 2, 25), dice (N, 2) -> (results (N, 2, 25) int8, n_plays (N,)): the chosen result
    of each position (the board itself where no checker can move, n_plays 0). The first best
    result in the move generator's order is taken, as :class:`PubevalBot` does.
    """
    b = np.ascontiguousarray(boards, dtype=np.int8)
    results, offsets = legal_results_batch(b, dice)
    counts = np.diff(offsets)
    race = np.repeat(race_flags(b), counts)
    scores = pubeval_scores(results, race)
    return _pick_best(b, results, offsets, scores), counts


@njit(cache=True)
def _pick_best(boards, results, offsets, scores):
    """The first best-scoring result of each position; the position itself when it has none."""
    chosen = boards.copy()
    for i in range(boards.shape[0]):
        lo, hi = offsets[i], offsets[i + 1]
        if hi > lo:
            best = lo
            for j in range(lo + 1, hi):
                if scores[j] > scores[best]:
                    best = j
            chosen[i] = results[best]
    return chosen


class PubevalBot(Bot):
    """Tesauro's pubeval (1993): a linear score of 122 inputs, contact and race weights.

    Deterministic: equal scores go to the first play in the move generator's order.
    """

    name = "pubeval"

    def score_plays(self, board, plays):
        results = result_boards(plays)
        return pubeval_scores(results, is_race(board))

    def choose(self, board, d1, d2, rng=None):
        b = as_board(board)
        plays = legal_plays(b, d1, d2)
        if not plays:
            return None
        return plays[int(np.argmax(self.score_plays(b, plays)))]

    def choose_batch(self, boards, dice):
        """:func:`pubeval_choose_batch`: the same plays as :meth:`choose`, compiled end to end."""
        return pubeval_choose_batch(boards, dice)


__all__ = [
    "Bot",
    "result_boards",
    "PubevalBot",
    "RandomBot",
    "WIN_SCORE",
    "pubeval_choose_batch",
    "pubeval_scores",
    "pubeval_weights",
    "race_flags",
]
