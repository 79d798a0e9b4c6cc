"""How fast a trained model ranks a decision (all legal plays of one roll) from Python.

    python scripts/bench_agent.py [--model FILE] [--positions 2000]

Prints the median and mean time of ``agent.rank(board, d1, d2)`` over positions from random
games (one torch thread), and the plays per decision.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="model file (default: the packaged default model)")
    p.add_argument("--positions", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)

    from games.backgammon import random_positions
    from games.backgammon.players.agent import load_agent

    agent = load_agent(args.model, threads=1)
    boards, dice = random_positions(args.positions, args.seed)
    agent.rank(boards[0], int(dice[0, 0]), int(dice[0, 1]))  # compile and warm up
    times, plays = [], []
    for b, (d1, d2) in zip(boards, dice):
        t = time.perf_counter()
        ranked = agent.rank(b, int(d1), int(d2))
        times.append(time.perf_counter() - t)
        plays.append(len(ranked))
    print(f"{agent!r}: rank() over {len(times)} positions: median {1e3 * statistics.median(times):.3f} ms, "
          f"mean {1e3 * statistics.mean(times):.3f} ms, max {1e3 * max(times):.2f} ms; "
          f"{statistics.mean(plays):.1f} plays per decision")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
