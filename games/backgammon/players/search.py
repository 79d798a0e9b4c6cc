"""Lookahead for model players: an outcome model searching n plies (expectimax over the dice).

    from games.backgammon.players.search import SearchAgent
    bot = SearchAgent(load_agent("model.pt"), depth=1)    # or make_player("model.pt:1")
    bot.rank(board, 3, 1)      # [(Play, value), ...] best first; value = the mover's equity

The value of a result r (mover in ``r[1]``, opponent to roll), for the mover:

- a finished game (the mover has borne off all): ``game_result(r)`` points, exactly, at any depth;
- depth 0: the agent's calibrated V (``agent.score_results``), the mover's cubeless equity;
- depth k >= 1: minus the opponent's expected best reply, over the 21 distinct rolls (doubles
  1/36, others 2/36): ``-sum_roll p(roll) * max_reply value_{k-1}(reply)``, each reply a result
  with the opponent in row 1. Where the opponent cannot move, its only "reply" is the board as it
  stands, ``swap_sides(r)`` (the opponent in row 1, the mover to roll next).

At a match score (``rank(..., state)``, ``choose(..., state=)``, as the game loop hands a player
that plays at the score) every value is the equity at that score instead (EMG, as
``rules.cube.equity_at_score``; money with the cube: the Jacoby rule's single games): a leaf is
``const + probs @ weights`` for its mover, a finished game its outcome's value. EMG is zero-sum
(each player's is minus the other's), so the same negamax holds.

Values after different rolls are compared and averaged, so they must be on one scale: only a
model with outcome heads (``comparison.outcomes``) can search; a plain comparison scorer knows V up
to a constant per decision and is refused with a ValueError.

Every ply is batched: the children of all positions of a ply come from one
``legal_results_batch`` call and are scored in one forward pass (in chunks, to bound memory).
Move filters as gnubg's: at the root the plays are ranked at 0 ply and only the best ``keep``
(default 8) of those within ``threshold`` (default 0.16) of the best are searched (the best
always); inside the search, replies evaluated at depth >= 1 (i.e. in a depth >= 2 search) are
filtered the same way from their 0-ply values, while a depth-1 search takes every reply's 0-ply
value, which one forward pass gives anyway. Measured (scripts/bench_search.py, an untrained
256-256 "extended" net, one thread): 0 ply about 1 ms per decision, 1 ply about 20 ms (some 3,000
positions evaluated), 2 plies about 7 s (some 550,000); 3 plies would take many minutes.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..rules import cube
from ..rules.board import as_board, swap_sides
from ..rules.legal import Play, legal_plays, legal_results_batch
from ..rules.scoring import points_won_batch
from .bots import Bot

ROLLS = np.array([(d1, d2) for d1 in range(1, 7) for d2 in range(1, d1 + 1)], dtype=np.int64)
"""The 21 distinct rolls (d1 >= d2)."""
ROLL_PROBS = np.where(ROLLS[:, 0] == ROLLS[:, 1], 1.0 / 36.0, 2.0 / 36.0)
"""Their probabilities (sum to 1)."""

MAX_DEPTH = 3
SCORE_CHUNK = 65536  # results per forward pass
EXPAND_CHUNK = 256  # results expanded together (x 21 rolls x ~20 replies each)

NO_OUTCOME_HEADS = ("searching needs a model with outcome heads: values of positions after different rolls "
                    "must be on one scale (train it with --model outcome)")


def finished_points(results: np.ndarray) -> np.ndarray:
    """Points of each result (M, 2, 25) as :func:`game_result` gives them: 0 while the game goes on,
    +1..3 where ``results[:, 1]`` has borne off all, -1..3 where ``results[:, 0]`` has."""
    out = np.zeros(len(results), np.float64)
    left = results.sum(axis=2, dtype=np.int64)  # (M, 2)
    won = left[:, 1] == 0
    lost = (left[:, 0] == 0) & ~won
    if won.any():
        out[won] = points_won_batch(np.ascontiguousarray(results[won, 0]))
    if lost.any():
        out[lost] = -points_won_batch(np.ascontiguousarray(results[lost, 1]))
    return out


def filter_mask(values: np.ndarray, offsets: np.ndarray, keep: int | None, threshold: float | None) -> np.ndarray:
    """gnubg's move filter on groups of candidates: ``values`` (M,), group i is
    ``values[offsets[i]:offsets[i + 1]]``. Keeps in each group the best ``keep`` (None: no limit) of
    those within ``threshold`` (None: no limit) of the group's best; the best always (ties by
    order). Returns a bool mask (M,)."""
    m = len(values)
    mask = np.ones(m, bool)
    if m == 0 or (keep is None and threshold is None):
        return mask
    counts = np.diff(offsets)
    group = np.repeat(np.arange(len(counts)), counts)
    if threshold is not None:
        starts = offsets[:-1][counts > 0]
        best = np.full(len(counts), -np.inf)
        best[counts > 0] = np.maximum.reduceat(values, starts)
        mask &= values >= best[group] - threshold
    if keep is not None:
        order = np.lexsort((np.arange(m), -values, group))  # by group, best first, ties by order
        rank = np.empty(m, np.int64)
        rank[order] = np.arange(m) - offsets[group[order]]
        mask &= rank < max(1, int(keep))
    return mask


@dataclass(frozen=True)
class MatchScale:
    """Values at a match state, for the root's mover (side 0) and its opponent (side 1): a leaf
    is ``const[side] + probs @ weights[side]``, a finished game ``outcomes[side]`` (win 1, 2, 3,
    lose 1, 2, 3 points)."""

    const: tuple
    weights: tuple
    outcomes: tuple

    @classmethod
    def of(cls, state) -> "MatchScale":
        sides = (state, replace(state, on_roll=1 - state.on_roll, turn=1 - state.on_roll, doubled=False))
        weights = [cube.outcome_weights(st) for st in sides]
        return cls(tuple(c for c, _ in weights), tuple(w for _, w in weights),
                   tuple(cube.outcome_values(st) for st in sides))

    def finished(self, points: np.ndarray, side: int) -> np.ndarray:
        """The value of :func:`finished_points` (0 where the game goes on) for ``side``."""
        n = np.abs(points).astype(np.int64)
        idx = np.where(points > 0, n - 1, n + 2)
        return np.where(points == 0, 0.0, self.outcomes[side][np.clip(idx, 0, 5)])


class SearchAgent(Bot):
    """An outcome-model :class:`~games.backgammon.players.agent.Agent` searching ``depth`` plies.

    ``keep`` / ``threshold``: the move filter at the root and for replies searched deeper (None
    turns a limit off; both None searches everything).
    """

    def __init__(self, agent, depth: int = 1, keep: int | None = 8, threshold: float | None = 0.16):
        depth = int(depth)
        if not 1 <= depth <= MAX_DEPTH:
            raise ValueError(f"search depth must be 1..{MAX_DEPTH}, got {depth}")
        if getattr(getattr(agent, "model", None), "probabilities", None) is None:
            raise ValueError(f"model {getattr(agent, 'name', agent)!r}: {NO_OUTCOME_HEADS}")
        if keep is not None and int(keep) < 1:
            raise ValueError(f"keep must be >= 1 (or None), got {keep}")
        self.agent = agent
        self.depth = depth
        self.keep = None if keep is None else int(keep)
        self.threshold = None if threshold is None else float(threshold)
        self.name = f"{agent.name}:{depth}"

    # ---------------------------------------------------------------------------- values

    def values(self, results, depth: int, side: int = 0, scale: MatchScale | None = None) -> np.ndarray:
        """The mover's value of each result (M, 2, 25) (mover in row 1, opponent to roll) searched
        ``depth`` plies: float64 (M,). ``scale``: values at a match state (None: cubeless money),
        the mover being its ``side``."""
        r = np.ascontiguousarray(results, dtype=np.int8)
        points = finished_points(r)
        out = points if scale is None else scale.finished(points, side)
        live = np.flatnonzero(points == 0)
        if len(live) == 0:
            return out
        if depth <= 0:
            for lo in range(0, len(live), SCORE_CHUNK):
                idx = live[lo:lo + SCORE_CHUNK]
                out[idx] = self._leaf(r[idx], side, scale)
        else:
            for lo in range(0, len(live), EXPAND_CHUNK):
                idx = live[lo:lo + EXPAND_CHUNK]
                out[idx] = self._expect(r[idx], depth, side, scale)
        return out

    def _leaf(self, results: np.ndarray, side: int, scale: MatchScale | None) -> np.ndarray:
        if scale is None:
            return self.agent.score_results(results)
        return scale.const[side] + self.agent.result_probabilities(results) @ scale.weights[side]

    def _expect(self, results: np.ndarray, depth: int, side: int = 0, scale: MatchScale | None = None) -> np.ndarray:
        """Minus the opponent's expected best reply (``depth`` >= 1) for unfinished results."""
        n = len(results)
        boards = np.repeat(swap_sides(results), len(ROLLS), axis=0)  # the opponent on roll, per roll
        dice = np.tile(ROLLS, (n, 1))
        children, offsets = legal_results_batch(boards, dice)
        counts = np.diff(offsets)
        stuck = np.flatnonzero(counts == 0)
        if len(stuck):  # no legal move: the position as it stands is the only "reply"
            children = np.insert(children, offsets[stuck], boards[stuck], axis=0)
            counts[stuck] = 1
            offsets = np.concatenate([[0], np.cumsum(counts)])
        other = 1 - side
        if depth == 1:
            v = self.values(children, 0, other, scale)
        else:
            v0 = self.values(children, 0, other, scale)
            keep = filter_mask(v0, offsets, self.keep, self.threshold)
            v = np.full(len(children), -np.inf)
            v[keep] = self.values(children[keep], depth - 1, other, scale)
        best = np.maximum.reduceat(v, offsets[:-1]).reshape(n, len(ROLLS))
        return -(best @ ROLL_PROBS)

    # ---------------------------------------------------------------------------- ranking

    def _search(self, results: np.ndarray, scale: MatchScale | None = None):
        """(0-ply values, searched mask, values) of one roll's results: values are the searched
        ones where the filter let the play through, the 0-ply ones elsewhere."""
        v0 = self.values(results, 0, 0, scale)
        searched = filter_mask(v0, np.array([0, len(results)]), self.keep, self.threshold)
        v = v0.copy()
        v[searched] = self.values(results[searched], self.depth, 0, scale)
        return v0, searched, v

    def _order(self, results: np.ndarray, state=None) -> tuple[np.ndarray, np.ndarray]:
        """(order best first, values): the searched plays by their searched values, then the rest
        by their 0-ply values; ties keep the move generator's order."""
        _v0, searched, v = self._search(results, None if state is None else MatchScale.of(state))
        order = np.lexsort((np.arange(len(v)), -v, ~searched))
        return order, v

    def rank_keys(self, results: np.ndarray, state=None) -> np.ndarray:
        """Keys (M,) whose descending order is :meth:`rank`'s order of one roll's results: the
        searched plays' values lifted above every 0-ply value, the others' 0-ply values (for
        benchmarks that take one score per candidate)."""
        r = np.ascontiguousarray(results, dtype=np.int8)
        v0, searched, v = self._search(r, None if state is None else MatchScale.of(state))
        lift = np.abs(v0).max() + np.abs(v).max() + 1.0
        return np.where(searched, v + lift, v0)

    def rank(self, board, d1: int, d2: int, state=None) -> list[tuple[Play, float]]:
        """Every distinct legal play with its value, best first ([] when nothing can move): the
        searched plays (the move filter's) by their ``depth``-ply values, then the others by their
        0-ply values. With ``state`` (a MatchState, the mover ``state.on_roll``) the values are
        equities at that score, as :meth:`Agent.rank` gives them at 0 ply."""
        b = as_board(board)
        plays = legal_plays(b, d1, d2)
        if not plays:
            return []
        order, v = self._order(plays.boards, state)
        return [(plays[i], float(v[i])) for i in order]

    def pick(self, board, d1, d2, plays, state=None):
        if len(plays) == 1:
            return plays[0]
        boards = getattr(plays, "boards", None)
        results = boards if boards is not None else np.stack([p.board for p in plays])
        return plays[int(self._order(results, state)[0][0])]

    def choose(self, board, d1, d2, rng=None, state=None):
        b = as_board(board)
        plays = legal_plays(b, d1, d2)
        if not plays:
            return None
        return self.pick(b, d1, d2, plays, state)

    def score_plays(self, board, plays, state=None):
        """Every play's ``depth``-ply value, no filter (exact and slower than :meth:`rank`)."""
        boards = getattr(plays, "boards", None)
        scale = None if state is None else MatchScale.of(state)
        return self.values(boards if boards is not None else np.stack([p.board for p in plays]), self.depth, 0, scale)

    # The cube is decided as the agent decides it, from its 0-ply probabilities.
    has_outcomes = True

    @property
    def cube_analysis(self):
        return self.agent.cube_analysis

    @property
    def cube_action(self):
        return self.agent.cube_action

    # The 0-ply evaluator stays the agent's: how good a position is before rolling.
    def evaluate(self, board):
        return self.agent.evaluate(board)

    def result_probabilities(self, results):
        return self.agent.result_probabilities(results)

    def __repr__(self):
        return (f"SearchAgent({self.agent!r}, depth={self.depth}, keep={self.keep!r}, "
                f"threshold={self.threshold!r})")


__all__ = ["MAX_DEPTH", "MatchScale", "ROLLS", "ROLL_PROBS", "SearchAgent", "filter_mask", "finished_points"]
