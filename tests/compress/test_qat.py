"""Quantization-aware training (STE, LSQ) and real int8 conversion."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from effdl.compress.quant import (
    LSQQuantizer,
    WeightFakeQuant,
    prepare_qat_,
    qat,
    quantize_weights_,
    remove_quantization_,
    to_int8,
)


def mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 4))


def blobs(n: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Four well separated Gaussian classes in 64-d, as (N, 1, 8, 8) images."""
    g = torch.Generator().manual_seed(3)
    y = torch.arange(n) % 4
    centres = torch.randn(4, 64, generator=g) * 2
    x = centres[y] + 0.5 * torch.randn(n, 64, generator=g)
    return x.reshape(n, 1, 8, 8), y


# ---------------------------------------------------------------------------------------------------- LSQ


def test_lsq_forward_is_on_the_grid_and_clamped():
    q = LSQQuantizer(3, signed=True)  # levels -4..3: the full signed range, all 2**3 codes
    assert (q.qmin, q.qmax) == (-4, 3)
    with torch.no_grad():
        q.scale.fill_(0.5)
    q.initialized.fill_(True)
    x = torch.tensor([-4.0, -1.2, -0.2, 0.0, 0.26, 0.74, 1.0, 9.0])
    assert q(x).tolist() == [-2.0, -1.0, -0.0, 0.0, 0.5, 0.5, 1.0, 1.5]
    assert q.qparams().levels == 8 and q.qparams().grid == "full"
    u = LSQQuantizer(2, signed=False)  # levels 0..3
    with torch.no_grad():
        u.scale.fill_(1.0)
    u.initialized.fill_(True)
    assert u(torch.tensor([-1.0, 0.4, 2.6, 7.0])).tolist() == [0.0, 0.0, 3.0, 3.0]


def test_lsq_gradients_match_the_formula():
    """d x_hat/d s = (round(x/s) - x/s) inside, qmin below, qmax above, times g = 1/sqrt(N*qmax); d/dx = inside."""
    q = LSQQuantizer(3, signed=True)
    s = 0.5
    with torch.no_grad():
        q.scale.fill_(s)
    q.initialized.fill_(True)
    x = torch.tensor([-4.0, -1.2, -0.3, 0.1, 0.7, 1.4, 2.0], requires_grad=True)
    up = torch.tensor([1.5, 2.0, -1.0, 0.5, 3.0, -2.0, 1.5])  # arbitrary upstream gradient (sum far from 0)
    (q(x) * up).sum().backward()
    g = 1.0 / math.sqrt(x.numel() * q.qmax)
    expected_ds = 0.0
    expected_dx = []
    for xi, ui in zip(x.detach().tolist(), up.tolist(), strict=True):
        v = xi / s
        if v < q.qmin:
            expected_ds += ui * q.qmin
            expected_dx.append(0.0)
        elif v > q.qmax:
            expected_ds += ui * q.qmax
            expected_dx.append(0.0)
        else:
            expected_ds += ui * (round(v) - v)
            expected_dx.append(ui)
    assert q.scale.grad.item() == pytest.approx(expected_ds * g, rel=1e-5)
    assert x.grad.tolist() == pytest.approx(expected_dx)


def test_lsq_per_channel_gradient_scale_uses_elements_per_channel():
    q = LSQQuantizer(4, signed=True, axis=0, channels=2)
    with torch.no_grad():
        q.scale.copy_(torch.tensor([0.1, 0.2]))
    q.initialized.fill_(True)
    w = torch.tensor([[0.33, -0.07, 0.52], [0.11, 0.95, -0.31]], requires_grad=True)
    q(w).sum().backward()
    g = 1.0 / math.sqrt(3 * q.qmax)
    for c, s in enumerate([0.1, 0.2]):
        v = w.detach()[c] / s
        inside = (v >= q.qmin) & (v <= q.qmax)
        ds = torch.where(inside, torch.round(v) - v, torch.where(v < q.qmin, float(q.qmin), float(q.qmax))).sum()
        assert q.scale.grad[c].item() == pytest.approx(ds.item() * g, rel=1e-5)


def test_lsq_init_from_data_and_lazy_init():
    w = torch.randn(8, 16, generator=torch.Generator().manual_seed(0))
    q = LSQQuantizer(4, signed=True, axis=0, channels=8).init_from(w)
    assert bool(q.initialized) and q.scale.shape == (8,)
    assert ((q(w) - w).abs() <= q.scale.detach()[:, None] * 8).all()  # within the clip range
    lazy = LSQQuantizer(8, signed=False)
    x = torch.rand(100) * 6
    out = lazy(x)
    assert bool(lazy.initialized)
    assert (out - x).abs().max() <= lazy.scale.item()  # 8 bits unsigned covers [0, ~max] finely


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"bits": 1}, "bits must be an int in 2..16"),
        ({"bits": 17}, "bits must be an int in 1..16"),
        ({"bits": 4, "channels": 0, "axis": 0}, "channels must be an int >= 1"),
        ({"bits": 4, "axis": -1}, "axis must be None or a non-negative int"),
    ],
)
def test_lsq_bad_arguments(kwargs, match):
    bits = kwargs.pop("bits")
    with pytest.raises(ValueError, match=match):
        LSQQuantizer(bits, **kwargs)


