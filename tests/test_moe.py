"""Mixtures of expert scorers: routing against plain-Python references, batch independence,
exact upcycling, router statistics and router preferences. Tiny models; CPU."""
import itertools
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from comparison import losses, models, moe
from comparison.data import Batch
from comparison.moe.routers import capacity_mask

T, D, E, H = 7, 5, 4, 6  # tokens, token features, experts, hidden
PHASE = dict(phase_token=2, phase_features=[1, 2, 3])


def router_kwargs(name):
    """Options that make each router do something non-trivial at these sizes."""
    return {
        "phase": PHASE,
        "token_choice": dict(top_k=2, capacity_factor=1.0),
        "expert_choice": dict(capacity_factor=1.0),
        "soft": dict(slots_per_expert=2),
        "usmoe": dict(top_k=1.5, alpha=0.5),
        "gate": dict(top_k=2),
        "preference": {},
        "sinkhorn_token_choice": dict(top_k=2, capacity_factor=1.0, n_iters=5),
        "sinkhorn_expert_choice": dict(capacity_factor=1.0, n_iters=5),
        "sparsity_constrained_expert_choice": dict(capacity_factor=1.5, n_iters=10),
    }[name]


def n_experts(name):
    return len(PHASE["phase_features"]) if name == "phase" else E


