"""Backgammon tokens against a plain-Python transcription, TD-Gammon's units and the engine's race test."""
import numpy as np
import pytest

from games.backgammon import is_race, legal_results_batch, random_positions, start_board
from games.backgammon.learn.encode import tesauro198
from games.backgammon.learn.tokens import (
    BAR_TOKEN,
    D_TOKEN,
    N_TOKENS,
    OFF_TOKEN,
    PHASE_BEAROFF,
    PHASE_CONTACT,
    PHASE_FEATURES,
    PHASE_RACE,
    PHASE_ROUTER,
    PHASE_TOKEN,
    phases,
    point_tokens,
    point_tokens_one,
)

# ------------------------------------------------------------------ reference implementation


def ref_phase(board):
    """gnubg's ClassifyPosition, written out over the (2, 25) layout: contact / race / bear-off."""
    backs = []
    for row in (board[1], board[0]):
        occupied = [i for i in range(25) if row[i] > 0]
        backs.append(max(occupied) if occupied else -1)
    if backs[0] >= 0 and backs[1] >= 0 and backs[0] + backs[1] > 22:
        return PHASE_CONTACT
    if all(b <= 5 for b in backs):
        return PHASE_BEAROFF
    return PHASE_RACE


def ref_tokens(board):
    def units(n):
        return [float(n >= 1), float(n >= 2), float(n >= 3), (n - 3) / 2 if n > 3 else 0.0]

    me, opp = [int(v) for v in board[1]], [int(v) for v in board[0]]
    phase = [0.0, 0.0, 0.0]
    phase[ref_phase(board)] = 1.0
    toks = []
    for p in range(1, 25):  # the mover's point p is the opponent's point 25 - p
        toks.append(units(me[p - 1]) + units(opp[25 - p - 1]) + [p / 25] + phase)
    toks.append([me[24] / 2, 0, 0, 0, opp[24] / 2, 0, 0, 0, 1.0] + phase)
    toks.append([(15 - sum(me)) / 15, 0, 0, 0, (15 - sum(opp)) / 15, 0, 0, 0, 0.0] + phase)
    return np.array(toks, np.float32)


def random_boards(n: int, seed: int) -> np.ndarray:
    """Valid boards with tall stacks, full bars and borne-off checkers, reachable or not."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 2, 25), np.int8)
    for b in out:
        for side in (1, 0):
            spots = rng.integers(0, 25, size=int(rng.integers(1, 4)))
            if rng.random() < 0.3:  # some all-home sides, for the bear-off class
                spots = rng.integers(0, 6, size=2)
            for _ in range(int(rng.integers(0, 16))):
                i = int(rng.choice(spots))
                if i < 24 and b[1 - side, 23 - i] > 0:
                    continue
                b[side, i] += 1
    return out


@pytest.fixture(scope="module")
def boards():
    pos, dice = random_positions(2000, seed=31)
    results, _ = legal_results_batch(pos[:400], dice[:400])  # results of plays: what scorers see
    return np.concatenate([pos, results, random_boards(2000, seed=32)])


# ------------------------------------------------------------------ tests


def test_tokens_match_reference(boards):
    got = point_tokens(boards)
    assert got.shape == (len(boards), N_TOKENS, D_TOKEN) and got.dtype == np.float32
    want = np.stack([ref_tokens(b) for b in boards])
    np.testing.assert_array_equal(got, want)
    for b in boards[:20]:
        np.testing.assert_array_equal(point_tokens_one(b), ref_tokens(b))


def test_tokens_hold_tesauro198(boards):
    """Regrouped by place, the checker units are exactly TD-Gammon's 196 board units."""
    tok = point_tokens(boards)
    t198 = tesauro198(boards)
    np.testing.assert_array_equal(tok[:, :24, 0:4].reshape(-1, 96), t198[:, 0:96])
    np.testing.assert_array_equal(tok[:, BAR_TOKEN, 0], t198[:, 96])
    np.testing.assert_array_equal(tok[:, OFF_TOKEN, 0], t198[:, 97])
    # the opponent's units are in its own numbering in tesauro198: reverse the points
    np.testing.assert_array_equal(tok[:, 23::-1, 4:8].reshape(-1, 96), t198[:, 98:194])
    np.testing.assert_array_equal(tok[:, BAR_TOKEN, 4], t198[:, 194])
    np.testing.assert_array_equal(tok[:, OFF_TOKEN, 4], t198[:, 195])


def test_phase_agrees_with_engine_race_test(boards):
    ph = phases(boards)
    np.testing.assert_array_equal(ph, [ref_phase(b) for b in boards])
    race = np.array([is_race(b) for b in boards])
    np.testing.assert_array_equal(ph != PHASE_CONTACT, race)
    assert {PHASE_CONTACT, PHASE_RACE, PHASE_BEAROFF} <= set(ph.tolist())  # every class occurs
    # the one-hot where the phase router reads it, and the same in every token
    tok = point_tokens(boards)
    onehot = tok[:, PHASE_TOKEN, list(PHASE_FEATURES)]
    np.testing.assert_array_equal(onehot.argmax(1), ph)
    np.testing.assert_array_equal(onehot.sum(1), 1.0)
    assert (tok[:, :, list(PHASE_FEATURES)] == onehot[:, None, :]).all()
    assert PHASE_ROUTER == {"phase_token": PHASE_TOKEN, "phase_features": list(PHASE_FEATURES)}


def test_hand_made_positions():
    t = point_tokens_one(start_board())
    np.testing.assert_array_equal(t[5, 0:4], [1, 1, 1, 1])  # the mover's 6-point: 5 checkers
    np.testing.assert_array_equal(t[5, 4:8], [0, 0, 0, 0])
    np.testing.assert_array_equal(t[23, 0:8], [1, 1, 0, 0, 0, 0, 0, 0])  # its 24-point: 2 checkers
    np.testing.assert_array_equal(t[0, 0:8], [0, 0, 0, 0, 1, 1, 0, 0])  # the opponent's back checkers
    assert t[0, 9] == 1 and t[0, 10] == 0  # contact

    b = np.zeros((2, 25), np.int8)
    b[1, 0:3] = 5  # the mover: all home
    b[0, 5] = 10  # the opponent: home, 5 borne off
    assert point_tokens_one(b)[0, 11] == 1  # bear-off
    assert point_tokens_one(b)[OFF_TOKEN, 4] == 5 / 15
    b[0, 5], b[0, 6] = 9, 1  # one opponent checker outside its home board: race
    assert phases(b[None])[0] == PHASE_RACE
    b[0, 6], b[0, 24] = 0, 1  # on the bar, facing the mover's home board: contact
    assert phases(b[None])[0] == PHASE_CONTACT
    assert point_tokens_one(b)[BAR_TOKEN, 4] == 0.5


def test_bad_boards_are_refused():
    with pytest.raises(ValueError, match="shape"):
        point_tokens(np.zeros((3, 25), np.int8))
    with pytest.raises(ValueError, match="more than 15"):
        point_tokens(np.full((1, 2, 25), 1, np.int8))
