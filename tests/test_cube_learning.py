"""Cube decisions learned by comparison: extraction from records, gnubg's cube analyses as the
oracle, the backgammon-cube game, its training through the comparison trainer, and ``bench cube``."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from games.backgammon import records
from games.backgammon.learn import cube_data as cd
from games.backgammon.rules.ids import MatchState, position_id

CUBE_FILE = Path("human-analysis") / "lasse-4ply-cube.jsonl.gz"

# A 5-point match with every kind of cube action, counted by hand below.
SMALL_MAT = """\
; [Site "Test"]
; [EventDate "2024.01.02"]
; [Crawford "On"]

5 point match

 Game 1
 Alice : 0                       Bob : 0
  1) 31: 8/5 6/5                 42: 8/4 6/4
  2)  Doubles => 2                Takes
  3) 52: 13/8 13/11              Doubles => 4
  4)  Drops                       Wins 2 points

 Game 2
 Alice : 0                       Bob : 2
  1) 31: 8/5 6/5                 42: 8/4 6/4
  2) 52: 13/8 13/11               Doubles => 2
  3)  Takes                       64: 24/18 13/9
  4) 65: 24/13
                                  Wins 2 points

 Game 3
 Alice : 0                       Bob : 4
  1) 31: 8/5 6/5                 42: 8/4 6/4
  2) 52: 13/8 13/11
      Wins 1 point

 Game 4
 Alice : 1                       Bob : 4
  1) 31: 8/5 6/5                 42: 8/4 6/4
  2) 52: 13/8 13/11               64: 24/18 13/9
  3)  Doubles => 2                Takes
  4) 65: 24/13
                                  Wins 2 points and the match
"""

# (game, kind, chosen, decider, cube, owner (-1 centred / player), (decider's away, other's away))
EXPECTED = [
    # game 1: Alice's opening roll decides nothing; Bob rolls without doubling; Alice doubles, Bob
    # takes (cube 2, Bob's); Alice rolls (no decision: she doubled); Bob redoubles, Alice drops
    (1, "double", "no double", "Bob", 1, -1, (5, 5)),
    (1, "double", "double", "Alice", 1, -1, (5, 5)),
    (1, "take", "take", "Bob", 1, -1, (5, 5)),
    (1, "double", "double", "Bob", 2, 1, (5, 5)),
    (1, "take", "pass", "Alice", 2, 1, (5, 5)),
    # game 2 (0-2): both roll on; Bob doubles, Alice takes; Bob rolls; Alice owns the cube and rolls
    (2, "double", "no double", "Bob", 1, -1, (3, 5)),
    (2, "double", "no double", "Alice", 1, -1, (5, 3)),
    (2, "double", "double", "Bob", 1, -1, (3, 5)),
    (2, "take", "take", "Alice", 1, -1, (5, 3)),
    (2, "double", "no double", "Alice", 2, 0, (5, 3)),
    # game 3 (0-4) is the Crawford game: no cube decision at all
    # game 4 (1-4), post-Crawford: Bob (1 away) has a dead cube: never a double decision for him
    (4, "double", "no double", "Alice", 1, -1, (4, 1)),
    (4, "double", "double", "Alice", 1, -1, (4, 1)),
    (4, "take", "take", "Bob", 1, -1, (1, 4)),
]


@pytest.fixture
def small_match(tmp_path):
    path = tmp_path / "small.mat"
    path.write_text(SMALL_MAT)
    match = records.read_match(path)
    assert not match.errors
    return match


def _cube_file(shared_data_dir) -> Path:
    path = shared_data_dir / CUBE_FILE
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


def _human_records(shared_data_dir) -> Path:
    path = shared_data_dir / "human-records"
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path


# ------------------------------------------------------------------------------ extraction


def test_small_match_decisions_as_counted_by_hand(small_match):
    ds = cd.record_cube_decisions(small_match)
    got = [(d.game, d.kind, d.chosen, d.player, d.cube, d.cube_owner, d.away) for d in ds]
    assert got == EXPECTED
    assert all(d.date == 20240102 and d.match_length == 5 for d in ds)
    assert [d.post_crawford for d in ds] == [d.game == 4 for d in ds]
    assert not any(d.crawford for d in ds)
    assert small_match.games[2].crawford    # the game without decisions is the Crawford game


def test_decision_boards_are_the_position_before_the_roll(small_match):
    """A no-double decision's board is the board of the decider's next play (player on roll in
    row 1); a take decision keeps the doubler's board, the same as the double it answers."""
    ds = cd.record_cube_decisions(small_match)
    plays = {(g.number, a.line, a.player): a for g in small_match.games for a in g.plays}
    for d in ds:
        if d.chosen == "no double":
            play = plays[(d.game, d.line, d.decider)]
            assert np.array_equal(d.board, play.board)
    for double, take in zip(ds, ds[1:]):
        if take.kind == "take":
            assert double.chosen == "double" and np.array_equal(double.board, take.board)
            assert take.on_roll == double.decider and take.decider == 1 - double.decider
            st = take.state
            assert st.doubled and st.turn == take.decider and st.on_roll == double.decider


