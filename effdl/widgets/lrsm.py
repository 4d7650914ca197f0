"""Explorer of Laplacian regularized stratified models (chapter 11): a slider over a precomputed grid of one
regularization strength (λ₂ by default), showing the learned graph and the validation/test loss at each position."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from effdl import viz
from effdl.learning.lrsm import edge_weights
from effdl.viz.lrsm import _edge_style

if TYPE_CHECKING:
    from effdl.learning.lrsm import StrataData, StratifiedModel

__all__ = ["graph_explorer"]

Edge = tuple[Hashable, Hashable]


def graph_explorer(
    models: Mapping[float, StratifiedModel],
    val: StrataData,
    test: StrataData,
    *,
    scale: float = 1.0,
    highlight: Iterable[Edge] = (),
    sizes: Mapping[Hashable, int] | None = None,
    value: float | None = None,
    param: str = "λ₂",
) -> W.VBox:
    """The slider over a grid of fitted models, ``{grid value: fitted StratifiedModel}`` (all on the same graph).

    Everything is computed once here: each model's edge weights divided by ``scale`` (1 = the prior W₀ when
    ``scale`` is the Laplacian scale s), its mean validation and test loss (``model.score``), the mean weight of the
    ``highlight`` edges and the number of edges cut to exactly 0. A move only looks the position up and updates the
    two ``FigureWidget`` in place (edge widths/colours of :func:`effdl.viz.lrsm_graph`, the marker of
    :func:`effdl.viz.lrsm_loss_path`); nothing is refitted.

    Attributes of the returned box: ``slider`` (class ``effdl-main-control``), ``graph`` and ``path`` (the figures),
    ``readout``, ``models``, ``weights`` (``{value: {edge: W/scale}}``) and ``table`` (``{value: (validation loss,
    test loss, mean highlight weight (nan without highlight), edges at 0)}``).
    Raises ``ValueError`` for an empty grid, a value ≤ 0, models on different graphs or a ``value`` not in the grid.
    """
    if not models:
        raise ValueError("models is empty: the explorer needs at least one fitted model")
    grid = sorted(float(v) for v in models)
    if grid[0] <= 0:
        raise ValueError(f"the grid values must be > 0 (a log slider), got {grid!r}")
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale!r}")
    by_value = {float(k): m for k, m in models.items()}
    weights = {v: {e: w / scale for e, w in edge_weights(by_value[v]).items()} for v in grid}
    edges = list(weights[grid[0]])
    for v in grid:
        if list(weights[v]) != edges:
            raise ValueError(f"models must share one graph: the model at {v:g} has other edges")
    marked = {frozenset(e) for e in highlight}
    table: dict[float, tuple[float, float, float, int]] = {}
    for v in grid:
        hw = [w for e, w in weights[v].items() if frozenset(e) in marked]
        table[v] = (
            by_value[v].score(*val),
            by_value[v].score(*test),
            float(np.mean(hw)) if hw else math.nan,
            sum(w == 0 for w in weights[v].values()),
        )
    if value is None:
        value = grid[(len(grid) - 1) // 2]
    else:
        near = [v for v in grid if math.isclose(v, float(value), rel_tol=1e-9)]
        if not near:
            raise ValueError(f"value must be one of the grid's {[f'{v:g}' for v in grid]}, got {value!r}")
        value = near[0]
    wmax = max(max(w.values()) for w in weights.values()) or 1.0
    keys = list(by_value[grid[0]].strata_)

    def title(v: float) -> str:
        return f"learned graph at {param} = {v:g} (W / s: 1 = the prior; dotted = cut to 0)"

    graph = go.FigureWidget(
        viz.lrsm_graph(weights[value], keys=keys, sizes=sizes, highlight=highlight, wmax=wmax, title=title(value))
    )
    path = go.FigureWidget(viz.lrsm_loss_path(table, current=value, param=param))
    slider = W.SelectionSlider(
        options=[(f"{v:g}", v) for v in grid],
        value=value,
        description=param,
        continuous_update=False,
        layout=W.Layout(width="420px"),
    )
    slider.add_class("effdl-main-control")  # the control the browser tests move
    readout = W.HTML()

    def show(v: float) -> None:
        va, te, hw, cut = table[v]
        extra = "" if math.isnan(hw) else f" · break edges: mean W/s <b>{hw:.3f}</b>"
        readout.value = (
            f"{param} = <b>{v:g}</b>: validation loss <b>{va:.4f}</b> · test loss <b>{te:.4f}</b>"
            f"{extra} · edges cut to 0: <b>{cut}</b> of {len(edges)}"
        )

    def update(change: Any = None) -> None:
        v = float(slider.value)
        with graph.batch_update():
            for trace, style in zip(graph.data[: len(edges)], _edge_style(weights[v], wmax), strict=True):
                trace.line.width, trace.line.color, trace.line.dash = style["width"], style["color"], style["dash"]
            vals = list(weights[v].values())
            graph.data[len(edges)].marker.color = vals
            graph.data[len(edges)].customdata = vals
            graph.layout.title.text = title(v)
        with path.batch_update():
            path.data[2].x = [v, v]
            path.data[2].y = [table[v][0], table[v][1]]
        show(v)

    show(value)
    slider.observe(update, names="value")
    box = W.VBox([slider, readout, graph, path])
    box.slider, box.graph, box.path, box.readout = slider, graph, path, readout
    box.models, box.weights, box.table = by_value, weights, table
    return box
