"""Matches between two bots: many games, every dice sequence played twice with seats swapped.

Game ``2k`` and game ``2k + 1`` use the same dice (the same opening roll and the same roll at every
ply), with player A in seat 0 in the first and seat 1 in the second, so luck largely cancels
within a pair. Points are single-game points (1 single, 2 gammon, 3 backgammon; no cube), from
A's view. The 95% confidence interval treats each pair as one sample (the two games of a pair
are not independent).

Every game is a function of the match seed and its own index alone: its dice come from the seed
``(seed, pair)``, and a random player draws from a stream of its own, ``(seed, game, side)``. So a
match gives the same points whichever way its games are spread over processes or batches.

Two game loops play the same games: :func:`play_game`, one game at a time (the reference), and
:func:`play_games`, many games in lockstep: at each ply the positions of all games where a bot is
on roll go to its ``choose_batch`` in one call, so a neural agent scores the candidates of all
those games in one forward pass. For deterministic bots both give identical points.
"""
from __future__ import annotations

import inspect
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from .game import Dice, Games, new_game, play_turn

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


def _accepts(method, name: str) -> bool:
    """Whether ``method`` takes a parameter called ``name`` (random bots take an rng)."""
    try:
        return name in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def player_rng(seed: int, game: int, side: int) -> np.random.Generator:
    """The random stream of player A (side 0) or B (side 1) in game ``game`` of the match ``seed``."""
    return np.random.default_rng((seed, game, 1 + side))


def play_game(bot_a, bot_b, a_seat: int, dice_seed, max_plies: int = MAX_PLIES, rngs=None) -> int:
    """One game; points from A's view. ``dice_seed`` fixes the whole dice sequence.

    ``rngs`` (optional): the random streams (A's, B's) handed to the bots' ``choose``.
    """
    dice = Dice(np.random.default_rng(dice_seed))
    state = new_game(dice)
    bots = (bot_a, bot_b) if a_seat == 0 else (bot_b, bot_a)
    seat_rngs = (None, None) if rngs is None else (tuple(rngs) if a_seat == 0 else tuple(rngs)[::-1])
    takes_rng = [_accepts(b.choose, "rng") for b in bots]
    while not state.over and state.plies < max_plies:
        bot, rng = bots[state.turn], seat_rngs[state.turn]
        if takes_rng[state.turn] and rng is not None:
            play = bot.choose(state.board, *state.dice, rng=rng)
        else:
            play = bot.choose(state.board, *state.dice)
        play_turn(state, None if play is None else play.board, dice)
    if not state.over:
        return 0
    return state.points if state.winner == a_seat else -state.points


def _choose_batch(bot, boards, dice, rngs):
    """``bot.choose_batch`` where it has one (with the random streams where it takes them)."""
    batch = getattr(bot, "choose_batch", None)
    if batch is None:  # a duck-typed bot with choose only
        results = boards.copy()
        for i in range(len(boards)):
            play = bot.choose(boards[i], int(dice[i, 0]), int(dice[i, 1]))
            if play is not None:
                results[i] = play.board
        return results
    if rngs is not None and _accepts(batch, "rngs"):
        return batch(boards, dice, rngs=rngs)[0]
    return batch(boards, dice)[0]


