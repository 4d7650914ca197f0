import copy

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

import effdl
from effdl import viz, widgets
from effdl.compress import quant
from effdl.core.footprint import measure_latency
from effdl.core.train import History

POINTS = [
    {"name": "a", "params": 10, "accuracy": 90.0, "macs": 500},
    {"name": "b", "params": 20, "accuracy": 95.0, "macs": 100},
    {"name": "c", "params": 30, "accuracy": 93.0, "macs": 50},  # dominated by b in params, best in MACs
    {"name": "d", "params": 40, "accuracy": 97.0, "macs": 900},
]


def test_pareto_scatter_draws_the_frontier_for_the_chosen_axes():
    fig = viz.pareto_scatter(POINTS, x="params", y="accuracy")
    frontier, models = fig.data
    assert list(frontier.x) == [10, 20, 40] and list(frontier.y) == [90, 95, 97]
    assert list(models.text) == ["a", "b", "c", "d"]
    assert fig.layout.xaxis.title.text == "parameters"
    by_macs = viz.pareto_scatter(POINTS, x="macs", y="accuracy", log_x=True)
    assert list(by_macs.data[0].x) == [50, 100, 900] and by_macs.layout.xaxis.type == "log"


def test_pareto_scatter_rejects_missing_metrics():
    with pytest.raises(ValueError, match="have no 'latency_ms'"):
        viz.pareto_scatter(POINTS, x="latency_ms", y="accuracy")
    with pytest.raises(ValueError, match="empty"):
        viz.pareto_scatter([], x="params", y="accuracy")


def test_explorer_dropdowns_change_the_figure_in_place():
    box = widgets.pareto_explorer(POINTS, x="params", y="accuracy")
    x_dd, y_dd, log_cb = box.children[0].children
    fig = box.figure
    assert isinstance(fig, go.FigureWidget)
    assert list(fig.data[0].x) == [10, 20, 40]
    x_dd.value = "macs"
    assert list(fig.data[0].x) == [50, 100, 900]
    assert list(fig.data[1].x) == [500, 100, 50, 900]
    assert fig.layout.xaxis.title.text == "MACs per sample"
    log_cb.value = False
    assert fig.layout.xaxis.type == "linear"
    y_dd.value = "params"
    assert list(fig.data[1].y) == [10, 20, 30, 40] and fig.layout.yaxis.title.text == "parameters"
    with pytest.raises(ValueError, match="not among the metrics"):
        widgets.pareto_explorer(POINTS, x="bits")


def test_training_curves_latency_box_and_image_grid():
    h = History(epoch=[1, 2], val_accuracy=[0.5, 0.75])
    fig = viz.training_curves({"m": h})
    assert list(fig.data[0].y) == [50.0, 75.0]
    lat = measure_latency(torch.nn.Linear(4, 2), torch.zeros(8, 4), warmup=1, repeats=5)
    box = viz.latency_box({"lin": lat})
    assert len(box.data[0].y) == 5 and "batch of 8" in box.layout.title.text
    grid = viz.image_grid(torch.randn(10, 1, 8, 8), torch.arange(10), columns=5)
    assert sorted(a.text for a in grid.layout.annotations) == sorted(str(i) for i in range(10))
    with pytest.raises(ValueError, match="images must be"):
        viz.image_grid(torch.randn(10, 8, 8))


def test_singular_value_spectra_normalizes_and_accumulates_energy():
    fig = viz.singular_value_spectra({"diag": torch.tensor([4.0, 3.0, 2.0, 1.0]), "flat": torch.ones(2)})
    norm, energy, flat_norm, flat_energy = fig.data
    assert list(norm.y) == [1.0, 0.75, 0.5, 0.25] and list(norm.x) == [1, 2, 3, 4]
    assert list(energy.y) == pytest.approx([100 * 16 / 30, 100 * 25 / 30, 100 * 29 / 30, 100.0])
    assert list(energy.x) == [0.25, 0.5, 0.75, 1.0]  # rank as a fraction of the full rank
    assert list(flat_norm.y) == [1.0, 1.0] and list(flat_energy.y) == [50.0, 100.0]
    assert fig.layout.yaxis.type == "log"
    with pytest.raises(ValueError, match="empty"):
        viz.singular_value_spectra({})


