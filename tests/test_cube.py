"""Cube decisions (games.backgammon.rules.cube) and the agent's cube and match-aware play.

Oracles, independent of the code under test:
- Janowski's closed-form money points (gnubg's getMoneyPoints): take, double and too-good points
  at cube efficiency 0 (dead) and 1 (live).
- The ``gnubg`` module (the full engine): its 0-ply cube analysis (nd, dt, dp and the proper
  action, from its own probabilities) on positions from random games at random money and match
  states, and its cubeless match equity (gammon prices at the score).
- gnubg's 4-ply cube analyses of real human decisions (../shared/data/human-analysis): our
  Janowski equities from its 4-ply cubeless probabilities against its 4-ply cubeful ones. These
  differ by construction (a 4-ply search is not Janowski of 4-ply probabilities), so the test
  bounds the error just beyond what was measured, and checks that wrong formulas (x = 0, x = 1,
  ignoring the score) exceed those bounds.
"""
from __future__ import annotations

import gzip
import json
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

import games.backgammon as bg
from games.backgammon.rules import cube
from games.backgammon.rules.ids import MatchState, board_from_position_id, parse_match_id

CUBE_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "human-analysis" / "lasse-4ply-cube.jsonl.gz"
MONEY = MatchState()


def _probs(w, g=0.0, bgw=0.0, gl=0.0, bgl=0.0):
    """Probabilities from a winning chance and the gammon / backgammon shares of wins and losses."""
    return (w, w * g, w * bgw, (1 - w) * gl, (1 - w) * bgl)


def _random_probs(rng):
    w = float(rng.uniform(0.02, 0.98))
    g = float(rng.uniform(0, 0.5))
    gl = float(rng.uniform(0, 0.5))
    return _probs(w, g, g * float(rng.uniform(0, 0.3)), gl, gl * float(rng.uniform(0, 0.3)))


# ---------------------------------------------------------------------------- efficiency


def test_efficiency_by_game_phase():
    start = bg.board_from_position_id("4HPwATDgc/ABMA")
    assert cube.cube_efficiency(start) == 0.68 == cube.cube_efficiency(None)
    race = np.zeros((2, 25), np.int8)
    race[1, 5], race[1, 10] = 5, 5          # on roll: 5 x 6 + 5 x 11 = 85 pips
    race[0, 2], race[0, 7] = 5, 5           # nobody behind anybody: a race
    assert cube.cube_efficiency(race) == pytest.approx(0.55 + 0.00125 * 85)
    assert cube.cube_efficiency(race, cube.GNUBG_SHALLOW) == 0.8                     # 0.60 + 0.0025 x 85, capped
    long_race = race.copy()
    long_race[1, 5], long_race[1, 20] = 0, 5   # 160 pips
    long_race[0, 7], long_race[0, 0] = 0, 5     # the opponent's checkers all on its points 1..3
    assert cube.cube_efficiency(long_race) == 0.7                     # capped
    home = np.zeros((2, 25), np.int8)
    home[1, :3], home[0, :3] = 5, 4
    assert cube.cube_efficiency(home) == 0.6
    over = home.copy()
    over[1] = 0
    assert cube.cube_efficiency(over) == 0.0


# ---------------------------------------------------------------------------- money: Janowski


