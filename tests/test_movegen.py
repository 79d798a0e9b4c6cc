"""The move generator against the rules' test vectors, a plain-Python reference, and gnubg-nn."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import games.backgammon as bg
from games.backgammon.rules.board import start_board
from games.backgammon.rules.legal import Plays

OPENING_COUNTS = {
    (2, 1): 15, (3, 1): 16, (4, 1): 14, (5, 1): 8, (6, 1): 10, (3, 2): 17, (4, 2): 18,
    (5, 2): 8, (6, 2): 14, (4, 3): 17, (5, 3): 9, (6, 3): 14, (5, 4): 9, (6, 4): 14,
    (6, 5): 7, (1, 1): 42, (2, 2): 75, (3, 3): 73, (4, 4): 52, (5, 5): 4, (6, 6): 11,
}


def make_board(mover: dict, opponent: dict) -> np.ndarray:
    """A board from {point: count} in each side's own numbering ('bar' for the bar)."""
    b = np.zeros((2, 25), np.int8)
    for row, spec in ((1, mover), (0, opponent)):
        for p, c in spec.items():
            b[row, 24 if p == "bar" else p - 1] = c
    return b


def keys(plays) -> set[bytes]:
    return {p.board.tobytes() for p in plays}


# ---------------------------------------------------------------- rules.md vectors

@pytest.mark.parametrize("roll,count", sorted(OPENING_COUNTS.items()))
def test_opening_counts(roll, count):
    assert len(bg.legal_plays(start_board(), *roll)) == count
    assert len(bg.legal_plays(start_board(), roll[1], roll[0])) == count


def test_opening_totals_and_replies():
    b = start_board()
    openings = [p for (d1, d2) in OPENING_COUNTS if d1 != d2 for p in bg.legal_plays(b, d1, d2)]
    assert len(openings) == 190
    distinct = {p.board.tobytes(): p.board for p in openings}
    assert len(distinct) == 175
    total, seen = 0, set()
    for board in distinct.values():
        reply = bg.swap_sides(board)
        for d1 in range(1, 7):
            for d2 in range(1, d1 + 1):
                plays = bg.legal_plays(reply, d1, d2)
                total += len(plays)
                seen |= keys(plays)
    assert total == 82_270
    assert len(seen) == 71_485


SMALL_CASES = [
    # (dice, mover, opponent, expected notations)
    ((1, 2), {1: 1, 2: 1}, {}, {"2/off 1/off", "2/1/off"}),
    ((5, 6), {1: 1, 2: 1}, {}, {"2/off 1/off"}),
    ((1, 1), {24: 2}, {}, {"24/20", "24/21 24/23", "24/22(2)"}),
    ((5, 6), {24: 1}, {7: 1}, {"24/18*/13", "24/13"}),
    ((5, 6), {24: 1}, {7: 2}, {"24/13"}),
    ((6, 6), {24: 1}, {7: 2}, set()),
    ((5, 6), {"bar": 1}, {6: 1}, {"bar/19*/14", "bar/14"}),
    ((3, 4), {"bar": 1, 6: 1}, {1: 2, 2: 2, 5: 2, 6: 2, 7: 2, 23: 2}, {"bar/21 6/3"}),
    # rule 2: only one die can be played and either could be: the larger (13/7)
    ((6, 5), {13: 1}, {23: 2}, {"13/7"}),
]


@pytest.mark.parametrize("dice,mover,opponent,expected", SMALL_CASES)
def test_small_cases(dice, mover, opponent, expected):
    # compared as positions: rules.md writes "2/1/off" where gnubg writes the same play
    # "2/off" (gnubg's own spelling is checked against its analyses in test_notation.py)
    board = make_board(mover, opponent)
    plays = bg.legal_plays(board, *dice)
    assert keys(plays) == {bg.parse_play(board, *dice, text).board.tobytes() for text in expected}
    assert len(plays) == len(expected) == len(keys(plays))  # distinct results


def test_one_die_after_entering_is_lost_when_blocked():
    # the 3 cannot enter (22 held); entering with the 4, the 3 is then blocked everywhere
    b = make_board({"bar": 1, 13: 14}, {2: 2, 3: 2, 5: 2, 6: 2, 7: 2, 15: 2, 16: 2})
    plays = bg.legal_plays(b, 3, 4)
    assert [p.notation for p in plays] == ["bar/21"]


