"""effdl.viz.sbs: the single path on one tensor, a configuration per layer, SBS against uniform on BOPs/accuracy."""

import dataclasses

import plotly.graph_objects as go
import pytest
import torch

import effdl
from effdl import viz
from effdl.compress import sbs
from effdl.viz.sbs import _config_traces


@pytest.fixture(scope="module")
def config() -> sbs.SBSConfig:
    model = effdl.build("smallcnn", None, in_shape=(1, 8, 8), num_classes=3, channels=(4, 8, 8), hidden=8, seed=0)
    return sbs.uniform_config(
        model, torch.randn(8, 1, 8, 8, generator=torch.Generator().manual_seed(0)), bits=4, prune=0.5
    )


def _point(config, label, bops, val, test, *, method="sbs", seed=0, **extra) -> sbs.SBSPoint:
    return sbs.SBSPoint(
        label=label, method=method, seed=seed, config=config, bops=bops, fp32_bops=1000, size_bits=10,
        fp32_bits=320, val_accuracy=val, test_accuracy=test, seconds=0.0, **extra,
    )  # fmt: skip


def test_sbs_decomposition_levels_and_errors():
    w = torch.randn(32, 4, 3, 3, generator=torch.Generator().manual_seed(0))
    fig = viz.sbs_decomposition(w)
    assert isinstance(fig, go.Figure)
    names = [t.name for t in fig.data]
    assert names == ["2-bit: z₂", "4-bit: z₂ + ε₄", "8-bit: z₂ + ε₄ + ε₈", "identity (no error)", "RMS error"]
    assert len(fig.data[0].x) <= 400 and list(fig.data[0].x) == sorted(fig.data[0].x)  # a sorted sample of 1152
    assert fig.data[0].line.shape == "hv" and fig.data[3].line.dash == "dash"
    # each level is the b-bit code of z = normalize(w, max|w|): D(z, 1/(2^b − 1))
    z = torch.tensor(fig.data[0].x)
    for trace, b in zip(fig.data[:3], (2, 4, 8), strict=True):
        assert torch.allclose(torch.tensor(trace.y), sbs.discretize(z, sbs.step_size(b)), atol=1e-6)
    bars = fig.data[4]
    assert list(bars.x) == ["2-bit", "4-bit", "8-bit"]
    errors = list(bars.y)
    assert errors[0] > errors[1] > errors[2] > 0  # more bits, smaller error
    zfull = sbs.normalize(w.flatten(), w.abs().max(), signed=True)
    want = (zfull - sbs.discretize(zfull, sbs.step_size(2))).pow(2).mean().sqrt()
    assert errors[0] == pytest.approx(float(want), rel=1e-5)
    assert fig.layout.yaxis2.type == "log"
    assert "single path" in fig.layout.title.text


def test_sbs_decomposition_other_candidates_title_and_errors():
    w = torch.linspace(-1, 1, 50)
    fig = viz.sbs_decomposition(w, (1, 2, 4, 8), title="mine")
    assert fig.layout.title.text == "mine"
    assert [t.name for t in fig.data][:4] == [
        "1-bit: z₁",
        "2-bit: z₁ + ε₂",
        "4-bit: z₁ + ε₂ + ε₄",
        "8-bit: z₁ + ε₂ + ε₄ + ε₈",
    ]
    assert len(fig.data[0].x) == 50
    with pytest.raises(ValueError, match="not all zero"):
        viz.sbs_decomposition(torch.zeros(10))
    with pytest.raises(ValueError, match="candidates must double"):
        viz.sbs_decomposition(w, (2, 3))


def test_sbs_config_chart(config):
    fig = viz.sbs_config_chart(config)
    names = list(config.layers)
    assert [t.name for t in fig.data] == ["weight bits", "activation bits", "channels kept", "BOPs share"]
    assert all(list(t.x) == names for t in fig.data)
    assert list(fig.data[0].y) == [8, 4, 4, 4, 8] and list(fig.data[1].y) == [8, 4, 4, 4, 8]
    assert list(fig.data[2].y) == [100.0, 50.0, 50.0, 50.0, 100.0]  # half of every searchable layer pruned
    share = [100 * c.bops / config.bops for c in config.layers.values()]
    assert list(fig.data[3].y) == pytest.approx(share)
    assert sum(fig.data[3].y) == pytest.approx(100.0)  # smallcnn has no MACs outside its Conv2d/Linear layers
    fixed = [c.fixed for c in config.layers.values()]
    assert fixed == [True, False, False, False, True]
    for trace in fig.data:  # fixed layers grey, the others in the trace's colour
        colours = list(trace.marker.color)
        assert colours[0] == colours[-1] and colours[0].startswith("#")
        assert colours[1] not in (colours[0],) and len(set(colours[1:4])) == 1
    assert list(fig.data[0].customdata) == [" (fixed)", "", "", "", " (fixed)"]
    assert list(fig.data[2].customdata[1]) == ["4/8", ""]
    assert fig.layout.barmode == "group" and f"{config.reduction:.1f}×" in fig.layout.title.text
    assert viz.sbs_config_chart(config, title="t").layout.title.text == "t"
    # the widget's fast path: the helper gives exactly the traces' values
    for trace, vals in zip(fig.data, _config_traces(config), strict=True):
        assert list(trace.y) == pytest.approx(list(vals["y"]))
        assert list(trace.marker.color) == list(vals["marker_color"])