def test_rank_curves_keeps_the_marker_last():
    fig = viz.rank_curves({"before": ([1, 2], [50.0, 80.0])}, baseline=90.0, break_even=3.5, marker=(2, 80.0))
    assert [t.name for t in fig.data] == ["before", "unfactorized (90)", "now"]
    assert list(fig.data[-1].x) == [2] and fig.layout.shapes[0].x0 == 3.5
    assert list(viz.rank_curves({"a": ([1], [2.0])}).data[-1].x) == []
    with pytest.raises(ValueError, match="2 ranks but 1 values"):
        viz.rank_curves({"a": ([1, 2], [2.0])})


def test_lowrank_explorer_reevaluates_when_the_rank_moves():
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3))
    x = torch.randn(40, 8, generator=torch.Generator().manual_seed(0))
    data = (x, model(x).argmax(-1))
    box = widgets.lowrank_explorer(model, data, layers=["0"], points=4)
    fig, slider = box.figure, box.slider
    assert isinstance(fig, go.FigureWidget) and slider.max == 6
    assert "effdl-main-control" in slider._dom_classes
    slider.value = 6  # full rank: the dense model's accuracy, 100% on its own predictions
    assert list(fig.data[-1].x) == [6] and list(fig.data[-1].y) == [100.0]
    assert "at rank <b>6</b>" in box.children[1].value
    slider.value = 1
    assert list(fig.data[-1].x) == [1]
    assert isinstance(model[0], nn.Linear)  # the model itself is never modified
    with pytest.raises(ValueError, match=r"not an nn\.Linear"):
        widgets.lowrank_explorer(model, data, layers=["1"])


def test_soft_targets_bars_and_seed_bars():
    fig = viz.soft_targets_bars({"T = 1": [0.5, 0.25, 0.25], "T = 4": torch.tensor([0.4, 0.3, 0.3])})
    assert [t.name for t in fig.data] == ["T = 1", "T = 4"]
    assert list(fig.data[0].y) == [50.0, 25.0, 25.0] and list(fig.data[0].x) == ["0", "1", "2"]
    with pytest.raises(ValueError, match="same number of classes"):
        viz.soft_targets_bars({"a": [1.0], "b": [0.5, 0.5]})
    bars = viz.seed_bars({"alone": [80.0, 82.0, 84.0], "distilled": [85.0, 86.0, 87.0]})
    assert list(bars.data[0].y) == [82.0, 86.0]  # the means
    assert [list(t.y) for t in bars.data[1:]] == [[80.0, 85.0], [82.0, 86.0], [84.0, 87.0]]  # one trace per seed
    with pytest.raises(ValueError, match="at least one value"):
        viz.seed_bars({"alone": []})


def test_distill_sweep_heatmap_shows_gains_over_the_baseline():
    rows = [{"T": t, "alpha": a, "accuracy": 80.0 + t + a} for t in (1, 4) for a in (0.5, 0.9)]
    fig = viz.distill_sweep_heatmap(rows, baseline=80.0, marker=(4, 0.9))
    heat, mark = fig.data
    assert list(heat.x) == ["1", "4"] and list(heat.y) == ["0.5", "0.9"]
    # rows: alpha, columns: T
    assert [list(r) for r in heat.z] == [pytest.approx([1.5, 4.5]), pytest.approx([1.9, 4.9])]
    assert heat.text[1][1] == "+4.90"
    assert list(mark.x) == ["4"] and list(mark.y) == ["0.9"]
    with pytest.raises(ValueError, match="no 'accuracy'"):
        viz.distill_sweep_heatmap([{"T": 1, "alpha": 0.5}])


def test_distill_widgets_update_in_place():
    box = widgets.temperature_explorer(torch.tensor([4.0, 1.0, 0.0]), T=2.0)
    fig = box.figure
    assert list(fig.data[0].y) == pytest.approx((100 * torch.softmax(torch.tensor([4.0, 1, 0]), 0)).tolist())
    box.slider.value = 10.0
    assert list(fig.data[1].y) == pytest.approx((100 * torch.softmax(torch.tensor([0.4, 0.1, 0]), 0)).tolist())
    assert "T = <b>10</b>" in box.children[1].value
    with pytest.raises(ValueError, match=r"\(C,\) logits"):
        widgets.temperature_explorer(torch.zeros(2, 3))

    rows = [
        {"T": t, "alpha": a, "accuracy": 80.0 + t + a, "curve": [70.0, 80.0 + t]} for t in (1, 4) for a in (0.5, 0.9)
    ]
    sweep = widgets.distill_sweep_explorer(rows, baseline=80.0, baseline_curve=[60.0, 79.0])
    assert list(sweep.figure.data[-1].x) == ["1"]  # starts at the lowest T, largest alpha
    assert "+1.90 points" in sweep.children[1].value
    sweep.slider.value = 4.0
    assert list(sweep.figure.data[-1].x) == ["4"] and "+4.90 points" in sweep.children[1].value
    sweep.slider.value = 1.0
    sweep.alpha_slider.value = 0.5
    assert list(sweep.figure.data[-1].x) == ["1"] and list(sweep.figure.data[-1].y) == ["0.5"]
    assert list(sweep.curves.data[-1].y) == [70.0, 81.0]
    assert "81.50%" in sweep.children[1].value
    assert "effdl-main-control" in sweep.slider._dom_classes
    with pytest.raises(ValueError, match="not in the sweep"):
        widgets.distill_sweep_explorer(rows, value=(2, 0.5))


