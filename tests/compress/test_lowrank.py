import pytest
import torch
from torch import nn

import effdl
from effdl.compress import lowrank
from effdl.compress.lowrank import (
    factorize_,
    factorized_params,
    linear_svd,
    max_rank,
    rank_for_energy,
    retained_energy,
    singular_values,
    spatial_conv,
    svd_linear,
    tucker2_conv,
)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _linear(n_in: int = 7, n_out: int = 5, bias: bool = True) -> nn.Linear:
    torch.manual_seed(0)
    return nn.Linear(n_in, n_out, bias=bias)


# ---------------------------------------------------------------------------------------------------------
# Linear: truncated SVD


@pytest.mark.parametrize(("n_in", "n_out", "bias"), [(7, 5, True), (5, 7, False), (6, 6, True)])
def test_svd_at_full_rank_reproduces_the_layer(n_in, n_out, bias):
    layer = _linear(n_in, n_out, bias)
    x = torch.randn(16, n_in, generator=_gen())
    fac = svd_linear(layer, rank=min(n_in, n_out))
    assert isinstance(fac, nn.Sequential) and len(fac) == 2
    first, second = fac
    assert (first.in_features, first.out_features, first.bias) == (n_in, min(n_in, n_out), None)
    assert (second.in_features, second.out_features) == (min(n_in, n_out), n_out)
    assert (second.bias is not None) == bias
    torch.testing.assert_close(fac(x), layer(x), atol=1e-5, rtol=0)


def test_truncated_svd_is_the_eckart_young_optimum():
    layer = _linear(9, 6)
    w = layer.weight.detach().double()
    s = torch.linalg.svdvals(w)
    for r in range(1, 6):
        fac = svd_linear(layer, rank=r)
        w_r = (fac[1].weight @ fac[0].weight).detach()
        assert torch.linalg.matrix_rank(w_r) == r  # float32 tolerance
        w_r = w_r.double()
        err = torch.linalg.matrix_norm(w - w_r)
        torch.testing.assert_close(err, s[r:].square().sum().sqrt(), atol=1e-5, rtol=1e-5)
        # the singular values are split evenly between the factors
        torch.testing.assert_close(
            fac[0].weight.norm(dim=1).double(), s[:r].sqrt(), atol=1e-5, rtol=1e-5, check_dtype=False
        )


def test_precomputed_svd_gives_the_same_factors_and_energy_picks_the_rank():
    layer = _linear(8, 6)
    svd = linear_svd(layer)
    torch.testing.assert_close(svd.S, singular_values(layer))
    for r in (1, 3, 6):
        a, b = svd_linear(layer, rank=r), svd_linear(layer, rank=r, svd=svd)
        torch.testing.assert_close(a[0].weight, b[0].weight)
    r = rank_for_energy(svd.S, 0.9)
    assert svd_linear(layer, energy=0.9)[0].out_features == r
    with pytest.raises(ValueError, match="linear_svd"):
        svd_linear(layer, rank=2, svd=linear_svd(_linear(6, 8)))


def test_dtype_and_device_follow_the_layer():
    layer = _linear().double()
    fac = svd_linear(layer, rank=2)
    assert all(p.dtype == torch.float64 for p in fac.parameters())


# ---------------------------------------------------------------------------------------------------------
# The energy rule


