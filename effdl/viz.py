"""Plotly figure builders: pure functions, data in, ``go.Figure`` out (widgets.py makes them live)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from effdl.core.footprint import pareto_front

__all__ = ["METRIC_LABELS", "label", "pareto_scatter", "training_curves"]

# Axis titles with units for the metrics the workbench records.
METRIC_LABELS: dict[str, str] = {
    "accuracy": "test accuracy (%)",
    "params": "parameters",
    "nonzero": "non-zero parameters",
    "size_mb": "size on disk (MB)",
    "bits": "size (bits)",
    "flops": "FLOPs per sample",
    "macs": "MACs per sample",
    "bops": "bit operations per sample",
    "latency_ms": "latency per batch (ms)",
    "val_accuracy": "validation accuracy (%)",
    "train_loss": "training loss",
    "val_loss": "validation loss",
}

# Lower is better for every cost; higher is better for these.
_HIGHER_IS_BETTER = {"accuracy", "val_accuracy", "train_accuracy"}


def label(metric: str) -> str:
    """A readable axis title for a metric name."""
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def pareto_scatter(
    points: Sequence[Mapping[str, Any]],
    *,
    x: str,
    y: str,
    name: str = "name",
    log_x: bool = False,
    title: str | None = None,
) -> go.Figure:
    """Scatter of ``points`` (dicts with keys ``name``, ``x`` and ``y``) with the Pareto frontier drawn as a line.

    Costs (size, FLOPs, latency) are minimized and ``accuracy`` maximized when finding the frontier.
    """
    if not points:
        raise ValueError("points is empty: nothing to plot")
    for key in (x, y, name):
        missing = [i for i, p in enumerate(points) if key not in p]
        if missing:
            raise ValueError(f"points {missing} have no {key!r}; available keys: {sorted(points[0])}")
    xs = [float(p[x]) for p in points]
    ys = [float(p[y]) for p in points]
    names = [str(p[name]) for p in points]
    front = pareto_front(list(zip(xs, ys, strict=True)), maximize=(x in _HIGHER_IS_BETTER, y in _HIGHER_IS_BETTER))
    front = sorted(front, key=lambda i: xs[i])

    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[xs[i] for i in front],
            y=[ys[i] for i in front],
            mode="lines",
            line={"dash": "dot", "color": "grey"},
            name="Pareto frontier",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers+text",
            text=names,
            textposition="top center",
            marker={"size": 12, "color": list(range(len(xs))), "colorscale": "Viridis"},
            name="models",
            hovertemplate="%{text}<br>" + label(x) + ": %{x:.4g}<br>" + label(y) + ": %{y:.4g}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title or f"{label(y)} against {label(x)}",
        xaxis_title=label(x),
        yaxis_title=label(y),
        xaxis_type="log" if log_x else "linear",
        template="plotly_white",
        height=450,
        showlegend=True,
    )
    return fig


def training_curves(
    histories: Mapping[str, Any], *, metric: str = "val_accuracy", title: str | None = None
) -> go.Figure:
    """One line per model: ``metric`` (a :class:`effdl.core.train.History` field) against epoch."""
    fig = go.Figure()
    for model_name, hist in histories.items():
        values = list(getattr(hist, metric))
        if metric.endswith("accuracy"):
            values = [100 * v for v in values]
        fig.add_trace(go.Scatter(x=list(hist.epoch), y=values, mode="lines+markers", name=model_name))
    fig.update_layout(
        title=title or f"{label(metric)} during training",
        xaxis_title="epoch",
        yaxis_title=label(metric),
        template="plotly_white",
        height=380,
    )
    return fig
