"""``python -m comparison match A B``: two players, many games, points per game with a 95% CI."""
from __future__ import annotations

import json

BOTS = ("pubeval", "random")


def _make_bot(name: str, seed):
    from .bots import PubevalBot, RandomBot

    if name == "pubeval":
        return PubevalBot()
    if name == "random":
        return RandomBot(seed)
    raise ValueError(f"unknown bot {name!r}")


def add_arguments(m) -> None:
    m.add_argument("a", choices=BOTS, help="player A")
    m.add_argument("b", choices=BOTS, help="player B")
    m.add_argument("--games", type=int, default=1000, help="number of games (default 1000)")
    m.add_argument("--seed", type=int, default=0, help="seed of the dice and random players (default 0)")
    m.add_argument("--json", action="store_true", help="print the result as one JSON object")
    m.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_command(args) -> int:
    from .match import play_match

    # each random bot gets its own stream, derived from the match seed and its side
    a = _make_bot(args.a, [args.seed, 1])
    b = _make_bot(args.b, [args.seed, 2])
    res = play_match(a, b, args.games, seed=args.seed, progress=not args.no_progress)
    print(json.dumps(res.summary()) if args.json else res.text())
    return 0
