"""The command line: ``python -m comparison <command> ...``; every command has ``--help``.

Game code is imported lazily inside the command that needs it, so ``--help`` stays fast and
``comparison`` itself never imports ``games`` at import time.
"""
from __future__ import annotations

import argparse
import json
import sys

from comparison import __version__

BOTS = ("pubeval", "random")


def _not_available(what: str):
    def cmd(args) -> int:
        print(f"not available yet: {what}", file=sys.stderr)
        return 2

    return cmd


def _make_bot(name: str, seed: int):
    from games.backgammon.bots import PubevalBot, RandomBot

    if name == "pubeval":
        return PubevalBot()
    if name == "random":
        return RandomBot(seed)
    raise ValueError(f"unknown bot {name!r}")


def cmd_match(args) -> int:
    from games.backgammon.match import play_match

    # each random bot gets its own stream, derived from the match seed and its side
    a = _make_bot(args.a, [args.seed, 1])
    b = _make_bot(args.b, [args.seed, 2])
    res = play_match(a, b, args.games, seed=args.seed, progress=not args.no_progress)
    if args.json:
        print(json.dumps(res.summary()))
    else:
        print(res.text())
    return 0


def cmd_bench_speed(args) -> int:
    import os

    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    from games.backgammon import speed

    return speed.run_from_args(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="comparison", description="Comparison training for games: train, play, benchmark.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    t = sub.add_parser("train", help="train a scorer on records (not available yet)",
                       description="Train a scorer on expert records (not available yet).")
    t.set_defaults(func=_not_available("train"))

    pl = sub.add_parser("play", help="play against a model or bot in the terminal (not available yet)",
                        description="Play against a model or bot in the terminal (not available yet).")
    pl.set_defaults(func=_not_available("play"))

    r = sub.add_parser("records", help="records: stats, convert, generate (not available yet)",
                       description="Work with game records (not available yet).")
    rsub = r.add_subparsers(dest="records_command", metavar="ACTION", required=True)
    for name, what in (("stats", "statistics of record files"), ("convert", "convert records between formats"),
                       ("generate", "generate records by self-play")):
        rp = rsub.add_parser(name, help=f"{what} (not available yet)", description=f"{what.capitalize()} (not available yet).")
        rp.set_defaults(func=_not_available(f"records {name}"))

    bn = sub.add_parser("bench", help="benchmarks: speed, accuracy", description="Benchmarks.")
    bsub = bn.add_subparsers(dest="bench_command", metavar="BENCH", required=True)
    bs = bsub.add_parser("speed", help="backgammon engine speed against gnubg-nn and OpenSpiel, one core",
                         description="Backgammon move generation, whole games and start-up time against "
                                     "gnubg-nn and OpenSpiel, measured on one core.")
    bs.add_argument("--positions", type=int, default=200_000, help="positions to generate moves for (default 200000)")
    bs.add_argument("--seconds", type=float, default=5.0, help="time budget of each Python-loop measurement (default 5)")
    bs.add_argument("--seed", type=int, default=1, help="seed of the positions and games (default 1)")
    bs.add_argument("--no-peers", action="store_true", help="skip gnubg-nn and OpenSpiel")
    bs.add_argument("--no-startup", action="store_true", help="skip the subprocess start-up measurements")
    bs.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    bs.set_defaults(func=cmd_bench_speed)
    ba = bsub.add_parser("accuracy", help="a model on records: agreement, top-k, equity loss (not available yet)",
                         description="A model on records: agreement, top-k, equity loss (not available yet).")
    ba.set_defaults(func=_not_available("bench accuracy"))

    m = sub.add_parser("match", help="two players, many games: points per game with a 95%% confidence interval",
                       description="Play A against B; every dice sequence is played twice with seats swapped. "
                                   "Prints A's wins, gammons, backgammons and points per game with a 95%% "
                                   "confidence interval.")
    m.add_argument("a", choices=BOTS, help="player A")
    m.add_argument("b", choices=BOTS, help="player B")
    m.add_argument("--games", type=int, default=1000, help="number of games (default 1000)")
    m.add_argument("--seed", type=int, default=0, help="seed of the dice and random players (default 0)")
    m.add_argument("--json", action="store_true", help="print the result as one JSON object")
    m.add_argument("--no-progress", action="store_true", help="no progress bar")
    m.set_defaults(func=cmd_match)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)
