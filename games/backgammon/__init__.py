"""Backgammon: a Numba engine, gnubg Position IDs, notation, records, bots and a Gymnasium env.

Boards are gnubg's (2, 25) int8 layout: ``board[1]`` the player on roll, ``board[0]`` the
opponent, each indexed from its own side (0 = its 1-point, 23 = its 24-point, 24 = its bar).
"""
from .board import (
    as_board,
    borne_off,
    check_dice,
    game_result,
    is_race,
    pip_counts,
    start_board,
    swap_sides,
)
from .encode import pubeval122, tesauro198
from .env import BackgammonEnv  # importing it registers "Backgammon-v0" with Gymnasium
from .ids import board_from_position_id, position_id
from .legal import NotationError, Play, legal_plays, legal_results_batch, parse_play
from .loops import random_games, random_positions
from .notation import format_moves

__all__ = [
    "BackgammonEnv", "NotationError", "Play", "as_board", "board_from_position_id", "borne_off",
    "check_dice", "format_moves", "game_result", "is_race", "legal_plays", "legal_results_batch",
    "parse_play", "pip_counts", "position_id", "pubeval122", "random_games", "random_positions",
    "start_board", "swap_sides", "tesauro198",
]