def test_bits_accuracy_curves_orders_bits_from_many_to_few():
    fig = viz.bits_accuracy_curves({"ptq": {2: 50.0, 8: 97.0, 4: 95.0}, "qat": {2: 90.0}}, baseline=97.5)
    assert list(fig.data[0].x) == ["8", "4", "2"] and list(fig.data[0].y) == [97.0, 95.0, 50.0]
    assert list(fig.layout.xaxis.categoryarray) == ["8", "4", "2"]
    assert fig.layout.shapes[0].y0 == 97.5  # the float baseline line
    err = viz.bits_accuracy_curves({"minmax": {2: 0.1, 3: 0.05}}, ylabel="RMS error", log_y=True)
    assert err.layout.yaxis.type == "log" and err.layout.yaxis.title.text == "RMS error"
    with pytest.raises(ValueError, match="curves is empty"):
        viz.bits_accuracy_curves({})


def test_quant_histograms_show_weights_and_error():
    w = torch.tensor([0.1, -0.4, 0.25, 0.9])
    q = torch.tensor([0.0, -0.5, 0.5, 1.0])
    fig = viz.quant_histograms(w, q)
    assert [t.name for t in fig.data] == ["float", "quantized", "error"]
    assert sum(fig.data[0].y) == sum(fig.data[1].y) == sum(fig.data[2].y) == 4
    err = viz.quant_histograms(w, q, bins=2).data[2]  # errors -0.1, -0.1, 0.25, 0.1 over [-0.1, 0.25]
    assert list(err.y) == [2, 2] and list(err.x) == pytest.approx([-0.0125, 0.1625])
    with pytest.raises(ValueError, match="same shape"):
        viz.quant_histograms(w, q[:2])


def test_quant_explorer_requantizes_and_reevaluates_live():
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    x = torch.randn(60, 8, generator=torch.Generator().manual_seed(0))
    data = (x, model(x).argmax(-1))
    box = widgets.quant_explorer(model, data, bits=8)
    assert "effdl-main-control" in box.slider._dom_classes
    assert "float 100.00%" in box.readout.value and "<b>8-bit</b>" in box.readout.value
    levels8 = sum(c > 0 for c in box.figure.data[1].y)
    box.slider.value = 1  # binary weights: two values per output channel
    assert "<b>1-bit</b>" in box.readout.value
    assert sum(c > 0 for c in box.figure.data[1].y) < levels8
    assert sum(c > 0 for c in box.figure.data[1].y) <= 2 * 16
    assert isinstance(model[0].weight, nn.Parameter) and not hasattr(model[0], "parametrizations")
    # every bit width of the starting setting was computed at start-up; a new setting is computed once when chosen
    assert sorted(box.results) == [(b, True, "minmax") for b in range(1, 9)]
    box.children[0].children[1].value = False  # per tensor
    assert (1, False, "minmax") in box.results and len(box.results) == 9
    fresh = copy.deepcopy(model)
    quant.quantize_weights_(fresh, bits=1, per_channel=False, observer="minmax")
    assert box.results[(1, False, "minmax")][0] == 100 * effdl.evaluate(fresh, data).accuracy
    with pytest.raises(ValueError, match=r"bits must be an int in 1\.\.8"):
        widgets.quant_explorer(model, data, bits=9)
    with pytest.raises(ValueError, match="layer must be one of"):
        widgets.quant_explorer(model, data, layer="1")


