"""The command line: ``python -m comparison <command> ...``; every command has ``--help``.

Each command lives in the module that does the work, as a pair ``add_arguments(parser)`` and
``run_command(args) -> exit status``; this file only assembles them. Those modules keep their
heavy imports (torch, gnubg-nn) inside ``run_command``, so ``--help`` stays quick.

``train`` is the framework's own; every other command comes from a game in the registry
(:mod:`comparison.game`: ``Game.commands()``). Games are taken in order, the default game
(:data:`comparison.game.DEFAULT_GAME`) first, then the others by name. A command whose words are
already taken by an earlier game is put under the game's name instead: a second game's ``play``
becomes ``comparison <game> play``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from comparison import __version__
from comparison.game import Command, games_in_command_order

# The framework's own commands; the module provides add_arguments(p) and run_command(args)
# ("module:stats" -> add_stats_arguments, run_stats_command)
COMMANDS = (
    Command(("train",), "comparison.train_command", "train a scorer on expert records"),
)


def _load(spec: str):
    """'pkg.module' or 'pkg.module:prefix' -> (add_arguments, run)."""
    module, _, prefix = spec.partition(":")
    mod = importlib.import_module(module)
    pre = f"{prefix}_" if prefix else ""
    return getattr(mod, f"add_{pre}arguments"), getattr(mod, f"run_{pre}command")


def all_commands() -> list:
    """[(Command, {group words: help}), ...]: the framework's commands, then every game's, each at
    the path it gets on the command line (a clash moves the later game's command under its name)."""
    out = [(c, {}) for c in COMMANDS]
    taken = {c.path for c in COMMANDS}
    for game in games_in_command_order():
        groups = dict(game.command_groups())
        for c in game.commands():
            path = tuple(c.path)
            if _clashes(path, taken):
                path = (game.name, *path)
                groups[game.name] = f"commands of the game {game.name} whose names another game uses"
                if _clashes(path, taken):  # even its name is taken: the command cannot be reached
                    print(f"comparison: warning: game {game.name}: command {' '.join(c.path)!r} left out "
                          f"(its name is taken)", file=sys.stderr)
                    continue
            taken.add(path)
            out.append((Command(path, c.spec, c.help), groups))
    return out


def _clashes(path: tuple, taken: set) -> bool:
    """Whether ``path`` is taken, or is a prefix of a taken one or has one as its prefix (a
    command and a group of the same name cannot coexist)."""
    return any(path[:len(t)] == t or t[:len(path)] == path for t in taken)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="comparison", description="Comparison training for games: train, play, benchmark.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    top = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    subparsers = {(): top}  # group words -> the subparsers of that group
    for cmd, groups in all_commands():
        parent = _group(subparsers, cmd.path[:-1], groups)
        sub = parent.add_parser(cmd.path[-1], help=cmd.help, description=cmd.help[0].upper() + cmd.help[1:] + ".")
        add_arguments, run = _load(cmd.spec)
        add_arguments(sub)
        sub.set_defaults(func=run)
    return p


def _group(subparsers: dict, words: tuple, groups: dict):
    """The subparsers of the group ``words``, made (with its parents) on first use."""
    if words not in subparsers:
        parent = _group(subparsers, words[:-1], groups)
        help_ = groups.get(" ".join(words)) or f"{' '.join(words)} commands"
        g = parent.add_parser(words[-1], help=help_, description=help_[0].upper() + help_[1:] + ".")
        subparsers[words] = g.add_subparsers(dest="_".join(words) + "_command", metavar="ACTION", required=True)
    return subparsers[words]


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early: not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
