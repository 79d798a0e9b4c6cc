"""The command line (`python -m comparison`), the match loop and a smoke run of the speed benchmark."""
import json
import math
import os
import re
import statistics
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


def _play(spec_a, spec_b, games, seed):
    """The match played here by the match loop itself, players seeded as the command seeds them."""
    from games.backgammon.players import make_player
    from games.backgammon.play.match import play_match

    return play_match(make_player(spec_a, [seed, 1]), make_player(spec_b, [seed, 2]), games, seed, progress=False)


def _ppg_and_ci(points):
    """Mean points and its 95% interval, recomputed from scratch: one sample per dice pair (the two
    games of a pair share their dice), a last unpaired game a sample of its own."""
    units = [(points[i] + points[i + 1]) / 2 for i in range(0, len(points) - 1, 2)]
    if len(points) % 2:
        units.append(points[-1])
    half = 1.96 * statistics.stdev(units) / math.sqrt(len(units))
    ppg = sum(points) / len(points)
    return ppg, (ppg - half, ppg + half)


def test_match_json_is_the_summary_of_its_games(capsys):
    out = _match_json(capsys)
    points = _play("pubeval", "random", 40, seed=1).points.tolist()
    ppg, (lo, hi) = _ppg_and_ci(points)
    assert out["games"] == 40
    assert out["ppg"] == pytest.approx(ppg, abs=1e-12)
    assert out["ci95"] == pytest.approx([lo, hi], abs=1e-12)
    assert hi - lo > 0  # the games differ, so the interval has a width
    assert out["wins"] == sum(p > 0 for p in points) and out["losses"] == sum(p < 0 for p in points)
    assert out["gammons"] == points.count(2) and out["backgammons"] == points.count(3)
    assert out["gammons_lost"] == points.count(-2) and out["backgammons_lost"] == points.count(-3)


def test_match_strong_player_beats_weak_one_clearly():
    res = _play("pubeval", "random", 200, seed=5)
    ppg, (lo, hi) = _ppg_and_ci(res.points.tolist())
    assert res.ppg == pytest.approx(ppg, abs=1e-12) and list(res.ci95) == pytest.approx([lo, hi], abs=1e-12)
    assert ppg > 1.0  # pubeval wins nearly every game, many of them gammons
    assert lo > 0.5  # and the interval says so: far above an even match


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


def _row(lines, label):
    """The rest of the one printed line that starts with ``label``."""
    hits = [line for line in lines if line.startswith(label)]
    assert len(hits) == 1, (label, lines)
    return hits[0][len(label):]


def _number(text):
    """The first number in ``text`` (thousands separators dropped)."""
    return float(re.search(r"\d[\d,]*(?:\.\d+)?", text)[0].replace(",", ""))


RATES = {  # JSON section: printed label, rate key, printed decimals
    "batch": ("ours: legal_results_batch, chunks of 10,000", "positions_per_s", 0),
    "legal_plays": ("ours: one legal_plays call from Python", "us_per_call", 1),
    "random_games": ("ours: random_games (compiled loop)", "games_per_s", 0),
}
PEERS = [  # printed label, JSON section, rate key, printed decimals, ratio key, ratio label, our section
    ("gnubg-nn: gnubg_nn.moves loop", "gnubg_moves", "positions_per_s", 0, "movegen_ratio",
     "  ratio ours / gnubg-nn", "batch"),
    ("OpenSpiel: random legal actions, Python", "openspiel_games", "games_per_s", 1, "games_ratio",
     "  ratio ours / OpenSpiel", "random_games"),
]


def _finite_positive(x):
    return isinstance(x, float) and math.isfinite(x) and x > 0


@pytest.mark.parametrize("peers", [True, False], ids=["peers", "no-peers"])
def test_speed_smoke(peers):
    from games.backgammon import legal_results_batch, random_positions
    from games.backgammon.commands import speed

    lines = []
    res = speed.run(n_positions=300, seconds=0.05, seed=2, peers=peers, startup=False, pin=False, out=lines.append)
    assert json.loads(json.dumps(res)) == res  # the figures are plain JSON
    assert res["batch"]["positions"] == 300
    boards, dice = random_positions(300, 2)  # the same positions, counted independently
    assert res["batch"]["results"] == len(legal_results_batch(boards, dice)[0])
    assert f"({res['batch']['results']:,} results)" in _row(lines, RATES["batch"][0])
    for section, (label, key, decimals) in RATES.items():
        rate = res[section][key]
        assert _finite_positive(rate), (section, rate)
        assert _number(_row(lines, label)) == pytest.approx(rate, abs=0.51 * 10 ** -decimals)
    for label, section, key, decimals, ratio_key, ratio_label, ours in PEERS:
        peer = res[section]
        if isinstance(peer, str):  # not run: said so, and no ratio invented
            assert peer == ("skipped (not installed)" if peers else "skipped (peers off)")
            assert _row(lines, label).strip() == peer
            assert _row(lines, ratio_label).strip() == "n/a" and ratio_key not in res
            continue
        rate = peer[key]
        assert _finite_positive(rate), (section, rate)
        printed_rate = _number(_row(lines, label))
        assert printed_rate == pytest.approx(rate, abs=0.51 * 10 ** -decimals)
        our_label, our_key, _ = RATES[ours]
        assert res[ratio_key] == pytest.approx(res[ours][our_key] / rate, rel=1e-12)
        printed_ratio = _number(_row(lines, ratio_label))
        assert printed_ratio == pytest.approx(res[ratio_key], abs=0.051)
        # and the printed ratio is the printed rates' ratio, up to their rounding
        printed_ours = _number(_row(lines, our_label))
        assert printed_ratio == pytest.approx(printed_ours / printed_rate, rel=0.01, abs=0.051)
    if isinstance(res["gnubg_moves"], dict):  # gnubg-nn finds as many distinct plays as we do
        agree = res["gnubg_count_agreement"]
        assert agree["checked"] == 300 and agree["same_count"] == 300
    if not peers:
        assert "gnubg_count_agreement" not in res
