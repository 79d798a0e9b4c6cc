"""``python -m comparison match A B``: two players, many games, points per game with a 95% CI."""
from __future__ import annotations

import json
import sys

from ..players import PLAYER_HELP


def add_arguments(m) -> None:
    m.add_argument("a", metavar="A", help=f"player A: {PLAYER_HELP}")
    m.add_argument("b", metavar="B", help="player B, named as A")
    m.add_argument("--games", type=int, default=1000, help="number of games (default 1000); "
                   "every dice sequence is played twice, seats swapped")
    m.add_argument("--seed", type=int, default=0, help="seed of the dice and random players (default 0)")
    m.add_argument("--workers", type=int, default=None,
                   help="processes to play in (default: one per core, at most one per dice pair); "
                        "the result does not depend on it")
    m.add_argument("--json", action="store_true", help="print the result as one JSON object")
    m.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_command(args) -> int:
    from ..play.match import default_workers, run_match
    from ..players import PlayerError

    for name, value, low in (("--games", args.games, 1), ("--seed", args.seed, 0), ("--workers", args.workers, 1)):
        if value is not None and value < low:
            print(f"match: {name} must be at least {low}, got {value}", file=sys.stderr)
            return 2
    workers = default_workers(args.games) if args.workers is None else min(args.workers, args.games)
    try:
        res, seconds = run_match(args.a, args.b, args.games, seed=args.seed, workers=workers,
                                 progress=not args.no_progress)
    except PlayerError as e:
        print(f"match: {e}", file=sys.stderr)
        return 2
    speed = res.n_games / seconds if seconds > 0 else float("inf")
    if args.json:
        print(json.dumps({**res.summary(), "workers": workers, "seconds": round(seconds, 3),
                          "games_per_s": round(speed, 1)}))
    else:
        print(res.text())
        print(f"  {res.n_games} games in {seconds:.1f} s ({speed:.0f} games/s, {workers} "
              f"worker{'s' if workers != 1 else ''})")
    return 0
