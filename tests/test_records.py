"""Match records: the .mat dialects, gnubg SGF, decisions, write_mat, and the human-record corpus."""
from __future__ import annotations

import io
import random
import textwrap
from pathlib import Path

import numpy as np
import pytest

from games.backgammon import legal_plays, position_id, records
from games.backgammon.rules.board import start_board
from games.backgammon.records.mat import parse_mat
from games.backgammon.records import CheckerPlay, CubeAction, RecordError, Unplayed


from conftest import shared_data

DATA = shared_data()
HUMAN = DATA / "human-records"
SAMPLES = DATA / "gnubg-samples"


def write(tmp_path: Path, text: str, name: str = "m.mat", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(textwrap.dedent(text).encode(encoding))
    return p


def read(tmp_path: Path, text: str, **kw) -> records.Match:
    return records.read_match(write(tmp_path, text), **kw)


def signature(game) -> tuple:
    """What a round trip must keep: every action, with dice and result boards."""
    out = []
    for a in game.actions:
        if isinstance(a, CheckerPlay):
            out.append(("play", a.player, a.dice, a.result.tobytes()))
        elif isinstance(a, CubeAction):
            out.append(("cube", a.player, a.kind, a.value))
        else:
            out.append(("unplayed", a.player, a.dice))
    return game.number, game.score, game.winner, game.points, tuple(out)


# --- the Galaxy dialect: 25 for the bar, 0 for off, doubles as four moves, empty "dd:" ----------

GALAXY = """\
    ; [Site "BackgammonGalaxy"]
    ; [Player 1 "lasse"]
    ; [Player 2 "mglough"]

    5 point match

     Game 1
     lasse : 0                       mglough : 0
      1)                             51: 24/23 13/8
      2) 21: 13/11 24/23             22: 6/4 6/4 13/11 13/11
      3) 55: 6/1 6/1 23/18 18/13     44: 25/21 11/7 11/7 8/4
      4) 42: 8/4 6/4                 21: 25/23 8/7
      5) 61: 13/7 7/6                54: 23/18 18/14
      6) 52: 25/20 13/11             43: 25/22 22/18
      7) 11: 8/7 7/6 6/5 6/5         44:
      8)  Doubles => 2                Drops
          Wins 1 point

     Game 2
     lasse : 1                       mglough : 0
      1) 31: 8/5 6/5                 64: 24/18 18/14
      2)  Doubles => 2                Takes
      3) 62: 24/18 13/11             11: 25/24 6/5 6/5 6/5
      4)  Losses 2 point                                               Wins 2 point and the match
    """


def test_galaxy_dialect(tmp_path):
    m = read(tmp_path, GALAXY)
    assert m.errors == ()
    assert m.match_length == 5
    assert m.players == ("lasse", "mglough")
    assert m.headers["Site"] == "BackgammonGalaxy"
    g1, g2 = m.games
    # the right-hand player moved first: row 1 has an empty left cell
    assert g1.first_player == 1 and g1.actions[0].dice == (5, 1)
    assert g1.score == (0, 0) and g2.score == (1, 0)
    # 25 = bar, doubles as four moves; "44:" with nothing after = cannot move
    last = g1.plays[-1]
    assert last.dice == (4, 4) and last.play is None and last.n_legal == 0
    assert np.array_equal(last.result, last.board)
    # the drop ends game 1: the doubler (left) wins 1 point, as "Wins" in the left column says
    assert [a.kind for a in g1.actions if isinstance(a, CubeAction)] == ["double", "drop"]
    assert (g1.winner, g1.points, g1.resigned) == (0, 1, False)
    # "Losses" marks the loser; the "Wins" far to the right is the other player's
    assert (g2.winner, g2.points, g2.match_won, g2.resigned) == (1, 2, True, True)
    assert g2.plays[-1].cube == 2


def test_galaxy_hits_are_not_written(tmp_path):
    # no '*' anywhere: "13/9 9/3" lands on the blot on 9, so it hits there (13/9*/3), it does not
    # go 13/7/3 past it
    m = read(tmp_path, """\
         1 point match

         Game 1
         a : 0                           b : 0
          1) 42: 8/4 6/4                 62: 24/18 18/16
          2) 64: 13/9 9/3
        """)
    assert [e.kind for e in m.errors] == ["truncated"]   # legal, but it stops mid-game
    play = m.games[0].plays[-1]
    assert play.notation == "13/9*/3"
    assert play.result[0, 24] == 1  # the opponent's checker is on the bar


# --- the Studio dialect: bar/off words, (2), Cannot Move, ????, 2-digit rows at column 2 -----

STUDIO = """\
    ; [Site "Backgammon Studio"]
    ; [Player 1 "Magic"]
    ; [Player 2 "Lasse"]

    5 point match


     Game 1
     Magic : 0                              Lasse : 0
      1) 32: 24/21 13/11                    41: 24/23 8/4*
      2) 41: bar/21* 21/20                  43: bar/21 24/21
      3) 53: 8/3 6/3                        63: 23/14*
      4) 44: bar/21 24/20 13/9(2)           42: 14/8
      5) 65: 21/15 20/15                    41: 13/9 6/5*
      6) 51: bar/20* 9/8                    41: bar/21 6/5*
      7) 32: bar/20*                        44: bar/21 13/5* 9/5
      8) 66: Cannot Move                    61: 13/7 8/7
      9) 11: bar/24 6/5(3)                  41: ????
      10)  Wins 1 point
    """


def test_studio_dialect(tmp_path):
    m = read(tmp_path, STUDIO)
    assert m.errors == ()
    g = m.games[0]
    assert g.first_player == 0
    kinds = [type(a).__name__ for a in g.actions]
    assert kinds[-1] == "Unplayed" and g.actions[-1].dice == (4, 1)   # "41: ????"
    cannot = [p for p in g.plays if p.text.endswith("Cannot Move")]
    assert len(cannot) == 1 and cannot[0].n_legal == 0
    assert [p.notation for p in g.plays if p.text == "32: bar/20*"] == ["bar/20*"]
    assert [p.notation for p in g.plays if p.text.startswith("44: bar/21 24/20")] == ["bar/21 24/20 13/9(2)"]
    # "Wins" stands in the left-hand column of row 10: the left-hand player won, by resignation
    # (nobody bore off, nobody dropped)
    assert (g.winner, g.points, g.resigned) == (0, 1, True)


def test_money_session_and_snowie_bar(tmp_path):
    # "0 point match" is money play; Snowie/Jellyfish write 25/22 for bar/22
    m = read(tmp_path, """\
         0 point match

         Game 1
         x : 0                          y : 0
          1) 62: 24/18 13/11            51: 13/8 8/7*
          2) 43: 25/22 13/9             62: 24/18 13/11
        """)
    assert m.match_length == 0 and m.errors[-1].kind == "truncated"
    g = m.games[0]
    assert g.ok and g.plays[1].notation == "13/7*"
    assert g.plays[2].notation == "bar/22 13/9"


def test_no_move_words_and_question_marks(tmp_path):
    # "No move" as well as "Cannot Move"; "????" alone in place of the dice
    m = read(tmp_path, STUDIO.replace("66: Cannot Move", "66: No move").replace("41: ????", "????"))
    g = m.games[0]
    assert m.errors == () and g.ok
    assert [p.n_legal for p in g.plays if p.text == "66: No move"] == [0]
    assert isinstance(g.actions[-1], Unplayed) and g.actions[-1].dice is None
    # a "????" roll followed by more plays is an error, not a skipped turn
    m = read(tmp_path, STUDIO.replace("      9) 11: bar/24 6/5(3)", "      9) ????"))
    assert m.games[0].error.kind == "unreadable" and m.games[0].error.line == 18
    # "cannot move" where a play is possible is illegal
    m = read(tmp_path, STUDIO.replace("42: 14/8", "42: Cannot Move"))
    assert m.games[0].error.kind == "illegal play" and "must be made" in m.games[0].error.reason


def test_three_digit_row_numbers_and_names_only(tmp_path):
    rows = ["  1) 41: 13/9 24/23              65: 24/18 18/13",
            "  2) 21: 9/7 8/7                 44: 24/20 20/16 13/9 13/9",
            "  3) 63: 13/7 23/20              61: 16/10 10/9"]
    # gnubg writes "%3d)": from row 100 on the number fills the indent
    renumbered = [f"{n:3d}){r[4:]}" for n, r in zip((99, 100, 101), rows)]
    assert renumbered[1].startswith("100) 21:")
    head = [" 16 point match", "", " Game 1"]
    m = read(tmp_path, "\n".join(head + [" p : 3                          q : 5"] + renumbered))
    assert m.match_length == 16 and m.games[0].score == (3, 5) and m.players == ("p", "q")
    assert len(m.games[0].plays) == 6 and m.games[0].ok
    # gnubg's single-game export writes the names without scores
    m = read(tmp_path, "\n".join(head + [" gnubg                          root"] + rows))
    assert m.players == ("gnubg", "root") and len(m.games[0].plays) == 6


def test_beavers_and_cube_values(tmp_path):
    m = read(tmp_path, """\
         0 point match

         Game 1
         a : 0                          b : 0
          1) 31: 8/5 6/5                 Doubles => 2
          2)  Beavers => 4               42: 8/4 6/4
          3) 62: 24/18 13/11             Doubles => 8
          4)  Drops
        """)
    g = m.games[0]
    assert [a.kind for a in g.actions if isinstance(a, CubeAction)] == ["double", "beaver", "double", "drop"]
    assert g.plays[1].cube == 4
    assert (g.winner, g.points) == (1, 4)


@pytest.mark.parametrize("rows, line, reason", [
    # b doubles, a takes and owns the cube; b doubles again
    (["  1) 31: 8/5 6/5                 Doubles => 2", "  2)  Takes                      42: 8/4 6/4",
      "  3) 62: 24/18 13/11             Doubles => 4"], 7, "the other side owns the cube"),
    (["  1) 31: 8/5 6/5                 Takes"], 5, "no double was offered"),
    (["  1) 31: 8/5 6/5                 Doubles => 2", "  2)  Doubles => 4"], 6, "while a double waits"),
])
def test_illegal_cube_actions_are_reported_with_file_and_line(tmp_path, rows, line, reason):
    head = ["     3 point match", "", "     Game 1", "     a : 0                          b : 0"]
    m = read(tmp_path, "\n".join(head + ["     " + r for r in rows]) + "\n\n" + GOOD_GAME)
    bad, good = m.games
    assert not bad.ok and good.ok                           # the other game is not lost
    assert bad.error.kind == "illegal cube" and bad.error.line == line and reason in bad.error.reason
    assert str(bad.error).startswith(f"{m.path}:{line}: ")


# --- broken games are kept apart; strict mode raises -------------------------------------------

BROKEN = """\
     3 point match

     Game 1
     a : 0                          b : 0
      1) 31: 8/5 6/5                 52: 13/8 13/11
      2) 64: 24/13                   41: 13/9 6/5
      3) 62: 8/2 6/2                 33: 8/5(2) 6/3(2)
    """
GOOD_GAME = """\
     Game 2
     a : 0                          b : 1
      1) 43: 24/20 13/10             21: 13/11 6/5
      2)  Doubles => 2                Drops
          Wins 1 point
    """


def test_broken_game_is_kept_apart(tmp_path):
    # game 1 has an illegal play in row 2 (64 cannot move 24/13)
    text = BROKEN + "\n" + GOOD_GAME
    m = read(tmp_path, text)
    assert len(m.games) == 2
    bad, good = m.games
    assert not bad.ok and good.ok
    assert m.good_games == (good,) and m.broken_games == (bad,)
    err = bad.error
    assert err.line == 6 and err.kind == "illegal play" and "24/13" in err.text
    assert len(bad.plays) == 2                 # the plays before the bad one are kept
    assert str(err).startswith(f"{m.path}:6: ") and str(err).endswith(": 64: 24/13")
    assert m.errors == (err,)
    ds = list(records.decisions(m))
    assert {d.game for d in ds} == {2}         # decisions only from the good game
    with pytest.raises(RecordError) as exc:
        records.read_match(m.path, strict=True)
    assert exc.value.line == 6 and exc.value.reason == err.reason
    # write_mat writes the good games only
    out = tmp_path / "good.mat"
    records.write_mat(m, out)
    assert [g.number for g in records.read_match(out).games] == [2]


def test_play_out_of_turn_and_after_the_end(tmp_path):
    m = read(tmp_path, """\
         1 point match

         Game 1
         a : 0                          b : 0
          1) 31: 8/5 6/5
          2) 42: 8/4 6/4                 21: 13/11 6/5
        """)
    assert m.games[0].error.kind == "out of turn"
    m = read(tmp_path, """\
         1 point match

         Game 1
         a : 0                          b : 0
          1) 31: 8/5 6/5                 Doubles => 2
          2)  Drops
          3) 42: 8/4 6/4
        """)
    assert m.games[0].error.kind == "after end"


# --- files that are not (whole) records: never an exception ------------------------------------

def test_empty_binary_truncated_files(tmp_path):
    empty = tmp_path / "empty.mat"
    empty.write_bytes(b"")
    m = records.read_match(empty)
    assert m.games == () and m.errors[0].kind == "empty file" and str(empty) in str(m.errors[0])
    blank = tmp_path / "blank.txt"
    blank.write_bytes(b"\n  \n")
    assert records.read_match(blank).errors[0].kind == "empty file"

    binary = tmp_path / "binary.mat"
    binary.write_bytes(b"; [Site \"x\"]\n\x00\x01\x02\xff\xfe" * 10)
    m = records.read_match(binary)
    assert m.errors[0].kind == "binary file" and m.errors[0].line == 2
    noise = tmp_path / "noise.sgf"
    noise.write_bytes(bytes(random.Random(1).randrange(1, 32) for _ in range(4000)))
    assert records.read_match(noise).errors[0].kind == "binary file"
    with pytest.raises(RecordError):
        records.read_match(binary, strict=True)

    # cut in the middle of a play: that play cannot be read
    full = GALAXY
    cut = full[: full.index("13/11 13/11") + 4]
    m = records.read_match(write(tmp_path, cut, "cut.mat"))
    assert m.games[0].error is not None and m.games[0].error.line == 10
    # cut between rows: every play is legal but the game never ends
    cut = full[: full.index("      4) 42")]
    m = records.read_match(write(tmp_path, cut, "cut2.mat"))
    assert m.games[0].ok and m.errors[-1].kind == "truncated" and m.errors[-1].line == 11
    # only the headers
    m = records.read_match(write(tmp_path, full[: full.index(" Game 1")], "cut3.mat"))
    assert m.games == () and m.errors[0].kind == "truncated"
    # a truncated SGF keeps the complete nodes
    sgf = "(;FF[4]GM[6]PW[a]PB[b]MI[length:0][game:0][ws:0][bs:0]\n;B[63aglo]\n;W[65fa"
    m = records.read_match(write(tmp_path, sgf, "cut.sgf"))
    assert len(m.games[0].plays) == 1 and m.errors[0].kind == "truncated" and m.errors[0].line == 3
    # a directory or missing file is reported, not raised
    assert records.read_match(tmp_path / "missing.mat").errors[0].kind == "unreadable"


def test_encodings(tmp_path):
    text = GALAXY.replace("mglough", "Jørgen")
    for enc in ("utf-8", "latin-1", "utf-8-sig"):
        p = write(tmp_path, text, f"{enc}.mat", enc)
        m = records.read_match(p)
        assert m.players == ("lasse", "Jørgen") and m.errors == ()
    crlf = write(tmp_path, text.replace("\n", "\r\n"), "crlf.mat")
    assert len(records.read_match(crlf).games) == 2


# --- decisions -----------------------------------------------------------------------------------

def test_decisions(tmp_path):
    m = read(tmp_path, GALAXY)
    ds = list(records.decisions(m))
    plays = [p for g in m.games for p in g.plays if p.n_legal > 0]
    assert len(ds) == len(plays)
    d = ds[0]
    assert d.player == "mglough" and d.player_index == 1 and d.dice == (5, 1)
    assert np.array_equal(d.board, start_board())
    assert d.n_legal == 8 and not d.forced          # 51 from the start: 8 results
    assert d.match_length == 5 and d.score == (0, 0)
    g2 = [x for x in ds if x.game == 2]
    assert g2[0].player == "lasse" and g2[0].score == (1, 0) and g2[1].score == (0, 1)
    for x in ds:
        assert x.forced == (x.n_legal == 1)
        # the chosen result is one of the legal results of the roll
        assert any(np.array_equal(x.chosen, p.board) for p in legal_plays(x.board, *x.dice))


# --- gnubg's files: the SGF equals its .mat twin; write_mat reproduces gnubg's layout -------------

needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"no gnubg samples at {SAMPLES}")


