"""compare_conv_factorizations: the chapter 02 comparison of convolution factorizations behind one call."""

import pytest
import torch
from torch import nn

from effdl.compress.lowrank import compare_conv_factorizations, factorized_params


def _cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 6, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, 3),
    )


def _data(n: int = 48) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    return torch.randn(n, 1, 8, 8, generator=gen), torch.randint(0, 3, (n,), generator=gen)


FT = {"epochs": 1, "lr": 1e-3, "batch_size": 16, "seed": 0}
VARIANTS = {"Tucker-2": ("tucker2", (2, 3)), "spatial": ("spatial", 2)}


def test_rows_report_each_variant_against_the_dense_model_and_its_fine_tuned_control():
    model, data = _cnn(), _data()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    out = compare_conv_factorizations(
        model, data, data, layer="2", variants=VARIANTS, fine_tune=FT, inputs=data[0][:8], latency_repeats=2
    )
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items()), "the model must stay unchanged"
    rows = {r["method"]: r for r in out.rows()}
    assert list(rows) == ["dense", "Tucker-2", "spatial"]
    conv = model[2]
    assert rows["dense"]["conv params"] == conv.weight.numel() + conv.bias.numel()
    assert rows["Tucker-2"]["conv params"] == factorized_params(conv, (2, 3), method="tucker2")
    assert rows["spatial"]["conv params"] == factorized_params(conv, 2, method="spatial")
    assert rows["Tucker-2"]["rank"] == "(2, 3)" and rows["spatial"]["rank"] == "2"
    assert rows["dense"]["accuracy before FT"] == out.dense_accuracy
    assert rows["dense"]["accuracy after FT"] == out.dense_ft_accuracy
    for label in VARIANTS:
        assert rows[label]["param ratio (conv)"] == pytest.approx(
            rows["dense"]["conv params"] / rows[label]["conv params"]
        )
        assert rows[label]["FLOPs ratio (model)"] > 1.0
        assert 0.0 <= rows[label]["accuracy after FT"] <= 100.0
    # MACs per sample: the FLOPs of the batch of 8, halved, divided by 8
    assert rows["dense"]["model MACs / sample"] == out.reports["spatial"].flops_before // 2 // 8
    assert set(out.latencies) == {"dense", "Tucker-2", "spatial"}
    assert isinstance(out.models["Tucker-2"][2], nn.Sequential) and out.models["dense"] is model


def test_the_control_is_fine_tuned_like_the_variants():
    # the same fine-tuning arguments and seed: fine-tuning the dense model again gives the control's accuracy
    import copy

    from effdl.core.train import evaluate, fit

    model, data = _cnn(), _data()
    out = compare_conv_factorizations(
        model, data, data, layer="2", variants=VARIANTS, fine_tune=FT, inputs=data[0][:4], latency=False
    )
    again = copy.deepcopy(model)
    fit(again, data, **FT)
    assert out.dense_ft_accuracy == 100 * evaluate(again, data).accuracy
    assert out.latencies == {} and out.rows()[1]["speed-up"] is None


def test_bad_arguments_are_named():
    model, data = _cnn(), _data()
    with pytest.raises(ValueError, match="variants"):
        compare_conv_factorizations(model, data, data, layer="2", variants={}, fine_tune=FT, inputs=data[0])
    with pytest.raises(ValueError, match="method"):
        compare_conv_factorizations(
            model, data, data, layer="2", variants={"x": ("nope", 2)}, fine_tune=FT, inputs=data[0]
        )
    with pytest.raises(ValueError, match="not a module"):
        compare_conv_factorizations(model, data, data, layer="9", variants=VARIANTS, fine_tune=FT, inputs=data[0])
    with pytest.raises(TypeError, match=r"fine_tune must be a dict of effdl\.fit keyword arguments, got str"):
        compare_conv_factorizations(model, data, data, layer="2", variants=VARIANTS, fine_tune="x", inputs=data[0])
    # a bad later variant fails before any fine-tuning, naming the variant
    bad = {**VARIANTS, "too big": ("spatial", 10**6)}
    with pytest.raises(ValueError, match=r"variants\['too big'\]: rank must be an int in 1\.\."):
        compare_conv_factorizations(model, data, data, layer="2", variants=bad, fine_tune=FT, inputs=data[0])
    with pytest.raises(TypeError, match=r"variants\['svd'\]: .*holds no layer that method='svd' factorizes"):
        compare_conv_factorizations(
            model, data, data, layer="2", variants={**VARIANTS, "svd": ("svd", 2)}, fine_tune=FT, inputs=data[0]
        )
