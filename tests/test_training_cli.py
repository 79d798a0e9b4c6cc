"""End to end on real records: dataset cache, `train`, `--resume`, load_agent, `bench accuracy`."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from comparison import checkpoint, cli
from games.backgammon import legal_plays, records, start_board
from games.backgammon.learn.dataset import build_dataset, cache_key, record_files

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def record_dir(tmp_path_factory):
    """A few match files: from ../shared when present, else the bundled gnubg corpus."""
    from conftest import shared_data

    d = tmp_path_factory.mktemp("records")
    shared = shared_data()
    if (shared / "human-records").is_dir():
        files = sorted((shared / "human-records").glob("match*.txt"))[:12]
    else:
        files = sorted(records.corpus_dir().glob("*.mat"))[:2]
    for f in files:
        shutil.copy(f, d / f.name)
    return d


def test_dataset_matches_the_records_and_is_cached(record_dir, tmp_path):
    data = build_dataset([record_dir], cache_dir=tmp_path, workers=1, progress=False)
    n = 0
    for f in record_files([record_dir]):
        for d in records.decisions(records.read_match(f)):
            n += not d.forced
    assert len(data) == n > 50
    # every group: the candidates are the legal results and the chosen one is the recorded play
    for g in np.random.default_rng(0).choice(len(data), 30, replace=False):
        board, (d1, d2) = data.meta["board"][g], data.meta["dice"][g]
        cands = data.items[data.offsets[g]:data.offsets[g + 1]]
        assert {c.tobytes() for c in cands} == {p.board.tobytes() for p in legal_plays(board, int(d1), int(d2))}
    key = cache_key(record_files([record_dir]))
    assert (tmp_path / f"decisions-{key}.npz").exists()
    again = build_dataset([record_dir], cache_dir=tmp_path, workers=1, progress=False)
    assert np.array_equal(again.items, data.items)
    # touching a source changes the key: the cache is rebuilt
    f = record_files([record_dir])[0]
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    assert cache_key(record_files([record_dir])) != key


def test_train_resume_agent_and_accuracy(record_dir, tmp_path, capsys):
    out = tmp_path / "m.pt"
    base = ["train", "--records", str(record_dir), "--cache", str(tmp_path / "cache"), "--workers", "1",
            "--encoding", "tesauro198", "--hidden", "16", "--batch-size", "32", "--no-progress", "--out", str(out),
            "--valid-fraction", "0.3", "--test-fraction", "0"]  # two corpus files without ../shared: no test part
    assert cli.main(base + ["--epochs", "2"]) == 0
    assert out.exists() and Path(f"{out}.png").exists() and Path(f"{out}.last").exists()
    ck = checkpoint.load(out)
    assert ck.meta["encoding"] == "tesauro198" and len(ck.meta["history"]) >= 1
    # resume: continues from epoch 3 of 3
    assert cli.main(base + ["--epochs", "3", "--resume"]) == 0
    last = checkpoint.read(f"{out}.last")
    assert last["train_state"]["epoch"] == 3 and len(last["meta"]["history"]) == 3
    capsys.readouterr()

    from games.backgammon.players.agent import load_agent

    agent = load_agent(out)
    ranked = agent.rank(start_board(), 3, 1)
    assert len(ranked) == len(legal_plays(start_board(), 3, 1))
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    assert agent.choose(start_board(), 3, 1).board.tobytes() == ranked[0][0].board.tobytes()
    boards = np.stack([start_board()] * 3)
    res, n = agent.choose_batch(boards, np.array([[3, 1], [6, 6], [5, 2]]))
    assert list(n) == [len(legal_plays(start_board(), *d)) for d in ((3, 1), (6, 6), (5, 2))]
    assert res[0].tobytes() == ranked[0][0].board.tobytes()

    assert cli.main(["bench", "accuracy", "--model", str(out), "pubeval", "random", "--records", str(record_dir),
                     "--cache", str(tmp_path / "cache"), "--workers", "1", "--analysis", "none",
                     "--no-progress", "--json", str(tmp_path / "acc.json")]) == 0
    text = capsys.readouterr().out
    assert "pubeval" in text and "m.pt" in text and "top-1" in text


def test_a_fixed_seed_reproduces_a_run(record_dir, tmp_path):
    """The initial weights come from --seed as well as the batch order: two runs, one model."""
    weights = []
    for k in range(2):
        out = tmp_path / f"m{k}.pt"
        assert cli.main(["train", "--records", str(record_dir), "--cache", str(tmp_path / "cache"), "--workers", "1",
                         "--encoding", "tesauro198", "--hidden", "8", "--epochs", "1", "--max-steps", "3",
                         "--seed", "5", "--test-fraction", "0", "--no-progress", "--plot", "none", "--out", str(out)]) == 0
        weights.append(checkpoint.read(out)["state_dict"])
    assert weights[0].keys() == weights[1].keys()
    assert all(np.array_equal(weights[0][k].numpy(), weights[1][k].numpy()) for k in weights[0])


def test_init_from_starts_from_a_model_files_weights(record_dir, tmp_path, capsys):
    """--init-from: a fine-tuning run starts where the file's model stands (at --lr 0 it stays
    there exactly) and records where it started; a file of another architecture or encoding is a
    message naming it."""
    base = ["train", "--records", str(record_dir), "--cache", str(tmp_path / "cache"), "--workers", "1",
            "--encoding", "tesauro198", "--epochs", "1", "--max-steps", "3", "--test-fraction", "0",
            "--no-progress", "--plot", "none"]
    start, tuned = tmp_path / "start.pt", tmp_path / "tuned.pt"
    assert cli.main(base + ["--model", "outcome", "--hidden", "8", "--seed", "1", "--out", str(start)]) == 0
    # another seed would draw other initial weights: equal weights can only come from the file
    assert cli.main(base + ["--model", "outcome", "--hidden", "8", "--seed", "2", "--lr", "0", "--target-weight", "5",
                            "--init-from", str(start), "--out", str(tuned)]) == 0
    a, b = checkpoint.read(start)["state_dict"], checkpoint.read(tuned)["state_dict"]
    assert a.keys() == b.keys() and all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)
    ck = checkpoint.load(tuned)
    assert ck.meta["init_from"] == str(start) and ck.model.config["target_weight"] == 5.0
    capsys.readouterr()
    assert cli.main(base + ["--model", "outcome", "--hidden", "16", "--init-from", str(start),
                            "--out", str(tmp_path / "x.pt")]) == 2
    err = capsys.readouterr().err
    assert "--init-from" in err and "start.pt" in err and "Traceback" not in err
    other_encoding = [("extended" if a == "tesauro198" else a) for a in base]
    assert cli.main(other_encoding + ["--model", "outcome", "--hidden", "8", "--init-from", str(start),
                                      "--out", str(tmp_path / "y.pt")]) == 2
    assert "encoding is tesauro198" in capsys.readouterr().err


def test_train_reports_bad_input_without_traceback(tmp_path, capsys):
    assert cli.main(["train", "--records", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m.pt"),
                     "--no-progress"]) == 2
    assert "nowhere: no such file or folder" in capsys.readouterr().err
    (tmp_path / "bad.pt").write_bytes(b"not a model")
    from games.backgammon.players.agent import load_agent

    with pytest.raises(checkpoint.CheckpointError, match="bad.pt"):
        load_agent(tmp_path / "bad.pt")


def test_outcome_model_trains_on_gnubg_analysis_targets(shared_data_dir, tmp_path):
    """train --model outcome --targets analysis: gnubg's probabilities of the listed candidates."""
    import gzip
    import json

    from games.backgammon.learn.dataset import build_dataset, with_targets

    d = tmp_path / "records"
    d.mkdir()
    for name in ("match10013413.txt", "match10014006.txt"):
        shutil.copy(shared_data_dir / "human-records" / name, d / name)
    data = build_dataset([d], cache_dir=tmp_path / "cache", workers=1, progress=False)
    labelled = with_targets(data, "analysis", log=lambda *a: None)
    t = labelled.targets
    has = ~np.isnan(t).any(axis=1)
    assert has.sum() > 100 and (~has).sum() > 100
    win, wg, wbg, lg, lbg = t[has].T
    assert ((wbg <= wg) & (wg <= win) & (lbg <= lg) & (lg <= 1 - win + 1e-6)).all()
    # the person's own play has the probabilities gnubg gave the played candidate, read independently
    rows = {}
    with gzip.open(shared_data_dir / "human-analysis" / "lasse-4ply.jsonl.gz", "rt") as f:
        for line in f:
            r = json.loads(line)
            if r["match_file"] == "match10013413.txt":
                rows[(r["game"], r["position_id"], tuple(sorted(r["dice"])))] = r
    from games.backgammon import position_id

    checked = 0
    files = labelled.tables["files"][labelled.meta["file"]]
    for g in range(len(labelled)):
        if not str(files[g]).endswith("match10013413.txt"):
            continue
        row = rows.get((int(labelled.meta["game"][g]), position_id(labelled.meta["board"][g]),
                        tuple(sorted(int(x) for x in labelled.meta["dice"][g]))))
        if row is None:
            continue
        played = next(c for c in row["candidates"] if c["play"] == row["played"])
        p = played["probs"]
        got = t[labelled.offsets[g] + labelled.chosen[g]]
        np.testing.assert_allclose(got, [p[0], p[1], p[2], p[4], p[5]], atol=1e-6)
        checked += 1
    assert checked > 50

    out = tmp_path / "o.pt"
    assert cli.main(["train", "--records", str(d), "--cache", str(tmp_path / "cache"), "--workers", "1",
                     "--model", "outcome", "--targets", "analysis", "--encoding", "tesauro198", "--hidden", "16",
                     "--epochs", "2", "--test-fraction", "0", "--no-progress", "--plot", "none", "--out", str(out)]) == 0
    ck = checkpoint.load(out)
    assert ck.meta["targets"] == "analysis" and ck.model.config["kind"] == "outcome"
    assert "train_target_bce" in ck.meta["history"][-1]
    assert cli.main(["train", "--records", str(d), "--cache", str(tmp_path / "cache"), "--workers", "1",
                     "--targets", "analysis", "--out", str(tmp_path / "x.pt"), "--no-progress"]) == 2  # mlp: refused

    # bench accuracy measures calibration against the analysed probabilities (gnubg 0-ply as a reference)
    assert cli.main(["bench", "accuracy", "--model", str(out), "gnubg", "pubeval", "--records", str(d),
                     "--split", "none", "--cache", str(tmp_path / "cache"), "--workers", "1", "--no-progress",
                     "--json", str(tmp_path / "acc.json")]) == 0
    res = json.loads((tmp_path / "acc.json").read_text())["players"]
    assert "calibration" not in res["pubeval"]
    ours, gnubg = res[str(out)]["calibration"], res["gnubg"]["calibration"]
    assert ours["candidates"] == gnubg["candidates"] > 500
    assert gnubg["mae_win"] < 0.03 and gnubg["mae_equity"] < 0.08  # 0-ply against 2- to 4-ply
    assert 0 < ours["mae_win"] < 0.5