@needs_samples
def test_sgf_equals_its_mat_twin():
    sgf = records.read_match(SAMPLES / "gnubg_2ply_cubeless_money_game1.sgf")
    mat = records.read_match(SAMPLES / "gnubg_2ply_cubeless_money_game1.mat")
    assert sgf.errors == () and mat.errors == ()
    assert sgf.players == mat.players == ("gnubgA", "gnubgB")
    assert sgf.match_length == mat.match_length == 0
    assert [signature(g) for g in sgf.games] == [signature(g) for g in mat.games]
    a, b = io.StringIO(), io.StringIO()
    records.write_mat(sgf, a)
    records.write_mat(mat, b)
    assert a.getvalue() == b.getvalue()
    # gnubg's analysis rides along as labels: the played move is among the candidates
    ds = list(records.decisions(sgf))
    assert all(d.candidates for d in ds)
    for d in ds:
        boards = [c[0] for c in d.candidates]
        assert all(isinstance(c, np.ndarray) for c in boards)
        assert any(np.array_equal(d.chosen, c) for c in boards)
        assert all(isinstance(c[1], float) for c in d.candidates)


def _layout_only(text: str) -> list[str]:
    """A .mat text with each play's moves sorted: gnubg and the engine may list the single-die
    moves of a play in another order."""
    out = []
    for line in text.splitlines():
        cells = [c for c in line.split("  ") if c]
        out.append((len(line), [" ".join(sorted(c.split())) for c in cells]))
    return out


