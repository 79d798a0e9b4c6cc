"""Benchmark: dense scorer vs every mixture-of-experts router, and sparse upcycling.

On the date split of expert records (train on the earlier matches, validate on the latest 10%),
with positions encoded as tokens (games.backgammon.learn.tokens, 26 tokens of 12 features):

1. the dense token-reading MLP (312 -> H -> 1) and every router in ``moe.ROUTERS`` at matched
   active compute per position (same H, E experts, top-1), plus a dense MLP with as many
   parameters as the mixture (matched parameters). Reported: validation agreement (top-1),
   equity loss by gnubg 0-ply (when gnubg_nn is importable), training time, ranking time per
   decision (eval forward of one decision's candidates, median), expert load.
2. Upcycling: from the trained dense model, an upcycled mixture vs a mixture from scratch vs
   the dense model trained on, at 25%, 50% and 100% of the dense model's step budget.

    PYTHONPATH=. python scripts/bench_routers.py --train-decisions 30000 --epochs 2 --hidden 64

Writes <out>.json, <out>.md and <out>.png (default results/routers.*); progress on stderr.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_RECORDS = "/work/shared/data/human-records"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--records", nargs="+", default=[DEFAULT_RECORDS], help="record files or folders")
    p.add_argument("--cache", default=None, help="decision cache folder")
    p.add_argument("--train-decisions", type=int, default=30000, help="subsample the training split (0 = all)")
    p.add_argument("--valid-decisions", type=int, default=5000, help="subsample the validation split (0 = all)")
    p.add_argument("--valid-fraction", type=float, default=0.1)
    p.add_argument("--epochs", type=int, default=2, help="epochs of the dense model and of every router")
    p.add_argument("--hidden", type=int, default=64, help="hidden width H (dense and every expert)")
    p.add_argument("--experts", type=int, default=4, help="experts E (the phase router always has 3)")
    p.add_argument("--routers", nargs="+", default=None, help="routers to run (default: all of moe.ROUTERS)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--continue-lr", type=float, default=5e-4,
                   help="constant learning rate of the upcycling arms (upcycled, continued dense, scratch uses --lr)")
    p.add_argument("--upcycle-router", default="best",
                   help="router of the upcycling study ('best' = the best learned router of part 1)")
    p.add_argument("--timing-decisions", type=int, default=300, help="decisions timed for the ranking time")
    p.add_argument("--gnubg", choices=("auto", "yes", "no"), default="auto", help="equity loss by gnubg 0-ply")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="results/routers", help="output prefix (.json, .md, .png)")
    return p.parse_args(argv)


# ------------------------------------------------------------------------------ data


def load_split(args):
    from comparison.data import split_latest
    from games.backgammon.learn.dataset import build_dataset, chronological_order

    data = build_dataset(args.records, cache_dir=args.cache, workers=2, progress=True)
    train, valid = split_latest(data, chronological_order(data), data.meta["file"], args.valid_fraction)
    rng = np.random.default_rng(args.seed)
    full = (len(train), len(valid))
    if args.train_decisions and len(train) > args.train_decisions:
        train = train.subset(np.sort(rng.choice(len(train), args.train_decisions, replace=False)))
    if args.valid_decisions and len(valid) > args.valid_decisions:
        valid = valid.subset(np.sort(rng.choice(len(valid), args.valid_decisions, replace=False)))
    log(f"date split: {full[0]:,} training / {full[1]:,} validation decisions; "
        f"using {len(train):,} ({train.n_items:,} candidates) / {len(valid):,}")
    return train, valid, full


def gnubg_equities(valid, wanted: str):
    """gnubg 0-ply equity of every validation candidate (M,), or None when unavailable/unwanted."""
    if wanted == "no":
        return None
    try:
        from games.backgammon.players.gnubg import GnubgBot

        bot = GnubgBot(0)
    except Exception as e:  # gnubg_nn is an optional extra
        if wanted == "yes":
            raise
        log(f"gnubg unavailable ({e}); no equity loss")
        return None
    t = time.perf_counter()
    eq = bot.result_equities(valid.items)
    log(f"gnubg 0-ply equities of {len(eq):,} validation candidates in {time.perf_counter() - t:.1f}s")
    return eq


def equity_loss(picked: np.ndarray, valid, equities) -> float:
    """Mean over decisions of (best candidate's equity - picked candidate's equity), gnubg 0-ply."""
    if equities is None:
        return float("nan")
    starts = valid.offsets[:-1]
    best = np.maximum.reduceat(equities, starts)
    return float(np.mean(best - equities[starts + picked]))


# ------------------------------------------------------------------------------ models


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def build(kind: str, args, hidden: int, seed: int):
    import torch

    from comparison import models, moe
    from games.backgammon.learn.dataset import feature_shape

    T, d = feature_shape("tokens")
    torch.manual_seed(seed)
    if kind == "dense":
        return models.build_scorer("mlp", d_in=T * d, hidden=hidden)
    return moe.build_scorer(router=kind, n_tokens=T, d_token=d, hidden=hidden, **router_options(kind, args))


def router_options(kind: str, args) -> dict:
    """n_experts and options of a router: the phase router has one expert per backgammon phase."""
    if kind == "phase":
        from games.backgammon.learn.tokens import PHASE_ROUTER

        return {"n_experts": len(PHASE_ROUTER["phase_features"]), **PHASE_ROUTER}
    return {"n_experts": args.experts}


def make_trainer(model, train, valid, args, max_steps=None, lr=None, schedule="cosine", epochs=None):
    from comparison.train import TrainConfig, Trainer
    from games.backgammon.learn.dataset import get_encoding

    cfg = TrainConfig(epochs=epochs or args.epochs, batch_size=args.batch_size, lr=lr or args.lr,
                      schedule=schedule, patience=10**6, seed=args.seed, device="cpu", max_steps=max_steps,
                      threads=args.threads)
    return Trainer(model, train, valid, get_encoding("tokens"), cfg, progress=False, log=lambda s: log("    " + s))


def ranking_time_us(model, valid, n: int) -> float:
    """Median time (us) of one eval forward over one decision's candidates (features precomputed)."""
    import torch

    from games.backgammon.learn.dataset import get_encoding

    featurize = get_encoding("tokens")
    model.eval()
    track = getattr(model, "track_stats", None)
    if track is not None:
        model.track_stats = False
    times = []
    with torch.no_grad():
        for g in range(min(n, len(valid))):
            x = torch.from_numpy(featurize(valid.items[valid.offsets[g]:valid.offsets[g + 1]]))
            model(x)  # warm
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    if track is not None:
        model.track_stats = track
    model.train()
    return 1e6 * float(np.median(times))


