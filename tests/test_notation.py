"""Notation out (gnubg's spelling, checked against gnubg's own analyses) and in (as people write)."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

import games.backgammon as bg
from games.backgammon.rules.board import start_board


def analysis_records(shared_data_dir, limit):
    path = shared_data_dir / "human-analysis" / "lasse-4ply.jsonl.gz"
    if not path.exists():
        pytest.skip(f"{path} not found")
    with gzip.open(path, "rt") as f:
        for k, line in enumerate(f):
            if limit is not None and k >= limit:
                return
            yield json.loads(line)


def check_against_gnubg(records):
    """Every play gnubg listed (and the one the person made) is spelled exactly as one of our
    legal plays, and reading that text back gives the same play."""
    n = 0
    for r in records:
        board = bg.board_from_position_id(r["position_id"])
        d1, d2 = r["dice"]
        by_text = {p.notation: p for p in bg.legal_plays(board, d1, d2)}
        for text in [c["play"] for c in r["candidates"]] + [r["played"]]:
            assert text in by_text, (r["position_id"], r["dice"], text, sorted(by_text))
            assert bg.parse_play(board, d1, d2, text) == by_text[text]
            n += 1
    return n


def test_gnubg_spelling_sample(shared_data_dir):
    assert check_against_gnubg(analysis_records(shared_data_dir, 15_000)) > 80_000


@pytest.mark.slow
def test_gnubg_spelling_all(shared_data_dir):
    """All 99,556 analysed decisions: 562,940 plays as gnubg wrote them."""
    assert check_against_gnubg(analysis_records(shared_data_dir, None)) == 562_940


@pytest.mark.parametrize("text,expected", [
    ("24/18 13/8", "24/18 13/8"),
    ("13/8 24/18", "24/18 13/8"),           # any order
    ("24/18* 13/8", None),                  # '*' where nothing is hit is only a mark
    ("13 / 8, 24 / 18", "24/18 13/8"),      # spaces and commas
    ("24/13", "24/13"),                     # one checker, both dice
    ("24/18/13", "24/13"),                  # chained
    ("24/19/13", "24/13"),                  # the other way round is the same play
])
def test_parse_forms_start_65(text, expected):
    b = start_board()
    if expected is None:
        with pytest.raises(bg.NotationError):
            bg.parse_play(b, 6, 5, text.replace("24/18*", "24/18*/x"))
        assert bg.parse_play(b, 6, 5, text).notation == "24/18 13/8"
        return
    assert bg.parse_play(b, 6, 5, text).notation == expected


@pytest.mark.parametrize("text", [
    "13/7(2) 8/2(2)", "13/7 13/7 8/2 8/2", "8/2(2) 13/7(2)", "13/7(2), 8/2(2)", "13/7 (2) 8/2 (2)",
])
def test_parse_doubles(text):
    assert bg.parse_play(start_board(), 6, 6, text).notation == "13/7(2) 8/2(2)"


def test_parse_bar_and_off_spellings():
    b = np.zeros((2, 25), np.int8)
    b[1, 24] = 1  # on the bar
    b[1, 0] = 14  # everything else on the 1-point
    b[0, 5] = 1   # an opponent blot on its 6-point = the mover's 19-point
    for text in ("bar/19*/14", "25/19/14", "bar/19*/14", "BAR/14", "25/14"):
        play = bg.parse_play(b, 6, 5, text)
        assert play.notation in ("bar/19*/14", "bar/14")
    assert bg.parse_play(b, 6, 5, "bar/19*/14").notation == "bar/19*/14"
    assert bg.parse_play(b, 6, 5, "bar/19/14").notation == "bar/19*/14"  # landing there hits
    assert bg.parse_play(b, 6, 5, "bar/20/14").notation == "bar/14"
    home = np.zeros((2, 25), np.int8)
    home[1, 5] = 2
    home[0, 20] = 15
    for text in ("6/off(2)", "6/0 6/0", "6/off 6/off", "6/0(2)"):
        assert bg.parse_play(home, 6, 6, text).notation == "6/off(2)"


def test_hit_or_not_through_the_named_points():
    # 24/13 with 6-5 can pass 18 (a blot: hitting) or 19 (not): the written points decide
    b = np.zeros((2, 25), np.int8)
    b[1, 23] = 1
    b[1, 0] = 14
    b[0, 6] = 1  # an opponent blot on its 7-point = the mover's 18-point
    assert bg.parse_play(b, 6, 5, "24/18*/13").notation == "24/18*/13"
    assert bg.parse_play(b, 6, 5, "24/18/13").notation == "24/18*/13"
    assert bg.parse_play(b, 6, 5, "24/19/13").notation == "24/13"
    assert bg.parse_play(b, 6, 5, "24/13").notation == "24/13"
    with pytest.raises(bg.NotationError, match="hits that no legal play makes"):
        bg.parse_play(b, 6, 5, "24/13*")  # no blot on 13


@pytest.mark.parametrize("text,reason", [
    ("24/14", "pips"),
    ("6/9", "higher to lower"),
    ("13/7 13/7", "pips"),
    ("2/1", "not enough checkers"),
    ("hello", "cannot read"),
    ("30/24", "outside 1..24"),
    ("", "must be made"),
])
def test_illegal_plays_say_why(text, reason):
    with pytest.raises(bg.NotationError, match=reason):
        bg.parse_play(start_board(), 6, 5, text)


def test_blocked_point_reason():
    b = start_board()
    with pytest.raises(bg.NotationError, match="held by the opponent"):
        bg.parse_play(b, 6, 5, "24/18 24/19")  # the opponent's 6-point is the mover's 19


def test_bar_must_enter_first_reason():
    b = start_board()
    b[1, 5] -= 1
    b[1, 24] = 1
    with pytest.raises(bg.NotationError, match="bar must enter first"):
        bg.parse_play(b, 3, 1, "8/5 6/5")


def test_cannot_move():
    b = np.zeros((2, 25), np.int8)
    b[1, 24] = 1
    b[1, 0] = 14
    for i in range(18, 24):
        b[0, 23 - i] = 2  # the opponent's home board is closed
    assert bg.legal_plays(b, 6, 5) == []
    for text in ("", "Cannot Move", "no move"):
        play = bg.parse_play(b, 6, 5, text)
        assert np.array_equal(play.board, b)
    with pytest.raises(bg.NotationError, match="no checker can move"):
        bg.parse_play(b, 6, 5, "bar/19")


def test_every_generated_notation_reads_back():
    boards, dice = bg.random_positions(3000, seed=17)
    for b, (d1, d2) in zip(boards, dice):
        for p in bg.legal_plays(b, d1, d2):
            assert bg.parse_play(b, d1, d2, p.notation) == p