@needs_samples
@pytest.mark.parametrize("name", ["gnubg_0ply_1pt_match.mat", "gnubg_2ply_cubeless_money_game1.mat"])
def test_write_mat_matches_gnubg_layout(name, tmp_path):
    m = records.read_match(SAMPLES / name)
    out = tmp_path / "out.mat"
    records.write_mat(m, out)
    written, original = out.read_text(), (SAMPLES / name).read_text()
    # same lines, same widths; a play may list the same single-die moves in another order
    assert len(written.splitlines()) == len(original.splitlines())
    for w, o in zip(written.splitlines(), original.splitlines()):
        assert len(w) == len(o), (w, o)
        if ")" not in o:
            assert w == o
    back = records.read_match(out)
    assert [signature(g) for g in back.games] == [signature(g) for g in m.games]


def test_write_mat_round_trip_inline(tmp_path):
    for text in (GALAXY, STUDIO):
        m = read(tmp_path, text)
        out = tmp_path / "rt.mat"
        records.write_mat(m, out)
        back = records.read_match(out)
        assert back.errors == ()
        assert [signature(g) for g in back.games] == [signature(g) for g in m.games]
        assert back.players == m.players and back.match_length == m.match_length
        # games alone can be written too (without the match's header tags)
        buf = io.StringIO()
        records.write_mat(m.games, buf, headers=m.headers)
        assert buf.getvalue() == out.read_text()


