import itertools
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import effdl
from effdl.compress import sbs
from effdl.compress.sbs.search import _analyze, _expected_bops


def small_cnn(seed: int = 0) -> nn.Module:
    return effdl.build("smallcnn", None, in_shape=(1, 8, 8), num_classes=3, channels=(4, 8), hidden=8, seed=seed)


def tiny_data(n: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g)


def mlp(widths: tuple[int, ...] = (8, 8, 8, 3), seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(widths):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


# ------------------------------------------------------------------------------------------------------
# The quantizer


def test_step_size_and_discretize_on_the_b_bit_grid():
    assert sbs.step_size(1) == 1.0
    assert sbs.step_size(2) == pytest.approx(1 / 3)
    assert sbs.step_size(8) == pytest.approx(1 / 255)
    z = torch.tensor([0.0, 0.1, 0.2, 0.5, 0.9, 1.0], requires_grad=True)
    d = sbs.discretize(z, 1 / 3)
    assert torch.allclose(d, torch.tensor([0.0, 0.0, 1 / 3, 2 / 3, 1.0, 1.0]))  # 0.5/(1/3) = 1.5 rounds up
    d.sum().backward()
    assert torch.equal(z.grad, torch.ones(6))  # straight-through


def test_normalize_signed_and_unsigned_with_clipped_gradients():
    v = torch.tensor(2.0, requires_grad=True)
    x = torch.tensor([-3.0, -2.0, 0.0, 1.0, 3.0], requires_grad=True)
    zw = sbs.normalize(x, v, signed=True)
    assert torch.allclose(zw, torch.tensor([0.0, 0.0, 0.5, 0.75, 1.0]))
    zx = sbs.normalize(x, v, signed=False)
    assert torch.allclose(zx, torch.tensor([0.0, 0.0, 0.0, 0.5, 1.0]))
    zw.sum().backward()
    assert x.grad[0] == 0 and x.grad[-1] == 0 and x.grad[2] == pytest.approx(0.25)


def _grid_sum(parts: list[torch.Tensor], j: int) -> torch.Tensor:
    return torch.stack(parts[:j]).sum(0)


@pytest.mark.parametrize("b1", [1, 2])
@pytest.mark.parametrize("seed", range(20))
def test_decomposition_is_exact_for_many_seeds(b1: int, seed: int):
    cands = (b1, 2 * b1, 4 * b1)
    g = torch.Generator().manual_seed(seed)
    # random values and a regular grid (which puts many values exactly on ties z/s = k + ½)
    z = torch.cat([torch.rand(4096, generator=g), torch.arange(1021) / 1020, torch.arange(seed + 2) / (seed + 1)])
    parts = sbs.decompose(z, cands)
    assert len(parts) == 3
    for j, b in enumerate(cands, start=1):
        s = sbs.step_size(b)
        assert torch.allclose(_grid_sum(parts, j), sbs.discretize(z, s), rtol=0, atol=1e-6), (b1, j)
        codes = _grid_sum(parts, j) / s
        assert torch.allclose(codes, codes.round(), atol=1e-3)  # on the b-bit grid: 2^b levels
        assert codes.min() >= 0 and codes.max() <= 2**b - 1


@settings(max_examples=200, deadline=None)
@given(
    z=st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=32),
    b1=st.sampled_from([1, 2]),
)
def test_decomposition_is_exact_property(z: list[float], b1: int):
    zt = torch.tensor(z, dtype=torch.float64)
    z_b1, eps = sbs.decompose(zt, (b1, 2 * b1))
    assert torch.allclose(z_b1 + eps, sbs.discretize(zt, sbs.step_size(2 * b1)), rtol=0, atol=1e-12)


def test_residuals_pass_no_gradient_so_the_path_is_straight_through_for_any_gates():
    z = torch.rand(50, requires_grad=True)
    parts = sbs.decompose(z)
    for gates in ([1.0, 1.0], [1.0, 0.0], [0.0, 1.0]):
        (grad,) = torch.autograd.grad(
            sbs.share_bits(parts, [torch.tensor(g) for g in gates]).sum(), z, retain_graph=True
        )
        assert torch.equal(grad, torch.ones(50))


def test_z2_plus_eps4_is_the_4_bit_code_and_share_bits_selects_by_gates():
    z = torch.linspace(0, 1, 1021, dtype=torch.float32)  # a regular grid: many exact ties (z/s = k + ½)
    z2, e4, e8 = sbs.decompose(z)
    assert torch.allclose(z2 + e4, sbs.discretize(z, 1 / 15), rtol=0, atol=1e-6)
    one, zero = torch.tensor(1.0), torch.tensor(0.0)
    parts = [z2, e4, e8]
    assert torch.allclose(sbs.share_bits(parts, [one, one]), sbs.discretize(z, 1 / 255), rtol=0, atol=1e-6)
    assert torch.allclose(sbs.share_bits(parts, [one, zero]), z2 + e4)
    assert torch.equal(sbs.share_bits(parts, [zero, one]), z2)  # nested: g3 only matters behind g2
    with pytest.raises(ValueError, match="gates"):
        sbs.share_bits(parts, [one])


