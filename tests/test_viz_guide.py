import pytest
import torch
from torch import nn

from effdl import viz
from effdl.guide import analyze

ROWS = [
    {"name": "conv", "params_share": 0.75, "prune_output_change": 0.1, "quant_output_change": 0.02},
    {"name": "fc", "params_share": 0.25, "prune_output_change": 0.4, "quant_output_change": 0.05},
]


def test_sensitivity_bars_from_rows():
    fig = viz.sensitivity_bars(ROWS)
    assert [t.name for t in fig.data] == ["pruned", "quantized"]
    assert all(t.orientation == "h" for t in fig.data)
    assert list(fig.data[0].y) == ["conv", "fc"]
    assert list(fig.data[0].x) == pytest.approx([10.0, 40.0])
    assert list(fig.data[1].x) == pytest.approx([2.0, 5.0])
    assert list(fig.data[0].customdata) == [75.0, 25.0]  # hover: share of the weights (%)
    assert "of the weights" in fig.data[0].hovertemplate
    assert fig.layout.yaxis.autorange == "reversed"


def test_sensitivity_bars_from_a_report():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    torch.manual_seed(0)
    report = analyze(model, torch.randn(2, 4), sparsity=0.25, bits=3, latency_repeats=1, progress=False)
    fig = viz.sensitivity_bars(report, title="mine")
    assert [t.name for t in fig.data] == ["prune 25% of the layer", "3-bit weights"]
    assert list(fig.data[1].x) == pytest.approx([100 * r["quant_output_change"] for r in report.layers])
    assert fig.layout.title.text == "mine"


def test_sensitivity_bars_bad_input():
    with pytest.raises(ValueError, match="no layers"):
        viz.sensitivity_bars([])
    with pytest.raises(ValueError, match="have no 'quant_output_change'"):
        viz.sensitivity_bars([{"name": "a", "params_share": 1.0, "prune_output_change": 0.1}])
    with pytest.raises(TypeError, match="report must be a ModelReport"):
        viz.sensitivity_bars("layers")
