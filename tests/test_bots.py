"""Bots: pubeval against gnubg's copy (choices and scores), the random bot, the batch helpers."""
import numpy as np
import pytest

from games.backgammon import is_race, legal_plays, legal_results_batch, random_positions, start_board
from games.backgammon.players.bots import (
    Bot,
    PubevalBot,
    RandomBot,
    pubeval_choose_batch,
    pubeval_scores,
    pubeval_weights,
    race_flags,
)


def apply_gnubg_move(board: np.ndarray, move: list) -> np.ndarray:
    """The result of a gnubg move list: flat (from, to) pairs, 0-based, 24 = bar, -1 = off.

    (That is what ``gnubg_nn.pub_best_move`` returns, e.g. [7, 4, 5, 4] for 8/5 6/5.)
    """
    b = board.astype(np.int64).copy()
    for src, dst in zip(move[0::2], move[1::2]):
        b[1, src] -= 1
        if dst >= 0:
            if b[0, 23 - dst] == 1:  # a hit
                b[0, 23 - dst] = 0
                b[0, 24] += 1
            b[1, dst] += 1
    return b.astype(np.int8)


def test_weights_load():
    contact, race = pubeval_weights()
    assert contact.shape == race.shape == (122,) and contact.dtype == np.float32
    assert contact[0] == np.float32(0.25696) and race[121] == np.float32(3.42040)


def check_against_gnubg_pubeval(n_positions: int, seed: int) -> tuple[int, int, int]:
    """PubevalBot's and pubeval_choose_batch's plays against ``gnubg_nn.pub_best_move``.

    Returns (same play, exact ties chosen differently, positions without a play); fails on any
    other difference.
    """
    gnubg_nn = pytest.importorskip("gnubg_nn")
    boards, dice = random_positions(n_positions, seed=seed)
    bot = PubevalBot()
    chosen_batch, counts = pubeval_choose_batch(boards, dice)
    agree = ties = no_play = 0
    disagreements = []
    for i, (b, (d1, d2)) in enumerate(zip(boards, dice.tolist())):
        play = bot.choose(b, d1, d2)
        gm = gnubg_nn.pub_best_move(b.tolist(), d1, d2)
        if play is None:
            assert gm == [] and counts[i] == 0
            no_play += 1
            continue
        assert np.array_equal(play.board, chosen_batch[i])
        ref = apply_gnubg_move(b, gm)
        if np.array_equal(ref, play.board):
            agree += 1
            continue
        assert any(np.array_equal(ref, p.board) for p in legal_plays(b, d1, d2)), "gnubg's play is not legal here"
        s = pubeval_scores(np.stack([play.board, ref]), is_race(b))
        if s[0] == s[1]:
            ties += 1  # equal scores: either choice is pubeval's
        else:
            disagreements.append(i)
    print(f"pubeval vs gnubg: {agree} same, {ties} exact ties chosen differently, {no_play} without a play")
    assert not disagreements, f"{len(disagreements)} decisions differ, e.g. position {disagreements[:5]}"
    assert agree + ties + no_play == n_positions
    return agree, ties, no_play


def test_pubeval_matches_gnubg_choices():
    """The same play as gnubg's pubeval on over 10,000 decisions (positions with a legal play)."""
    agree, ties, _ = check_against_gnubg_pubeval(10_500, seed=3)
    assert agree + ties >= 10_000 and ties < 10


@pytest.mark.slow
def test_pubeval_matches_gnubg_choices_many():
    agree, ties, _ = check_against_gnubg_pubeval(200_000, seed=33)
    assert agree + ties > 190_000


def test_pubeval_scores_match_gnubg():
    """Scores equal gnubg's ``pub_eval_score`` bit for bit on every legal result of 600 positions.

    gnubg's function evaluates ``board[0]`` (the side that has just moved, as gnubg stores a
    result) and takes the race flag from the board it is given; so pass the swapped result and
    compare with the flag of the result itself.
    """
    gnubg_nn = pytest.importorskip("gnubg_nn")
    boards, dice = random_positions(600, seed=4)
    results, _ = legal_results_batch(boards, dice)
    ours = pubeval_scores(results, race_flags(results))
    theirs = np.array([gnubg_nn.pub_eval_score(r[::-1].tolist()) for r in results], np.float32)
    assert len(results) > 10_000
    np.testing.assert_array_equal(ours, theirs)