def test_may_double_rules():
    assert cd.may_double(0, 1, -1, (0, 0), 0, False)                 # money, centred
    assert cd.may_double(1, 2, 1, (0, 0), 0, False)                  # owns it
    assert not cd.may_double(0, 2, 1, (0, 0), 0, False)              # the other owns it
    assert not cd.may_double(0, 1, -1, (4, 0), 5, True)              # Crawford game
    assert not cd.may_double(0, 1, -1, (4, 2), 5, False)             # post-Crawford leader: dead cube
    assert cd.may_double(1, 1, -1, (4, 2), 5, False)                 # the trailer may
    assert not cd.may_double(0, 4, 0, (1, 0), 5, False)              # 4 away with the cube at 4: dead
    assert not cd.may_double(0, 4096, 0, (0, 0), 0, False)           # the highest cube


def test_broken_game_gives_no_decisions(tmp_path):
    """A game that cannot be replayed (an illegal play in game 1) gives no decisions; the rest do."""
    bad = SMALL_MAT.replace("  3) 52: 13/8 13/11              Doubles", "  3) 52: 13/2 13/11              Doubles")
    path = tmp_path / "bad.mat"
    path.write_text(bad)
    match = records.read_match(path)
    assert match.errors
    ds = cd.record_cube_decisions(match)
    assert {d.game for d in ds} == {2, 4}


# ------------------------------------------------------------------------------ items and features


def test_items_and_cube_context(small_match):
    ds = cd.record_cube_decisions(small_match)
    redouble = ds[3]          # Bob redoubles 2 -> 4 at 0-0 of 5, he owns the cube
    items = cd.decision_items(redouble)
    assert items.shape == (2, cd.ITEM_WIDTH) and items.dtype == np.int16
    assert np.array_equal(cd.item_boards(items)[0], redouble.board)
    ctx = dict(zip(cd.CONTEXT_NAMES, cd.cube_context(items)[0]))      # the "double" alternative
    assert ctx["money"] == 0 and ctx["away_decider"] == pytest.approx(5 / 25)
    assert ctx["owner_decider"] == 1 and ctx["owner_centred"] == 0
    assert ctx["cube_level"] == pytest.approx(1 / 6) and ctx["cube_level_after"] == pytest.approx(2 / 6)
    assert ctx["decider_gammons_dead"] == 0 and ctx["other_gammons_dead"] == 0   # 5 away > cube 4
    assert ctx["alt_double"] == 1 and ctx["alt_no_double"] == 0
    nd = dict(zip(cd.CONTEXT_NAMES, cd.cube_context(items)[1]))
    assert nd["alt_no_double"] == 1 and nd["cube_level_after"] == pytest.approx(1 / 6)
    # post-Crawford: the leader (1 away) never gains from a gammon, and the flags say who is 1 away
    take = ds[-1]
    ctx = dict(zip(cd.CONTEXT_NAMES, cd.cube_context(cd.decision_items(take))[0]))
    assert ctx["decider_1away"] == 1 and ctx["other_1away"] == 0 and ctx["decider_gammons_dead"] == 1
    assert ctx["post_crawford"] == 1 and ctx["alt_take"] == 1
    money = cd.CubeDecision("double", "no double", ds[0].board, 0, 0, "", 0, (0, 0), 1, -1, jacoby=True)
    ctx = dict(zip(cd.CONTEXT_NAMES, cd.cube_context(cd.decision_items(money))[0]))
    assert ctx["money"] == 1 and ctx["away_decider"] == 0 and ctx["jacoby_centred"] == 1