# ------------------------------------------------------------- plain-Python reference

def reference_plays(board: np.ndarray, d1: int, d2: int) -> set[bytes]:
    """Every rule of rules.md, written plainly: all dice orders, all sequences, then the
    most-dice / larger-die filters, then distinct results."""
    def single_moves(b, die):
        me, opp = b[1], b[0]
        out = []
        sources = [24] if me[24] > 0 else [i for i in range(24) if me[i] > 0]
        for s in sources:
            d = s - die
            if d >= 0:
                if opp[23 - d] >= 2:
                    continue
                nb = b.copy()
                nb[1, s] -= 1
                nb[1, d] += 1
                if nb[0, 23 - d] == 1:
                    nb[0, 23 - d] = 0
                    nb[0, 24] += 1
                out.append(nb)
            else:
                if me[6:].sum() > 0:
                    continue
                if d < -1 and me[s + 1:6].sum() > 0:
                    continue
                nb = b.copy()
                nb[1, s] -= 1
                out.append(nb)
        return out

    orders = [[d1] * 4] if d1 == d2 else [[d1, d2], [d2, d1]]
    leaves = []  # (dice used, pips used, board)

    def walk(b, dice, used):
        nexts = single_moves(b, dice[0]) if dice else []
        if not nexts:
            leaves.append((len(used), sum(used), b))
            return
        for nb in nexts:
            walk(nb, dice[1:], used + [dice[0]])

    for order in orders:
        walk(board.copy(), order, [])
    most = max(n for n, _, _ in leaves)
    if most == 0:
        return set()
    pips = max(p for n, p, _ in leaves if n == most)
    return {b.tobytes() for n, p, b in leaves if n == most and p == pips}


def test_matches_reference_on_random_positions():
    boards, dice = bg.random_positions(3000, seed=11)
    for b, (d1, d2) in zip(boards, dice):
        assert keys(bg.legal_plays(b, d1, d2)) == reference_plays(b, int(d1), int(d2))


@st.composite
def random_board(draw):
    """Any valid board, with bias towards bar, bear-off and blocked points."""
    b = np.zeros((2, 25), np.int8)
    phase = draw(st.sampled_from(["any", "home", "bar"]))
    for row in (1, 0):
        n = draw(st.integers(0 if row == 0 else 1, 15))
        for _ in range(n):
            if phase == "home" and row == 1:
                idx = draw(st.integers(0, 5))
            elif phase == "bar" and draw(st.booleans()):
                idx = 24
            else:
                idx = draw(st.integers(0, 24))
            if idx < 24:
                facing = 23 - idx
                if b[1 - row, facing] > 0:  # both sides on one point is not allowed
                    continue
            b[row, idx] += 1
    return b


@settings(max_examples=400, deadline=None)
@given(random_board(), st.integers(1, 6), st.integers(1, 6))
def test_matches_reference_property(board, d1, d2):
    assert keys(bg.legal_plays(board, d1, d2)) == reference_plays(board, d1, d2)


# --------------------------------------------------------------------- gnubg oracle

def gnubg_results(gnubg, board, d1, d2) -> set[str]:
    ref = set(gnubg.moves(board.tolist(), int(d1), int(d2)))
    if len(ref) == 1 and gnubg.key_of_board(board.tolist()) in ref:
        return set()  # gnubg lists the unchanged board when nothing can move
    return ref


def bar_and_bearoff_positions(n: int, seed: int):
    """Positions rich in checkers on the bar and in bear-offs, built from random ones."""
    rng = np.random.default_rng(seed)
    boards, dice = bg.random_positions(n, seed=seed)
    out = []
    for b in boards:
        b = b.copy()
        if rng.random() < 0.5:  # put up to 3 mover's checkers on the bar
            for _ in range(rng.integers(1, 4)):
                idx = np.nonzero(b[1, :24])[0]
                if len(idx):
                    i = rng.choice(idx)
                    b[1, i] -= 1
                    b[1, 24] += 1
        else:  # a bear-off: the mover's checkers moved into its home board, some off
            b = np.zeros((2, 25), np.int8)
            for _ in range(rng.integers(1, 16)):
                b[1, rng.integers(0, 6)] += 1
            for _ in range(rng.integers(1, 16)):
                j = rng.integers(0, 25)
                if j == 24 or b[1, 23 - j] == 0:
                    b[0, j] += 1
        out.append(b)
    return np.array(out), dice


