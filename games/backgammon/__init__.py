"""Backgammon: a Numba engine, gnubg Position IDs, notation, records, bots and a Gymnasium env.

Boards are gnubg's (2, 25) int8 layout: ``board[1]`` the player on roll, ``board[0]`` the
opponent, each indexed from its own side (0 = its 1-point, 23 = its 24-point, 24 = its bar).

The package is layered, each layer importing only those below it::

    rules    board, legal plays (Numba), notation, IDs, scoring, phases      no torch
    records  match files in and out, replay, decisions, analyses             no torch
    learn    encoders, features, tokens, the decision dataset, the protocol
    players  random, pubeval, gnubg, trained agents; one registry of names
    play     the game loop: matches, record generation
    ui       the board drawing, the terminal session, the Gymnasium envs
    commands the command-line entries

``import games.backgammon`` loads rules, records and the env, never torch: the names that need
torch (``load_agent``, ``agents``) load on first use.
"""
from . import records
from .learn.encode import pubeval122, tesauro198
from .rules import ids
from .rules.board import (
    as_board,
    borne_off,
    check_dice,
    game_result,
    is_race,
    pip_counts,
    start_board,
    swap_sides,
)
from .rules.compiled_games import random_games, random_positions
from .rules.ids import board_from_position_id, position_id
from .rules.legal import NotationError, Play, Plays, legal_plays, legal_results_batch, parse_play
from .rules.notation import format_moves
from .ui.env import BackgammonEnv  # importing it registers "Backgammon-v0" with Gymnasium

_LAZY = {"load_agent": ("games.backgammon.players.agent", "load_agent"),
         "Agent": ("games.backgammon.players.agent", "Agent"),
         "agents": ("games.backgammon.agents", None),
         "players": ("games.backgammon.players", None)}


def __getattr__(name):  # PEP 562: torch-side names load when first used
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        mod = importlib.import_module(module)
        return mod if attr is None else getattr(mod, attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Agent", "BackgammonEnv", "NotationError", "Play", "Plays", "as_board", "board_from_position_id", "borne_off",
    "check_dice", "format_moves", "game_result", "ids", "is_race", "legal_plays", "legal_results_batch",
    "load_agent", "parse_play", "pip_counts", "position_id", "pubeval122", "random_games", "random_positions",
    "records", "start_board", "swap_sides", "tesauro198",
]