# ------------------------------------------------------------------------------------------------- chapter 07
SCALE_ROWS = [
    {
        "name": "small",
        "method": "none",
        "label": "fp32",
        "sparsity": 0.0,
        "bits": 32,
        "size_bits": 1000,
        "val_bpc": 3.0,
        "rel_increase": 0.0,
    },
    {
        "name": "small",
        "method": "prune",
        "label": "50% pruned",
        "sparsity": 0.5,
        "bits": 32,
        "size_bits": 600,
        "val_bpc": 3.3,
        "rel_increase": 0.1,
    },
    {
        "name": "small",
        "method": "quant",
        "label": "4-bit",
        "sparsity": 0.0,
        "bits": 4,
        "size_bits": 300,
        "val_bpc": 3.06,
        "rel_increase": 0.02,
    },
    {
        "name": "large",
        "method": "none",
        "label": "fp32",
        "sparsity": 0.0,
        "bits": 32,
        "size_bits": 8000,
        "val_bpc": 2.5,
        "rel_increase": 0.0,
    },
    {
        "name": "large",
        "method": "prune",
        "label": "50% pruned",
        "sparsity": 0.5,
        "bits": 32,
        "size_bits": 4500,
        "val_bpc": 2.6,
        "rel_increase": 0.04,
    },
    {
        "name": "large",
        "method": "quant",
        "label": "4-bit",
        "sparsity": 0.0,
        "bits": 4,
        "size_bits": 1100,
        "val_bpc": 2.51,
        "rel_increase": 0.004,
    },
    {
        "name": "large",
        "method": "prune+quant",
        "label": "50% pruned + 4-bit",
        "sparsity": 0.5,
        "bits": 4,
        "size_bits": 900,
        "val_bpc": 2.62,
        "rel_increase": 0.048,
    },
]


def test_lm_curves_plots_every_axis():
    curves = {
        "a": {"step": [0, 10, 20], "seconds": [0.0, 1.0, 2.0], "flops": [0, 100, 200], "val_bpc": [6.0, 4.0, 3.5]},
        "b": {"step": [0, 10], "seconds": [0.0, 3.0], "flops": [0, 400], "val_bpc": [6.0, 3.2]},
    }
    fig = viz.lm_curves(curves, x="step", baseline=4.5, target=3.5)
    assert [t.name for t in fig.data] == ["a", "b"] and list(fig.data[0].y) == [6.0, 4.0, 3.5]
    assert fig.layout.xaxis.type == "linear" and len(fig.layout.shapes) == 2
    flops = viz.lm_curves(curves, x="flops")
    assert flops.layout.xaxis.type == "log" and list(flops.data[0].x) == [100, 200]  # step 0 has no place on a log axis
    assert list(viz.lm_curves(curves, x="seconds").data[1].x) == [0.0, 3.0]
    with pytest.raises(ValueError, match="x must be one of 'step', 'seconds', 'flops', got 'epoch'"):
        viz.lm_curves(curves, x="epoch")


def test_compression_robustness_panels():
    fig = viz.compression_robustness(SCALE_ROWS)
    prune_small, quant_small, prune_large, quant_large = fig.data
    assert list(prune_small.x) == [0.0, 50.0] and list(prune_small.y) == pytest.approx([0.0, 10.0])
    assert list(quant_large.x) == ["32", "4"] and list(quant_large.y) == pytest.approx([0.0, 0.4])
    assert prune_large.line.color == quant_large.line.color and not quant_small.showlegend
    with pytest.raises(ValueError, match="has no"):
        viz.compression_robustness([{"name": "x"}])


def test_size_loss_scatter_filters_by_method_and_draws_the_budget():
    fig = viz.size_loss_scatter(SCALE_ROWS, method="quant", budget_bits=1200, best=[SCALE_ROWS[5]])
    small, large, frontier, budget, stars = fig.data
    assert list(small.x) == [0.3, 1.0] and list(large.text) == ["4-bit", "fp32"]  # fp32 rows always shown
    assert list(frontier.x) == [0.3, 1.0, 1.1, 8.0] and list(frontier.y) == [3.06, 3.0, 2.51, 2.5]
    assert list(budget.x) == [1.2, 1.2] and list(stars.y) == [2.51]
    assert fig.layout.xaxis.type == "log"
    everything = viz.size_loss_scatter(SCALE_ROWS)
    assert len(everything.data[1].x) == 4 and list(everything.data[3].x) == []
    with pytest.raises(ValueError, match="method must be one of 'any', 'prune', 'quant', 'prune\\+quant'"):
        viz.size_loss_scatter(SCALE_ROWS, method="distill")


