"""GNU Backgammon (through the optional gnubg-nn module) as a player and judge.

gnubg-nn is GPL and an optional extra (``pip install comparison-games[test]``): this module is
imported only when a command asks for gnubg (``match A gnubg``, ``records generate --engine gnubg``,
``bench accuracy``), never by the rest of the package.

Scores are cubeless money equities of the result, from the mover's side: gnubg evaluates the
position after the play with the opponent on roll, at ``plies`` (0 = its neural nets alone), and
the mover's equity is minus the opponent's. That is how gnubg itself ranks plays.
"""
from __future__ import annotations

import numpy as np

from ..rules.board import as_board, game_result, swap_sides
from ..rules.scoring import cubeless_equity
from .bots import Bot, result_boards
from ..rules.legal import legal_plays


def import_gnubg():
    """The gnubg_nn module, or an ImportError that says how to install it."""
    try:
        import gnubg_nn
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("gnubg players need the optional gnubg-nn module (GPL): "
                          "pip install gnubg-nn   (or: pip install -e '.[test]')") from e
    return gnubg_nn


class GnubgBot(Bot):
    """gnubg at ``plies`` (0, 1, 2...): ranks every legal result by its cubeless equity."""

    def __init__(self, plies: int = 0):
        self.gnubg = import_gnubg()
        self.plies = int(plies)
        self.name = f"gnubg-{self.plies}ply"

    def result_equities(self, results: np.ndarray) -> np.ndarray:
        """Equity for the mover of each result (M, 2, 25), mover in row 1: float64 (M,)."""
        out = np.empty(len(results))
        for i, r in enumerate(results):
            won = game_result(r)  # the mover has just borne off: the game is over
            if won:
                out[i] = float(won)
                continue
            opp = swap_sides(r)
            out[i] = -cubeless_equity(self.gnubg.probabilities(opp.tolist(), self.plies))
        return out

    def result_probabilities(self, results: np.ndarray) -> np.ndarray:
        """Cubeless outcome probabilities (M, 5) of the mover after each result (M, 2, 25): win,
        win gammon, win backgammon, lose gammon, lose backgammon (gammons include backgammons).
        gnubg evaluates the opponent on roll; the mover's chances are their mirror."""
        out = np.empty((len(results), 5))
        for i, r in enumerate(results):
            won = game_result(r)
            if won:  # the mover has just borne off: a sure win of that many points
                out[i] = (1.0, float(won >= 2), float(won >= 3), 0.0, 0.0)
                continue
            w, wg, wbg, lg, lbg = self.gnubg.probabilities(swap_sides(r).tolist(), self.plies)
            out[i] = (1.0 - w, lg, lbg, wg, wbg)
        return out

    def score_plays(self, board, plays):
        return self.result_equities(result_boards(plays))

    def choose(self, board, d1, d2, rng=None):
        b = as_board(board)
        plays = legal_plays(b, d1, d2)
        if not plays:
            return None
        if len(plays) == 1:
            return plays[0]
        return plays[int(np.argmax(self.score_plays(b, plays)))]

    def best_move(self, board, d1, d2, plays=None):
        """gnubg's own choice (its FindBestMove at ``plies``), as one of ``plays``; much faster
        than :meth:`choose`, which scores every result from Python.

        At 0 ply gnubg takes the best cubeless equity too, so this is :meth:`choose`'s play except
        where two results tie exactly (gnubg breaks ties its own way); at 1 ply and more gnubg's
        move filters prune the candidates first. ``plays`` are the legal plays if already known.
        Returns None when no checker can move.
        """
        if plays is None:
            b = as_board(board)
            plays = legal_plays(b, d1, d2)
        else:  # the caller has checked the board already, generating its plays
            b = np.asarray(board)
        if len(plays) <= 1:  # gnubg's best_move(n >= 1) can crash on a single legal play: never ask
            return plays[0] if plays else None
        _moves, key = self.gnubg.best_move(b.tolist(), int(d1), int(d2), n=self.plies, b=1)
        # the key is the result with the opponent on roll: turn it back to the mover's view
        result = swap_sides(np.asarray(self.gnubg.board_from_position_key(key), dtype=np.int8))
        target = result.tobytes()
        for p in plays:
            if p.board.tobytes() == target:
                return p
        raise RuntimeError(f"gnubg's best move for {d1}{d2} is not among the engine's legal plays: {_moves}")

    def pick(self, board, d1, d2, plays):
        """gnubg's own choice among the legal ``plays`` (:meth:`best_move`)."""
        return self.best_move(board, d1, d2, plays)

    def __repr__(self):
        return f"GnubgBot(plies={self.plies})"


__all__ = ["GnubgBot", "cubeless_equity", "import_gnubg"]