@pytest.mark.parametrize("encoding", sorted(cd.ENCODINGS))
def test_encodings(small_match, encoding):
    items = np.concatenate([cd.decision_items(d) for d in cd.record_cube_decisions(small_match)])
    x = cd.get_encoding(encoding)(items)
    assert x.dtype == np.float32 and x.shape == (len(items), *cd.feature_shape(encoding))
    assert np.isfinite(x).all()
    pos = x[:, :-cd.N_CONTEXT]
    if encoding != "extended-plain":   # gated: each alternative's position in its own half
        half = pos.shape[1] // 2
        first = np.isin(items[:, cd.ITEM_WIDTH - len(cd.ITEM_FIELDS)], (cd.DOUBLE, cd.TAKE))
        assert (pos[first, half:] == 0).all() and (pos[~first, :half] == 0).all()
        assert np.array_equal(pos[0::2, :half], pos[1::2, half:])
    with pytest.raises(ValueError, match="unknown cube encoding"):
        cd.get_encoding("nope")


# ------------------------------------------------------------------------------ the analyses


def _write_jsonl(path, rows):
    with gzip.open(path, "wt") as f:
        for r in rows:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")


ROW = {"match_file": "m.txt", "game": 1, "decision": "double", "move": 2, "player": "A",
       "position_id": "4HPwATDgc/ABMA", "match_id": "cAmgAAAAAAAE", "action": "no double",
       "nd": 0.1, "dt": 0.3, "dp": 1.0}


