"""Values learned by comparison, the remaining parts: game-result targets, engine preference pairs,
engine labels of generated records as targets, and the reliability diagram of bench accuracy."""
from __future__ import annotations

import gzip
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from comparison import checkpoint, cli, losses, models, outcomes
from comparison.data import DecisionSet, make_batch
from comparison.plots import reliability_table
from games.backgammon import position_id, records, start_board
from games.backgammon.learn import dataset
from games.backgammon.learn.game import GAME
from games.backgammon.records import CheckerPlay, CubeAction, Game

NAN = float("nan")
HUMAN = ("match10013413.txt", "match10014006.txt")   # two short human matches of ../shared


def same(a, b) -> bool:
    """Equal arrays, NaN equal to NaN."""
    return np.array_equal(np.asarray(a, np.float32), np.asarray(b, np.float32), equal_nan=True)


@pytest.fixture(scope="module")
def corpus_dir(corpus_copy):
    return corpus_copy(2)


@pytest.fixture(scope="module")
def corpus_data(corpus_dir, tmp_path_factory):
    return dataset.build_dataset([corpus_dir], cache_dir=tmp_path_factory.mktemp("cache"), workers=1, progress=False)


@pytest.fixture(scope="module")
def human_dir(tmp_path_factory):
    from conftest import shared_data

    src = shared_data() / "human-records"
    if not src.is_dir():
        pytest.skip(f"shared data not found at {src}")
    d = tmp_path_factory.mktemp("human")
    for name in HUMAN:
        shutil.copy(src / name, d / name)
    return d


@pytest.fixture(scope="module")
def small_analysis(human_dir, tmp_path_factory):
    """The shared analyses of the two matches only (reading the whole file takes seconds)."""
    from conftest import shared_data

    path = tmp_path_factory.mktemp("analysis") / "two.jsonl.gz"
    with gzip.open(shared_data() / "human-analysis" / "lasse-4ply.jsonl.gz", "rt") as f, gzip.open(path, "wt") as out:
        out.writelines(line for line in f if json.loads(line)["match_file"] in HUMAN)
    return path


# ------------------------------------------------------------------------------ game results


def test_played_out_games_give_the_final_boards_level(corpus_dir):
    """Cubeless money self-play: the written points are the level; each player sees its own side."""
    n = 0
    for f in sorted(corpus_dir.glob("*.mat")):
        m = records.read_match(f)
        for g in m.games:
            out = dataset.game_outcomes(g, m.match_length)
            pts = g.points
            win = [1, pts >= 2, pts >= 3, 0, 0]
            lose = [0, 0, 0, pts >= 2, pts >= 3]
            assert same(out[g.winner], win) and same(out[1 - g.winner], lose), (f.name, g.number)
            n += 1
    assert n == 200


def synthetic_game(winner, points, cube_actions=(), score=(0, 0), borne=False, match_length=0):
    """A game of one play (a borne-off finish when ``borne``) followed by cube actions."""
    board = start_board()
    result = board.copy()
    if borne:  # the mover (player 0) has borne off everything; the loser has all 15 on its 6-point
        result[1] = 0
        result[0] = 0
        result[0, 5] = 15
    play = CheckerPlay(0, (3, 1), "", 1, board, result, None, 1)
    actions = (play, *(CubeAction(p, kind, value, 2) for p, kind, value in cube_actions))
    return Game(1, score, actions, ("a", "b"), match_length, winner, points)