def tokens(n, seed, dtype=torch.float32):
    """Random tokens with a one-hot phase at PHASE's place (what the phase router reads)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, T, D, generator=g, dtype=dtype)
    phase = torch.randint(0, 3, (n,), generator=g)
    x[:, :, 1:4] = F.one_hot(phase, 3).to(dtype).unsqueeze(1)
    return x


def make(name, seed=0, hidden=(H,), **extra):
    torch.manual_seed(seed)
    return moe.build_scorer(name, n_tokens=T, d_token=D, n_experts=n_experts(name), hidden=hidden,
                            **{**router_kwargs(name), **extra})


class TinyMLP(nn.Module):
    """The dense scorer upcycling expects: .net = [Linear(T*D, h), act, (Linear, act)*, Linear(., 1)]."""

    def __init__(self, hidden=(H,), act=nn.Tanh, dropout=0.0):
        super().__init__()
        layers, width = [], T * D
        for h in hidden:
            layers += [nn.Linear(width, h), act()] + ([nn.Dropout(dropout)] if dropout else [])
            width = h
        self.net = nn.Sequential(*layers, nn.Linear(width, 1))

    def forward(self, x):
        return self.net(x.flatten(1)).squeeze(-1)


ALL = list(moe.ROUTERS)


# ------------------------------------------------------------------ the scorer


def ref_first_layer(net, x, combine):
    """h = b + sum_t sum_e c[t, e] W_e[t] x_t with explicit loops over tokens and experts."""
    W = net.expert_weight.detach().view(net.n_experts, T, D, -1)
    h = net.bias.detach().expand(x.shape[0], -1).clone()
    for t in range(T):
        for e in range(net.n_experts):
            h += combine[:, t, e, None] * (x[:, t] @ W[e, t])
    return h


@pytest.mark.parametrize("name", ALL)
def test_scorer_matches_loop_reference(name):
    net = make(name, hidden=(H, 3)).eval()
    x = tokens(9, 1)
    routing = net.router(x)
    assert routing.combine.shape == (9, T, net.n_experts)
    h = ref_first_layer(net, x, routing.combine.detach())
    torch.testing.assert_close(net.first_layer(x, routing.combine).detach(), h)
    torch.testing.assert_close(net(x).detach(), net.trunk(h).squeeze(-1).detach())
    # each expert alone = every token's weight on that expert
    alone = net.expert_scores(x).detach()
    for e in range(net.n_experts):
        onehot = torch.zeros(9, T, net.n_experts)
        onehot[:, :, e] = 1
        torch.testing.assert_close(alone[:, e], net.trunk(ref_first_layer(net, x, onehot)).squeeze(-1).detach())


@pytest.mark.parametrize("name", ALL)
def test_combine_weights(name):
    net = make(name)
    x = tokens(16, 2)
    for mode in (net.train, net.eval):
        mode()
        c = net.router(x).combine.detach()
        assert (c >= 0).all()
        if name == "soft":  # Soft MoE conserves the weight of a position, not of each token
            torch.testing.assert_close(c.sum((1, 2)), torch.full((16,), float(T)))
        else:
            torch.testing.assert_close(c.sum(-1), torch.ones(16, T))


@pytest.mark.parametrize("name", ALL)
def test_config_rebuilds_the_same_scorer(name):
    net = make(name, hidden=[H, 3], activation="tanh").eval()
    cfg = json.loads(json.dumps(net.config))
    assert cfg["kind"] == "moe" and cfg["router"] == name
    again = moe.from_config(cfg).eval()
    again.load_state_dict(net.state_dict())
    x = tokens(11, 3)
    torch.testing.assert_close(again(x), net(x))
    assert again.config == net.config


def assert_independent_of_batch_mates(net, x, others):
    """V(a) is a function of a alone: alone, in its batch shuffled, or among the batch-mates ``others``,
    on the sparse path and on the dense reference path (float64, to 1e-12)."""
    k = min(5, len(x))
    for sparse in (True, False):
        net.sparse = sparse
        with torch.no_grad():
            together = net(x)
            alone = torch.cat([net(x[i : i + 1]) for i in range(len(x))])
            perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
            shuffled = net(x[perm])
            mixed = net(torch.cat([x[:k], others]))[:k]
        torch.testing.assert_close(alone, together, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(shuffled, together[perm], rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(mixed, together[:k], rtol=1e-12, atol=1e-12)
    net.sparse = True


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_score_does_not_depend_on_batch_mates(name, mode):
    net = make(name).double()
    getattr(net, mode)()
    assert_independent_of_batch_mates(net, tokens(24, 4, torch.float64), tokens(40, 5, torch.float64))


def test_routing_noise_only_while_training():
    net = make("token_choice", noise_std=1.0)
    x = tokens(8, 6)
    net.eval()
    torch.testing.assert_close(net(x), net(x))
    torch.testing.assert_close(torch.cat([net(x[i : i + 1]) for i in range(8)]), net(x))
    net.train()
    assert not torch.equal(net.router(x).combine, net.router(x).combine)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown router"):
        moe.build_scorer("nope", n_tokens=T, d_token=D)
    with pytest.raises(ValueError, match="phase_token and phase_features"):
        moe.build_scorer("phase", n_tokens=T, d_token=D, n_experts=3)
    with pytest.raises(ValueError, match="need n_experts=3"):
        moe.build_scorer("phase", n_tokens=T, d_token=D, n_experts=4, **PHASE)
    with pytest.raises(ValueError, match="top_k"):
        moe.build_scorer("token_choice", n_tokens=T, d_token=D, n_experts=4, top_k=5)
    with pytest.raises(ValueError, match="soft router: .*capacity_factor"):
        moe.build_scorer("soft", n_tokens=T, d_token=D, capacity_factor=2.0)
    with pytest.raises(ValueError, match="unpicked"):
        moe.build_scorer("expert_choice", n_tokens=T, d_token=D, unpicked="drop")
    with pytest.raises(ValueError, match="expected tokens"):
        make("soft")(torch.zeros(3, T + 1, D))
    with pytest.raises(ValueError, match="kind 'mlp'"):
        moe.from_config({"kind": "mlp", "d_in": 3})


# ------------------------------------------------------------------ routers against references


def ref_token_choice(p, k, capacity):
    """Batch priority routing written out: rounds of r-th choices, tokens by descending top-1 prob."""
    B, T_, E_ = p.shape
    picked = np.zeros((B, T_, E_), bool)
    for b in range(B):
        prefs = [list(np.argsort(-p[b, t], kind="stable")[:k]) for t in range(T_)]
        order = sorted(range(T_), key=lambda t: -p[b, t].max())
        used = [0] * E_
        for r in range(k):
            for t in order:
                e = prefs[t][r]
                if capacity is None or used[e] < capacity:
                    picked[b, t, e] = True
                    used[e] += 1
    return picked


@pytest.mark.parametrize("k,cf", [(1, 1.0), (2, 1.0), (2, 0.5), (3, None), (1, 2.0)])
def test_token_choice_matches_reference(k, cf):
    net = make("token_choice", top_k=k, capacity_factor=cf).eval()
    x = tokens(30, 7)
    routing = net.router(x)
    p = net.router.proj(x).softmax(-1).detach()
    want = ref_token_choice(p.numpy(), k, net.router.capacity)
    assert routing.dropped == 30 * T * k - want.sum()
    if cf is not None:
        assert net.router.capacity == math.ceil(cf * k * T / E)
        assert want.sum(1).max() <= net.router.capacity
    # the weights: picked experts their probability, the rest spread evenly
    rest = 1 - (p * torch.from_numpy(want)).sum(-1, keepdim=True)
    torch.testing.assert_close(routing.combine.detach(), p * torch.from_numpy(want) + rest / E)


def test_capacity_mask_serves_priority_first():
    # one position, four tokens all asking expert 0 (capacity 2): the two most confident get it
    top_e = torch.zeros(1, 4, 1, dtype=torch.long)
    priority = torch.tensor([[0.3, 0.9, 0.1, 0.5]])
    picked = capacity_mask(top_e, priority, n_experts=2, capacity=2)
    assert picked[0, :, 0].tolist() == [False, True, False, True]
    assert not picked[0, :, 1].any()


@pytest.mark.parametrize("unpicked", ["mean", "renormalize"])
def test_expert_choice_picks_each_experts_top_tokens(unpicked):
    net = make("expert_choice", capacity_factor=1.5, unpicked=unpicked).eval()
    x = tokens(20, 8)
    routing = net.router(x)
    p = net.router.proj(x).softmax(-1).detach()
    c = net.router.capacity
    assert c == math.ceil(1.5 * T / E)
    want = np.zeros((20, T, E), bool)
    for b, e in itertools.product(range(20), range(E)):
        want[b, np.argsort(-p[b, :, e].numpy(), kind="stable")[:c], e] = True
    mask = torch.from_numpy(want)
    on = (p * mask).sum(-1, keepdim=True)
    if unpicked == "mean":
        expect = p * mask + (1 - on) / E
    else:
        expect = torch.where(mask.any(-1, keepdim=True), p * mask / on.clamp_min(1e-30), torch.full_like(p, 1 / E))
    torch.testing.assert_close(routing.combine.detach(), expect)
    assert routing.load.tolist() == [20.0 * c] * E  # balanced by construction
    assert routing.dropped == (~mask.any(-1)).sum()


def test_usmoe_keeps_the_best_pairs_of_the_unified_score():
    net = make("usmoe", top_k=1.5, alpha=0.3).eval()
    x = tokens(20, 9)
    logits = net.router.proj(x).detach()
    score = 0.3 * logits.softmax(1) + 0.7 * logits.softmax(-1)
    n = round(1.5 * T)
    want = np.zeros((20, T * E), bool)
    for b in range(20):
        want[b, np.argsort(-score[b].reshape(-1).numpy(), kind="stable")[:n]] = True
    mask = torch.from_numpy(want).view(20, T, E)
    p = logits.softmax(-1)
    picked = net.router(x).combine.detach()
    torch.testing.assert_close(picked, p * mask + (1 - (p * mask).sum(-1, keepdim=True)) / E)
    assert mask.sum((1, 2)).tolist() == [n] * 20


def test_soft_moe_equals_explicit_slots():
    """Soft MoE written out: slots mix tokens, experts read slots, tokens mix slots, the scorer sums."""
    net = make("soft", slots_per_expert=3, scale_init=2.5).eval()
    r = net.router
    x = tokens(6, 10)
    S = 3
    logits = r.scale * torch.einsum("btd,ds->bts", F.normalize(x, dim=-1), F.normalize(r.phi, dim=0))
    dispatch, combine = logits.softmax(1), logits.softmax(2)  # over tokens, over slots
    W = net.expert_weight.view(E, T, D, H)
    h = net.bias.expand(6, H).clone()
    for b in range(6):
        slot_out = []
        for s in range(E * S):  # slot s belongs to expert s // S
            slot_out.append(sum(dispatch[b, t, s] * (x[b, t] @ W[s // S, t]) for t in range(T)))
        for t in range(T):  # output token t, then the scorer's sum over tokens
            h[b] += sum(combine[b, t, s] * slot_out[s] for s in range(E * S))
    torch.testing.assert_close(net.first_layer(x, r(x).combine), h)


def test_phase_router_routes_by_the_games_one_hot():
    net = make("phase").eval()
    x = tokens(30, 11)
    phase = x[:, PHASE["phase_token"], 1:4].argmax(-1)
    torch.testing.assert_close(net(x), net.expert_scores(x)[torch.arange(30), phase])
    # the hard path is the general formula with one-hot weights
    routing = net.router(x)
    torch.testing.assert_close(net._first_layer_hard(x, routing.hard_expert), net.first_layer(x, routing.combine))
    stats = net.router_stats()
    np.testing.assert_allclose(stats["load"], np.bincount(phase.numpy(), minlength=3) / 30)
    assert "dropped" not in stats


# ------------------------------------------------------------------ auxiliary losses and statistics


def test_token_choice_aux_loss_is_balance_plus_z():
    net = make("token_choice", top_k=1, capacity_factor=None, balance_coef=0.1, z_coef=0.01).train()
    x = tokens(25, 12)
    net(x)
    logits = net.router.proj(x).detach()
    p = logits.softmax(-1)
    f = F.one_hot(p.argmax(-1), E).float().mean((0, 1))
    balance = E * (f * p.mean((0, 1))).sum()
    z = (torch.logsumexp(logits, -1) ** 2).mean()
    torch.testing.assert_close(net.aux_loss.detach(), 0.1 * balance + 0.01 * z)
    assert net.aux_loss.requires_grad
    net.eval()
    net(x)
    assert float(net.aux_loss) == 0.0


@pytest.mark.parametrize("name", ["soft", "phase", "preference"])
def test_routers_without_aux_losses(name):
    net = make(name).train()
    net(tokens(5, 13))
    assert net.aux_loss.shape == () and float(net.aux_loss) == 0.0


@pytest.mark.parametrize("name", ALL)
def test_router_stats_accumulate_then_reset(name):
    net = make(name).train()
    for seed in range(3):
        net(tokens(10, 20 + seed))
    stats = net.router_stats()
    assert stats["positions"] == 30
    assert len(stats["load"]) == net.n_experts and math.isclose(sum(stats["load"]), 1.0)
    assert 0 <= stats["load_entropy"] <= stats["load_entropy_max"] + 1e-12
    assert all(isinstance(v, (float, list)) for v in stats.values())
    json.dumps(stats)
    assert net.router_stats()["positions"] == 0  # reset


def test_dropped_fraction_follows_capacity():
    x = tokens(50, 14)
    tight = make("token_choice", top_k=2, capacity_factor=0.5)
    tight(x)
    assert tight.router_stats()["dropped"] > 0.3  # half the requests fit at most
    loose = make("token_choice", top_k=2, capacity_factor=None)
    loose(x)
    assert loose.router_stats()["dropped"] == 0.0
    ec = make("expert_choice", capacity_factor=1.0)
    ec(x)
    stats = ec.router_stats()
    assert stats["load"] == [0.25] * 4 and 0 < stats["dropped"] < 1


# ------------------------------------------------------------------ upcycling


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("hidden,act", [((H,), nn.Tanh), ((H, 5), nn.ReLU)])
def test_upcycled_scores_exactly_as_dense_then_trains(name, hidden, act):
    torch.manual_seed(1)
    dense = TinyMLP(hidden, act)
    x = tokens(32, 15)
    up = moe.upcycle(dense, router=name, n_experts=n_experts(name), n_tokens=T, d_token=D, **router_kwargs(name))
    assert up.hidden == list(hidden) and up.training
    for mode in ("train", "eval"):
        getattr(up, mode)()
        dense.train(mode == "train")
        torch.testing.assert_close(up(x), dense(x), rtol=1e-5, atol=1e-6)
    # then it trains: a pairwise task on adjacent positions, the loss goes down
    up.train()
    opt = torch.optim.Adam(up.parameters(), lr=0.02)
    target = torch.randn(T * D)
    y = x.flatten(1) @ target
    a, b = slice(0, 32, 2), slice(1, 32, 2)

    def loss():
        s = up(x)
        return F.softplus(-(s[a] - s[b]) * torch.sign(y[a] - y[b])).mean() + up.aux_loss

    first = float(loss().detach())
    for _ in range(30):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert float(loss().detach()) < first
    if name not in ("phase", "preference"):  # routers the main loss trains move off their start
        before = moe.upcycle(dense, router=name, n_experts=E, n_tokens=T, d_token=D, **router_kwargs(name))
        assert (before.expert_weight - up.expert_weight).abs().amax((1, 2)).min() > 0  # every expert moved
        assert not torch.allclose(up.expert_weight[0], up.expert_weight[1])  # and they differ now
    if name == "soft":
        assert up.router.scale.item() != 0.0


def test_upcycle_reads_the_lead_shapes():
    dense = TinyMLP((H,), nn.Sigmoid, dropout=0.1).eval()
    dense.config = {"n_tokens": T, "d_token": D}  # taken from the dense config when given
    up = moe.upcycle(dense, router="expert_choice", n_experts=3).eval()
    x = tokens(8, 16)
    torch.testing.assert_close(up(x), dense(x))
    assert up.activation == "sigmoid"
    with pytest.raises(ValueError, match="not n_tokens"):
        moe.upcycle(dense, router="soft", n_tokens=T, d_token=D + 1)
    with pytest.raises(ValueError, match="nn.Sequential"):
        moe.upcycle(nn.Linear(3, 1), router="soft", n_tokens=T, d_token=D)
    with pytest.raises(ValueError, match="alternate"):
        moe.upcycle(nn.Sequential(nn.Linear(T * D, 3), nn.Linear(3, 1)), n_tokens=T, d_token=D)


def test_upcycle_the_project_dense_scorer():
    dense = models.build_scorer("mlp", d_in=T * D, hidden=(H,)).eval()
    x = tokens(8, 17)
    for name in ALL:
        up = moe.upcycle(dense, router=name, n_experts=n_experts(name), n_tokens=T, d_token=D,
                         **router_kwargs(name)).eval()
        torch.testing.assert_close(up(x), dense(x), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ router preferences


def decisions(sizes, seed):
    """A batch of decisions with these numbers of candidates: group, offsets, chosen."""
    g = torch.Generator().manual_seed(seed)
    offsets = torch.tensor([0] + list(itertools.accumulate(sizes)))
    group = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    chosen = torch.stack([offsets[i] + torch.randint(0, n, (1,), generator=g)[0] for i, n in enumerate(sizes)])
    return group, offsets, chosen


def test_expert_pair_losses_match_reference():
    sizes = [3, 1, 5, 2, 4]
    group, offsets, chosen = decisions(sizes, 0)
    scores = torch.randn(sum(sizes), 3)
    got = moe.expert_pair_losses(scores, group, offsets, chosen)
    assert got.shape == (5, 3)
    for g, e in itertools.product(range(5), range(3)):
        c = int(chosen[g])
        others = [m for m in range(int(offsets[g]), int(offsets[g + 1])) if m != c]
        want = np.mean([math.log1p(math.exp(float(scores[m, e] - scores[c, e]))) for m in others]) if others else 0.0
        assert math.isclose(float(got[g, e]), want, rel_tol=1e-5, abs_tol=1e-7)
    for e in range(3):  # the trainer's loss, expert by expert (it averages over all decisions)
        assert math.isclose(float(losses.pairwise(scores[:, e], group, chosen)), float(got[:, e].mean()),
                            rel_tol=1e-5)


def test_preference_pairs_and_loss():
    L = torch.tensor([[0.1, 0.5, 0.5], [0.3, 0.3, 0.3], [0.9, 0.2, 0.4]])
    g, i, j = moe.preference_pairs(L)
    assert sorted(zip(g.tolist(), i.tolist(), j.tolist())) == [(0, 0, 1), (0, 0, 2), (2, 1, 0), (2, 1, 2), (2, 2, 0)]
    assert len(moe.preference_pairs(L, margin=0.25)[0]) == 4  # gaps 0.4, 0.4, 0.7, 0.5 kept; 0.2 not
    r = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.5]], requires_grad=True)
    loss = moe.router_preference_loss(r, L)
    sp = lambda d: math.log1p(math.exp(-d))  # noqa: E731
    want = np.mean([(sp(2) + sp(2)) / 2, (sp(1) + sp(0.5) + sp(0.5)) / 3])  # decision 1 has no pair
    assert math.isclose(float(loss.detach()), want, rel_tol=1e-6)
    loss.backward()
    assert r.grad[1].abs().sum() == 0
    # no pairs at all: zero, still differentiable
    z = moe.router_preference_loss(r, torch.zeros(3, 3))
    assert z.item() == 0.0 and z.requires_grad


def test_router_learns_which_expert_is_better_where():
    """Two kinds of decision: expert 0 ranks the human's play first on kind A, expert 1 on kind B.

    From the experts' own pairwise losses alone, a router trained by comparison must come to
    prefer expert 0 on kind-A positions and expert 1 on kind-B positions (expert 2 is noise).
    """
    gen = torch.Generator().manual_seed(3)
    G = 300
    sizes = torch.randint(2, 7, (G,), generator=gen).tolist()
    group, offsets, chosen = decisions(sizes, 1)
    M = sum(sizes)
    kind = torch.randint(0, 2, (G,), generator=gen)  # kind of each decision
    x = torch.randn(M, 4, generator=gen)  # a position's features: a kind flag in feature 0, noise elsewhere
    x[:, 0] = kind[group].float() * 2 - 1
    is_chosen = torch.zeros(M, dtype=torch.bool)
    is_chosen[chosen] = True
    good = torch.randn(M, generator=gen) * 0.3 + 2.0 * is_chosen  # a scorer that finds the human's play
    noise = lambda: torch.randn(M, generator=gen)  # noqa: E731
    on_a = (kind[group] == 0)
    scores = torch.stack([torch.where(on_a, good, noise()), torch.where(on_a, noise(), good), noise()], 1)
    losses = moe.expert_pair_losses(scores, group, offsets, chosen)
    assert (losses[kind == 0, 0] < losses[kind == 0, 1]).float().mean() > 0.9

    router = nn.Linear(4, 3)  # a router: a scorer over the experts
    opt = torch.optim.Adam(router.parameters(), lr=0.05)
    for _ in range(150):
        opt.zero_grad()
        moe.router_preference_loss(router(x), losses, group).backward()
        opt.step()
    with torch.no_grad():
        first = router(x).argmax(1)
    assert (first[on_a] == 0).float().mean() > 0.95
    assert (first[~on_a] == 1).float().mean() > 0.95
    assert moe.best_expert_agreement(router(x).detach(), losses, group) > 0.8


def test_preference_loss_trains_the_router_only():
    net = make("preference").train()
    sizes = [4, 3, 5, 2]
    group, offsets, chosen = decisions(sizes, 2)
    x = tokens(sum(sizes), 18)
    loss = moe.preference_loss(net, x, group, offsets, chosen)
    assert loss.item() > 0
    loss.backward()
    assert net.router.score.weight.grad.abs().sum() > 0
    assert net.expert_weight.grad is None
    # the main loss, through the argmax routing, trains the experts and not the router
    net.zero_grad(set_to_none=True)
    net(x).sum().backward()
    assert net.router.score.weight.grad is None and net.expert_weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="per position"):
        moe.preference_loss(make("soft"), x, group, offsets, chosen)


# ------------------------------------------------------------------ what the trainer asks of a scorer


def batch_of(sizes, seed):
    group, offsets, chosen = decisions(sizes, seed)
    return Batch(tokens(sum(sizes), seed), group, offsets, chosen)


@pytest.mark.parametrize("name", ALL)
def test_extra_loss_is_the_routers_losses(name):
    """A mixture's extra loss: its router's auxiliary losses of the last forward, plus, for a
    preference router, the router-preference loss of the batch's decisions."""
    net = make(name).train()
    batch = batch_of([4, 3, 5, 2], 19)
    net(batch.x)
    extra, logs = net.extra_loss(batch)
    want = net.aux_loss
    if name == "preference":
        want = want + moe.preference_loss(net, batch.x, batch.group, batch.offsets, batch.chosen)
        assert logs["router_preference"] > 0
    torch.testing.assert_close(extra, want)
    assert logs["router_aux"] == float(net.aux_loss.detach())
    if name not in ("soft", "phase", "preference"):  # the routers with load-balance or z losses
        assert float(extra.detach()) > 0 and extra.requires_grad
    stats = net.epoch_stats()
    assert stats["router"]["positions"] == len(batch.x) and net.epoch_stats()["router"]["positions"] == 0


def test_dense_scorer_has_no_extra_loss():
    dense = models.build_scorer("mlp", d_in=T * D, hidden=(H,))
    extra, logs = dense.extra_loss(batch_of([3, 2], 20))
    assert extra.shape == () and float(extra) == 0.0 and logs == {}
    assert dense.epoch_stats() == {}


def test_one_table_of_activations():
    assert moe.ACTIVATIONS is models.ACTIVATIONS
    for act in models.ACTIVATIONS:  # a dense scorer of any activation upcycles to the same scores
        torch.manual_seed(2)
        dense = models.build_scorer("mlp", d_in=T * D, hidden=(H,), activation=act).eval()
        up = moe.upcycle(dense, router="token_choice", n_experts=E, n_tokens=T, d_token=D).eval()
        assert up.activation == act
        x = tokens(6, 21)
        torch.testing.assert_close(up(x), dense(x), rtol=1e-5, atol=1e-6)
