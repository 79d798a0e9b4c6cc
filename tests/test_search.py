"""Lookahead for model players (players.search): batched expectimax equals a plain reference."""
import numpy as np
import pytest
import torch

import games.backgammon as bg
from comparison import checkpoint, models, outcomes
from games.backgammon.players import PlayerError, make_player, parse_spec
from games.backgammon.players.agent import Agent
from games.backgammon.players.search import ROLL_PROBS, ROLLS, SearchAgent, filter_mask
from games.backgammon.rules.board import game_result, swap_sides


@pytest.fixture(scope="module")
def agent():
    torch.manual_seed(11)
    return Agent(outcomes.build_outcome_scorer(198, hidden=(16,)), "tesauro198")


def reference(agent, r, depth, keep=None):
    """The value of result r for its mover, one position at a time; replies searched deeper (depth
    >= 2) are the best ``keep`` by their 0-ply values (None: every reply)."""
    won = game_result(r)
    if won:
        return float(won)
    if depth == 0:
        return float(agent.score_results(r[None])[0])
    opp = swap_sides(r)
    total = 0.0
    for (d1, d2), p in zip(ROLLS, ROLL_PROBS):
        replies = [play.board for play in bg.legal_plays(opp, int(d1), int(d2))] or [opp]
        if depth >= 2 and keep is not None:
            zero = [reference(agent, x, 0) for x in replies]
            replies = [replies[i] for i in np.argsort(zero, kind="stable")[::-1][:keep]]
        total += p * max(reference(agent, x, depth - 1, keep) for x in replies)
    return -total


def test_rolls_cover_the_dice():
    assert len(ROLLS) == 21 and ROLL_PROBS.sum() == pytest.approx(1.0)


def test_one_ply_equals_the_reference(agent):
    bot = SearchAgent(agent, 1, keep=None, threshold=None)
    boards, dice = bg.random_positions(60, seed=1)
    results = []
    for b, (d1, d2) in zip(boards[::12], dice[::12]):
        plays = bg.legal_plays(b, int(d1), int(d2))
        results += [p.board for p in plays[:3]]
    results = np.stack(results)
    got = bot.values(results, 1)
    want = [reference(agent, r, 1) for r in results]
    np.testing.assert_allclose(got, want, atol=1e-5)
    # the opponent cannot move (closed board, checker on the bar): the position passes back
    b = np.zeros((2, 25), np.int8)
    b[1, :6] = 2
    b[1, 6] = 3          # the mover: a closed home board
    b[0, 24] = 1         # the opponent on the bar
    b[0, 5] = 14
    assert bot.values(b[None], 1)[0] == pytest.approx(reference(agent, b, 1), abs=1e-5)


def test_two_plies_equal_the_reference(agent):
    """Small endings (few plays per roll keep the reference fast): a bear-off, and one with contact
    (a blot to hit, a checker to enter from the bar)."""
    bot = SearchAgent(agent, 2, keep=None, threshold=None)
    bear_off = np.zeros((2, 25), np.int8)
    bear_off[1, [0, 2, 4, 5]] = [1, 1, 2, 1]
    bear_off[0, [1, 3, 5]] = [2, 1, 1]
    contact = np.zeros((2, 25), np.int8)
    contact[1, [3, 7]] = [2, 1]
    contact[0, [2, 19]] = [2, 1]
    results = np.stack([bear_off, contact])
    got = bot.values(results, 2)
    np.testing.assert_allclose(got, [reference(agent, r, 2) for r in results], atol=1e-5)
    assert np.abs(got - bot.values(results, 1)).min() > 0.05  # the second ply counts
    # the filter inside the search: replies searched on are the best by their 0-ply values
    narrow = SearchAgent(agent, 2, keep=1, threshold=None)
    np.testing.assert_allclose(narrow.values(results[1:], 2), [reference(agent, contact, 2, keep=1)], atol=1e-5)
    # a finished game is worth its points exactly, at any depth
    won = contact.copy()
    won[1] = 0
    assert bot.values(won[None], 2)[0] == game_result(won) == 1


