"""The game-agnostic framework: data layout, losses, scorers, metrics, checkpoints, the trainer."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from comparison import checkpoint, evaluate, losses, models
from comparison.data import DecisionSet, _ranges, batch_indices, make_batch, split_latest, split_three
from comparison.train import TrainConfig, Trainer, last_path

ROOT = Path(__file__).resolve().parents[1]


def synthetic_set(n_groups=600, d=8, seed=0, noise=0.0, w=None) -> tuple[DecisionSet, np.ndarray]:
    """Groups of 2..12 random feature vectors; the 'expert' picks the best under a hidden linear V*."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=d) if w is None else w
    sizes = rng.integers(2, 13, size=n_groups)
    items = rng.normal(size=(int(sizes.sum()), d)).astype(np.float32)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    value = items @ w + noise * rng.normal(size=len(items))
    chosen = np.array([int(np.argmax(value[offsets[g]:offsets[g + 1]])) for g in range(n_groups)])
    meta = {"order": np.arange(n_groups) // 10, "unit": np.arange(n_groups) // 10}
    return DecisionSet(items, offsets, chosen, meta), w


def identity(items):
    return items


# ------------------------------------------------------------------------------ data


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 6)), max_size=20))
def test_ranges_is_concatenated_aranges(pairs):
    starts = np.array([s for s, _ in pairs], np.int64)
    sizes = np.array([n for _, n in pairs], np.int64)
    ref = np.concatenate([np.arange(s, s + n) for s, n in pairs] + [np.zeros(0, np.int64)])
    assert np.array_equal(_ranges(starts, sizes), ref)


def test_subset_save_load_and_batches(tmp_path):
    data, _ = synthetic_set(50)
    idx = np.array([7, 3, 40])
    sub = data.subset(idx)
    for k, g in enumerate(idx):
        assert np.array_equal(sub.items[sub.offsets[k]:sub.offsets[k + 1]], data.items[data.offsets[g]:data.offsets[g + 1]])
    assert np.array_equal(sub.chosen, data.chosen[idx])
    data.tables["names"] = np.array(["a", "b"])
    data.save(tmp_path / "d.npz")
    back = DecisionSet.load(tmp_path / "d.npz")
    assert np.array_equal(back.items, data.items) and np.array_equal(back.meta["unit"], data.meta["unit"])
    assert list(back.tables["names"]) == ["a", "b"]
    b = make_batch(data, idx, identity)
    assert b.x.shape == (sub.n_items, 8) and b.n_groups == 3
    assert torch.equal(b.chosen, torch.from_numpy(sub.offsets[:-1] + sub.chosen))
    assert torch.equal(b.group, torch.repeat_interleave(torch.arange(3), torch.from_numpy(sub.sizes)))


def test_bad_layout_is_refused():
    with pytest.raises(ValueError, match="offsets"):
        DecisionSet(np.zeros((5, 2)), np.array([0, 2, 4]), np.array([0, 1]))
    with pytest.raises(ValueError, match="chosen"):
        DecisionSet(np.zeros((4, 2)), np.array([0, 2, 4]), np.array([0, 2]))


def test_data_parallel_batches_split_the_same_epoch():
    single = batch_indices(103, 8, True, seed=5)
    ranks = [batch_indices(103, 8, True, seed=5, rank=r, world=2) for r in range(2)]
    assert len(ranks[0]) == len(ranks[1])
    for k in range(len(ranks[0]) - 1):  # each global batch is shared between the ranks
        assert sorted(np.concatenate([ranks[0][k], ranks[1][k]])) == sorted(single[k])


def test_split_latest_holds_out_whole_latest_units():
    data, _ = synthetic_set(200)
    order = data.meta["order"][::-1].copy()  # unit 0 is now the latest
    train, valid = split_latest(data, order, data.meta["unit"], 0.1)
    assert len(train) + len(valid) == len(data)
    assert set(valid.meta["unit"]) == {0, 1}
    assert not set(valid.meta["unit"]) & set(train.meta["unit"])


