"""Comparison paradigm vs listwise vs the old relative-score paradigm, at several scorer sizes.

Trains each (loss, scorer) on the shared human records split by date (train on the earlier
matches, validate on the latest 10%) and reports the best validation agreement with the people's
plays. Writes a Markdown table, a JSON file and a PNG.

    python scripts/compare_paradigms.py --records ../shared/data/human-records --epochs 8 --out results/paradigms
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOSSES = ("pairwise", "listwise", "relative_score")
SIZES = {"linear": ("linear", ()), "mlp 32": ("mlp", (32,)), "mlp 128": ("mlp", (128,)), "mlp 256x2": ("mlp", (256, 256))}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", nargs="+", default=[str(ROOT.parent / "shared" / "data" / "human-records")])
    p.add_argument("--encoding", default="tesauro198")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--losses", nargs="+", default=list(LOSSES))
    p.add_argument("--sizes", nargs="+", default=list(SIZES), help=f"any of: {', '.join(SIZES)}")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", default=None)
    p.add_argument("--out", default="results/paradigms", help="output prefix (.md, .json, .png)")
    args = p.parse_args(argv)

    import torch

    from comparison import models
    from comparison.data import split_latest
    from comparison.train import TrainConfig, Trainer
    from games.backgammon.learn.dataset import build_dataset, chronological_order, feature_shape, get_encoding

    data = build_dataset(args.records, cache_dir=args.cache)
    train, valid = split_latest(data, chronological_order(data), data.meta["file"], 0.1)
    featurize, d_in = get_encoding(args.encoding), feature_shape(args.encoding)[0]
    print(f"{len(train):,} training decisions, {len(valid):,} validation (latest matches by date); "
          f"encoding {args.encoding}", file=sys.stderr)
    rows = []
    for size in args.sizes:
        kind, hidden = SIZES[size]
        for loss in args.losses:
            torch.manual_seed(args.seed)
            model = models.build_scorer(kind, d_in=d_in, hidden=hidden)
            cfg = TrainConfig(loss=loss, epochs=args.epochs, batch_size=128, lr=1e-3, seed=args.seed, patience=3)
            t0 = time.perf_counter()
            hist = Trainer(model, train, valid, featurize, cfg, progress=False,
                           log=lambda s: print(f"  {size} {loss}: {s}", file=sys.stderr)).fit()
            best = max(hist, key=lambda r: r["valid_top1"])
            rows.append({"scorer": size, "loss": loss, "parameters": models.n_parameters(model),
                         "top1": best["valid_top1"], "top3": best["valid_top3"], "mrr": best["valid_mrr"],
                         "best_epoch": best["epoch"], "seconds": time.perf_counter() - t0})
            print(f"{size:10s} {loss:15s} top-1 {100 * best['valid_top1']:.2f}%", file=sys.stderr)
            write_json(args, train, valid, rows)  # after every run: a long job that stops keeps its rows
    out = Path(args.out)
    table = markdown(rows, args.losses)
    out.with_suffix(".md").write_text(table + "\n")
    plot(rows, args.losses, out.with_suffix(".png"))
    print(table)
    return 0


def write_json(args, train, valid, rows) -> None:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"args": vars(args), "train": len(train), "valid": len(valid),
                                                    "rows": rows}, indent=2) + "\n")


def markdown(rows, losses) -> str:
    sizes = list(dict.fromkeys(r["scorer"] for r in rows))
    head = "| scorer | parameters | " + " | ".join(losses) + " |"
    lines = [head, "|" + "---|" * (len(losses) + 2)]
    for s in sizes:
        cells = {r["loss"]: f"{100 * r['top1']:.1f}%" for r in rows if r["scorer"] == s}
        n = next(r["parameters"] for r in rows if r["scorer"] == s)
        lines.append(f"| {s} | {n:,} | " + " | ".join(cells.get(loss, "-") for loss in losses) + " |")
    return "\n".join(lines)


def plot(rows, losses, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    sizes = list(dict.fromkeys(r["scorer"] for r in rows))
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(losses)
    for k, loss in enumerate(losses):
        vals = [next((100 * r["top1"] for r in rows if r["scorer"] == s and r["loss"] == loss), np.nan) for s in sizes]
        ax.bar(np.arange(len(sizes)) + k * width, vals, width, label=loss)
    ax.set_xticks(np.arange(len(sizes)) + width * (len(losses) - 1) / 2, sizes)
    ax.set_ylabel("validation agreement (%)")
    ax.set_ylim(40, 80)
    ax.set_title("agreement with the people's plays, latest matches held out")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
