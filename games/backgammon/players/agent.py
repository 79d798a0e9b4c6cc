"""Trained scorers as backgammon players.

    from games.backgammon.players.agent import load_agent
    agent = load_agent()             # the default model shipped in the package
    agent = load_agent("model.pt")   # a file written by `python -m comparison train`
    agent.rank(board, 3, 1)          # [(Play, score), ...] best first
    agent.choose(board, 3, 1)        # the Play it makes
    agent.rank(board, 3, 1, state)   # scored by the equity at the match score (outcome models)
    agent.cube_action(board, state)  # "double" / "no double" / "take" / "pass" (outcome models)

An agent scores each distinct legal result with the model's V (encoding named in the file), so
ranking is consistent; ``choose_batch`` plays many positions with one forward pass (matches).

With an outcome model (``comparison.outcomes``: a model with ``probabilities``) the agent also
knows how good a position is (:meth:`Agent.evaluate`), plays for the match score when given a
:class:`~games.backgammon.rules.ids.MatchState` (:func:`games.backgammon.rules.cube.equity_at_score`)
and decides the cube by Janowski's cubeful equities (:mod:`games.backgammon.rules.cube`). A plain
comparison scorer orders plays only: it has no ``cube_action`` / ``cube_analysis`` (the game loop
then never doubles for it and always takes), and a match state does not change its ranking.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from comparison import checkpoint

from ..rules import cube
from ..rules.board import as_board, swap_sides
from ..rules.ids import MatchState
from ..rules.scoring import cubeless_equity
from .bots import Bot, result_boards
from ..learn.dataset import get_encoding
from ..rules.legal import legal_plays, legal_results_batch

DEFAULT_MODEL = "default-model.pt"


def default_model_path() -> Path:
    """Where the packaged default model lives."""
    return Path(str(resources.files("games.backgammon").joinpath("data", DEFAULT_MODEL)))


@dataclass(frozen=True)
class Evaluation:
    """Cubeless outcome probabilities of the player on roll, before rolling (gnubg's convention:
    gammon figures include backgammons), and the equity they give."""

    win: float
    win_gammon: float
    win_backgammon: float
    lose_gammon: float
    lose_backgammon: float
    equity: float


class Agent(Bot):
    """A trained scorer playing backgammon: the highest V among the legal results.

    With an outcome model (``comparison.outcomes``) V is the mover's cubeless equity after the
    play, and :meth:`evaluate` says how good a position is.
    """

    def __init__(self, model: torch.nn.Module, encoding: str, name: str = "model", meta: dict | None = None):
        self.model = model.eval()
        self.encoding = encoding
        self.featurize = get_encoding(encoding)
        self.name = name
        self.meta = dict(meta or {})

    @torch.inference_mode()
    def score_results(self, results: np.ndarray) -> np.ndarray:
        """V of each result (M, 2, 25) (mover in row 1): float32 (M,)."""
        if len(results) == 0:
            return np.zeros(0, np.float32)
        x = torch.from_numpy(np.ascontiguousarray(self.featurize(results), dtype=np.float32))
        equity = getattr(self.model, "equity", None)  # an outcome model: its calibrated V, same order
        return (equity(x) if equity is not None else self.model(x)).numpy()

    @torch.inference_mode()
    def result_probabilities(self, results: np.ndarray):
        """Outcome probabilities (M, 5) of the mover after each result (M, 2, 25) (win, win gammon,
        win backgammon, lose gammon, lose backgammon), or None for a model without outcome heads."""
        probabilities = getattr(self.model, "probabilities", None)
        if probabilities is None:
            return None
        x = torch.from_numpy(np.ascontiguousarray(self.featurize(results), dtype=np.float32))
        return probabilities(x).numpy().astype(np.float64)

    def evaluate(self, board) -> Evaluation:
        """How good ``board`` is for the player on roll (``board[1]``), before rolling.

        The net scores positions right after a play, for the side that played: the position with
        the sides swapped is the opponent's just-played one, so the player on roll's chances are
        its mirror (win = 1 - the opponent's win, gammons swap sides, equity negated).
        """
        probs = self.result_probabilities(swap_sides(as_board(board))[None])
        if probs is None:
            raise ValueError(f"model {self.name!r} has no outcome heads (train it with --model outcome): "
                             "its scores order plays but do not say how good a position is")
        w, wg, wbg, lg, lbg = probs[0]  # the opponent's view
        mine = (1.0 - w, lg, lbg, wg, wbg)
        return Evaluation(*(float(v) for v in mine), equity=cubeless_equity(mine))

    @property
    def has_outcomes(self) -> bool:
        """The model has outcome heads: it gives probabilities, so equities and cube decisions."""
        return getattr(self.model, "probabilities", None) is not None

    def score_plays(self, board, plays, state: MatchState | None = None):
        """V of each play's result; with ``state`` and an outcome model, the mover's cubeless
        equity at that match score and cube (EMG, :func:`~games.backgammon.rules.cube.equity_at_score`)
        instead of the money equity. A plain scorer's V does not depend on ``state``."""
        results = result_boards(plays)
        if state is None or not self.has_outcomes:
            return self.score_results(results)
        return cube.equity_at_score(self.result_probabilities(results), state)

    def rank(self, board, d1: int, d2: int, state: MatchState | None = None):
        """Every distinct legal play with its score, best first ([] when nothing can move).

        Without ``state`` the scores are V (for an outcome model the mover's cubeless money
        equity after the play). With a match state (the mover is ``state.on_roll``) an outcome
        model scores by the equity of the outcomes at that score and cube (gammons worth
        nothing at double match point, and so on).
        """
        if state is None:
            return super().rank(board, d1, d2)
        b = as_board(board)
        plays = legal_plays(b, d1, d2)
        if not plays:
            return []
        scores = np.asarray(self.score_plays(b, plays, state))
        order = np.argsort(-scores, kind="stable")
        return [(plays[i], float(scores[i])) for i in order]

    def choose(self, board, d1, d2, rng=None, state: MatchState | None = None):
        """The play it makes (the first best score of :meth:`rank`), None when nothing can move."""
        b = as_board(board)
        plays = legal_plays(b, d1, d2)
        if len(plays) <= 1:
            return plays[0] if plays else None
        return plays[int(np.argmax(self.score_plays(b, plays, state)))]

    def pick(self, board, d1, d2, plays, state: MatchState | None = None):
        """The play among ``plays`` (the legal plays, not empty) that :meth:`choose` would make."""
        return plays[int(np.argmax(self.score_plays(board, plays, state)))]

    # ---------------------------------------------------------------- the cube

    def _no_cube_reason(self) -> str:
        return (f"model {self.name!r} has no outcome heads (train it with --model outcome): its scores order "
                "plays but give no probabilities, so it cannot judge the cube")

    @property
    def cube_analysis(self):
        """``cube_analysis(board, state, efficiency=None)`` -> :class:`~games.backgammon.rules.cube.CubeAnalysis`.

        ``board`` is as the Position ID gives it (the player on roll, the doubler, in
        ``board[1]``); ``state`` the match state (gnubg's absolute players; ``state.on_roll`` is
        board[1]). The cubeless probabilities are :meth:`evaluate`'s; the efficiency comes from
        the board's phase unless given. The analysis is the decider's view: the player on roll's,
        or the taker's (``state.turn``) while a double is offered.

        Only an outcome model has it: for a plain comparison scorer this attribute raises
        AttributeError saying why (so ``getattr(agent, "cube_analysis", None)`` is None).
        """
        if not self.has_outcomes:
            raise AttributeError(self._no_cube_reason())
        return self._cube_analysis

    @property
    def cube_action(self):
        """``cube_action(board, state)`` -> "double" / "no double" for the player on roll (before
        rolling; a redouble is "double", too good to double is "no double"), or "take" / "pass"
        for the taker while a double is offered (``state.doubled``; the taker is ``state.turn``).
        ``board`` and ``state`` as in :attr:`cube_analysis`.

        Only an outcome model has it (a plain scorer raises AttributeError saying why, and the
        game loop then treats the agent as a player that never doubles and always takes).
        """
        if not self.has_outcomes:
            raise AttributeError(self._no_cube_reason())
        return self._cube_action

    def _cube_analysis(self, board, state: MatchState, efficiency=None) -> cube.CubeAnalysis:
        b = as_board(board)
        ev = self.evaluate(b)
        probs = (ev.win, ev.win_gammon, ev.win_backgammon, ev.lose_gammon, ev.lose_backgammon)
        return cube.cube_analysis(probs, state, board=b, efficiency=efficiency)

    def _cube_action(self, board, state: MatchState) -> str:
        return self._cube_analysis(board, state).action()

    def choose_batch(self, boards, dice, states=None) -> tuple[np.ndarray, np.ndarray]:
        """The play on many positions at once: (results (N, 2, 25) int8, n_plays (N,)); where no
        checker can move the result is the board itself and n_plays 0. Ties: the first best.

        ``states`` (one MatchState per position, or None): an outcome model then scores each
        position's plays at its match score, as :meth:`choose` with ``state`` does, all the
        positions' results still in one forward pass."""
        b = np.ascontiguousarray(boards, dtype=np.int8)
        results, offsets = legal_results_batch(b, dice)
        counts = np.diff(offsets)
        if states is None or not self.has_outcomes:
            scores = self.score_results(results)
        else:
            probs = self.result_probabilities(results)                     # (M, 5)
            scores = np.zeros(len(results))
            for i in np.flatnonzero(counts):
                lo, hi = offsets[i], offsets[i + 1]
                scores[lo:hi] = cube.equity_at_score(probs[lo:hi], states[i])
        chosen = b.copy()
        for i in np.flatnonzero(counts):
            lo, hi = offsets[i], offsets[i + 1]
            chosen[i] = results[lo + int(np.argmax(scores[lo:hi]))]
        return chosen, counts

    def __repr__(self):
        return f"Agent({self.name!r}, encoding={self.encoding!r})"


def load_agent(path=None, threads: int | None = None) -> Agent:
    """An Agent from a model file (``None``: the default model shipped in the package).

    The file is read without running code from it (comparison.checkpoint); a file that is not a
    backgammon model raises CheckpointError naming the file and the reason.
    """
    if threads:
        torch.set_num_threads(threads)
    p = default_model_path() if path is None else Path(path)
    if path is None and not p.exists():
        raise checkpoint.CheckpointError(f"{p}: the default model is missing from this installation")
    ck = checkpoint.load(p)
    game = ck.meta.get("game", "backgammon")
    if game != "backgammon":
        raise checkpoint.CheckpointError(f"{p}: a model for {game!r}, not backgammon")
    encoding = ck.meta.get("encoding")
    if not encoding:
        raise checkpoint.CheckpointError(f"{p}: field meta.encoding missing (which inputs the model expects)")
    try:
        get_encoding(encoding)
    except ValueError as e:
        raise checkpoint.CheckpointError(f"{p}: {e}") from None
    return Agent(ck.model, encoding, name="default" if path is None else p.stem, meta=ck.meta)


__all__ = ["Agent", "Evaluation", "default_model_path", "load_agent"]