# --- the human-record corpus ------------------------------------------------------------------

needs_corpus = pytest.mark.skipif(not HUMAN.is_dir(), reason=f"no human records at {HUMAN}")

# measured on the 1,588 files of ../shared/data/human-records
N_FILES = 1588
N_GAMES = 3839
N_PLAYS = 163_361          # rolls with a play written, "cannot move" included
N_NO_MOVE = 16_348         # of which nothing could be moved
N_UNPLAYED = 4             # "????": the game ended before the roll was played
N_DECISIONS = 147_013      # plays with at least one legal result (what decisions() yields)
N_NON_FORCED = 131_966     # ... with at least two


def _corpus_files() -> list[Path]:
    return sorted(p for p in HUMAN.iterdir() if p.suffix in (".txt", ".mat", ".sgf"))


@pytest.fixture(scope="module")
def corpus():
    return [(p, records.read_match(p)) for p in _corpus_files()]


@needs_corpus
def test_corpus_replays_legally(corpus):
    assert len(corpus) == N_FILES
    errors = [str(e) for _p, m in corpus for e in m.errors]
    assert errors == []                       # every play replays legally
    games = [g for _p, m in corpus for g in m.games]
    plays = [a for g in games for a in g.plays]
    assert len(games) == N_GAMES
    assert len(plays) == N_PLAYS
    assert sum(a.n_legal == 0 for a in plays) == N_NO_MOVE
    assert sum(isinstance(a, Unplayed) for g in games for a in g.actions) == N_UNPLAYED
    ds = [d for _p, m in corpus for d in records.decisions(m)]
    assert len(ds) == N_DECISIONS
    assert sum(not d.forced for d in ds) == N_NON_FORCED
    # every game has a winner, and the next game's score follows from it
    for _p, m in corpus:
        for a, b in zip(m.games, m.games[1:]):
            expected = list(a.score)
            expected[a.winner] += a.points
            assert tuple(expected) == b.score, (m.path, a.number)


