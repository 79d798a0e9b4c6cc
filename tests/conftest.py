"""Shared test fixtures: where the shared data lives, and the optional oracle."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data() -> Path:
    """../shared/data beside the checkout, or $COMPARISON_SHARED_DATA."""
    env = os.environ.get("COMPARISON_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    d = shared_data()
    if not d.is_dir():
        pytest.skip(f"shared data not found at {d}")
    return d


@pytest.fixture(scope="session")
def gnubg():
    return pytest.importorskip("gnubg_nn", reason="gnubg-nn (the test extra) is not installed")


@pytest.fixture(scope="session")
def corpus_copy(tmp_path_factory):
    """``corpus_copy(n)``: a folder of its own holding the first ``n`` match files of the bundled
    gnubg self-play corpus (cubeless money, every game played out)."""
    import shutil

    from games.backgammon import records

    def copy(n: int) -> Path:
        d = tmp_path_factory.mktemp(f"corpus{n}")
        for f in sorted(records.corpus_dir().glob("*.mat"))[:n]:
            shutil.copy(f, d / f.name)
        return d

    return copy
