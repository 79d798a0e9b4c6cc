"""Matches between two bots: many games, every dice sequence played twice with seats swapped.

Game ``2k`` and game ``2k + 1`` use the same dice (the same opening roll and the same roll at every
ply), with player A in seat 0 in the first and seat 1 in the second, so luck largely cancels
within a pair. Points are single-game points (1 single, 2 gammon, 3 backgammon; no cube), from
A's view. The 95% confidence interval treats each pair as one sample (the two games of a pair
are not independent).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .board import game_result, start_board, swap_sides

MAX_PLIES = 10_000


@dataclass
class MatchResult:
    """Per-game points from A's view (``points[i]`` in -3..3; 0 only for a game cut at MAX_PLIES)."""

    name_a: str
    name_b: str
    seed: int
    points: np.ndarray = field(repr=False)
    a_seat: np.ndarray = field(repr=False)  # A's seat in each game: 0 (throws the first die) or 1

    @property
    def n_games(self) -> int:
        return len(self.points)

    @property
    def wins(self) -> int:
        return int((self.points > 0).sum())

    @property
    def losses(self) -> int:
        return int((self.points < 0).sum())

    @property
    def gammons(self) -> int:
        """A's wins of exactly a gammon (backgammons counted apart)."""
        return int((self.points == 2).sum())

    @property
    def backgammons(self) -> int:
        return int((self.points == 3).sum())

    @property
    def gammons_lost(self) -> int:
        return int((self.points == -2).sum())

    @property
    def backgammons_lost(self) -> int:
        return int((self.points == -3).sum())

    @property
    def ppg(self) -> float:
        """A's mean points per game."""
        return float(self.points.mean()) if self.n_games else float("nan")

    def _units(self) -> np.ndarray:
        """Per-pair mean points (a last unpaired game is its own unit)."""
        n = self.n_games
        pairs = self.points[: n - n % 2].reshape(-1, 2).mean(axis=1)
        return np.concatenate([pairs, self.points[n - n % 2 :].astype(float)])

    @property
    def stderr(self) -> float:
        u = self._units()
        return float(u.std(ddof=1) / math.sqrt(len(u))) if len(u) > 1 else float("nan")

    @property
    def ci95(self) -> tuple[float, float]:
        """95% confidence interval of :attr:`ppg` (normal approximation over dice pairs)."""
        h = 1.96 * self.stderr
        return self.ppg - h, self.ppg + h

    def summary(self) -> dict:
        lo, hi = self.ci95
        return {
            "a": self.name_a, "b": self.name_b, "seed": self.seed, "games": self.n_games,
            "wins": self.wins, "losses": self.losses, "gammons": self.gammons,
            "backgammons": self.backgammons, "gammons_lost": self.gammons_lost,
            "backgammons_lost": self.backgammons_lost, "ppg": self.ppg, "ci95": [lo, hi],
        }

    def text(self) -> str:
        lo, hi = self.ci95
        return (
            f"{self.name_a} vs {self.name_b}: {self.n_games} games (seed {self.seed}, dice pairs with seats swapped)\n"
            f"  {self.name_a}: {self.wins} wins ({self.gammons} gammons, {self.backgammons} backgammons), "
            f"{self.losses} losses ({self.gammons_lost} gammons, {self.backgammons_lost} backgammons)\n"
            f"  points per game for {self.name_a}: {self.ppg:+.3f}  95% CI [{lo:+.3f}, {hi:+.3f}]"
        )


def _bot_name(bot) -> str:
    return getattr(bot, "name", type(bot).__name__)


def play_game(bot_a, bot_b, a_seat: int, dice_seed, max_plies: int = MAX_PLIES) -> int:
    """One game; points from A's view. ``dice_seed`` fixes the whole dice sequence."""
    rng = np.random.default_rng(dice_seed)
    d0, d1 = 0, 0
    while d0 == d1:  # opening roll: one die each, ties re-thrown; seat 0 throws the first
        d0, d1 = (int(x) for x in rng.integers(1, 7, size=2))
    mover = 0 if d0 > d1 else 1
    bots = (bot_a, bot_b) if a_seat == 0 else (bot_b, bot_a)
    board = start_board()  # the mover's view: the mover in board[1]
    for _ in range(max_plies):
        play = bots[mover].choose(board, d0, d1)
        if play is not None:
            board = play.board
            pts = game_result(board)
            if pts:  # pts > 0: the mover has borne off all
                return pts if mover == a_seat else -pts
        board = swap_sides(board)
        mover = 1 - mover
        d0, d1 = (int(x) for x in rng.integers(1, 7, size=2))
    return 0


def play_match(bot_a, bot_b, n_games: int, seed: int = 0, progress: bool = True) -> MatchResult:
    """``n_games`` games of A against B; games 2k and 2k+1 share their dice, seats swapped."""
    if n_games < 1:
        raise ValueError(f"n_games must be >= 1, got {n_games}")
    points = np.zeros(n_games, np.int8)
    seats = np.zeros(n_games, np.int8)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_games, desc=f"{_bot_name(bot_a)} vs {_bot_name(bot_b)}", unit="game")
    for g in range(n_games):
        seats[g] = g % 2
        points[g] = play_game(bot_a, bot_b, g % 2, (seed, g // 2))
        if bar is not None:
            bar.update(1)
            if g % 50 == 49:
                bar.set_postfix(ppg=f"{points[: g + 1].mean():+.3f}")
    if bar is not None:
        bar.close()
    return MatchResult(_bot_name(bot_a), _bot_name(bot_b), seed, points, seats)


__all__ = ["MatchResult", "play_game", "play_match"]
