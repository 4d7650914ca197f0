"""Range-regularization checker of the weight-histogram explorer's "Try it" (chapter 05), on fake explorer data and
the real widget; and the soft-min-max helpers the notebook calls (soft_range_slope, alpha_balance)."""

import math
from types import SimpleNamespace

import pytest
import torch

from effdl import exercises, widgets
from effdl.compress import quant, range_reg


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv("EFFDL_SOLUTIONS", raising=False)


def _explorer() -> SimpleNamespace:
    stats = {
        "baseline": {"a": (3.0, 40.0), "b": (6.0, 70.0), "c": (9.0, 60.0)},
        "L∞": {"a": (2.0, 90.0), "b": (2.5, 10.0), "c": (2.9, 20.0)},
    }
    return SimpleNamespace(stats=stats, reference="baseline")


def test_most_zeroed_layer_right_wrong_and_none(capsys):
    ex = _explorer()
    assert exercises.check_most_zeroed_layer("b", ex) is True
    assert "✅" in capsys.readouterr().out
    assert exercises.check_most_zeroed_layer("c", ex) is False  # the largest max|w|/std, not the largest share
    assert "largest max|w|/std" in capsys.readouterr().out
    assert exercises.check_most_zeroed_layer("a", ex) is False  # L∞'s answer, not the baseline's
    assert "another has more" in capsys.readouterr().out
    assert exercises.check_most_zeroed_layer("z", ex) is False
    assert "give a layer name" in capsys.readouterr().out
    assert exercises.check_most_zeroed_layer(None, ex) is False
    assert "not yet" in capsys.readouterr().out
    assert exercises.check_most_zeroed_layer("a", ex, training="L∞") is True


def test_most_zeroed_layer_on_the_real_widget():
    gen = torch.Generator().manual_seed(0)
    weights = {
        name: {lay: torch.randn(200, generator=gen) * (1 + k) for k, lay in enumerate(("l1", "l2", "l3"))}
        for name in ("baseline", "L∞")
    }
    weights["baseline"]["l2"][0] = 50.0  # one outlier: most of l2 rounds to zero
    box = widgets.weight_histogram_explorer(weights, reference="baseline")
    assert box.reference == "baseline" and set(box.stats) == {"baseline", "L∞"}
    flat = weights["baseline"]["l2"]
    zeros = 100 * float((quant.quantize(flat, quant.calibrate(flat, bits=2)) == 0).float().mean())
    assert box.stats["baseline"]["l2"] == pytest.approx((float(flat.abs().max() / flat.std()), zeros))
    assert exercises.check_most_zeroed_layer("l2", box) is True


def test_soft_range_slope_is_the_sum_of_variances():
    w = torch.tensor([0.1, -0.2, 0.3, 0.05])
    for alpha in (0.0, 5.0, 40.0):
        p, q = torch.softmax(alpha * w, 0), torch.softmax(-alpha * w, 0)
        var = lambda d: float((d * w**2).sum() - (d * w).sum() ** 2)  # noqa: E731
        rng, slope = range_reg.soft_range_slope(w, alpha)
        assert rng == pytest.approx(float((p * w).sum() - (q * w).sum()), abs=1e-6)
        assert slope == pytest.approx(var(p) + var(q), abs=1e-6)
    assert range_reg.soft_range_slope(w, 0.0)[0] == pytest.approx(0.0, abs=1e-7)  # both are the mean at α = 0
    with pytest.raises(TypeError, match="w must be"):
        range_reg.soft_range_slope(torch.tensor([1, 2]), 1.0)
    with pytest.raises(ValueError, match="alpha must be"):
        range_reg.soft_range_slope(w, float("nan"))


def test_alpha_balance_is_the_first_grid_point_where_the_slope_reaches_exp():
    w = 0.1 * torch.randn(500, generator=torch.Generator().manual_seed(0))
    a = range_reg.alpha_balance(w)
    assert a % 0.25 == 0 and range_reg.soft_range_slope(w, a)[1] >= math.exp(-a)
    assert range_reg.soft_range_slope(w, a - 0.25)[1] < math.exp(-(a - 0.25))
    with pytest.raises(ValueError, match="never reaches"):
        range_reg.alpha_balance(torch.zeros(10))  # no spread: the slope stays 0
    with pytest.raises(ValueError, match="0 < step < stop"):
        range_reg.alpha_balance(w, step=0.0)