def test_race_is_decided_before_the_play():
    # contact: the mover's back checker on its 10-point has an opponent checker ahead of it on
    # the mover's 7-point (the opponent's 18-point); with 6-5 it runs past and contact is over
    b = np.zeros((2, 25), np.int8)
    b[1, 9] = 1
    b[1, 2] = 14
    b[0, 17] = 1
    b[0, 5] = 14
    assert not is_race(b)
    plays = legal_plays(b, 6, 5)
    results = np.stack([p.board for p in plays])
    assert race_flags(results).any()  # some results are races
    ranked = PubevalBot().rank(b, 6, 5)
    contact = pubeval_scores(results, False)
    by_key = {p.key(): s for p, s in zip(plays, contact)}
    for play, score in ranked:
        assert score == by_key[play.key()]


def test_race_flags_equal_is_race():
    boards, _ = random_positions(3000, seed=5)
    np.testing.assert_array_equal(race_flags(boards), [is_race(b) for b in boards])


def test_winning_play_scores_99999999():
    b = np.zeros((2, 25), np.int8)
    b[1, 0] = 1
    b[1, 3] = 1
    b[0, 10] = 15
    ranked = PubevalBot().rank(b, 4, 1)
    assert ranked[0][0].board[1].sum() == 0 and ranked[0][1] == np.float32(99999999.0)
    assert PubevalBot().choose(b, 4, 1).board[1].sum() == 0


def test_rank_is_sorted_and_choose_is_first():
    boards, dice = random_positions(200, seed=6)
    bot = PubevalBot()
    for b, (d1, d2) in zip(boards, dice.tolist()):
        ranked = bot.rank(b, d1, d2)
        plays = legal_plays(b, d1, d2)
        assert len(ranked) == len(plays)
        scores = [s for _, s in ranked]
        assert scores == sorted(scores, reverse=True)
        choice = bot.choose(b, d1, d2)
        assert (choice is None and not ranked) or choice == ranked[0][0]


def test_no_legal_play():
    b = np.zeros((2, 25), np.int8)
    b[1, 24] = 1
    b[1, 5] = 14
    b[0, :6] = 2
    b[0, 6] = 3
    for bot in (PubevalBot(), RandomBot(0)):
        assert bot.choose(b, 6, 5) is None
        assert bot.rank(b, 6, 5) == []


def test_random_bot():
    b = start_board()
    legal = {p.key() for p in legal_plays(b, 3, 1)}
    picks = [RandomBot(seed=9).choose(b, 3, 1) for _ in range(3)]
    assert picks[0] == picks[1] == picks[2]  # same seed, same choice
    bot = RandomBot(seed=1)
    seen = {bot.choose(b, 3, 1).key() for _ in range(300)}
    assert seen == legal  # every one of the 16 plays comes up
    rng = np.random.default_rng(4)
    assert RandomBot().choose(b, 3, 1, rng=np.random.default_rng(4)) == RandomBot().choose(b, 3, 1, rng=rng)
    ranked = RandomBot(2).rank(b, 3, 1)
    assert len(ranked) == 16 and [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_bot_base_is_abstract():
    with pytest.raises(NotImplementedError):
        Bot().rank(start_board(), 3, 1)


def test_batch_matches_single_on_no_play_positions():
    boards, dice = random_positions(2000, seed=8)
    chosen, counts = pubeval_choose_batch(boards, dice)
    for i in np.nonzero(counts == 0)[0]:
        assert np.array_equal(chosen[i], boards[i])
    bot = PubevalBot()
    for i in range(0, 2000, 10):
        p = bot.choose(boards[i], *dice[i].tolist())
        assert (p is None and counts[i] == 0) or np.array_equal(p.board, chosen[i])
