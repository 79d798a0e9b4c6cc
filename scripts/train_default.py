"""Train the default model that ships inside the package (games/backgammon/data/default-model.pt).

    python scripts/train_default.py            # needs ../shared/data (the human records and analyses)

Every candidate configuration below is trained by one `python -m comparison train` command (printed
first) on the same three-way date split of the records, whole matches at a time:

- test: the latest 10% of the decisions; nothing here reads them (`bench accuracy` reports on them);
- validation: the next latest 10%; it chooses each run's epoch and, here, the candidate;
- train: the rest, with the bundled gnubg corpus (no dates: it sorts first, so always trains).
  gnubg's analysed probabilities (--targets analysis) come only from the training matches.

The candidate with the best validation agreement is copied into the package. Each run resumes from
its runs/default-NAME.pt.last file (a finished run has nothing left to do; delete it to train afresh).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HUMAN = ROOT.parent / "shared" / "data" / "human-records"
CORPUS = ROOT / "games" / "backgammon" / "data" / "corpus"
TARGET = ROOT / "games" / "backgammon" / "data" / "default-model.pt"
COMMON = ["--encoding", "extended", "--hidden", "256,256", "--epochs", "10", "--patience", "3", "--seed", "1",
          "--valid-fraction", "0.1", "--test-fraction", "0.1", "--threads", "1"]
# name -> the options that differ (later options win: --epochs); every one is an outcome model
# (probabilities, equity, search, cube)
CANDIDATES = {
    "outcome-w1": ["--model", "outcome", "--targets", "analysis", "--target-weight", "1"],
    "outcome-w5": ["--model", "outcome", "--targets", "analysis", "--target-weight", "5"],
    "outcome-w20": ["--model", "outcome", "--targets", "analysis", "--target-weight", "20"],
    "outcome-w20-pairs": ["--model", "outcome", "--targets", "analysis", "--target-weight", "20", "--engine-pairs", "1"],
    "outcome-w20-e16": ["--model", "outcome", "--targets", "analysis", "--target-weight", "20", "--epochs", "16"],
    "outcome-w20-results": ["--model", "outcome", "--targets", "analysis,results", "--target-weight", "20"],
    "outcome-w20-listwise": ["--model", "outcome", "--targets", "analysis", "--target-weight", "20",
                             "--loss", "listwise"],
}


def best_valid_agreement(path: Path) -> float:
    from comparison import checkpoint

    history = checkpoint.load(path).meta.get("history", [])
    return max((r.get("valid_top1", float("nan")) for r in history), default=float("nan"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", choices=sorted(CANDIDATES), help="train only these candidates")
    p.add_argument("--no-copy", action="store_true", help="do not copy the best candidate into the package")
    args, extra = p.parse_known_args(argv)  # anything else goes to every train command
    if not HUMAN.is_dir():
        print(f"{HUMAN}: the shared human records are needed to train the default model", file=sys.stderr)
        return 2
    scores = {}
    for name in args.only or CANDIDATES:
        out = ROOT / "runs" / f"default-{name}.pt"
        cmd = [sys.executable, "-m", "comparison", "train", "--records", str(HUMAN), str(CORPUS), *COMMON,
               *CANDIDATES[name], "--out", str(out), *extra]
        if Path(f"{out}.last").exists():  # finished runs resume to nothing to do; interrupted ones go on
            cmd.append("--resume")
        print(" ".join(cmd), flush=True)
        rc = subprocess.call(cmd, cwd=ROOT)
        if rc:
            return rc
        scores[name] = best_valid_agreement(out)
        print(f"{name}: best validation agreement {100 * scores[name]:.2f}%", flush=True)
    best = max(scores, key=scores.get)
    print(f"best candidate on validation: {best}")
    if not args.no_copy:
        shutil.copyfile(ROOT / "runs" / f"default-{best}.pt", TARGET)
        print(f"copied runs/default-{best}.pt -> {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