@pytest.mark.parametrize("game, length, want_winner_row", [
    # resignations: points / cube is the level
    (synthetic_game(0, 2), 0, [1, 1, 0, 0, 0]),
    (synthetic_game(1, 1), 0, [1, 0, 0, 0, 0]),
    (synthetic_game(1, 3), 0, [1, 1, 1, 0, 0]),
    (synthetic_game(0, 2, [(1, "double", 2), (0, "take", None)], match_length=7), 7, [1, 0, 0, 0, 0]),
    (synthetic_game(0, 8, [(1, "double", 2), (0, "take", None), (0, "double", 4), (1, "take", None)]), 0,
     [1, 1, 0, 0, 0]),
    (synthetic_game(0, 8, [(1, "double", 2), (0, "beaver", None)]), 0, [1, 1, 0, 0, 0]),   # beaver: cube 4
    # a match won: the points stop at what was needed, so only the levels up to ceil(points / cube) are known
    (synthetic_game(1, 3, [(0, "double", 2), (1, "take", None)], match_length=3), 3, [1, 1, NAN, 0, 0]),
    (synthetic_game(1, 3, [(0, "double", 2), (1, "take", None), (1, "double", 4), (0, "take", None)],
                    match_length=3), 3, [1, NAN, NAN, 0, 0]),
    (synthetic_game(0, 1, score=(4, 2), match_length=5), 5, [1, NAN, NAN, 0, 0]),   # 1 needed: single or more
    (synthetic_game(0, 2, score=(4, 2), match_length=5), 5, [1, 1, NAN, 0, 0]),     # written uncapped: a gammon
    # points that are not a whole level: nothing known beyond the win
    (synthetic_game(0, 3, [(1, "double", 2), (0, "take", None)], match_length=9), 9, [1, NAN, NAN, 0, 0]),
    # a refused double: the doubler won, gammons unknown (the written points do not matter)
    (synthetic_game(0, 1, [(0, "double", 2), (1, "drop", None)]), 0, [1, NAN, NAN, 0, 0]),
    # played out: the final board decides (a gammon here), whatever the written points say
    (synthetic_game(0, 1, borne=True, match_length=1), 1, [1, 1, 0, 0, 0]),
])
def test_how_a_game_ended_decides_what_is_known(game, length, want_winner_row):
    out = dataset.game_outcomes(game, length)
    w = game.winner
    assert same(out[w], want_winner_row)
    # the loser's view: it did not win; its losses are the winner's wins
    g, bg = want_winner_row[1], want_winner_row[2]
    assert same(out[1 - w], [0, 0, 0, g, bg])


def test_unfinished_or_contradictory_games_have_no_result():
    assert dataset.game_outcomes(synthetic_game(None, None), 0) is None
    assert dataset.game_outcomes(synthetic_game(1, 2, borne=True), 0) is None  # player 0 bore off, "1 won"


