"""Gymnasium environments: one game of backgammon against a fixed opponent bot.

``Backgammon-v0`` observes Tesauro's 198 inputs; ``Backgammon-v1`` adds the raw board and the
dice to the observation (a Dict space), so an agent needs nothing from ``info`` to know its roll.
Both are driven by the one game loop (:mod:`games.backgammon.play.game`). Cubeless: the doubling
cube is not part of these environments.

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

from ..learn.encode import TESAURO198_SIZE, tesauro198_one
from ..play.game import Dice, GameState, new_game, play_turn
from ..players.bots import Bot, PubevalBot
from ..rules.board import swap_sides
from ..rules.ids import position_id
from ..rules.legal import Play
from .drawing import board_text

ENV_ID = "Backgammon-v0"
ENV_V1_ID = "Backgammon-v1"
AGENT, OPPONENT = 0, 1  # seats in the game loop: the agent throws the first die of the opening roll
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
        self._game: GameState | None = None
        self._dice_source: Dice | None = None
        self._plays: list[Play] = []
        self._turns: list = []

    # -------------------------------------------------------------- game flow

    @property
    def _board(self):
        """The position from the agent's view (the agent in row 1)."""
        g = self._game
        return g.board if g.turn == AGENT else swap_sides(g.board)

    @property
    def _result(self) -> int:
        """0 while the game goes on; else the points, signed from the agent's side."""
        g = self._game
        if not g.over:
            return 0
        return g.points if g.winner == AGENT else -g.points

    @property
    def _dice(self):
        return self._game.dice if self._plays else None

    def _opponent_turn(self) -> None:
        """The opponent plays its roll from its own view (it is on roll in the game state)."""
        g = self._game
        play = self.opponent.choose(g.board, *g.dice, rng=self.np_random)
        self._turns.append(("opponent", g.dice, play.notation if play is not None else ""))
        play_turn(g, None if play is None else play.board, self._dice_source)

    def _next_decision(self) -> None:
        """Play on until the agent has a play to choose or the game is over."""
        g = self._game
        self._plays = []
        while not g.over:
            if g.turn == OPPONENT:
                self._opponent_turn()
                continue
            plays = g.legal_plays()
            if plays:
                if len(plays) > MAX_ACTIONS:  # pragma: no cover - never seen in practice
                    raise RuntimeError(f"{len(plays)} legal plays exceed MAX_ACTIONS={MAX_ACTIONS}")
                self._plays = plays
                return
            self._turns.append(("agent", g.dice, ""))
            play_turn(g, None, self._dice_source)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._turns = []
        self._dice_source = Dice(self.np_random)
        self._game = new_game(self._dice_source)
        self._next_decision()
        return self._observation(), self._info()

    def step(self, action):
        if self._game is None:
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
            d = self._game.dice
            raise ValueError(
                f"illegal action {action!r}: this decision ({d[0]}-{d[1]}) has {n} legal "
                f"plays, indices 0..{n - 1} of info['plays'] (see info['action_mask'])"
            )
        self._turns = []
        play_turn(self._game, self._plays[a].board, self._dice_source)
        self._next_decision()
        reward = float(self._result)
        return self._observation(), reward, self._game.over, False, self._info()

    # -------------------------------------------------------------- outputs

    def _observation(self):
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
        if self._game is None:
            return "(no game: call reset())\n"
        if self._result:
            won = self._result > 0
            status = f"Game over: {'you win' if won else 'the opponent wins'} {_RESULT_WORDS[abs(self._result)]} ({self._result:+d})"
        else:
            status = f"X (you) to play {self._dice[0]}-{self._dice[1]}: {len(self._plays)} legal plays"
        return board_text(self._board, status=status, names=("you", self.opponent.name))


class BackgammonEnvV1(BackgammonEnv):
    """``Backgammon-v1``: as v0, with the position and the dice in the observation.

    Observation (a Dict space): ``tesauro198`` (float32 (198,), as v0), ``board`` (int8 (2, 25),
    the agent in row 1, gnubg's layout) and ``dice`` (int64 (2,), the agent's roll to play; (0, 0)
    once the game is over). Actions, rewards and ``info`` are v0's.
    """

    def __init__(self, opponent: Bot | None = None, render_mode: str | None = None):
        super().__init__(opponent, render_mode)
        self.observation_space = spaces.Dict({
            "tesauro198": spaces.Box(0.0, 7.5, shape=(TESAURO198_SIZE,), dtype=np.float32),
            "board": spaces.Box(0, 15, shape=(2, 25), dtype=np.int8),
            "dice": spaces.MultiDiscrete([7, 7]),  # 1..6; 0 when there is no roll to play
        })

    def _observation(self):
        dice = self._dice or (0, 0)
        return {"tesauro198": tesauro198_one(self._board), "board": self._board.copy(),
                "dice": np.array(dice, dtype=np.int64)}


def register() -> None:
    """Register ``Backgammon-v0`` and ``Backgammon-v1`` with Gymnasium (importing games.backgammon does it)."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="games.backgammon.ui.env:BackgammonEnv")
    if ENV_V1_ID not in gym.registry:
        gym.register(id=ENV_V1_ID, entry_point="games.backgammon.ui.env:BackgammonEnvV1")


register()

__all__ = ["BackgammonEnv", "BackgammonEnvV1", "ENV_ID", "ENV_V1_ID", "LegalPlaySpace", "MAX_ACTIONS", "board_text",
           "register"]
