"""Train the default model that ships inside the package (games/backgammon/data/default-model.pt).

    python scripts/train_default.py            # needs ../shared/data (the human records)

It runs exactly this command (printed first), then copies the best checkpoint into the package:

    python -m comparison train --records ../shared/data/human-records games/backgammon/data/corpus \
        --encoding extended --hidden 256,256 --epochs 12 --patience 3 --seed 1 --out runs/default.pt

The bundled gnubg corpus has no dates, so it sorts before every human match and always lands in
training; validation is the latest human matches by date, a superset of the decisions that
`bench accuracy --split date` measures on the human records.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HUMAN = ROOT.parent / "shared" / "data" / "human-records"
CORPUS = ROOT / "games" / "backgammon" / "data" / "corpus"
TARGET = ROOT / "games" / "backgammon" / "data" / "default-model.pt"
ARGS = ["--encoding", "extended", "--hidden", "256,256", "--epochs", "12", "--patience", "3", "--seed", "1"]


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not HUMAN.is_dir():
        print(f"{HUMAN}: the shared human records are needed to train the default model", file=sys.stderr)
        return 2
    out = ROOT / "runs" / "default.pt"
    cmd = [sys.executable, "-m", "comparison", "train", "--records", str(HUMAN), str(CORPUS), *ARGS,
           "--out", str(out), *argv]
    print(" ".join(cmd), flush=True)
    rc = subprocess.call(cmd, cwd=ROOT)
    if rc:
        return rc
    shutil.copyfile(out, TARGET)
    print(f"copied {out} -> {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