def test_lsq_init_from_wrong_channel_count():
    q = LSQQuantizer(4, axis=0, channels=3)
    with pytest.raises(ValueError, match="has no 3 channels on axis 0"):
        q.init_from(torch.randn(4, 2))


# ---------------------------------------------------------------------------------------------------- prepare_qat_


@pytest.mark.parametrize("method, kind", [("ste", WeightFakeQuant), ("lsq", LSQQuantizer)])
def test_prepare_qat_parametrizes_weights_and_trains_steps(method, kind):
    model = prepare_qat_(mlp(), bits=3, method=method, act_bits=8)
    for layer in (model[1], model[3]):
        assert parametrize.is_parametrized(layer, "weight")
        assert isinstance(layer.parametrizations.weight[0], kind)
        assert isinstance(layer.input_quantizer, LSQQuantizer)
        for row in layer.weight.detach():
            assert row.unique().numel() <= 2**3  # the full signed range: 8 levels
    x, y = blobs(32)
    nn.functional.cross_entropy(model(x), y).backward()
    assert model[1].parametrizations.weight.original.grad is not None
    assert model[1].input_quantizer.scale.grad is not None
    if method == "lsq":
        assert model[1].parametrizations.weight[0].scale.grad is not None
    names = [n for n, _ in model.named_parameters()]
    assert any("input_quantizer.scale" in n for n in names)


def test_activation_quantizer_is_unsigned_after_relu():
    model = prepare_qat_(mlp(), bits=4, act_bits=4)
    x, _ = blobs(16)
    model(x)
    assert model[3].input_quantizer.signed is False  # its input is a ReLU output
    assert model[1].input_quantizer.signed is True  # the raw input has negative values


def test_remove_quantization_undoes_qat_and_state_dict_round_trips():
    model = prepare_qat_(mlp(), bits=4, method="lsq", act_bits=8)
    x, _ = blobs(16)
    out = model(x)
    clone = prepare_qat_(mlp(), bits=4, method="lsq", act_bits=8)
    clone(x)
    clone.load_state_dict(model.state_dict())
    assert torch.equal(clone(x), out)
    remove_quantization_(model, keep=True)
    assert not parametrize.is_parametrized(model[1], "weight")
    assert not hasattr(model[1], "input_quantizer") and not model[1]._forward_pre_hooks
    assert torch.allclose(model(x), out, atol=0.2)  # activations back to float, weights stay on the grid


def test_prepare_qat_bad_input():
    with pytest.raises(ValueError, match="method must be one of 'ste', 'lsq'"):
        prepare_qat_(mlp(), method="pact")
    with pytest.raises(ValueError, match=r"bits must be an int in 1..16"):
        prepare_qat_(mlp(), bits=0)
    with pytest.raises(ValueError, match=r"bits must be an int in 2..16 for method='lsq'"):
        prepare_qat_(mlp(), bits=1, method="lsq")
    with pytest.raises(ValueError, match=r"act_bits must be None or an int in 2..16"):
        prepare_qat_(mlp(), act_bits=1)
    with pytest.raises(TypeError, match=r"model must be a torch.nn.Module"):
        prepare_qat_("model")
    m = quantize_weights_(mlp(), bits=8)
    with pytest.raises(ValueError, match="already quantized"):
        prepare_qat_(m)


@pytest.mark.parametrize("method", ["ste", "lsq"])
def test_qat_recovers_accuracy_at_two_bits(method):
    x, y = blobs(512)
    model = mlp()
    from effdl.core.train import evaluate, fit

    fit(model, (x, y), epochs=5, lr=1e-2, seed=0, progress=False)
    fp = evaluate(model, (x, y)).accuracy
    q, history = qat(model, (x, y), bits=2, method=method, epochs=5, lr=1e-2, progress=False)
    assert fp >= 0.95
    assert evaluate(q, (x, y)).accuracy >= fp - 0.05
    assert len(history.train_loss) == 5
    assert not parametrize.is_parametrized(model[1], "weight")  # the original is untouched
    assert q[1].weight.detach().unique().numel() <= 4 * 32  # 2-bit rows: 4 levels each


# ---------------------------------------------------------------------------------------------------- real int8


def test_to_int8_is_small_and_agrees_with_float():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 4)
    )
    x, _ = blobs(256)
    q = to_int8(model)
    assert q is not model and isinstance(model[1], nn.Linear)
    from effdl.core.footprint import serialized_bytes

    assert serialized_bytes(q) <= 0.3 * serialized_bytes(model)
    with torch.no_grad():
        ref, out = model(x), q(x)
    assert out.dtype == torch.float32 and out.shape == ref.shape
    assert (out.argmax(1) == ref.argmax(1)).float().mean() >= 0.97
    assert (out - ref).abs().max() < 0.05 * ref.abs().max()