@pytest.mark.parametrize("seed", range(6))
def test_money_points_are_janowskis_formulas(seed):
    rng = np.random.default_rng(seed)
    p = _random_probs(rng)
    big_w = 1 + (p[1] + p[2]) / p[0]
    big_l = 1 + (p[3] + p[4]) / (1 - p[0])
    for owner in (-1, 0):
        st = MatchState(cube=1 if owner == -1 else 2, cube_owner=owner)
        dead = cube.cube_points(p, st, efficiency=0.0)
        assert dead.double_point == pytest.approx(big_l / (big_w + big_l), abs=1e-9)
        assert dead.take_point == pytest.approx((big_w - 0.5) / (big_w + big_l), abs=1e-9)   # taker's W = our L
        assert dead.too_good_point == pytest.approx((big_l + 1) / (big_w + big_l), abs=1e-9)
        live = cube.cube_points(p, st, efficiency=1.0)
        cash = (big_l + 1) / (big_w + big_l + 0.5)
        assert live.double_point == pytest.approx(cash, abs=1e-9)
        assert live.take_point == pytest.approx((big_w - 0.5) / (big_w + big_l + 0.5), abs=1e-9)
        assert live.too_good_point == pytest.approx(cash, abs=1e-9)
    jacoby = cube.cube_points(p, MatchState(jacoby=True), efficiency=0.0)
    assert jacoby.double_point == pytest.approx((big_l - 0.5) / (big_l + big_w - 1), abs=1e-9)
    assert jacoby.too_good_point is None          # gammons do not count: never too good


def test_money_equities_dead_cube_and_normalisation():
    rng = np.random.default_rng(3)
    for _ in range(50):
        p = _random_probs(rng)
        cubeless = 2 * p[0] - 1 + p[1] + p[2] - p[3] - p[4]
        a = cube.cube_analysis(p, MONEY, efficiency=0.0)
        assert (a.nd, a.dt, a.dp) == pytest.approx((cubeless, 2 * cubeless, 1.0))
        # normalised to the cube: the same at any cube value the player owns
        b = cube.cube_analysis(p, MatchState(cube=4, cube_owner=0), efficiency=0.68)
        c = cube.cube_analysis(p, MatchState(cube=16, cube_owner=0), efficiency=0.68)
        assert (b.nd, b.dt, b.dp) == pytest.approx((c.nd, c.dt, c.dp))
        # the Jacoby rule only changes a centred cube
        j = cube.cube_analysis(p, MatchState(jacoby=True), efficiency=0.0)
        assert j.nd == pytest.approx(2 * p[0] - 1)


def test_proper_wording_money():
    st, owned = MONEY, MatchState(cube=2, cube_owner=0)
    # x = 0.68, no gammons: doubling from 0.692 (0.718 redoubling), pass from 0.786
    assert cube.cube_analysis(_probs(0.60), st).proper == "No double, take"
    assert cube.cube_analysis(_probs(0.75), st).proper == "Double, take"
    assert cube.cube_analysis(_probs(0.85), st).proper == "Double, pass"
    assert cube.cube_analysis(_probs(0.85, g=0.5), st).proper == "Too good to double, pass"
    assert cube.cube_analysis(_probs(0.60), owned).proper == "No redouble, take"
    assert cube.cube_analysis(_probs(0.75), owned).proper == "Redouble, take"
    assert cube.cube_analysis(_probs(0.85), owned).proper == "Redouble, pass"
    assert cube.cube_analysis(_probs(0.85, g=0.5), owned).proper == "Too good to redouble, pass"
    theirs = cube.cube_analysis(_probs(0.9), MatchState(cube=2, cube_owner=1))
    assert theirs.proper == "Cube not available" and not theirs.may_double and theirs.action() == "no double"
    a = cube.cube_analysis(_probs(0.60), st)
    assert a.percent == pytest.approx((a.nd - a.dt) / (a.dp - a.dt))
    beaver = cube.cube_analysis(_probs(0.45), st, beavers=True)      # a double would be beavered
    assert beaver.proper == "No double, beaver" and beaver.action() == "no double"