def compare_with_gnubg(gnubg, boards, dice):
    results, offsets = bg.legal_results_batch(boards, dice)
    for i, (b, (d1, d2)) in enumerate(zip(boards, dice)):
        mine = {gnubg.key_of_board(r.tolist()) for r in results[offsets[i]:offsets[i + 1]]}
        assert mine == gnubg_results(gnubg, b, d1, d2), (b.tolist(), d1, d2)


def test_gnubg_random_play_100k(gnubg):
    """100,000 positions from random games, batched, equal to gnubg's move generator."""
    boards, dice = bg.random_positions(100_000, seed=2026)
    compare_with_gnubg(gnubg, boards, dice)


def test_gnubg_bar_and_bearoff(gnubg):
    boards, dice = bar_and_bearoff_positions(20_000, seed=7)
    compare_with_gnubg(gnubg, boards, dice)


def test_single_calls_equal_batch():
    boards, dice = bg.random_positions(500, seed=3)
    results, offsets = bg.legal_results_batch(boards, dice)
    for i, (b, (d1, d2)) in enumerate(zip(boards, dice)):
        single = [p.board for p in bg.legal_plays(b, d1, d2)]
        assert len(single) == offsets[i + 1] - offsets[i]
        assert keys(bg.legal_plays(b, d1, d2)) == {r.tobytes() for r in results[offsets[i]:offsets[i + 1]]}


# ---------------------------------------------------------------------- validation

@pytest.mark.parametrize("mutate,match", [
    (lambda b: b.__setitem__((1, 3), -1), "negative"),
    (lambda b: b.__setitem__((1, 0), 9), "more than 15"),
    (lambda b: (b.__setitem__((0, 5), 4), b.__setitem__((0, 18), 1)), "both sides"),
])
def test_invalid_boards_raise(mutate, match):
    b = start_board().astype(np.int64)
    mutate(b)
    with pytest.raises(ValueError, match=match):
        bg.legal_plays(b, 3, 1)


@pytest.mark.parametrize("dice", [(0, 1), (7, 2), (3, 2.5), ("a", 1)])
def test_invalid_dice_raise(dice):
    with pytest.raises(ValueError, match="die"):
        bg.legal_plays(start_board(), *dice)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="shape"):
        bg.legal_plays(np.zeros((2, 24), np.int8), 3, 1)
    with pytest.raises(ValueError, match="shape"):
        bg.legal_results_batch(np.zeros((3, 2, 25), np.int8), np.ones((2, 2), np.int64))
    with pytest.raises(ValueError, match="outside 1..6"):
        bg.legal_results_batch(np.stack([start_board()]), np.array([[0, 3]]))


# ------------------------------------------------------- the lazy list legal_plays returns

def eager_plays(board, d1, d2) -> list:
    """legal_plays as it was before it turned lazy: checked by as_board and check_dice, then every
    Play built at once from the generator's buffers."""
    from games.backgammon.rules import movegen

    b = bg.as_board(board)
    d1, d2 = bg.check_dice(d1, d2)
    bufs = movegen.new_buffers()
    n = movegen.generate(b, d1, d2, *bufs)
    return [bg.Play(bufs[0][i].copy(), bufs[1][i].copy()) for i in range(n)]


def assert_same_plays(plays, eager):
    assert len(plays) == len(eager) and bool(plays) == bool(eager)
    assert plays == eager and eager == plays  # Play == Play: equal results, in the same order
    for lazy, ref in zip(plays, eager):
        assert lazy.key() == ref.key() and lazy.board.dtype == np.int8 and lazy.board.shape == (2, 25)
        assert np.array_equal(lazy.moves, ref.moves) and lazy.notation == ref.notation
    assert plays.boards.shape == (len(eager), 2, 25)
    assert all(np.array_equal(b, p.board) for b, p in zip(plays.boards, eager))


def test_lazy_plays_equal_eager_on_random_positions():
    boards, dice = bg.random_positions(2000, seed=21)
    more, more_dice = bar_and_bearoff_positions(1000, seed=22)
    rng = np.random.default_rng(23)
    for b, (d1, d2) in zip(np.concatenate([boards, more]), np.concatenate([dice, more_dice])):
        eager = eager_plays(b, d1, d2)
        assert_same_plays(bg.legal_plays(b, int(d1), int(d2)), eager)
        # looked at in another order first (one play, from the end), then as a whole
        plays = bg.legal_plays(b, d1, d2)
        if eager:
            k = int(rng.integers(len(eager)))
            assert plays[k - len(eager)] == eager[k] and plays[k] is plays[k - len(eager)]
        assert_same_plays(plays, eager)


