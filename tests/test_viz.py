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
