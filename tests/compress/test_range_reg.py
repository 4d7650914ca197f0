import math

import pytest
import torch
from torch import nn

import effdl
from effdl.compress.range_reg import (
    LInfRegularizer,
    MarginRegularizer,
    SoftMinMaxRegularizer,
    compare_regularizers,
    range_ratio,
)


def _linear(weight: list[list[float]]) -> nn.Linear:
    w = torch.tensor(weight)
    lin = nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        lin.weight.copy_(w)
    return lin


W = [[0.5, -1.0], [2.0, 0.25]]  # |w| = 0.5, 1, 2, 0.25


def test_linf_value_hand_computed():
    lin = _linear(W)
    assert LInfRegularizer(lin, strength=0.1)(lin).item() == pytest.approx(0.1 * 2.0)


def test_linf_sums_layers_and_gradient_hits_only_the_max():
    model = nn.Sequential(_linear(W), nn.ReLU(), _linear([[0.0, -3.0]]))
    reg = LInfRegularizer(model, strength=0.5)
    assert reg.layers == ["0", "2"]
    loss = reg(model)
    assert loss.item() == pytest.approx(0.5 * (2.0 + 3.0))
    loss.backward()
    assert torch.equal(model[0].weight.grad, torch.tensor([[0.0, 0.0], [0.5, 0.0]]))
    assert torch.equal(model[2].weight.grad, torch.tensor([[0.0, -0.5]]))
    assert list(reg.parameters()) == []


def test_margin_value_hand_computed():
    lin = _linear(W)
    # M = 1: relu(|w| - 1) = [0, 0, 1, 0] -> sum of squares 1, plus |M| = 1 -> 2
    assert MarginRegularizer(lin, strength=0.1, init=1.0)(lin).item() == pytest.approx(0.1 * 2.0)
    # M = 0.5: relu = [0, 0.5, 1.5, 0] -> 0.25 + 2.25 = 2.5, plus 0.5 -> 3
    assert MarginRegularizer(lin, strength=0.1, init=0.5)(lin).item() == pytest.approx(0.1 * 3.0)
    # init="max": M = max|w| = 2, squared term 0 -> 2
    reg = MarginRegularizer(lin, strength=1.0)
    assert reg.margins[0].item() == pytest.approx(2.0)
    assert reg(lin).item() == pytest.approx(2.0)


def test_margin_negative_margin_uses_abs():
    lin = _linear(W)
    reg = MarginRegularizer(lin, strength=1.0, init=1.0)
    with torch.no_grad():
        reg.margins[0].fill_(-1.0)
    assert reg(lin).item() == pytest.approx(2.0)


def test_margin_gradients_to_weights_and_margin():
    lin = _linear(W)
    reg = MarginRegularizer(lin, strength=0.1, init=0.5)
    reg(lin).backward()
    # d/dw relu(|w| - M)^2 = 2 relu(|w| - M) sign(w): w=-1 -> -1, w=2 -> 3
    assert torch.allclose(lin.weight.grad, 0.1 * torch.tensor([[0.0, -1.0], [3.0, 0.0]]))
    # d/dM = -2 (0.5 + 1.5) + 1 = -3
    assert reg.margins[0].grad.item() == pytest.approx(0.1 * -3.0)


def test_softminmax_value_hand_computed():
    lin = _linear([[0.0, 1.0]])
    reg = SoftMinMaxRegularizer(lin, strength=1.0, alpha_init=1.0)
    # smax = e / (1 + e), smin = e^-1 / (1 + e^-1) = 1 / (1 + e); difference = (e - 1)/(e + 1) = tanh(1/2)
    smax, smin = reg.soft_max_min(lin.weight, reg.alphas[0])
    assert smax.item() == pytest.approx(math.e / (1 + math.e))
    assert smin.item() == pytest.approx(1 / (1 + math.e))
    assert reg(lin).item() == pytest.approx(math.tanh(0.5) + math.exp(-1.0))
    # alpha = 0: both are the mean, penalty = e^0 = 1
    assert SoftMinMaxRegularizer(lin, strength=0.3, alpha_init=0.0)(lin).item() == pytest.approx(0.3)


def test_softminmax_is_stable_for_large_alpha():
    lin = _linear(W)
    reg = SoftMinMaxRegularizer(lin, strength=1.0, alpha_init=1000.0)
    value = reg(lin)
    assert torch.isfinite(value)
    assert value.item() == pytest.approx(2.0 - (-1.0), abs=1e-6)  # hard max - min, e^-1000 = 0


def test_softminmax_gradients_to_weights_and_alpha():
    lin = _linear([[0.0, 1.0]])
    reg = SoftMinMaxRegularizer(lin, strength=1.0, alpha_init=1.0)
    reg(lin).backward()
    assert lin.weight.grad is not None and lin.weight.grad.abs().sum() > 0
    # d/dalpha [tanh(alpha/2) + e^-alpha] at 1 = (1 - tanh(1/2)^2)/2 - e^-1
    expected = (1 - math.tanh(0.5) ** 2) / 2 - math.exp(-1.0)
    assert reg.alphas[0].grad.item() == pytest.approx(expected)


