"""A Gymnasium environment: one game of backgammon against a fixed opponent bot.

Why this shape: a backgammon decision is a choice among the distinct legal results of a roll, and
their number changes every turn (1 to several hundred). The action is therefore an index into the
list of legal plays of the current decision (``info["plays"]``), inside a fixed
``Discrete(MAX_ACTIONS)`` space, with ``info["action_mask"]`` marking the legal indices, as
maskable-action agents expect. Everything between two decisions of the agent (the opponent's
turns, the agent's own turns without a legal play, the dice) happens inside ``step``.

- Observation: Tesauro's 198 inputs (:func:`games.backgammon.learn.encode.tesauro198`) of the
  position from the agent's view (the agent is ``board[1]``, on roll).
- Reward: 0 until the end, then +1/+2/+3 when the agent wins a single game, gammon or
  backgammon, -1/-2/-3 when it loses one. No cube.
- ``reset(seed=...)`` makes the whole game reproducible: the opening roll (one die each, ties
  re-thrown, the higher die moves first with both dice), the dice, and a random opponent's
  choices all come from the env's ``np_random``.
- ``action_space.sample()`` draws a legal action of the current decision (uniformly); pass
  ``mask=`` to sample from another set. Any other index given to ``step`` raises ValueError.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ..rules.board import game_result, pip_counts, start_board, swap_sides
from ..players.bots import Bot, PubevalBot
from ..learn.encode import TESAURO198_SIZE, tesauro198_one
from ..rules.ids import position_id
from ..rules.legal import Play, legal_plays

ENV_ID = "Backgammon-v0"
MAX_ACTIONS = 1024
"""Size of the action space; the busiest positions known have under 1,000 distinct plays."""

_RESULT_WORDS = {1: "a single game", 2: "a gammon", 3: "a backgammon"}


class LegalPlaySpace(spaces.Discrete):
    """``Discrete(n)`` whose ``sample()`` without a mask draws among the current legal actions.

    The env stores the mask of its current decision in :attr:`legal_mask`; a generic agent or
    checker that calls ``action_space.sample()`` then gets a legal action, as it would in an
    environment whose every action is always legal.
    """

    def __init__(self, n: int, seed=None):
        super().__init__(n, seed=seed)
        self.legal_mask: np.ndarray | None = None

    def sample(self, mask=None, probability=None):
        if mask is None and probability is None and self.legal_mask is not None and self.legal_mask.any():
            mask = self.legal_mask
        if probability is None:  # Gymnasium < 1.0 has no ``probability``
            return super().sample(mask=mask)
        return super().sample(mask=mask, probability=probability)


class BackgammonEnv(gym.Env):
    """The agent against ``opponent`` (pubeval by default) for one game; see the module doc.

    ``info`` after ``reset`` and each ``step``: ``plays`` (list of :class:`Play`, the legal plays
    of the agent's roll), ``action_mask`` (int8, MAX_ACTIONS), ``dice`` (the agent's roll, or None
    once the game is over), ``turns`` (what happened since the agent's last decision: a list of
    (who, dice, notation), who "opponent" or "agent", notation "" when no checker could move),
    ``position_id`` (gnubg's, agent on roll), and at the end ``result`` (signed points).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, opponent: Bot | None = None, render_mode: str | None = None):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode {render_mode!r} is not one of {self.metadata['render_modes']} or None")
        if opponent is not None and not isinstance(opponent, Bot):
            raise TypeError(f"opponent must be a games.backgammon.players.bots.Bot, got {type(opponent).__name__}")
        self.opponent = opponent if opponent is not None else PubevalBot()
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 7.5, shape=(TESAURO198_SIZE,), dtype=np.float32)
        self.action_space = LegalPlaySpace(MAX_ACTIONS)
        self._board = None
        self._dice = None
        self._plays: list[Play] = []
        self._turns: list = []
        self._result = 0

    # -------------------------------------------------------------- game flow

    def _roll(self) -> tuple[int, int]:
        d = self.np_random.integers(1, 7, size=2)
        return int(d[0]), int(d[1])

    def _opponent_turn(self, d1: int, d2: int) -> None:
        """The opponent plays d1-d2 from its own view; the board stays in the agent's view."""
        view = swap_sides(self._board)
        play = self.opponent.choose(view, d1, d2, rng=self.np_random)
        self._turns.append(("opponent", (d1, d2), play.notation if play is not None else ""))
        if play is not None:
            self._board = swap_sides(play.board)
        self._result = game_result(self._board)

    def _next_decision(self) -> None:
        """Roll for the agent until it has a play to choose; opponent turns happen in between."""
        while self._result == 0:
            d1, d2 = self._roll()
            plays = legal_plays(self._board, d1, d2)
            if plays:
                if len(plays) > MAX_ACTIONS:  # pragma: no cover - never seen in practice
                    raise RuntimeError(f"{len(plays)} legal plays exceed MAX_ACTIONS={MAX_ACTIONS}")
                self._dice, self._plays = (d1, d2), plays
                return
            self._turns.append(("agent", (d1, d2), ""))
            self._opponent_turn(*self._roll())
        self._dice, self._plays = None, []

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._board = start_board()
        self._turns = []
        self._result = 0
        mine, theirs = self._roll()
        while mine == theirs:
            mine, theirs = self._roll()
        if mine > theirs:
            self._dice = (mine, theirs)
            self._plays = legal_plays(self._board, mine, theirs)
        else:
            self._opponent_turn(theirs, mine)
            self._next_decision()
        return self._observation(), self._info()

    def step(self, action):
        if self._board is None:
            raise RuntimeError("call reset() before step()")
        if not self._plays:
            raise RuntimeError("the game is over; call reset() to start a new one")
        n = len(self._plays)
        try:
            a = int(action)
            ok = a == action and 0 <= a < n
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(
                f"illegal action {action!r}: this decision ({self._dice[0]}-{self._dice[1]}) has {n} legal "
                f"plays, indices 0..{n - 1} of info['plays'] (see info['action_mask'])"
            )
        self._turns = []
        self._board = self._plays[a].board.copy()
        self._result = game_result(self._board)
        if self._result == 0:
            self._opponent_turn(*self._roll())
            self._next_decision()
        if self._result != 0:
            self._dice, self._plays = None, []
        reward = float(self._result)
        return self._observation(), reward, self._result != 0, False, self._info()

    # -------------------------------------------------------------- outputs

    def _observation(self) -> np.ndarray:
        return tesauro198_one(self._board)

    def action_mask(self) -> np.ndarray:
        """int8 (MAX_ACTIONS,): 1 at the indices of the current legal plays."""
        mask = np.zeros(MAX_ACTIONS, dtype=np.int8)
        mask[: len(self._plays)] = 1
        return mask

    def _info(self) -> dict:
        mask = self.action_mask()
        self.action_space.legal_mask = mask.copy()
        info = {
            "plays": list(self._plays),
            "action_mask": mask,
            "dice": self._dice,
            "turns": list(self._turns),
            "position_id": position_id(self._board),
        }
        if self._result != 0:
            info["result"] = self._result
        return info

    def render(self):
        if self.render_mode != "ansi":
            return None
        if self._board is None:
            return "(no game: call reset())\n"
        if self._result:
            won = self._result > 0
            status = f"Game over: {'you win' if won else 'the opponent wins'} {_RESULT_WORDS[abs(self._result)]} ({self._result:+d})"
        else:
            status = f"X (you) to play {self._dice[0]}-{self._dice[1]}: {len(self._plays)} legal plays"
        return board_text(self._board, status=status, names=("you", self.opponent.name))


