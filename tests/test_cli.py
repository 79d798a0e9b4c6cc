"""The command line (`python -m comparison`), the match loop and a smoke run of the speed benchmark."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from comparison import cli

ROOT = Path(__file__).resolve().parents[1]

HELP_ARGS = [
    [],
    ["train"],
    ["play"],
    ["records"],
    ["records", "stats"],
    ["records", "convert"],
    ["records", "generate"],
    ["bench"],
    ["bench", "speed"],
    ["bench", "accuracy"],
    ["match"],
]


def _run_module(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run([sys.executable, "-m", "comparison", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_module_help_exits_zero():
    p = _run_module("--help")
    assert p.returncode == 0, p.stderr
    for name in ("train", "play", "records", "bench", "match"):
        assert name in p.stdout


@pytest.mark.parametrize("args", HELP_ARGS, ids=lambda a: " ".join(a) or "top")
def test_every_command_has_help(args, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main([*args, "--help"])
    assert e.value.code == 0
    assert "usage:" in capsys.readouterr().out


TIMING = ("seconds", "games_per_s", "workers")


def _match_json(capsys, *extra):
    assert cli.main(["match", "pubeval", "random", "--games", "40", "--seed", "1", "--json", "--no-progress", *extra]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["seconds"] > 0 and out["games_per_s"] > 0
    return {k: v for k, v in out.items() if k not in TIMING}


def test_match_pubeval_beats_random_reproducibly(capsys):
    first = _match_json(capsys)
    assert first["games"] == 40
    assert first["ppg"] > 1.0
    lo, hi = first["ci95"]
    assert lo <= first["ppg"] <= hi
    assert first["wins"] + first["losses"] == 40
    assert _match_json(capsys) == first


def test_match_same_result_with_two_workers(capsys):
    assert _match_json(capsys, "--workers", "2") == _match_json(capsys, "--workers", "1")


def test_match_text_output(capsys):
    assert cli.main(["match", "pubeval", "pubeval", "--games", "6", "--no-progress", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "points per game for pubeval: +0.000" in out
    assert "6 games in" in out and "games/s, 1 worker)" in out


@pytest.mark.parametrize("args, message", [
    (["pubeval", "nosuchplayer"], "unknown player 'nosuchplayer'"),
    (["gnubg:z", "pubeval"], "whole number 0..4"),
    (["pubeval", "random", "--games", "0"], "--games must be at least 1"),
    (["pubeval", "random", "--workers", "0"], "--workers must be at least 1"),
    (["pubeval", "random", "--seed", "-1"], "--seed must be at least 0"),
])
def test_match_bad_arguments_say_why(args, message, capsys):
    assert cli.main(["match", *args, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_match_pairs_share_dice_with_seats_swapped():
    from games.backgammon.players.bots import PubevalBot
    from games.backgammon.play.match import play_match

    res = play_match(PubevalBot(), PubevalBot(), 10, seed=3, progress=False)
    assert res.a_seat.tolist() == [0, 1] * 5
    # the same deterministic bot on both seats with the same dice: each pair cancels exactly
    assert res.points.reshape(-1, 2).sum(axis=1).tolist() == [0] * 5
    assert res.ppg == 0.0


def test_speed_smoke():
    from games.backgammon.commands import speed

    lines = []
    res = speed.run(n_positions=300, seconds=0.05, seed=2, startup=False, pin=False, out=lines.append)
    assert res["batch"]["positions"] == 300
    assert res["legal_plays"]["calls"] > 0
    assert res["random_games"]["games"] > 0
    for peer in ("gnubg_moves", "openspiel_games"):
        v = res[peer]
        assert isinstance(v, dict) or v.startswith("skipped")
    assert any("legal_results_batch" in line for line in lines)
    json.dumps(res)  # the figures are JSON-serialisable