@pytest.mark.parametrize("form", ["int64", "list", "fortran", "reversed view", "read-only", "float"])
def test_lazy_plays_from_other_board_forms(form):
    """Boards that are not int8 C-contiguous arrays take the as_board path, with the same plays."""
    boards, dice = bg.random_positions(200, seed=24)
    for b, (d1, d2) in zip(boards, dice):
        if form == "int64":
            x = b.astype(np.int64)
        elif form == "list":
            x = b.tolist()
        elif form == "fortran":
            x = np.asfortranarray(b)
        elif form == "reversed view":
            x = b[::-1].copy()[::-1]  # the same board, a view with negative strides
        elif form == "read-only":
            x = b.copy()
            x.flags.writeable = False
        else:
            x = b.astype(np.float64)
        assert_same_plays(bg.legal_plays(x, d1, d2), eager_plays(b, d1, d2))


def old_error(board, d1, d2):
    """The error the eager legal_plays raised: as_board's first, then check_dice's (None: none)."""
    try:
        bg.as_board(board)
        bg.check_dice(d1, d2)
    except Exception as exc:  # noqa: BLE001 - compared whole, type and message
        return type(exc), str(exc)
    return None


def test_errors_unchanged_on_perturbed_boards():
    """Boards one random change away from real positions, half of them invalid: the same plays,
    or the same error, as the eager path (the compiled check agrees with as_board)."""
    rng = np.random.default_rng(25)
    boards, dice = bg.random_positions(3000, seed=25)
    n_bad = 0
    for b, (d1, d2) in zip(boards, dice):
        b = b.copy()
        side, idx = int(rng.integers(2)), int(rng.integers(25))
        b[side, idx] += int(rng.choice([-3, -1, 1, 2, 7]))
        want = old_error(b, d1, d2)
        if want is None:
            assert_same_plays(bg.legal_plays(b, d1, d2), eager_plays(b, d1, d2))
            continue
        n_bad += 1
        with pytest.raises(want[0]) as got:
            bg.legal_plays(b, d1, d2)
        assert str(got.value) == want[1]
    assert n_bad > 500 and len(boards) - n_bad > 200  # both kinds were tried


BAD_INPUTS = [  # (board, d1, d2): bad boards, bad dice, both (the board is reported first)
    (np.zeros((2, 24), np.int8), 3, 1),
    (np.zeros(50, np.int8), 3, 1),
    (np.zeros((2, 25, 1), np.int8), 3, 1),
    (np.zeros((25, 2), np.int8), 3, 1),
    (np.full((2, 25), 0.5), 3, 1),
    ([[0] * 25, [0] * 24], 3, 1),
    ("board", 3, 1),
    (start_board() - 1, 3, 1),
    (start_board() * 2, 3, 1),
    (start_board(), 0, 1),
    (start_board(), 3, 7),
    (start_board(), 2.5, 1),
    (start_board(), "a", 1),
    (start_board(), None, 1),
    (start_board(), np.int64(9), 1),
    (start_board(), float("inf"), 1),
    (start_board() * 2, 0, 9),
    (np.zeros((2, 24), np.int8), "x", 1),
]


@pytest.mark.parametrize("board,d1,d2", BAD_INPUTS)
def test_errors_unchanged(board, d1, d2):
    want = old_error(board, d1, d2)
    assert want is not None
    with pytest.raises(want[0]) as got:
        bg.legal_plays(board, d1, d2)
    assert str(got.value) == want[1]


def test_one_compiled_version_whatever_the_input():
    """Odd boards and dice never reach Numba as new argument types (each would compile anew)."""
    from games.backgammon.rules import movegen

    b = start_board()
    for board, d1, d2 in [(b, 3, 1), (b.astype(np.int64), 3, 1), (b.tolist(), 3, 1), (np.asfortranarray(b), 3, 1),
                          (b[::-1].copy()[::-1], 3, 1), (b, np.int32(3), np.uint8(1)), (b, 3.0, True)]:
        bg.legal_plays(board, d1, d2)
    for board, d1, d2 in BAD_INPUTS:
        with pytest.raises((ValueError, OverflowError)):  # int(inf) raised OverflowError before, too
            bg.legal_plays(board, d1, d2)
    assert len(movegen.valid_board.signatures) == len(movegen.generate.signatures) == 1


