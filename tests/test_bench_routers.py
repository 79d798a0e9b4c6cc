"""scripts/bench_routers.py at toy scale, and `train --model moe` / `--upcycle-from` end to end."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from comparison import checkpoint, cli, moe
from comparison.evaluate import score_set
from games.backgammon.learn.dataset import build_dataset, get_encoding

ROOT = Path(__file__).resolve().parents[1]


def _load_script():
    spec = importlib.util.spec_from_file_location("bench_routers", ROOT / "scripts" / "bench_routers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def two_files(corpus_copy):
    return corpus_copy(2)


@pytest.fixture(scope="module")
def four_files(corpus_copy):
    """Two to train on, one to validate, one to test."""
    return corpus_copy(4)


def test_bench_routers_smoke(four_files, tmp_path):
    """Toy scale, two seeds: every router and the dense ladder run, are cached, and the report
    assembles from the cache; a second invocation trains nothing."""
    bench = _load_script()
    argv = ["--records", str(four_files), "--cache", str(tmp_path / "cache"), "--runs", str(tmp_path / "runs"),
            "--train-decisions", "60", "--eval-decisions", "200", "--test-fraction", "0.2", "--valid-fraction", "0.2",
            "--epochs", "1",
            "--hidden", "8", "--experts", "2", "--widths", "16", "--seeds", "0", "1", "--timing-decisions", "3",
            "--flop-decisions", "3", "--gnubg", "no", "--out", str(tmp_path / "routers")]
    torch_threads = torch.get_num_threads()
    try:
        result = bench.main(argv)
    finally:
        torch.set_num_threads(torch_threads)
    names = [r["name"] for r in result["models"]]
    assert names[:2] == ["dense H=8", "dense H=16"] and names[2:] == list(moe.ROUTERS)
    dense = result["models"][0]
    token_choice = next(r for r in result["models"] if r["name"] == "token_choice")
    for r in result["models"]:
        assert r["seeds"] == 2 and 0.0 <= r["top1"] <= 1.0 and r["rank_us"] > 0 and r["flops"] > 0
        if r["kind"] == "moe":
            assert r["load"] is not None and abs(sum(r["load"]) - 1) < 1e-6
            assert r["compare"]["equal_cost"]["dense"] in names[:2]
    # the E=2 mixture's parameter count lands on the dense width 16 of the ladder (the matched width)
    assert abs(result["models"][1]["params"] - token_choice["params"]) <= dense["params"] // 8 + 1
    # sparse dispatch: token choice with one of two experts computes less than every expert densely
    assert token_choice["flops"] < token_choice["flops_dense_path"]
    # seeds differ, and the paired difference is the mean of the per-seed differences
    runs = result["runs"]
    assert runs["dense H=8"][0]["top1"] != runs["dense H=8"][1]["top1"] or \
        runs["dense H=8"][0]["valid_top1"] != runs["dense H=8"][1]["valid_top1"]
    diffs = [a["top1"] - b["top1"] for a, b in zip(runs["token_choice"], runs["dense H=8"])]
    assert token_choice["compare"]["same_width"]["mean"] == pytest.approx(np.mean(diffs))
    assert {t["base"] for t in result["training_free"]} == {"token_choice", "expert_choice"}
    up = result["upcycling"]
    # upcycling starts exactly where the dense model is
    assert up["upcycled_step0_top1"] == pytest.approx(dense["top1"])
    assert [a["share"] for a in up["arms"]["upcycled"]] == [0.25, 0.5, 1.0] and up["seeds"] == 2
    saved = json.loads((tmp_path / "routers.json").read_text())
    assert saved["verdicts"] == result["verdicts"]
    assert "| token_choice |" in (tmp_path / "routers.md").read_text()
    assert (tmp_path / "routers.png").stat().st_size > 1000
    # everything is cached: a second run trains nothing and reports the same agreements; with
    # --report-only a seed that was never run (2) is left out rather than trained
    calls = []
    original = bench._train_run
    bench._train_run = lambda *a, **k: calls.append(a) or original(*a, **k)
    try:
        again = bench.main(argv)
        partial = bench.main(argv[:argv.index("--seeds")] + ["--seeds", "0", "1", "2", "--report-only"]
                             + argv[argv.index("--seeds") + 3:])
    finally:
        bench._train_run = original
        torch.set_num_threads(torch_threads)
    assert calls == [] and [r["top1"] for r in again["models"]] == [r["top1"] for r in result["models"]]
    assert [r["top1"] for r in partial["models"]] == [r["top1"] for r in result["models"]]
    assert all(r["seeds"] == 2 for r in partial["models"]) and partial["upcycling"]["seeds"] == 2


def test_a_run_held_by_a_live_process_is_left_to_it(tmp_path):
    bench = _load_script()
    lock = tmp_path / "run.lock"
    assert bench.claim(lock)                    # free: taken
    assert not bench.claim(lock)                # held by this (live) process
    import os
    import socket

    me = f"{socket.gethostname()}:{os.getpid()}"
    assert lock.read_text() == me
    lock.write_text(f"{socket.gethostname()}:999999999")   # a holder that no longer exists
    assert bench.claim(lock) and lock.read_text() == me
    lock.write_text(f"another-machine:{os.getpid()}")    # a pid on another machine means nothing here
    assert bench.claim(lock) and lock.read_text() == me


def test_paired_and_bootstrap_statistics():
    bench = _load_script()
    a = [{"seed": s, "top1": v, "correct": c} for s, v, c in ((0, 0.6, [1, 1, 0, 0]), (1, 0.7, [1, 1, 1, 0]))]
    b = [{"seed": s, "top1": v, "correct": c} for s, v, c in ((0, 0.5, [1, 0, 0, 0]), (1, 0.5, [1, 0, 1, 0]))]
    d = bench.paired(a, b)
    assert d["mean"] == pytest.approx(0.15) and d["ci"] == pytest.approx(12.706 * 0.05)
    boot = bench.bootstrap_matches(a, b, np.array(["m1", "m1", "m2", "m2"]))
    assert boot["mean"] == pytest.approx(0.25) and boot["lo"] <= 0.25 <= boot["hi"]
    # every decision of match m1 favours a, m2 is a tie: resampled means lie in [0, 0.5]
    assert 0.0 <= boot["lo"] and boot["hi"] <= 0.5


def _train(argv) -> int:
    threads = torch.get_num_threads()
    try:
        return cli.main(["train", "--no-progress", "--plot", "none", "--threads", "1", "--workers", "1"] + argv)
    finally:
        torch.set_num_threads(threads)


def test_train_moe_and_upcycle_from_the_command_line(two_files, tmp_path, capsys):
    common = ["--records", str(two_files), "--cache", str(tmp_path / "cache"), "--encoding", "tokens",
              "--epochs", "1", "--hidden", "8", "--test-fraction", "0"]  # two files: no test part
    moe_out, dense_out, up_out = tmp_path / "moe.pt", tmp_path / "dense.pt", tmp_path / "up.pt"
    assert _train(common + ["--model", "moe", "--router", "token_choice", "--experts", "2", "--out", str(moe_out)]) == 0
    ck = checkpoint.load(moe_out)
    assert ck.model.config["kind"] == "moe" and ck.model.config["router"] == "token_choice"
    assert ck.model.n_experts == 2
    assert "load" in ck.meta["history"][0]["router"]  # router statistics logged per epoch

    assert _train(common + ["--model", "mlp", "--out", str(dense_out)]) == 0
    # --lr 0: the upcycled mixture cannot move, so it must score every candidate exactly as the dense model
    assert _train(common + ["--model", "moe", "--router", "expert_choice", "--experts", "2", "--lr", "0",
                            "--upcycle-from", str(dense_out), "--out", str(up_out)]) == 0
    dense, up = checkpoint.load(dense_out).model, checkpoint.load(up_out).model
    assert up.config["router"] == "expert_choice" and up.n_experts == 2
    data = build_dataset([two_files], cache_dir=tmp_path / "cache", workers=1, progress=False)
    data = data.subset(np.arange(min(200, len(data))))
    featurize = get_encoding("tokens")
    np.testing.assert_allclose(score_set(up, data, featurize), score_set(dense, data, featurize), rtol=1e-5, atol=1e-5)

    # the phase router finds backgammon's phase in the tokens without --moe-options
    assert _train(common + ["--model", "moe", "--router", "phase", "--experts", "3",
                            "--out", str(tmp_path / "phase.pt")]) == 0
    # bad options are a message, not a traceback
    capsys.readouterr()
    assert _train(common + ["--model", "moe", "--moe-options", "{top_k: 2", "--out", str(tmp_path / "x.pt")]) == 2
    assert "--moe-options" in capsys.readouterr().err
    assert _train(common + ["--model", "moe", "--router", "token_choice", "--upcycle-from", str(moe_out),
                            "--out", str(tmp_path / "y.pt")]) == 2
    assert "upcycle" in capsys.readouterr().err


def test_training_free_usmoe_waits_for_its_base_run_to_finish(tmp_path):
    """A run's model file exists from its first epoch on (the best so far): the training-free
    USMoE row is made only once the base run has written its row, never from a run that another
    process is still training."""
    bench = _load_script()
    (tmp_path / "expert_choice-s2.pt").write_bytes(b"half-trained")
    assert bench.training_free_usmoe(tmp_path, "expert_choice", 2, None, None, None) is None
    assert not (tmp_path / "usmoe_free_from_expert_choice-s2.json").exists()
