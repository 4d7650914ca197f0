import itertools

import pytest
import torch
from torch import nn

from effdl.compress.palettize import kmeans_1d, palettize_, palettized_bits
from effdl.core.footprint import codebook_bits, model_bits


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 10))


def test_k_at_least_distinct_is_lossless():
    x = torch.tensor([[0.5, -1.0, 0.5], [2.0, -1.0, 3.25]])
    for k in (4, 5, 256):
        c, labels = kmeans_1d(x, k)
        assert torch.equal(c, torch.tensor([-1.0, 0.5, 2.0, 3.25]))
        assert labels.shape == x.shape and labels.dtype == torch.int64
        assert torch.equal(c[labels], x)


def test_two_clusters_recover_means():
    a = torch.tensor([-5.0, -5.5, -4.5, -5.25, -4.75])
    b = torch.tensor([10.0, 11.0, 9.0, 10.5])
    x = torch.cat([a, b])[torch.randperm(9, generator=torch.Generator().manual_seed(1))]
    for init in ("linear", "kmeans++"):
        c, labels = kmeans_1d(x, 2, init=init)
        assert torch.allclose(c, torch.stack([a.mean(), b.mean()]), atol=1e-6, rtol=0)
        assert torch.equal(labels, (x > 0).long())


def test_same_seed_same_result():
    x = torch.randn(1000, generator=torch.Generator().manual_seed(0))
    for init in ("linear", "kmeans++"):
        c1, l1 = kmeans_1d(x, 16, seed=3, init=init)
        c2, l2 = kmeans_1d(x, 16, seed=3, init=init)
        assert torch.equal(c1, c2) and torch.equal(l1, l2)


def test_error_non_increasing_with_bits():
    x = torch.randn(2000, generator=torch.Generator().manual_seed(0))
    errors = []
    for b in range(1, 5):
        c, labels = kmeans_1d(x, 2**b)
        assert c.numel() == 2**b
        assert torch.all(c[1:] > c[:-1])
        errors.append(float(((c[labels] - x) ** 2).mean()))
    assert all(e2 <= e1 for e1, e2 in itertools.pairwise(errors)), errors
    assert errors[-1] < errors[0] / 10


def test_palettize_reduces_distinct_values_and_reports_storage():
    model = _model()
    bias_before = model[0].bias.clone()
    report = palettize_(model, bits=2)
    assert set(report) == {"0", "3"}
    for name, layer in (("0", model[0]), ("3", model[3])):
        r = report[name]
        distinct = torch.unique(layer.weight)
        assert distinct.numel() <= 4 and r["k"] == distinct.numel() and r["bits"] == 2
        assert torch.equal(distinct, r["centroids"])
        assert r["storage_bits"] == codebook_bits(layer.weight, bits=2)
        assert r["mse"] > 0
    assert torch.equal(model[0].bias, bias_before)
    # reconstruction error reported equals what palettizing the original weight gives
    w = _model()[3].weight.detach()
    c, labels = kmeans_1d(w, 4)
    assert torch.equal(model[3].weight, c[labels])
    out = model(torch.randn(2, 1, 6, 6))
    assert out.shape == (2, 10)


def test_palettize_dict_and_layers():
    model = _model()
    w0 = model[0].weight.clone()
    report = palettize_(model, bits={"3": 1})
    assert set(report) == {"3"} and torch.unique(model[3].weight).numel() == 2
    assert torch.equal(model[0].weight, w0)
    report = palettize_(model, bits=8, layers=["0"])
    assert set(report) == {"0"} and report["0"]["k"] == w0.numel()  # 36 weights < 256: lossless
    assert torch.equal(model[0].weight, w0)


def test_palettized_bits_totals():
    model = _model()
    total = palettized_bits(model, bits={"0": 3, "3": 2})
    w0, w3 = model[0].weight, model[3].weight
    expected = model_bits(model) - 32 * (w0.numel() + w3.numel())
    expected += codebook_bits(w0, bits=3) + codebook_bits(w3, bits=2)
    assert total == expected
    assert total == (10 + 4) * 32 + 36 * 3 + 8 * 32 + 640 * 2 + 4 * 32
    report = palettize_(model, bits={"0": 3, "3": 2})
    rest = model_bits(model) - 32 * (w0.numel() + w3.numel())
    assert total == rest + sum(r["storage_bits"] for r in report.values())
    assert palettized_bits(model, bits=4, layers=["3"]) == model_bits(model) - 640 * 32 + 640 * 4 + 16 * 32


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
def test_bad_inputs():
    model = _model()
    with pytest.raises(ValueError, match=r"bits must be an int in 1\.\.8, got 0"):
        palettize_(model, bits=0)
    with pytest.raises(ValueError, match=r"bits must be an int in 1\.\.8, got 9"):
        palettized_bits(model, bits=9)
    with pytest.raises(ValueError, match=r"bits must be an int in 1\.\.8, got 2\.0"):
        palettize_(model, bits=2.0)
    with pytest.raises(ValueError, match=r"bits\['3'\] must be an int in 1\.\.8, got True"):
        palettize_(model, bits={"3": True})
    with pytest.raises(ValueError, match=r"unknown layer names \['fc'\].*available.*\['0', '3'\]"):
        palettize_(model, bits=2, layers=["fc"])
    with pytest.raises(ValueError, match="unknown layer names"):
        palettized_bits(model, bits={"1": 2})
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        palettize_(model.state_dict(), bits=2)
    with pytest.raises(ValueError, match="non-empty"):
        kmeans_1d(torch.empty(0), 2)
    with pytest.raises(ValueError, match="empty weight"):
        palettize_(nn.Linear(0, 3), bits=2)
    with pytest.raises(ValueError, match="finite"):
        kmeans_1d(torch.tensor([1.0, float("nan")]), 2)
    with pytest.raises(ValueError, match="k must be an int >= 1"):
        kmeans_1d(torch.ones(3), 0)
    with pytest.raises(ValueError, match="init must be one of"):
        kmeans_1d(torch.ones(3), 2, init="random")
    with pytest.raises(TypeError, match="floating-point"):
        kmeans_1d(torch.ones(3, dtype=torch.int64), 2)
    with pytest.raises(ValueError, match=r"no nn\.Conv2d or nn\.Linear layer"):
        palettize_(nn.Sequential(nn.ReLU()), bits=2)
    with pytest.raises(ValueError, match=r"no nn\.Conv2d or nn\.Linear layer"):
        palettized_bits(nn.Sequential(nn.ReLU()), bits=2)
