"""The compiled encoders against plain-Python transcriptions of their definitions."""
import numpy as np
import pytest

from games.backgammon import legal_results_batch, random_positions, start_board, swap_sides
from games.backgammon.learn.encode import (
    PUBEVAL122_SIZE,
    TESAURO198_SIZE,
    pubeval122,
    pubeval122_one,
    tesauro198,
    tesauro198_one,
)


# ------------------------------------------------------------------ reference implementations


def ref_tesauro198(board, on_roll=1):
    """TD-Gammon's units, written out: board[1] (on roll) first, then board[0], then the turn."""
    x = []
    for row in (board[1], board[0]):
        for i in range(24):
            n = int(row[i])
            x += [float(n >= 1), float(n >= 2), float(n >= 3), (n - 3) / 2 if n > 3 else 0.0]
        x.append(int(row[24]) / 2)
        x.append((15 - int(row.sum())) / 15)
    x += [1.0, 0.0] if on_roll == 1 else [0.0, 1.0]
    return np.array(x, np.float32)


def ref_pubeval122(board):
    """shared/reference/pubeval.md, literally: block k is the mover's point 24 - k."""
    x = [0.0] * 122
    for k in range(24):
        p = 24 - k  # the mover's point number
        mine = int(board[1][p - 1])
        theirs = int(board[0][25 - p - 1])  # the same point in the opponent's numbering
        n = mine if mine else -theirs
        if n == -1:
            x[5 * k + 0] = 1.0
        if n == 1:
            x[5 * k + 1] = 1.0
        if n >= 2:
            x[5 * k + 2] = 1.0
        if n == 3:
            x[5 * k + 3] = 1.0
        if n >= 4:
            x[5 * k + 4] = (n - 3) / 2
    x[120] = int(board[0][24]) / 2
    x[121] = (15 - int(board[1].sum())) / 15
    return np.array(x, np.float32)


def random_boards(n: int, seed: int) -> np.ndarray:
    """Valid boards with every count (stacks of 15, full bars, all borne off), reachable or not."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 2, 25), np.int8)
    for k in range(n):
        b = out[k]
        for side in (1, 0):
            spots = rng.integers(0, 25, size=int(rng.integers(1, 4)))  # few points: tall stacks
            for _ in range(int(rng.integers(0, 16))):
                i = int(rng.choice(spots)) if rng.random() < 0.7 else int(rng.integers(0, 25))
                if i < 24 and b[1 - side, 23 - i] > 0:
                    continue
                b[side, i] += 1
    return out


@pytest.fixture(scope="module")
def boards():
    pos, dice = random_positions(2000, seed=21)
    results, _ = legal_results_batch(pos[:300], dice[:300])
    return np.concatenate([pos, results, random_boards(3000, seed=22)])


# ------------------------------------------------------------------ tests


def test_tesauro198_matches_reference(boards):
    assert len(boards) >= 5000
    got = tesauro198(boards)
    assert got.shape == (len(boards), TESAURO198_SIZE) and got.dtype == np.float32
    want = np.stack([ref_tesauro198(b) for b in boards])
    np.testing.assert_array_equal(got, want)
    got0 = tesauro198(boards[:500], on_roll=0)
    np.testing.assert_array_equal(got0, np.stack([ref_tesauro198(b, 0) for b in boards[:500]]))


def test_pubeval122_matches_reference(boards):
    got = pubeval122(boards)
    assert got.shape == (len(boards), PUBEVAL122_SIZE) and got.dtype == np.float32
    want = np.stack([ref_pubeval122(b) for b in boards])
    np.testing.assert_array_equal(got, want)


def test_single_board_wrappers(boards):
    for b in boards[:50]:
        np.testing.assert_array_equal(tesauro198_one(b), tesauro198(b[None])[0])
        np.testing.assert_array_equal(pubeval122_one(b), pubeval122(b[None])[0])
    assert tesauro198_one(start_board()).shape == (198,)
    assert pubeval122_one(start_board()).shape == (122,)


def test_start_position_units():
    t = tesauro198_one(start_board())
    # the mover's 6-point (index 5) holds 5: units 20..23
    np.testing.assert_array_equal(t[20:24], [1, 1, 1, 1])
    # its 8-point holds 3, its 13-point 5, its 24-point 2
    np.testing.assert_array_equal(t[28:32], [1, 1, 1, 0])
    np.testing.assert_array_equal(t[92:96], [1, 1, 0, 0])
    assert t[96] == 0 and t[97] == 0 and t[196] == 1 and t[197] == 0
    np.testing.assert_array_equal(t[:98], t[98:196])  # symmetric position
    p = pubeval122_one(start_board())
    np.testing.assert_array_equal(p[0:5], [0, 0, 1, 0, 0])  # block 0 = the mover's 24-point, 2 checkers
    np.testing.assert_array_equal(p[5 * 11 : 5 * 11 + 5], [0, 0, 1, 0, 1])  # 13-point, 5 checkers
    assert p[120] == 0 and p[121] == 0


def test_pubeval_sees_opponent_blots_only():
    b = np.zeros((2, 25), np.int8)
    b[1, 0] = 15  # the mover's 1-point
    b[0, 0] = 1  # an opponent blot on its 1-point = the mover's 24-point (block 0)
    b[0, 10] = 2  # an opponent point: no unit
    b[0, 24] = 3
    p = pubeval122_one(b)
    np.testing.assert_array_equal(p[0:5], [1, 0, 0, 0, 0])
    assert p[5 * 23 + 2] == 1 and p[5 * 23 + 4] == 6  # 15 checkers: (15 - 3) / 2
    assert p[120] == 1.5
    assert p.sum() == 1 + 1 + 6 + 1.5


def test_turn_units_and_swap(boards):
    b = boards[:100]
    swapped = np.stack([swap_sides(x) for x in b])
    t, s = tesauro198(b), tesauro198(swapped, on_roll=0)
    np.testing.assert_array_equal(t[:, :98], s[:, 98:196])
    np.testing.assert_array_equal(t[:, 98:196], s[:, :98])


def test_empty_batch_and_dtypes():
    assert tesauro198(np.zeros((0, 2, 25), np.int8)).shape == (0, 198)
    b64 = start_board().astype(np.int64)[None]
    np.testing.assert_array_equal(pubeval122(b64), pubeval122(start_board()[None]))


@pytest.mark.parametrize(
    "bad",
    [np.zeros((2, 25), np.int8), np.zeros((3, 2, 24), np.int8), np.full((1, 2, 25), -1), np.full((1, 2, 25), 1)],
)
def test_bad_input(bad):
    with pytest.raises(ValueError):
        tesauro198(bad)
    with pytest.raises(ValueError):
        pubeval122(bad)
    with pytest.raises(ValueError):
        tesauro198(start_board()[None], on_roll=2)