def _round_trip(path: Path, m: records.Match) -> None:
    buf = io.StringIO()
    records.write_mat(m, buf)
    back = parse_mat(buf.getvalue(), str(path) + " (written)")
    assert back.errors == (), back.errors[:3]
    assert back.players == m.players and back.match_length == m.match_length
    assert [signature(g) for g in back.games] == [signature(g) for g in m.games], path


@needs_corpus
def test_corpus_write_mat_round_trip(corpus):
    # about 20 s for all 1,588 files on the reference machine: no need for a sample
    for path, m in corpus:
        _round_trip(path, m)


# --- each decision carries its roll's legal results, generated once by the replay ----------------

def _same_positions(a: np.ndarray, b: np.ndarray) -> bool:
    return {r.tobytes() for r in a} == {r.tobytes() for r in b} and len(a) == len(b)


def check_carried_results(ds) -> None:
    """d.results are the engine's legal results of (board, dice), in its order; chosen is among them."""
    from games.backgammon import legal_results_batch

    boards = np.stack([d.board for d in ds])
    dice = np.array([d.dice for d in ds])
    results, offsets = legal_results_batch(boards, dice)
    for i, d in enumerate(ds):
        assert d.results.dtype == np.int8 and d.results.shape == (d.n_legal, 2, 25)
        assert not d.results.flags.writeable
        assert np.array_equal(d.results, results[offsets[i]:offsets[i + 1]]), (d.file, d.line)
        assert np.array_equal(d.results[d.chosen_index], d.chosen), (d.file, d.line)
        assert d.forced == (len(d.results) == 1)


