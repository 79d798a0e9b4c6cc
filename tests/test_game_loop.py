"""The one game loop (games.backgammon.play.game) and the one definition of each rule it uses."""
import numpy as np
import pytest

import games.backgammon as bg
from games.backgammon.play.game import Dice, Games, new_game, play_turn, resign_points
from games.backgammon.rules.compiled_games import random_games
from games.backgammon.rules.phases import (
    BEAROFF, CONTACT, RACE, game_phase, game_phases, is_race, mover_bearing_off,
)
from games.backgammon.rules.scoring import game_result, points_won, points_won_batch


class LegacyDice(Dice):
    """Dice from NumPy's legacy RandomState, the stream Numba's np.random draws inside the
    compiled loop (same MT19937, same bounded-integer method), so both loops see the same rolls."""

    def __init__(self, state: np.random.RandomState):
        self.state = state

    def roll(self):
        return int(self.state.randint(1, 7)), int(self.state.randint(1, 7))


def python_random_games(n: int, seed: int, max_plies: int = 10_000):
    """random_games written with the one game loop: a random legal play, engine order, one stream."""
    state = np.random.RandomState(seed)
    dice = LegacyDice(state)
    outcomes, plies = [], []
    for _ in range(n):
        g = new_game(dice)
        while not g.over and g.plies < max_plies:
            plays = g.legal_plays()
            pick = plays[int(state.randint(0, len(plays)))] if plays else None
            play_turn(g, None if pick is None else pick.board, dice)
        outcomes.append(0 if not g.over else (g.points if g.winner == 0 else -g.points))
        plies.append(g.plies)
    return outcomes, plies


@pytest.mark.parametrize("seed", [0, 1, 7, 2024])
def test_compiled_random_games_equal_the_game_loop(seed):
    outcomes, plies = random_games(60, seed=seed, return_plies=True)
    want_outcomes, want_plies = python_random_games(60, seed)
    assert outcomes.tolist() == want_outcomes
    assert plies.tolist() == want_plies
    assert set(want_outcomes) <= {-3, -2, -1, 1, 2, 3} and len(set(want_outcomes)) > 2


def test_lockstep_games_equal_one_game_at_a_time():
    """Games (arrays, many at once) and GameState (one game) are the same loop."""
    bot = bg.players.make_player("pubeval")
    seeds = [(5, i) for i in range(40)]
    lock = Games([np.random.default_rng(s) for s in seeds])
    while len(lock.active):
        results, _ = bot.choose_batch(lock.boards[lock.active], lock.dice[lock.active])
        lock.play(results)
    for i, s in enumerate(seeds):
        dice = Dice(np.random.default_rng(s))
        g = new_game(dice)
        while not g.over:
            play = bot.choose(g.board, *g.dice)
            play_turn(g, None if play is None else play.board, dice)
        assert lock.points[i] == (g.points if g.winner == 0 else -g.points)


def test_opening_roll_and_turns():
    for seed in range(200):
        dice = Dice(np.random.default_rng(seed))
        g = new_game(dice, score=(2, 1), match_length=5)
        d0, d1 = g.opening
        assert d0 != d1 and g.dice == (d0, d1) and g.turn == (0 if d0 > d1 else 1)
        assert (g.score, g.match_length, g.cube_value, g.cube_owner) == ((2, 1), 5, 1, -1)
        assert np.array_equal(g.board, bg.start_board())
        turn, board = g.turn, g.board.copy()
        play_turn(g, None, dice)  # no move: the other side is on roll, board turned
        assert g.turn == 1 - turn and np.array_equal(g.board, bg.swap_sides(board)) and g.plies == 1


def test_game_ends_when_the_mover_bears_off_all():
    b = np.zeros((2, 25), np.int8)
    b[1, 0] = 1          # the mover's last checker on its 1-point
    b[0, 18] = 15        # the opponent still in the winner's home board (its own 19-point): a backgammon
    g = new_game(Dice(np.random.default_rng(0)))
    g.board, g.dice = b, (1, 2)
    [play] = g.legal_plays()
    seat = g.turn
    play_turn(g, play.board, Dice(np.random.default_rng(1)))
    assert g.over and g.winner == seat and g.points == 3 and g.dice is None
    with pytest.raises(RuntimeError):
        play_turn(g, None, None)


def reference_points_won(loser) -> int:
    """Points won from ``loser``'s row, as the rules state them (written out plainly)."""
    if sum(int(x) for x in loser) < 15:
        return 1
    if any(loser[i] > 0 for i in range(18, 25)):  # on the bar or in the winner's home board
        return 3
    return 2


def test_points_won_against_the_reference():
    rng = np.random.default_rng(3)
    rows = np.zeros((3000, 25), np.int8)
    for k, r in enumerate(rows):
        n = 15 if k % 2 else rng.integers(1, 16)       # none off (gammon or backgammon) / some off
        top = 18 if k % 4 == 1 else 25                 # some of them clear of the winner's home
        for _ in range(n):
            r[rng.integers(0, top)] += 1
    want = [reference_points_won(r) for r in rows]
    assert points_won_batch(rows).tolist() == want
    assert [points_won(r) for r in rows[:200]] == want[:200]
    assert {1, 2, 3} <= set(want)


def test_game_result_signs():
    b = np.zeros((2, 25), np.int8)
    b[0, 5] = 15
    assert game_result(b) == 2 and game_result(bg.swap_sides(b)) == -2
    assert game_result(bg.start_board()) == 0


def reference_phase(board) -> int:
    me = [i for i in range(25) if board[1, i] > 0]
    opp = [i for i in range(25) if board[0, i] > 0]
    if me and opp and max(me) >= 23 - max(opp):
        return CONTACT
    if all(i <= 5 for i in me) and all(i <= 5 for i in opp):
        return BEAROFF
    return RACE


def test_phases_against_the_reference():
    boards, _ = bg.random_positions(4000, seed=11)
    want = [reference_phase(b) for b in boards]
    assert game_phases(boards).tolist() == want
    assert [game_phase(b) for b in boards[:300]] == want[:300]
    assert [is_race(b) for b in boards[:300]] == [w != CONTACT for w in want[:300]]
    assert {CONTACT, RACE, BEAROFF} <= set(want)
    bearing = mover_bearing_off(boards)
    home = boards[:, 1, 6:].sum(axis=1) == 0
    assert bearing.tolist() == [w != CONTACT and h for w, h in zip(want, home)]
    # the two meanings differ: the mover may bear off while the opponent is still racing home
    assert (bearing & (np.array(want) == RACE)).any()


def test_resign_points_is_what_the_mover_would_lose():
    g = new_game(Dice(np.random.default_rng(0)))
    assert resign_points(g) == 3  # checkers in the opponent's home board, none off
    g.board = g.board.copy()
    g.board[1, 23] = 0   # the mover's back checkers gone (two borne off, say)
    assert resign_points(g) == 1
