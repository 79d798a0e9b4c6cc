"""Compiled game loops: whole games of random legal plays, no Python in the loop.

The compiled twin of the one game loop (:mod:`games.backgammon.play.game`) for speed: the same
opening roll, turns and scoring (``rules.scoring.points_won``), tested equal to it game by game
(tests/test_game_loop.py).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from . import movegen
from .board import start_board
from .scoring import points_won


@njit(cache=True, inline="always")
def _roll():
    return np.random.randint(1, 7), np.random.randint(1, 7)


_START = start_board()  # a global array: Numba compiles it in as a constant


@njit(cache=True)
def _set_start(board):
    """Overwrite ``board`` with the opening position."""
    board[:, :] = _START


@njit(cache=True)
def _random_games(n, seed, max_plies):
    np.random.seed(seed)
    outcomes = np.zeros(n, np.int8)
    plies = np.zeros(n, np.int32)
    out_b, out_m, table, keys, slots, work_board, work = movegen.new_buffers()
    board = np.empty((2, 25), np.int8)
    for g in range(n):
        _set_start(board)
        # opening roll: one die each, ties re-thrown; the higher die moves first
        d1, d2 = _roll()
        while d1 == d2:
            d1, d2 = _roll()
        mover = 0 if d1 > d2 else 1  # player 0 threw d1
        ply = 0
        while ply < max_plies:
            k = movegen.generate(board, d1, d2, out_b, out_m, table, keys, slots, work_board, work)
            ply += 1
            if k > 0:
                # copy the chosen result with the rows swapped: the other side is on roll next
                pick = np.random.randint(0, k)
                left = 0
                for i in range(25):
                    left += out_b[pick, 1, i]
                    board[1, i] = out_b[pick, 0, i]
                    board[0, i] = out_b[pick, 1, i]
                if left == 0:  # the mover (now row 0) has borne off all
                    pts = points_won(board[1])
                    outcomes[g] = pts if mover == 0 else -pts
                    break
            else:
                for i in range(25):
                    t = board[0, i]
                    board[0, i] = board[1, i]
                    board[1, i] = t
            mover = 1 - mover
            d1, d2 = _roll()
        plies[g] = ply
    return outcomes, plies


def random_games(n: int, seed: int = 0, max_plies: int = 10_000, return_plies: bool = False):
    """Play ``n`` whole games of uniformly random legal plays in one compiled loop.

    Returns int8 outcomes from player 0's side: +1/+2/+3 when player 0 won a single game, gammon
    or backgammon, negative when player 1 did (0 only if a game hit ``max_plies``). The same seed
    gives the same games. With ``return_plies`` also the number of half-moves of each game.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    outcomes, plies = _random_games(int(n), int(seed), int(max_plies))
    return (outcomes, plies) if return_plies else outcomes


@njit(cache=True)
def _random_positions(n, seed):
    np.random.seed(seed)
    boards = np.empty((n, 2, 25), np.int8)
    dice = np.empty((n, 2), np.int64)
    out_b, out_m, table, keys, slots, work_board, work = movegen.new_buffers()
    board = np.empty((2, 25), np.int8)
    i = 0
    while i < n:
        _set_start(board)
        while i < n:
            d1, d2 = _roll()
            boards[i] = board
            dice[i, 0] = d1
            dice[i, 1] = d2
            i += 1
            k = movegen.generate(board, d1, d2, out_b, out_m, table, keys, slots, work_board, work)
            if k > 0:
                board[:, :] = out_b[np.random.randint(0, k)]
            left = 0
            for j in range(25):
                left += board[1, j]
            if left == 0:
                break
            for j in range(25):
                t = board[0, j]
                board[0, j] = board[1, j]
                board[1, j] = t
    return boards, dice


def random_positions(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` positions met in random games, each with the roll that was played there.

    Returns boards (n, 2, 25) int8 with the mover in row 1 and dice (n, 2). For tests and
    benchmarks: every phase of the game appears, openings to bear-offs.
    """
    return _random_positions(int(n), int(seed))