def test_actions_and_views():
    p = _probs(0.70, g=0.2)
    doubler = cube.cube_analysis(p, MONEY)
    assert doubler.action() == "double" and not doubler.taker
    offered = replace(MONEY, doubled=True, turn=1)
    taker = cube.cube_analysis(p, offered)
    assert taker.taker and (taker.nd, taker.dt, taker.dp) == pytest.approx((-doubler.nd, -doubler.dt, -doubler.dp))
    assert taker.proper == doubler.proper
    assert taker.action() == ("take" if doubler.dp > doubler.dt else "pass") == "take"
    assert cube.cube_action(p, offered) == "take" and cube.cube_action(p, MONEY) == "double"
    assert cube.cube_action(doubler, offered) == "take"       # an analysis is turned to the decider
    assert cube.cube_action(_probs(0.85), offered) == "pass"
    assert cube.cube_action(_probs(0.85, g=0.6), MONEY) == "no double"     # too good
    assert taker.loss("take") == 0.0 and taker.loss("pass") == pytest.approx(taker.dt - taker.dp)
    assert doubler.loss("double") == 0.0 and doubler.loss("no double") == pytest.approx(doubler.dt - doubler.nd)
    with pytest.raises(ValueError, match="'take' or 'pass'"):
        taker.equity_of("double")


# ---------------------------------------------------------------------------- match


def test_match_rules_crawford_post_crawford_dead_cube():
    p = _probs(0.7, g=0.2)
    crawford = MatchState(match_length=5, score=(4, 2), crawford=True, on_roll=1, turn=1)
    a = cube.cube_analysis(p, crawford)
    assert not a.may_double and a.proper == "Never double, take (dead cube)" and a.action() == "no double"
    leader = MatchState(match_length=5, score=(4, 2), on_roll=0, turn=0)          # post-Crawford
    assert not cube.cube_analysis(p, leader).may_double
    trailer = replace(leader, on_roll=1, turn=1)
    assert cube.cube_analysis(p, trailer).may_double
    dead = MatchState(match_length=5, score=(1, 3), cube=4, cube_owner=0, on_roll=0, turn=0)
    assert cube.cube_analysis(p, dead).proper == "Never redouble, take (dead cube)"


def test_outcome_values_money_and_scores():
    np.testing.assert_array_equal(cube.outcome_values(MONEY), [1, 2, 3, -1, -2, -3])
    np.testing.assert_array_equal(cube.outcome_values(MatchState(jacoby=True)), [1, 1, 1, -1, -1, -1])
    np.testing.assert_array_equal(cube.outcome_values(MatchState(jacoby=True, cube=2, cube_owner=0)),
                                  [1, 2, 3, -1, -2, -3])
    dmp = MatchState(match_length=7, score=(6, 6))
    np.testing.assert_allclose(cube.outcome_values(dmp), [1, 1, 1, -1, -1, -1])
    crawford_leader = MatchState(match_length=5, score=(4, 1), crawford=True, on_roll=0)
    assert np.allclose(cube.outcome_values(crawford_leader)[:3], 1.0)      # any win wins the match
    v = cube.outcome_values(MatchState(match_length=7, score=(1, 2)))
    assert v[0] == pytest.approx(1.0) and v[3] == pytest.approx(-1.0)
    assert np.all(np.diff(v[:3]) > 0) and np.all(np.diff(v[3:]) < 0)
    rng = np.random.default_rng(1)
    probs = np.array([_random_probs(rng) for _ in range(20)])
    st = MatchState(match_length=9, score=(3, 5), cube=2, cube_owner=1, on_roll=0)
    values = cube.outcome_values(st)
    exclusive = np.stack([probs[:, 0] - probs[:, 1], probs[:, 1] - probs[:, 2], probs[:, 2],
                          1 - probs[:, 0] - probs[:, 3], probs[:, 3] - probs[:, 4], probs[:, 4]], axis=1)
    np.testing.assert_allclose(cube.equity_at_score(probs, st), exclusive @ values)
    assert cube.equity_at_score(probs[0], MONEY) == pytest.approx(
        2 * probs[0, 0] - 1 + probs[0, 1] + probs[0, 2] - probs[0, 3] - probs[0, 4])


# ---------------------------------------------------------------------------- bad input