@pytest.mark.parametrize("cls", [LInfRegularizer, MarginRegularizer, SoftMinMaxRegularizer])
def test_zero_strength_gives_zero(cls):
    lin = _linear(W)
    assert cls(lin, strength=0)(lin).item() == 0.0


def test_forward_reads_the_model_passed_in():
    a, b = _linear(W), _linear([[0.0, 7.0], [1.0, 1.0]])
    reg = LInfRegularizer(a, strength=1.0)
    assert reg(b).item() == pytest.approx(7.0)


def test_layers_selection():
    model = nn.Sequential(_linear(W), nn.ReLU(), _linear([[0.0, -3.0]]))
    assert LInfRegularizer(model, strength=1.0, layers=["2"])(model).item() == pytest.approx(3.0)
    assert MarginRegularizer(model, layers=["0", "2"]).layers == ["0", "2"]


def test_range_ratio_known_tensor():
    lin = _linear([[0.0, 1.0], [2.0, 3.0]])
    # mean 1.5, unbiased var = (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3; max|w| = 3
    assert range_ratio(lin) == {"": pytest.approx(3 / math.sqrt(5 / 3))}
    model = nn.Sequential(lin, nn.ReLU(), _linear([[1.0, -1.0]]))
    r = range_ratio(model, layers=["2"])
    assert r == {"2": pytest.approx(1 / math.sqrt(2))}  # unbiased std of [1, -1] = sqrt(2)


def _max_ratio(model: nn.Module) -> float:
    return max(range_ratio(model).values())


@pytest.mark.parametrize(
    "make",
    [
        lambda m: LInfRegularizer(m, strength=0.05),
        lambda m: MarginRegularizer(m, strength=0.05),
        lambda m: SoftMinMaxRegularizer(m, strength=0.05),
    ],
    ids=["linf", "margin", "softminmax"],
)
def test_training_with_regularizer_shrinks_range(make):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(512, 16, generator=g)
    y = (x[:, :4].sum(1) > 0).long()

    def run(reg_factory):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 2))
        reg = reg_factory(model) if reg_factory else None
        effdl.fit(model, (x, y), epochs=10, lr=1e-2, batch_size=64, extra_loss=reg, seed=0, progress=False)
        return _max_ratio(model)

    plain, regularized = run(None), run(make)
    assert regularized < plain


def test_bad_inputs():
    lin = _linear(W)
    with pytest.raises(ValueError, match=r"^strength must be >= 0, got -1$"):
        LInfRegularizer(lin, strength=-1)
    with pytest.raises(ValueError, match="strength"):
        MarginRegularizer(lin, strength=float("nan"))
    with pytest.raises(ValueError, match=r"unknown layer 'nope'.*available: \['0', '2'\]"):
        SoftMinMaxRegularizer(nn.Sequential(lin, nn.ReLU(), _linear([[1.0, 1.0]])), layers=["nope"])
    with pytest.raises(ValueError, match="available"):
        range_ratio(lin, layers=["nope"])
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module, got str"):
        LInfRegularizer("model")
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        range_ratio(42)
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        LInfRegularizer(lin)(None)
    with pytest.raises(ValueError, match="init"):
        MarginRegularizer(lin, init=-1.0)
    with pytest.raises(ValueError, match="alpha_init"):
        SoftMinMaxRegularizer(lin, alpha_init=float("inf"))
    with pytest.raises(ValueError, match=r"Conv2d or nn\.Linear"):
        LInfRegularizer(nn.ReLU())
    reg = LInfRegularizer(nn.Sequential(lin, nn.ReLU(), _linear([[1.0, 1.0]])), layers=["2"])
    with pytest.raises(ValueError, match="missing from the model passed to forward"):
        reg(nn.Sequential(lin))


# ----------------------------------------------------------------------------------------------------------
# compare_regularizers


def _toy_data(n: int = 256, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    y = (x[:, :3].sum(1) > 0).long()
    return x, y


def _toy_model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))


TOY_VARIANTS = {"baseline": None, "linf": lambda m: LInfRegularizer(m, strength=0.05)}
TOY_RECIPE = {"epochs": 3, "lr": 0.05, "batch_size": 32, "progress": False}


