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
