"""scripts/value_fit.py: a model's probabilities against gnubg-nn's labels of generated games."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def value_fit():
    spec = importlib.util.spec_from_file_location("value_fit", ROOT / "scripts" / "value_fit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_value_errors_by_hand(value_fit):
    labels = np.array([[0.5, 0.1, 0.0, 0.2, 0.0], [0.8, 0.3, 0.1, 0.0, 0.0]])
    probs = labels + np.array([[0.1, 0.0, 0.0, 0.0, 0.0], [-0.3, 0.2, 0.0, 0.0, 0.1]])
    e = value_fit.value_errors(probs, labels)
    assert e["positions"] == 2
    assert e["win_mae"] == pytest.approx(0.2) and e["win_bias"] == pytest.approx(-0.1)
    assert e["gammon_mae"] == pytest.approx(0.1)
    # equity changes: +0.2; -0.6 + 0.2 - 0.1 = -0.5
    assert e["equity_mae"] == pytest.approx(0.35)


def test_fit_report_on_generated_labels(value_fit, tmp_path, gnubg):
    from games.backgammon.play.generate import generate
    from games.backgammon.players.gnubg import GnubgBot

    folder = tmp_path / "labelled"
    generate(folder, "gnubg", games=3, seed=5, workers=1, games_per_file=3, progress=False, label="gnubg",
             label_candidates=True)
    boards, labels, forced_boards, forced_labels = value_fit.labelled_positions(folder)
    np.testing.assert_allclose(labels, GnubgBot(0).result_probabilities(boards), atol=6e-5)   # the oracle's own
    np.testing.assert_allclose(forced_labels, GnubgBot(0).result_probabilities(forced_boards), atol=2e-6)

    out = tmp_path / "fit.json"
    assert value_fit.main(["--records", str(folder), "--json", str(out)]) == 0
    parts = json.loads(out.read_text())["models"]["default"]
    assert parts["all"]["positions"] == len(labels) == parts["race"]["positions"] + parts["contact"]["positions"]
    for key in ("win_mae", "gammon_mae", "equity_mae"):   # the whole is the parts' weighted mean
        mixed = sum(parts[p][key] * parts[p]["positions"] for p in ("race", "contact")) / len(labels)
        assert parts["all"][key] == pytest.approx(mixed, rel=1e-6, abs=1e-9)
    assert 0 < parts["all"]["win_mae"] < 0.2            # a trained net is near gnubg, not equal to it
    on_bar = int((forced_boards[:, 1, 24] > 0).sum())
    assert parts["forced"]["positions"] == len(forced_labels) > parts["on bar"]["positions"] == on_bar > 0


def test_bad_input_is_a_message(value_fit, tmp_path, capsys):
    assert value_fit.main(["--records", str(tmp_path / "missing")]) == 2
    assert "missing" in capsys.readouterr().err
    empty = tmp_path / "empty"                            # a folder without records
    empty.mkdir()
    assert value_fit.main(["--records", str(empty)]) == 2
    assert "empty" in capsys.readouterr().err