def test_energy_rule_is_exact_on_a_diagonal_matrix():
    d = torch.diag(torch.tensor([4.0, 3.0, 2.0, 1.0]))  # σ² = 16, 9, 4, 1; total 30
    s = singular_values(d)
    torch.testing.assert_close(s, torch.tensor([4.0, 3.0, 2.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(retained_energy(s), torch.tensor([16, 25, 29, 30], dtype=torch.float64) / 30)
    assert rank_for_energy(s, 16 / 30) == 1  # exactly reachable energies are reached, not overshot
    assert rank_for_energy(s, 0.01) == 1
    assert rank_for_energy(s, 16 / 30 + 1e-9) == 2
    assert rank_for_energy(s, 25 / 30) == 2
    assert rank_for_energy(s, 0.9) == 3
    assert rank_for_energy(s, 29 / 30) == 3
    assert rank_for_energy(s, 29 / 30 + 1e-9) == 4
    assert rank_for_energy(s, 1.0) == 4
    # a rank-deficient matrix: energy 1 needs only its rank
    assert rank_for_energy(torch.tensor([2.0, 1.0, 0.0]), 1.0) == 2
    # svd_linear on the diagonal matrix keeps exactly those singular values
    layer = nn.Linear(4, 4, bias=False)
    with torch.no_grad():
        layer.weight.copy_(d)
    w2 = svd_linear(layer, energy=25 / 30)
    torch.testing.assert_close(w2[1].weight @ w2[0].weight, torch.diag(torch.tensor([4.0, 3.0, 0.0, 0.0])))


@pytest.mark.parametrize("energy", [0, -0.1, 1.01, float("nan")])
def test_energy_outside_0_1_is_rejected(energy):
    s = torch.tensor([3.0, 1.0])
    with pytest.raises(ValueError, match=r"energy must be in \(0, 1\]"):
        rank_for_energy(s, energy)
    with pytest.raises(ValueError, match=r"energy must be in \(0, 1\]"):
        svd_linear(_linear(), energy=energy)
    with pytest.raises(ValueError, match=r"energy must be in \(0, 1\]"):
        factorize_(nn.Sequential(_linear()), energy=energy)


def test_bad_spectra_are_rejected():
    with pytest.raises(ValueError, match="1-D"):
        rank_for_energy(torch.ones(2, 2), 0.5)
    with pytest.raises(ValueError, match=">= 0"):
        rank_for_energy(torch.tensor([1.0, -1.0]), 0.5)
    with pytest.raises(TypeError, match="energy must be a number"):
        rank_for_energy(torch.tensor([1.0]), "0.5")
    with pytest.raises(TypeError, match="2-D Tensor"):
        singular_values(nn.ReLU())
    with pytest.raises(ValueError, match="sorted descending"):
        rank_for_energy(torch.tensor([1.0, 2.0, 3.0]), 0.5)
    with pytest.raises(ValueError, match=r"layer weight must hold finite values only \(no NaN/inf\)"):
        singular_values(torch.tensor([[1.0, float("nan")], [0.0, 1.0]]))
    broken = nn.Conv2d(2, 2, 3)
    with torch.no_grad():
        broken.weight[0, 0, 0, 0] = float("inf")
    with pytest.raises(ValueError, match="conv weight must hold finite values only"):
        tucker2_conv(broken, ranks=1)
    with pytest.raises(ValueError, match="conv weight must hold finite values only"):
        spatial_conv(broken, rank=1)


# ---------------------------------------------------------------------------------------------------------
# Conv2d: Tucker-2 and spatial


CONVS = [
    dict(in_channels=3, out_channels=6, kernel_size=3, padding=1),
    dict(in_channels=4, out_channels=5, kernel_size=(3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
    dict(in_channels=1, out_channels=8, kernel_size=3, padding="same", bias=False),  # T > S·k·k: rank-deficient
    dict(in_channels=6, out_channels=2, kernel_size=1),
]


@pytest.mark.parametrize("cfg", CONVS)
def test_tucker2_at_full_ranks_reproduces_the_conv(cfg):
    torch.manual_seed(0)
    conv = nn.Conv2d(**cfg)
    x = torch.randn(2, conv.in_channels, 9, 11, generator=_gen())
    ranks = max_rank(conv, "tucker2")
    fac = tucker2_conv(conv, ranks=ranks)
    assert [type(m) for m in fac] == [nn.Conv2d] * 3
    assert (fac[0].out_channels, fac[1].out_channels) == ranks
    torch.testing.assert_close(fac(x), conv(x), atol=1e-5, rtol=0)
    torch.testing.assert_close(tucker2_conv(conv, energy=1.0)(x), conv(x), atol=1e-5, rtol=0)


@pytest.mark.parametrize("cfg", CONVS)
def test_spatial_at_full_rank_reproduces_the_conv(cfg):
    torch.manual_seed(0)
    conv = nn.Conv2d(**cfg)
    x = torch.randn(2, conv.in_channels, 9, 11, generator=_gen())
    fac = spatial_conv(conv, rank=max_rank(conv, "spatial"))
    kh, kw = conv.kernel_size
    assert fac[0].kernel_size == (kh, 1) and fac[1].kernel_size == (1, kw)
    torch.testing.assert_close(fac(x), conv(x), atol=1e-5, rtol=0)


def test_tucker2_truncation_uses_the_leading_channel_subspaces():
    torch.manual_seed(0)
    conv = nn.Conv2d(6, 8, 3, padding=1)
    fac = tucker2_conv(conv, ranks=(2, 3))
    assert (fac[0].in_channels, fac[0].out_channels, fac[1].out_channels, fac[2].out_channels) == (6, 2, 3, 8)
    u_in = fac[0].weight[:, :, 0, 0]  # (r_in, S), orthonormal rows
    u_out = fac[2].weight[:, :, 0, 0]  # (T, r_out), orthonormal columns
    torch.testing.assert_close(u_in @ u_in.T, torch.eye(2), atol=1e-6, rtol=0)
    torch.testing.assert_close(u_out.T @ u_out, torch.eye(3), atol=1e-6, rtol=0)
    assert torch.equal(fac[2].bias, conv.bias)
    fac_e = tucker2_conv(conv, energy=0.5)
    w = conv.weight.detach().double()
    assert fac_e[0].out_channels == rank_for_energy(torch.linalg.svdvals(w.transpose(0, 1).reshape(6, -1)), 0.5)
    assert fac_e[1].out_channels == rank_for_energy(singular_values(conv), 0.5)


# ---------------------------------------------------------------------------------------------------------
# Parameter counts


def test_factorized_params_are_exact():
    assert factorized_params(nn.Linear(784, 256), 32) == 32 * (784 + 256) + 256  # the MLP's first layer
    for layer, rank, method, expected in [
        (nn.Linear(30, 20), 4, None, 4 * (30 + 20) + 20),
        (nn.Linear(30, 20, bias=False), 20, "svd", 20 * 50),
        (nn.Conv2d(6, 8, 3, bias=False), (2, 5), "tucker2", 6 * 2 + 2 * 5 * 9 + 5 * 8),
        (nn.Conv2d(6, 8, 3), 4, None, 6 * 4 + 4 * 4 * 9 + 4 * 8 + 8),
        (nn.Conv2d(6, 8, (3, 5)), 7, "spatial", 7 * (6 * 3 + 8 * 5) + 8),
    ]:
        assert factorized_params(layer, rank, method=method) == expected
        if method == "spatial":
            built = spatial_conv(layer, rank=rank)
        elif isinstance(layer, nn.Linear):
            built = svd_linear(layer, rank=rank)
        else:
            built = tucker2_conv(layer, ranks=rank)
        assert effdl.count_params(built) == expected


def test_max_rank():
    assert max_rank(nn.Linear(784, 256)) == 256
    assert max_rank(nn.Conv2d(1, 16, 3)) == (1, 9)
    assert max_rank(nn.Conv2d(16, 32, 3), "spatial") == 48
    with pytest.raises(TypeError, match=r"nn\.Linear or an nn\.Conv2d"):
        max_rank(nn.ReLU())


# ---------------------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("rank", [0, -1, 6, 100])
def test_rank_out_of_range_is_rejected(rank):
    layer = _linear(7, 5)
    with pytest.raises(ValueError, match=rf"rank must be an int in 1\.\.5, got {rank}"):
        svd_linear(layer, rank=rank)
    with pytest.raises(ValueError, match=r"1\.\.5"):
        factorized_params(layer, rank)
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"r_in\) must be an int in 1\.\.3"):
        tucker2_conv(conv, ranks=(rank if rank < 1 else 4, 2))
    with pytest.raises(ValueError, match=r"rank must be an int in 1\.\.9"):
        spatial_conv(conv, rank=rank if rank < 1 else 10)


def test_bad_arguments_raise_clear_errors():
    layer = _linear()
    with pytest.raises(TypeError, match="rank must be an int"):
        svd_linear(layer, rank=2.0)
    with pytest.raises(TypeError, match="rank must be an int"):
        svd_linear(layer, rank=True)
    with pytest.raises(ValueError, match="exactly one of rank= or energy="):
        svd_linear(layer)
    with pytest.raises(ValueError, match="exactly one of rank= or energy="):
        svd_linear(layer, rank=2, energy=0.5)
    with pytest.raises(TypeError, match=r"layer must be a torch\.nn\.Linear, got Conv2d"):
        svd_linear(nn.Conv2d(3, 4, 3), rank=1)
    with pytest.raises(TypeError, match=r"conv must be a torch\.nn\.Conv2d, got Linear"):
        tucker2_conv(layer, ranks=1)
    with pytest.raises(ValueError, match="groups=1"):
        tucker2_conv(nn.Conv2d(4, 4, 3, groups=4), ranks=1)
    with pytest.raises(ValueError, match="padding_mode"):
        spatial_conv(nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect"), rank=1)
    with pytest.raises(ValueError, match="pair"):
        tucker2_conv(nn.Conv2d(4, 4, 3), ranks=(1, 2, 3))
    model = nn.Sequential(_linear())
    with pytest.raises(ValueError, match="method must be one of 'svd', 'tucker2', 'spatial', got 'cp'"):
        factorize_(model, rank=1, method="cp")
    with pytest.raises(ValueError, match="not a module of the model"):
        factorize_(model, rank=1, layers=["fc"])
    with pytest.raises(ValueError, match="no layer that method='tucker2'"):
        factorize_(model, rank=1, method="tucker2")
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        factorize_("model", rank=1)
    with pytest.raises(ValueError, match="latency=True needs inputs"):
        factorize_(model, rank=1, latency=True)


# ---------------------------------------------------------------------------------------------------------
# factorize_ on whole models


def test_factorize_replaces_layers_of_a_sequential_in_place():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3))
    x = torch.randn(5, 10, generator=_gen())
    y = model(x)
    params = effdl.count_params(model)
    report = factorize_(model, rank={"0": 8, "2": 6, "4": 3})  # full ranks: same function
    assert [lf.name for lf in report.layers] == ["0", "2", "4"]
    assert all(isinstance(model[i], nn.Sequential) for i in (0, 2, 4))
    assert isinstance(model[1], nn.ReLU)
    torch.testing.assert_close(model(x), y, atol=1e-5, rtol=0)
    assert report.model_params_before == params
    assert report.model_params_after == effdl.count_params(model)
    assert [lf.params_after for lf in report.layers] == [8 * 18 + 8, 6 * 14 + 6, 3 * 9 + 3]
    assert report.params_before == 88 + 54 + 21
    assert report.param_ratio == pytest.approx(163 / (152 + 90 + 30))


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.head = nn.ModuleDict({"fc": nn.Linear(8, 4)})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head["fc"](self.conv(x).mean(dim=(2, 3)))


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(_Block(), nn.Linear(4, 4))
        self.out = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x))


def test_factorize_reaches_nested_modules_by_name_and_by_container():
    torch.manual_seed(0)
    net = _Net()
    x = torch.randn(2, 3, 6, 6, generator=_gen())
    report = factorize_(net, rank=2, layers=["body"])  # every Linear inside "body"
    assert [lf.name for lf in report.layers] == ["body.0.head.fc", "body.1"]
    assert isinstance(net.body[0].head["fc"], nn.Sequential)
    assert isinstance(net.body[1], nn.Sequential) and isinstance(net.out, nn.Linear)
    assert net(x).shape == (2, 2)

    net2 = _Net()
    y = net2(x)
    report = factorize_(net2, method="tucker2", rank=(3, 8), inputs=x)
    assert [lf.name for lf in report.layers] == ["body.0.conv"] and report.layers[0].rank == (3, 8)
    torch.testing.assert_close(net2(x), y, atol=1e-5, rtol=0)
    assert report.flops_before == effdl.count_flops(_Net(), x).flops
    assert report.flops_after == effdl.count_flops(net2, x).flops

    net3 = _Net()
    report = factorize_(
        net3, method="spatial", energy=1.0, layers="body.0.conv", inputs=x, latency=True, latency_repeats=3
    )
    assert report.layers[0].rank == max_rank(nn.Conv2d(3, 8, 3), "spatial") == 9
    assert report.speedup is not None and report.speedup > 0
    with pytest.raises(TypeError, match="holds no layer"):
        factorize_(_Net(), rank=1, layers=["body.0.conv"], method="svd")


def test_factorize_swaps_every_reference_to_a_shared_layer_and_leaves_the_model_alone_on_error():
    shared = nn.Linear(6, 6)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    report = factorize_(model, rank=2)
    assert len(report.layers) == 1 and model[0] is model[2] and isinstance(model[0], nn.Sequential)

    model = nn.Sequential(nn.Linear(6, 6), nn.Linear(6, 3))
    with pytest.raises(ValueError, match=r"layer '1': rank must be an int in 1\.\.3, got 4"):
        factorize_(model, rank=4)
    assert isinstance(model[0], nn.Linear)  # nothing swapped: validation comes first
    with pytest.raises(ValueError, match="rank has no entry for layer '1'"):
        factorize_(model, rank={"0": 2})
    with pytest.raises(ValueError, match="not factorized"):
        factorize_(model, rank={"0": 2, "1": 2, "2": 1})


def test_factorized_model_fine_tunes_with_fit():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    x = torch.randn(64, 4, generator=_gen())
    y = (x[:, 0] > 0).long()
    factorize_(model, rank=1, layers=["0"])
    before = model[0][0].weight.detach().clone()
    effdl.fit(model, (x, y), epochs=2, lr=1e-2, batch_size=16, seed=0, progress=False)
    assert not torch.equal(before, model[0][0].weight)


def test_report_rows_and_text():
    model = nn.Sequential(nn.Linear(10, 8))
    report = factorize_(model, rank=2)
    (row,) = report.rows()
    assert row["name"] == "0" and row["rank"] == 2 and row["max_rank"] == 8 and row["params_after"] == 2 * 18 + 8
    assert "0: svd rank 2 of 8" in str(report)
    assert report.flops_ratio is None and report.speedup is None
    assert lowrank.METHODS == ("svd", "tucker2", "spatial")


def test_rank_sweep_evaluates_copies_and_leaves_the_model_alone():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    x = torch.randn(32, 4, generator=_gen())
    y = model(x).argmax(-1)  # the dense model is 100% accurate on its own predictions
    rows = lowrank.rank_sweep(model, (x, y), [1, 4], layers=["0"])
    assert [r["rank"] for r in rows] == [1, 4]
    assert rows[1]["accuracy"] == 1.0  # full rank: same function
    assert rows[0]["layer_params"] == factorized_params(model[0], 1)
    assert rows[1]["params"] == effdl.count_params(model) - 30 + 4 * 10 + 6
    assert isinstance(model[0], nn.Linear)
    with pytest.raises(ValueError, match="non-empty sequence"):
        lowrank.rank_sweep(model, (x, y), [])