def test_analysis_judgement(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    take = {**ROW, "decision": "take", "action": "pass", "match_id": "cBGgAAAAAAAE", "nd": -0.6, "dt": -0.9,
            "dp": -1.0}
    tie = {**ROW, "nd": 0.3}
    _write_jsonl(path, [ROW, take, tie])
    a, t, tie = cd.read_cube_analysis(path)
    assert a.best == "double" and a.loss("no double") == pytest.approx(0.2) and a.loss("double") == 0
    assert a.in_window and not t.in_window
    assert t.best == "take" and t.loss("pass") == pytest.approx(0.1)
    assert tie.best is None and tie.in_window and tie.loss("no double") == 0 == tie.loss("double")
    d = t.decision(20240101)
    assert d.kind == "take" and d.decider == t.state.turn == 0 and d.on_roll == 1 and d.chosen == "pass"
    assert a.roller_probs is None                                       # no probs in the row


def test_analysed_probabilities_are_the_player_on_rolls():
    """A row's probs are the deciding player's: the doubler's as they stand, the taker's mirrored
    (its losses are the doubler's wins)."""
    probs = [0.7, 0.2, 0.01, 0.3, 0.05, 0.002]
    double = cd._analysed_row({**ROW, "probs": probs}, "f:1")
    take = cd._analysed_row({**ROW, "decision": "take", "action": "take", "match_id": "cBGgAAAAAAAE",
                             "probs": probs}, "f:2")
    assert double.roller_probs == (0.7, 0.2, 0.01, 0.05, 0.002)
    assert take.roller_probs == (0.3, 0.05, 0.002, 0.2, 0.01)


@pytest.mark.parametrize("bad, message", [
    ("{not json", ":2: not JSON"),
    (json.dumps({k: v for k, v in ROW.items() if k != "nd"}), ":2: field 'nd' missing"),
    (json.dumps({**ROW, "action": "take"}), ":2: field 'action' is 'take'"),
    (json.dumps({**ROW, "decision": "resign"}), ":2: field 'decision'"),
    (json.dumps({**ROW, "position_id": "xyz"}), ":2: Position ID"),
    (json.dumps({**ROW, "decision": "take", "action": "take"}), ":2: a take decision whose match_id"),
    (json.dumps({**ROW, "probs": [0.5, 0.1]}), ":2: field 'probs'"),
    (json.dumps({**ROW, "probs": [0.5, 0.1, 0.0, 0.5, 0.1, "x"]}), ":2: field 'probs'"),
])
def test_bad_analysis_rows_name_file_line_and_field(tmp_path, bad, message):
    path = tmp_path / "bad.jsonl.gz"
    _write_jsonl(path, [ROW, bad])
    with pytest.raises(ValueError, match=message) as e:
        cd.read_cube_analysis(path)
    assert str(path) in str(e.value)


def _compare_with_analysis(files, analysis_path) -> tuple[int, int, int]:
    """(analysed decisions found among the records' decisions with the same items and choice,
    analysed decisions in all, record decisions of analysed games without a row)."""
    rows = cd.read_cube_analysis(analysis_path, files=[Path(f).name for f in files])
    index = {}
    for r in rows:
        index.setdefault((r.file, r.game, r.kind, position_id(r.board)), []).append(r)
    analysed_games = {(r.file, r.game) for r in rows}
    same = missing = 0
    for f in files:
        for d in cd.record_cube_decisions(records.read_match(f)):
            name = Path(f).name
            if (name, d.game) not in analysed_games:
                continue
            found = index.get((name, d.game, d.kind, position_id(d.board)))
            if not found:
                missing += 1
                continue
            r = found.pop(0)
            same += r.action == d.chosen and np.array_equal(cd.decision_items(r.decision()), cd.decision_items(d))
    return same, len(rows), missing


def test_records_agree_with_gnubgs_cube_analyses(shared_data_dir):
    """Oracle: on 80 matches of the human records, every cube decision gnubg analysed is one the
    extraction finds, with the same position, score, cube, owner and the same choice; nearly every
    extracted decision of an analysed game has gnubg's row (the whole file: 49,638 of 49,638
    found, 28 extra in two games gnubg read differently)."""
    records_dir = _human_records(shared_data_dir)
    files = sorted(records_dir.glob("*.txt"))[::20]
    same, n_rows, missing = _compare_with_analysis(files, _cube_file(shared_data_dir))
    assert n_rows > 1000
    assert same == n_rows
    assert missing <= 0.01 * n_rows


@pytest.mark.slow
def test_all_records_agree_with_gnubgs_cube_analyses(shared_data_dir):
    files = sorted(_human_records(shared_data_dir).glob("*.txt"))
    same, n_rows, missing = _compare_with_analysis(files, _cube_file(shared_data_dir))
    assert n_rows == 49_638 and same == n_rows and missing <= 30


# ------------------------------------------------------------------------------ the game and training


@pytest.fixture
def cube_game():
    from comparison.game import unregister

    from games.backgammon.learn import cube_game

    cube_game.register()
    yield cube_game.GAME
    unregister(cube_game.GAME_NAME)


def test_game_protocol(cube_game, small_match, tmp_path):
    from comparison.game import get_game, missing_members

    assert get_game("backgammon-cube") is cube_game and missing_members(cube_game) == []
    for enc in cube_game.encodings:
        assert cube_game.feature_shape(enc) == cd.feature_shape(enc)
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "small.mat").write_text(SMALL_MAT)
    data = cube_game.build_dataset([tmp_path / "r"], cache_dir=tmp_path / "cache", workers=1, progress=False)
    assert len(data) == len(EXPECTED) and (data.sizes == 2).all()
    assert [cd.ALTERNATIVES[int(data.items[data.offsets[g] + data.chosen[g], cd.BOARD_CELLS])]
            for g in range(len(data))] == [e[2] for e in EXPECTED]
    assert (data.meta["date"] == 20240102).all() and (data.meta["source"] == 0).all()
    assert cube_game.chronological_order(data).shape == (len(data),)
    with pytest.raises(ValueError, match="no absolute targets"):
        cube_game.build_dataset([tmp_path / "r"], cache_dir=tmp_path / "cache", targets="analysis")
    with pytest.raises(ValueError, match="unknown cube source"):
        cube_game.build_dataset([tmp_path / "r"], cache_dir=tmp_path / "cache", source="robots")
    with pytest.raises(FileNotFoundError):
        cube_game.build_dataset([tmp_path / "nowhere"], cache_dir=tmp_path / "cache")


