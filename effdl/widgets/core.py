"""Explorer of the tour (chapter 00): the Pareto view on chosen axes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from effdl import viz

__all__ = ["pareto_explorer"]


def pareto_explorer(
    points: Sequence[Mapping[str, Any]],
    *,
    x: str = "macs",
    y: str = "accuracy",
    metrics: Sequence[str] | None = None,
    name: str = "name",
) -> W.VBox:
    """Pick the axes of a Pareto plot from dropdowns; the figure (a ``FigureWidget``) updates in place.

    ``points``: dicts with ``name`` and numeric metrics (e.g. ``Footprint.as_dict()`` plus ``accuracy``).

    Attributes of the returned box: ``figure``, ``points`` (copies of the dicts it plots) and ``name`` (their label
    key).
    """
    if not points:
        raise ValueError("points is empty: nothing to explore")
    numeric = [k for k, v in points[0].items() if isinstance(v, int | float) and not isinstance(v, bool)]
    options = list(metrics) if metrics is not None else numeric
    for key in (x, y):
        if key not in options:
            raise ValueError(f"{key!r} is not among the metrics {options}")
    x_dd = W.Dropdown(options=[(viz.label(m), m) for m in options], value=x, description="x axis")
    x_dd.add_class("effdl-main-control")  # the control the browser tests move
    y_dd = W.Dropdown(options=[(viz.label(m), m) for m in options], value=y, description="y axis")
    log_cb = W.Checkbox(value=True, description="log x")
    fig = go.FigureWidget(viz.pareto_scatter(points, x=x, y=y, name=name, log_x=True))

    def redraw(_: object = None) -> None:
        new = viz.pareto_scatter(points, x=x_dd.value, y=y_dd.value, name=name, log_x=log_cb.value)
        with fig.batch_update():
            for old_trace, new_trace in zip(fig.data, new.data, strict=True):
                old_trace.x, old_trace.y = new_trace.x, new_trace.y
                old_trace.text = new_trace.text
                old_trace.hovertemplate = new_trace.hovertemplate
            fig.layout.title = new.layout.title
            fig.layout.xaxis.title = new.layout.xaxis.title
            fig.layout.yaxis.title = new.layout.yaxis.title
            fig.layout.xaxis.type = new.layout.xaxis.type

    for control in (x_dd, y_dd, log_cb):
        control.observe(redraw, names="value")
    box = W.VBox([W.HBox([x_dd, y_dd, log_cb]), fig])
    box.figure = fig  # handy for tests and for readers who want to restyle it
    box.points = [dict(p) for p in points]  # the data it plots (for "Try it" checkers)
    box.name = name
    return box
