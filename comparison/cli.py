"""The command line: ``python -m comparison <command> ...``; every command has ``--help``.

Each command lives in the module that does the work, as a pair ``add_arguments(parser)`` and
``run_command(args) -> exit status``; this file only assembles them. Those modules keep their
heavy imports (torch, gnubg-nn) inside ``run_command``, so ``--help`` stays quick.

The framework (comparison/) is game-agnostic; the command line is where a game is plugged in, and
backgammon is the one game so far.
"""
from __future__ import annotations

import argparse
import importlib

from comparison import __version__

# (command path, module, one-line help); the module provides add_arguments(p) and run_command(args)
# ("module:stats" -> add_stats_arguments, run_stats_command)
COMMANDS = (
    (("train",), "comparison.train_command", "train a scorer on expert records"),
    (("play",), "games.backgammon.ui.terminal", "play against a model or bot in the terminal"),
    (("match",), "games.backgammon.commands.match",
     "two players, many games: points per game with a 95%% confidence interval"),
    (("records", "stats"), "games.backgammon.commands.records:stats",
     "games, plays, decisions, players and errors of record files"),
    (("records", "convert"), "games.backgammon.commands.records:convert",
     "convert records between .mat and .sgf"),
    (("records", "generate"), "games.backgammon.play.generate", "write expert records by engine self-play"),
    (("bench", "accuracy"), "games.backgammon.commands.accuracy",
     "a model on records: agreement, top-k, MRR, equity loss, against pubeval and gnubg"),
    (("bench", "speed"), "games.backgammon.commands.speed", "backgammon engine speed against gnubg-nn and OpenSpiel, one core"),
)
GROUPS = {"records": "work with game records: stats, convert, generate",
          "bench": "benchmarks: accuracy, speed"}


def _load(spec: str):
    """'pkg.module' or 'pkg.module:prefix' -> (add_arguments, run)."""
    module, _, prefix = spec.partition(":")
    mod = importlib.import_module(module)
    pre = f"{prefix}_" if prefix else ""
    return getattr(mod, f"add_{pre}arguments"), getattr(mod, f"run_{pre}command")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="comparison", description="Comparison training for games: train, play, benchmark.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    groups = {}
    for path, spec, help_ in COMMANDS:
        parent = sub
        if len(path) == 2:
            if path[0] not in groups:
                g = sub.add_parser(path[0], help=GROUPS[path[0]], description=GROUPS[path[0]].capitalize() + ".")
                groups[path[0]] = g.add_subparsers(dest=f"{path[0]}_command", metavar="ACTION", required=True)
            parent = groups[path[0]]
        cmd = parent.add_parser(path[-1], help=help_, description=help_[0].upper() + help_[1:] + ".")
        add_arguments, run = _load(spec)
        add_arguments(cmd)
        cmd.set_defaults(func=run)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early: not an error of ours
        import os
        import sys

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
