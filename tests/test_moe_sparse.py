"""The sparse first layer of a mixture (comparison.moe.dispatch) against the dense formula.

Same scores and gradients for every router and routing option, in training and evaluation;
batch independence and exact upcycling on the sparse path; the matmul FLOPs it executes are
those of the picked pairs plus one dense-sized average. Tiny models; CPU."""
import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from comparison import models, moe
from comparison.moe import dispatch
from test_moe import assert_independent_of_batch_mates

T, D, E, H = 7, 5, 4, 6
PHASE = dict(phase_token=2, phase_features=[1, 2, 3])

# routers and options that exercise every case of the sparse form: one or several picks per token,
# drops over capacity, tokens no expert picks, renormalized gates, whole positions, hard routing
CASES = {
    "token_choice": dict(top_k=2, capacity_factor=1.0),
    "token_choice_k1": dict(top_k=1, capacity_factor=None),
    "token_choice_tight": dict(top_k=2, capacity_factor=0.5),
    "token_choice_renorm": dict(top_k=1, capacity_factor=0.5, unpicked="renormalize"),
    "token_choice_all": dict(top_k=4, capacity_factor=None),
    "expert_choice": dict(capacity_factor=1.0),
    "expert_choice_renorm": dict(capacity_factor=0.5, unpicked="renormalize"),
    "usmoe": dict(top_k=1.5, alpha=0.5),
    "gate": dict(top_k=2),
    "gate_k1": dict(top_k=1),
    "gate_renorm": dict(top_k=1, unpicked="renormalize"),
    "phase": PHASE,
    "preference": {},
    "soft": dict(slots_per_expert=2),
    "sinkhorn_token_choice": dict(top_k=2, capacity_factor=1.0, n_iters=5),
    "sinkhorn_token_choice_k1": dict(top_k=1, capacity_factor=None, n_iters=5),
    "sinkhorn_expert_choice": dict(capacity_factor=1.0, n_iters=5),
    "sparsity_constrained_expert_choice": dict(capacity_factor=1.5, n_iters=10),
    "sparsity_constrained_expert_choice_renorm": dict(capacity_factor=1.0, n_iters=10, unpicked="renormalize"),
}


def router_of(case):
    return case.split("_k1")[0].removesuffix("_tight").removesuffix("_renorm").removesuffix("_all")


def tokens(n, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, T, D, generator=g, dtype=dtype)
    x[:, :, 1:4] = F.one_hot(torch.randint(0, 3, (n,), generator=g), 3).to(dtype).unsqueeze(1)
    return x


def make(case, seed=0, hidden=(H, 3)):
    torch.manual_seed(seed)
    name = router_of(case)
    return moe.build_scorer(name, n_tokens=T, d_token=D, n_experts=3 if name == "phase" else E, hidden=hidden,
                            **CASES[case])


def scores_and_grads(net, x, sparse):
    """Scores, and the gradients of a loss on them (plus the router's losses) for every parameter and x."""
    net.sparse = sparse
    net.zero_grad(set_to_none=True)
    x = x.clone().requires_grad_(True)
    s = net(x)
    weights = torch.linspace(-1.0, 2.0, len(x))
    ((s * weights).sum() + net.aux_loss).backward()
    grads = {name: p.grad for name, p in net.named_parameters() if p.grad is not None}
    return s.detach(), grads, x.grad


@pytest.fixture(params=["gathered", "by_block"])
def token_dispatch(request, monkeypatch):
    """Both ways of running the picked token rows (see comparison.moe.dispatch), forced."""
    monkeypatch.setattr(dispatch, "GATHER_MAX_ROWS", 10**9 if request.param == "gathered" else -1)
    return request.param


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_sparse_equals_dense_scores_and_gradients(case, mode, token_dispatch):
    net = make(case)
    getattr(net, mode)()
    # train the experts apart first, so that each expert's block differs from the others' average
    with torch.no_grad():
        net.expert_weight.add_(torch.randn_like(net.expert_weight) * 0.3)
    x = tokens(33, 1)
    s_dense, g_dense, gx_dense = scores_and_grads(net, x, sparse=False)
    s_sparse, g_sparse, gx_sparse = scores_and_grads(net, x, sparse=True)
    torch.testing.assert_close(s_sparse, s_dense, rtol=1e-5, atol=1e-5)
    assert g_sparse.keys() == g_dense.keys() and "expert_weight" in g_sparse
    for name in g_dense:
        torch.testing.assert_close(g_sparse[name], g_dense[name], rtol=1e-5, atol=1e-5, msg=name)
    torch.testing.assert_close(gx_sparse, gx_dense, rtol=1e-5, atol=1e-5)