def scored(model, valid):
    """(top-1 agreement, picked index per decision) on the validation set."""
    from comparison.evaluate import picks, rank_metrics, score_set
    from games.backgammon.learn.dataset import get_encoding

    track = getattr(model, "track_stats", None)
    if track is not None:
        model.track_stats = False
    s = score_set(model, valid, get_encoding("tokens"))
    if track is not None:
        model.track_stats = track
    return rank_metrics(s, valid.offsets, valid.chosen)["top1"], picks(s, valid.offsets)


def run_one(name, kind, model, train, valid, equities, args) -> tuple[dict, object]:
    log(f"{name}: {n_params(model):,} parameters")
    trainer = make_trainer(model, train, valid, args)
    trainer.fit()
    top1, picked = scored(model, valid)
    last = trainer.history[-1]
    router = last.get("router") or {}
    row = {
        "name": name, "kind": kind, "params": n_params(model),
        "experts": getattr(model, "n_experts", 1), "hidden": (model.hidden[0] if hasattr(model, "hidden")
                                                              else model.config["hidden"][0]),
        "top1": top1, "equity_loss": equity_loss(picked, valid, equities),
        "train_seconds": trainer.train_seconds, "steps": trainer.steps,
        "rank_us": ranking_time_us(model, valid, args.timing_decisions),
        "load": router.get("load"), "load_entropy": router.get("load_entropy"),
        "dropped": router.get("dropped"), "history": [{k: v for k, v in r.items()} for r in trainer.history],
    }
    log(f"{name}: top-1 {100 * top1:.2f}%  equity loss {row['equity_loss']:.4f}  "
        f"{row['train_seconds']:.0f}s  {row['rank_us']:.0f} us/decision")
    return row, trainer


# ------------------------------------------------------------------------------ upcycling