def test_scaling_explorer_moves_the_budget_and_the_method():
    box = widgets.scaling_explorer(SCALE_ROWS, budget_bits=1000)
    assert "effdl-main-control" in box.slider._dom_classes
    assert box.slider.value == 1000
    stars = box.figure.data[-1]
    assert sorted(stars.y) == [2.62, 3.0]  # within 1 kbit: the large model only fits pruned + quantized
    assert "best is <b>large, 50% pruned + 4-bit</b>" in box.readout.value
    box.slider.value = 300
    assert list(box.figure.data[-1].y) == [3.06] and list(box.figure.data[-2].x) == [0.3, 0.3]
    box.method.value = "prune"
    assert "nothing fits" in box.readout.value
    box.slider.value = 8000
    assert "best is <b>large, fp32</b>" in box.readout.value
    assert list(box.figure.data[1].text) == ["50% pruned", "fp32"]
    with pytest.raises(ValueError, match="below every size"):
        widgets.scaling_explorer(SCALE_ROWS, budget_bits=10)
    with pytest.raises(ValueError, match="method must be one of"):
        widgets.scaling_explorer(SCALE_ROWS, method="lowrank")


# ----------------------------------------------------------------------------------------------------------
# Range regularization (chapter 05)


def test_weight_histograms_standardize_and_name_the_ratio():
    w = torch.tensor([-1.0, 0.0, 0.0, 1.0, 4.0])
    fig = viz.weight_histograms({"base": w, "flat": torch.tensor([-1.0, 1.0, -1.0, 1.0])}, bins=10)
    base, flat = fig.data
    std = w.std().item()
    assert base.name == f"base (max|w|/std {4.0 / std:.2f})" and flat.name.startswith("flat (max|w|/std 0.87)")
    assert min(base.x) > -1.0 / std - 1 and max(base.x) < 4.0 / std  # bin centres in units of std
    assert sum(v for v in base.y if v is not None) == pytest.approx(100.0)  # shares in % of the layer
    assert fig.layout.yaxis.type == "log"
    raw = viz.weight_histograms({"base": w}, standardize=False, log_y=False, bins=5)
    assert raw.layout.xaxis.title.text == "weight value" and max(raw.data[0].x) < 4.0
    with pytest.raises(ValueError, match="empty"):
        viz.weight_histograms({})
    with pytest.raises(ValueError, match="at least 2 values"):
        viz.weight_histograms({"one": torch.tensor([1.0])})


def test_range_ratio_bars_and_grouped_seed_bars():
    fig = viz.range_ratio_bars({"baseline": {"a": 3.0, "b": 2.5}, "R²": {"a": 1.6, "b": 1.5}})
    assert [t.name for t in fig.data] == ["baseline", "R²"] and list(fig.data[1].y) == [1.6, 1.5]
    assert fig.layout.shapes[0].y0 == pytest.approx(3**0.5)
    with pytest.raises(ValueError, match="no value for layers"):
        viz.range_ratio_bars({"baseline": {"a": 3.0, "b": 2.5}, "R²": {"a": 1.6}})
    groups = {"PTQ 2-bit": {"baseline": [20.0, 30.0], "R²": [60.0, 80.0]}, "fp32": {"baseline": [97.0], "R²": [98.0]}}
    fig = viz.grouped_seed_bars(groups)
    bars = [t for t in fig.data if t.type == "bar"]
    points = [t for t in fig.data if t.type == "scatter"]
    assert [list(b.y) for b in bars] == [[25.0, 97.0], [70.0, 98.0]]
    assert list(points[1].y) == [60.0, 80.0, 98.0] and list(points[1].x) == ["PTQ 2-bit", "PTQ 2-bit", "fp32"]
    with pytest.raises(ValueError, match="at least one value"):
        viz.grouped_seed_bars({"fp32": {"baseline": []}})


def test_weight_histogram_explorer_browses_layers_and_trainings():
    g = torch.Generator().manual_seed(0)
    weights = {
        "baseline": {"l1": torch.randn(200, generator=g), "l2": torch.randn(10, 30, generator=g)},
        "R²": {"l1": torch.rand(200, generator=g) - 0.5, "l2": torch.rand(10, 30, generator=g) - 0.5},
    }
    box = widgets.weight_histogram_explorer(weights)
    assert "effdl-main-control" in box.slider._dom_classes
    assert box.slider.value == "l1" and box.dropdown.value == "R²"
    assert isinstance(box.figure, go.FigureWidget) and len(box.figure.data) == 2
    readout = box.children[1]
    assert "l1 (200,)" in readout.value and "baseline: max|w|/std" in readout.value
    before = list(box.figure.data[1].y)
    box.slider.value = "l2"
    assert list(box.figure.data[1].y) != before and "l2 (10, 30)" in readout.value
    assert box.figure.layout.title.text == "layer l2: baseline vs R²"
    flat = weights["R²"]["l2"].flatten()
    zeros = 100 * (flat.abs() <= flat.abs().max() / 4).float().mean().item()  # 2-bit full grid: -m, -m/2, 0, m/2
    assert f"R²: max|w|/std <b>{(flat.abs().max() / flat.std()).item():.2f}</b>" in readout.value
    assert f"rounds <b>{zeros:.0f}%</b> to 0" in readout.value
    box.dropdown.value = "baseline"
    assert box.figure.data[0].name.startswith("baseline (reference)")
    with pytest.raises(ValueError, match="has no tensor for layers"):
        widgets.weight_histogram_explorer({"a": {"l1": torch.randn(5)}, "b": {"l2": torch.randn(5)}})
    with pytest.raises(ValueError, match="layer must be one of"):
        widgets.weight_histogram_explorer(weights, layer="l9")


