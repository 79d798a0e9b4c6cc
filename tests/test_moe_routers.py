"""The routers of "Routers in Vision MoE" (Liu et al. 2024) added to the mixtures: Sinkhorn token
choice, Sinkhorn expert choice, sparsity-constrained expert choice; and USMoE applied without
training to a trained mixture (moe.with_router). Tiny models; CPU; a few seconds."""
import numpy as np
import pytest
import torch

from comparison import losses, models, moe
from comparison.moe.routers import capacity_mask, top_mask
from test_moe import assert_independent_of_batch_mates

T, D, E, H = 7, 5, 4, 6  # tokens, token features, experts, hidden
NEW = {
    "sinkhorn_token_choice": dict(top_k=2, capacity_factor=1.0, n_iters=5),
    "sinkhorn_expert_choice": dict(capacity_factor=1.0, n_iters=5),
    "sparsity_constrained_expert_choice": dict(capacity_factor=1.5, n_iters=10),
}


def tokens(n, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, T, D, generator=g, dtype=dtype)


def make(name, seed=0, hidden=(H,), **extra):
    torch.manual_seed(seed)
    return moe.build_scorer(name, n_tokens=T, d_token=D, n_experts=E, hidden=hidden, **{**NEW.get(name, {}), **extra})


def test_registered_under_their_names():
    for name in NEW:
        assert moe.ROUTERS[name].name == name
    assert len(set(moe.ROUTERS.values())) == len(moe.ROUTERS)  # one class per router


# ------------------------------------------------------------------ what every router must do


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_score_does_not_depend_on_batch_mates(name, mode):
    net = make(name).double()
    getattr(net, mode)()
    assert_independent_of_batch_mates(net, tokens(24, 1, torch.float64), tokens(40, 2, torch.float64))