def test_split_three_keeps_the_latest_units_for_testing():
    data, _ = synthetic_set(400)
    order = data.meta["order"]
    train, valid, test = split_three(data, order, data.meta["unit"], 0.1, 0.2)
    assert len(train) + len(valid) + len(test) == len(data)
    units = [set(part.meta["unit"]) for part in (train, valid, test)]
    assert not (units[0] & units[1]) and not (units[0] & units[2]) and not (units[1] & units[2])
    latest = lambda part: max(order[np.isin(data.meta["unit"], list(part))])  # noqa: E731
    earliest = lambda part: min(order[np.isin(data.meta["unit"], list(part))])  # noqa: E731
    assert latest(units[0]) <= earliest(units[1]) and latest(units[1]) <= earliest(units[2])  # by order
    assert 0.2 * len(data) <= len(test) < 0.3 * len(data) and 0.1 * len(data) <= len(valid) < 0.2 * len(data)
    # the test part is the two-way split's held-out part: a model validated on `valid` never saw it
    _, held = split_latest(data, order, data.meta["unit"], 0.2)
    assert np.array_equal(held.items, test.items)
    assert split_three(data, order, data.meta["unit"], 0.1, 0.0)[2] is None
    with pytest.raises(ValueError, match="test_fraction"):
        split_three(data, order, data.meta["unit"], 0.1, 1.0)


# ------------------------------------------------------------------------------ losses


def _toy_batch():
    data, _ = synthetic_set(30, seed=3)
    return make_batch(data, np.arange(30), identity), data


def test_pairwise_loss_is_the_mean_of_per_decision_pair_means():
    b, data = _toy_batch()
    s = torch.randn(len(b.x), dtype=torch.float64)
    want = []
    for g in range(b.n_groups):
        lo, hi = int(b.offsets[g]), int(b.offsets[g + 1])
        c = int(b.chosen[g])
        want.append(np.mean([np.log1p(np.exp(-(s[c] - s[j]).item())) for j in range(lo, hi) if j != c]))
    assert losses.pairwise(s, b.group, b.chosen).item() == pytest.approx(np.mean(want), rel=1e-9)


def test_listwise_loss_is_cross_entropy_per_decision():
    b, _ = _toy_batch()
    s = torch.randn(len(b.x), dtype=torch.float64) * 30  # large scores: the log-sum-exp must stay stable
    want = [F.cross_entropy(s[int(b.offsets[g]):int(b.offsets[g + 1])][None],
                            (b.chosen[g] - b.offsets[g])[None]).item() for g in range(b.n_groups)]
    assert losses.listwise(s, b.group, b.chosen).item() == pytest.approx(np.mean(want), rel=1e-9)


def test_relative_score_regresses_one_for_the_choice_zero_for_others():
    b, _ = _toy_batch()
    s = torch.randn(len(b.x), dtype=torch.float64)
    p = torch.sigmoid(s)
    want = []
    for g in range(b.n_groups):
        lo, hi = int(b.offsets[g]), int(b.offsets[g + 1])
        t = torch.zeros(hi - lo, dtype=torch.float64)
        t[int(b.chosen[g]) - lo] = 1
        want.append(((p[lo:hi] - t) ** 2).mean().item())
    assert losses.relative_score(s, b.group, b.chosen).item() == pytest.approx(np.mean(want), rel=1e-9)


@pytest.mark.parametrize("name", sorted(losses.LOSSES))
def test_every_loss_pushes_the_experts_choice_up(name):
    b, _ = _toy_batch()
    s = torch.zeros(len(b.x), requires_grad=True)
    losses.get(name)(s, b.group, b.chosen).backward()
    assert (s.grad[b.chosen] < 0).all()  # descending the loss raises the chosen scores
    others = torch.ones(len(s), dtype=torch.bool)
    others[b.chosen] = False
    assert (s.grad[others] >= 0).all()


# ------------------------------------------------------------------------------ models, metrics


def test_comparison_net_is_antisymmetric_and_consistent():
    torch.manual_seed(0)
    v = models.build_scorer("mlp", d_in=8, hidden=(16,))
    net = models.ComparisonNet(v)
    a, b = torch.randn(50, 8), torch.randn(50, 8)
    assert torch.allclose(net(a, b), 1 - net(b, a), atol=1e-6)
    assert torch.allclose(net(a, a), torch.full((50,), 0.5))


def test_from_config_rebuilds_the_same_architecture():
    for m in (models.build_scorer("linear", d_in=5), models.build_scorer("mlp", d_in=5, hidden=(7, 3), activation="tanh")):
        twin = models.from_config(m.config)
        twin.load_state_dict(m.state_dict())
        x = torch.randn(4, 5)
        assert torch.equal(twin(x), m(x))