def test_the_filter_keeps_the_top_k_at_the_root(agent):
    v = np.array([0.1, 0.5, 0.3, 0.5, -0.2, 0.45])
    one = np.array([0, len(v)])
    np.testing.assert_array_equal(filter_mask(v, one, 3, None), [0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(filter_mask(v, one, 8, 0.1), [0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(filter_mask(v, one, 1, 0.0), [0, 1, 0, 0, 0, 0])  # ties: the first
    two = filter_mask(np.array([1.0, 2.0, 0.0, 5.0, 4.0]), np.array([0, 2, 2, 5]), 1, None)
    np.testing.assert_array_equal(two, [0, 1, 0, 1, 0])  # per group, an empty group in between

    boards, dice = bg.random_positions(200, seed=2)
    k = 3
    bot = SearchAgent(agent, 1, keep=k, threshold=None)
    checked = 0
    for b, (d1, d2) in zip(boards, dice):
        plays = bg.legal_plays(b, int(d1), int(d2))
        if len(plays) < 6:
            continue
        zero = dict((p.key(), s) for p, s in agent.rank(b, int(d1), int(d2)))
        top = sorted(zero.values(), reverse=True)[:k]
        ranked = bot.rank(b, int(d1), int(d2))
        assert len(ranked) == len(plays)
        head, tail = ranked[:k], ranked[k:]
        assert sorted(zero[p.key()] for p, _ in head) == pytest.approx(sorted(top))  # the top k searched
        searched = bot.values(np.stack([p.board for p, _ in head]), 1)
        np.testing.assert_allclose([s for _, s in head], searched, atol=1e-9)
        assert [s for _, s in head] == sorted((s for _, s in head), reverse=True)
        assert [s for _, s in tail] == pytest.approx([zero[p.key()] for p, _ in tail])  # 0-ply values
        assert bot.choose(b, int(d1), int(d2)) == ranked[0][0]
        checked += 1
        if checked == 3:
            break
    assert checked == 3


def test_a_model_without_outcome_heads_cannot_search(tmp_path):
    dense = Agent(models.build_scorer("mlp", d_in=198, hidden=(8,)), "tesauro198")
    with pytest.raises(ValueError, match="outcome heads"):
        SearchAgent(dense, 1)
    path = tmp_path / "plain.pt"
    checkpoint.save(path, dense.model, meta={"game": "backgammon", "encoding": "tesauro198"})
    with pytest.raises(PlayerError, match="plain.pt:1.*outcome heads"):
        make_player(f"{path}:1")
    assert isinstance(make_player("default:1"), SearchAgent)  # the packaged model has outcome heads


def test_player_names_with_a_depth(tmp_path, agent):
    path = tmp_path / "o.pt"
    checkpoint.save(path, agent.model, meta={"game": "backgammon", "encoding": "tesauro198"})
    assert parse_spec(f"{path}:2").plies == 2 and parse_spec(f"{path}:2").path == path
    assert parse_spec("default:3").plies == 3 and parse_spec("gnubg:2").kind == "gnubg"
    odd = tmp_path / "odd:1"  # a file whose own name ends in :digits is that file
    odd.write_bytes(path.read_bytes())
    assert parse_spec(str(odd)).path == odd and parse_spec(str(odd)).plies == 0
    for bad in (f"{path}:4", f"{path}:x", "default:9", "default:"):
        with pytest.raises(PlayerError, match="depth"):
            parse_spec(bad)
    bot = make_player(f"{path}:1")
    assert isinstance(bot, SearchAgent) and bot.depth == 1 and bot.name == "o:1"
    assert isinstance(make_player(f"{path}:0"), Agent)
    b, (d1, d2) = bg.start_board(), (3, 1)
    assert bot.choose(b, d1, d2) == bot.rank(b, d1, d2)[0][0]


def test_a_searching_model_plays_a_match(tmp_path, agent):
    from games.backgammon.play.match import run_match

    path = tmp_path / "o.pt"
    checkpoint.save(path, agent.model, meta={"game": "backgammon", "encoding": "tesauro198"})
    result, _seconds = run_match(f"{path}:1", "pubeval", 2, seed=0, workers=1, progress=False)
    assert result.n_games == 2 and (result.points != 0).all()  # both games played to the end


def test_bench_accuracy_ranks_as_the_searched_player_plays(tmp_path, agent, capsys):
    from comparison import cli
    from games.backgammon.commands.accuracy import searched_scores
    from games.backgammon.learn.dataset import build_dataset
    from games.backgammon.play.generate import engine_name
    from games.backgammon.records import corpus_dir

    path = tmp_path / "net.pt"
    checkpoint.save(path, agent.model, meta={"game": "backgammon", "encoding": "tesauro198"})
    assert engine_name(f"{path}:2") == "net-2ply" and engine_name(str(path)) == "net"
    record = sorted(corpus_dir().glob("*.mat"))[0]
    data = build_dataset([record], cache_dir=tmp_path / "cache", workers=1, progress=False)
    data = data.subset(np.arange(12))
    keys = searched_scores(f"{path}:1", data, progress=False)
    bot = SearchAgent(agent, 1)
    for g in range(len(data)):
        results = data.items[data.offsets[g]:data.offsets[g + 1]]
        order, _ = bot._order(results)
        # the keys order the candidates as the player's own ranking does (ties: the generator's order)
        assert list(np.lexsort((np.arange(len(results)), -keys[data.offsets[g]:data.offsets[g + 1]]))) == list(order)
    out = tmp_path / "acc.json"
    assert cli.main(["bench", "accuracy", "--model", f"{path}:1", "--records", str(record), "--split", "none",
                     "--limit", "15", "--analysis", "none", "--json", str(out), "--no-progress",
                     "--cache", str(tmp_path / "cache")]) == 0
    import json

    assert 0.0 <= json.loads(out.read_text())["players"][f"{path}:1"]["top1"] <= 1.0


def test_expectimax_with_gnubg_leaves_chooses_as_gnubg_1_ply():
    """The search against an independent oracle: with gnubg-nn's 0-ply equity at the leaves, our
    1-ply choice is gnubg-nn's own 1-ply choice (which its 0-ply choice often is not)."""
    pytest.importorskip("gnubg_nn")
    from games.backgammon.players.gnubg import GnubgBot

    g0, g1 = GnubgBot(0), GnubgBot(1)

    class GnubgLeaves:  # an "outcome model" whose calibrated V is gnubg's 0-ply equity
        name = "gnubg0"
        model = type("HasProbabilities", (), {"probabilities": True})

        def score_results(self, results):
            return g0.result_equities(results)

    search = SearchAgent(GnubgLeaves(), 1, keep=None, threshold=None)
    rng = np.random.default_rng(3)
    same = same_0ply = n = 0
    while n < 30:
        b = bg.start_board()
        for _ in range(int(rng.integers(4, 40))):
            plays = bg.legal_plays(b, *map(int, rng.integers(1, 7, 2)))
            if plays:
                b = plays[int(rng.integers(len(plays)))].board
            if b[1].sum() == 0 or b[0].sum() == 0:
                break
            b = bg.swap_sides(b)
        d1, d2 = map(int, rng.integers(1, 7, 2))
        plays = bg.legal_plays(b, d1, d2)
        if b[1].sum() == 0 or b[0].sum() == 0 or len(plays) < 2:
            continue
        n += 1
        theirs = g1.best_move(b, d1, d2, plays).board.tobytes()
        same += search.choose(b, d1, d2).board.tobytes() == theirs
        same_0ply += g0.best_move(b, d1, d2, plays).board.tobytes() == theirs
    assert same >= 29 and same_0ply <= 27, (same, same_0ply)


def reference_at_score(agent, r, depth, states, side=0):
    """As :func:`reference` at a match state: ``states[side]`` is the state with the mover of ``r``
    on roll; leaves are equity_at_score of the mover's probabilities, finished games their outcome's
    value at the score."""
    from games.backgammon.rules import cube

    won = game_result(r)
    if won:
        values = cube.outcome_values(states[side])
        return float(values[abs(won) - 1] if won > 0 else values[2 + abs(won)])
    if depth == 0:
        return float(cube.equity_at_score(agent.result_probabilities(r[None])[0], states[side]))
    opp = swap_sides(r)
    total = 0.0
    for (d1, d2), p in zip(ROLLS, ROLL_PROBS):
        replies = [play.board for play in bg.legal_plays(opp, int(d1), int(d2))] or [opp]
        total += p * max(reference_at_score(agent, x, depth - 1, states, 1 - side) for x in replies)
    return -total


def _results_near_the_end(n_positions=8):
    """Results of bear-off races (some end the game) and of contact positions."""
    results = []
    rng = np.random.default_rng(3)
    for i in range(n_positions):
        b = np.zeros((2, 25), np.int8)
        if i % 2:
            b[1, rng.choice(6, 3, replace=False)] = 1          # the mover: 3 left, may not finish
        else:
            b[1, :2] = 1                                       # the mover: 2 left on its 1- and 2-points, finishes
        if i % 4 == 0:
            b[0, 5] = 15                                       # the opponent has borne off none: a gammon
        else:
            b[0, rng.choice(5, 2, replace=False)] = 1
            b[0, 5] = 2                                        # the opponent: 4 left
        plays = bg.legal_plays(b, int(rng.integers(1, 7)), int(rng.integers(1, 7)))
        results += [p.board for p in plays[:2]]
    boards, dice = bg.random_positions(20, seed=4)
    for b, (d1, d2) in zip(boards[::5], dice[::5]):
        results += [p.board for p in bg.legal_plays(b, int(d1), int(d2))[:2]]
    return np.stack(results)


@pytest.mark.parametrize("state", [
    dict(match_length=5, score=(1, 3), cube=2, cube_owner=1, on_roll=0, turn=0),
    dict(match_length=7, score=(6, 2), crawford=True, on_roll=1, turn=1),        # Crawford, 1-away on roll
    dict(match_length=0, cube=1, cube_owner=-1, jacoby=True, on_roll=0, turn=0),  # money, Jacoby: single games
])
def test_search_at_a_match_score_equals_the_reference(agent, state):
    from dataclasses import replace

    from games.backgammon.rules.ids import MatchState

    st = MatchState(**state)
    states = (st, replace(st, on_roll=1 - st.on_roll, turn=1 - st.on_roll))
    bot = SearchAgent(agent, 1, keep=None, threshold=None)
    from games.backgammon.players.search import MatchScale

    results = _results_near_the_end()
    assert any(game_result(r) for r in results)  # some results end the game: their outcome values count
    got = bot.values(results, 1, 0, MatchScale.of(st))
    want = [reference_at_score(agent, r, 1, states) for r in results]
    np.testing.assert_allclose(got, want, atol=1e-5)
    # at 0 ply the scaled values are the agent's own ranking at the score
    b, (d1, d2) = bg.random_positions(1, seed=9)[0][0], (4, 2)
    ranked = SearchAgent(agent, 1).rank(b, d1, d2, st)
    zero = {p.notation: v for p, v in agent.rank(b, d1, d2, st)}
    v0 = bot.values(np.stack([p.board for p, _ in ranked]), 0, 0, MatchScale.of(st))
    np.testing.assert_allclose(v0, [zero[p.notation] for p, _ in ranked], atol=1e-5)


def test_with_an_owned_cube_money_values_are_the_cubeless_ones(agent):
    """Money with the cube owned (gammons count): the scaled search is the plain cubeless one."""
    from games.backgammon.players.search import MatchScale
    from games.backgammon.rules.ids import MatchState

    bot = SearchAgent(agent, 1, keep=None, threshold=None)
    results = _results_near_the_end(4)
    scale = MatchScale.of(MatchState(cube=2, cube_owner=0, on_roll=0, turn=0))
    np.testing.assert_allclose(bot.values(results, 1, 0, scale), bot.values(results, 1), atol=1e-6)


def test_a_searching_player_decides_the_cube_with_its_net(agent):
    from games.backgammon.rules.ids import MatchState

    bot = SearchAgent(agent, 1)
    b = bg.board_from_position_id("4HPwATDgc/ABMA")
    st = MatchState(match_length=5, score=(2, 2))
    assert bot.cube_action(b, st) == agent.cube_action(b, st)
    assert bot.cube_analysis(b, st).action() == agent.cube_analysis(b, st).action()
