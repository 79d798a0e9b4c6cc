"""Hand-made features against plain-Python definitions, hand-counted cases and the engine.

Three independent answers for the shot count: ``ref_hit_rolls`` below (the rules written out as a
search over single-die moves, sharing no code with the package), the engine (every legal play of
every roll, from ``legal_plays`` / ``legal_results_batch``), and positions counted by hand.
"""
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import games.backgammon as bg
from games.backgammon.learn.features import FEATURE_NAMES, N_FEATURES, handmade, handmade_one, hit_rolls

ROLLS = [(d1, d2) for d1 in range(1, 7) for d2 in range(d1, 7)]  # 21 rolls; non-doubles count 2


# ------------------------------------------------------------------ reference: shots


def ref_moves(me, them, die):
    """Every single move of one die. ``me``: the shooter's 25 counts (24 = bar); ``them``: the
    target's counts on the shooter's points 0..23. Yields (me after, them after, hit?)."""
    sources = [24] if me[24] > 0 else [j for j in range(24) if me[j] > 0]  # the bar enters first
    all_home = me[24] == 0 and sum(me[6:24]) == 0
    for j in sources:
        dest = j - die
        if dest >= 0:
            if them[dest] >= 2:
                continue  # a made point
            me2 = list(me)
            me2[j] -= 1
            me2[dest] += 1
            them2 = list(them)
            hit = them[dest] == 1
            if hit:
                them2[dest] = 0
            yield tuple(me2), tuple(them2), hit
        elif all_home and (dest == -1 or sum(me[j + 1:6]) == 0):  # bearing off
            me2 = list(me)
            me2[j] -= 1
            yield tuple(me2), them, False


@lru_cache(maxsize=None)
def ref_longest(me, them, dice):
    """How many of ``dice``, in this order, can be played."""
    best = 0
    for me2, them2, _ in ref_moves(me, them, dice[0]) if dice else ():
        best = max(best, 1 + ref_longest(me2, them2, dice[1:]))
        if best == len(dice):
            break
    return best


@lru_cache(maxsize=None)
def ref_hitting_sequence(me, them, dice):
    """Can all of ``dice``, in this order, be played with a hit on the way?"""
    if not dice:
        return False
    blots = [b for b in range(24) if them[b] == 1]
    sources = [j for j in range(25) if me[j] > 0]
    if not any(0 < j - b <= sum(dice) for j in sources for b in blots):
        return False  # no blot within reach: nothing to search
    for me2, them2, hit in ref_moves(me, them, dice[0]):
        if hit and ref_longest(me2, them2, dice[1:]) == len(dice) - 1:
            return True
        if ref_hitting_sequence(me2, them2, dice[1:]):
            return True
    return False


def ref_roll_hits(me, them, d1, d2):
    """Does some legal play of d1-d2 hit? Legal: as many dice as possible; when only one die of a
    non-double can be played, the larger one if it can."""
    if d1 == d2:
        n = ref_longest(me, them, (d1,) * 4)
        return n > 0 and ref_hitting_sequence(me, them, (d1,) * n)
    orders = [(d1, d2), (d2, d1)]
    n = max(ref_longest(me, them, order) for order in orders)
    if n == 2:
        return any(ref_hitting_sequence(me, them, order) for order in orders)
    if n == 1:
        big, small = max(d1, d2), min(d1, d2)
        die = big if ref_longest(me, them, (big,)) == 1 else small
        return ref_hitting_sequence(me, them, (die,))
    return False


def ref_hit_rolls(shooter, target):
    """Rolls of 36 with which ``shooter`` (the row that rolls) has a legal play hitting a blot of
    ``target`` (the other row of the same board)."""
    me = tuple(int(x) for x in shooter)
    them = tuple(int(target[23 - j]) for j in range(24))  # the shooter's j is the target's 23 - j
    total = sum((1 if d1 == d2 else 2) for d1, d2 in ROLLS if ref_roll_hits(me, them, d1, d2))
    ref_longest.cache_clear()
    ref_hitting_sequence.cache_clear()
    return total


def engine_hit_rolls(board):
    """The opponent's rolls hitting the mover, from the engine's legal plays (the public API)."""
    reply = bg.swap_sides(board)  # the opponent on roll, the mover in row 0
    total = 0
    for d1, d2 in ROLLS:
        if any(play.board[0, 24] > reply[0, 24] for play in bg.legal_plays(reply, d1, d2)):
            total += 1 if d1 == d2 else 2
    return total