def test_decisions_carry_legal_results(tmp_path):
    ds = [d for text in (GALAXY, STUDIO) for d in records.decisions(read(tmp_path, text))]
    # the bundled gnubg corpus too: about 10,000 decisions
    for path in records.record_files(records.corpus_dir())[:2]:
        ds += list(records.decisions(records.read_match(path)))
    assert len(ds) > 5000
    check_carried_results(ds)
    # sets of positions, as the issue asks, on a few: no duplicates, chosen among them
    for d in ds[:200]:
        assert _same_positions(d.results, np.stack([p.board for p in legal_plays(d.board, *d.dice)]))
    # the checker play keeps the same arrays (no copy per decision)
    m = read(tmp_path, GALAXY)
    play = next(p for g in m.games for p in g.plays if p.n_legal)
    d = next(records.decisions(m))
    assert d.results is play.results and d.chosen_index == play.chosen_index
    assert play.play.notation == "24/23 13/8"


def test_decisions_of_plays_made_outside_replay():
    """A game built from CheckerPlay values without results (a game being played, generated
    games) still gives decisions with results and chosen_index."""
    b = start_board()
    play = legal_plays(b, 3, 1)[2]
    game = records.Game(1, (0, 0), (CheckerPlay(0, (3, 1), "", 0, b, play.board, play, 16),), ("a", "b"))
    (d,) = records.decisions(game)
    assert len(d.results) == 16 and np.array_equal(d.results[d.chosen_index], play.board)