def test_compare_regularizers_tidy_rows_and_weights():
    train, test = _toy_data(), _toy_data(128, seed=1)
    res = compare_regularizers(
        _toy_model, train, test, variants=TOY_VARIANTS, seeds=[0, 3], ptq_bits=(2,), kmeans_bits=(1,), **TOY_RECIPE
    )
    assert res.variants == ["baseline", "linf"] and res.seeds == [0, 3] and res.layers == ["0", "2"]
    assert res.metrics == ["fp", "range_ratio", "ptq2_channel", "ptq2_tensor", "kmeans1", "seconds"]
    assert [(r["variant"], r["seed"]) for r in res.rows] == [("baseline", 0), ("linf", 0), ("baseline", 3), ("linf", 3)]
    for row in res.rows:
        assert set(row) == {"variant", "seed", *res.metrics}
        assert all(0 <= row[m] <= 100 for m in res.metrics if m not in ("range_ratio", "seconds"))
    # the summary is the mean over seeds
    summary = {s["variant"]: s for s in res.summary()}
    assert summary["linf"]["runs"] == 2
    assert summary["linf"]["fp"] == pytest.approx((res.rows[1]["fp"] + res.rows[3]["fp"]) / 2)
    assert res.values("baseline", "range_ratio") == [res.rows[0]["range_ratio"], res.rows[2]["range_ratio"]]
    # weights and per-layer ratios of the first seed, consistent with the recorded mean ratio
    assert set(res.weights) == {"baseline", "linf"} and set(res.weights["linf"]) == {"0", "2"}
    assert res.weights["linf"]["0"].shape == (16, 8)
    assert torch.equal(res.models["linf"][0].weight.detach(), res.weights["linf"]["0"])
    assert not res.models["linf"].training
    ratios = res.layer_ratios["baseline"]
    assert res.rows[0]["range_ratio"] == pytest.approx(sum(ratios.values()) / 2)
    w = res.weights["baseline"]["2"]
    assert ratios["2"] == pytest.approx((w.abs().max() / w.std()).item())
    with pytest.raises(ValueError, match="metric must be one of"):
        res.mean("linf", "ptq8_channel")
    with pytest.raises(ValueError, match="variant must be one of"):
        res.values("margin", "fp")


def test_compare_regularizers_is_reproducible_and_the_regularizer_shrinks_the_range():
    train, test = _toy_data(), _toy_data(128, seed=1)
    kw = {"variants": TOY_VARIANTS, "ptq_bits": (2,), "per_channel": (False,), "kmeans_bits": (), **TOY_RECIPE}
    a = compare_regularizers(_toy_model, train, test, layers=["0"], **kw)
    b = compare_regularizers(_toy_model, train, test, layers=["0"], **kw)
    drop = ("seconds",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in a.rows] == [
        {k: v for k, v in r.items() if k not in drop} for r in b.rows
    ]
    assert a.metrics == ["fp", "range_ratio", "ptq2_tensor", "seconds"] and a.layers == ["0"]
    assert a.mean("linf", "range_ratio") < a.mean("baseline", "range_ratio")
    # the baseline row is exactly a plain fit of the same model with the same recipe
    plain = _toy_model(0)
    effdl.fit(plain, train, epochs=3, lr=0.05, batch_size=32, optimizer="sgd", weight_decay=5e-4, schedule="cosine")
    assert a.rows[0]["fp"] == pytest.approx(100 * effdl.evaluate(plain, test).accuracy)
    assert torch.equal(a.weights["baseline"]["0"], plain[0].weight.detach())


def test_compare_regularizers_bad_inputs():
    data = _toy_data(32)
    ok = {"variants": TOY_VARIANTS, **TOY_RECIPE}
    with pytest.raises(TypeError, match="make_model must be a callable"):
        compare_regularizers("mlp", data, data, **ok)
    with pytest.raises(ValueError, match="variants must be a non-empty mapping"):
        compare_regularizers(_toy_model, data, data, **(ok | {"variants": {}}))
    with pytest.raises(TypeError, match=r"variants\['x'\] must be a callable"):
        compare_regularizers(_toy_model, data, data, **(ok | {"variants": {"x": 3}}))
    with pytest.raises(ValueError, match="seeds must be ints >= 0"):
        compare_regularizers(_toy_model, data, data, seeds=[0, -1], **ok)
    with pytest.raises(ValueError, match="seeds has duplicates"):
        compare_regularizers(_toy_model, data, data, seeds=[1, 1], **ok)
    with pytest.raises(ValueError, match=r"ptq_bits must hold ints in 1\.\.16, got \[0\]"):
        compare_regularizers(_toy_model, data, data, ptq_bits=[0], **ok)
    with pytest.raises(ValueError, match=r"kmeans_bits must hold ints in 1\.\.8"):
        compare_regularizers(_toy_model, data, data, kmeans_bits=[9], **ok)
    with pytest.raises(TypeError, match="per_channel must be a non-empty sequence of bools"):
        compare_regularizers(_toy_model, data, data, per_channel=True, **ok)
    with pytest.raises(ValueError, match="unknown layer 'nope'"):
        compare_regularizers(_toy_model, data, data, layers=["nope"], **ok)
    with pytest.raises(TypeError, match=r"variants\['bad'\]\(model\) must return a callable regularizer"):
        compare_regularizers(_toy_model, data, data, **(ok | {"variants": {"bad": lambda m: 1.0}}))
