"""Matches: the lockstep game loop against the one-game loop, batched bots against their choose,
players from specs, parallel runs, and the match statistics."""
import math

import numpy as np
import pytest

from games.backgammon import legal_plays, random_positions
from games.backgammon.players.bots import Bot, PubevalBot, RandomBot, pubeval_scores
from games.backgammon.rules.board import is_race
from games.backgammon.play.match import (
    MatchResult,
    default_workers,
    play_game,
    play_games,
    play_match,
    player_rng,
    run_match,
)
from games.backgammon.players import PlayerError, make_player, player_name


class LoopPubeval(Bot):
    """pubeval through the generic Bot path only (score_plays + the default choose_batch loop)."""

    name = "pubeval-loop"

    def score_plays(self, board, plays):
        return pubeval_scores(np.stack([p.board for p in plays]), is_race(board))


class FirstPlay(Bot):
    """Always the move generator's first play: deterministic, and unlike pubeval."""

    name = "first"

    def score_plays(self, board, plays):
        return np.zeros(len(plays))


def one_at_a_time(bot_a, bot_b, n_games, seed, max_plies=10_000):
    """The reference: play_game per game, with the per-game random streams the match uses."""
    return np.array([play_game(bot_a, bot_b, g % 2, (seed, g // 2), max_plies,
                               rngs=(player_rng(seed, g, 0), player_rng(seed, g, 1)))
                     for g in range(n_games)])


# ------------------------------------------------------------------ batched choices


def test_default_choose_batch_is_choose_per_position():
    boards, dice = random_positions(400, seed=11)
    bot = FirstPlay()
    results, n_plays = bot.choose_batch(boards, dice)
    assert results.shape == boards.shape and results.dtype == np.int8
    assert (n_plays == 0).any(), "the sample should hold positions where nothing can move"
    for b, d, r, n in zip(boards, dice, results, n_plays):
        plays = legal_plays(b, *d)
        assert n == len(plays)
        want = plays[0].board if plays else b
        assert np.array_equal(r, want)


def test_pubeval_choose_batch_is_choose():
    boards, dice = random_positions(1500, seed=12)
    bot = PubevalBot()
    results, n_plays = bot.choose_batch(boards, dice)
    loop_results, loop_n = LoopPubeval().choose_batch(boards, dice)
    assert np.array_equal(n_plays, loop_n)
    assert np.array_equal(results, loop_results)
    for i in range(0, 1500, 7):
        play = bot.choose(boards[i], *dice[i])
        assert np.array_equal(results[i], boards[i] if play is None else play.board)


def test_random_choose_batch_uses_the_given_streams():
    boards, dice = random_positions(60, seed=13)
    bot = RandomBot(0)
    first, _ = bot.choose_batch(boards, dice, rngs=[np.random.default_rng(i) for i in range(60)])
    again, _ = RandomBot(99).choose_batch(boards, dice, rngs=[np.random.default_rng(i) for i in range(60)])
    assert np.array_equal(first, again)  # the bot's own stream is not used when streams are given
    for b, d, r in zip(boards, dice, first):
        assert any(np.array_equal(r, p.board) for p in legal_plays(b, *d)) or not legal_plays(b, *d)


# ------------------------------------------------------------------ lockstep = one game at a time


@pytest.mark.parametrize("pair", ["pubeval-pubeval", "pubeval-first", "first-random", "loop-pubeval"])
def test_lockstep_equals_one_game_at_a_time(pair):
    bots = {"pubeval": PubevalBot(), "first": FirstPlay(), "random": RandomBot(5), "loop": LoopPubeval()}
    a, b = (bots[k] for k in pair.split("-"))
    seed = 17
    want = one_at_a_time(a, b, 60, seed)
    got = play_games(a, b, np.arange(60), seed)
    assert got.tolist() == want.tolist()
    assert (got != 0).all()  # every game finished


def test_lockstep_any_subset_and_order():
    a, b = PubevalBot(), RandomBot(1)
    games = np.array([41, 3, 17, 8, 0, 29])
    whole = play_games(a, b, np.arange(42), seed=4)
    assert play_games(a, b, games, seed=4).tolist() == whole[games].tolist()


def test_lockstep_cut_games_score_zero_like_play_game():
    a, b = PubevalBot(), FirstPlay()
    want = one_at_a_time(a, b, 10, 2, max_plies=30)
    got = play_games(a, b, np.arange(10), 2, max_plies=30)
    assert got.tolist() == want.tolist() == [0] * 10


def test_lockstep_with_gnubg(gnubg):
    from games.backgammon.players.gnubg import GnubgBot

    a, b = GnubgBot(0), PubevalBot()
    want = one_at_a_time(a, b, 12, 3)
    assert play_games(a, b, np.arange(12), 3).tolist() == want.tolist()


def test_play_match_does_not_depend_on_batch():
    a, b = PubevalBot(), RandomBot(0)
    big = play_match(a, b, 50, seed=6, progress=False, batch=256)
    small = play_match(a, b, 50, seed=6, progress=False, batch=7)
    assert big.points.tolist() == small.points.tolist()
    assert big.a_seat.tolist() == [0, 1] * 25


def test_same_bot_both_seats_cancels_in_every_pair():
    res = play_match(FirstPlay(), FirstPlay(), 20, seed=8, progress=False)
    assert res.points.reshape(-1, 2).sum(axis=1).tolist() == [0] * 10


def test_pubeval_beats_first_play():
    res = play_match(PubevalBot(), FirstPlay(), 200, seed=1, progress=False)
    lo, hi = res.ci95
    assert lo > 0.3, res.text()


# ------------------------------------------------------------------ players and parallel runs


def test_make_player_specs():
    assert isinstance(make_player("pubeval"), PubevalBot)
    assert isinstance(make_player(" Random ", seed=3), RandomBot)
    assert player_name(make_player("pubeval"), "pubeval") == "pubeval"


@pytest.mark.parametrize("spec, words", [
    ("nonsense", ["unknown player", "pubeval"]),
    ("gnubg:x", ["0..4"]),
    ("gnubg:9", ["0..4"]),
])
def test_make_player_errors_say_why(spec, words):
    with pytest.raises(PlayerError) as e:
        make_player(spec)
    for w in words:
        assert w in str(e.value)


def test_make_player_directory_is_not_a_model(tmp_path):
    with pytest.raises(PlayerError, match="not a file"):
        make_player(str(tmp_path))


def test_make_player_gnubg(gnubg):
    bot = make_player("gnubg:1")
    assert bot.plies == 1 and player_name(bot, "gnubg:1") == "gnubg-1ply"
    assert make_player("gnubg").plies == 0


def test_run_match_same_points_for_any_worker_count():
    one, _ = run_match("pubeval", "random", 40, seed=9, workers=1, progress=False, batch=16)
    two, seconds = run_match("pubeval", "random", 40, seed=9, workers=2, progress=False, batch=16)
    assert one.points.tolist() == two.points.tolist()
    assert seconds > 0
    assert (one.name_a, one.name_b) == ("pubeval", "random")
    # and the in-process match of the same bots agrees too
    direct = play_match(PubevalBot(), RandomBot(123), 40, seed=9, progress=False)
    assert direct.points.tolist() == one.points.tolist()


def test_default_workers():
    assert default_workers(1) == 1
    assert default_workers(2) == 1
    assert 1 <= default_workers(10_000) <= (__import__("os").cpu_count() or 1)


# ------------------------------------------------------------------ statistics


def test_match_result_statistics():
    pts = np.array([1, -1, 2, 1, 3, -2, -1, -3, 1, 1, 2], np.int8)
    res = MatchResult("a", "b", 0, pts, (np.arange(len(pts)) % 2).astype(np.int8))
    assert (res.wins, res.losses) == (7, 4)
    assert (res.gammons, res.backgammons, res.gammons_lost, res.backgammons_lost) == (2, 1, 1, 1)
    assert math.isclose(res.ppg, 4 / 11)
    # pairs (1,-1) (2,1) (3,-2) (-1,-3) (1,1) and the last game alone
    units = np.array([0.0, 1.5, 0.5, -2.0, 1.0, 2.0])
    se = units.std(ddof=1) / math.sqrt(len(units))
    lo, hi = res.ci95
    assert math.isclose(lo, 4 / 11 - 1.96 * se) and math.isclose(hi, 4 / 11 + 1.96 * se)
    s = res.summary()
    assert s["games"] == 11 and s["wins"] == 7 and s["ci95"] == [lo, hi]


# ------------------------------------------------------------------ a trained model as a player


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from comparison import checkpoint, models

    torch.manual_seed(0)
    net = models.build_scorer("mlp", d_in=198, hidden=(16,))
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    checkpoint.save(path, net, meta={"game": "backgammon", "encoding": "tesauro198"})
    return path


def test_model_file_player_in_lockstep_equals_one_game_at_a_time(model_file):
    agent = make_player(str(model_file))
    assert player_name(agent, str(model_file)) == "tiny"
    want = one_at_a_time(agent, PubevalBot(), 16, 5)
    assert play_games(agent, PubevalBot(), np.arange(16), 5).tolist() == want.tolist()


def test_model_file_that_is_not_a_model(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_text("not a model")
    with pytest.raises(PlayerError, match="bad.pt"):
        make_player(str(bad))
