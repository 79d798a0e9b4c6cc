"""``python -m comparison match A B``: two players, many games, points per game with a 95% CI.

``--cube`` plays money games with the doubling cube (players without a cube decision never
double and always take); ``--points N`` plays whole N-point matches (cube, Crawford rule) and
reports the share of matches A wins. ``--cube-for A`` (or B) gives the cube decisions to one side
only: the other never doubles and always takes, so ``match X X --cube --cube-for A`` measures what
X's cube decisions are worth against the same player without them.
"""
from __future__ import annotations

import json
import sys

from ..players import PLAYER_HELP


def add_arguments(m) -> None:
    m.add_argument("a", metavar="A", help=f"player A: {PLAYER_HELP}")
    m.add_argument("b", metavar="B", help="player B, named as A")
    m.add_argument("--games", type=int, default=1000, help="number of games (default 1000), or of matches "
                   "with --points; every dice sequence is played twice, seats swapped")
    m.add_argument("--cube", action="store_true",
                   help="money games with the doubling cube (points per game count the cube)")
    m.add_argument("--jacoby", action="store_true",
                   help="with --cube: the Jacoby rule (gammons count only once the cube was turned)")
    m.add_argument("--points", type=int, default=0, metavar="N",
                   help="play --games whole matches to N points (cube, Crawford rule) and report the "
                        "share of matches A wins")
    m.add_argument("--cube-for", default=None, metavar="A|B|both", type=str,
                   help="with --cube or --points: whose cube decisions count (default both); the other side "
                        "never doubles and always takes")
    m.add_argument("--seed", type=int, default=0, help="seed of the dice and random players (default 0)")
    m.add_argument("--workers", type=int, default=None,
                   help="processes to play in (default: one per core, at most one per dice pair); "
                        "the result does not depend on it")
    m.add_argument("--json", action="store_true", help="print the result as one JSON object")
    m.add_argument("--no-progress", action="store_true", help="no progress bar")


def _check(args) -> str:
    """'' when the numbers make sense; else the message."""
    for name, value, low in (("--games", args.games, 1), ("--seed", args.seed, 0), ("--workers", args.workers, 1),
                             ("--points", args.points, 0)):
        if value is not None and value < low:
            return f"{name} must be at least {low}, got {value}"
    if args.jacoby and (args.points or not args.cube):
        return "--jacoby is a rule of money play with the cube: use it with --cube (and without --points)"
    if args.cube_for is not None:
        if not (args.cube or args.points):
            return "--cube-for chooses whose cube decisions count: use it with --cube or --points"
        if args.cube_for.strip().lower() not in ("a", "b", "both"):
            return f"--cube-for must be A, B or both, got {args.cube_for!r}"
    if args.points and args.points > 2**15 - 1:
        return f"--points must be at most {2**15 - 1}, got {args.points}"
    return ""


def run_command(args) -> int:
    from ..play.match import default_workers, run_match
    from ..players import PlayerError

    problem = _check(args)
    if problem:
        print(f"match: {problem}", file=sys.stderr)
        return 2
    workers = default_workers(args.games) if args.workers is None else min(args.workers, args.games)
    try:
        res, seconds = run_match(args.a, args.b, args.games, seed=args.seed, workers=workers,
                                 progress=not args.no_progress, cube=args.cube, jacoby=args.jacoby,
                                 match_length=args.points, cube_for=args.cube_for or "both")
    except PlayerError as e:
        print(f"match: {e}", file=sys.stderr)
        return 2
    unit = "matches" if args.points else "games"
    n = res.n_matches if args.points else res.n_games
    speed = n / seconds if seconds > 0 else float("inf")
    if args.json:
        print(json.dumps({**res.summary(), "workers": workers, "seconds": round(seconds, 3),
                          f"{unit}_per_s": round(speed, 1)}))
    else:
        print(res.text())
        rate = f"{speed:.1f}" if args.points else f"{speed:.0f}"
        print(f"  {n} {unit} in {seconds:.1f} s ({rate} {unit}/s, {workers} "
              f"worker{'s' if workers != 1 else ''})")
    return 0
