"""Outcome heads (comparison.outcomes): consistent probabilities, equity, absolute targets, training."""
import numpy as np
import pytest
import torch

from comparison import checkpoint, models, outcomes
from comparison.data import DecisionSet, make_batch
from comparison.train import TrainConfig, Trainer


def test_probabilities_are_consistent_by_construction():
    torch.manual_seed(0)
    logits = torch.randn(5000, 5) * 4
    p = outcomes.probabilities_from_logits(logits, 3)
    win, wg, wbg, lg, lbg = p.T
    assert ((p >= 0) & (p <= 1)).all()
    assert (wg <= win).all() and (wbg <= wg).all()
    assert (lg <= 1 - win + 1e-7).all() and (lbg <= lg).all()
    one = outcomes.probabilities_from_logits(torch.randn(100, 1), 1)  # plain win / loss
    assert one.shape == (100, 1)


def test_equity_is_gnubgs_cubeless_equity():
    from games.backgammon.rules.scoring import cubeless_equity  # the game's own rule, written apart

    rng = np.random.default_rng(1)
    p = outcomes.probabilities_from_logits(torch.tensor(rng.normal(size=(300, 5)) * 3), 3)
    ours = outcomes.equity_from_probabilities(p, (1, 2, 3))
    want = [cubeless_equity(row) for row in p.tolist()]
    np.testing.assert_allclose(ours.numpy(), want, atol=1e-12)
    # a sure backgammon win is worth 3, a sure single loss -1
    sure = torch.tensor([[1.0, 1, 1, 0, 0], [0.0, 0, 0, 0, 0]])
    assert outcomes.equity_from_probabilities(sure, (1, 2, 3)).tolist() == [3.0, -1.0]


def test_scores_rank_as_equity_and_the_config_rebuilds_the_model(tmp_path):
    torch.manual_seed(2)
    net = outcomes.build_outcome_scorer(7, hidden=(16,)).eval()
    x = torch.randn(50, 7)
    with torch.no_grad():
        s, eq = net(x), net.equity(x)
    assert torch.equal(torch.argsort(s), torch.argsort(eq))
    checkpoint.save(tmp_path / "o.pt", net, meta={"encoding": "none"})
    back = checkpoint.load(tmp_path / "o.pt").model.eval()
    assert isinstance(back, outcomes.OutcomeScorer)
    with torch.no_grad():
        torch.testing.assert_close(back(x), s)
        torch.testing.assert_close(back.probabilities(x), net.probabilities(x))


def test_decision_sets_carry_targets(tmp_path):
    items = np.arange(12, dtype=np.float32).reshape(6, 2)
    targets = np.full((6, 5), np.nan, np.float32)
    targets[[0, 4]] = 0.25
    data = DecisionSet(items, [0, 2, 4, 6], [0, 1, 0], {"file": np.arange(3)}, targets=targets)
    sub = data.subset([2, 0])
    np.testing.assert_array_equal(sub.targets[:2], targets[4:6])
    data.save(tmp_path / "d.npz")
    np.testing.assert_array_equal(DecisionSet.load(tmp_path / "d.npz").targets, targets)
    batch = make_batch(data, np.array([2, 0]), None)
    assert batch.targets.shape == (4, 5) and not torch.isnan(batch.targets[0]).any()
    with pytest.raises(ValueError):
        DecisionSet(items, [0, 2, 4, 6], [0, 1, 0], targets=np.zeros((5, 5)))


def synthetic(n_decisions: int, seed: int):
    """Decisions whose candidates have known outcome probabilities; the expert picks the best equity."""
    rng = np.random.default_rng(seed)
    w_true = rng.normal(size=(6, 5)).astype(np.float32)
    sizes = rng.integers(2, 6, size=n_decisions)
    x = rng.normal(size=(int(sizes.sum()), 6)).astype(np.float32)
    probs = outcomes.probabilities_from_logits(torch.from_numpy(x @ w_true), 3)
    eq = outcomes.equity_from_probabilities(probs, (1, 2, 3)).numpy()
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    chosen = np.array([int(np.argmax(eq[a:b])) for a, b in zip(offsets[:-1], offsets[1:])])
    return x, probs.numpy(), offsets, chosen