@pytest.mark.parametrize("name", NEW)
def test_upcycling_is_exact(name):
    dense = models.build_scorer("mlp", d_in=T * D, hidden=(H, 3), activation="tanh")
    x = tokens(16, 3)
    for mode in ("train", "eval"):
        dense.train(mode == "train")
        up = moe.upcycle(dense, router=name, n_experts=E, n_tokens=T, d_token=D, **NEW[name])
        for sparse in (True, False):
            up.sparse = sparse
            torch.testing.assert_close(up(x), dense(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NEW)
def test_sparse_path_equals_dense_path(name):
    net = make(name, hidden=(H, 3)).train()
    with torch.no_grad():  # experts apart, so that the average differs from each expert
        net.expert_weight.add_(torch.randn_like(net.expert_weight) * 0.3)
    x = tokens(33, 4)
    out = {}
    for sparse in (True, False):
        net.sparse = sparse
        net.zero_grad(set_to_none=True)
        s = net(x)
        (s * torch.linspace(-1, 2, 33)).sum().add(net.aux_loss).backward()
        out[sparse] = s.detach(), {k: p.grad.clone() for k, p in net.named_parameters()}
    torch.testing.assert_close(out[True][0], out[False][0], rtol=1e-5, atol=1e-5)
    for k in out[False][1]:
        torch.testing.assert_close(out[True][1][k], out[False][1][k], rtol=1e-5, atol=1e-5, msg=k)


@pytest.mark.parametrize("name", NEW)
def test_gates_plus_rest_is_combine_and_weights_sum_to_one(name):
    net = make(name)
    x = tokens(20, 5)
    for mode in (net.train, net.eval):
        mode()
        r = net.router(x)
        torch.testing.assert_close(r.gates + r.rest.unsqueeze(-1) / E, r.combine)
        assert not r.gates[~r.picked].any() and (r.combine >= 0).all()
        torch.testing.assert_close(r.combine.sum(-1), torch.ones(20, T))
        p = net.router.proj(x).softmax(-1)
        torch.testing.assert_close(r.gates, p * r.picked)  # a picked pair weighs its softmax probability
    net.train()
    net(x)
    assert net.aux_loss.requires_grad and float(net.aux_loss.detach()) > 0  # z loss


# ------------------------------------------------------------------ Sinkhorn


def test_sinkhorn_marginals_become_uniform():
    logits = 3 * torch.randn(6, T, E, dtype=torch.float64)
    errors = []
    for n in (0, 2, 10, 60):
        P = moe.sinkhorn(logits, n)
        torch.testing.assert_close(P.sum(-1), torch.ones(6, T, dtype=torch.float64))  # rows: exact
        errors.append(float((P.sum(1) - T / E).abs().max()))  # columns: toward T / E
    assert errors[0] > 0.5 and errors == sorted(errors, reverse=True) and errors[-1] < 1e-6
    torch.testing.assert_close(moe.sinkhorn(logits, 0), logits.softmax(-1))
    # per position: a position's matrix is the same alone
    torch.testing.assert_close(moe.sinkhorn(logits[2:3], 10), moe.sinkhorn(logits, 10)[2:3], rtol=0, atol=1e-14)


def test_sinkhorn_routers_without_iterations_are_the_softmax_routers():
    x = tokens(30, 6)
    for name, base in (("sinkhorn_token_choice", "token_choice"), ("sinkhorn_expert_choice", "expert_choice")):
        opts = {k: v for k, v in NEW[name].items() if k != "n_iters"}
        a, b = make(name, n_iters=0).eval(), make(base, **opts).eval()
        b.router.proj.load_state_dict(a.router.proj.state_dict())
        torch.testing.assert_close(a.router(x).combine, b.router(x).combine, rtol=0, atol=0)


@pytest.mark.parametrize("k,cf", [(1, None), (2, None), (2, 1.0)])
def test_sinkhorn_token_choice_picks_by_the_balanced_matrix(k, cf):
    net = make("sinkhorn_token_choice", top_k=k, capacity_factor=cf, n_iters=7).eval()
    x = tokens(25, 7)
    logits = net.router.proj(x).detach()
    bal = moe.sinkhorn(logits, 7)
    if cf is None:
        want = top_mask(bal, k, -1)
    else:
        top_s, top_e = bal.topk(k, dim=-1)
        want = capacity_mask(top_e, top_s[..., 0], E, net.router.capacity)
    r = net.router(x)
    assert torch.equal(r.picked, want)
    p = logits.softmax(-1)
    torch.testing.assert_close(r.combine, p * want + (1 - (p * want).sum(-1, keepdim=True)) / E)


def test_sinkhorn_spreads_the_load_that_softmax_concentrates():
    """One expert favoured by every token: softmax token choice sends it nearly everything,
    the Sinkhorn-balanced choice spreads the tokens over the experts."""
    x = tokens(200, 8)
    load = {}
    for name in ("token_choice", "sinkhorn_token_choice"):
        net = make(name, top_k=1, capacity_factor=None, **({"n_iters": 20} if name != "token_choice" else {})).eval()
        with torch.no_grad():
            net.router.proj.weight.mul_(0.3)
            net.router.proj.weight[0] += 0.5 * net.router.proj.weight.new_ones(D)  # expert 0: bigger logits
        x_pos = x.abs()  # positive features, so expert 0 leads almost every token
        load[name] = net.router(x_pos).load / (200 * T)
    assert load["token_choice"][0] > 0.8
    assert load["sinkhorn_token_choice"].max() < 0.45 and load["sinkhorn_token_choice"].min() > 0.1


def test_sinkhorn_expert_choice_leaves_fewer_tokens_unpicked():
    x = tokens(200, 9)
    dropped = {}
    for name in ("expert_choice", "sinkhorn_expert_choice"):
        net = make(name, capacity_factor=1.0, **({"n_iters": 20} if name != "expert_choice" else {})).eval()
        with torch.no_grad():
            net.router.proj.weight.mul_(3.0)
        r = net.router(x)
        logits = net.router.proj(x).detach()
        if name == "sinkhorn_expert_choice":
            assert torch.equal(r.picked, top_mask(moe.sinkhorn(logits, 20), net.router.capacity, 1))
        assert r.load.tolist() == [200.0 * net.router.capacity] * E
        dropped[name] = float(r.dropped)
    assert dropped["sinkhorn_expert_choice"] < dropped["expert_choice"]


# ------------------------------------------------------------------ sparsity-constrained expert choice


def ref_sparse_projection(z, k):
    """Sparsemax of the k largest entries of a 1-D array (sort-based, as in Martins & Astudillo)."""
    idx = np.argsort(-z, kind="stable")[:k]
    v = np.sort(z[idx])[::-1]
    css = np.cumsum(v)
    rho = max(j for j in range(1, k + 1) if v[j - 1] - (css[j - 1] - 1) / j > 0)
    tau = (css[rho - 1] - 1) / rho
    out = np.zeros_like(z)
    out[idx] = np.maximum(z[idx] - tau, 0)
    return out


def test_sparse_simplex_projection_matches_reference_and_is_a_projection():
    z = 2 * torch.randn(50, 9, dtype=torch.float64)
    for k in (1, 3, 9):
        got = moe.sparse_simplex_projection(z, k, dim=1)
        want = np.stack([ref_sparse_projection(row, k) for row in z.numpy()])
        np.testing.assert_allclose(got.numpy(), want, atol=1e-12)
        torch.testing.assert_close(got.sum(1), torch.ones(50, dtype=torch.float64))
        assert ((got > 0).sum(1) <= k).all() and (got >= 0).all()
        # KKT of the projection on its support: z - out is one threshold for every nonzero
        tau = z - got
        spread = torch.where(got > 0, tau, -torch.inf).amax(1) - torch.where(got > 0, tau, torch.inf).amin(1)
        assert spread.abs().max() < 1e-12


def test_sparsity_constrained_plan_is_exactly_sparse_and_balanced():
    net = make("sparsity_constrained_expert_choice", capacity_factor=2.0, n_iters=0).double().eval()
    r = net.router
    c = r.capacity
    x = tokens(40, 10, torch.float64)
    with torch.no_grad():
        r.proj.weight.mul_(3.0)
    logits = r.proj(x).detach()
    row_error = []
    for n in (0, 10, 40):
        r.n_iters = n
        P = r.transport_plan(logits)
        nnz = (P != 0).sum(1)  # (B, E) nonzeros per expert column
        assert (nnz <= c).all() and (nnz >= 1).all()
        assert (P >= 0).all()
        torch.testing.assert_close(P.sum(1), torch.full((40, E), T / E, dtype=torch.float64))  # columns: exact
        row_error.append(float((P.sum(-1) - 1).abs().mean()))
        r_out = r(x)
        assert torch.equal(r_out.picked, P > 0)
        assert not r_out.gates[P == 0].any()  # exact zeros outside the plan's support
    assert row_error[-1] < row_error[0] / 2  # the dual steps move the rows toward one
    assert (nnz < c).any()  # sparsemax itself cuts some columns below the capacity


def test_sparsity_constrained_without_steps_is_per_expert_sparsemax():
    net = make("sparsity_constrained_expert_choice", n_iters=0, gamma=0.5).eval()
    x = tokens(10, 11)
    logits = net.router.proj(x).detach()
    col = torch.log_softmax(logits, -1) / 0.5  # (B, T, E): what each expert's sparsemax reads at the start
    want = torch.stack([torch.from_numpy(np.stack([ref_sparse_projection(col[b, :, e].double().numpy(),
                                                                         net.router.capacity)
                                                   for e in range(E)], 1)) for b in range(10)]) * T / E
    torch.testing.assert_close(net.router.transport_plan(logits).double(), want, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ a tiny training run


def decision_task(n_groups, n_cands, seed):
    """Decisions whose expert play maximises a fixed random teacher on the tokens (learnable)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_groups * n_cands, T, D, generator=g)
    teacher = torch.randn(T * D, generator=torch.Generator().manual_seed(99))
    y = x.flatten(1) @ teacher + 0.5 * (x[:, :, 0] * x[:, :, 1]).sum(1)  # mostly linear, a little interaction
    group = torch.arange(n_groups).repeat_interleave(n_cands)
    chosen = y.view(n_groups, n_cands).argmax(1) + torch.arange(n_groups) * n_cands
    return x, group, chosen


def agreement(net, x, n_cands, chosen):
    with torch.no_grad():
        s = net(x).view(-1, n_cands)
    return float((s.argmax(1) + torch.arange(len(s)) * n_cands == chosen).float().mean())


@pytest.mark.parametrize("name", NEW)
def test_a_tiny_training_run_improves_agreement(name):
    torch.set_num_threads(1)
    x, group, chosen = decision_task(100, 4, seed=12)
    vx, _, vchosen = decision_task(150, 4, seed=13)
    net = make(name, seed=3, hidden=(16,))
    net.track_stats = False
    before = agreement(net.eval(), vx, 4, vchosen)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    net.train()
    for _ in range(150):
        opt.zero_grad()
        (losses.pairwise(net(x), group, chosen) + net.aux_loss).backward()
        opt.step()
    after = agreement(net.eval(), vx, 4, vchosen)
    assert after > before + 0.2 and after > 0.6, (before, after)


# ------------------------------------------------------------------ USMoE without training


def trained(name, **opts):
    x, group, chosen = decision_task(60, 4, seed=14)
    torch.manual_seed(5)
    net = moe.build_scorer(name, n_tokens=T, d_token=D, n_experts=E, hidden=(H,), **opts)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(20):
        opt.zero_grad()
        (losses.pairwise(net(x), group, chosen) + net.aux_loss).backward()
        opt.step()
    return net.eval()


@pytest.mark.parametrize("base", ["token_choice", "expert_choice"])
def test_usmoe_without_training_reads_the_trained_mixture(base):
    net = trained(base)
    free = moe.with_router(net, "usmoe", top_k=1.5, alpha=0.5)
    assert free.router.name == "usmoe" and not free.training and free.sparse
    assert free.router.proj is net.router.proj and free.expert_weight is net.expert_weight and free.trunk is net.trunk
    x = tokens(20, 15)
    # the same as a USMoE mixture built from the trained weights (the state dicts line up)
    ref = moe.build_scorer("usmoe", n_tokens=T, d_token=D, n_experts=E, hidden=(H,), top_k=1.5, alpha=0.5).eval()
    ref.load_state_dict(net.state_dict())
    torch.testing.assert_close(free(x), ref(x))
    # per position, in float64 too
    free64 = moe.with_router(net.double(), "usmoe", top_k=1.5, alpha=0.5)
    x64 = x.double()
    with torch.no_grad():
        together = free64(x64)
        alone = torch.cat([free64(x64[i : i + 1]) for i in range(20)])
    torch.testing.assert_close(alone, together, rtol=1e-12, atol=1e-12)
    net.float()
    # shared, not copied: a change to the trained experts is seen
    before = free(x).detach()
    with torch.no_grad():
        net.expert_weight.mul_(1.5)
    assert not torch.allclose(free(x), before)


def test_usmoe_without_training_equals_the_original_when_it_keeps_what_the_original_keeps():
    """With every pair kept (top_k = E), USMoE and token choice with k = E weigh every pair by
    its softmax probability: any alpha scores as the trained net."""
    net = trained("token_choice", top_k=E, capacity_factor=None)
    x = tokens(15, 16)
    for alpha in (0.0, 0.5, 1.0):
        free = moe.with_router(net, "usmoe", top_k=float(E), alpha=alpha)
        torch.testing.assert_close(free(x), net(x))


def test_with_router_refuses_routers_without_logits():
    with pytest.raises(ValueError, match="learned token router"):
        moe.with_router(make("soft", slots_per_expert=1), "usmoe")
    with pytest.raises(ValueError, match="not a learned token router"):
        moe.with_router(make("token_choice"), "soft")


def test_bad_options_are_refused():
    for name in NEW:
        with pytest.raises(ValueError, match="n_iters"):
            make(name, n_iters=-1)
    with pytest.raises(ValueError, match="gamma"):
        make("sparsity_constrained_expert_choice", gamma=0.0)
    with pytest.raises(ValueError, match="capacity_factor"):
        make("sinkhorn_expert_choice", capacity_factor=0.0)


def test_config_round_trip():
    for name in NEW:
        net = make(name).eval()
        again = moe.from_config(net.config).eval()
        again.load_state_dict(net.state_dict())
        assert again.config == net.config and again.config["n_iters"] == NEW[name]["n_iters"]
        x = tokens(5, 17)
        torch.testing.assert_close(again(x), net(x))