def play_games(bot_a, bot_b, games, seed: int = 0, max_plies: int = MAX_PLIES, on_finished=None) -> np.ndarray:
    """Games ``games`` (indices into the match ``seed``) in lockstep; points from A's view.

    Game g has A in seat ``g % 2``, the dice of :func:`play_game` with ``dice_seed=(seed, g // 2)``,
    and the random streams :func:`player_rng` ``(seed, g, side)``. All games advance one ply at a
    time; at each ply every bot gets the positions of all games where it is on roll in one
    ``choose_batch`` call. ``on_finished(k)``, if given, hears of every k games that end (progress).
    """
    games = np.asarray(games, dtype=np.int64).reshape(-1)
    n = len(games)
    points = np.zeros(n, np.int8)
    if n == 0:
        return points
    a_seat = (games % 2).astype(np.int8)
    bots = (bot_a, bot_b)
    # random streams only for bots that take them: (side, game) -> Generator
    wants = [_accepts(getattr(b, "choose_batch", None), "rngs") and _accepts(b.choose, "rng") for b in bots]
    streams = [[player_rng(seed, int(g), side) for g in games] if wants[side] else None for side in (0, 1)]

    lockstep = Games([np.random.default_rng((seed, int(g) // 2)) for g in games])
    for _ in range(max_plies):
        if len(lockstep.active) == 0:
            break
        results = lockstep.boards[lockstep.active].copy()
        a_on_roll = lockstep.turn[lockstep.active] == a_seat[lockstep.active]
        for side, sel in ((0, a_on_roll), (1, ~a_on_roll)):
            idx = lockstep.active[sel]
            if len(idx):
                rngs = None if streams[side] is None else [streams[side][i] for i in idx]
                results[sel] = _choose_batch(bots[side], lockstep.boards[idx], lockstep.dice[idx], rngs)
        done = lockstep.play(results)
        if len(done) and on_finished is not None:
            on_finished(len(done))
    # points from seat 0's view -> A's view; games cut at max_plies stay 0
    points[:] = np.where(a_seat == 0, lockstep.points, -lockstep.points)
    return points


def play_match(bot_a, bot_b, n_games: int, seed: int = 0, progress: bool = True,
               batch: int = 256) -> MatchResult:
    """``n_games`` games of A against B in this process; games 2k and 2k+1 share their dice, seats swapped.

    Games are played ``batch`` at a time in lockstep (:func:`play_games`); the points do not depend
    on ``batch``.
    """
    if n_games < 1:
        raise ValueError(f"n_games must be >= 1, got {n_games}")
    points = np.zeros(n_games, np.int8)
    bar = _progress_bar(n_games, f"{_bot_name(bot_a)} vs {_bot_name(bot_b)}") if progress else None
    for lo in range(0, n_games, batch):
        hi = min(lo + batch, n_games)
        points[lo:hi] = play_games(bot_a, bot_b, np.arange(lo, hi), seed,
                                   on_finished=bar.update if bar is not None else None)
        if bar is not None:
            bar.n = hi  # games cut at MAX_PLIES end without a word
            bar.set_postfix(ppg=f"{points[:hi].mean():+.3f}")
    if bar is not None:
        bar.close()
    seats = (np.arange(n_games) % 2).astype(np.int8)
    return MatchResult(_bot_name(bot_a), _bot_name(bot_b), seed, points, seats)


def _progress_bar(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="game")


# ------------------------------------------------------------------ parallel matches from specs
#
# The games are cut into slices, claimed one at a time through a shared counter by this process and
# by worker processes that build their own players. This process starts playing at once, and the
# workers join in when they have started (a fresh interpreter, torch and all, takes seconds), so a
# short match is not slower for having workers. Every game depends on its index alone, so the
# points do not depend on who played which slice.


def _one_torch_thread():
    """Set torch (if loaded) to one thread, the games being the parallel axis; the old count or None.

    Batches of a few thousand candidates gain nothing from intra-op threads, and on busy cores
    their spinning costs up to 10x.
    """
    import sys

    torch = sys.modules.get("torch")
    if torch is None:
        return None
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    return old


def _worker_main(spec_a, spec_b, seed, slices, counter, results) -> None:
    """A worker process: build the players, then play slices until none is left."""
    try:
        from ..players import make_player

        bots = (make_player(spec_a, [seed, 1]), make_player(spec_b, [seed, 2]))
        _one_torch_thread()
        while True:
            k = _claim(counter)
            if k >= len(slices):
                return
            lo, hi = slices[k]
            results.put((k, play_games(bots[0], bots[1], np.arange(lo, hi), seed)))
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises it
        import traceback

        results.put((-1, f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))


def _claim(counter) -> int:
    with counter.get_lock():
        k = counter.value
        counter.value += 1
    return k


def default_workers(n_games: int) -> int:
    """One worker per core, but no more than there are dice pairs."""
    return max(1, min(os.cpu_count() or 1, (n_games + 1) // 2))


def run_match(spec_a: str, spec_b: str, n_games: int, seed: int = 0, workers: int | None = None,
              progress: bool = True, batch: int = 256) -> tuple[MatchResult, float]:
    """A match between two players named as on the command line (:func:`players.make_player`).

    ``workers`` processes play it (default: one per core): this one and ``workers - 1`` started
    ones, each with its own players, in slices of at most ``batch`` games. The points are the same
    for any ``workers``. torch, when a player uses it, runs one thread per process meanwhile.
    Returns the result and the wall-clock seconds the games took.

    Workers are started with multiprocessing's "spawn": a script that calls this with
    ``workers > 1`` needs the usual ``if __name__ == "__main__":`` guard.
    """
    from ..players import make_player, player_name

    if n_games < 1:
        raise ValueError(f"n_games must be >= 1, got {n_games}")
    workers = default_workers(n_games) if workers is None else max(1, min(int(workers), n_games))
    bot_a = make_player(spec_a, [seed, 1])  # here first: a bad spec fails before any worker starts
    bot_b = make_player(spec_b, [seed, 2])
    name_a, name_b = player_name(bot_a, spec_a), player_name(bot_b, spec_b)
    old_threads = _one_torch_thread()
    start = time.perf_counter()
    try:
        if workers == 1:
            points = play_match(bot_a, bot_b, n_games, seed, progress, batch).points
        else:
            points = _play_parallel(bot_a, bot_b, spec_a, spec_b, n_games, seed, workers, progress, batch,
                                    f"{name_a} vs {name_b}")
    finally:
        if old_threads is not None:
            import torch

            torch.set_num_threads(old_threads)
    seconds = time.perf_counter() - start
    seats = (np.arange(n_games) % 2).astype(np.int8)
    return MatchResult(name_a, name_b, seed, points, seats), seconds


def _play_parallel(bot_a, bot_b, spec_a, spec_b, n_games, seed, workers, progress, batch, desc) -> np.ndarray:
    import multiprocessing as mp
    import queue

    # slices: several per process (balance, progress), whole dice pairs, big enough to batch well
    size = max(2, min(batch, -(-n_games // (4 * workers))))
    size += size % 2
    slices = [(lo, min(lo + size, n_games)) for lo in range(0, n_games, size)]
    points = np.zeros(n_games, np.int8)
    bar = _progress_bar(n_games, desc) if progress else None
    # spawn: fresh interpreters, safe whatever threads torch or Numba run here
    ctx = mp.get_context("spawn")
    counter = ctx.Value("i", 0)
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker_main, args=(spec_a, spec_b, seed, slices, counter, results), daemon=True)
             for _ in range(workers - 1)]
    for p in procs:
        p.start()

    done, total, n_played = 0, 0, 0

    def store(k, pts):
        nonlocal done, total, n_played
        if k < 0:
            raise RuntimeError(f"a match worker failed: {pts}")
        lo, hi = slices[k]
        points[lo:hi] = pts
        done, total, n_played = done + 1, total + int(pts.sum()), n_played + len(pts)
        if bar is not None:
            bar.update(hi - lo)
            bar.set_postfix(ppg=f"{total / n_played:+.3f}")

    try:
        while done < len(slices):
            k = _claim(counter)
            if k < len(slices):  # play a slice here, then collect what the workers finished meanwhile
                lo, hi = slices[k]
                store(k, play_games(bot_a, bot_b, np.arange(lo, hi), seed))
                timeout = 0.0
            else:  # nothing left to claim: wait for the workers' last slices
                timeout = 1.0
            while done < len(slices):
                try:
                    store(*(results.get(timeout=timeout) if timeout else results.get_nowait()))
                except queue.Empty:
                    if timeout and not any(p.is_alive() for p in procs):
                        raise RuntimeError("match workers ended before their games were played") from None
                    break
    finally:
        for p in procs:  # workers still starting up have nothing left to do
            if p.is_alive():
                p.terminate()
            p.join()
        if bar is not None:
            bar.close()
    return points


__all__ = ["MatchResult", "default_workers", "play_game", "play_games", "play_match", "player_rng", "run_match"]
