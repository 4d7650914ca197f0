import math

import pytest
import torch
from torch import nn

import effdl
from effdl.compress.range_reg import LInfRegularizer, MarginRegularizer, SoftMinMaxRegularizer, range_ratio


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