def test_bad_input_says_what_is_wrong():
    with pytest.raises(ValueError, match="probs must be 5 numbers"):
        cube.cube_analysis((0.5, 0.1), MONEY)
    with pytest.raises(ValueError, match="win_gammon .* not nested"):
        cube.cube_analysis((0.3, 0.4, 0.0, 0.1, 0.0), MONEY)
    with pytest.raises(ValueError, match="lose_gammon"):
        cube.cube_analysis((0.9, 0.1, 0.0, 0.3, 0.0), MONEY)
    with pytest.raises(ValueError, match="win = 1.5 is not a probability"):
        cube.cube_analysis((1.5, 0, 0, 0, 0), MONEY)
    with pytest.raises(ValueError, match="state must be a MatchState"):
        cube.cube_analysis(_probs(0.5), "money")
    with pytest.raises(ValueError, match="efficiency 1.5"):
        cube.cube_analysis(_probs(0.5), MONEY, efficiency=1.5)
    with pytest.raises(ValueError, match="the match to 5 is over"):
        cube.cube_analysis(_probs(0.5), MatchState(match_length=5, score=(5, 2)))
    with pytest.raises(ValueError, match=r"\(5,\) or \(M, 5\)"):
        cube.equity_at_score(np.zeros((3, 4)), MONEY)


# ---------------------------------------------------------------------------- the gnubg engine as oracle