def test_gate_is_binary_and_its_threshold_gets_the_sigmoid_gradient():
    score = torch.tensor([0.0, 1.0, 2.0])
    alpha = torch.tensor(1.5, requires_grad=True)
    g = sbs.gate(score, alpha, tau=0.5)
    assert torch.equal(g.detach(), torch.tensor([0.0, 0.0, 1.0]))
    g.sum().backward()
    sig = torch.sigmoid((score - 1.5) / 0.5)
    assert alpha.grad == pytest.approx(float(-(sig * (1 - sig) / 0.5).sum()))


def test_weight_quantizer_at_full_precision_is_the_8_bit_code_and_thresholds_get_gradients():
    torch.manual_seed(0)
    w = torch.randn(8, 4, 3, 3)
    q = sbs.SBSWeight(w, (2, 4, 8), group_size=2, tau=0.5)
    out = q(w)
    v = q.v.detach()
    ref = v * (2 * sbs.discretize(sbs.normalize(w, v + 1e-8, signed=True), 1 / 255) - 1)
    assert torch.allclose(out, ref, atol=1e-5)  # thresholds start below their scores: every gate on
    assert q.bits.item() == 8 and q.keep.item() == 1
    loss = out.pow(2).sum() + torch.log(q.bits * q.keep)
    loss.backward()
    assert q.alpha.grad is not None and torch.all(q.alpha.grad != 0)
    assert q.alpha_prune.grad is not None and q.alpha_prune.grad != 0
    assert q.v.grad is not None


def test_weight_quantizer_prunes_groups_and_drops_bits_when_thresholds_rise():
    torch.manual_seed(0)
    w = torch.randn(8, 4)
    w[2:4] *= 0.01  # a weak group
    q = sbs.SBSWeight(w, (2, 4, 8), group_size=2, tau=0.5)
    with torch.no_grad():
        q.alpha.fill_(10.0)  # every residual gate off: 2 bits
        q.alpha_prune.fill_(float(q._group_scores(w).sort().values[1]) - 1e-4)  # the weakest group falls
    out = q(w)
    assert q.bits.item() == 2 and q.keep.item() == 0.75
    assert torch.equal(out[2:4], torch.zeros(2, 4))
    levels = torch.unique(out[0])
    assert len(levels) <= 4  # 2 bits: at most 4 levels


def test_activation_quantizer_picks_sign_from_data_and_gets_gradients():
    a = sbs.SBSAct((2, 4, 8), tau=0.5)
    x = torch.rand(16, 5) * 3
    y = a(x)
    assert not a.signed and a.chosen_bits() == 8 and torch.all(y >= 0)
    (y.sum() + torch.log(a.bits)).backward()
    assert a.alpha.grad is not None and torch.all(a.alpha.grad != 0) and a.v.grad is not None
    s = sbs.SBSAct((8,), tau=0.5)
    s(torch.randn(16, 5))
    assert s.signed and s.chosen_bits() == 8


# ------------------------------------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize("bad", [(2, 3, 8), (2, 4, 16, 8), (4, 2), (16, 32), ()])
def test_non_doubling_candidates_raise_value_error(bad):
    with pytest.raises(ValueError, match="candidates"):
        sbs.check_candidates(bad)
    with pytest.raises(ValueError, match="candidates"):
        sbs.search(small_cnn(), tiny_data(), lam=0.1, candidates=bad, max_steps=1, progress=False)


@pytest.mark.parametrize("bad", ["248", 8, (2.0, 4.0), (True, 2)])
def test_badly_typed_candidates_raise_type_error(bad):
    with pytest.raises(TypeError, match="candidates"):
        sbs.check_candidates(bad)