BAD_TEXTS = ["", "cannot move", "no legal moves", "24/18 13/8 6/1", "13/10 13/10", "24/13*",
             "8/5*", "25/20", "13/7(2)", "x/3", "6/off", "24/18 24/19", "8/2 6/1", "13/8"]


def test_written_plays_read_as_parse_play_reads_them():
    """records/written.py reads texts against the generated list exactly as parse_play does:
    the same play for every legal play's notation (and its spellings), the same message otherwise."""
    from games.backgammon import parse_play, random_positions
    from games.backgammon.records.written import index_of_written
    from games.backgammon.rules.legal import NotationError

    boards, dice = random_positions(150, seed=5)
    checked = 0
    for b, (d1, d2) in zip(boards, dice):
        plays = legal_plays(b, d1, d2)
        results = plays.boards
        spellings = [p.notation for p in plays]
        spellings += [t.replace("*", "").replace("off", "0") for t in spellings]
        for text in dict.fromkeys(spellings + BAD_TEXTS):  # each text once, in order
            try:
                want = parse_play(b, d1, d2, text)
            except NotationError as e:
                with pytest.raises(NotationError) as got:
                    index_of_written(b, d1, d2, text, results)
                assert str(got.value) == str(e), (b.tolist(), d1, d2, text)
                continue
            i = index_of_written(b, d1, d2, text, results)
            if i is None:
                assert not plays and np.array_equal(want.board, b)
            else:
                assert np.array_equal(results[i], want.board), (b.tolist(), d1, d2, text)
            checked += 1
    assert checked > 2000


# --- the human corpus against independent oracles: gnubg-nn's move generator, gnubg's analyses --

N_CANDIDATES = 2_666_964   # legal results of the non-forced decisions: the training set's items


def _gnubg_count(gnubg, board, d1, d2) -> set:
    """gnubg-nn's distinct legal results of the roll, as its position keys (the layout is ours:
    the player on roll in board[1]); none when it lists only the unchanged board."""
    ref = set(gnubg.moves(board.tolist(), int(d1), int(d2)))
    if len(ref) == 1 and gnubg.key_of_board(board.tolist()) in ref:
        return set()
    return ref


