"""Compute of the mixture scorers against the dense MLP: matmul FLOPs and time per position.

For the dense MLP scorer on backgammon's flat tokens (T * d -> H -> 1) and every router
(E experts, one pick per token or position where a router picks), sparse and dense paths
(``MoEScorer.sparse``): the matmul FLOPs of one forward pass per position
(torch.utils.flop_counter.FlopCounterMode, which counts matmuls, not gathers, scatters or
elementwise work), the router's share of them, the median time per position of a forward
pass on a batch of real positions (random games), the router's own forward alone, and time
per FLOP. Evaluation mode, no gradient, one thread. Prints a table, writes a JSON file.

    taskset -c 1 python scripts/bench_moe_compute.py [--batch 512 24] [--repeats 30] [--out results/moe-compute.json]

Two batch sizes by default: 512 positions (a training batch's scale) and 24 (about one decision's
candidates, the scale of ranking a play), since the sparse path's cost is mostly per call.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from comparison import models, moe  # noqa: E402
from games.backgammon.learn.tokens import D_TOKEN, N_TOKENS, PHASE_ROUTER, point_tokens  # noqa: E402
from games.backgammon.rules.compiled_games import random_positions  # noqa: E402

# (label, router, options): one pick per token (or per position) where the router picks, else defaults
ROUTER_OPTIONS = [
    ("phase", "phase", dict(PHASE_ROUTER, phase_features=list(PHASE_ROUTER["phase_features"]))),
    ("token_choice", "token_choice", dict(top_k=1)),  # default capacity_factor 1.25: requests over it dropped
    ("token_choice nocap", "token_choice", dict(top_k=1, capacity_factor=None)),  # exactly one expert per token
    ("expert_choice", "expert_choice", dict(capacity_factor=1.0)),
    ("soft", "soft", dict(slots_per_expert=1)),
    ("usmoe", "usmoe", dict(top_k=1.0)),
    ("gate", "gate", dict(top_k=1)),
    ("preference", "preference", {}),
    ("sinkhorn_token_choice", "sinkhorn_token_choice", dict(top_k=1, capacity_factor=None)),
    ("sinkhorn_expert_choice", "sinkhorn_expert_choice", dict(capacity_factor=1.0)),
    ("sparsity_constr_ec", "sparsity_constrained_expert_choice", dict(capacity_factor=1.0)),
]


def matmul_flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(net, x, repeats: int, router=None) -> dict:
    B = len(x)
    with torch.no_grad():
        flops = matmul_flops(lambda: net(x))
        seconds = median_seconds(lambda: net(x), repeats)
        row = dict(flops_per_position=flops / B, us_per_position=seconds / B * 1e6,
                   ns_per_flop=seconds / flops * 1e9)
        if router is not None:
            router_flops = matmul_flops(lambda: router(x))
            router_seconds = median_seconds(lambda: router(x), repeats)
            row.update(router_flops_per_position=router_flops / B, router_us_per_position=router_seconds / B * 1e6,
                       router_time_share=router_seconds / seconds)
    return row


def measure_batch(batch: int, args, T: int, d: int, H: int, E: int) -> list[dict]:
    """The rows of one batch size: the dense MLP, then every router on both paths."""
    x = torch.from_numpy(point_tokens(random_positions(batch, seed=args.seed + 1)[0]))  # (B, T, d)

    torch.manual_seed(args.seed)
    dense = models.build_scorer("mlp", d_in=T * d, hidden=(H,), n_tokens=T, d_token=d).eval()
    base = measure(dense, x, args.repeats)
    rows = [dict(model="dense mlp", path="dense", batch=batch, **base)]
    for label, name, options in ROUTER_OPTIONS:
        torch.manual_seed(args.seed)
        n_experts = len(options["phase_features"]) if name == "phase" else E
        net = moe.build_scorer(name, n_tokens=T, d_token=d, n_experts=n_experts, hidden=(H,), **options).eval()
        net.track_stats = False
        with torch.no_grad():
            routing = net.router(x)
        picks = None
        if routing.picked is not None:  # experts per token (position routers: per position)
            picks = float(routing.picked.sum()) / (B_T if (B_T := routing.picked.shape[:-1].numel()) else 1)
        for sparse in (True, False):
            net.sparse = sparse
            row = measure(net, x, args.repeats, router=net.router)
            row.update(model=f"moe {label}", batch=batch, router=name, path="sparse" if sparse else "dense",
                       n_experts=n_experts, picks=picks, options=options,
                       flops_vs_dense_mlp=row["flops_per_position"] / base["flops_per_position"],
                       scorer_flops_vs_dense_mlp=(row["flops_per_position"] - row["router_flops_per_position"])
                       / base["flops_per_position"],
                       time_vs_dense_mlp=row["us_per_position"] / base["us_per_position"])
            rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, nargs="+", default=[512, 24])
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--experts", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/moe-compute.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    T, d, H, E = N_TOKENS, D_TOKEN, args.hidden, args.experts
    rows = []
    for batch in args.batch:
        rows += measure_batch(batch, args, T, d, H, E)

    head = (f"{'batch':>5} {'model':<26} {'path':<6} {'picks':>5} {'kFLOP/pos':>9} {'x mlp':>6} {'x no rtr':>8} "
            f"{'us/pos':>7} {'x mlp':>6} {'router us':>9} {'rtr share':>9} {'ns/FLOP':>7}")
    print(f"T={T} d={d} H={H} E={E} batches={args.batch} threads={torch.get_num_threads()} torch {torch.__version__}")
    print(head)
    print("-" * len(head))
    for r in rows:
        picks = "" if r.get("picks") is None else f"{r['picks']:.2f}"
        print(f"{r['batch']:>5} {r['model']:<26} {r['path']:<6} {picks:>5} {r['flops_per_position'] / 1e3:>9.1f} "
              f"{r.get('flops_vs_dense_mlp', 1.0):>6.2f} {r.get('scorer_flops_vs_dense_mlp', 1.0):>8.2f} "
              f"{r['us_per_position']:>7.2f} {r.get('time_vs_dense_mlp', 1.0):>6.2f} "
              f"{r.get('router_us_per_position', 0.0):>9.2f} {r.get('router_time_share', 0.0):>9.2f} "
              f"{r['ns_per_flop']:>7.3f}")
    result = dict(
        what="matmul FLOPs (FlopCounterMode) and median forward time per position; eval, no grad",
        command=" ".join([Path(sys.executable).name, *sys.argv]),
        T=T, d=d, hidden=H, n_experts=E, batch=args.batch, repeats=args.repeats, seed=args.seed,
        threads=torch.get_num_threads(), torch=torch.__version__, python=platform.python_version(),
        cpu_affinity=sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        rows=rows,
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