def test_human_games_cube_and_resignations(shared_data_dir):
    """On real match records: drops, resignations and played-out games are told apart."""
    from games.backgammon.rules.scoring import game_result

    files = sorted((shared_data_dir / "human-records").glob("*.txt"))[:150]
    kinds = {"drop": 0, "resign": 0, "borne": 0}
    for f in files:
        m = records.read_match(f)
        for g in m.good_games:
            out = dataset.game_outcomes(g, m.match_length)
            if g.winner is None:
                assert out is None
                continue
            w = g.winner
            assert out[w][0] == 1 and out[1 - w][0] == 0 and same(out[w][3:], [0, 0]) and same(out[1 - w][1:3], [0, 0])
            drops = [a for a in g.actions if isinstance(a, CubeAction) and a.kind == "drop"]
            last = g.plays[-1] if g.plays else None
            if drops:
                kinds["drop"] += 1
                assert drops[-1].player == 1 - w           # the one who dropped lost
                assert np.isnan(out[w][1:3]).all()
            elif last is not None and game_result(last.result):
                kinds["borne"] += 1
                level = abs(game_result(last.result))
                assert same(out[w][1:3], [level >= 2, level >= 3])
                need = m.match_length - g.score[w] if m.match_length else math.inf
                if g.points < need:                        # not capped by the match: points = level x cube
                    assert g.points == level * dataset.final_cube(g)
            else:
                kinds["resign"] += 1
                assert g.resigned
                cube = dataset.final_cube(g)
                need = m.match_length - g.score[w] if m.match_length else math.inf
                known = ~np.isnan(out[w][1:3])
                if g.points < need and g.points % cube == 0 and g.points // cube <= 3:
                    assert known.all() and same(out[w][1:3], [g.points // cube >= 2, g.points // cube >= 3])
    assert min(kinds.values()) >= 10, kinds


def test_result_targets_label_the_chosen_play_from_the_movers_view(corpus_dir, corpus_data):
    data = dataset.with_targets(corpus_data, "results", log=lambda *a: None)
    t = data.targets
    chosen_rows = data.offsets[:-1] + data.chosen
    others = np.ones(data.n_items, bool)
    others[chosen_rows] = False
    assert np.isnan(t[others]).all()                      # only the position actually reached
    # independently: the replayed decisions, in the dataset's order, and who won each game
    want = []
    for f in dataset.record_files([corpus_dir]):
        m = records.read_match(f)
        winners = {g.number: (g.winner, g.points) for g in m.games}
        for d in records.decisions(m):
            if d.forced:
                continue
            winner, pts = winners[d.game]
            if d.player_index == winner:
                want.append([1, pts >= 2, pts >= 3, 0, 0])
            else:                                          # swapped sides: the loser's plays
                want.append([0, 0, 0, pts >= 2, pts >= 3])
    want = np.array(want, np.float32)
    assert len(want) == len(data) and np.array_equal(t[chosen_rows], want)
    assert 0.3 < want[:, 0].mean() < 0.7                  # both sides' plays, winners' and losers'


def test_analysis_wins_over_results_where_both_exist(human_dir, small_analysis, tmp_path):
    data = dataset.build_dataset([human_dir], cache_dir=tmp_path, workers=1, progress=False)
    # an analysis file with every other analysed decision of these matches
    part = tmp_path / "part.jsonl.gz"
    with gzip.open(small_analysis, "rt") as f, gzip.open(part, "wt") as out:
        out.writelines(f.readlines()[::2])
    quiet = lambda *a: None  # noqa: E731
    both = dataset.with_targets(data, f"results,analysis:{part}", log=quiet).targets   # the order written does not matter
    analysis = dataset.with_targets(data, f"analysis:{part}", log=quiet).targets
    results = dataset.with_targets(data, "results", log=quiet).targets
    has_a = ~np.isnan(analysis).all(axis=1)
    has_r = ~np.isnan(results).all(axis=1)
    assert (has_a & has_r).sum() > 100 and (~has_a & has_r).sum() > 100
    assert same(both[has_a], analysis[has_a])
    assert same(both[~has_a], results[~has_a])


def test_bad_target_sources_are_named():
    for spec, words in (("bogus", "unknown targets 'bogus'"), ("results:x", "takes no argument"),
                        ("analysis,analysis", "named twice"), (",", "no source")):
        with pytest.raises(ValueError, match=words):
            dataset.parse_labels(spec)
    assert dataset.parse_labels("results, analysis:/x ,pairs:/y") == ([("analysis", "/x"), ("results", "")],
                                                                    [("pairs", "/y")])


# ------------------------------------------------------------------------------ the losses


def test_target_loss_masks_unknown_components_one_by_one():
    torch.manual_seed(0)
    probs = torch.rand(6, 5, requires_grad=True)
    targets = torch.tensor([[1, NAN, NAN, 0, 0], [0, 0, 0, 1, 0], [NAN] * 5, [0.3, 0.1, 0, 0.2, 0.01],
                            [1, 1, NAN, 0, 0], [NAN] * 5])
    loss = outcomes.masked_bce(probs, targets)
    known = ~torch.isnan(targets)
    p, y = probs[known].double(), targets[known].double()
    want = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    assert float(loss.detach()) == pytest.approx(float(want.detach()), rel=1e-5)
    loss.backward()
    assert (probs.grad[~known] == 0).all() and (probs.grad[known] != 0).all()
    empty = outcomes.masked_bce(probs, torch.full((6, 5), NAN))
    assert float(empty.detach()) == 0 and empty.requires_grad


def brute_engine_pairs(scores, group, values):
    """The engine pair loss by loops: per decision, sum of gap x softplus(-(s_a - s_b)) / sum of gaps."""
    per = {}
    for g in sorted(set(group)):
        rows = [i for i in range(len(group)) if group[i] == g and not math.isnan(values[i])]
        num = den = 0.0
        for a in rows:
            for b in rows:
                gap = values[a] - values[b]
                if gap > 0:
                    num += gap * math.log1p(math.exp(-(scores[a] - scores[b])))
                    den += gap
        if den > 0:
            per[g] = num / den
    return per


def test_engine_pairs_loss_against_loops():
    rng = np.random.default_rng(1)
    for trial in range(20):
        sizes = rng.integers(1, 9, size=rng.integers(1, 12))
        group = np.repeat(np.arange(len(sizes)), sizes)
        scores = rng.normal(size=len(group)) * 2
        values = np.where(rng.random(len(group)) < 0.6, rng.normal(size=len(group)).round(1), np.nan)
        want = brute_engine_pairs(scores, group, values)
        s = torch.tensor(scores, requires_grad=True)
        per, has = losses.engine_pairs_per_decision(s, torch.from_numpy(group), torch.tensor(values), len(sizes))
        assert sorted(np.flatnonzero(has.numpy())) == sorted(want)
        for g, v in want.items():
            assert float(per[g].detach()) == pytest.approx(v, rel=1e-9)
        total = losses.engine_pairs(s, torch.from_numpy(group), torch.tensor(values), len(sizes))
        assert float(total.detach()) == pytest.approx(np.mean(list(want.values())) if want else 0.0, rel=1e-9)
        total.backward()
        assert torch.isfinite(s.grad).all()
        unvalued = np.isnan(values)
        assert (s.grad[torch.from_numpy(unvalued)] == 0).all()
    # the gradient raises the engine's better play and lowers its worse one
    s = torch.zeros(3, requires_grad=True)
    losses.engine_pairs(s, torch.zeros(3, dtype=torch.long), torch.tensor([0.1, NAN, -0.2]), 1).backward()
    assert s.grad[0] < 0 < s.grad[2] and s.grad[1] == 0


def test_decision_sets_carry_values(tmp_path):
    items = np.arange(12, dtype=np.float32).reshape(6, 2)
    values = np.array([0.5, np.nan, 0.1, 0.2, np.nan, np.nan], np.float32)
    data = DecisionSet(items, [0, 2, 4, 6], [0, 1, 0], {"file": np.arange(3)}, values=values)
    assert same(data.subset([1, 0]).values, [0.1, 0.2, 0.5, NAN])
    data.save(tmp_path / "d.npz")
    assert same(DecisionSet.load(tmp_path / "d.npz").values, values)
    batch = make_batch(data, np.array([1]), None)
    assert same(batch.values.numpy(), [0.1, 0.2])
    with pytest.raises(ValueError, match="values must be"):
        DecisionSet(items, [0, 2, 4, 6], [0, 1, 0], values=np.zeros(5))


def test_engine_pairs_teach_the_engines_order_when_the_people_choose_badly():
    """People who pick at random teach nothing; the engine's pairs alone still rank the plays."""
    from comparison.train import TrainConfig, Trainer

    def make(n, seed):
        rng = np.random.default_rng(seed)
        w = np.random.default_rng(99).normal(size=8)           # the engine's true values: linear in x
        sizes = rng.integers(2, 7, size=n)
        x = rng.normal(size=(int(sizes.sum()), 8)).astype(np.float32)
        v = (x @ w).astype(np.float32)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        chosen = np.array([rng.integers(0, k) for k in sizes])  # the people: random choices
        best = np.array([int(np.argmax(v[a:b])) for a, b in zip(offsets[:-1], offsets[1:])])
        listed = v.copy()
        listed[rng.random(len(v)) < 0.3] = np.nan               # the engine lists only some plays
        return DecisionSet(x, offsets, chosen, {"file": np.arange(n)}, values=listed), best

    train, _ = make(1500, 1)
    valid, best = make(400, 2)
    agreement = {}
    for weight in (0.0, 1.0):
        torch.manual_seed(0)
        net = models.build_scorer("mlp", d_in=8, hidden=(16,))
        cfg = TrainConfig(epochs=6, lr=1e-2, batch_size=64, schedule="constant", patience=10, threads=1,
                          engine_pairs=weight)
        trainer = Trainer(net, train, None, None, cfg, progress=False, log=lambda *a, **k: None)
        trainer.fit()
        assert ("train_engine_pairs" in trainer.history[-1]) == bool(weight)
        with torch.no_grad():
            s = net.eval()(torch.from_numpy(valid.items)).numpy()
        picks = np.array([int(np.argmax(s[a:b])) for a, b in zip(valid.offsets[:-1], valid.offsets[1:])])
        agreement[weight] = float((picks == best).mean())
    assert agreement[1.0] > 0.8 and agreement[1.0] > agreement[0.0] + 0.3, agreement


# ------------------------------------------------------------------------------ engine values from the analyses


def test_engine_values_are_gnubgs_analysed_equities(shared_data_dir, human_dir, small_analysis, tmp_path):
    data = dataset.build_dataset([human_dir], cache_dir=tmp_path, workers=1, progress=False,
                                 targets=f"pairs:{small_analysis}")
    assert data.targets is None and data.values is not None
    rows = {}
    with gzip.open(shared_data_dir / "human-analysis" / "lasse-4ply.jsonl.gz", "rt") as f:
        for line in f:
            r = json.loads(line)
            if r["match_file"] in HUMAN:
                rows[(r["match_file"], r["game"], r["position_id"], tuple(sorted(r["dice"])))] = r
    files = data.tables["files"][data.meta["file"]]
    checked = 0
    for g in range(len(data)):
        r = rows.get((Path(str(files[g])).name, int(data.meta["game"][g]), position_id(data.meta["board"][g]),
                      tuple(sorted(int(x) for x in data.meta["dice"][g]))))
        v = data.values[data.offsets[g]:data.offsets[g + 1]]
        if r is None:
            assert np.isnan(v).all()
            continue
        listed = {c["play"]: c["equity"] for c in r["candidates"]}
        assert (~np.isnan(v)).sum() == len(listed)
        assert v[data.chosen[g]] == pytest.approx(listed[r["played"]], abs=1e-6)   # the person's play
        assert np.nanmax(v) == pytest.approx(max(listed.values()), abs=1e-6)
        checked += 1
    assert checked > 100


# ------------------------------------------------------------------------------ the command line


def train_args(records_dir, tmp_path, *extra):
    return ["train", "--records", str(records_dir), "--cache", str(tmp_path / "cache"), "--workers", "1",
            "--encoding", "tesauro198", "--hidden", "8", "--epochs", "1", "--max-steps", "4", "--batch-size", "16",
            "--test-fraction", "0", "--no-progress", "--plot", "none", *extra]


def test_train_with_result_targets_records_them(corpus_dir, tmp_path):
    out = tmp_path / "o.pt"
    assert cli.main(train_args(corpus_dir, tmp_path, "--model", "outcome", "--targets", "results",
                               "--target-weight", "2", "--out", str(out))) == 0
    ck = checkpoint.load(out)
    assert (ck.meta["targets"], ck.meta["target_weight"], ck.meta["engine_pairs"]) == ("results", 2.0, 0.0)
    assert ck.meta["engine_source"] is None
    assert "train_target_bce" in ck.meta["history"][-1]


def test_train_with_engine_pairs_on_any_scorer(human_dir, small_analysis, tmp_path):
    out = tmp_path / "m.pt"
    source = f"pairs:{small_analysis}"
    assert cli.main(train_args(human_dir, tmp_path, "--model", "mlp", "--engine-pairs", "0.5",
                               "--engine-source", source, "--out", str(out))) == 0
    ck = checkpoint.load(out)
    assert (ck.meta["engine_pairs"], ck.meta["engine_source"], ck.meta["targets"]) == (0.5, source, None)
    assert ck.meta["history"][-1]["train_engine_pairs"] > 0
    out2 = tmp_path / "o.pt"
    targets = f"analysis:{small_analysis},results"
    assert cli.main(train_args(human_dir, tmp_path, "--model", "outcome", "--targets", targets,
                               "--engine-pairs", "1", "--engine-source", source, "--out", str(out2))) == 0
    ck = checkpoint.load(out2)
    assert ck.meta["targets"] == targets and ck.meta["engine_pairs"] == 1.0
    last = ck.meta["history"][-1]
    assert "train_target_bce" in last and "train_engine_pairs" in last


def test_labels_come_from_the_training_part_only(human_dir, small_analysis, tmp_path):
    from comparison.train_command import load_data

    parser = cli.build_parser()
    args = parser.parse_args(train_args(human_dir, tmp_path, "--model", "outcome", "--targets", "results",
                                        "--engine-pairs", "1", "--engine-source", f"pairs:{small_analysis}",
                                        "--valid-fraction", "0.4", "--out", "x.pt"))
    train, valid, _ = load_data(args, GAME)
    assert len(valid) > 0 and valid.targets is None and valid.values is None
    assert (~np.isnan(train.targets[:, 0])).sum() > 0 and (~np.isnan(train.values)).sum() > 0


def test_train_reports_bad_label_options(corpus_dir, tmp_path, capsys):
    base = train_args(corpus_dir, tmp_path, "--out", str(tmp_path / "x.pt"))
    assert cli.main(base + ["--model", "outcome", "--targets", "bogus"]) == 2
    assert "unknown targets 'bogus'" in capsys.readouterr().err
    assert cli.main(base + ["--engine-pairs", "-1"]) == 2
    assert "--engine-pairs: the weight must be >= 0" in capsys.readouterr().err
    assert cli.main(base + ["--engine-pairs", "1", "--engine-source", f"pairs:{tmp_path / 'nowhere.gz'}"]) == 2
    assert "no analysis file at" in capsys.readouterr().err
    assert cli.main(base + ["--model", "outcome", "--targets", "engine"]) == 2   # no labels beside the corpus
    assert "records generate --label gnubg" in capsys.readouterr().err


# ------------------------------------------------------------------------------ engine labels of generated records


def test_engine_labels_become_targets(tmp_path, gnubg):
    from games.backgammon.play.generate import LABEL_SUFFIX, generate, label_path

    assert LABEL_SUFFIX == dataset.ENGINE_SUFFIX
    out = tmp_path / "gen"
    generate(out, "pubeval", games=6, seed=4, workers=1, games_per_file=3, progress=False, label="gnubg")
    data = dataset.build_dataset([out], cache_dir=tmp_path / "cache", workers=1, progress=False, targets="engine")
    t = data.targets
    chosen_rows = data.offsets[:-1] + data.chosen
    assert not np.isnan(t[chosen_rows]).any()              # every play of generated records is labelled
    others = np.ones(data.n_items, bool)
    others[chosen_rows] = False
    assert np.isnan(t[others]).all()
    # the labels are gnubg's probabilities of the chosen results, from the mover's view
    from games.backgammon.players.gnubg import GnubgBot

    want = GnubgBot(0).result_probabilities(data.items[chosen_rows])
    np.testing.assert_allclose(t[chosen_rows], want, atol=2e-6)
    # with the results: the engine's probabilities win, and winners' plays are predicted to win more
    both = dataset.with_targets(data, "results,engine", log=lambda *a: None).targets
    assert np.array_equal(both[chosen_rows], t[chosen_rows])
    won = data.meta["result"][:, 0] == 1
    assert t[chosen_rows][won, 0].mean() > t[chosen_rows][~won, 0].mean() + 0.2

    # a labels file written for other records is refused, naming the file and line
    side = label_path(sorted(out.glob("*.mat"))[0])
    lines = side.read_text().splitlines()
    row = json.loads(lines[5])
    row["result_id"] = position_id(start_board())
    side.write_text("\n".join(lines[:5] + [json.dumps(row)] + lines[6:]) + "\n")
    with pytest.raises(ValueError, match=rf"{side.name}:6: the play's result"):
        dataset.with_targets(data, "engine", log=lambda *a: None)
    side.write_text("\n".join(lines[:2] + ["{not json"] + lines[3:]) + "\n")
    with pytest.raises(ValueError, match=rf"{side.name}:3: not an engine-probability line"):
        dataset.with_targets(data, "engine", log=lambda *a: None)


def test_engine_labels_of_every_candidate(tmp_path, gnubg):
    """--label-candidates: every legal play of each non-forced decision labelled, in the reader's
    own order (checked against gnubg-nn directly), and the engine's choice is the best of them by
    their cubeless equity (gnubg at 0 ply picks the best equity): the pair source 'generated'."""
    from games.backgammon.play.generate import generate, label_path
    from games.backgammon.players.gnubg import GnubgBot

    out = tmp_path / "gen"
    s = generate(out, "gnubg", games=4, seed=3, workers=1, games_per_file=2, progress=False, label="gnubg",
                 label_candidates=True)
    assert s["label_candidates"]
    quiet = lambda *a: None  # noqa: E731
    data = dataset.build_dataset([out], cache_dir=tmp_path / "cache", workers=1, progress=False,
                                 targets="engine,generated", log=quiet)
    assert not np.isnan(data.targets).any() and not np.isnan(data.values).any()   # every candidate
    want = GnubgBot(0).result_probabilities(data.items)
    np.testing.assert_allclose(data.targets, want, atol=6e-5)                     # written to 4 decimals
    best = [int(np.argmax(data.values[a:b])) for a, b in zip(data.offsets[:-1], data.offsets[1:])]
    chosen_value = data.values[data.offsets[:-1] + data.chosen]
    best_value = data.values[data.offsets[:-1] + np.array(best)]
    assert np.all(chosen_value >= best_value - 2e-4)                               # ties to the 4th decimal

    # records labelled at the chosen play only give no pairs; the first pair source wins
    plain = tmp_path / "plain"
    generate(plain, "gnubg", games=4, seed=3, workers=1, games_per_file=2, progress=False, label="gnubg")
    few = dataset.build_dataset([plain], cache_dir=tmp_path / "cache2", workers=1, progress=False,
                                targets="engine,generated", log=quiet)
    assert np.isnan(few.values).all()
    assert (~np.isnan(few.targets).any(axis=1)).sum() == len(few)                  # the chosen plays only

    # a list that is not the reader's candidates is refused, naming the file and line
    side = label_path(sorted(out.glob("*.mat"))[0])
    lines = side.read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if '"candidates"' in line)
    row = json.loads(lines[k])
    row["candidates"] = row["candidates"][1:] + row["candidates"][:1]
    row["candidates_crc"] += 1
    side.write_text("\n".join(lines[:k] + [json.dumps(row)] + lines[k + 1:]) + "\n")
    with pytest.raises(ValueError, match=rf"{side.name}:{k + 1}: its \d+ labelled candidates"):
        dataset.with_targets(data, "engine", log=quiet)


# ------------------------------------------------------------------------------ the reliability diagram


def test_reliability_table_by_hand():
    t = reliability_table([0.05, 0.15, 0.12, 0.95, 0.99, 0.5, 0.7], [0, 1, 0, 1, 1, NAN, 1], n_bins=10)
    assert t["count"] == [1, 2, 0, 0, 0, 0, 0, 1, 0, 2] and t["n"] == 6
    assert t["observed"][1] == 0.5 and t["mean_predicted"][1] == pytest.approx(0.135)
    assert math.isnan(t["observed"][2])
    assert t["ece"] == pytest.approx((0.05 + 2 * abs(0.5 - 0.135) + 0.3 + 2 * abs(1 - 0.97)) / 6)
    assert t["brier"] == pytest.approx(np.mean([0.05 ** 2, 0.85 ** 2, 0.12 ** 2, 0.05 ** 2, 0.01 ** 2, 0.3 ** 2]))


def test_bench_accuracy_draws_a_reliability_diagram(corpus_dir, tmp_path, capsys, gnubg):
    """gnubg, on its own self-play games, is well calibrated; the same numbers against the other
    side's result are not (a check of the view)."""
    model = tmp_path / "o.pt"
    assert cli.main(train_args(corpus_dir, tmp_path, "--model", "outcome", "--out", str(model))) == 0
    common = ["bench", "accuracy", "--model", str(model), "gnubg", "pubeval", "--records", str(corpus_dir),
              "--cache", str(tmp_path / "cache"), "--workers", "1", "--analysis", "none", "--split", "none",
              "--limit", "300", "--no-progress"]
    capsys.readouterr()
    assert cli.main(common + ["--json", str(tmp_path / "plain.json")]) == 0
    plain = capsys.readouterr().out
    png = tmp_path / "rel.png"
    assert cli.main(common + ["--json", str(tmp_path / "rel.json"), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert text == plain + f"reliability diagram: {png}\n"     # the table itself is unchanged
    assert png.stat().st_size > 10_000
    res = json.loads((tmp_path / "rel.json").read_text())["players"]
    assert "reliability" not in res["pubeval"]
    ours, gnu = res[str(model)]["reliability"], res["gnubg"]["reliability"]
    assert ours["n"] == gnu["n"] == sum(gnu["count"]) == 300
    assert gnu["ece"] < 0.08 and gnu["brier"] < 0.2
    # the view: against the opponent's result the same predictions are far off
    from games.backgammon.commands.accuracy import chosen_results, player_probabilities

    data = dataset.build_dataset([corpus_dir], cache_dir=tmp_path / "cache", workers=1, progress=False)
    data = data.subset(np.sort(np.random.default_rng(0).choice(len(data), 300, replace=False)))
    results, won = chosen_results(data)
    p = player_probabilities("gnubg", results)[:, 0]
    assert reliability_table(p, won)["ece"] == pytest.approx(gnu["ece"])
    assert reliability_table(p, 1 - won)["ece"] > 0.3
    assert cli.main(common + ["--plot", str(tmp_path)]) == 2                 # a folder is no picture
    assert "--plot" in capsys.readouterr().err


def test_records_label_equals_the_labels_written_while_playing(tmp_path, gnubg, capsys):
    """records label on existing records writes what records generate --label --label-candidates
    wrote beside the same games, byte for byte; train's engine:DIR reads them from DIR, and the
    labels beside the records where DIR has none."""
    import shutil

    from comparison import cli
    from games.backgammon.play.generate import generate, label_records

    played = tmp_path / "played"
    generate(played, "gnubg", games=4, seed=3, workers=1, games_per_file=2, progress=False, label="gnubg",
             label_candidates=True)
    bare = tmp_path / "bare"                                  # the records alone, as people's records come
    bare.mkdir()
    mats = sorted(played.glob("*.mat"))
    for f in mats:
        shutil.copy(f, bare / f.name)
    out = tmp_path / "labels"
    assert cli.main(["records", "label", str(bare), "--out", str(out), "--no-progress"]) == 0
    assert "labelled" in capsys.readouterr().out
    for f in mats:
        side = f.stem + ".probs.jsonl"
        assert (out / side).read_bytes() == (played / side).read_bytes()

    quiet = lambda *a: None  # noqa: E731
    data = dataset.build_dataset([bare], cache_dir=tmp_path / "cache", workers=1, progress=False, log=quiet)
    assert not np.isnan(dataset.with_targets(data, f"engine:{out}", log=quiet).targets).any()
    (out / (mats[0].stem + ".probs.jsonl")).unlink()          # DIR lacks one file: none beside it either
    part = dataset.with_targets(data, f"engine:{out}", log=quiet).targets
    first = data.meta["file"] == 0
    rows = np.repeat(first, data.sizes)
    assert np.isnan(part[rows]).all() and not np.isnan(part[~rows]).any()
    both = dataset.build_dataset([played], cache_dir=tmp_path / "cache2", workers=1, progress=False, log=quiet)
    assert not np.isnan(dataset.with_targets(both, f"engine:{out}", log=quiet).targets).any()   # beside them

    twin = tmp_path / "twin"                                  # two files of one name would share a label file
    twin.mkdir()
    shutil.copy(mats[0], twin / mats[0].name)
    with pytest.raises(ValueError, match="two record files named"):
        label_records([bare, twin], tmp_path / "x", progress=False)
    assert cli.main(["records", "label", str(tmp_path / "missing"), "--out", str(tmp_path / "y")]) == 2
    assert "no such file" in capsys.readouterr().err


# ------------------------------------------------------------------------------ value positions


def test_decision_sets_concatenate():
    from comparison.data import concatenate

    a = DecisionSet(np.arange(6.0).reshape(3, 2), [0, 2, 3], [1, 0], {"file": np.array([0, 1])},
                    {"files": np.array(["x", "y"])}, targets=np.ones((3, 5)))
    b = DecisionSet(np.arange(4.0).reshape(2, 2), [0, 1, 2], [0, 0], {"file": np.array([1, 1])},
                    {"files": np.array(["x", "y"])}, values=np.array([0.5, 0.25]))
    both = concatenate(a, b)
    assert list(both.offsets) == [0, 2, 3, 4, 5] and list(both.chosen) == [1, 0, 0, 0]
    assert list(both.meta["file"]) == [0, 1, 1, 1] and same(both.items[3:], b.items)
    assert same(both.targets[:, 0], [1, 1, 1, NAN, NAN]) and same(both.values, [NAN, NAN, NAN, 0.5, 0.25])
    with pytest.raises(ValueError, match="meta keys"):
        concatenate(a, DecisionSet(b.items, b.offsets, b.chosen, {}, dict(b.tables)))
    with pytest.raises(ValueError, match="tables differ"):
        concatenate(a, DecisionSet(b.items, b.offsets, b.chosen, dict(b.meta), {"files": np.array(["z"])}))


def test_value_positions_are_the_forced_plays_and_dances_with_gnubgs_probabilities(tmp_path, gnubg, capsys):
    """train --value-positions: every play the records hold that was no decision (a forced play, a
    dance) becomes a one-candidate group whose target is gnubg-nn's evaluation of the position after
    it, for the mover; from the training part's files only. Checked against the records read
    again and gnubg-nn evaluating the positions afresh."""
    from games.backgammon.play.generate import generate
    from games.backgammon.players.gnubg import GnubgBot

    played = tmp_path / "played"
    generate(played, "gnubg", games=6, seed=4, workers=1, games_per_file=2, progress=False, label="gnubg",
             label_candidates=True)
    quiet = lambda *a: None  # noqa: E731
    data = dataset.build_dataset([played], cache_dir=tmp_path / "cache", workers=1, progress=False, log=quiet)
    forced = dataset.forced_positions(data, log=quiet)

    want = {}                        # (file, game, position before, sorted dice) -> result, for unforced-free plays
    for f, path in enumerate(data.tables["files"]):
        for g in records.read_match(path).games:
            for a in g.plays:
                if a.n_legal <= 1:
                    want[(f, g.number, position_id(a.board), tuple(sorted(a.dice)))] = a.result
    got = {(int(forced.meta["file"][i]), int(forced.meta["game"][i]), position_id(forced.meta["board"][i]),
            tuple(sorted(int(x) for x in forced.meta["dice"][i]))): forced.items[i] for i in range(len(forced))}
    assert got.keys() == want.keys() and all(np.array_equal(got[k], want[k]) for k in want)
    assert (forced.sizes == 1).all() and (forced.chosen == 0).all()
    on_bar = forced.items[:, 1, 24] > 0                     # the mover still on the bar after its own turn
    assert on_bar.sum() > 0
    np.testing.assert_allclose(forced.targets, GnubgBot(0).result_probabilities(forced.items), atol=2e-6)

    first = dataset.forced_positions(data.subset(data.meta["file"] == 0), log=quiet)
    assert set(first.meta["file"]) == {0} and len(first) == (forced.meta["file"] == 0).sum()

    out = tmp_path / "v.pt"
    assert cli.main(train_args(played, tmp_path, "--model", "outcome", "--targets", "engine", "--value-positions",
                               "--valid-fraction", "0.4", "--split", "random", "--out", str(out))) == 0
    meta = checkpoint.load(out).meta
    assert 0 < meta["value_positions"] < len(forced) and meta["train_decisions"] < len(data)
    assert "value positions" in capsys.readouterr().err
    assert cli.main(train_args(played, tmp_path, "--model", "outcome", "--targets", "results", "--value-positions",
                               "--out", str(out))) == 2
    assert "add engine or engine:DIR to --targets" in capsys.readouterr().err
    assert cli.main(train_args(played, tmp_path, "--value-positions", "--out", str(out))) == 2
    assert "--value-positions: the positions need targets" in capsys.readouterr().err
