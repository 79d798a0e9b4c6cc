"""`records stats` and `records convert`, the SGF writer, and the Crawford game."""
from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from comparison import cli
from conftest import shared_data
from games.backgammon import records
from games.backgammon.play.generate import self_play_game
from games.backgammon.records import CheckerPlay, CubeAction
from games.backgammon.records.model import crawford_flags
from games.backgammon.records.sgf import parse_sgf

ROOT = Path(__file__).resolve().parents[1]
DATA = shared_data()
HUMAN = DATA / "human-records"
SAMPLES = DATA / "gnubg-samples"
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"no gnubg samples at {SAMPLES}")
needs_corpus = pytest.mark.skipif(not HUMAN.is_dir(), reason=f"no human records at {HUMAN}")

# a 3-point match: bob leads 2-0 after two drops, so game 3 is the Crawford game (no double; ann
# wins it by resignation) and game 4 (1-2) is post-Crawford: the trailer doubles again
MATCH = """\
    ; [Site "test"]
    ; [Crawford "On"]

     3 point match

     Game 1
     ann : 0                        bob : 0
      1) 31: 8/5 6/5                 Doubles => 2
      2)  Drops
                                      Wins 1 point

     Game 2
     ann : 0                        bob : 1
      1) 42: 8/4 6/4                 Doubles => 2
      2)  Drops
                                      Wins 1 point

     Game 3
     ann : 0                        bob : 2
      1) 43: 24/20 13/10             21: 13/11 24/23
      2) 62: 24/18 13/11
          Wins 1 point

     Game 4
     ann : 1                        bob : 2
      1) 43: 24/20 13/10             21: 13/11 24/23
      2)  Doubles => 2                Takes
      3) 62: 24/18 13/11
    """
ILLEGAL = """\
     1 point match

     Game 1
     a : 0                          b : 0
      1) 31: 8/5 6/5                 52: 13/8 13/11
      2) 64: 24/13                   41: 13/9 6/5
    """


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def signature(game) -> tuple:
    """What a conversion must keep (a "????" roll with unknown dice has no SGF form)."""
    out = []
    for a in game.actions:
        if isinstance(a, CheckerPlay):
            out.append(("play", a.player, a.dice, a.result.tobytes()))
        elif isinstance(a, CubeAction):
            out.append(("cube", a.player, a.kind, a.value))
        elif a.dice is not None:
            out.append(("unplayed", a.player, a.dice))
    return (game.number, game.score, game.players, game.winner, game.points, game.resigned,
            game.crawford, tuple(out))


def sgf_round_trip(m: records.Match, name: str = "x") -> records.Match:
    buf = io.StringIO()
    records.write_sgf(m, buf)
    return parse_sgf(buf.getvalue(), name + " (sgf)")


# --- the Crawford game ---------------------------------------------------------------------------

def crawford_reference(scores, n):
    """Replays the rule: the game after a player first gets to n-1 while the other has not."""
    out, done = [], False
    for a, b in scores:
        here = not done and n > 1 and ((a == n - 1) != (b == n - 1))
        done = done or here or (a == n - 1) or (b == n - 1)
        out.append(here)
    return out


@given(st.integers(2, 11), st.lists(st.tuples(st.integers(0, 1), st.integers(1, 4)), max_size=12))
@settings(max_examples=200, deadline=None)
def test_crawford_flags_against_the_rule(n, results):
    # scores of a match played game by game until someone reaches n
    scores, s = [], [0, 0]
    for winner, points in results:
        if max(s) >= n:
            break
        scores.append(tuple(s))
        s[winner] += points
    assert crawford_flags(scores, n) == crawford_reference(scores, n)
    assert sum(crawford_flags(scores, n)) <= 1
    assert not any(crawford_flags(scores, n, rule=False)) and not any(crawford_flags(scores, 0))