def staged(model, train, valid, args, budget: int, lr: float, label: str) -> list:
    """Train ``model`` at a constant lr, reporting agreement after 25%, 50%, 100% of ``budget`` steps."""
    out = []
    # no validation inside the trainer (it would run at every stage's cut); scored() below does it
    trainer = make_trainer(model, train, None, args, max_steps=0, lr=lr, schedule="constant", epochs=10**6)
    t0 = time.perf_counter()
    for share in (0.25, 0.5, 1.0):
        trainer.config.max_steps = max(1, round(share * budget))
        trainer.fit()
        top1, _ = scored(model, valid)
        out.append({"share": share, "steps": trainer.steps, "top1": top1, "seconds": time.perf_counter() - t0})
        log(f"  {label} at {int(100 * share)}% ({trainer.steps} steps): top-1 {100 * top1:.2f}%")
    return out


def upcycling_study(dense, dense_top1, budget, router, train, valid, args) -> dict:
    import copy

    from comparison import moe
    from games.backgammon.learn.dataset import feature_shape

    T, d = feature_shape("tokens")
    up = moe.upcycle(copy.deepcopy(dense), router=router, n_tokens=T, d_token=d, **router_options(router, args))
    up_top1_at_0, _ = scored(up, valid)
    log(f"upcycling ({router}, budget {budget} steps): upcycled at step 0 top-1 {100 * up_top1_at_0:.2f}% "
        f"(dense {100 * dense_top1:.2f}%)")
    arms = {
        "upcycled": staged(up, train, valid, args, budget, args.continue_lr, "upcycled"),
        "dense_continued": staged(copy.deepcopy(dense), train, valid, args, budget, args.continue_lr,
                                  "dense continued"),
        "moe_scratch": staged(build(router, args, args.hidden, args.seed + 1), train, valid, args, budget, args.lr,
                              "MoE from scratch"),
    }
    return {"router": router, "budget_steps": budget, "dense_top1": dense_top1, "upcycled_step0_top1": up_top1_at_0,
            "arms": arms}


# ------------------------------------------------------------------------------ reports