# ----------------------------------------------------------------------------------------------------------
# LZSS (chapter 09)


def _lzss_codes():
    from effdl.hardware.lzss import data

    return data.lorenzo_codes(data.sample_field("jacksboro")).reshape(-1)[:40000]


def test_lzss_tokens_colours_every_symbol_and_points_matches_back():
    from effdl.hardware import lzss

    values = [5, 5, 5, 9, 5, 5, 5, 9, 1]
    tokens = lzss.parse(lzss.compress(bytes(values), symbol_size=1, window=8, chunk=64))
    fig = viz.lzss_tokens(values, tokens, per_row=4)
    kinds = {t.name: len(t.x) for t in fig.data if t.mode == "text"}  # then one legend swatch per kind
    assert kinds == {"literal": sum(t.length for t in tokens if t.kind == "literal"), "match": 9 - kinds["literal"]}
    matches = [t for t in tokens if t.kind == "match"]
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) == len(matches)
    first = matches[0]
    assert (arrows[0].ax, arrows[0].x) == (first.symbol % 4, (first.symbol - first.offset) % 4)
    stored = lzss.parse(lzss.compress(bytes(range(20)) + bytes(20), symbol_size=1, chunk=20))  # stored, then coded
    assert [t.kind for t in stored] == ["stored", "literal", "match"]
    names = [t.name for t in viz.lzss_tokens(list(range(20)) + [0] * 20, stored).data]
    assert names.count("stored") == 2  # its text trace and its legend swatch
    with pytest.raises(ValueError, match="cover"):
        viz.lzss_tokens(values[:-1], tokens)


def test_lzss_pipeline_draws_input_slots_and_the_compacted_blob():
    from effdl.hardware import lzss

    codes = _lzss_codes()[:3000]
    blob = lzss.compress(codes, symbol_size=2, chunk=2048)
    fig = viz.lzss_pipeline(blob)
    k = lzss.read_header(blob).chunks
    assert k == 3 and [t.name for t in fig.data][:4] == ["input", "coded", "offsets", "blob"]
    assert len(fig.data[0].x) == k and f"→ {len(blob):,} bytes" in fig.layout.title.text
    assert max(s.x1 for s in fig.layout.shapes if s.y0 < 0.5) == len(blob)  # the blob row ends at its size
    with pytest.raises(ValueError, match="no chunks"):
        viz.lzss_pipeline(lzss.compress(b""))


def test_lzss_chunk_ratios_and_the_explorer_recompress_live():
    from effdl.hardware import lzss

    codes = _lzss_codes()
    fig = viz.lzss_chunk_ratios(lzss.compress(codes, symbol_size=2))
    assert [t.name for t in fig.data][:2] == ["coded chunk", "stored chunk"]
    assert len(fig.data[0].x) == lzss.read_header(lzss.compress(codes, symbol_size=2)).chunks
    box = widgets.lzss_explorer(codes, reference={"lz4": 2.0})
    assert "effdl-main-control" in box.slider._dom_classes
    first = box.readout.value
    ratio = len(codes.tobytes()) / len(lzss.compress(codes, symbol_size=2))
    assert f"ratio <b>{ratio:.3f}</b>" in first and "lz4 2.00" in first
    box.slider.value = 16  # a short window: fewer matches, a lower ratio, recomputed live
    small = len(codes.tobytes()) / len(lzss.compress(codes, symbol_size=2, window=16))
    assert f"ratio <b>{small:.3f}</b>" in box.readout.value and small < ratio
    assert box.figure.data[2].y[0] == pytest.approx(small)
    box.chunk_slider.value = 512
    box.symbol_buttons.value = 1
    assert box.figure.layout.title.text == "ratio per chunk (S = 1, W = 16, C = 512 bytes)"
    # noise compresses nowhere: a stored stream, drawn as one grey bar over the whole input at ratio 1
    noise = np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)
    fig = viz.lzss_chunk_ratios(lzss.compress(noise))
    assert fig.data[1].name.startswith("stored stream") and list(fig.data[1].y) == [1.0] and not fig.data[0].x
    assert list(fig.data[1].width) == [5.0] and fig.data[2].x[1] == 5.0  # kB: the bar and the line span the input
    box = widgets.lzss_explorer(noise)
    assert "a stored stream" in box.readout.value and "0 matches" in box.readout.value
    with pytest.raises(ValueError, match="window"):
        widgets.lzss_explorer(codes, window=0)
    with pytest.raises(ValueError, match="chunk must be one of"):
        widgets.lzss_explorer(codes, chunk=1000)


