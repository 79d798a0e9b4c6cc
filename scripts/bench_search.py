"""How long a searching model takes per decision: 0-ply and 1-ply ranking (players.search).

    python scripts/bench_search.py [--positions 200] [--hidden 256 256] [--encoding extended]
                                   [--model FILE] [--depth 2 --depth-positions 5]

Ranks the positions of random games (one torch thread) with an untrained outcome model of the
given size (or ``--model``, a file with outcome heads): at 0 ply (the plain agent) and at 1 ply
(gnubg-style filter: the best 8 within 0.16 searched). Prints the median and mean time per
decision and the positions evaluated per decision. ``--depth 2`` adds a 2-ply run on the first
``--depth-positions`` positions (seconds each). An untrained net's equities lie close together, so
the filter lets through about as many plays as it would for a trained one at most (8).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class Counting:
    """Wraps an agent's score_results to count the positions it evaluates."""

    def __init__(self, agent):
        self.agent, self.n = agent, 0
        self._score = agent.score_results
        agent.score_results = self

    def __call__(self, results):
        self.n += len(results)
        return self._score(results)


def timed(bot, boards, dice, counter) -> tuple[list[float], list[int]]:
    times, evals = [], []
    for b, (d1, d2) in zip(boards, dice):
        counter.n = 0
        t = time.perf_counter()
        bot.rank(b, int(d1), int(d2))
        times.append(time.perf_counter() - t)
        evals.append(counter.n)
    return times, evals


def report(label, times, evals):
    print(f"{label}: {len(times)} decisions: median {1e3 * statistics.median(times):.2f} ms, "
          f"mean {1e3 * statistics.mean(times):.2f} ms, max {1e3 * max(times):.1f} ms; "
          f"{statistics.mean(evals):.0f} positions evaluated per decision", flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--positions", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    p.add_argument("--encoding", default="extended")
    p.add_argument("--model", help="an outcome model file instead of an untrained one")
    p.add_argument("--depth", type=int, default=1, help="deepest search to time (1..3)")
    p.add_argument("--depth-positions", type=int, default=5, help="positions for depths above 1")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from comparison import outcomes
    from games.backgammon import random_positions
    from games.backgammon.learn.dataset import feature_shape
    from games.backgammon.players.agent import Agent, load_agent
    from games.backgammon.players.search import SearchAgent

    if args.model:
        agent = load_agent(args.model, threads=1)
    else:
        torch.manual_seed(0)
        d_in = feature_shape(args.encoding)[0]
        agent = Agent(outcomes.build_outcome_scorer(d_in, hidden=tuple(args.hidden)), args.encoding,
                      name=f"untrained {args.encoding} {'-'.join(map(str, args.hidden))}")
    counter = Counting(agent)
    boards, dice = random_positions(args.positions, args.seed)
    print(f"{agent!r}, one torch thread, {len(boards)} positions from random games")
    bots = [("0-ply", agent)] + [(f"{k}-ply", SearchAgent(agent, k)) for k in range(1, args.depth + 1)]
    for label, bot in bots:
        bot.rank(boards[0], int(dice[0, 0]), int(dice[0, 1]))  # compile and warm up
        n = len(boards) if label in ("0-ply", "1-ply") else args.depth_positions
        report(label, *timed(bot, boards[:n], dice[:n], counter))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