def test_dice_forms_accepted_as_before():
    ref = eager_plays(start_board(), 4, 1)
    for d1, d2 in [(4, 1), (np.int64(4), np.int8(1)), (4.0, 1.0), (4, True)]:
        assert_same_plays(bg.legal_plays(start_board(), d1, d2), ref)


def test_plays_list_contract():
    from collections.abc import Sequence

    plays = bg.legal_plays(start_board(), 3, 1)
    as_list = list(plays)
    assert type(as_list) is list and len(as_list) == len(plays) == 16
    assert isinstance(plays, Sequence) and plays and plays == as_list and as_list == plays
    assert plays[0] is plays[0] and plays[0] is as_list[0]  # built once, then kept
    assert plays[-1] is plays[15] and plays[np.int64(2)] is plays[2] and plays[True] is plays[1]
    with pytest.raises(IndexError):
        plays[16]
    with pytest.raises(IndexError):
        plays[-17]
    with pytest.raises(TypeError):
        plays["0"]
    assert isinstance(plays[2:5], Plays) and plays[2:5] == as_list[2:5] and plays[::-1] == as_list[::-1]
    assert plays[5:5] == [] and not plays[5:5]
    assert [p.notation for p in plays] == [p.notation for p in as_list]
    assert as_list[3] in plays and plays.index(as_list[3]) == 3 and plays.count(as_list[3]) == 1
    assert list(reversed(plays)) == as_list[::-1]
    assert plays + [] == as_list and [] + plays == as_list and plays + plays == as_list + as_list
    assert repr(plays) == repr(as_list) and repr(plays).startswith("[Play(")
    assert plays != tuple(as_list) and plays != bg.legal_plays(start_board(), 4, 1)
    assert plays == bg.legal_plays(start_board(), 3, 1)
    with pytest.raises(TypeError):
        hash(plays)
    import copy
    import pickle

    for twin in (pickle.loads(pickle.dumps(plays)), copy.deepcopy(plays), copy.copy(plays)):
        assert twin == plays and [p.notation for p in twin] == [p.notation for p in as_list]


def test_no_play_is_an_empty_list():
    b = make_board({24: 1}, {7: 2})
    plays = bg.legal_plays(b, 6, 6)
    assert plays == [] and [] == plays and not plays and len(plays) == 0 and list(plays) == []
    assert repr(plays) == "[]" and plays.boards.shape == (0, 2, 25)
    with pytest.raises(IndexError):
        plays[0]


def test_plays_outlive_the_next_call():
    """Each call's plays own their arrays: later calls (same thread's buffers) change nothing."""
    first = bg.legal_plays(start_board(), 6, 6)
    notation = [p.notation for p in eager_plays(start_board(), 6, 6)]
    for d1 in range(1, 7):
        bg.legal_plays(start_board(), d1, 1)
    assert [p.notation for p in first] == notation


# -------------------------------------------------------------------- game loops

def test_random_games_reproducible_and_scored():
    a = bg.random_games(300, seed=5)
    b = bg.random_games(300, seed=5)
    assert np.array_equal(a, b)
    assert set(np.unique(a)) <= {-3, -2, -1, 1, 2, 3}
    assert 0.4 < (a > 0).mean() < 0.6  # random players are even
    assert not np.array_equal(a, bg.random_games(300, seed=6))


def test_game_result_scoring():
    b = np.zeros((2, 25), np.int8)
    b[0, 10] = 15  # mover borne off all, opponent none off and nothing in mover's home: gammon
    assert bg.game_result(b) == 2
    b[0, 10] = 14
    b[0, 20] = 1  # opponent's 21-point is in the winner's home board: backgammon
    assert bg.game_result(b) == 3
    b[0, 20] = 0
    assert bg.game_result(b) == 1  # opponent bore one off: single
    assert bg.game_result(bg.swap_sides(b)) == -1
    assert bg.game_result(start_board()) == 0


def test_pip_counts():
    assert bg.pip_counts(start_board()) == (167, 167)