def test_codec_comparison_and_sweep_curves():
    rows = [
        {
            "dataset": d,
            "codec": c,
            "ratio": r,
            "compress MB/s": 10.0,
            "compress IQR MB/s": 1.0,
            "decompress MB/s": None if c == "gpu" else 20.0,
            "decompress IQR MB/s": None,
        }
        for d, c, r in [("a", "lzss", 2.0), ("a", "lz4", 1.5), ("b", "lzss", 1.0), ("b", "gpu", 1.0)]
    ]
    fig = viz.codec_comparison(rows)
    assert len(fig.data) == 3 * 3  # three codecs × three panels
    lzss_ratio = fig.data[0]
    assert list(lzss_ratio.x) == ["a", "b"] and list(lzss_ratio.y) == [2.0, 1.0]
    assert len(fig.data[8].x) == 0  # the gpu row has no decompression
    sweep = [
        {"param": p, "value": v, "ratio": v / 10, "compress MB/s": 100 / v}
        for p, v in [("W", 32), ("W", 255), ("S", 2)]
    ]
    curves = viz.lzss_sweep_curves(sweep)
    assert len(curves.data) == 4 and list(curves.data[0].x) == [32, 255]
    with pytest.raises(ValueError, match="empty"):
        viz.codec_comparison([])
    with pytest.raises(ValueError, match="no W, C or S"):
        viz.lzss_sweep_curves([{"param": "X", "value": 1}])


# ----------------------------------------------------------------------------------------------------------
# eDRAM (chapter 08)


def _edram_traces():
    from effdl.hardware import edram
    from effdl.hardware.reversible import PlainResNet, RevNet

    torch.manual_seed(0)
    rev, std = RevNet(channels=4, depth=2, stem_stride=4), PlainResNet(channels=4, depth=2, stem_stride=4)
    rev_tr = {b: edram.trace(rev, (1, 28, 28), batch=b) for b in (1, 2)}
    std_tr = {b: edram.trace(std, (1, 28, 28), batch=b) for b in (1, 2)}
    return rev_tr, std_tr


def test_retention_curve_and_activation_memory_curves():
    fig = viz.retention_curve([90, 100, 110], [6.7e-6, 3.35e-6, 1.675e-6])
    curve, mark = fig.data
    assert list(curve.y) == pytest.approx([6.7, 3.35, 1.675]) and fig.layout.yaxis.type == "log"
    assert mark.x == (100.0,) and mark.y == pytest.approx((3.35,)) and "3.35 µs @ 100 °C" in mark.text[0]
    with pytest.raises(ValueError, match="equal length"):
        viz.retention_curve([1, 2], [1e-6])
    rows = [{"model": m, "depth": d, "bytes": b} for m, d, b in [("rev", 2, 1000), ("rev", 1, 1000), ("std", 1, 500)]]
    fig = viz.activation_memory_curves(rows)
    assert [t.name for t in fig.data] == ["rev", "std"]
    assert list(fig.data[0].x) == [1, 2] and list(fig.data[0].y) == [1.0, 1.0]  # sorted by depth, in kB
    with pytest.raises(ValueError, match="no \\['bytes'\\]"):
        viz.activation_memory_curves([{"model": "a", "depth": 1}])


