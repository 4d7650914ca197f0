"""effdl.compress.sbs.study: the SBS-vs-uniform comparison of chapter 06 (equal training, choices on validation)."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn

import effdl
from effdl.compress import sbs


def small_cnn(seed: int = 0) -> nn.Module:
    return effdl.build("smallcnn", None, in_shape=(1, 8, 8), num_classes=3, channels=(4, 8, 8), hidden=8, seed=seed)


def tiny_data(n: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g)


@pytest.fixture(scope="module")
def runs() -> tuple[list[sbs.SBSPoint], list[sbs.SBSPoint]]:
    model, data = small_cnn(), tiny_data()
    val, test = tiny_data(32, seed=1), tiny_data(32, seed=2)
    kw = dict(group_size=2, batch_size=16, gate_lr=0.5)
    s = sbs.lam_sweep(model, data, val, test, [0.0, 20.0], search_epochs=2, finetune_epochs=1, progress=False, **kw)
    u = sbs.uniform_sweep(model, data, val, test, [(8, 0.0), (2, 0.5)], epochs=2, progress=False)
    return s, u


def test_points_are_measured_on_the_built_model(runs) -> None:
    s, u = runs
    for p in [*s, *u]:
        assert p.bops == p.config.bops  # measured by count_bops on the finalized model
        assert 0 <= p.val_accuracy <= 1 and 0 <= p.test_accuracy <= 1
        assert p.reduction == pytest.approx(p.fp32_bops / p.bops)
        assert p.compression > 1
    assert [p.lam for p in s] == [0.0, 20.0] and {p.method for p in s} == {"sbs"}
    assert [(p.bits, p.prune) for p in u] == [(8, 0.0), (2, 0.5)]
    assert [p.label for p in u] == ["uniform 8-bit", "uniform 2-bit, 50% pruned"]
    assert s[1].bops < s[0].bops  # a larger λ buys fewer BOPs
    assert u[1].bops < u[0].bops
    assert set(s[0].as_dict()) >= {"label", "reduction", "val_accuracy", "test_accuracy", "bops"}


def test_best_under_budget_chooses_on_validation() -> None:
    cfg = sbs.uniform_config(small_cnn(), tiny_data(), bits=8)
    base = dict(method="sbs", seed=0, config=cfg, fp32_bops=1000, size_bits=10, fp32_bits=320, seconds=0.0)
    a = sbs.SBSPoint(label="a", bops=100, val_accuracy=0.90, test_accuracy=0.99, **base)
    b = sbs.SBSPoint(label="b", bops=50, val_accuracy=0.95, test_accuracy=0.80, **base)
    c = sbs.SBSPoint(label="c", bops=10, val_accuracy=0.95, test_accuracy=0.70, **base)
    assert sbs.best_under_budget([a, b, c], 100) is c  # tie on validation: fewer BOPs
    assert sbs.best_under_budget([a, b], 100) is b  # validation, never the test accuracy
    assert sbs.best_under_budget([a, b], 60) is b
    assert sbs.best_under_budget([a], 60) is None
    assert sbs.most_compressed_within([a, b, c], 0.96, 0.01) is c
    assert sbs.most_compressed_within([a, b, c], 0.99, 0.01) is None
    with pytest.raises(ValueError, match="budget"):
        sbs.best_under_budget([a], 0)
    with pytest.raises(ValueError, match="max_drop"):
        sbs.most_compressed_within([a], 0.9, 1.5)
    with pytest.raises(ValueError, match=r"max_drop must be a fraction in \[0, 1\), got '0\.1'"):
        sbs.most_compressed_within([a], 0.9, "0.1")
    with pytest.raises(ValueError, match=r"reference_val must be an accuracy fraction in \[0, 1\], got nan"):
        sbs.most_compressed_within([a], float("nan"), 0.01)
    with pytest.raises(TypeError, match="points must be a sequence of SBSPoint"):
        sbs.best_under_budget(None, 100)
    with pytest.raises(TypeError, match="points must hold SBSPoint entries"):
        sbs.best_under_budget(["a"], 100)

    u1 = dataclasses.replace(a, method="uniform", label="u1", test_accuracy=0.90)
    u2 = dataclasses.replace(b, method="uniform", label="u2", test_accuracy=0.85)
    cmp = sbs.compare_at_budget({0: ([a, b], [u1]), 1: ([a], [u1, u2])}, 100)
    assert cmp.seeds == [0, 1]
    assert [p.label for p in cmp.sbs] == ["b", "a"] and [p.label for p in cmp.uniform] == ["u1", "u2"]
    assert cmp.gains == pytest.approx([-10.0, 14.0])
    assert cmp.mean_gain == pytest.approx(2.0) and cmp.std_gain == pytest.approx(math.sqrt(288))
    assert cmp.mean("sbs") == pytest.approx(0.895)
    with pytest.raises(ValueError, match="no SBS configuration within budget"):
        sbs.compare_at_budget({0: ([a], [u1])}, 60)
    with pytest.raises(ValueError, match="method"):
        cmp.mean("both")
    with pytest.raises(ValueError, match=r"runs\[0\] has no uniform points"):
        sbs.compare_at_budget({0: ([a], [])}, 100)
    with pytest.raises(ValueError, match=r"runs\[0\] must be a pair \(sbs_points, uniform_points\)"):
        sbs.compare_at_budget({0: [a]}, 100)


def test_bad_input() -> None:
    model, data = small_cnn(), tiny_data()
    with pytest.raises(ValueError, match="lams"):
        sbs.lam_sweep(model, data, data, data, [])
    with pytest.raises(ValueError, match=r"\(bits, prune\)"):
        sbs.uniform_sweep(model, data, data, data, [4])
    # a bad last entry fails before any run (these would otherwise train first)
    with pytest.raises(ValueError, match=r"lams entries \(λ\) must be a number >= 0, got -1"):
        sbs.lam_sweep(model, data, data, data, [0.1, -1])
    with pytest.raises(ValueError, match=r"bits must be an int in 1\.\.16, got 0"):
        sbs.uniform_sweep(model, data, data, data, [(4, 0.0), (0, 0.0)])
    with pytest.raises(ValueError, match=r"prune must be a fraction in \[0, 1\), got 2"):
        sbs.uniform_label(4, 2)
    with pytest.raises(ValueError, match="search_epochs"):
        sbs.compress_sbs(model, data, data, data, lam=0.1, search_epochs=0)
    with pytest.raises(ValueError, match="runs"):
        sbs.compare_at_budget({}, 10)