def test_crawford_game_in_mat_and_sgf(tmp_path):
    m = records.read_match(write(tmp_path / "m.mat", MATCH))
    assert m.errors[-1].kind == "truncated" and len(m.errors) == 1   # game 4 stops mid-game
    assert [(g.winner, g.points, g.resigned) for g in m.games[:3]] == [(1, 1, False), (1, 1, False), (0, 1, True)]
    assert [g.crawford for g in m.games] == [False, False, True, False]
    ds = list(records.decisions(m))
    assert {d.game for d in ds if d.crawford} == {3} and any(not d.crawford for d in ds)
    # the tag can switch the rule off
    off = records.read_match(write(tmp_path / "off.mat", MATCH.replace('"On"', '"Off"')))
    assert not any(g.crawford for g in off.games)
    # SGF says it with RU[...]; our writer and reader agree
    text = io.StringIO()
    records.write_sgf(m, text)
    assert text.getvalue().count("RU[Crawford:CrawfordGame]") == 1 and text.getvalue().count("RU[Crawford]") == 3
    back = parse_sgf(text.getvalue(), "m.sgf")
    assert [g.crawford for g in back.games] == [False, False, True, False]
    assert back.headers["Crawford"] == "On"
    # gnubg writes RU in every game of a match with the rule: without it, there is no Crawford game
    gnubg_like = text.getvalue().replace("RU[Crawford:CrawfordGame]", "").replace("RU[Crawford]", "")
    gnubg_like = gnubg_like.replace("AP[comparison-games", "AP[GNU Backgammon")
    assert not any(g.crawford for g in parse_sgf(gnubg_like, "g.sgf").games)


@pytest.mark.slow
@needs_corpus
def test_crawford_games_of_the_human_corpus():
    # the sites enforce the rule: no Crawford game has a double, and post-Crawford games do
    crawford = post = doubles_in_crawford = doubles_post = 0
    for p in records.record_files([HUMAN]):
        m = records.read_match(p)
        seen = False
        for g in m.games:
            doubles = any(isinstance(a, CubeAction) and a.kind == "double" for a in g.actions)
            if g.crawford:
                crawford, seen, doubles_in_crawford = crawford + 1, True, doubles_in_crawford + doubles
            elif seen and m.match_length - 1 in g.score:
                post, doubles_post = post + 1, doubles_post + doubles
    assert (crawford, doubles_in_crawford) == (614, 0)
    assert post == 386 and doubles_post == 233


# --- the SGF writer --------------------------------------------------------------------------------

class RandomChooser:
    name = "random"

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def __call__(self, board, d1, d2, plays):
        return plays[int(self.rng.integers(len(plays)))] if plays else None


@given(st.integers(0, 2**32 - 1))
@settings(max_examples=15, deadline=None)
def test_sgf_round_trip_random_games(seed):
    # random play hits, enters from the bar and cannot move far more often than experts do
    games = [self_play_game(RandomChooser(seed), seed, i, number=i + 1) for i in range(2)]
    m = records.Match("r", {}, 0, ("p", "q"), tuple(games))
    back = sgf_round_trip(m)
    assert back.errors == ()
    assert [signature(g) for g in back.games] == [signature(g) for g in games]


def test_sgf_round_trip_inline(tmp_path):
    from test_records import GALAXY, STUDIO

    for name, text in (("galaxy", GALAXY), ("studio", STUDIO), ("match", MATCH)):
        m = records.read_match(write(tmp_path / f"{name}.mat", text))
        back = sgf_round_trip(m, name)
        assert [signature(g) for g in back.games] == [signature(g) for g in m.good_games]
        assert back.players == m.players and back.match_length == m.match_length
        assert back.headers.get("Site") == m.headers.get("Site")
        # and on to .mat again
        buf = io.StringIO()
        records.write_mat(back, buf)
        again = records.mat.parse_mat(buf.getvalue(), name)
        assert [signature(g) for g in again.games] == [signature(g) for g in m.good_games]