def engine_hit_rolls_batch(boards):
    """``engine_hit_rolls`` of many boards in one compiled call of the move generator."""
    replies = np.repeat(np.ascontiguousarray(boards[:, ::-1]), len(ROLLS), axis=0)
    dice = np.tile(np.array(ROLLS), (len(boards), 1))
    results, offsets = bg.legal_results_batch(replies, dice)
    hit = np.zeros(len(replies), bool)
    for i in range(len(replies)):
        hit[i] = (results[offsets[i]:offsets[i + 1], 0, 24] > replies[i, 0, 24]).any()
    weight = np.tile([1 if d1 == d2 else 2 for d1, d2 in ROLLS], len(boards))
    return (hit * weight).reshape(len(boards), len(ROLLS)).sum(axis=1)


# ------------------------------------------------------------------ reference: the rest


def ref_side(row):
    """The counting features of one row, in FEATURE_NAMES order (the last two excluded)."""
    row = [int(x) for x in row]
    pips = sum(row[i] * (i + 1) for i in range(25))
    on_board = sum(row)
    made = [row[i] >= 2 for i in range(24)]
    prime = run = 0
    for m in made:
        run = run + 1 if m else 0
        prime = max(prime, run)
    occupied = [i for i in range(25) if row[i] > 0]
    bearin = sum(row[i] * (i + 1 - 6) for i in range(6, 25))
    return pips, [
        pips / 200,
        (15 - on_board) / 15,
        sum(row[0:6]) / 15,
        bearin / 100,
        1.0 if bearin == 0 else 0.0,
        row[24] / 2,
        sum(row[18:25]) / 5,
        sum(1 for i in range(24) if row[i] == 1) / 5,
        sum(made) / 12,
        sum(made[0:6]) / 6,
        prime / 6,
        sum(made[18:24]) / 3,
        (max(occupied) + 1 if occupied else 0) / 25,
    ]


def ref_escape_rolls(row, other):
    """Rolls with which ``row``'s rearmost checker can move the whole roll alone."""
    occupied = [i for i in range(25) if row[i] > 0]
    if not occupied:
        return 0
    start = max(occupied)

    def free(i):  # the other side has not made the point (past the 1-point: always free)
        return i < 0 or other[23 - i] < 2

    total = 0
    for d1, d2 in ROLLS:
        if d1 == d2:
            ok = all(free(start - u * d1) for u in (1, 2, 3, 4))
        else:
            ok = free(start - d1 - d2) and (free(start - d1) or free(start - d2))
        total += (1 if d1 == d2 else 2) if ok else 0
    return total


def ref_handmade(board):
    mover_pips, mover = ref_side(board[1])
    opp_pips, opp = ref_side(board[0])
    mover.append(ref_escape_rolls(board[1], board[0]) / 36)
    opp.append(ref_escape_rolls(board[0], board[1]) / 36)
    mover.append(ref_hit_rolls(board[0], board[1]) / 36)
    opp.append(ref_hit_rolls(board[1], board[0]) / 36)
    lead = opp_pips - mover_pips
    race = [lead / 100, lead / (opp_pips + mover_pips), 0.0 if bg.is_race(board) else 1.0]
    return np.array(mover + opp + race, np.float32)


# ------------------------------------------------------------------ boards


def make_board(mover: dict, opponent: dict) -> np.ndarray:
    """A board from {point: count} in each side's own numbering ('bar' for the bar)."""
    b = np.zeros((2, 25), np.int8)
    for row, spec in ((1, mover), (0, opponent)):
        for p, c in spec.items():
            b[row, 24 if p == "bar" else p - 1] = c
    return b


def board_from_spots(mover_spots, opp_spots) -> np.ndarray:
    """15 checkers a side, each spot 0..23 a point, 24 the bar, 25 borne off; an opponent's
    checker whose point the mover holds goes to the bar instead."""
    b = np.zeros((2, 25), np.int8)
    for s in mover_spots:
        if s < 25:
            b[1, s] += 1
    for s in opp_spots:
        if s < 24 and b[1, 23 - s] > 0:
            s = 24
        if s < 25:
            b[0, s] += 1
    return b