def _random_positions(n, seed):
    """Positions met in random games (contact, race, bear-off), the player on roll in board[1]."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        b = bg.board_from_position_id("4HPwATDgc/ABMA")
        for ply in range(400):
            d1, d2 = (int(x) for x in rng.integers(1, 7, size=2))
            plays = bg.legal_plays(b, d1, d2)
            if plays:
                b = plays[int(rng.integers(len(plays)))].board
            if b[1].sum() == 0:
                break
            b = bg.swap_sides(b)
            if ply % 9 == 4:
                out.append(b.copy())
    return out[:n]


def _random_state(rng, on_roll):
    kind = rng.random()
    if kind < 0.35:
        owner = int(rng.choice([-1, on_roll, 1 - on_roll]))
        return MatchState(cube=1 if owner == -1 else int(2 ** rng.integers(1, 4)), cube_owner=owner,
                          on_roll=on_roll, turn=on_roll, jacoby=bool(rng.random() < 0.5))
    n = int(rng.integers(2, 26))
    score = (int(rng.integers(0, n)), int(rng.integers(0, n)))
    owner = int(rng.choice([-1, on_roll, 1 - on_roll]))
    one_away = n - score[0] == 1 or n - score[1] == 1
    return MatchState(cube=1 if owner == -1 else int(2 ** rng.integers(1, 4)), cube_owner=owner, on_roll=on_roll,
                      turn=on_roll, match_length=n, score=score,
                      crawford=bool(one_away and score[0] != score[1] and rng.random() < 0.3))


def test_zero_ply_analysis_is_gnubgs_on_random_positions_and_scores():
    gnubg = pytest.importorskip("gnubg", reason="the gnubg module (full engine) is an optional test dependency")
    from games.backgammon.players import gnubg_full as gf

    rng = np.random.default_rng(11)
    compared = refused = 0
    worst = 0.0
    for b in _random_positions(160, seed=5):
        if gnubg.classify(b.tolist(), 0) in (0, 4, 5):   # over, or gnubg's exact two-sided bear-off database
            continue
        st = _random_state(rng, int(rng.integers(2)))
        probs = gf.probabilities(b, 0)
        ours = cube.cube_analysis(probs, st, board=b, efficiency=cube.GNUBG_SHALLOW)  # gnubg's 0-1 ply values
        try:
            theirs = gf.parse_cube_hint(gf.engine().cube_hint(b, st, 0))
        except (ValueError, RuntimeError):               # "You cannot double" / the Crawford game
            assert not ours.may_double, (bg.position_id(b), st)
            refused += 1
            continue
        assert ours.may_double
        err = max(abs(ours.nd - theirs.nd), abs(ours.dt - theirs.dt), abs(ours.dp - theirs.dp))
        worst = max(worst, err)
        assert err < 6e-5, (bg.position_id(b), st, ours, theirs)   # gnubg prints 5 decimals, float32
        assert ours.proper == theirs.verdict, (bg.position_id(b), st, ours, theirs)
        compared += 1
    assert compared >= 80 and refused >= 5, (compared, refused)


def test_equity_at_score_is_gnubgs_cubeless_match_equity():
    gnubg = pytest.importorskip("gnubg", reason="the gnubg module (full engine) is an optional test dependency")
    from games.backgammon.players import gnubg_full as gf

    rng = np.random.default_rng(4)
    for b in _random_positions(40, seed=9):
        st = _random_state(rng, int(rng.integers(2)))
        if st.match_length == 0:
            st = replace(st, jacoby=False)          # gnubg's money equity here ignores the Jacoby rule
        ci = gnubg.cubeinfo(st.cube, st.cube_owner, st.on_roll, st.match_length, st.score, int(st.crawford))
        out = gnubg.evaluate(b.tolist(), ci, gf.eval_context(0, cubeful=False))
        assert cube.equity_at_score(np.array(out[:5]), st) == pytest.approx(out[5], abs=2e-5), (st, out)


# ---------------------------------------------------------------------------- gnubg's 4-ply analyses


@lru_cache(maxsize=1)
def _all_cube_lines() -> tuple:
    """The analysed cube decisions that carry probabilities and equities (read once)."""
    with gzip.open(CUBE_DATA, "rt") as f:
        rows = (json.loads(line) for line in f)
        return tuple(r for r in rows if r["probs"] is not None and r["nd"] is not None)


def _cube_lines(n, seed=2024) -> list:
    if not CUBE_DATA.exists():
        pytest.skip(f"{CUBE_DATA} not found (shared analysis data)")
    rows = _all_cube_lines()
    pick = np.random.default_rng(seed).choice(len(rows), size=min(n, len(rows)), replace=False)
    return [rows[i] for i in pick]


def _gnubg_action(line) -> str:
    verdict = line["proper"].split(" (")[0]
    if line["decision"] == "take":
        return "pass" if verdict.endswith("pass") else "take"
    head = verdict.split(",")[0].lower()
    return "double" if head in ("double", "redouble") or head.startswith("optional") else "no double"


def _agreement(lines, efficiency=None, ignore_score=False) -> dict:
    """Our analysis from each line's 4-ply probabilities against gnubg's 4-ply cubeful one."""
    err_nd, err_dt, proper, action = [], [], [], []
    for line in lines:
        w, wg, wbg, _lose, lg, lbg = line["probs"]     # the decider's view
        st = parse_match_id(line["match_id"])
        probs = (w, wg, wbg, lg, lbg) if line["decision"] == "double" else (1 - w, lg, lbg, wg, wbg)
        if ignore_score:
            st = MatchState(cube=st.cube, cube_owner=st.cube_owner, on_roll=st.on_roll, turn=st.turn,
                            doubled=st.doubled)
        a = cube.cube_analysis(probs, st, board=board_from_position_id(line["position_id"]), efficiency=efficiency)
        err_nd.append(abs(a.nd - line["nd"]))
        err_dt.append(abs(a.dt - line["dt"]))
        proper.append(a.proper == line["proper"].split(" (")[0])
        action.append(a.action() == _gnubg_action(line))
    return {"nd": float(np.mean(err_nd)), "dt": float(np.mean(err_dt)), "proper": float(np.mean(proper)),
            "action": float(np.mean(action))}


# Measured on these 3000 lines (3- to 17-point matches: the data holds no money game), our default
# (gnubg's classic efficiencies, contact 0.68): mean |error| nd 0.0227, dt 0.0407 (EMG); the same
# proper action 96.0%, the same action 97.5%. With gnubg's 0-1 ply efficiencies (contact 0.76):
# 0.0208, 0.0453, 96.2%, 97.8%. Wrong formulas: x = 1: 0.047, 0.092, 90.1%, 93.0%; x = 0: 0.130,
# 0.299, 68.1%, 72.5%; ignoring the score (money): 0.099, 0.401, 90.5%, 93.2%.
BOUNDS = {"nd": 0.025, "dt": 0.045, "proper": 0.95, "action": 0.97}


def _within(m) -> bool:
    return m["nd"] <= BOUNDS["nd"] and m["dt"] <= BOUNDS["dt"] and m["proper"] >= BOUNDS["proper"] \
        and m["action"] >= BOUNDS["action"]


def test_janowski_of_4ply_probabilities_is_close_to_gnubgs_4ply_cube_analysis():
    lines = _cube_lines(3000)
    ours = _agreement(lines)
    assert _within(ours), ours
    for wrong in (dict(efficiency=0.0), dict(efficiency=1.0), dict(ignore_score=True)):
        m = _agreement(lines[:1000], **wrong)      # far outside the bounds: a third of the lines shows it
        assert not _within(m), (wrong, m)


def test_take_lines_are_the_takers_view():
    lines = [line for line in _cube_lines(4000, seed=3) if line["decision"] == "take"][:200]
    assert len(lines) > 50
    for line in lines:
        w, wg, wbg, _lose, lg, lbg = line["probs"]
        st = parse_match_id(line["match_id"])
        a = cube.cube_analysis((1 - w, lg, lbg, wg, wbg), st, board=board_from_position_id(line["position_id"]))
        assert a.taker and a.dp == pytest.approx(line["dp"]) == -1.0
        assert cube.cube_action(a, st) in ("take", "pass")


# ---------------------------------------------------------------------------- the agent


def _tiny_agent(seed=0):
    torch = pytest.importorskip("torch")
    from comparison import outcomes
    from games.backgammon.players.agent import Agent

    torch.manual_seed(seed)
    return Agent(outcomes.build_outcome_scorer(198, hidden=(16,)), "tesauro198", name="tiny")


def test_agent_cube_analysis_uses_its_probabilities():
    agent = _tiny_agent()
    rng = np.random.default_rng(2)
    for b in _random_positions(12, seed=1):
        st = _random_state(rng, 0)
        ev = agent.evaluate(b)
        probs = (ev.win, ev.win_gammon, ev.win_backgammon, ev.lose_gammon, ev.lose_backgammon)
        a = agent.cube_analysis(b, st)
        assert a == cube.cube_analysis(probs, st, board=b)
        assert agent.cube_action(b, st) == a.action() in ("double", "no double")
        if a.may_double:
            offered = replace(st, doubled=True, turn=1 - st.on_roll)
            t = agent.cube_analysis(b, offered)
            assert t.taker and agent.cube_action(b, offered) == t.action() in ("take", "pass")


def test_agent_ranks_by_the_equity_at_the_score():
    agent = _tiny_agent(1)
    b = bg.board_from_position_id("4HPwATDgc/ABMA")
    plain = agent.rank(b, 6, 4)
    money = agent.rank(b, 6, 4, MONEY)
    assert [p.notation for p, _ in money] == [p.notation for p, _ in plain]
    np.testing.assert_allclose([s for _, s in money], [s for _, s in plain], atol=1e-5)
    dmp = MatchState(match_length=5, score=(4, 4))
    ranked = agent.rank(b, 6, 4, dmp)
    probs = agent.result_probabilities(np.stack([p.board for p, _ in ranked]))
    np.testing.assert_allclose([s for _, s in ranked], 2 * probs[:, 0] - 1, atol=1e-9)   # gammons worth nothing
    assert agent.choose(b, 6, 4, state=dmp).notation == ranked[0][0].notation
    st = MatchState(match_length=7, score=(2, 5), cube=2, cube_owner=1)
    scored = agent.rank(b, 6, 4, st)
    probs = agent.result_probabilities(np.stack([p.board for p, _ in scored]))
    # float32 nets: the same boards in another batch order may differ in the last bits
    np.testing.assert_allclose([s for _, s in scored], cube.equity_at_score(probs, st), rtol=0, atol=1e-6)


def test_a_plain_scorer_has_no_cube_judgement():
    torch = pytest.importorskip("torch")
    from comparison import models
    from games.backgammon.players.agent import Agent

    torch.manual_seed(0)
    plain = Agent(models.build_scorer("mlp", d_in=198, hidden=(8,)), "tesauro198", name="plain")
    b = bg.board_from_position_id("4HPwATDgc/ABMA")
    assert getattr(plain, "cube_action", None) is None and getattr(plain, "cube_analysis", None) is None
    with pytest.raises(AttributeError, match="'plain' has no outcome heads"):
        plain.cube_action(b, MONEY)
    with pytest.raises(AttributeError, match="cannot judge the cube"):
        plain.cube_analysis(b, MONEY)
    # a match state cannot change a plain scorer's order
    assert [p.notation for p, _ in plain.rank(b, 3, 1, MatchState(match_length=3, score=(2, 2)))] == \
        [p.notation for p, _ in plain.rank(b, 3, 1)]


def test_default_model_says_whether_it_can_judge_the_cube():
    pytest.importorskip("torch")
    from games.backgammon.players.agent import load_agent

    agent = load_agent()
    b = bg.board_from_position_id("4HPwATDgc/ABMA")
    assert agent.has_outcomes   # the packaged default is an outcome model
    assert agent.cube_action(b, MONEY) == "no double"    # nobody doubles at the opening position
    a = agent.cube_analysis(b, MONEY)
    assert a.nd > a.dt and a.proper.startswith("No double")


def test_batched_plays_at_the_score_equal_one_at_a_time():
    agent = _tiny_agent(3)
    rng = np.random.default_rng(5)
    boards, dice, states = [], [], []
    for g in range(80):   # positions of random games
        b = bg.start_board()
        for _ in range(int(rng.integers(0, 30))):
            plays = bg.legal_plays(b, *map(int, rng.integers(1, 7, 2)))
            if plays:
                b = plays[int(rng.integers(len(plays)))].board
                if b[1].sum() == 0:
                    break
            b = bg.swap_sides(b)
        if b[0].sum() == 0 or b[1].sum() == 0:
            continue
        # double match point (gammons worth nothing) and lopsided scores, where the score matters most
        score = [(4, 4), (0, 4), (4, 0), (3, 1)][g % 4]
        boards.append(b)
        dice.append(rng.integers(1, 7, 2))
        states.append(MatchState(match_length=5, score=score, on_roll=1, turn=1))
    boards, dice = np.stack(boards), np.stack(dice)
    batched, counts = agent.choose_batch(boards, dice, states=states)
    money, _ = agent.choose_batch(boards, dice)
    for i in range(len(boards)):
        play = agent.choose(boards[i], int(dice[i, 0]), int(dice[i, 1]), state=states[i])
        assert np.array_equal(batched[i], boards[i] if play is None else play.board)
    assert counts.sum() > 100
    assert (batched != money).any(axis=(1, 2)).sum() >= 3   # the score changed some plays: the check can fail


# ---------------------------------------------------------------------------- who may double: the one rule


def _rule_states(n: int, seed: int) -> list[MatchState]:
    """Random match states, no double offered: money (up to the highest cube) or a match to
    1..25 at any score, any cube and owner (a centred 1 in the Crawford game), either player on
    roll."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        on_roll = int(rng.integers(2))
        cube_value = int(2 ** rng.integers(0, 13))                     # 1 .. 4096
        owner = -1 if cube_value == 1 else int(rng.choice([on_roll, 1 - on_roll]))
        if rng.random() < 0.4:
            out.append(MatchState(cube=cube_value, cube_owner=owner, on_roll=on_roll, turn=on_roll,
                                  jacoby=bool(rng.integers(2))))
            continue
        length = int(rng.integers(1, 26))
        score = (int(rng.integers(length)), int(rng.integers(length)))
        crawford = length > 1 and length - 1 in score and score[0] != score[1] and rng.random() < 0.5
        if crawford:
            cube_value, owner = 1, -1
        out.append(MatchState(cube=min(cube_value, 64), cube_owner=owner if cube_value > 1 else -1,
                              on_roll=on_roll, turn=on_roll, match_length=length, score=score, crawford=crawford))
    return out