@needs_samples
def test_sgf_writer_speaks_gnubgs_dialect():
    path = SAMPLES / "gnubg_2ply_cubeless_money_game1.sgf"
    m = records.read_match(path)
    buf = io.StringIO()
    records.write_sgf(m, buf)
    ours = [line.rstrip(")") for line in buf.getvalue().splitlines() if line.startswith(";")]
    theirs = [line.split("]")[0] + "]" for line in path.read_text().splitlines() if line.startswith(";")]
    assert len(ours) == len(theirs)

    def moves(node):
        """Colour, dice, and where checkers left and arrived: the same play can go through other
        points (o->s->t or o->p->t), and gnubg lists the single moves in its own order."""
        colour, value = node[1], node[3:-1]
        src = Counter(value[k] for k in range(2, len(value), 2))
        dst = Counter(value[k + 1] for k in range(2, len(value), 2))
        return colour, value[:2], sorted((src - dst).elements()), sorted((dst - src).elements())

    assert [moves(a) for a in ours] == [moves(b) for b in theirs]
    back = parse_sgf(buf.getvalue(), "back")
    assert [signature(g) for g in back.games] == [signature(g) for g in m.games]


@needs_corpus
def test_sgf_round_trip_human_sample():
    # 60 files, drawn once; all 1,591 shared files were checked the same way while building this
    files = random.Random(7).sample(records.record_files([HUMAN]), 60)
    for p in files:
        m = records.read_match(p)
        back = sgf_round_trip(m, str(p))
        assert back.errors == ()
        assert [signature(g) for g in back.games] == [signature(g) for g in m.good_games], p
        assert back.players == m.players and back.match_length == m.match_length


# --- records stats ---------------------------------------------------------------------------------

@pytest.fixture
def mixed(tmp_path) -> Path:
    """A folder with one good match, one illegal play, and files that are not (whole) records."""
    d = tmp_path / "recs"
    write(d / "good.mat", MATCH)
    write(d / "sub" / "illegal.txt", ILLEGAL)
    (d / "sub" / "empty.mat").write_bytes(b"")
    (d / "binary.sgf").write_bytes(bytes(range(256)) * 4)
    write(d / "truncated.sgf", "(;FF[4]GM[6]PW[a]PB[b]MI[length:0][game:0][ws:0][bs:0]\n;B[63aglo]\n;W[65fa")
    write(d / "README.txt", "not a record")
    (d / "notes.json").write_text("{}")
    return d


def stats_json(capsys, *args) -> tuple[int, dict]:
    rc = cli.main(["records", "stats", *map(str, args), "--json", "--no-progress"])
    return rc, json.loads(capsys.readouterr().out)


def test_stats_counts_and_errors(mixed, capsys):
    rc, s = stats_json(capsys, mixed)
    assert rc == 0
    assert s["files"] == 5                  # .mat/.txt/.sgf under the folder, README aside
    m = records.read_match(mixed / "good.mat")
    ds = list(records.decisions(m))
    assert s["good_games"] == 4 + 1 and s["broken_games"] == 1   # the truncated SGF keeps its game
    assert s["crawford_games"] == 1
    assert s["decisions"] >= len(ds) and s["non_forced"] <= s["decisions"]
    assert s["players"]["ann"]["games"] == 4 and s["players"]["ann"]["decisions"] == sum(d.player == "ann" for d in ds)
    where = {(Path(e["file"]).name, e["line"], e["kind"]) for e in s["errors"]}
    assert ("illegal.txt", 6, "illegal play") in where
    assert ("empty.mat", 1, "empty file") in where
    assert ("binary.sgf", 1, "binary file") in where
    assert ("truncated.sgf", 3, "truncated") in where
    assert any(e["kind"] == "truncated" and Path(e["file"]).name == "good.mat" for e in s["errors"])  # game 4 stops
    for e in s["errors"]:
        assert e["message"].startswith(f"{e['file']}:{e['line']}: ")


