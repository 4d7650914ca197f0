"""Post-training quantization of weights (parametrize) and activations (pre-hooks) on any nn.Module."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from effdl.compress.quant import (
    ActQuantHandles,
    WeightFakeQuant,
    ptq,
    quantize_activations_,
    quantize_weights_,
    remove_quantization_,
)


def mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)).eval()


def cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(32, 10),
    ).eval()


def inputs(n: int = 512) -> torch.Tensor:
    return torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(1))


def calib() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(64, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    return x, torch.zeros(64, dtype=torch.long)


def linear_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]


@pytest.mark.parametrize("make", [mlp, cnn])
def test_8bit_weight_ptq_close_and_few_levels(make):
    model = make()
    x = inputs()
    with torch.no_grad():
        ref = model(x)
        quantize_weights_(model, bits=8)
        out = model(x)
    assert (out - ref).abs().max() < 0.05 * ref.abs().max()
    # An untrained net has near-ties between logits: the full 8-bit grid (top weight one step short) flips 1.6% of
    # them on the MLP, the restricted grid 0.4%; both far from a broken quantizer (about 10% agreement).
    assert (out.argmax(1) == ref.argmax(1)).float().mean() >= 0.98
    for layer in linear_layers(model):
        assert parametrize.is_parametrized(layer, "weight")
        w = layer.weight.detach().reshape(layer.weight.shape[0], -1)
        for row in w:
            assert row.unique().numel() <= 2**8


@pytest.mark.parametrize("bits", [2, 4])
def test_low_bit_levels_per_channel(bits):
    model = mlp()
    quantize_weights_(model, bits=bits)
    w = model[1].weight.detach()
    for row in w:
        assert row.unique().numel() <= 2**bits


def test_per_channel_beats_per_tensor_with_large_channel():
    torch.manual_seed(0)
    lin = nn.Linear(16, 4)
    with torch.no_grad():
        lin.weight[0] *= 100.0
    w = lin.weight.detach().clone()
    err_pc = (WeightFakeQuant(bits=4, per_channel=True)(w) - w).pow(2).mean()
    err_pt = (WeightFakeQuant(bits=4, per_channel=False)(w) - w).pow(2).mean()
    assert err_pc <= err_pt
    # the small channels are what per-tensor scaling wipes out: there per-channel is far better
    small_pc = (WeightFakeQuant(bits=4, per_channel=True)(w)[1:] - w[1:]).pow(2).mean()
    small_pt = (WeightFakeQuant(bits=4, per_channel=False)(w)[1:] - w[1:]).pow(2).mean()
    assert small_pc < 0.01 * small_pt


def test_remove_keep_false_restores_exactly_and_keep_true_bakes():
    model = cnn()
    orig = [m.weight.detach().clone() for m in linear_layers(model)]
    quantize_weights_(model, bits=3)
    quantized = [m.weight.detach().clone() for m in linear_layers(model)]
    remove_quantization_(model, keep=False)
    for m, w in zip(linear_layers(model), orig, strict=True):
        assert not parametrize.is_parametrized(m)
        assert torch.equal(m.weight, w)
    quantize_weights_(model, bits=3)
    remove_quantization_(model, keep=True)
    for m, w in zip(linear_layers(model), quantized, strict=True):
        assert not parametrize.is_parametrized(m)
        assert torch.equal(m.weight, w)


def test_weight_fake_quant_passes_gradients():
    model = mlp()
    quantize_weights_(model, bits=4, layers=["1"])
    assert parametrize.is_parametrized(model[1]) and not parametrize.is_parametrized(model[3])
    model(inputs(8)).sum().backward()
    assert model[1].parametrizations.weight.original.grad is not None


def test_activation_hooks_and_removal():
    model = cnn()
    x = inputs(64)
    with torch.no_grad():
        ref = model(x)
        handles = quantize_activations_(model, calib(), bits=8, num_batches=2)
        assert isinstance(handles, ActQuantHandles) and len(handles) == 3
        assert set(handles.qparams) == {"0", "2", "6"}
        out = model(x)
        assert not torch.equal(out, ref)
        assert (out - ref).abs().max() < 0.1 * ref.abs().max()
        handles.remove()
        assert torch.equal(model(x), ref)


@pytest.mark.parametrize("observer", ["percentile", "mse"])
def test_activation_observers(observer):
    model = mlp()
    x = inputs(64)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*calib()), batch_size=16)
    with torch.no_grad():
        ref = model(x)
        handles = quantize_activations_(model, loader, observer=observer, layers=["3"])
        assert set(handles.qparams) == {"3"}
        out = model(x)
    assert (out.argmax(1) == ref.argmax(1)).float().mean() >= 0.9
    remove_quantization_(model)
    with torch.no_grad():
        assert torch.equal(model(x), ref)


def test_ptq_copy_leaves_original_untouched():
    model = cnn()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x = inputs(256)
    with torch.no_grad():
        ref = model(x)
        q = ptq(model, calib(), weight_bits=8, act_bits=8)
        out = q(x)
        assert torch.equal(model(x), ref)
    assert q is not model
    assert not any(parametrize.is_parametrized(m) for m in model.modules())
    assert all(not m._forward_pre_hooks for m in model.modules())
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k])
    assert (out.argmax(1) == ref.argmax(1)).float().mean() >= 0.95
    remove_quantization_(q, keep=False)
    with torch.no_grad():
        assert torch.equal(q(x), ref)


def test_2bit_much_worse_than_8bit():
    model = cnn()
    x = inputs()
    with torch.no_grad():
        ref = model(x)
        err8 = (ptq(model, calib(), weight_bits=8, act_bits=None)(x) - ref).abs().mean()
        err2 = (ptq(model, calib(), weight_bits=2, act_bits=None)(x) - ref).abs().mean()
    assert err2 > 10 * err8


def test_errors():
    model = mlp()
    with pytest.raises(ValueError, match="bits"):
        quantize_weights_(model, bits=0)
    with pytest.raises(ValueError, match="bits"):
        quantize_weights_(model, bits=17)
    with pytest.raises(TypeError, match="bits"):
        quantize_weights_(model, bits=8.0)
    with pytest.raises(ValueError, match=r"available: \['1', '3'\]"):
        quantize_weights_(model, layers=["nope"])
    with pytest.raises(TypeError, match="string"):
        quantize_weights_(model, layers="1")
    with pytest.raises(ValueError, match="observer"):
        quantize_weights_(model, observer="max")
    with pytest.raises(TypeError, match=r"nn\.Module"):
        quantize_weights_("model")
    with pytest.raises(TypeError, match=r"nn\.Module"):
        ptq(object(), calib())
    with pytest.raises(TypeError, match=r"nn\.Module"):
        remove_quantization_(None)
    with pytest.raises(ValueError, match="num_batches"):
        quantize_activations_(model, calib(), num_batches=0)
    with pytest.raises(ValueError, match="bits"):
        quantize_activations_(model, calib(), bits=20)
    with pytest.raises(ValueError, match="available"):
        quantize_activations_(model, calib(), layers=["x"])
    with pytest.raises(TypeError, match="calib_data"):
        quantize_activations_(model, [1, 2, 3])
    with pytest.raises(ValueError, match="bits"):
        ptq(model, calib(), act_bits=0)
    assert not any(parametrize.is_parametrized(m) for m in model.modules())
    quantize_weights_(model)
    with pytest.raises(ValueError, match="already"):
        quantize_weights_(model)
