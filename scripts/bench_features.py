#!/usr/bin/env python
"""Speed of the hand-made features (games/backgammon/learn/features.py) on one core.

Run: ``PYTHONPATH=. python scripts/bench_features.py [--positions N] [--repeat R]``. The boards are
the results of every legal play of positions met in random games (what a trainer encodes), and
Tesauro's 198 inputs are timed on the same boards for scale. Prints boards per second (best of
R runs) and how many of the rolls in the shot counts the bit masks settled without the move
generator.
"""
import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # before numba is imported
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import games.backgammon as bg  # noqa: E402
from games.backgammon.learn.encode import tesauro198  # noqa: E402
from games.backgammon.learn.features import N_FEATURES, handmade, hit_rolls  # noqa: E402


def best_rate(fn, boards, repeat: int) -> float:
    fn(boards[:10])  # compile (or load the cache) outside the timing
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn(boards)
        best = min(best, time.perf_counter() - t)
    return len(boards) / best


def run(n_positions: int = 20_000, repeat: int = 3, seed: int = 0, out=print) -> dict:
    positions, dice = bg.random_positions(n_positions, seed=seed)
    boards, _ = bg.legal_results_batch(positions, dice)
    out(f"{len(boards):,} results of {n_positions:,} random positions, {N_FEATURES} features")
    rates = {
        "handmade": best_rate(handmade, boards, repeat),
        "hit_rolls": best_rate(hit_rolls, boards, repeat),
        "tesauro198": best_rate(tesauro198, boards, repeat),
    }
    for name, rate in rates.items():
        out(f"  {name:<11} {rate / 1e6:6.2f} M boards/s")
    _, stats = hit_rolls(boards, return_stats=True)
    share = stats[0] / stats.sum()
    out(f"  shot rolls settled by the masks: {share:.4%} (the rest by the move generator)")
    return {**rates, "boards": len(boards), "masks_share": float(share)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--positions", type=int, default=20_000, help="random positions (default 20000)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs, best kept (default 3)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    run(args.positions, args.repeat, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