def test_engine_values_and_engine_source_from_the_train_spec(cube_game, small_match, tmp_path):
    """``train --engine-pairs W [--engine-source pairs|engine[:PATH]]`` reaches the game as its
    targets spec: gnubg's equities become the engine values of the decision it analysed (NaN
    elsewhere), or, with ``engine``, that decision alone, chosen as gnubg prefers."""
    from games.backgammon.rules.ids import match_id

    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "small.mat").write_text(SMALL_MAT)
    d = cd.record_cube_decisions(small_match)[1]          # Alice doubles at 0-0 (she did)
    analysis = tmp_path / "cube.jsonl.gz"
    _write_jsonl(analysis, [{"match_file": "small.mat", "game": d.game, "decision": "double", "move": 3,
                             "player": "Alice", "position_id": position_id(d.board), "match_id": match_id(d.state),
                             "action": "double", "nd": 0.2, "dt": 0.1, "dp": 1.0}])
    cache = tmp_path / "cache"
    data = cube_game.build_dataset([tmp_path / "r"], cache_dir=cache, workers=1, progress=False,
                                   targets=f"pairs:{analysis}")
    assert len(data) == len(EXPECTED) and data.values is not None
    assert np.allclose(data.values[2:4], [0.1, 0.2])      # (double = min(dt, dp), no double = nd)
    assert np.isnan(np.delete(data.values, [2, 3])).all()
    assert data.chosen[1] == 0                            # still the person's choice
    engine = cube_game.build_dataset([tmp_path / "r"], cache_dir=cache, workers=1, progress=False,
                                     targets=f"engine:{analysis}")
    assert len(engine) == 1 and engine.chosen[0] == 1 and (engine.meta["source"] == 1).all()
    assert engine.meta["gap"][0] == pytest.approx(0.1)
    assert np.array_equal(engine.items, cd.decision_items(d))
    with pytest.raises(ValueError, match="not a label source"):
        cube_game.build_dataset([tmp_path / "r"], cache_dir=cache, targets="analysis")


def _synthetic_cube_set():
    """Decisions from the positions of one bundled corpus file, labelled by a rule the features can
    express: double when the pip lead is more than 8% of the race (a stand-in for a judge), else no
    double. ``meta["file"]`` is a block of 400 consecutive positions (whole games, mostly), so that
    a split holds out later blocks."""
    from comparison.data import DecisionSet

    from games.backgammon.rules.board import pip_counts

    items, chosen = [], []
    first = sorted(records.corpus_dir().glob("*.mat"))[0]
    for d in records.decisions(records.read_match(first)):
        own, other = pip_counts(d.board)
        lead = (other - own) / (own + other)
        cube = cd.CubeDecision("double", "double" if lead > 0.08 else "no double", d.board, 0, 0, "", 0,
                               (0, 0), 1, -1)
        items.append(cd.decision_items(cube))
        chosen.append(0 if cube.chosen == "double" else 1)
    g = len(chosen)
    block = np.arange(g) // 400
    return DecisionSet(np.concatenate(items), np.arange(0, 2 * g + 1, 2), np.array(chosen),
                       {"file": block, "date": block, "match_number": np.zeros(g, np.int64)})


def test_scorer_trains_through_the_comparison_trainer(tmp_path):
    """The framework's Trainer learns a cube rule from two-alternative groups: on held-out files it
    agrees with the rule far above the majority class, and a cube model file loads for the bench."""
    import torch

    from comparison import models
    from comparison.data import split_latest
    from comparison.train import TrainConfig, Trainer

    from games.backgammon.commands.cube import learned_choices

    data = _synthetic_cube_set()
    train, held = split_latest(data, data.meta["date"], data.meta["file"], 0.3)
    featurize = cd.get_encoding("extended")
    torch.manual_seed(0)
    model = models.build_scorer("mlp", d_in=cd.feature_shape("extended")[0], hidden=(32,))
    out = tmp_path / "cube.pt"
    Trainer(model, train, held, featurize, TrainConfig(epochs=5, batch_size=64, lr=3e-3, patience=5), out=out,
            meta={"game": "backgammon-cube", "encoding": "extended"}, progress=False).fit()
    with torch.inference_mode():
        scores = model.eval()(torch.from_numpy(featurize(held.items))).numpy().reshape(-1, 2)
    pick = (scores[:, 1] > scores[:, 0]).astype(int)
    agree = (pick == held.chosen).mean()
    majority = max(held.chosen.mean(), 1 - held.chosen.mean())
    assert len(held) > 200 and agree > max(0.8, majority + 0.1), (agree, majority)
    # the saved model file, read by the bench as a learned cube player
    rows = [cd.AnalysedCube("m.txt", 1, 1, "double", "no double", "", held.items[2 * g, :50].reshape(2, 25),
                            MatchState(), 0.0, 0.0, 1.0) for g in range(20)]
    assert learned_choices(out, rows) == ["double" if p == 0 else "no double" for p in pick[:20]]