def test_absolute_targets_calibrate_what_choices_alone_leave_open():
    """Choices fix V only up to a constant per decision; the targets pin the probabilities down."""
    x, probs, offsets, chosen = synthetic(1500, seed=3)
    targets = probs.copy()
    targets[::3] = np.nan  # some candidates unlabelled
    train = DecisionSet(x, offsets, chosen, {"file": np.arange(len(chosen))}, targets=targets)
    vx, vprobs, voffsets, vchosen = synthetic(300, seed=3)  # the same true weights, other positions
    valid = DecisionSet(vx, voffsets, vchosen, {"file": np.arange(len(vchosen))})
    errors, agreement = {}, {}
    for weight in (0.0, 1.0):
        torch.manual_seed(0)
        net = outcomes.build_outcome_scorer(6, hidden=(32,), target_weight=weight)
        cfg = TrainConfig(epochs=40, lr=1e-2, batch_size=64, schedule="constant", patience=40, threads=1)
        trainer = Trainer(net, train, valid, None, cfg, progress=False, log=lambda *a, **k: None)
        trainer.fit()
        with torch.no_grad():
            errors[weight] = (net.eval().probabilities(torch.from_numpy(vx)) - torch.from_numpy(vprobs)).abs().mean()
        agreement[weight] = trainer.history[-1]["valid_top1"]
        assert ("train_target_bce" in trainer.history[-1]) == (weight > 0)
    assert errors[1.0] < 0.04 and errors[1.0] < 0.4 * errors[0.0]
    assert min(agreement.values()) > 0.8  # both rank the plays well: the comparison loss still trains V


def test_train_command_builds_an_outcome_model(tmp_path):
    from comparison import cli

    out = tmp_path / "o.pt"
    assert cli.main(["train", "--model", "outcome", "--encoding", "tesauro198", "--hidden", "8", "--epochs", "1",
                     "--max-steps", "3", "--no-progress", "--plot", "none", "--out", str(out)]) == 0
    model = checkpoint.load(out).model
    assert isinstance(model, outcomes.OutcomeScorer) and model.levels == (1.0, 2.0, 3.0)


def test_agent_evaluates_positions_from_the_player_on_roll():
    import games.backgammon as bg
    from games.backgammon.players.agent import Agent

    torch.manual_seed(4)
    agent = Agent(outcomes.build_outcome_scorer(198, hidden=(16,)), "tesauro198")
    boards, dice = bg.random_positions(200, seed=5)
    for b, (d1, d2) in zip(boards[:40], dice[:40]):
        ev = agent.evaluate(b)
        assert 0 <= ev.win_backgammon <= ev.win_gammon <= ev.win <= 1
        assert 0 <= ev.lose_backgammon <= ev.lose_gammon <= 1 - ev.win + 1e-6
        assert -3 <= ev.equity <= 3
        # a play's score is the mover's equity after it: minus the evaluation of the opponent on roll
        ranked = agent.rank(b, int(d1), int(d2))
        for play, score in ranked[:3]:
            assert score == pytest.approx(-agent.evaluate(bg.swap_sides(play.board)).equity, abs=1e-5)
        assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    dense = Agent(models.build_scorer("mlp", d_in=198, hidden=(8,)), "tesauro198")
    with pytest.raises(ValueError, match="no outcome heads"):
        dense.evaluate(bg.start_board())


def test_calibration_errors():
    from games.backgammon.commands.accuracy import calibration

    targets = np.array([[0.5, 0.1, 0.0, 0.2, 0.0], [0.9, 0.3, 0.1, 0.0, 0.0]])
    probs = targets + np.array([[0.1, 0.0, 0.0, 0.02, 0.0], [-0.1, 0.04, 0.0, 0.0, 0.0]])
    c = calibration(probs, targets)
    assert c["candidates"] == 2 and c["mae_win"] == pytest.approx(0.1)
    assert c["mae_gammon"] == pytest.approx((0.02 + 0.04) / 4)
    # equity errors: +0.2 - 0.02 = 0.18 and -0.2 + 0.04 = -0.16
    assert c["mae_equity"] == pytest.approx((0.18 + 0.16) / 2)


def test_hint_shows_equity_and_chances_for_an_outcome_model():
    from games.backgammon.players.agent import Agent
    from games.backgammon.ui.terminal import Session

    torch.manual_seed(6)
    agent = Agent(outcomes.build_outcome_scorer(198, hidden=(16,)), "tesauro198", name="net")
    s = Session(agent, "net", seed=3)
    s.start()
    text = s.handle("hint 3")
    assert "equity, win and gammon chances" in text
    assert sum("win " in line and "gammon " in line for line in text.splitlines()[1:]) == 3
    ranked = agent.rank(s.pos, *s.dice)
    probs = agent.result_probabilities(np.stack([ranked[0][0].board]))
    assert f"{100 * probs[0, 0]:5.1f}%" in text.splitlines()[1]
