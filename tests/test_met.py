"""The match equity table (games.backgammon.rules.met) against GNU Backgammon's own.

The oracle is the ``gnubg`` module (the full engine, GPL, an optional test dependency): its
``met()`` table (Kazaross-XG2, extended to 64 points), its ``eq2mwc`` / ``mwc2eq`` at a score and
cube, and its package data file ``met/Kazaross-XG2.xml`` that the packaged JSON was converted from.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from games.backgammon.rules import met


def _gnubg():
    return pytest.importorskip("gnubg", reason="the gnubg module (full engine) is an optional test dependency")


# ---------------------------------------------------------------------------- the packaged file


def test_packaged_table_says_what_it_is_and_whose_it_is():
    data = json.loads(met.default_met_path().read_text())
    assert data["name"] == "Kazaross XG2 25 point MET"
    assert "GNU Backgammon" in data["source"] and "Kazaross-XG2.xml" in data["source"]
    assert "Neil Kazaross" in data["credit"] and "eXtreme Gammon" in data["credit"]
    assert "copyright notice and this notice are preserved" in data["license"]
    assert data["description"].startswith("Generated using XG rollouts")
    n = data["length"]
    assert n == 25 and np.shape(data["pre_crawford"]) == (n, n) and np.shape(data["post_crawford"]) == (n,)


def test_packaged_table_is_consistent():
    t = met.load_met()
    pre = t.pre
    assert pre.shape == (met.MAX_AWAY, met.MAX_AWAY) and t.post.shape == (met.MAX_AWAY,)
    np.testing.assert_allclose(pre + pre.T, 1.0, atol=1e-6)          # one of the two wins
    assert np.all(np.diff(pre, axis=0) <= 1e-9)                      # needing more is worse
    assert np.all(np.diff(pre, axis=1) >= -1e-9)
    assert np.all(np.diff(t.post) <= 0) and t.post[0] == 0.5
    assert met.load_met() is t                                       # read once


def test_packaged_json_is_gnubgs_xml_converted():
    gnubg = _gnubg()
    xml = Path(gnubg.__file__).parent / "data" / "met" / "Kazaross-XG2.xml"
    if not xml.exists():
        pytest.skip(f"{xml} not installed")
    converted = met.met_from_gnubg_xml(xml)
    packaged = json.loads(met.default_met_path().read_text())
    for field in ("name", "description", "length", "pre_crawford", "post_crawford"):
        assert packaged[field] == converted[field], field


def test_whole_extended_table_matches_gnubg():
    gnubg = _gnubg()
    pre, post0, post1 = (np.array(x) for x in gnubg.met(met.MAX_AWAY))   # without it: the current match length
    t = met.load_met()
    assert pre.shape == t.pre.shape
    np.testing.assert_allclose(t.pre, pre, atol=2e-7)      # gnubg keeps float32
    np.testing.assert_allclose(t.post, post0, atol=2e-7)
    np.testing.assert_allclose(t.post, post1, atol=2e-7)


# ---------------------------------------------------------------------------- match winning chances


def test_match_equity_ends_crawford_and_post_crawford():
    t = met.load_met()
    assert met.match_equity(0, 5) == 1.0 and met.match_equity(-2, 5) == 1.0
    assert met.match_equity(3, 0) == 0.0
    assert met.match_equity(1, 1) == 0.5 == met.match_equity(1, 1, crawford_done=True)
    assert met.match_equity(2, 1) == pytest.approx(0.32264)               # Crawford game, trailer
    assert met.match_equity(2, 1, crawford_done=True) == pytest.approx(0.48803)   # post-Crawford
    assert met.match_equity(1, 4, crawford_done=True) == pytest.approx(1 - t.post[3])
    assert met.match_equity(7, 4) == pytest.approx(t.pre[6, 3])
    assert met.match_equity(7, 4, crawford_done=True) == met.match_equity(7, 4)   # nobody 1-away


def test_mwc_after_follows_the_crawford_rule():
    # 3-away, 2-away: winning 2 makes me 1-away from further -> the next game is the Crawford game
    assert met.mwc_after(3, 2, 2) == met.match_equity(1, 2)
    # in the Crawford game, the trailer winning 1 -> post-Crawford
    assert met.mwc_after(3, 1, 1, crawford=True) == met.match_equity(2, 1, crawford_done=True)
    # post-Crawford (someone already 1-away) stays post-Crawford
    assert met.mwc_after(4, 1, 2) == met.match_equity(2, 1, crawford_done=True)
    assert met.mwc_after(4, 1, -1) == 0.0 and met.mwc_after(4, 2, 4) == 1.0


def test_equity_conversions_match_gnubg_on_many_scores():
    gnubg = _gnubg()
    rng = np.random.default_rng(7)
    worst = 0.0
    for _ in range(1500):
        n = int(rng.integers(1, 26))
        score = (int(rng.integers(0, n)), int(rng.integers(0, n)))
        move = int(rng.integers(2))
        cube = int(2 ** rng.integers(0, 5))
        one_away = n - score[0] == 1 or n - score[1] == 1
        crawford = bool(one_away and score[0] != score[1] and rng.random() < 0.5)
        ci = gnubg.cubeinfo(cube, -1, move, n, score, int(crawford))
        me, opp = n - score[move], n - score[1 - move]
        eq = float(rng.uniform(-3, 3))
        mwc = float(rng.uniform(0, 1))
        ours_mwc = met.eq_to_mwc(eq, me, opp, cube, crawford)
        ours_eq = met.mwc_to_eq(mwc, me, opp, cube, crawford)
        worst = max(worst, abs(ours_mwc - gnubg.eq2mwc(eq, ci)),
                    abs(ours_eq - gnubg.mwc2eq(mwc, ci)) / max(1.0, abs(ours_eq)))
        assert met.mwc_to_eq(ours_mwc, me, opp, cube, crawford) == pytest.approx(eq, abs=1e-9)
        # +1 / -1 are winning / losing the cube's value
        assert met.eq_to_mwc(1.0, me, opp, cube, crawford) == pytest.approx(met.mwc_after(me, opp, cube, crawford))
        assert met.eq_to_mwc(-1.0, me, opp, cube, crawford) == pytest.approx(met.mwc_after(me, opp, -cube, crawford))
    assert worst < 2e-5, worst   # gnubg computes in float32


def test_conversions_work_on_arrays():
    eqs = np.linspace(-1, 1, 5)
    mwcs = met.eq_to_mwc(eqs, 5, 3, 2)
    assert mwcs.shape == (5,) and np.all(np.diff(mwcs) > 0)
    np.testing.assert_allclose(met.mwc_to_eq(mwcs, 5, 3, 2), eqs)


# ---------------------------------------------------------------------------- bad input


def test_bad_tables_are_named_with_file_and_field(tmp_path):
    p = tmp_path / "broken.json"
    p.write_text('{"name": "x",\n "length": 3,\n')
    with pytest.raises(ValueError, match=r"broken.json: line \d+: not valid JSON"):
        met.read_met(p)
    p.write_text(json.dumps({"name": "x", "length": 3, "pre_crawford": [[0.5] * 3] * 2, "post_crawford": [0.5] * 3}))
    with pytest.raises(ValueError, match=r"broken.json: field 'pre_crawford' is \(2, 3\), expected \(3, 3\)"):
        met.read_met(p)
    p.write_text(json.dumps({"name": "x", "length": 3, "pre_crawford": [[0.5] * 3] * 3}))
    with pytest.raises(ValueError, match="field 'post_crawford' missing"):
        met.read_met(p)
    p.write_text(json.dumps({"name": "x", "length": 2, "pre_crawford": [[0.5, 1.5], [0.5, 0.5]],
                             "post_crawford": [0.5, 0.4]}))
    with pytest.raises(ValueError, match="chances between 0 and 1"):
        met.read_met(p)
    with pytest.raises(ValueError, match="nothing-here.json: cannot read"):
        met.read_met(tmp_path / "nothing-here.json")


def test_bad_scores_say_why():
    with pytest.raises(ValueError, match="at most 64 points"):
        met.match_equity(65, 3)
    with pytest.raises(ValueError, match="whole number"):
        met.match_equity(2.5, 3)
    with pytest.raises(ValueError, match="the match is over"):
        met.mwc_after(0, 3, 1)
    with pytest.raises(ValueError, match="cube value 0"):
        met.eq_to_mwc(0.1, 3, 3, cube=0)


def test_gnubg_xml_converter_refuses_what_it_cannot_hold(tmp_path):
    p = tmp_path / "zadeh.xml"
    p.write_text('<met><info><name>z</name><length>5</length></info>'
                 '<pre-crawford-table type="zadeh"/><post-crawford-table type="zadeh"/></met>')
    with pytest.raises(ValueError, match="zadeh.xml: only explicit tables"):
        met.met_from_gnubg_xml(p)
    p.write_text("<met><info>")
    with pytest.raises(ValueError, match="not a readable MET XML file"):
        met.met_from_gnubg_xml(p)