def test_train_command_on_real_records(cube_game, shared_data_dir, tmp_path):
    """``python -m comparison train --game backgammon-cube`` on 60 human match files: the people's
    cube actions train an MLP, split by date, and the model file says its game."""
    from comparison import checkpoint
    from comparison.cli import main

    files = sorted(_human_records(shared_data_dir).glob("*.txt"))[::25]
    out = tmp_path / "cube.pt"
    rc = main(["train", "--game", "backgammon-cube", "--records", *map(str, files), "--cache", str(tmp_path / "c"),
               "--out", str(out), "--epochs", "2", "--hidden", "16", "--no-progress", "--plot", "none",
               "--workers", "1", "--test-fraction", "0"])
    assert rc == 0
    meta = checkpoint.load(out).meta
    assert meta["game"] == "backgammon-cube" and meta["encoding"] == "extended" and meta["train_decisions"] > 1000


@pytest.mark.slow
def test_engine_preferences_learned_beat_chance(shared_data_dir, tmp_path):
    """gnubg's preferences on the analysed records: a scorer trained on the earlier matches ranks
    gnubg's doubles above its no-doubles on the held-out matches (AUC) far better than chance."""
    import torch

    from comparison import models
    from comparison.data import split_latest
    from comparison.train import TrainConfig, Trainer

    files = sorted(_human_records(shared_data_dir).glob("*.txt"))[::4]
    data = cd.build_cube_dataset(files, source="engine", analysis=_cube_file(shared_data_dir),
                                 cache_dir=tmp_path, workers=1, progress=False)
    train, held = split_latest(data, cd.chronological_order(data), data.meta["file"], 0.2)
    featurize = cd.get_encoding("extended")
    torch.manual_seed(0)
    model = models.build_scorer("mlp", d_in=cd.feature_shape("extended")[0], hidden=(64,))
    Trainer(model, train, held, featurize, TrainConfig(epochs=8, batch_size=128), out=tmp_path / "m.pt",
            meta={"game": "backgammon-cube", "encoding": "extended"}, progress=False).fit()
    with torch.inference_mode():
        s = model.eval()(torch.from_numpy(featurize(held.items))).numpy().reshape(-1, 2)
    margin = s[:, 0] - s[:, 1]               # for doubling (taking)
    dbl = held.meta["kind"] == 0
    pos, neg = margin[dbl & (held.chosen == 0)], margin[dbl & (held.chosen == 1)]
    auc = (pos[:, None] > neg[None, :]).mean()
    assert auc > 0.75, auc   # measured 0.81 (a quarter of the records, 8 epochs)


# ------------------------------------------------------------------------------ bench cube


def test_bench_reproduces_the_readme(shared_data_dir):
    """The people's own figures and never-double / always-take on the whole cube file are the
    README's: 5.5 (47,090), 50.7 (5,085), 49.0 (2,548); 5.9, 54.2, 192.2 mEMG."""
    from games.backgammon.commands.cube import run

    rows = cd.read_cube_analysis(_cube_file(shared_data_dir))
    res = run(["people", "never"], rows, progress=False)["players"]
    people, never = res["people"], res["never"]
    assert (people["double"]["n"], people["window"]["n"], people["take"]["n"]) == (47_090, 5_085, 2_548)
    assert [round(people[k]["loss_memg"], 1) for k in ("double", "window", "take")] == [5.5, 50.7, 49.0]
    assert [round(never[k]["loss_memg"], 1) for k in ("double", "window", "take")] == [5.9, 54.2, 192.2]
    assert people["agree_person"] == 1.0 and 0.5 < never["agree_person"] < 1.0