def test_cube_refusal_says_why():
    assert cube.cube_refusal(MONEY) == "" and cube.may_double(MONEY)
    assert "owns the cube" in cube.cube_refusal(MatchState(cube=2, cube_owner=1, on_roll=0, turn=0))
    assert cube.cube_refusal(MatchState(cube=2, cube_owner=0, on_roll=0, turn=0)) == ""
    assert "Crawford" in cube.cube_refusal(MatchState(match_length=5, score=(4, 2), crawford=True))
    assert "dead" in cube.cube_refusal(MatchState(match_length=5, score=(4, 2), on_roll=0, turn=0))   # leader
    assert cube.cube_refusal(MatchState(match_length=5, score=(4, 2), on_roll=1, turn=1)) == ""       # trailer
    assert "dead" in cube.cube_refusal(MatchState(match_length=5, score=(1, 0), cube=4, cube_owner=0))
    assert cube.cube_refusal(MatchState(cube=2048, cube_owner=0)) == ""
    assert "highest" in cube.cube_refusal(MatchState(cube=cube.MAX_CUBE, cube_owner=0))
    # the doubler's question, also while its double waits for the answer
    assert cube.cube_refusal(MatchState(cube=2, cube_owner=0, on_roll=0, turn=1, doubled=True)) == ""
    with pytest.raises(ValueError, match="MatchState"):
        cube.cube_refusal("cAmgASAAAAAE")