@needs_corpus
def test_corpus_counts_equal_gnubgs_move_generator(corpus, gnubg):
    """Every roll's number of distinct legal results equals gnubg-nn's: so the README's counts of
    decisions, non-forced decisions and candidates are gnubg's too. Results compared as positions
    on a sample (all of them: test_corpus_results_equal_gnubgs_positions, slow)."""
    plays = [a for _p, m in corpus for g in m.games for a in g.plays]
    counts = np.array([len(_gnubg_count(gnubg, a.board, *a.dice)) for a in plays])
    ours = np.array([a.n_legal for a in plays])
    bad = np.flatnonzero(counts != ours)
    assert len(bad) == 0, [(plays[i].line, plays[i].text, ours[i], counts[i]) for i in bad[:5]]
    assert (counts == 0).sum() == N_NO_MOVE
    assert (counts >= 1).sum() == N_DECISIONS
    assert (counts >= 2).sum() == N_NON_FORCED
    assert counts[counts >= 2].sum() == N_CANDIDATES
    ds = [d for _p, m in corpus for d in records.decisions(m)]
    assert sum(len(d.results) for d in ds if not d.forced) == N_CANDIDATES
    sample = ds[::40]
    check_carried_results(sample)
    for d in sample:
        assert {gnubg.key_of_board(r.tolist()) for r in d.results} == _gnubg_count(gnubg, d.board, *d.dice)


@needs_corpus
@pytest.mark.slow
def test_corpus_results_equal_gnubgs_positions(corpus, gnubg):
    ds = [d for _p, m in corpus for d in records.decisions(m)]
    check_carried_results(ds)
    for d in ds:
        assert {gnubg.key_of_board(r.tolist()) for r in d.results} == _gnubg_count(gnubg, d.board, *d.dice), \
            (d.file, d.line)


ANALYSIS = DATA / "human-analysis" / "lasse-4ply.jsonl.gz"
needs_analysis = pytest.mark.skipif(not (HUMAN.is_dir() and ANALYSIS.is_file()), reason=f"no analyses at {ANALYSIS}")


def check_analysed_decisions(ds) -> int:
    """gnubg's played move and every candidate it listed are among our candidates; the played
    one is the record's choice. Returns how many decisions had an analysis."""
    from games.backgammon.records.analysis import analyses_of, read_analysis_index
    from games.backgammon.records.written import index_of_written

    index = read_analysis_index(ANALYSIS)
    analysed = 0
    for d, a in zip(ds, analyses_of(index, ds)):
        if a is None:
            continue
        analysed += 1
        row = index[(Path(d.file).name, d.game, position_id(d.board), tuple(sorted(d.dice)))]
        assert index_of_written(d.board, *d.dice, row["played"], d.results) == d.chosen_index, (d.file, d.line)
        listed = {r.tobytes() for r in a.results}
        assert listed <= {r.tobytes() for r in d.results}
        assert len(listed) == len(row["candidates"])
    return analysed


@needs_analysis
def test_analysed_choices_are_among_our_candidates(corpus):
    """A sample of the decisions gnubg analysed (every 20th of the human corpus's)."""
    ds = [d for _p, m in corpus for d in records.decisions(m)][::20]
    assert check_analysed_decisions(ds) > 2500


@needs_analysis
@pytest.mark.slow
def test_all_analysed_choices_are_among_our_candidates(corpus):
    ds = [d for _p, m in corpus for d in records.decisions(m)]
    assert check_analysed_decisions(ds) > 90_000


def test_the_default_analysis_file_is_found(shared_data_dir):
    """bench accuracy and analysis targets find gnubg's analyses beside the checkout by default."""
    from games.backgammon.commands.accuracy import DEFAULT_ANALYSIS

    assert records.shared_data_dir().resolve() == shared_data_dir.resolve()
    assert DEFAULT_ANALYSIS == records.default_analysis_path() and DEFAULT_ANALYSIS.is_file()