def test_bench_cube_command(shared_data_dir, tmp_path, capsys):
    from comparison.cli import main

    analysis = _cube_file(shared_data_dir)
    out = tmp_path / "r.json"
    rc = main(["bench", "cube", "--split", "none", "--analysis", str(analysis), "--players", "people", "never",
               "--limit", "400", "--json", str(out), "--no-progress"])
    assert rc == 0
    res = json.loads(out.read_text())
    assert res["decisions"] == 400 and set(res["players"]) == {"people", "never"}
    assert "agree person" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--players", "nobody"], "unknown player 'nobody'"),
    (["--players", "pubeval"], "no cube judgement"),
    (["--players", "{plain}"], "no outcome heads"),
    (["--analysis", "/no/such.jsonl.gz"], "no such file"),
    (["--limit", "0"], "--limit must be at least 1"),
])
def test_bench_cube_bad_arguments(args, message, capsys, tmp_path):
    from comparison.cli import main

    from comparison import checkpoint, models

    analysis = tmp_path / "a.jsonl.gz"
    _write_jsonl(analysis, [ROW])
    plain = tmp_path / "plain.pt"   # a checker model without outcome heads: no cube theory
    checkpoint.save(plain, models.build_scorer("linear", d_in=198), {"game": "backgammon", "encoding": "tesauro198"})
    args = [a.replace("{plain}", str(plain)) for a in args]
    base = ["bench", "cube", "--split", "none", "--analysis", str(analysis), "--no-progress"]
    rc = main([*base, *args] if "--analysis" not in args else ["bench", "cube", "--split", "none", *args])
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_gnubg_theory_player_on_analysed_decisions(shared_data_dir):
    """gnubg-nn's 0-ply probabilities through the cube theory lose far less than never doubling in
    the window, and agree with gnubg's 4-ply verdict on most decisions."""
    pytest.importorskip("gnubg_nn", reason="gnubg-nn (the test extra) is not installed")
    from games.backgammon.commands.cube import judge, player_choices

    rows = cd.read_cube_analysis(_cube_file(shared_data_dir))
    rng = np.random.default_rng(1)
    window = [r for r in rows if r.in_window]
    rows = [window[i] for i in rng.choice(len(window), 150, replace=False)] + \
           [r for r in rows if r.kind == "take"][:100]
    theory = judge(rows, player_choices("gnubg", rows, progress=False))
    never = judge(rows, player_choices("never", rows, progress=False))
    assert theory["window"]["loss_memg"] < 0.3 * never["window"]["loss_memg"]
    assert theory["take"]["loss_memg"] < 0.3 * never["take"]["loss_memg"]
    assert theory["agree_gnubg"] > 0.8


def test_bench_calibration_against_the_analysed_probabilities(shared_data_dir):
    """bench cube's calibration reads the analyses' probabilities in the right orientation: gnubg-nn
    at 0 ply is close to gnubg's 4-ply on double and take decisions alike (mirrored, a take's win
    would be off by about half); a player without probabilities has none."""
    pytest.importorskip("gnubg_nn", reason="gnubg-nn (the test extra) is not installed")
    from games.backgammon.commands.cube import GnubgTheory, calibration

    rows = cd.read_cube_analysis(_cube_file(shared_data_dir))
    rows = [r for r in rows if r.kind == "double"][:150] + [r for r in rows if r.kind == "take"][:150]
    fit = calibration(GnubgTheory(0), rows)
    for kind in ("double", "take"):
        assert fit[kind]["n"] > 100 and fit[kind]["win_mae"] < 0.03 and abs(fit[kind]["win_bias"]) < 0.01
    assert calibration(object(), rows) is None


def test_theory_player_from_an_outcome_model(tmp_path):
    """A model file with outcome heads decides through Agent.cube_action (the cube theory): its
    choices are the agent's own, one alternative of the right kind per decision."""
    from comparison import checkpoint, outcomes

    from games.backgammon.commands.cube import make_cube_player, player_choices
    from games.backgammon.players.agent import load_agent

    import torch

    torch.manual_seed(0)
    path = tmp_path / "outcome.pt"
    checkpoint.save(path, outcomes.build_outcome_scorer(198, (8,)), {"game": "backgammon", "encoding": "tesauro198"})
    kind, _ = make_cube_player(str(path))
    assert kind == "theory"
    analysis = tmp_path / "a.jsonl.gz"
    take = {**ROW, "decision": "take", "action": "pass", "match_id": "cBGgAAAAAAAE"}
    _write_jsonl(analysis, [ROW, take])
    rows = cd.read_cube_analysis(analysis)
    got = player_choices(str(path), rows, progress=False)
    agent = load_agent(path)
    assert got == [agent.cube_action(r.board, r.state) for r in rows]
    assert got[0] in ("double", "no double") and got[1] in ("take", "pass")