def test_cube_analysis_may_double_is_the_rule():
    """cube_analysis and cube_points ask the same rule: may_double iff cube_refusal is ''."""
    p = _probs(0.72, g=0.2, gl=0.05)
    states = _rule_states(400, 3)
    refused = 0
    for st in states:
        if st.match_length and max(st.score) >= st.match_length:
            continue
        a = cube.cube_analysis(p, st)
        assert a.may_double == (cube.cube_refusal(st) == ""), st
        assert (cube.cube_points(p, st).double_point is None) or a.may_double
        refused += not a.may_double
    assert 50 < refused < 350


def test_cube_refusal_agrees_with_gnubgs_double_command():
    """gnubg's own `double` command (the full engine) accepts a double exactly when cube_refusal
    is '', on random money and match states up to the highest cube."""
    gnubg = pytest.importorskip("gnubg", reason="the gnubg module (full engine) is an optional test dependency")
    from games.backgammon.rules.ids import match_id

    for command in ("set display off", "set sound enable off", "set threads 1", "set player 0 human",
                    "set player 1 human", "new match 7"):
        gnubg.command(command)
    allowed = 0
    states = _rule_states(300, 4)
    for st in states:
        mid = match_id(st)
        gnubg.command(f"set matchid {mid}")
        assert gnubg.matchid() == mid, "gnubg read another match state"
        gnubg.command("double")
        assert bool(gnubg.posinfo()["doubled"]) == (cube.cube_refusal(st) == ""), (st, cube.cube_refusal(st))
        allowed += cube.may_double(st)
    assert 60 < allowed < 240
    assert any(st.cube == cube.MAX_CUBE and st.cube_owner == st.on_roll for st in states)
