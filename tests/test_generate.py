"""`records generate` (engine self-play written as .mat) and the bundled default corpus."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from comparison import cli
from games.backgammon import legal_plays, records
from games.backgammon.players.bots import PubevalBot
from games.backgammon.play.generate import generate

# the bundled corpus, as scripts/generate_corpus.py made it (and its README.txt states)
CORPUS_FILES = 20
CORPUS_GAMES = 2000
CORPUS_DECISIONS = 98_160
CORPUS_NON_FORCED = 86_592


def read_all(folder: Path) -> list[records.Match]:
    return [records.read_match(p) for p in records.record_files([folder])]


def files_bytes(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.mat"))}


def check_played_out(matches, n_games: int, name: str) -> list:
    """Every game reads back without an error, is played to the end, and the session's score
    follows from the games; returns the decisions."""
    assert sum(len(m.errors) for m in matches) == 0, [str(e) for m in matches for e in m.errors][:3]
    games = [g for m in matches for g in m.games]
    assert len(games) == n_games and all(g.ok for g in games)
    for m in matches:
        assert m.match_length == 0 and m.players == (name, name)
        score = [0, 0]
        for g in m.games:
            assert g.score == tuple(score)
            assert not g.resigned and g.points in (1, 2, 3)
            final = g.final_board if g.winner == 0 else g.final_board[::-1]
            assert final[1].sum() == 0                      # the winner bore off all 15
            assert not any(isinstance(a, records.CubeAction) for a in g.actions)
            score[g.winner] += g.points
    return [d for m in matches for d in records.decisions(m)]


def test_pubeval_generation_is_pubevals_play_and_reproducible(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    s = generate(one, "pubeval", games=13, seed=5, workers=1, games_per_file=5, progress=False)
    assert (s["files"], s["games"]) == (3, 13)
    generate(two, "pubeval", games=13, seed=5, workers=2, games_per_file=5, progress=False)
    assert files_bytes(one) == files_bytes(two)       # whatever the worker count
    ds = check_played_out(read_all(one), 13, "pubeval")
    assert len(ds) == s["decisions"] and sum(not d.forced for d in ds) == s["non_forced"]
    # the records hold pubeval's own choices: PubevalBot, asked afresh, picks every one of them
    bot = PubevalBot()
    for d in ds:
        assert np.array_equal(bot.choose(d.board, *d.dice).board, d.chosen)
    # another seed, other games; games already played do not change with the number asked for
    generate(tmp_path / "other", "pubeval", games=5, seed=6, workers=1, games_per_file=5, progress=False)
    rolls = [[a.dice for a in g.plays] for m in read_all(tmp_path / "other") for g in m.games]
    assert rolls != [[a.dice for a in g.plays] for g in read_all(one)[0].games]
    generate(tmp_path / "fewer", "pubeval", games=5, seed=5, workers=1, games_per_file=5, progress=False)
    first = sorted(files_bytes(one))[0]
    assert files_bytes(tmp_path / "fewer")[first] == files_bytes(one)[first]


def test_gnubg_generation(tmp_path, gnubg):
    from games.backgammon.players.gnubg import GnubgBot

    one, two = tmp_path / "one", tmp_path / "two"
    generate(one, "gnubg", plies=0, games=8, seed=2, workers=1, games_per_file=3, progress=False)
    generate(two, "gnubg", plies=0, games=8, seed=2, workers=2, games_per_file=3, progress=False)
    assert files_bytes(one) == files_bytes(two) and len(files_bytes(one)) == 3
    ds = check_played_out(read_all(one), 8, "gnubg-0ply")
    # every non-forced play is a best play by gnubg's 0-ply cubeless equity (scored one by one)
    bot = GnubgBot(0)
    for d in ds:
        if d.forced:
            continue
        plays = legal_plays(d.board, *d.dice)
        scores = bot.score_plays(d.board, plays)
        chosen = next(i for i, p in enumerate(plays) if np.array_equal(p.board, d.chosen))
        assert scores[chosen] == scores.max()


def test_gnubg_best_move_matches_choose(gnubg):
    from games.backgammon import random_positions
    from games.backgammon.players.gnubg import GnubgBot

    bot = GnubgBot(0)
    boards, dice = random_positions(300, seed=11)
    for b, (d1, d2) in zip(boards, dice):
        plays = legal_plays(b, d1, d2)
        fast = bot.best_move(b, d1, d2)
        if not plays:
            assert fast is None
            continue
        scores = bot.score_plays(b, plays)
        # the same play, or one with exactly the same equity (gnubg breaks ties its own way)
        assert scores[plays.index(fast)] == scores.max()


def test_generate_command(tmp_path, capsys, monkeypatch):
    out = tmp_path / "cli"
    rc = cli.main(["records", "generate", "--engine", "pubeval", "--games", "4", "--out", str(out),
                   "--seed", "3", "--games-per-file", "2", "--no-progress"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "wrote 4 games" in text and "games/s" in text
    assert len(list(out.glob("*.mat"))) == 2
    assert cli.main(["records", "generate", "--engine", "pubeval", "--plies", "1", "--games", "1",
                     "--out", str(out)]) == 2
    assert cli.main(["records", "generate", "--games", "0", "--out", str(out)]) == 2

    # without gnubg-nn: a clear message and exit 2
    from games.backgammon.players import gnubg as gnubg_bot

    def missing():
        raise ImportError("gnubg players need the optional gnubg-nn module (GPL): pip install gnubg-nn")

    monkeypatch.setattr(gnubg_bot, "import_gnubg", missing)
    capsys.readouterr()
    assert cli.main(["records", "generate", "--engine", "gnubg", "--games", "1", "--out", str(out)]) == 2
    assert "gnubg-nn" in capsys.readouterr().err


# --- the bundled default corpus -----------------------------------------------------------------

def test_bundled_corpus_is_in_the_package():
    d = records.corpus_dir()
    files = records.record_files([d])
    assert len(files) == CORPUS_FILES and all(f.suffix == ".mat" for f in files)
    assert sum(f.stat().st_size for f in files) < 4_500_000
    # counted from the text, so that this fast test covers every file
    games = sum(len(re.findall(r"^ Game \d+$", f.read_text(), re.M)) for f in files)
    assert games == CORPUS_GAMES
    readme = (d / "README.txt").read_text()
    for figure in (CORPUS_GAMES, CORPUS_DECISIONS, CORPUS_NON_FORCED):
        assert f"{figure:,}" in readme
    assert "seed 1" in readme and "scripts/generate_corpus.py" in readme
    # one file read in full: no error, played out, gnubg's name on both sides
    m = records.read_match(files[0])
    check_played_out([m], 100, "gnubg-0ply")


@pytest.mark.slow
def test_bundled_corpus_reads_without_errors():
    from games.backgammon.commands.records import stats

    s = stats([records.corpus_dir()], workers=2)
    assert s["errors"] == []
    assert (s["files"], s["good_games"], s["broken_games"]) == (CORPUS_FILES, CORPUS_GAMES, 0)
    assert (s["decisions"], s["non_forced"]) == (CORPUS_DECISIONS, CORPUS_NON_FORCED)
    assert list(s["players"]) == ["gnubg-0ply"]


def test_gnubg_labels_beside_the_records(tmp_path, capsys, gnubg):
    """--label gnubg: one line per play (dances included: the board unchanged, the mover on the
    bar) with gnubg's probabilities of the position after it, for the mover; checked against the full GNU Backgammon engine reading the written position IDs.
    The .mat files stay byte for byte what they are without labels."""
    import json

    from games.backgammon import board_from_position_id, position_id, swap_sides
    from games.backgammon.play.generate import LABEL_SUFFIX, label_path
    from games.backgammon.rules.scoring import game_result

    engine = pytest.importorskip("gnubg", reason="the full GNU Backgammon engine module is not installed")
    plain, labelled = tmp_path / "plain", tmp_path / "labelled"
    generate(plain, "pubeval", games=5, seed=7, workers=1, games_per_file=3, progress=False)
    s = generate(labelled, "pubeval", games=5, seed=7, workers=2, games_per_file=3, progress=False, label="gnubg")
    assert s["label"] == "gnubg-0ply"
    assert files_bytes(plain) == files_bytes(labelled)
    sides = sorted(labelled.glob(f"*{LABEL_SUFFIX}"))
    assert [label_path(p) for p in sorted(labelled.glob("*.mat"))] == sides
    cube, context = engine.cube_info(), engine.eval_context(0, 0)
    n_lines = n_over = n_dances = 0
    for mat, side in zip(sorted(labelled.glob("*.mat")), sides):
        rows = [json.loads(line) for line in side.read_text().splitlines()]
        plays = [(g.number, k, a) for g in records.read_match(mat).games
                 for k, a in enumerate(g.plays, start=1)]
        assert len(rows) == len(plays)
        n_dances += sum(a.n_legal == 0 for _, _, a in plays)
        for row, (number, move, a) in zip(rows, plays):
            assert (row["game"], row["move"], row["player"], tuple(row["dice"])) == (number, move, a.player, a.dice)
            assert row["position_id"] == position_id(a.board)
            result = board_from_position_id(row["result_id"])       # the mover still in row 1
            assert np.array_equal(result, a.result)
            p = np.array(row["probs"])
            over = game_result(result)
            if over:  # the mover bore off its last checker: a sure win of that many points
                assert list(p) == [1.0, over >= 2, over >= 3, 0.0, 0.0]
                n_over += 1
                continue
            # gnubg evaluates the opponent on roll: the mover's chances are the mirror
            w, wg, wbg, lg, lbg, _eq = engine.evaluate(engine.position_from_id(position_id(swap_sides(result))),
                                                       cube, context)
            np.testing.assert_allclose(p, [1 - w, lg, lbg, wg, wbg], atol=2e-4)
            n_lines += 1
    assert n_over == 5 and n_lines > 100 and n_dances > 0

    rc = cli.main(["records", "generate", "--engine", "pubeval", "--games", "1", "--out", str(tmp_path / "c"),
                   "--label", "gnubg:0", "--no-progress"])
    assert rc == 0 and "labels: gnubg-0ply" in capsys.readouterr().out
    assert len(list((tmp_path / "c").glob(f"*{LABEL_SUFFIX}"))) == 1
    assert cli.main(["records", "generate", "--engine", "pubeval", "--games", "1", "--out", str(tmp_path / "d"),
                     "--label", "pubeval"]) == 2
    assert "labels come from gnubg" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()                          # said before anything is written
    assert cli.main(["records", "generate", "--engine", "pubeval", "--games", "1", "--out", str(tmp_path / "e"),
                     "--label-candidates"]) == 2
    assert "--label-candidates needs --label" in capsys.readouterr().err
    assert not (tmp_path / "e").exists()


def test_labels_without_gnubg_nn_are_refused_clearly(tmp_path, capsys, monkeypatch):
    from games.backgammon.players import gnubg as gnubg_bot

    def missing():
        raise ImportError("gnubg players need the optional gnubg-nn module (GPL): pip install gnubg-nn")

    monkeypatch.setattr(gnubg_bot, "import_gnubg", missing)
    assert cli.main(["records", "generate", "--engine", "pubeval", "--games", "1", "--out", str(tmp_path / "x"),
                     "--label", "gnubg"]) == 2
    assert "gnubg-nn" in capsys.readouterr().err and not (tmp_path / "x").exists()


# --- records generate --cube -----------------------------------------------------------------------

# sha256 of pubeval-s5-0000.mat (games=13, seed=5, games_per_file=5) without its Transcriber line (the
# version), as the generator wrote it before it learnt the cube: without --cube nothing may change
CUBELESS_PUBEVAL_S5_SHA256 = "4269c8e68d1b93c419acc22cc141af70f1429fce422176782cda97831e1ee54b"


def test_without_cube_the_files_are_what_they_were(tmp_path):
    import hashlib

    generate(tmp_path, "pubeval", games=13, seed=5, workers=1, games_per_file=5, progress=False)
    text = re.sub(r'; \[Transcriber [^\n]*\n', "", (tmp_path / "pubeval-s5-0000.mat").read_text())
    assert hashlib.sha256(text.encode()).hexdigest() == CUBELESS_PUBEVAL_S5_SHA256
    assert "cubeless money" in text and "Doubles" not in text


class PipCube:
    """A chooser for self_play_game: pubeval's plays and a pip-count cube (doubles when 10% ahead
    in the race, takes unless 15% behind); records the match states its plays are given."""

    name = "pipcube"

    def __init__(self):
        self.bot = PubevalBot()
        self.states = []

    def __call__(self, board, d1, d2, plays, state=None):
        self.states.append(state)
        return None if not plays else self.bot.pick(board, d1, d2, plays)

    def cube_action(self, board, ms):
        from games.backgammon.rules.board import pip_counts

        me, opp = pip_counts(board)
        if ms.doubled:
            return "take" if opp < 1.15 * me else "pass"
        return "double" if me < 0.9 * opp else "no double"

    def choose(self, board, d1, d2):        # as a match player (the reference loop below)
        return self.bot.choose(board, d1, d2)


def cube_actions(game) -> list:
    return [(a.player, a.kind, a.value) for a in game.actions if isinstance(a, records.CubeAction)]


def test_cube_games_are_the_cube_loops_games_and_read_back(tmp_path):
    """Each generated game is the game the cube loop of matches plays with the same players and
    dice (play_cube_game), and the written .mat reads back with the same cube actions, points and
    plays."""
    from games.backgammon.play.generate import session, session_text
    from games.backgammon.play.match import play_cube_game

    chooser = PipCube()
    games = session(chooser, 3, 0, 30, cube=True)
    assert all(st is not None and st.match_length == 0 for st in chooser.states)
    seen = {"double": 0, "take": 0, "drop": 0}
    score = [0, 0]
    for k, g in enumerate(games):
        ref = play_cube_game(chooser, chooser, 0, [3, k])
        assert (g.winner, g.points, g.score) == (ref.winner, ref.points, tuple(score))
        kinds = {"double": "double", "take": "take", "pass": "drop"}
        assert cube_actions(g) == [(e.seat, kinds[e.kind], e.value if e.kind == "double" else None)
                                   for e in ref.cube_history]
        assert len(g.plays) == ref.plies
        for _, kind, _ in cube_actions(g):
            seen[kind] += 1
        score[g.winner] += g.points
    assert min(seen.values()) > 0, seen
    path = tmp_path / "pipcube-cube.mat"
    path.write_text(session_text(games, chooser.name, 3, 0, cube=True))
    assert "money with the cube" in path.read_text()
    back = records.read_match(path)
    assert not back.errors, back.errors[:3]
    assert len(back.games) == len(games)
    for g, b in zip(games, back.games):
        assert (b.winner, b.points, b.score, b.resigned) == (g.winner, g.points, g.score, False)
        assert cube_actions(b) == cube_actions(g)
        assert [p.dice for p in b.plays] == [p.dice for p in g.plays]
        assert all(np.array_equal(x.result, y.result) for x, y in zip(b.plays, g.plays))
        assert [p.cube for p in b.plays] == [p.cube for p in g.plays]
    # a game that ended with a drop is worth the cube before the double
    dropped = [g for g in games if cube_actions(g) and cube_actions(g)[-1][1] == "drop"]
    assert dropped and all(g.points == (cube_actions(g)[-2][2] // 2) for g in dropped)


def test_cube_needs_an_engine_that_decides_the_cube(tmp_path, capsys):
    with pytest.raises(ValueError, match="makes no cube decisions"):
        generate(tmp_path / "x", "pubeval", games=2, cube=True, workers=1, progress=False)
    assert cli.main(["records", "generate", "--engine", "pubeval", "--games", "1", "--out", str(tmp_path / "y"),
                     "--cube"]) == 2
    assert "makes no cube decisions" in capsys.readouterr().err and not (tmp_path / "y").exists()


def test_gnubg_full_cube_generation_read_back_by_gnubg(tmp_path, capsys):
    """gnubg-full plays both sides with the cube; gnubg's own .mat import reads the files back with
    the same cube actions, scores and results, and our reader agrees with the generator."""
    engine = pytest.importorskip("gnubg", reason="the full GNU Backgammon engine module is not installed")
    one, two = tmp_path / "one", tmp_path / "two"
    s = generate(one, "gnubg-full", games=6, seed=1, workers=1, games_per_file=3, progress=False, cube=True)
    generate(two, "gnubg-full", games=6, seed=1, workers=2, games_per_file=3, progress=False, cube=True)
    assert files_bytes(one) == files_bytes(two) and s["cube"] and s["doubles"] > 0
    assert sorted(files_bytes(one)) == ["gnubg-full-cube-s1-0000.mat", "gnubg-full-cube-s1-0001.mat"]
    for command in ("set display off", "set sound enable off", "set threads 1", "set player 0 human",
                    "set player 1 human"):
        engine.command(command)
    doubles = drops = 0
    for path in sorted(one.glob("*.mat")):
        ours = records.read_match(path)
        assert not ours.errors and len(ours.games) == 3
        engine.command(f"import mat {path}")
        theirs = engine.match()["games"]
        assert len(theirs) == 3
        for g, t in zip(ours.games, theirs):
            info = t["info"]
            assert (info["score-X"], info["score-O"]) == g.score
            assert {"X": 0, "O": 1}[info["winner"]] == g.winner and info["points-won"] == g.points
            cube = [(a["action"], {"X": 0, "O": 1}[a["player"]]) for a in t["game"]
                    if a["action"] in ("double", "take", "drop")]
            assert cube == [(k, p) for p, k, _ in cube_actions(g)]
            doubles += sum(k == "double" for k, _ in cube)
            drops += sum(k == "drop" for k, _ in cube)
    assert (doubles, drops) == (s["doubles"], s["passes"])
    rc = cli.main(["records", "generate", "--engine", "gnubg-full", "--games", "2", "--out", str(tmp_path / "c"),
                   "--cube", "--no-progress", "--workers", "1"])
    assert rc == 0 and "cube:" in capsys.readouterr().out