def test_to_int8_converts_qat_models_and_rejects_bad_input():
    model = prepare_qat_(mlp(), bits=8)
    q = to_int8(model)
    assert "DynamicQuantizedLinear" in repr(q[1])
    with pytest.raises(ValueError, match=r"at least one nn.Linear"):
        to_int8(nn.Sequential(nn.Conv2d(1, 2, 3)))
    with pytest.raises(TypeError, match=r"model must be a torch.nn.Module"):
        to_int8(3)


def test_to_int8_folds_pruning_masks_even_after_a_training_step():
    from effdl.compress.prune import has_masks, magnitude_prune_

    model = magnitude_prune_(mlp(), 0.5)
    x, y = blobs(16)
    nn.functional.cross_entropy(model(x), y).backward()  # weight = orig * mask now has autograd history
    q = to_int8(model)
    assert has_masks(model) and "DynamicQuantizedLinear" in repr(q[1])
    w = q[1].weight().dequantize()
    assert (w == 0).float().mean() >= 0.3  # the zeros survive int8 (global 50 % over both layers)
    with torch.no_grad():
        assert (q(x).argmax(1) == model(x).argmax(1)).float().mean() >= 0.9


def test_quantizing_a_pruned_layer_says_to_fold_the_masks():
    from effdl.compress.prune import magnitude_prune_, make_permanent_

    for quantize in (lambda m: quantize_weights_(m, bits=4), lambda m: prepare_qat_(m, bits=4)):
        model = magnitude_prune_(mlp(), 0.5)
        with pytest.raises(ValueError, match=r"pruning masks: \['1', '3'\].*make_permanent_"):
            quantize(model)
        quantize(make_permanent_(model))  # folded: quantizes, zeros included
        assert parametrize.is_parametrized(model[1], "weight")


def test_to_int8_emits_no_deprecation_warning(recwarn):
    to_int8(mlp())
    assert not [w for w in recwarn if "deprecated" in str(w.message)]


def test_quantized_model_bits_counts_codes_and_scales():
    from effdl.core.footprint import model_bits

    model = mlp()  # Linear(64, 32) and Linear(32, 4) with biases
    fp = model_bits(model)
    assert fp == 32 * (64 * 32 + 32 + 32 * 4 + 4)
    per_channel = fp - 32 * (64 * 32 + 32 * 4) + 4 * (64 * 32 + 32 * 4) + 32 * (32 + 4)
    assert quantize_bits(model, 4, True) == per_channel
    per_tensor = fp - 32 * (64 * 32 + 32 * 4) + 4 * (64 * 32 + 32 * 4) + 32 * 2
    assert quantize_bits(model, 4, False) == per_tensor
    only_first = fp - 32 * 64 * 32 + 8 * 64 * 32 + 32 * 32
    assert quantize_bits(model, 8, True, ["1"]) == only_first
    with pytest.raises(ValueError, match=r"bits must be an int in 1\.\.16"):
        quantize_bits(model, 0, True)


def test_quantized_model_bits_sparse_storage():
    from effdl.compress.quant import quantized_model_bits
    from effdl.core.footprint import quantized_bits

    model = mlp()
    with torch.no_grad():
        model[1].weight[:, ::2] = 0.0  # half of the first layer's weights are zero
    dense = quantized_model_bits(model, bits=4, layers=["1"])
    w = model[1].weight
    sparse = quantized_model_bits(model, bits=4, layers=["1"], storage="bitmask")
    assert sparse - dense == quantized_bits(w, bits=4, storage="bitmask") - quantized_bits(w, bits=4)
    assert sparse < dense
    with pytest.raises(ValueError, match="storage must be one of 'dense'"):
        quantized_model_bits(model, bits=4, storage="zip")


def quantize_bits(model, bits, per_channel, layers=None):
    from effdl.compress.quant import quantized_model_bits

    return quantized_model_bits(model, bits=bits, per_channel=per_channel, layers=layers)


def test_storage_formulas_count_a_tied_weight_once():
    from effdl.compress.palettize import palettized_bits
    from effdl.core.footprint import codebook_bits, model_bits, quantized_bits, tensor_bits

    emb, head = nn.Embedding(50, 8), nn.Linear(8, 50, bias=False)
    head.weight = emb.weight  # a language model's tied input/output embedding
    model = nn.ModuleDict({"emb": emb, "head": head})
    w = emb.weight
    assert model_bits(model) == tensor_bits(w)
    assert quantize_bits(model, 4, True) == quantized_bits(w, bits=4, per_channel=True)
    assert palettized_bits(model, bits=2) == codebook_bits(w, bits=2)
