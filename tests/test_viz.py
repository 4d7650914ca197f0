import plotly.graph_objects as go
import pytest
import torch

from effdl import viz, widgets
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
    with pytest.raises(ValueError, match=r"bits must be an int in 1\.\.8"):
        widgets.quant_explorer(model, data, bits=9)
    with pytest.raises(ValueError, match="layer must be one of"):
        widgets.quant_explorer(model, data, layer="1")