def test_search_argument_errors_name_the_argument():
    model, data = small_cnn(), tiny_data()
    with pytest.raises(ValueError, match=r"group_size.*features.0|group_size.*features.4"):
        sbs.search(model, data, lam=0.1, group_size=3, max_steps=1, progress=False)
    with pytest.raises(ValueError, match="lam must be a number >= 0"):
        sbs.search(model, data, lam=-0.1, max_steps=1, progress=False)
    with pytest.raises(TypeError, match="lam"):
        sbs.search(model, data, lam="big", max_steps=1, progress=False)
    with pytest.raises(ValueError, match="bops_target"):
        sbs.search(model, data, bops_target=0, max_steps=1, progress=False)
    with pytest.raises(ValueError, match=r"lam .* or bops_target"):
        sbs.search(model, data, max_steps=1, progress=False)
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        sbs.search("net", data, lam=0.1)
    with pytest.raises(ValueError, match="group_size"):
        sbs.search(model, data, lam=0.1, group_size=0, max_steps=1, progress=False)
    with pytest.raises(TypeError, match="config must be an SBSConfig"):
        sbs.finalize(model, {"features.4": 4}, data)
    with pytest.raises(ValueError, match="prune"):
        sbs.uniform_config(model, data, bits=4, prune=1.0)
    with pytest.raises(ValueError, match="bits"):
        sbs.uniform_config(model, data, bits=0)
    with pytest.raises(ValueError, match=r"data must hold at least one example, got a batch of shape \(0, 1, 8, 8\)"):
        sbs.uniform_config(model, torch.zeros(0, 1, 8, 8), bits=4)
    # the building blocks: a zero step or temperature would give NaN codes or gradients
    with pytest.raises(ValueError, match="s must be a finite number > 0, got 0"):
        sbs.discretize(torch.rand(4), 0)
    with pytest.raises(ValueError, match="tau must be a finite number > 0, got -1"):
        sbs.gate(torch.tensor(1.0), torch.tensor(0.0), tau=-1)
    with pytest.raises(TypeError, match=r"z must be a torch\.Tensor"):
        sbs.decompose([0.5])
    with pytest.raises(ValueError, match="tau must be a finite number > 0, got 0"):
        sbs.SBSWeight(torch.randn(8, 4), (2, 4), group_size=None, tau=0)
    with pytest.raises(ValueError, match="tau must be a finite number > 0, got 0"):
        sbs.SBSAct((2, 4), tau=0)
    with pytest.raises(ValueError, match="group_size must divide the weight's 8 output channels, got group_size=3"):
        sbs.SBSWeight(torch.randn(8, 4), (2, 4), group_size=3, tau=0.5)
    with pytest.raises(ValueError, match="group_size must be an int >= 1, got 0"):
        sbs.SBSWeight(torch.randn(8, 4), (2, 4), group_size=0, tau=0.5)
    with pytest.raises(TypeError, match=r"w must be a non-empty floating-point .*got torch\.float32 \(0, 4\)"):
        sbs.SBSWeight(torch.randn(0, 4), (2, 4), group_size=None, tau=0.5)


# ------------------------------------------------------------------------------------------------------
# BOPs


def test_bops_of_a_two_layer_net_by_hand():
    net = mlp((8, 6, 3))
    x = torch.randn(5, 8)
    cfg = sbs.uniform_config(net, x, bits=4)
    assert cfg.bops == (8 * 6 + 6 * 3) * 8 * 8  # both layers are first/last: fixed at 8/8 bits
    assert cfg.fp32_bops == (8 * 6 + 6 * 3) * 32 * 32 == effdl.count_bops(net, x[:1])
    assert cfg.bits_table() == {"0": (8, 8), "2": (8, 8)}


def test_bops_of_a_pruned_mixed_precision_net_by_hand_and_measured():
    net = mlp((8, 8, 8, 3))
    x = torch.randn(32, 8)
    cfg = sbs.uniform_config(net, x, bits=4, act_bits=2, prune=0.5, group_size=2)
    mid = cfg.layers["2"]
    assert (mid.w_bits, mid.a_bits, mid.channels) == (4, 2, 4) and mid.bops == 8 * 4 * 4 * 2
    assert cfg.layers["4"].bops == 4 * 3 * 8 * 8  # the last layer lost the pruned inputs
    assert cfg.bops == 8 * 8 * 64 + 8 * 4 * 8 + 4 * 3 * 64
    # groups of 2 kept whole, by L1 norm
    norms = net[2].weight.abs().reshape(4, -1).sum(1)
    best = sorted(torch.topk(norms, 2).indices.tolist())
    assert mid.kept == tuple(i for g in best for i in (2 * g, 2 * g + 1))
    small = sbs.finalize(net, cfg, (x, torch.randint(0, 3, (32,))), epochs=0)
    assert small[2].out_features == 4 and small[4].in_features == 4
    assert effdl.count_bops(small, x[:1], cfg.bits_table()) == cfg.bops
    rep = sbs.report(small, cfg, (x, torch.randint(0, 3, (32,))))
    assert rep.bops == cfg.bops and rep.fp32_bops == (64 + 64 + 24) * 1024
    # codes + one fp32 scale per output channel + fp32 biases + one fp32 input step per layer
    assert rep.size_bits == (64 * 8 + 8 * 64) + (32 * 4 + 4 * 64) + (12 * 8 + 3 * 64) + 3 * 32
    assert 0 <= rep.accuracy <= 1