def test_the_routers_give_a_sparse_form_except_soft():
    x = tokens(9, 2)
    for case in CASES:
        routing = make(case).eval().router(x)
        if router_of(case) == "soft":
            assert routing.picked is None
            continue
        c = routing.gates + (0 if routing.rest is None else routing.rest[..., None]) / routing.gates.shape[-1]
        if c.dim() == 2:  # whole positions: the same weights for every token
            c = c.unsqueeze(1).expand_as(routing.combine)
        torch.testing.assert_close(c, routing.combine, msg=case)
        assert not routing.gates[~routing.picked].any()


@pytest.mark.parametrize("case", list(CASES))
def test_sparse_scores_do_not_depend_on_batch_mates(case):
    net = make(case).double().eval()
    assert net.sparse
    assert_independent_of_batch_mates(net, tokens(20, 3, torch.float64), tokens(30, 4, torch.float64))


@pytest.mark.parametrize("case", list(CASES))
def test_sparse_upcycling_scores_as_dense(case):
    dense = models.build_scorer("mlp", d_in=T * D, hidden=(H, 3), activation="tanh").eval()
    name = router_of(case)
    up = moe.upcycle(dense, router=name, n_experts=3 if name == "phase" else E, n_tokens=T, d_token=D,
                     **CASES[case]).eval()
    assert up.sparse
    x = tokens(16, 5)
    torch.testing.assert_close(up(x), dense(x), rtol=1e-5, atol=1e-6)


def matmul_flops(fn):
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


@pytest.mark.parametrize("case", ["token_choice_k1", "token_choice_tight", "expert_choice", "usmoe", "gate_k1",
                                  "phase", "sinkhorn_token_choice", "sinkhorn_expert_choice",
                                  "sparsity_constrained_expert_choice"])
def test_sparse_flops_are_the_picked_pairs_plus_the_average(case, token_dispatch):
    """2 d H per picked (token, expert) pair (T d H per picked position), plus the average part
    (T d H per position) when there is a remainder, plus the router and the trunk."""
    net = make(case, hidden=(H,)).eval()
    x = tokens(40, 6)
    with torch.no_grad():
        routing = net.router(x)
        router = matmul_flops(lambda: net.router(x))
        trunk = 2 * 40 * H  # Linear(H, 1)
        got = matmul_flops(lambda: net(x))
    n_picked = int(routing.picked.sum())
    per_pick = 2 * D * H * (T if routing.picked.dim() == 2 else 1)
    average = 0 if routing.rest is None else 2 * 40 * T * D * H
    assert got == router + n_picked * per_pick + average + trunk
    net.sparse = False  # the dense formula: every block for every token
    with torch.no_grad():
        assert matmul_flops(lambda: net(x)) == router + 2 * 40 * net.n_experts * T * D * H + trunk


def test_the_two_token_dispatches_agree_on_a_batch_that_switches_between_them(monkeypatch):
    """The threshold picks the way by the number of picked rows: scores are the same either side."""
    net = make("token_choice_k1").eval()
    x = tokens(50, 7)
    ran = []
    for way in ("picked_tokens_gathered", "picked_tokens_by_block"):
        original = getattr(dispatch, way)
        monkeypatch.setattr(dispatch, way, lambda *a, _f=original, _w=way: ran.append(_w) or _f(*a))
    with torch.no_grad():
        routing = net.router(x)
        n = int(routing.picked.sum())
        got = {}
        for limit in (n, n - 1):  # at the limit: gathered; one below: by block
            monkeypatch.setattr(dispatch, "GATHER_MAX_ROWS", limit)
            got[limit] = net(x)
    assert ran == ["picked_tokens_gathered", "picked_tokens_by_block"]
    torch.testing.assert_close(got[n], got[n - 1], rtol=1e-5, atol=1e-6)
    assert not torch.equal(net.expert_weight.mean(0), net.expert_weight[0])  # the experts differ: a real check
