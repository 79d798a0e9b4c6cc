"""gnubg Position ID / Match ID codec, against gnubg itself and against real analysed records."""
import base64
import gzip
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from games.backgammon import as_board, random_positions, start_board
from games.backgammon.rules.ids import (
    MatchState,
    board_from_position_id,
    match_id,
    parse_match_id,
    position_id,
)

from conftest import shared_data

ANALYSIS = shared_data() / "human-analysis" / "lasse-4ply.jsonl.gz"


def random_boards(n: int, seed: int) -> np.ndarray:
    """Valid boards of every kind (any checker counts, bars, borne-off), not only reachable ones."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 2, 25), np.int8)
    for k in range(n):
        b = out[k]
        for side in (1, 0):
            for _ in range(int(rng.integers(0, 16))):
                i = int(rng.integers(0, 25))
                # the two sides never share a point: mover's index i faces opponent's 23 - i
                if i < 24 and (b[1 - side, 23 - i] > 0):
                    continue
                b[side, i] += 1
    return out


def all_test_boards() -> np.ndarray:
    boards, _ = random_positions(6000, seed=11)
    return np.concatenate([boards, random_boards(4500, seed=12)])


def test_start_position():
    assert position_id(start_board()) == "4HPwATDgc/ABMA"
    assert np.array_equal(board_from_position_id("4HPwATDgc/ABMA"), start_board())
    b = board_from_position_id("4HPwATDgc/ABMA")
    assert b.dtype == np.int8 and b.shape == (2, 25)


def test_known_ids_from_gnubg_analysis():
    # game 1 of the shared analysis: after 24/21 13/11, then the reply position
    b = board_from_position_id("4HPkASLgc/ABMA")
    assert position_id(b) == "4HPkASLgc/ABMA"
    assert b[1].sum() == 15 and b[0].sum() == 15


def test_random_boards_are_valid():
    for b in random_boards(300, seed=1):
        as_board(b)


def test_against_gnubg_and_round_trip():
    gnubg_nn = pytest.importorskip("gnubg_nn")
    boards = all_test_boards()
    assert len(boards) >= 10_000
    for b in boards:
        pid = position_id(b)
        assert pid == gnubg_nn.position_id(b.tolist()), b.tolist()
        back = board_from_position_id(pid)
        assert np.array_equal(back, b)
    for b in boards[::7]:
        pid = position_id(b)
        assert np.array_equal(np.array(gnubg_nn.board_from_position_id(pid)), b)


def test_round_trip_without_oracle():
    for b in random_boards(2000, seed=5):
        assert np.array_equal(board_from_position_id(position_id(b)), b)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 24), max_size=15), st.lists(st.integers(0, 24), max_size=15))
def test_round_trip_property(mine, theirs):
    b = np.zeros((2, 25), np.int8)
    for i in mine:
        b[1, i] += 1
    for j in theirs:
        if j == 24 or b[1, 23 - j] == 0:
            b[0, j] += 1
    assert np.array_equal(board_from_position_id(position_id(b)), b)


@pytest.mark.parametrize(
    "pid, words",
    [
        ("4HPwATDgc/ABM", "exactly 14"),
        ("4HPwATDgc/ABMAA", "exactly 14"),
        ("", "exactly 14"),
        ("4HPwATDgc/AB!A", "outside base64"),
        ("4HPwATDgc/AB=A", "outside base64"),
        ("4HPwATDgc-ABMA", "outside base64"),
        ("//////////////", "more than 30"),
    ],
)
def test_bad_position_ids(pid, words):
    with pytest.raises(ValueError, match=words):
        board_from_position_id(pid)


def _raw_id(rows) -> str:
    """A Position ID written without validation, to make invalid ones."""
    bits = []
    for row in rows:
        for n in row:
            bits += [1] * n + [0]
    raw = bytearray(10)
    for i, bit in enumerate(bits[:80]):
        raw[i // 8] |= bit << (i % 8)
    return base64.b64encode(bytes(raw)).decode()[:14]


def test_decoded_invalid_boards_are_rejected():
    both = [[0] * 25, [0] * 25]
    both[0][0] = 2  # opponent's 1-point = mover's 24-point
    both[1][23] = 1
    with pytest.raises(ValueError, match="both sides"):
        board_from_position_id(_raw_id(both))
    sixteen = [[0] * 25, [0] * 25]
    sixteen[1][5] = 16
    with pytest.raises(ValueError, match="more than 15"):
        board_from_position_id(_raw_id(sixteen))


def test_position_id_rejects_invalid_board():
    b = start_board()
    b[1, 0] = 9
    with pytest.raises(ValueError):
        position_id(b)


# ---------------------------------------------------------------------------- Match ID


def test_match_id_example():
    s = parse_match_id("cAmmAAAAAAAE")
    assert s == MatchState(on_roll=1, turn=1, dice=(4, 1), match_length=5)
    assert s.cube == 1 and s.cube_owner == -1 and s.score == (0, 0) and not s.crawford
    assert s.game_state_name == "playing" and not s.jacoby
    assert match_id(s) == "cAmmAAAAAAAE"
    assert match_id(on_roll=1, turn=1, dice=(4, 1), match_length=5) == "cAmmAAAAAAAE"


states = st.builds(
    MatchState,
    cube=st.sampled_from([1 << k for k in range(16)]),
    cube_owner=st.sampled_from([-1, 0, 1]),
    on_roll=st.sampled_from([0, 1]),
    crawford=st.booleans(),
    game_state=st.integers(0, 4),
    turn=st.sampled_from([0, 1]),
    doubled=st.booleans(),
    resigned=st.integers(0, 3),
    dice=st.one_of(st.just((0, 0)), st.tuples(st.integers(1, 6), st.integers(1, 6))),
    match_length=st.integers(0, 2**15 - 1),
    score=st.tuples(st.integers(0, 2**15 - 1), st.integers(0, 2**15 - 1)),
    jacoby=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(states)
def test_match_id_round_trip(state):
    mid = match_id(state)
    assert len(mid) == 12
    assert parse_match_id(mid) == state


def _with_field(mid: str, start: int, width: int, value: int) -> str:
    """``mid`` with one bit field overwritten, to make Match IDs that cannot occur."""
    raw = bytearray(base64.b64decode(mid))
    for k in range(width):
        byte, bit = divmod(start + k, 8)
        raw[byte] = (raw[byte] & ~(1 << bit)) | (((value >> k) & 1) << bit)
    return base64.b64encode(bytes(raw)).decode()


def test_bad_match_ids():
    with pytest.raises(ValueError, match="exactly 12"):
        parse_match_id("cAmmAAAAAAA")
    with pytest.raises(ValueError, match="outside base64"):
        parse_match_id("cAmmAAAAAAA*")
    good = match_id(dice=(3, 1), match_length=7)
    assert parse_match_id(_with_field(good, 0, 4, 3)).cube == 8
    with pytest.raises(ValueError, match="cube owner"):
        parse_match_id(_with_field(good, 4, 2, 2))
    with pytest.raises(ValueError, match="game state"):
        parse_match_id(_with_field(good, 8, 3, 7))
    with pytest.raises(ValueError, match="dice"):
        parse_match_id(_with_field(good, 15, 3, 7))
    with pytest.raises(ValueError, match="dice"):
        parse_match_id(_with_field(good, 18, 3, 0))  # one die rolled, not the other


def test_match_state_validation():
    with pytest.raises(ValueError, match="power of two"):
        MatchState(cube=3)
    with pytest.raises(ValueError, match="dice"):
        MatchState(dice=(0, 4))
    with pytest.raises(ValueError, match="dice"):
        MatchState(dice=(7, 1))
    with pytest.raises(ValueError, match="cube owner"):
        MatchState(cube_owner=2)


@pytest.mark.skipif(not ANALYSIS.exists(), reason="shared analysis data not present")
def test_real_ids_from_gnubg_analysis():
    """Every Position ID and Match ID that gnubg wrote for 99,556 human decisions."""
    n = 0
    with gzip.open(ANALYSIS, "rt") as f:
        for line in f:
            rec = json.loads(line)
            state = parse_match_id(rec["match_id"])
            assert list(state.dice) == rec["dice"], rec
            assert match_id(state) == rec["match_id"]
            if n % 5 == 0:  # the position codec is covered above; a fifth keeps this quick
                b = board_from_position_id(rec["position_id"])
                assert position_id(b) == rec["position_id"]
            n += 1
    assert n > 90_000