def test_design_api_upcycles_a_token_reading_dense_scorer():
    """DESIGN.md's example: a dense MLP that knows its token shape upcycles with no more arguments."""
    from comparison import moe

    torch.manual_seed(1)
    dense = models.build_scorer("mlp", d_in=6 * 3, hidden=(8,), n_tokens=6, d_token=3)
    up = moe.upcycle(dense, router="token_choice", n_experts=4)
    x = torch.randn(10, 6, 3)
    assert torch.allclose(up(x), dense(x), atol=1e-5)
    with pytest.raises(ValueError, match="n_tokens"):
        models.build_scorer("mlp", d_in=10, hidden=(4,), n_tokens=3, d_token=3)


def test_expert_ranks_count_ties_against_the_model():
    scores = np.array([1.0, 3.0, 3.0, 0.5, 2.0, 2.0])
    offsets = np.array([0, 3, 6])
    ranks = evaluate.expert_ranks(scores, offsets, np.array([1, 2]))
    assert list(ranks) == [2, 2]
    m = evaluate.rank_metrics(scores, offsets, np.array([0, 1]))
    assert m["top1"] == 0.0 and m["top3"] == 1.0 and m["mrr"] == pytest.approx(0.5 * (1 / 3 + 1 / 2))


# ------------------------------------------------------------------------------ checkpoints


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_checkpoint_round_trip_and_refusals(tmp_path):
    m = models.build_scorer("mlp", d_in=6, hidden=(4,))
    checkpoint.save(tmp_path / "m.pt", m, {"encoding": "x", "history": [{"epoch": 1, "valid_top1": 0.5}]})
    ck = checkpoint.load(tmp_path / "m.pt")
    x = torch.randn(3, 6)
    assert torch.equal(ck.model(x), m(x)) and ck.meta["encoding"] == "x"

    marker = tmp_path / "pwned"
    with open(tmp_path / "evil.pt", "wb") as f:  # the classic: a pickle that runs a command when loaded
        torch.save({"format": "comparison-checkpoint", "version": 1, "model": _Evil(marker)}, f)
    with pytest.raises(checkpoint.CheckpointError, match="refused"):
        checkpoint.load(tmp_path / "evil.pt")
    assert not marker.exists()
    (tmp_path / "plain.pkl").write_bytes(pickle.dumps(_Evil(marker)))
    with pytest.raises(checkpoint.CheckpointError, match="plain.pkl"):
        checkpoint.load(tmp_path / "plain.pkl")
    assert not marker.exists()

    (tmp_path / "junk.pt").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(checkpoint.CheckpointError, match="junk.pt: not a model file"):
        checkpoint.load(tmp_path / "junk.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(checkpoint.CheckpointError, match="not a comparison checkpoint"):
        checkpoint.load(tmp_path / "other.pt")
    with pytest.raises(checkpoint.CheckpointError, match="no such model file"):
        checkpoint.load(tmp_path / "missing.pt")


# ------------------------------------------------------------------------------ trainer


def _trainer(tmp_path, data, valid, epochs=3, seed=0, featurize=identity, **cfg):
    torch.manual_seed(seed)
    model = models.build_scorer("mlp", d_in=8, hidden=(16,))
    config = TrainConfig(epochs=epochs, batch_size=32, lr=1e-2, seed=seed, patience=100, threads=1, **cfg)
    return Trainer(model, data, valid, featurize, config, out=str(tmp_path / "m.pt"), progress=False, log=lambda s: None)


def test_trainer_learns_the_hidden_preference(tmp_path):
    data, w = synthetic_set(800, seed=1)
    valid, _ = synthetic_set(300, seed=9, w=w)  # the same hidden V*, other decisions
    t = _trainer(tmp_path, data, valid, epochs=6)
    untrained = evaluate.evaluate(t.model, valid, identity)["top1"]
    chance = float(np.mean(1.0 / valid.sizes))  # a random pick among 2..12 candidates: about 0.25
    hist = t.fit()
    assert hist[-1]["valid_top1"] > max(0.85, untrained + 0.3, chance + 0.5)
    ck = checkpoint.load(tmp_path / "m.pt")
    assert ck.meta["best_epoch"] == max(range(len(hist)), key=lambda i: hist[i]["valid_top1"]) + 1


def test_fixed_seed_reproduces_and_resume_continues_exactly(tmp_path):
    data, _ = synthetic_set(300, seed=2)
    a = _trainer(tmp_path / "a", data, None, epochs=3)
    a.fit()
    b = _trainer(tmp_path / "b", data, None, epochs=3)
    b.fit()
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(p, q)

    # interrupted in the middle of epoch 2 (Ctrl-C), then resumed: the same weights as straight through
    calls = {"n": 0}

    def flaky(items):
        calls["n"] += 1
        if calls["n"] == 14:  # 10 batches an epoch: the 4th batch of epoch 2
            raise KeyboardInterrupt
        return items

    c = _trainer(tmp_path / "c", data, None, epochs=3, featurize=flaky)
    with pytest.raises(KeyboardInterrupt):
        c.fit()
    state = checkpoint.read(last_path(tmp_path / "c" / "m.pt"))["train_state"]
    assert (state["epoch"], state["step_in_epoch"]) == (1, 3)
    d = _trainer(tmp_path / "c", data, None, epochs=3)
    assert d.resume()
    d.fit()
    for p, q in zip(a.model.parameters(), d.model.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


DDP_MODELS = ["dense", "preference", "token_choice"]  # tests/ddp_train_script.py's models


@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory) -> tuple[Path, Path]:
    """tests/ddp_train_script.py for every model, as one process and under torchrun with two (gloo,
    CPU); one launch of each for all the models, since starting the processes takes most of the time."""
    tmp_path = tmp_path_factory.mktemp("ddp")
    script = ROOT / "tests" / "ddp_train_script.py"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    run = subprocess.run([sys.executable, str(script), str(one), *DDP_MODELS], env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script),
              str(two), *DDP_MODELS]
    run = subprocess.run(launch, env=env, capture_output=True, text=True, timeout=300)
    if run.returncode and "exitcode  : -6" in run.stderr:
        # gloo on a loaded 2-core machine rarely aborts a rank ("terminate called without an active
        # exception", SIGABRT; once in many runs, 2026-12-07): one more launch, which must pass
        run = subprocess.run(launch, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return one, two


def _assert_ranks_agree(two: Path, name: str) -> None:
    """Both ranks of the torchrun run end with exactly the same weights."""
    ranks = [torch.load(two / f"{name}.rank{r}.pt") for r in range(2)]
    for k, p in ranks[0].items():
        assert torch.equal(p, ranks[1][k]), f"{name}: {k} differs between the ranks"


def _assert_same_ranking(a, b, x, bias: str, atol: float) -> None:
    """The same weights, but for the output bias ``bias``, and the same scores up to it.

    Pairwise training never sees the output bias (V + c ranks as V does): its gradient is zero up
    to rounding, which Adam amplifies differently in one process and in two.
    """
    for (k, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        if k != bias:
            assert torch.allclose(p, q, atol=atol), k
    with torch.no_grad():
        sa, sb = a(x) - a.state_dict()[bias], b(x) - b.state_dict()[bias]
    assert torch.allclose(sa, sb, atol=10 * atol)


def test_data_parallel_training_matches_one_process(ddp_runs):
    """torchrun with two CPU processes (gloo): the same weights as one process on the whole batches."""
    one, two = ddp_runs
    _assert_ranks_agree(two, "dense")
    a, b = checkpoint.load(one / "dense.pt"), checkpoint.load(two / "dense.pt")
    _assert_same_ranking(a.model, b.model, torch.randn(100, 8), "net.2.bias", 1e-6)


def test_data_parallel_mixtures_train_their_routers_in_step(ddp_runs):
    """Mixtures under torchrun: the router losses (a preference router's loss, token choice's z
    loss) are part of the forward DDP wraps, so both ranks take the same steps, as one process does."""
    from comparison import moe

    one, two = ddp_runs
    x = torch.randn(200, 6, 4)
    for name in ("preference", "token_choice"):
        _assert_ranks_agree(two, name)
        init = torch.load(one / f"{name}.init.pt")
        a, b = checkpoint.load(one / f"{name}.pt"), checkpoint.load(two / f"{name}.pt")
        assert isinstance(a.model, moe.MoEScorer) and a.model.config["router"] == name
        router = "router.score.weight" if name == "preference" else "router.proj.weight"
        assert not torch.allclose(a.model.state_dict()[router], init[router])  # the router learned
        bias = f"trunk.{len(a.model.trunk) - 1}.bias"
        # looser than dense: float32 rounding in the routing and the z loss, amplified by Adam where a
        # weight's gradient is near zero, reaches ~1e-5; a step off would move a weight by ~lr = 1e-2
        _assert_same_ranking(a.model.eval(), b.model.eval(), x, bias, 1e-4)
        logged = a.meta["history"][-1]  # the scorer's extra-loss terms, as the trainer logs them
        assert logged["train_router_aux"] > 0 if name == "token_choice" else logged["train_router_preference"] > 0
