"""Benchmark: dense scorers vs every mixture-of-experts router, over seeds, and sparse upcycling.

On the three-way date split of expert records, whole matches at a time (train on the earliest
80%, choose each run's epoch on the next 10%, report on the latest 10%, which chooses nothing),
with positions as tokens (games.backgammon.learn.tokens, 26 tokens of 12 features):

1. Dense token-reading MLPs (312 -> H -> 1) at a ladder of widths, among them the mixture's
   width H and the width with the mixture's parameter count, and every router in
   ``moe.ROUTERS`` (E experts of width H, one pick per token or position where a router picks).
   Every model is trained once per seed. Columns: parameters, matmul FLOPs of a forward pass per
   position (torch.utils.flop_counter, on real candidates, the sparse path), median time to rank
   one decision, test agreement with the expert (mean over seeds, 95% t interval), equity lost
   by gnubg 0-ply's judgement, expert load.
2. Comparisons, paired by seed: every router against the dense scorer of its width, of its
   parameter count, and of equal measured inference cost (the widest dense model of the ladder
   whose ranking time is at most the router's); also a bootstrap over test matches of the
   seed-averaged agreement.
3. USMoE without training: each trained token- and expert-choice mixture scored through USMoE's
   unified score over its own router logits (``moe.with_router``), against its own router.
4. Upcycling, per seed: from the trained dense model of width H, the upcycled mixture (router:
   the best on validation), the dense model trained on, and the mixture from scratch, scored on
   the test part after 25%, 50% and 100% of the dense model's steps.

Every (model, seed) run is cached under ``--runs`` (its model, its .last state and a JSON row):
an interrupted benchmark resumes where it stopped, at the exact batch. Processes started with the
same arguments share the runs (a lock file per run; ``--no-report`` trains without writing the
report), and ``--report-only`` reports what is cached, each model over the seeds it has.

    PYTHONPATH=. python scripts/bench_routers.py --seeds 0 1 2 --epochs 5 --patience 2 --upcycle-router expert_choice
    ... the same with --report-only                  # the report from the cache, training nothing

Writes <out>.json, <out>.md and <out>.png (default results/routers.*); progress on stderr.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_RECORDS = "/work/shared/data/human-records"
T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--records", nargs="+", default=[DEFAULT_RECORDS], help="record files or folders")
    p.add_argument("--cache", default=None, help="decision cache folder")
    p.add_argument("--runs", default="runs/bench-routers", help="folder of the cached (model, seed) runs")
    p.add_argument("--train-decisions", type=int, default=0, help="subsample the training part (0 = all)")
    p.add_argument("--eval-decisions", type=int, default=0,
                   help="subsample the validation and test parts to this many decisions each (0 = all; for smoke runs)")
    p.add_argument("--valid-fraction", type=float, default=0.1)
    p.add_argument("--test-fraction", type=float, default=0.1)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="one run of every model per seed")
    p.add_argument("--epochs", type=int, default=6, help="epochs (cosine schedule); the best on validation is kept")
    p.add_argument("--patience", type=int, default=2, help="stop after this many epochs without a better validation")
    p.add_argument("--hidden", type=int, default=64, help="hidden width H of every expert and of the base dense")
    p.add_argument("--widths", type=int, nargs="*", default=[128, 512, 1024],
                   help="more dense widths of the ladder (besides H and the mixture's parameter count)")
    p.add_argument("--experts", type=int, default=4, help="experts E (the phase router always has 3)")
    p.add_argument("--routers", nargs="+", default=None, help="routers to run (default: all of moe.ROUTERS)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--continue-lr", type=float, default=5e-4,
                   help="constant learning rate of the upcycled and continued dense arms (scratch uses --lr)")
    p.add_argument("--upcycle-router", default="best",
                   help="router of the upcycling study ('best' on validation, 'none' to skip)")
    p.add_argument("--timing-decisions", type=int, default=300, help="decisions timed for the ranking time")
    p.add_argument("--flop-decisions", type=int, default=50, help="decisions whose candidates are FLOP-counted")
    p.add_argument("--gnubg", choices=("auto", "yes", "no"), default="auto", help="equity loss by gnubg 0-ply")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--no-report", action="store_true", help="train and cache the runs only")
    p.add_argument("--report-only", action="store_true",
                   help="train nothing: report the runs already cached (each model over the seeds it has)")
    p.add_argument("--out", default="results/routers", help="output prefix (.json, .md, .png)")
    return p.parse_args(argv)


# ------------------------------------------------------------------------------ data


def load_split(args):
    """(train, valid, test, test's match of each decision, the full sizes)."""
    from comparison.data import split_three
    from games.backgammon.learn.dataset import build_dataset, chronological_order

    data = build_dataset(args.records, cache_dir=args.cache, workers=2, progress=True)
    train, valid, test = split_three(data, chronological_order(data), data.meta["file"], args.valid_fraction,
                                     args.test_fraction)
    full = len(train)
    if args.train_decisions and len(train) > args.train_decisions:  # the same subsample for every seed
        rng = np.random.default_rng(12345)
        train = train.subset(np.sort(rng.choice(len(train), args.train_decisions, replace=False)))
    if args.eval_decisions:
        rng = np.random.default_rng(54321)
        valid, test = [part.subset(np.sort(rng.choice(len(part), args.eval_decisions, replace=False)))
                       if len(part) > args.eval_decisions else part for part in (valid, test)]
    log(f"date split: {full:,} training decisions (using {len(train):,}), {len(valid):,} validation, "
        f"{len(test):,} test (the latest matches)")
    return train, valid, test, np.asarray(test.meta["file"]), full


def gnubg_equities(test, wanted: str):
    """gnubg 0-ply equity of every test candidate (M,), or None when unavailable/unwanted."""
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
    eq = bot.result_equities(test.items)
    log(f"gnubg 0-ply equities of {len(eq):,} test candidates in {time.perf_counter() - t:.1f}s")
    return eq


def equity_loss(picked: np.ndarray, data, equities) -> float:
    """Mean over decisions of (best candidate's equity - picked candidate's equity), gnubg 0-ply."""
    if equities is None:
        return float("nan")
    starts = data.offsets[:-1]
    best = np.maximum.reduceat(equities, starts)
    return float(np.mean(best - equities[starts + picked]))


# ------------------------------------------------------------------------------ models


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def router_options(kind: str, args) -> dict:
    """n_experts and options of a router: the phase router has one expert per backgammon phase."""
    if kind == "phase":
        from games.backgammon.learn.tokens import PHASE_ROUTER

        return {"n_experts": len(PHASE_ROUTER["phase_features"]), **PHASE_ROUTER}
    return {"n_experts": args.experts}


def build(kind: str, args, seed: int, width: int | None = None):
    """A fresh model: kind "dense" (width ``width``) or a router name (E experts of width H)."""
    import torch

    from comparison import models, moe
    from games.backgammon.learn.dataset import feature_shape

    T, d = feature_shape("tokens")
    torch.manual_seed(seed)
    if kind == "dense":
        return models.build_scorer("mlp", d_in=T * d, hidden=width or args.hidden)
    return moe.build_scorer(router=kind, n_tokens=T, d_token=d, hidden=args.hidden, **router_options(kind, args))


def matched_width(args) -> int:
    """The dense width with as many parameters as the E-expert token-choice mixture."""
    from games.backgammon.learn.dataset import feature_shape

    T, d = feature_shape("tokens")
    target = n_params(build("token_choice", args, 0))
    return max(1, round((target - 1) / (T * d + 2)))


def model_list(args) -> list[tuple[str, str, int | None]]:
    """(name, kind, width) of every model of part 1: the dense ladder, then the routers."""
    from comparison import moe

    widths = sorted({args.hidden, matched_width(args), *args.widths})
    dense = [(f"dense H={w}", "dense", w) for w in widths]
    return dense + [(r, r, None) for r in (args.routers or list(moe.ROUTERS))]


def faster_training_path(model, train, featurize, args) -> bool:
    """For a mixture: True if a training step is faster on the sparse path than on the dense
    formula (the two compute the same scores and gradients, tested to 1e-5). Measured on this
    machine, best of three steps each; the choice changes speed only."""
    import torch

    from comparison import losses
    from comparison.data import make_batch

    batch = make_batch(train, np.arange(min(args.batch_size, len(train))), featurize)
    loss_fn = losses.get("pairwise")
    best = {}
    for sparse in (True, False):
        model.sparse = sparse
        times = []
        for _ in range(3):
            t = time.perf_counter()
            loss = loss_fn(model(batch.x), batch.group, batch.chosen) + model.aux_loss
            loss.backward()
            times.append(time.perf_counter() - t)
        best[sparse] = min(times)
    model.zero_grad(set_to_none=True)
    model.router_stats()  # forget these steps' routing
    model.sparse = best[True] <= best[False]
    return model.sparse


@contextlib.contextmanager
def untracked(*models):
    """Eval mode with a mixture's routing statistics off (scoring to measure, not to train);
    both restored after."""
    saved = [(m, m.training, getattr(m, "track_stats", None)) for m in models]
    for m, _, track in saved:
        m.eval()
        if track is not None:
            m.track_stats = False
    try:
        yield
    finally:
        for m, training, track in saved:
            m.train(training)
            if track is not None:
                m.track_stats = track


def ranking_times_side_by_side(models: dict, data, n: int, repeats: int = 3) -> dict:
    """Median time (us) to rank one decision (one eval forward over its candidates, features
    precomputed; best of ``repeats`` after a warm-up), for every model of ``models`` (name ->
    model), measured in one pass: decision by decision, each model in turn, so that the machine's
    drift and other load fall on all of them alike. The figure the report compares costs by."""
    import torch

    from games.backgammon.learn.dataset import get_encoding

    featurize = get_encoding("tokens")
    times = {name: [] for name in models}
    with torch.no_grad(), untracked(*models.values()):
        for g in range(min(n, len(data))):
            x = torch.from_numpy(featurize(data.items[data.offsets[g]:data.offsets[g + 1]]))
            for name, m in models.items():
                m(x)  # warm
                best = math.inf
                for _ in range(repeats):
                    t = time.perf_counter()
                    m(x)
                    best = min(best, time.perf_counter() - t)
                times[name].append(best)
    return {name: 1e6 * float(np.median(t)) for name, t in times.items()}


def ranking_time_us(model, data, n: int) -> float:
    """:func:`ranking_times_side_by_side` of one model."""
    return ranking_times_side_by_side({"model": model}, data, n)["model"]


def flops_per_position(model, data, n: int) -> float:
    """Matmul FLOPs of one eval forward per position (torch's FlopCounterMode), on the candidates
    of the first ``n`` decisions."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from games.backgammon.learn.dataset import get_encoding

    x = torch.from_numpy(get_encoding("tokens")(data.items[:data.offsets[min(n, len(data))]]))
    with torch.no_grad(), untracked(model), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() / len(x)


def scored(model, data):
    """(top-1 agreement, picked index per decision, correct per decision) on ``data``."""
    from comparison.evaluate import expert_ranks, picks, score_set
    from games.backgammon.learn.dataset import get_encoding

    with untracked(model):
        s = score_set(model, data, get_encoding("tokens"))
    picked = picks(s, data.offsets)
    # ties count against the model, as in comparison.evaluate
    correct = expert_ranks(s, data.offsets, data.chosen) == 1
    return float(correct.mean()), picked, correct


def make_trainer(model, train, valid, args, seed, out=None, max_steps=None, lr=None, schedule="cosine",
                 epochs=None, patience=None):
    from comparison.train import TrainConfig, Trainer
    from games.backgammon.learn.dataset import get_encoding

    cfg = TrainConfig(epochs=epochs or args.epochs, batch_size=args.batch_size, lr=lr or args.lr,
                      schedule=schedule, patience=patience or args.patience, seed=seed, device="cpu",
                      max_steps=max_steps, threads=args.threads)
    return Trainer(model, train, valid, get_encoding("tokens"), cfg, out=None if out is None else str(out),
                   progress=False, log=lambda s: log("    " + s))


# ------------------------------------------------------------------------------ the cache of runs


def run_dir(args) -> Path:
    """The cache folder of this setup: runs of other setups never mix with these."""
    key = {k: getattr(args, k) for k in ("records", "train_decisions", "valid_fraction", "test_fraction", "epochs",
                                         "patience", "hidden", "experts", "batch_size", "lr", "continue_lr")}
    tag = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    d = Path(args.runs) / tag
    d.mkdir(parents=True, exist_ok=True)
    (d / "setup.json").write_text(json.dumps(key, indent=1))
    return d


def claim(path: Path) -> bool:
    """Take the lock ``path`` for a run (False when a live process holds it): processes started
    with the same arguments share the runs between them. A lock left by a process that died, or
    by one on another machine (a cache folder copied or shared), is taken over."""
    import os
    import socket

    me = f"{socket.gethostname()}:{os.getpid()}"
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        try:
            host, _, pid = path.read_text().rpartition(":")
            if host == socket.gethostname():
                os.kill(int(pid), 0)
                return False  # its holder is alive
        except (ValueError, ProcessLookupError, PermissionError, FileNotFoundError):
            pass
        path.unlink(missing_ok=True)  # a holder that died, or another machine's: take the run over
        return claim(path)
    with os.fdopen(fd, "w") as f:
        f.write(me)
    return True


def write_json(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, default=float))
    tmp.replace(path)


def train_run(cache: Path, name: str, kind: str, width, seed: int, split, equities, args) -> dict | None:
    """One (model, seed) run of part 1, from the cache or trained now (resuming a .last); None
    when another process is training it."""
    stem = cache / f"{name.replace(' ', '_').replace('=', '')}-s{seed}"
    row_path = Path(f"{stem}.json")
    if row_path.exists():
        return json.loads(row_path.read_text())
    if args.report_only:
        return None
    lock = Path(f"{stem}.lock")
    if not claim(lock):
        log(f"{name} seed {seed}: being trained by another process")
        return None
    try:
        return _train_run(stem, name, kind, width, seed, split, equities, args)
    finally:
        lock.unlink(missing_ok=True)


def _train_run(stem: Path, name: str, kind: str, width, seed: int, split, equities, args) -> dict:
    from comparison import checkpoint
    from games.backgammon.learn.dataset import get_encoding

    train, valid, test = split
    model = build(kind, args, seed, width)
    path = "dense"
    if kind != "dense":
        path = "sparse" if faster_training_path(model, train, get_encoding("tokens"), args) else "dense"
    log(f"{name} seed {seed}: {n_params(model):,} parameters, training on the {path} path")
    trainer = make_trainer(model, train, valid, args, seed, out=f"{stem}.pt")
    trainer.resume()
    trainer.fit()
    best = checkpoint.load(f"{stem}.pt").model  # the epoch chosen on validation
    if kind != "dense":
        best.sparse = True  # measured on the sparse path (the dense formula below for comparison)
    top1, picked, correct = scored(best, test)
    valid_top1 = max(r["valid_top1"] for r in trainer.history)
    row = {
        "name": name, "kind": kind, "seed": seed, "params": n_params(best),
        "experts": getattr(best, "n_experts", 1), "width": width or args.hidden,
        "valid_top1": valid_top1, "top1": top1, "equity_loss": equity_loss(picked, test, equities),
        "correct": correct.astype(int).tolist(),
        "train_seconds": trainer.train_seconds, "steps": trainer.steps, "train_path": path,
        "best_epoch": 1 + int(np.argmax([r["valid_top1"] for r in trainer.history])),
        "epochs_run": len(trainer.history),
        "flops": flops_per_position(best, test, args.flop_decisions),
        "rank_us": ranking_time_us(best, test, args.timing_decisions),
    }
    if kind != "dense":
        stats = routing_stats(best, test)
        row.update(load=stats.get("load"), dropped=stats.get("dropped"), routed_mass=stats.get("routed_mass"))
        best.sparse = False
        row["flops_dense_path"] = flops_per_position(best, test, args.flop_decisions)
        row["rank_us_dense_path"] = ranking_time_us(best, test, args.timing_decisions)
    log(f"{name} seed {seed}: test top-1 {100 * top1:.2f}% (valid {100 * valid_top1:.2f}%), equity loss "
        f"{row['equity_loss']:.4f}, {row['flops'] / 1e3:.1f} kFLOP/position, {row['rank_us']:.0f} us/decision, "
        f"{row['train_seconds']:.0f} s training")
    write_json(Path(f"{stem}.json"), row)
    return row


def routing_stats(model, data) -> dict:
    """The routing statistics (expert load, drops) of scoring ``data``."""
    from comparison.evaluate import score_set
    from games.backgammon.learn.dataset import get_encoding

    model.track_stats = True
    model.router_stats()  # reset
    score_set(model, data, get_encoding("tokens"))
    return model.router_stats()


def training_free_usmoe(cache: Path, base: str, seed: int, test, equities, args) -> dict | None:
    """A trained token- or expert-choice mixture scored through USMoE's unified score (no training)."""
    from comparison import checkpoint, moe

    name = f"usmoe training-free (from {base})"
    row_path = cache / f"usmoe_free_from_{base}-s{seed}.json"
    if row_path.exists():
        return json.loads(row_path.read_text())
    model_path = cache / f"{base}-s{seed}.pt"
    if not (cache / f"{base}-s{seed}.json").exists():   # the base run's row: it has finished (its .pt
        return None                                      # exists from its first epoch on)
    trained = checkpoint.load(model_path).model
    free = moe.with_router(trained, "usmoe", top_k=1.0).eval()
    top1, picked, correct = scored(free, test)
    row = {"name": name, "kind": "usmoe_free", "base": base, "seed": seed, "params": n_params(free),
           "top1": top1, "equity_loss": equity_loss(picked, test, equities), "correct": correct.astype(int).tolist(),
           "flops": flops_per_position(free, test, args.flop_decisions),
           "rank_us": ranking_time_us(free, test, args.timing_decisions)}
    log(f"{name} seed {seed}: test top-1 {100 * top1:.2f}%")
    write_json(row_path, row)
    return row


# ------------------------------------------------------------------------------ upcycling


SHARES = (0.25, 0.5, 1.0)
DENSE_PATH = " [dense path]"


def staged(model, train, test, args, seed, budget: int, lr: float, label: str) -> list:
    """Train ``model`` at a constant lr, scoring the test part after 25%, 50%, 100% of ``budget`` steps."""
    out = []
    trainer = make_trainer(model, train, None, args, seed, max_steps=0, lr=lr, schedule="constant", epochs=10**6,
                           patience=10**6)
    t0 = time.perf_counter()
    for share in SHARES:
        trainer.config.max_steps = max(1, round(share * budget))
        trainer.fit()
        top1, _, _ = scored(model, test)
        out.append({"share": share, "steps": trainer.steps, "top1": top1, "seconds": time.perf_counter() - t0})
        log(f"  {label} seed {seed} at {int(100 * share)}% ({trainer.steps} steps): test top-1 {100 * top1:.2f}%")
    return out


def upcycling_run(cache: Path, router: str, seed: int, split, args) -> dict | None:
    """The three arms of the upcycling study for one seed (each arm cached)."""
    from comparison import checkpoint, moe
    from games.backgammon.learn.dataset import feature_shape

    train, _, test = split
    stem = cache / f"dense_H{args.hidden}-s{seed}"
    if not Path(f"{stem}.json").exists():
        return None
    if args.report_only and not all((cache / f"upcycle_{router}_{arm}-s{seed}.json").exists()
                                    for arm in ("upcycled", "dense_continued", "moe_scratch")):
        return None
    dense_row = json.loads(Path(f"{stem}.json").read_text())
    dense = checkpoint.load(f"{stem}.pt").model
    budget = dense_row["steps"]
    T, d = feature_shape("tokens")
    result = {"seed": seed, "router": router, "budget_steps": budget, "dense_top1": dense_row["top1"]}
    up = moe.upcycle(copy.deepcopy(dense), router=router, n_tokens=T, d_token=d, **router_options(router, args))
    result["upcycled_step0_top1"] = scored(up, test)[0]
    arms = {
        "upcycled": lambda: (up, args.continue_lr),
        "dense_continued": lambda: (copy.deepcopy(dense).train(), args.continue_lr),
        "moe_scratch": lambda: (build(router, args, seed + 1000), args.lr),
    }
    result["arms"] = {}
    for arm, make in arms.items():
        path = cache / f"upcycle_{router}_{arm}-s{seed}.json"
        if path.exists():
            result["arms"][arm] = json.loads(path.read_text())
            continue
        if args.report_only:
            return None
        lock = path.with_suffix(".lock")
        if not claim(lock):
            log(f"upcycling {arm} seed {seed}: being trained by another process")
            return None
        try:
            model, lr = make()
            rows = staged(model, train, test, args, seed, budget, lr, arm)
            write_json(path, rows)
        finally:
            lock.unlink(missing_ok=True)
        result["arms"][arm] = rows
    return result


# ------------------------------------------------------------------------------ statistics


def mean_ci(values) -> tuple[float, float]:
    """Mean and the half-width of its 95% t interval (nan with one value)."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return float(v.mean()), float("nan")
    return float(v.mean()), T_975.get(len(v) - 1, 1.96) * float(v.std(ddof=1)) / math.sqrt(len(v))


def paired(a: list[dict], b: list[dict], key: str = "top1") -> dict | None:
    """Mean difference a - b over the seeds both have, with its 95% t interval."""
    sa, sb = {r["seed"]: r[key] for r in a}, {r["seed"]: r[key] for r in b}
    seeds = sorted(set(sa) & set(sb))
    if not seeds:
        return None
    mean, half = mean_ci([sa[s] - sb[s] for s in seeds])
    return {"mean": mean, "ci": half, "seeds": len(seeds)}


def bootstrap_matches(a: list[dict], b: list[dict], unit: np.ndarray, n: int = 2000) -> dict | None:
    """95% bootstrap interval, resampling test matches, of the difference in seed-averaged agreement."""
    seeds = sorted({r["seed"] for r in a} & {r["seed"] for r in b})
    if not seeds:
        return None
    ca = np.mean([next(r for r in a if r["seed"] == s)["correct"] for s in seeds], axis=0)
    cb = np.mean([next(r for r in b if r["seed"] == s)["correct"] for s in seeds], axis=0)
    units, index = np.unique(unit, return_inverse=True)
    diff_sum = np.bincount(index, weights=ca - cb, minlength=len(units))
    count = np.bincount(index, minlength=len(units)).astype(float)
    rng = np.random.default_rng(0)
    draws = rng.integers(0, len(units), size=(n, len(units)))
    means = diff_sum[draws].sum(1) / count[draws].sum(1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {"mean": float((ca - cb).mean()), "lo": float(lo), "hi": float(hi)}


def summarize(runs: list[dict]) -> dict:
    """One line of the table: means over seeds (95% t interval for agreement and equity loss)."""
    top1, top1_ci = mean_ci([r["top1"] for r in runs])
    eq, eq_ci = mean_ci([r["equity_loss"] for r in runs])
    row = {"name": runs[0]["name"], "kind": runs[0]["kind"], "seeds": len(runs), "params": runs[0]["params"],
           "top1": top1, "top1_ci": top1_ci, "equity_loss": eq, "equity_loss_ci": eq_ci,
           "valid_top1": float(np.mean([r.get("valid_top1", np.nan) for r in runs])),
           "flops": float(np.mean([r["flops"] for r in runs])),
           "rank_us_during_training": float(np.median([r["rank_us"] for r in runs])),
           "train_seconds": float(np.mean([r.get("train_seconds", 0.0) for r in runs]))}
    for k in ("flops_dense_path",):
        if k in runs[0]:
            row[k] = float(np.mean([r[k] for r in runs]))
    loads = [r["load"] for r in runs if r.get("load")]
    if loads:
        row["load"] = [float(x) for x in np.mean(loads, axis=0)]
    return row


# ------------------------------------------------------------------------------ reports


def pct(x, ci=None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * x:.2f}%" + ("" if ci is None or math.isnan(ci) else f" ± {100 * ci:.2f}")


def diff(d) -> str:
    if not d:
        return "-"
    if "lo" in d:
        return f"{100 * d['mean']:+.2f} [{100 * d['lo']:+.2f}, {100 * d['hi']:+.2f}]"
    ci = "" if math.isnan(d["ci"]) else f" ± {100 * d['ci']:.2f}"
    return f"{100 * d['mean']:+.2f}{ci}"


def markdown(result: dict) -> str:
    s = result["setup"]
    lines = [
        f"Three-way date split of {s['records']}: {s['train_decisions']:,} training decisions (of {s['train_full']:,}), "
        f"{s['valid_decisions']:,} validation (chooses each run's epoch and the upcycling router), {s['test_decisions']:,} "
        f"test (the latest matches; every figure below). H={s['hidden']}, E={s['experts']} (phase: 3), one pick per "
        f"token or position, up to {s['epochs']} epochs (cosine, patience {s['patience']}), batch {s['batch_size']}, "
        f"Adam lr {s['lr']}, seeds {s['seeds']}, {s['threads']} torch thread(s), CPU. Agreement: mean over seeds ± "
        "the 95% t interval. FLOPs: matmul FLOPs of one forward pass per position (torch's FlopCounterMode, sparse "
        "path). Ranking: median time of one eval forward over one decision's candidates, every model timed side by "
        "side in one pass (best of 3 per decision, median over decisions).",
        "",
        "| model | seeds | params | kFLOP/position (dense formula) | ranking µs/decision (dense formula) | test agreement | equity loss (gnubg 0-ply) "
        "| Δ vs dense H | Δ vs dense of equal cost | Δ vs dense of equal params | expert load |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in result["models"]:
        load = "/".join(f"{x:.2f}" for x in r["load"]) if r.get("load") else "-"
        eq = "-" if math.isnan(r["equity_loss"]) else f"{r['equity_loss']:.4f}"
        c = r.get("compare", {})
        cost = c.get("equal_cost")
        cost_s = "-" if not cost else f"{diff(cost['diff'])} ({cost['dense']})"
        flops, rank = f"{r['flops'] / 1e3:.1f}", f"{r['rank_us']:.0f}"
        if "flops_dense_path" in r:
            flops += f" ({r['flops_dense_path'] / 1e3:.1f})"
        if "rank_us_dense_path" in r:
            rank += f" ({r['rank_us_dense_path']:.0f})"
        lines.append(f"| {r['name']} | {r['seeds']} | {r['params']:,} | {flops} | {rank} | "
                     f"{pct(r['top1'], r['top1_ci'])} | {eq} | {diff(c.get('same_width'))} | {cost_s} | "
                     f"{diff(c.get('equal_params'))} | {load} |")
    if result.get("training_free"):
        lines += ["", "USMoE without training (the trained mixture's own logits read by USMoE's unified score, "
                      "alpha 0.5, one pair per token on average):", "",
                  "| trained router | its own router | USMoE, no training | Δ (paired seeds) | Δ (bootstrap over matches) |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for t in result["training_free"]:
            lines.append(f"| {t['base']} | {pct(t['base_top1'])} | {pct(t['top1'])} | {diff(t['paired'])} | "
                         f"{diff(t['bootstrap'])} |")
    u = result.get("upcycling")
    if u:
        chosen = "the best on validation" if u["router"] == result.get("best_router") else "given"
        lines += ["", f"Upcycling ({u['router']} router, {chosen}; budget: the dense H={s['hidden']} "
                      f"model's own steps, {u['budget_steps']:.0f} on average; upcycled at step 0: "
                      f"{pct(u['upcycled_step0_top1'])}, dense {pct(u['dense_top1'])}). Upcycled and continued dense: "
                      f"steps after the dense training, constant lr {s['continue_lr']}; scratch: steps in all, "
                      f"constant lr {s['lr']}. Test agreement, mean over seeds ± 95% interval:", "",
                  "| arm | 25% | 50% | 100% |", "| --- | ---: | ---: | ---: |"]
        for arm, rows in u["arms"].items():
            lines.append(f"| {arm} | " + " | ".join(pct(r["top1"], r["ci"]) for r in rows) + " |")
    lines += [""] + [f"- {line}" for line in result["verdicts"]]
    return "\n".join(lines) + "\n"


def plot(result: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(13, 5))
    rows = result["models"]
    dense = sorted((r for r in rows if r["kind"] == "dense"), key=lambda r: r["rank_us"])
    ax[0].errorbar([r["rank_us"] for r in dense], [100 * r["top1"] for r in dense],
                   yerr=[100 * np.nan_to_num(r["top1_ci"]) for r in dense], color="k", marker="s", label="dense ladder")
    for r in dense:
        ax[0].annotate(r["name"].replace("dense ", ""), (r["rank_us"], 100 * r["top1"]), fontsize=7,
                       xytext=(3, -9), textcoords="offset points")
    for r in rows:
        if r["kind"] == "dense":
            continue
        ax[0].errorbar([r["rank_us"]], [100 * r["top1"]], yerr=[100 * np.nan_to_num(r["top1_ci"])], marker="o",
                       ls="none", capsize=2)
        ax[0].annotate(r["name"], (r["rank_us"], 100 * r["top1"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax[0].set_xscale("log")
    ax[0].set(xlabel="median time to rank one decision (µs, one thread)", ylabel="test agreement with the expert (%)",
              title="routers vs dense, by measured inference time")
    u = result.get("upcycling")
    if u:
        for arm, rs in u["arms"].items():
            ax[1].errorbar([100 * r["share"] for r in rs], [100 * r["top1"] for r in rs],
                           yerr=[100 * np.nan_to_num(r["ci"]) for r in rs], marker="o", capsize=3, label=arm)
        ax[1].axhline(100 * u["dense_top1"], color="k", ls="--", lw=1, label="dense (its own budget)")
        ax[1].set(xlabel="steps after the dense model (scratch: in all), % of the dense budget",
                  ylabel="test agreement (%)", title=f"upcycling ({u['router']}), mean over seeds")
        ax[1].legend()
    for a in ax:
        a.grid(alpha=0.3)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ------------------------------------------------------------------------------ main


def compare(rows_by_name: dict, summary: dict, unit, hidden: int) -> None:
    """Add each mixture's paired comparisons against the dense ladder (in place)."""
    dense = [s for s in summary.values() if s["kind"] == "dense"]
    base = summary[f"dense H={hidden}"]
    for name, s in summary.items():
        if s["kind"] == "dense":
            continue
        runs = rows_by_name[name]
        params = min(dense, key=lambda d: abs(d["params"] - s["params"]))
        cheaper = [d for d in dense if d["rank_us"] <= s["rank_us"]]
        cost = max(cheaper, key=lambda d: d["rank_us"]) if cheaper else min(dense, key=lambda d: d["rank_us"])
        s["compare"] = {
            "same_width": paired(runs, rows_by_name[base["name"]]),
            "equal_params": paired(runs, rows_by_name[params["name"]]),
            "equal_cost": {"dense": cost["name"], "diff": paired(runs, rows_by_name[cost["name"]]),
                           "bootstrap": bootstrap_matches(runs, rows_by_name[cost["name"]], unit)},
            "same_width_bootstrap": bootstrap_matches(runs, rows_by_name[base["name"]], unit),
        }


def main(argv=None) -> dict | None:
    args = parse_args(argv)
    import torch
    from tqdm import tqdm

    from comparison import moe

    torch.set_num_threads(args.threads)
    for r in args.routers or []:
        if r not in moe.ROUTERS:
            raise SystemExit(f"bench_routers: unknown router {r!r}; routers: {', '.join(moe.ROUTERS)}")
    train, valid, test, unit, train_full = load_split(args)
    split = (train, valid, test)
    equities = gnubg_equities(test, args.gnubg)
    cache = run_dir(args)
    log(f"runs cached in {cache}")

    # part 1: every model, every seed
    todo = [(name, kind, width, seed) for seed in args.seeds for name, kind, width in model_list(args)]
    rows_by_name: dict[str, list] = {}
    for name, kind, width, seed in tqdm(todo, desc="runs", unit="run", file=sys.stderr):
        row = train_run(cache, name, kind, width, seed, split, equities, args)
        if row is not None:
            rows_by_name.setdefault(name, []).append(row)

    # part 3: USMoE without training, on the trained token- and expert-choice mixtures
    free_rows = {}
    for base in ("token_choice", "expert_choice"):
        if base in rows_by_name:
            got = [training_free_usmoe(cache, base, seed, test, equities, args) for seed in args.seeds]
            free_rows[base] = [g for g in got if g is not None]

    # part 4: upcycling, router chosen on validation
    summary = {name: summarize(runs) for name, runs in rows_by_name.items()}
    learned = [s for s in summary.values() if s["kind"] != "dense"]
    router = args.upcycle_router
    if router == "best" and learned:
        router = max(learned, key=lambda s: s["valid_top1"])["name"]
    up_runs = []
    if router not in ("none", "best"):
        up_runs = [u for u in (upcycling_run(cache, router, seed, split, args) for seed in args.seeds) if u]
    if args.no_report:
        return None

    # ranking times side by side in this one process (the runs' own were timed while others trained)
    from comparison import checkpoint

    timed = {}
    for name, runs in rows_by_name.items():
        path = cache / f"{name.replace(' ', '_').replace('=', '')}-s{runs[0]['seed']}.pt"
        timed[name] = checkpoint.load(path).model
        if summary[name]["kind"] != "dense":  # the same mixture through the dense formula, for comparison
            timed[name + DENSE_PATH] = checkpoint.load(path).model
            timed[name + DENSE_PATH].sparse = False
    log(f"timing {len(timed)} models side by side on {args.timing_decisions} decisions")
    for name, us in ranking_times_side_by_side(timed, test, args.timing_decisions).items():
        if name.endswith(DENSE_PATH):
            summary[name[:-len(DENSE_PATH)]]["rank_us_dense_path"] = us
        else:
            summary[name]["rank_us"] = us
    compare(rows_by_name, summary, unit, args.hidden)
    training_free = []
    for base, rows in free_rows.items():
        if rows:
            training_free.append({"base": base, "seeds": len(rows), "base_top1": summary[base]["top1"],
                                  "top1": mean_ci([r["top1"] for r in rows])[0],
                                  "paired": paired(rows, rows_by_name[base]),
                                  "bootstrap": bootstrap_matches(rows, rows_by_name[base], unit)})
    upcycling = None
    if up_runs:
        arms = {}
        for arm in up_runs[0]["arms"]:
            arms[arm] = []
            for i, share in enumerate(SHARES):
                m, ci = mean_ci([u["arms"][arm][i]["top1"] for u in up_runs])
                arms[arm].append({"share": share, "top1": m, "ci": ci,
                                  "steps": float(np.mean([u["arms"][arm][i]["steps"] for u in up_runs]))})
        upcycling = {"router": router, "seeds": len(up_runs), "arms": arms,
                     "budget_steps": float(np.mean([u["budget_steps"] for u in up_runs])),
                     "dense_top1": float(np.mean([u["dense_top1"] for u in up_runs])),
                     "upcycled_step0_top1": float(np.mean([u["upcycled_step0_top1"] for u in up_runs])),
                     "per_seed": up_runs}

    verdicts = targets(summary, learned, upcycling)
    result = {
        "setup": {"records": " ".join(args.records), "train_decisions": len(train), "train_full": train_full,
                  "valid_decisions": len(valid), "test_decisions": len(test), "hidden": args.hidden,
                  "experts": args.experts, "epochs": args.epochs, "patience": args.patience,
                  "batch_size": args.batch_size, "lr": args.lr, "continue_lr": args.continue_lr,
                  "threads": args.threads, "seeds": args.seeds, "gnubg_equity": equities is not None,
                  "torch": torch.__version__,
                  "command": "python scripts/bench_routers.py " + " ".join(argv if argv is not None else sys.argv[1:])},
        "models": list(summary.values()), "training_free": training_free, "upcycling": upcycling,
        "best_router": max(learned, key=lambda s: s["valid_top1"])["name"] if learned else None,
        "verdicts": verdicts,
        "runs": {name: [{k: v for k, v in r.items() if k != "correct"} for r in runs]
                 for name, runs in rows_by_name.items()},
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


def targets(summary: dict, learned: list, upcycling) -> list[str]:
    """The issue's targets, each a sentence with its numbers (the best router chosen on validation)."""
    out = []
    if learned:
        best = max(learned, key=lambda s: s["valid_top1"])
        cost = best.get("compare", {}).get("equal_cost") or {}
        d, b = cost.get("diff"), cost.get("bootstrap")
        if d:
            met = d["mean"] >= 0.01 and b is not None and b["lo"] > 0
            out.append(f"Best router on validation: {best['name']}. Against the dense model of equal measured "
                       f"inference cost ({cost['dense']}): {diff(d)} points over seeds, bootstrap over test matches "
                       f"{diff(b)}; target >= +1.0 with the interval above zero: {'met' if met else 'missed'}.")
    if upcycling:
        up, cont = upcycling["arms"]["upcycled"], upcycling["arms"]["dense_continued"]
        final = cont[-1]["top1"]
        passed = [r["share"] for r in up if r["top1"] > final]
        out.append(f"Upcycled vs dense continued (its 100% budget, {pct(final)}): the upcycled mixture "
                   + (f"passes it at {int(100 * passed[0])}% of the steps" if passed else "does not pass it")
                   + f"; target: within 50%: {'met' if passed and passed[0] <= 0.5 else 'missed'}.")
    return out


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the run in progress saved its .last state
        log("interrupted: the runs in progress saved their state; the same command resumes them")
        sys.exit(130)
