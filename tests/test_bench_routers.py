"""scripts/bench_routers.py at toy scale, and `train --model moe` / `--upcycle-from` end to end."""
from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from comparison import checkpoint, cli, moe
from comparison.evaluate import score_set
from games.backgammon import records
from games.backgammon.learn.dataset import build_dataset, get_encoding

ROOT = Path(__file__).resolve().parents[1]


def _load_script():
    spec = importlib.util.spec_from_file_location("bench_routers", ROOT / "scripts" / "bench_routers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    """Two match files of the bundled gnubg corpus, in a folder of their own."""
    d = tmp_path_factory.mktemp("corpus")
    for f in sorted(records.corpus_dir().glob("*.mat"))[:2]:
        shutil.copy(f, d / f.name)
    return d


def test_bench_routers_smoke(two_files, tmp_path):
    bench = _load_script()
    torch_threads = torch.get_num_threads()
    try:
        result = bench.main(["--records", str(two_files), "--cache", str(tmp_path / "cache"), "--train-decisions", "60",
                             "--valid-decisions", "30", "--epochs", "1", "--hidden", "8", "--experts", "2",
                             "--timing-decisions", "3", "--gnubg", "no", "--out", str(tmp_path / "routers")])
    finally:
        torch.set_num_threads(torch_threads)
    names = [r["name"] for r in result["models"]]
    assert names[0] == "dense H=8" and names[-1].endswith("(matched params)")
    assert names[1:-1] == list(moe.ROUTERS)
    dense, matched = result["models"][0], result["models"][-1]
    token_choice = next(r for r in result["models"] if r["name"] == "token_choice")
    # the matched dense model is within one hidden unit's worth of parameters of the E=2 mixture
    assert abs(matched["params"] - token_choice["params"]) <= dense["params"] // 8 + 1
    for r in result["models"]:
        assert 0.0 <= r["top1"] <= 1.0 and r["rank_us"] > 0 and r["steps"] == 1
        if r["kind"] == "moe":
            assert r["load"] is not None and abs(sum(r["load"]) - 1) < 1e-6
    up = result["upcycling"]
    # upcycling starts exactly where the dense model is
    assert up["upcycled_step0_top1"] == pytest.approx(dense["top1"])
    assert [a["share"] for a in up["arms"]["upcycled"]] == [0.25, 0.5, 1.0]
    saved = json.loads((tmp_path / "routers.json").read_text())
    assert saved["targets"]["router_met"] == result["targets"]["router_met"]
    assert "| token_choice |" in (tmp_path / "routers.md").read_text()
    assert (tmp_path / "routers.png").stat().st_size > 1000


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