def board_text(board: np.ndarray, status: str = "", names=("player on roll", "opponent")) -> str:
    """A text drawing of ``board`` from ``board[1]``'s side: X = ``board[1]``, O = ``board[0]``.

    Points 13-24 run along the top, 12-1 along the bottom (X's home board bottom right), the bar
    in the middle (O's checkers on it at the top, X's at the bottom), five checkers drawn per
    point and the count beyond that.
    """
    me, opp = board[1], board[0]

    def cell(point: int, row: int) -> str:
        n_me, n_opp = int(me[point - 1]), int(opp[24 - point])
        n, ch = (n_me, "X") if n_me else (n_opp, "O")
        if row == 4 and n > 5:
            return f"{n:>3}"
        if n > row:
            return f"{ch:>3}"
        return "  ." if row == 0 else "   "

    def bar(n: int, ch: str, row: int) -> str:
        return f"{ch}{n:<2}" if row == 0 and n else "   "

    top, bottom = list(range(13, 25)), list(range(12, 0, -1))
    lines = ["  " + "".join(f"{p:>3}" for p in top[:6]) + "     " + "".join(f"{p:>3}" for p in top[6:])]
    lines.append(" +" + "-" * 18 + "+---+" + "-" * 18 + "+")
    for r in range(5):
        left = "".join(cell(p, r) for p in top[:6])
        right = "".join(cell(p, r) for p in top[6:])
        lines.append(f" |{left}|{bar(int(opp[24]), 'O', r)}|{right}|")
    lines.append(" |" + " " * 18 + "|BAR|" + " " * 18 + "|")
    for r in reversed(range(5)):
        left = "".join(cell(p, r) for p in bottom[:6])
        right = "".join(cell(p, r) for p in bottom[6:])
        lines.append(f" |{left}|{bar(int(me[24]), 'X', r)}|{right}|")
    lines.append(" +" + "-" * 18 + "+---+" + "-" * 18 + "+")
    lines.append("  " + "".join(f"{p:>3}" for p in bottom[:6]) + "     " + "".join(f"{p:>3}" for p in bottom[6:]))
    pips_me, pips_opp = pip_counts(board)
    off_me, off_opp = 15 - int(me.sum()), 15 - int(opp.sum())
    lines.append(f" X {names[0]}: pips {pips_me}, bar {int(me[24])}, borne off {off_me}")
    lines.append(f" O {names[1]}: pips {pips_opp}, bar {int(opp[24])}, borne off {off_opp}")
    if status:
        lines.append(" " + status)
    return "\n".join(lines) + "\n"


def register() -> None:
    """Register ``Backgammon-v0`` with Gymnasium (once; importing games.backgammon does it)."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="games.backgammon.ui.env:BackgammonEnv")


register()

__all__ = ["BackgammonEnv", "ENV_ID", "LegalPlaySpace", "MAX_ACTIONS", "board_text", "register"]
