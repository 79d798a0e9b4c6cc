#!/usr/bin/env python
"""Backgammon move generation (batched, and one ``legal_plays`` call against one gnubg-nn
``moves()`` call) and whole-game speed against gnubg-nn and OpenSpiel, on one core.

Run: ``PYTHONPATH=. python scripts/bench_movegen.py [--json FILE]``; or import and call
``run(n_positions=..., seconds=..., out=print) -> dict``. The logic lives in
``games/backgammon/commands/speed.py`` (also behind ``python -m comparison bench speed``).
"""
import os
import sys
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # before numba is imported
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from games.backgammon.commands.speed import run as _run  # noqa: E402


def run(n_positions: int = 200_000, seconds: float = 5.0, out=print, **kwargs) -> dict:
    """See :func:`games.backgammon.commands.speed.run`."""
    return _run(n_positions=n_positions, seconds=seconds, out=out, **kwargs)


if __name__ == "__main__":
    from games.backgammon.commands.speed import main

    raise SystemExit(main())