def test_lifetime_chart_energy_bars_and_codesign_scatter():
    from effdl.hardware import edram

    rev_tr, std_tr = _edram_traces()
    std = edram.simulate(std_tr[1], schedule="standard", memory=edram.Memory(area_bytes=64))  # tiny: spills
    rev = edram.simulate(rev_tr[1], schedule="reversible")
    fig = viz.lifetime_chart({"standard": edram.lifetimes(std), "reversible": edram.lifetimes(rev)}, retention_us=3.35)
    s, r, line = fig.data
    assert len(s.y) == len(std.tensors) and len(r.y) == len(rev.tensors)
    assert max(r.y) == pytest.approx(rev.max_lifetime_s * 1e6)
    assert list(s.marker.symbol).count("circle-open") == std.spilled > 0
    assert line.y == (3.35, 3.35) and fig.layout.yaxis.type == "log"
    with pytest.raises(ValueError, match="retention_us"):
        viz.lifetime_chart({"a": []}, retention_us=0)
    rows = edram.compare(rev_tr[1], standard=std_tr[1])
    fig = viz.energy_bars(rows)
    assert [t.name for t in fig.data[:5]] == [
        "MACs",
        "on-chip reads",
        "on-chip writes",
        "eDRAM refresh",
        "off-chip DRAM",
    ]
    for i, row in enumerate(rows):  # the stack adds up to the total written above it
        assert sum(t.y[i] for t in fig.data[:5]) == pytest.approx(row["total_uj"])
    assert fig.data[5].text[0] == f"{rows[0]['total_uj']:.3g} µJ" and fig.layout.barmode == "stack"
    with pytest.raises(ValueError, match="compare rows"):
        viz.energy_bars([{"scenario": "x"}])
    sweep = [
        {"config": "a", "max_lifetime_us": 2.0, "energy_ratio": 3.0, "refreshes": 0},
        {"config": "b", "max_lifetime_us": 9.0, "energy_ratio": 1.2, "refreshes": 5},
    ]
    fig = viz.codesign_scatter(sweep, retention_us=3.35)
    assert list(fig.data[0].text) == ["a"] and list(fig.data[1].text) == ["b"] and fig.data[2].x == (3.35, 3.35)


def test_edram_explorer_resimulates_live():
    from effdl.hardware import edram

    rev_tr, std_tr = _edram_traces()
    box = widgets.edram_explorer(rev_tr, standard=std_tr, batch=1)
    assert "effdl-main-control" in box.temperature._dom_classes
    assert box.rows == edram.compare(rev_tr[1], standard=std_tr[1])  # the defaults: 100 °C, 128 KiB, 16 × 16
    assert "retention <b>3.35 µs</b>" in box.readout.value
    # every temperature position of the starting setting is simulated at start-up, others once when first chosen
    assert sorted(k[0] for k in box.results) == [float(t) for t in range(0, 151, 5)]
    before = list(box.figure.data[0].y)
    box.temperature.value = 120.0  # hotter: retention / 4, the dashed line drops
    assert box.figure.data[-1].y == pytest.approx((3.35 / 4, 3.35 / 4))
    box.batch.value = 2
    box.array.value = 4
    box.area.value = 16
    want = edram.compare(
        rev_tr[2],
        standard=std_tr[2],
        accelerator=edram.Accelerator(rows=4, cols=4),
        memory=edram.Memory(area_bytes=16 * 1024, retention_s=edram.retention_at(120.0)),
    )
    assert box.rows == want and len(box.results) == 31 + 3  # batch, then array, then area: three new settings
    assert [box.energy_figure.data[i].y[2] for i in range(5)] == pytest.approx(
        [want[2][f"{c}_uj"] for c in edram.COMPONENTS]
    )
    assert list(box.figure.data[0].y) != before  # a bigger batch on a smaller array: longer lifetimes
    ratio = want[0]["total_uj"] / want[2]["total_uj"]
    assert f"= <b>{ratio:.2f}×</b>" in box.readout.value
    with pytest.raises(ValueError, match="batch must be one of"):
        widgets.edram_explorer(rev_tr, standard=std_tr, batch=3)
    with pytest.raises(ValueError, match="same batch sizes"):
        widgets.edram_explorer(rev_tr, standard={1: std_tr[1]})
    with pytest.raises(TypeError, match=r"an edram\.Trace"):
        widgets.edram_explorer({1: "trace"})


def test_mean_std_bars_draws_means_spread_and_each_seed():
    fig = viz.mean_std_bars(
        {"a": [1.0, 2.0, 3.0], "b": [4.0]}, colours={"a": "red"}, unit=" %", seeds={"a": [0, 1, 2], "b": [7]}
    )
    bars, dots = fig.data
    assert list(bars.y) == [2.0, 4.0] and list(bars.error_y.array) == [1.0, 0.0]  # std ddof 1; one seed: no bar
    assert list(bars.marker.color) == ["red", "#636efa"] and list(bars.text) == ["2", "4"]
    assert list(dots.x) == ["a", "a", "a", "b"] and list(dots.customdata) == [0, 1, 2, 7] and " %" in dots.hovertemplate
    with pytest.raises(ValueError, match="at least one value"):
        viz.mean_std_bars({"a": []})
