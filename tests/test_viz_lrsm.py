"""Figures of chapter 11: the strata graph, the variants' losses, the objective history, the loss path."""

import math

import plotly.graph_objects as go
import pytest

from effdl import viz

WEIGHTS = {((0, 0), (0, 1)): 1.0, ((0, 1), (0, 2)): 0.0, ((0, 0), (1, 0)): 2.0, ((1, 0), (1, 1)): 0.5}


def test_lrsm_graph_layout_widths_and_highlight():
    fig = viz.lrsm_graph(WEIGHTS, sizes={(0, 0): 4, (0, 1): 100}, highlight=[((0, 2), (0, 1))])
    assert isinstance(fig, go.Figure)
    edges = fig.data[: len(WEIGHTS)]
    assert list(edges[0].x) == [0.0, 1.0] and list(edges[0].y) == [0.0, 0.0]  # (row, bin): x = bin, y = row
    assert list(edges[2].x) == [0.0, 0.0] and list(edges[2].y) == [0.0, 1.0]
    assert math.isclose(edges[2].line.width, 10.0) and math.isclose(edges[0].line.width, 5.5)  # 1 + 9·w/wmax
    assert edges[1].line.dash == "dot"  # a weight of 0 stays visible, dotted
    assert list(fig.data[len(WEIGHTS)].customdata) == list(WEIGHTS.values())
    assert fig.data[len(WEIGHTS) + 1].name == "break edges" and list(fig.data[len(WEIGHTS) + 1].x) == [1.5]
    nodes = fig.data[-1]
    assert len(nodes.x) == 5 and list(nodes.text[:2]) == ["4", "100"]
    assert math.isclose(viz.lrsm_graph(WEIGHTS, wmax=4.0).data[2].line.width, 5.5)


def test_lrsm_graph_rejects_bad_input():
    with pytest.raises(ValueError, match="empty"):
        viz.lrsm_graph({})
    with pytest.raises(ValueError, match="≥ 0"):
        viz.lrsm_graph({("a", "b"): -1.0})
    with pytest.raises(ValueError, match="not in keys"):
        viz.lrsm_graph({("a", "b"): 1.0}, keys=["a"])
    fig = viz.lrsm_graph({("a", "b"): 1.0, ("b", "c"): 2.0})  # other keys: on one line
    assert list(fig.data[-1].x) == [0.0, 1.0, 2.0]


def test_lrsm_variants_history_and_path():
    fig = viz.lrsm_variants({"separate": [4.0, 5.0], "learned": [1.0, 1.1]}, floor=1.0)
    assert list(fig.data[0].y) == [4.5, 1.05] and fig.layout.yaxis.type == "linear"
    assert len(fig.data[1].x) == 4
    assert viz.lrsm_variants({"a": [10.0], "b": [1.0]}).layout.yaxis.type == "log"
    with pytest.raises(ValueError):
        viz.lrsm_variants({"a": []})
    hist = viz.lrsm_history({"fit": [3.0, 2.0, 1.5, 1.5]})
    assert list(hist.data[0].y) == [3.0, 2.0, 1.5, 1.5]
    assert list(hist.data[1].x) == [0, 1] and list(hist.data[1].y) == [1.5, 0.5]  # zeros dropped on the log axis
    path = viz.lrsm_loss_path({0.1: (1.0, 1.1), 1.0: (0.9, 1.0), 10.0: (1.2, 1.3)}, current=1.0)
    assert list(path.data[0].y) == [1.0, 0.9, 1.2] and list(path.data[2].x) == [1.0, 1.0]
    with pytest.raises(ValueError, match="> 0"):
        viz.lrsm_loss_path({0.0: (1.0, 1.0)})