def test_stats_text_and_workers(mixed, capsys):
    assert cli.main(["records", "stats", str(mixed), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "non-forced" in text and "Crawford" in text and "ann" in text
    assert f"{mixed / 'sub' / 'illegal.txt'}:6: " in text
    # the same answer from a pool of 2 processes (files are read in order either way)
    files = [mixed / "good.mat"] * 6 + [mixed / "sub" / "illegal.txt"] * 3
    rc1, one = stats_json(capsys, *files, "--workers", "1")
    rc2, two = stats_json(capsys, *files, "--workers", "2")
    assert rc1 == rc2 == 0 and one == two and one["good_games"] == 24


def _run(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run([sys.executable, "-m", "comparison", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_stats_bad_files_only(mixed):
    # nothing readable: exit 1, a message per file with its line, never a traceback
    bad = [mixed / "sub" / "empty.mat", mixed / "binary.sgf", mixed / "sub" / "illegal.txt",
           mixed / "missing.mat"]
    p = _run("records", "stats", *bad)
    assert p.returncode == 1
    assert "Traceback" not in p.stderr + p.stdout
    assert f"{bad[0]}:1: empty file" in p.stdout
    assert f"{bad[1]}:1: binary file" in p.stdout
    assert f"{bad[2]}:6: " in p.stdout and "24/13" in p.stdout
    assert f"{bad[3]}:0: cannot read the file" in p.stdout
    assert "nothing could be read" in p.stderr
    # one good file among them: exit 0
    assert _run("records", "stats", *bad, mixed / "good.mat").returncode == 0


# --- records convert -------------------------------------------------------------------------------

def test_convert_files_and_folders(mixed, tmp_path, capsys):
    m = records.read_match(mixed / "good.mat")
    sgf = tmp_path / "out" / "good.sgf"
    assert cli.main(["records", "convert", str(mixed / "good.mat"), str(sgf)]) == 0
    back = records.read_match(sgf)
    assert back.errors == () and [signature(g) for g in back.games] == [signature(g) for g in m.good_games]
    mat = tmp_path / "again.mat"
    assert cli.main(["records", "convert", str(sgf), str(mat)]) == 0
    assert [signature(g) for g in records.read_match(mat).games] == [signature(g) for g in m.good_games]
    # an existing file is kept unless --force
    assert cli.main(["records", "convert", str(sgf), str(mat)]) == 2
    assert "--force" in capsys.readouterr().err
    assert cli.main(["records", "convert", str(sgf), str(mat), "--force"]) == 0
    # folder to folder keeps the tree; files without a good game are reported, not written
    out = tmp_path / "as-sgf"
    assert cli.main(["records", "convert", str(mixed), str(out), "--to", "sgf", "--no-progress"]) == 0
    err = capsys.readouterr().err
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.sgf"))
    assert written == ["good.sgf", "truncated.sgf"]
    assert f"{mixed / 'sub' / 'illegal.txt'}:6: " in err and "not written" in err
    # usage errors: no --to for a folder, an unknown extension, a missing input
    assert cli.main(["records", "convert", str(mixed), str(tmp_path / "x")]) == 2
    assert cli.main(["records", "convert", str(sgf), str(tmp_path / "x.pgn")]) == 2
    assert cli.main(["records", "convert", str(tmp_path / "nope.mat"), str(tmp_path / "y.sgf")]) == 2
    # nothing convertible: exit 1
    assert cli.main(["records", "convert", str(mixed / "sub" / "illegal.txt"), str(tmp_path / "i.sgf")]) == 1
    assert not (tmp_path / "i.sgf").exists()


@needs_samples
def test_convert_gnubg_samples(tmp_path):
    for name in ("gnubg_2ply_cubeless_money_game1.sgf", "gnubg_0ply_1pt_match.mat"):
        src = SAMPLES / name
        dst = tmp_path / (Path(name).stem + (".mat" if name.endswith(".sgf") else ".sgf"))
        p = _run("records", "convert", src, dst)
        assert p.returncode == 0, p.stderr
        a, b = records.read_match(src), records.read_match(dst)
        assert b.errors == () and [signature(g) for g in b.games] == [signature(g) for g in a.games]