def test_expected_bops_from_gates_matches_the_configuration_and_is_differentiable():
    net = small_cnn()
    x = tiny_data()[0]
    layers, other = _analyze(net.eval(), x[:1], 2)
    wq = {
        n: sbs.SBSWeight(
            net.get_submodule(n).weight,
            (8,) if lay.fixed else (2, 4, 8),
            group_size=None if not lay.prunable else 2,
            tau=0.5,
        )
        for n, lay in layers.items()
    }
    aq = {n: sbs.SBSAct((8,) if lay.fixed else (2, 4, 8), tau=0.5) for n, lay in layers.items()}
    for n, q in wq.items():
        q(net.get_submodule(n).weight)
        aq[n](torch.rand(4, 3))
    b = _expected_bops(layers, wq, aq, other)
    assert b.item() == sbs.uniform_config(net, x, bits=8).bops
    torch.log(b).backward()
    assert wq["features.4"].alpha.grad is not None and torch.all(wq["features.4"].alpha.grad < 0)
    assert wq["features.4"].alpha_prune.grad < 0  # raising the threshold lowers the cost
    assert torch.all(aq["features.4"].alpha.grad < 0)


# ------------------------------------------------------------------------------------------------------
# Search and finalize


def _well_formed(cfg: sbs.SBSConfig, model: nn.Module, cands: tuple[int, ...] = (2, 4, 8)) -> None:
    names = list(cfg.layers)
    assert names == list(effdl.compress.prune.prunable(model))
    for name, c in cfg.layers.items():
        if name in (names[0], names[-1]):
            assert c.fixed and (c.w_bits, c.a_bits) == (8, 8) and c.channels == c.out_channels
        else:
            assert c.w_bits in cands and c.a_bits in cands
        assert 1 <= c.channels <= c.out_channels
        assert list(c.kept) == sorted(set(c.kept)) and all(0 <= k < c.out_channels for k in c.kept)
        if cfg.group_size and not c.fixed:
            assert c.channels % cfg.group_size == 0
    assert cfg.bops == sum(c.bops for c in cfg.layers.values())
    assert cfg.fp32_bops > cfg.bops


def test_search_is_seeded_leaves_the_model_alone_and_cost_lowers_bops():
    model, data = small_cnn(), tiny_data()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    kw = {"epochs": 3, "batch_size": 16, "progress": False, "seed": 1}
    a = sbs.search(model, data, lam=10.0, gate_lr=0.2, **kw)
    b = sbs.search(model, data, lam=10.0, gate_lr=0.2, **kw)
    assert a == b
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    _well_formed(a, model)
    free = sbs.search(model, data, lam=0.0, **kw)
    assert a.bops < free.bops
    target = sbs.search(model, data, bops_target=a.fp32_bops / 100, **kw)
    _well_formed(target, model)


def test_smoke_digits_search_finalize_report():
    train, test = effdl.load("digits")
    train = effdl.subset(train, 256, seed=0)
    model = effdl.build("smallcnn", "digits", seed=0)
    cfg = sbs.search(model, train, lam=1.0, epochs=1, batch_size=64, seed=0, progress=False)
    _well_formed(cfg, model)
    assert cfg.state_dict is not None and cfg.input_shape == (1, 8, 8)
    small = sbs.finalize(model, cfg, train, epochs=1, batch_size=64, seed=0, progress=False)
    for name, c in cfg.layers.items():
        m = small.get_submodule(name)
        assert (m.out_channels if isinstance(m, nn.Conv2d) else m.out_features) == c.channels
    rep = sbs.report(small, cfg, test)
    assert rep.bops == cfg.bops == effdl.count_bops(small, torch.zeros(1, 1, 8, 8), cfg.bits_table())
    assert rep.bops_reduction == pytest.approx(cfg.reduction) and rep.bops_reduction > 10
    assert rep.size_bits < rep.fp32_bits and 0 <= rep.accuracy <= 1
    assert "MBOPs" in str(rep) and "MBOPs" in str(cfg) and rep.as_dict()["layers"] == cfg.rows()


def test_finalize_removes_channels_of_a_pruned_cnn_and_bops_match():
    model, (x, y) = small_cnn(), tiny_data()
    cfg = sbs.uniform_config(model, (x, y), bits=2, prune=0.5, group_size=2)
    assert cfg.layers["features.4"].channels == 4 and cfg.layers["classifier.1"].channels == 4
    small = sbs.finalize(model, cfg, (x, y), epochs=1, batch_size=32, seed=0, progress=False)
    assert small.features[4].out_channels == 4 and small.features[5].num_features == 4
    assert small.classifier[1].in_features == 4 * 2 * 2 and small.classifier[3].in_features == 4
    assert effdl.count_bops(small, x[:1], cfg.bits_table()) == cfg.bops
    with torch.no_grad():
        assert math.isfinite(small(x).sum().item())