def test_sbs_pareto_traces_front_and_marks(config):
    s = [
        _point(config, "SBS λ=0", 400, 0.95, 0.94, lam=0.0),
        _point(config, "SBS λ=1", 100, 0.93, 0.93, lam=1.0),
        _point(config, "SBS λ=9", 20, 0.80, 0.81, lam=9.0),
        _point(config, "SBS λ=3", 50, 0.70, 0.70, lam=3.0),  # dominated by λ=9: fewer BOPs, more accurate
    ]
    u = [
        _point(config, "uniform 4-bit", 200, 0.90, 0.90, method="uniform", bits=4, prune=0.0),
        _point(config, "uniform 2-bit, 50% pruned", 60, 0.60, 0.55, method="uniform", bits=2, prune=0.5),
        _point(config, "uniform 8-bit", 300, 0.85, 0.85, method="uniform", bits=8, prune=0.0),  # dominated
    ]
    fig = viz.sbs_pareto(s + u, reference=0.96, highlight=s[1], budget=100)
    assert fig.layout.xaxis.type == "log"
    names = [t.name for t in fig.data]
    assert names[:4] == ["SBS", "SBS Pareto front", "uniform", "uniform Pareto front"]
    line, front, uni, ufront = fig.data[:4]
    assert line.mode == "lines+markers" and list(line.x) == [50.0, 20.0, 10.0, 2.5]  # sorted by BOPs
    assert list(line.y) == pytest.approx([81.0, 70.0, 93.0, 94.0])
    assert list(line.customdata[2])[:2] == ["SBS λ=1", "1"]
    assert list(uni.text) == ["2b·50%", "4b", "8b"]
    assert sorted(front.x) == [2.5, 10.0, 50.0]  # λ=3 is dominated by λ=9 (fewer BOPs, more accurate)
    assert sorted(ufront.x) == [1000 / 200, 1000 / 60]  # 8-bit is dominated by 4-bit
    assert len(fig.layout.shapes) == 1 and fig.layout.shapes[0].y0 == pytest.approx(96.0)  # the fp32 reference
    chosen = fig.data[4]
    assert chosen.name == "chosen: SBS λ=1" and list(chosen.x) == [10.0] and chosen.marker.symbol == "circle-open"
    budget = fig.data[5]
    assert list(budget.x) == [10.0, 10.0] and budget.line.dash == "dot"
    assert fig.layout.yaxis.range[1] >= 96.0


def test_sbs_pareto_several_seeds_and_errors(config):
    pts = [
        _point(config, "SBS λ=1", 100, 0.9, 0.9, lam=1.0),
        _point(config, "SBS λ=2", 50, 0.8, 0.8, lam=2.0),
        _point(config, "SBS λ=1", 90, 0.9, 0.88, lam=1.0, seed=1),
        _point(config, "uniform 4-bit", 200, 0.9, 0.9, method="uniform", bits=4, prune=0.0, seed=1),
    ]
    fig = viz.sbs_pareto(pts, title="x")
    names = [t.name for t in fig.data]
    assert names == ["SBS (seed 0)", "SBS (seed 1)", "SBS Pareto front", "uniform (seed 1)", "uniform Pareto front"]
    assert fig.data[0].opacity == 0.5 and fig.data[1].opacity == 0.5
    assert fig.layout.title.text == "x" and not fig.layout.shapes
    with pytest.raises(ValueError, match="empty"):
        viz.sbs_pareto([])
    with pytest.raises(ValueError, match="method"):
        viz.sbs_pareto([dataclasses.replace(pts[0], method="other")])
    with pytest.raises(ValueError, match="budget"):
        viz.sbs_pareto(pts, budget=0)