def markdown(result: dict) -> str:
    s = result["setup"]
    lines = [
        f"Date split of {s['records']}: {s['train_decisions']:,} training decisions (of {s['train_full']:,}), "
        f"{s['valid_decisions']:,} validation decisions (of {s['valid_full']:,}, the latest matches); "
        f"H={s['hidden']}, E={s['experts']} (phase: 3), k=1, {s['epochs']} epochs, batch {s['batch_size']}, "
        f"Adam lr {s['lr']} cosine, {s['threads']} torch thread(s), CPU.",
        "",
        "| model | params | top-1 agreement | equity loss (gnubg 0-ply) | training s | ranking us/decision | expert load |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in result["models"]:
        load = "/".join(f"{x:.2f}" for x in r["load"]) if r.get("load") else "-"
        eq = "-" if math.isnan(r["equity_loss"]) else f"{r['equity_loss']:.4f}"
        lines.append(f"| {r['name']} | {r['params']:,} | {100 * r['top1']:.2f}% | {eq} | {r['train_seconds']:.1f} | "
                     f"{r['rank_us']:.0f} | {load} |")
    u = result.get("upcycling")
    if u:
        lines += ["", f"Upcycling ({u['router']} router; dense budget {u['budget_steps']} steps, dense top-1 "
                      f"{100 * u['dense_top1']:.2f}%; upcycled at step 0: {100 * u['upcycled_step0_top1']:.2f}%). "
                      f"Steps as a share of the dense budget (upcycled and continued dense: steps after the dense "
                      f"training, at constant lr {s['continue_lr']}; scratch: steps in all, constant lr {s['lr']}):", "",
                  "| arm | 25% | 50% | 100% |", "| --- | ---: | ---: | ---: |"]
        for arm, rows in u["arms"].items():
            lines.append(f"| {arm} | " + " | ".join(f"{100 * r['top1']:.2f}%" for r in rows) + " |")
    t = result["targets"]
    lines += ["", f"Target 1 (best router >= +1 point over dense of equal active compute): "
                  f"{'met' if t['router_met'] else 'missed'} ({t['best_router']} {100 * t['best_router_top1']:.2f}% vs "
                  f"dense {100 * t['dense_top1']:.2f}%, {100 * t['router_gain']:+.2f} points)."]
    if "upcycle_met" in t:
        lines.append(f"Target 2 (upcycled passes dense within 50% of the dense steps): "
                     f"{'met' if t['upcycle_met'] else 'missed'} (upcycled at 50%: {100 * t['upcycled_at_50']:.2f}% "
                     f"vs dense {100 * t['dense_top1']:.2f}%).")
    return "\n".join(lines) + "\n"


def plot(result: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["models"]
    fig, ax = plt.subplots(1, 2, figsize=(12, 4.5))
    names = [r["name"] for r in rows]
    ax[0].barh(names, [100 * r["top1"] for r in rows], color=["tab:gray" if r["kind"] == "dense" else "tab:blue"
                                                              for r in rows])
    lo = min(100 * r["top1"] for r in rows)
    ax[0].set_xlim(max(0, lo - 3), max(100 * r["top1"] for r in rows) + 1)
    ax[0].invert_yaxis()
    ax[0].set(xlabel="validation agreement with the expert (%)", title="dense vs routers")
    u = result.get("upcycling")
    if u:
        for arm, rs in u["arms"].items():
            ax[1].plot([100 * r["share"] for r in rs], [100 * r["top1"] for r in rs], marker="o", label=arm)
        ax[1].axhline(100 * u["dense_top1"], color="k", ls="--", lw=1, label="dense (100% budget)")
        ax[1].set(xlabel="steps after the dense model (scratch: in all), % of the dense budget", ylabel="agreement (%)",
                  title=f"upcycling ({u['router']})")
        ax[1].legend()
    for a in ax:
        a.grid(alpha=0.3)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ------------------------------------------------------------------------------ main


def main(argv=None) -> dict:
    args = parse_args(argv)
    import torch

    from comparison import moe

    torch.set_num_threads(args.threads)
    routers = args.routers or list(moe.ROUTERS)
    for r in routers:
        if r not in moe.ROUTERS:
            raise SystemExit(f"bench_routers: unknown router {r!r}; routers: {', '.join(moe.ROUTERS)}")
    train, valid, full = load_split(args)
    equities = gnubg_equities(valid, args.gnubg)

    rows = []
    dense = build("dense", args, args.hidden, args.seed)
    row, dense_trainer = run_one(f"dense H={args.hidden}", "dense", dense, train, valid, equities, args)
    rows.append(row)
    for r in routers:
        rows.append(run_one(r, "moe", build(r, args, args.hidden, args.seed), train, valid, equities, args)[0])
    # matched parameters: a dense MLP as big as the E-expert mixture (token choice's parameter count)
    target = next((x["params"] for x in rows if x["kind"] == "moe" and x["experts"] == args.experts), None)
    if target is None:
        target = n_params(build("token_choice", args, args.hidden, args.seed))
    d_in = dense.config["d_in"]
    wide = max(1, round((target - 1) / (d_in + 2)))
    rows.append(run_one(f"dense H={wide} (matched params)", "dense", build("dense", args, wide, args.seed),
                        train, valid, equities, args)[0])

    dense_top1 = rows[0]["top1"]
    learned = [x for x in rows if x["kind"] == "moe"]
    best = max(learned, key=lambda x: x["top1"])
    targets = {"dense_top1": dense_top1, "best_router": best["name"], "best_router_top1": best["top1"],
               "router_gain": best["top1"] - dense_top1, "router_met": best["top1"] - dense_top1 >= 0.01}

    upcycling = None
    router = args.upcycle_router
    if router == "best":
        router = best["name"]
    if router != "none":
        upcycling = upcycling_study(dense, dense_top1, dense_trainer.steps, router, train, valid, args)
        up = upcycling["arms"]["upcycled"]
        targets["upcycled_at_50"] = up[1]["top1"]
        targets["upcycle_met"] = any(r["top1"] > dense_top1 for r in up[:2])

    result = {
        "setup": {"records": " ".join(args.records), "train_decisions": len(train), "valid_decisions": len(valid),
                  "train_full": full[0], "valid_full": full[1], "hidden": args.hidden, "experts": args.experts,
                  "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                  "continue_lr": args.continue_lr, "threads": args.threads, "seed": args.seed,
                  "gnubg_equity": equities is not None, "command": "python scripts/bench_routers.py " +
                  " ".join(argv if argv is not None else sys.argv[1:])},
        "models": rows, "upcycling": upcycling, "targets": targets,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{out}.json").write_text(json.dumps(result, indent=1, default=float))
    md = markdown(result)
    Path(f"{out}.md").write_text(md)
    plot(result, f"{out}.png")
    print(md)
    log(f"wrote {out}.json, {out}.md, {out}.png")
    return result


if __name__ == "__main__":
    main()