def random_boards(n: int, seed: int) -> np.ndarray:
    """Valid boards of every kind: blots everywhere, full bars, bearing off, stacks."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        weights = rng.dirichlet(np.full(26, 0.3), size=2)  # uneven: stacks, empty stretches
        out.append(board_from_spots(rng.choice(26, 15, p=weights[0]), rng.choice(26, 15, p=weights[1])))
    return np.array(out)


@pytest.fixture(scope="module")
def boards():
    """Positions met in random games, results of legal plays from them, and odd boards."""
    pos, dice = bg.random_positions(6000, seed=41)
    results, _ = bg.legal_results_batch(pos[::10], dice[::10])
    return np.concatenate([pos[::8], results[::10], random_boards(400, seed=42)])


spots = st.lists(st.integers(0, 25), min_size=15, max_size=15)


# ------------------------------------------------------------------ tests


def test_names():
    assert len(FEATURE_NAMES) == N_FEATURES == len(set(FEATURE_NAMES))
    assert FEATURE_NAMES[0] == "mover_pips" and FEATURE_NAMES[-1] == "contact"


def test_start_position():
    x = dict(zip(FEATURE_NAMES, handmade_one(bg.start_board())))
    for side in ("mover", "opp"):
        assert x[f"{side}_pips"] * 200 == pytest.approx(167)
        assert x[f"{side}_borne_off"] == 0 and x[f"{side}_bar"] == 0
        assert x[f"{side}_home"] * 15 == pytest.approx(5)
        assert x[f"{side}_back"] * 5 == pytest.approx(2)
        assert x[f"{side}_blots"] == 0 and x[f"{side}_hit_rolls"] == 0
        assert x[f"{side}_points"] * 12 == pytest.approx(4)
        assert x[f"{side}_home_points"] * 6 == pytest.approx(1)
        assert x[f"{side}_longest_prime"] * 6 == pytest.approx(1)
        assert x[f"{side}_anchors"] * 3 == pytest.approx(1)
        assert x[f"{side}_rearmost"] * 25 == pytest.approx(24)
        # 3 on the 8-point (2 pips each), 5 on the 13 (7 each), 2 on the 24 (18 each)
        assert x[f"{side}_bearin_pips"] * 100 == pytest.approx(3 * 2 + 5 * 7 + 2 * 18)
        assert x[f"{side}_can_bear_off"] == 0
        assert x[f"{side}_escape_rolls"] * 36 == pytest.approx(START_ESCAPES)
    assert x["race_lead"] == 0 and x["race_lead_relative"] == 0 and x["contact"] == 1


# From the 24-point at the start the other side holds our 19 (5 pips away), 17 (7), 12 (12) and
# 1 (23). Non-doubles: the landing point fails for sums 5 (4-1, 3-2) and 7 (6-1, 5-2, 4-3): 10
# rolls; an intermediate never blocks both ways (5-x: the 5 is blocked, the x is not).
# Doubles: 1-1 (23..20) and 2-2 (22, 20, 18, 16) get out; 3-3 (.., 12), 4-4 (.., 12), 5-5 (19)
# and 6-6 (.., 12) do not: 36 - 10 - 4 = 22.
START_ESCAPES = 22


def test_escapes_by_hand():
    # behind a full six-point prime (the other side's points 2..7 = our 18..23), a checker on our
    # 24-point cannot move at all: 0
    board = make_board({24: 1}, {2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2})
    x = dict(zip(FEATURE_NAMES, handmade_one(board)))
    assert x["mover_escape_rolls"] == 0
    # in a race nothing blocks: every roll
    race = make_board({3: 4}, {3: 4})
    x = dict(zip(FEATURE_NAMES, handmade_one(race)))
    assert x["mover_escape_rolls"] == 1 and x["opp_escape_rolls"] == 1


def test_points_primes_anchors_by_hand():
    board = make_board({1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 7: 1, 20: 2, 24: 1, "bar": 1}, {6: 15})
    x = dict(zip(FEATURE_NAMES, handmade_one(board)))
    assert x["mover_home_points"] * 6 == pytest.approx(5)
    assert x["mover_longest_prime"] * 6 == pytest.approx(5)  # 1..5
    assert x["mover_points"] * 12 == pytest.approx(6)
    assert x["mover_anchors"] * 3 == pytest.approx(1)
    assert x["mover_blots"] * 5 == pytest.approx(2)  # 7 and 24; the bar is not a point
    assert x["mover_back"] * 5 == pytest.approx(4)  # 20-point (2), 24, bar
    assert x["mover_bar"] * 2 == pytest.approx(1)
    assert x["mover_rearmost"] == 1.0
    assert x["opp_can_bear_off"] == 1 and x["opp_home"] == 1
    assert x["contact"] == 1


def test_race_and_bear_off():
    board = make_board({1: 5, 6: 4}, {3: 2, 12: 1})  # the mover has borne off 6
    x = dict(zip(FEATURE_NAMES, handmade_one(board)))
    assert x["contact"] == 0 and x["mover_can_bear_off"] == 1 and x["opp_can_bear_off"] == 0
    assert x["mover_borne_off"] * 15 == pytest.approx(6)
    assert x["opp_bearin_pips"] * 100 == pytest.approx(6)
    mover_pips, opp_pips = 5 + 24, 6 + 12
    assert x["race_lead"] * 100 == pytest.approx(opp_pips - mover_pips)
    assert x["race_lead_relative"] == pytest.approx((opp_pips - mover_pips) / (opp_pips + mover_pips))


# Shot counts by hand: the opponent (row 0) rolls at the mover's (row 1) blots. A point p of the
# mover's numbering is the opponent's 25 - p.
HAND_SHOTS = [
    # a blot 6 pips in front of a lone checker: the 11 rolls with a 6, 5-1, 4-2, 3-3, 2-2
    ({10: 1}, {21: 1}, 17),
    # the mover also holds the opponent's 18-point: 3-3 stops there
    ({10: 1, 7: 2}, {21: 1}, 16),
    # ... and its 16- and 20-points: 5-1 is blocked both ways round
    ({10: 1, 7: 2, 9: 2, 5: 2}, {21: 1}, 14),
    # the opponent's two on the bar must both enter: rolls with a 3 enter on the blot (11),
    # and 1-1 enters both, then walks one of them 24/23/22* (1): 12
    ({3: 1}, {"bar": 2}, 12),
    # one on the bar: enter with one die and go on with the other, so 2-1 and 1-1 hit too
    ({3: 1}, {"bar": 1}, 14),
    # the larger die: the lone checker on the 13-point, the mover holding its 2-point; 6-5
    # could hit with the 5 (13/8*) but neither die can then be played and the 6 must be: no hit.
    # Hits: 5-1, 5-2, 5-3, 5-4 (8), 5-5 (13/8*/3/off), 4-1, 3-2 (4): 13
    ({17: 1, 23: 2}, {13: 1}, 13),
    # as many dice as possible: 21/15* with the 6 leaves no 5 to play (15/10 and 11/6 blocked),
    # but 21/16 11/5 plays both dice, so 6-5 must not hit. The other 6s (8), 6-6, 5-1, 4-2, 3-3
    # and 2-2 hit: 15 instead of 17
    ({10: 1, 15: 2, 19: 2}, {21: 1, 11: 1}, 15),
    # blots behind every enemy checker are safe
    ({20: 1, 22: 1}, {1: 5, 2: 5}, 0),
]


@pytest.mark.parametrize("mover,opponent,rolls", HAND_SHOTS)
def test_shots_by_hand(mover, opponent, rolls):
    board = make_board(mover, opponent)
    assert hit_rolls(board[None])[0, 0] == rolls
    assert ref_hit_rolls(board[0], board[1]) == rolls
    assert engine_hit_rolls(board) == rolls
    assert handmade_one(board)[FEATURE_NAMES.index("mover_hit_rolls")] == np.float32(rolls / 36)


def test_features_against_reference(boards):
    got = handmade(boards)
    assert got.shape == (len(boards), N_FEATURES) and got.dtype == np.float32
    for k in range(len(boards)):
        np.testing.assert_allclose(got[k], ref_handmade(boards[k]), rtol=1e-6, atol=1e-7,
                                   err_msg=f"board {k}: {boards[k].tolist()}")


def test_shots_against_engine():
    """Every roll of the opponent after a few thousand results of random plays, by the engine."""
    pos, dice = bg.random_positions(12000, seed=43)
    results, offsets = bg.legal_results_batch(pos, dice)
    pick = offsets[:-1][offsets[1:] > offsets[:-1]]  # one result of each position
    sample = results[pick[::4]][:3000]
    counts, stats = hit_rolls(sample, return_stats=True)
    expected = engine_hit_rolls_batch(sample)
    # exact by construction (the masks prove a hit legal or hand the roll to the move
    # generator), so anything short of full agreement is a bug
    np.testing.assert_array_equal(counts[:, 0], expected)
    assert stats[1] > 0  # the hand-over happened, so both paths were compared
    assert (counts[:, 0] > 0).mean() > 0.3  # plenty of positions with shots to get right


def test_shots_public_oracle(boards):
    """The literal oracle (swap sides, ``legal_plays`` of each roll) on a few hundred boards."""
    sample = boards[::20]
    counts = hit_rolls(sample)
    for k, board in enumerate(sample):
        assert counts[k, 0] == engine_hit_rolls(board), board.tolist()
        assert counts[k, 1] == engine_hit_rolls(bg.swap_sides(board)), board.tolist()


@settings(max_examples=150, deadline=None)
@given(spots, spots)
def test_hypothesis_boards(mover_spots, opp_spots):
    board = board_from_spots(mover_spots, opp_spots)
    np.testing.assert_allclose(handmade_one(board), ref_handmade(board), rtol=1e-6, atol=1e-7)


def test_batch_equals_one_by_one(boards):
    some = boards[:50]
    np.testing.assert_array_equal(handmade(some), np.stack([handmade_one(b) for b in some]))
    assert handmade(np.zeros((0, 2, 25), np.int8)).shape == (0, N_FEATURES)


def test_bad_input():
    with pytest.raises(ValueError, match="shape"):
        handmade(np.zeros((3, 25), np.int8))
    with pytest.raises(ValueError, match="more than 15"):
        handmade(np.full((1, 2, 25), 1, np.int8))
