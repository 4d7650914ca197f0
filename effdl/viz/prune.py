"""Figures of pruning (chapter 01): sparsity per layer, sensitivity, the sparsity trade-off, AGP, relative bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from effdl.viz.general import label

__all__ = ["gradual_pruning_curves", "layer_sparsity_bars", "relative_bars", "sensitivity_curves", "sparsity_tradeoff"]


def layer_sparsity_bars(per_layer: Mapping[str, Mapping[str, float]], *, title: str | None = None) -> go.Figure:
    """Grouped bars of per-layer sparsity (%): ``{method: {layer name: sparsity in [0, 1]}}``, one colour per
    method (e.g. ``{"layer-wise": ..., "global": ...}``), layers on the x axis in the order first seen."""
    if not per_layer:
        raise ValueError("per_layer is empty: nothing to plot")
    fig = go.Figure()
    for method, values in per_layer.items():
        fig.add_trace(
            go.Bar(
                x=list(values),
                y=[100 * float(v) for v in values.values()],
                name=str(method),
                hovertemplate="%{x}: %{y:.1f}% zeros<extra>" + str(method) + "</extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        title=title or "sparsity of each layer",
        xaxis_title="layer",
        yaxis_title="sparsity (% of the layer's weights)",
        yaxis_range=[0, 100],
        template="plotly_white",
        height=380,
    )
    return fig


def sensitivity_curves(scan: Mapping[str, Sequence[tuple[float, float]]], *, title: str | None = None) -> go.Figure:
    """One line per layer: test accuracy (%) against the sparsity (%) of that layer alone
    (``{layer: [(sparsity, accuracy in [0, 1]), ...]}``, as ``effdl.compress.prune.sensitivity_scan`` returns)."""
    if not scan:
        raise ValueError("scan is empty: nothing to plot")
    fig = go.Figure()
    for layer, points in scan.items():
        pts = sorted(points)
        fig.add_trace(
            go.Scatter(
                x=[100 * s for s, _ in pts],
                y=[100 * a for _, a in pts],
                mode="lines+markers",
                name=str(layer),
                hovertemplate=str(layer) + " at %{x:.0f}% sparsity: %{y:.2f}%<extra></extra>",
            )
        )
    fig.update_layout(
        title=title or "sensitivity: accuracy when one layer alone is pruned",
        xaxis_title="sparsity of the layer (%)",
        yaxis_title=label("accuracy"),
        template="plotly_white",
        height=400,
    )
    return fig


def sparsity_tradeoff(
    curve: Sequence[tuple[float, float]],
    *,
    current: tuple[float, float] | None = None,
    sizes: Mapping[str, float] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Left: accuracy (%) against sparsity (%) from ``curve`` = ``[(sparsity, accuracy in [0, 1]), ...]``, with a
    marker at ``current`` = ``(sparsity, accuracy)``. Right (when ``sizes`` is given): storage in kB per format,
    e.g. ``{"dense": bits, "bitmask": bits, "csr": bits}``. Traces: 0 curve, 1 marker, 2 size bars."""
    from plotly.subplots import make_subplots

    pts = sorted(curve)
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.65, 0.35],
        subplot_titles=("accuracy against sparsity", "storage of the weights"),
    )
    fig.add_trace(
        go.Scatter(
            x=[100 * s for s, _ in pts],
            y=[100 * a for _, a in pts],
            mode="lines+markers",
            name="sweep",
            marker={"size": 5},
            hovertemplate="%{x:.0f}% sparse: %{y:.2f}%<extra></extra>",
        ),
        row=1,
        col=1,
    )
    cx, cy = ([100 * current[0]], [100 * current[1]]) if current is not None else ([], [])
    fig.add_trace(
        go.Scatter(
            x=cx,
            y=cy,
            mode="markers",
            name="current",
            marker={"size": 14, "color": "crimson", "symbol": "diamond"},
            hovertemplate="now: %{x:.0f}% sparse, %{y:.2f}%<extra></extra>",
        ),
        row=1,
        col=1,
    )
    names = list(sizes) if sizes else []
    fig.add_trace(
        go.Bar(
            x=names,
            y=[float(sizes[n]) / 8 / 1e3 for n in names] if sizes else [],
            name="size",
            marker={"color": ["grey", "steelblue", "darkorange", "seagreen"][: len(names)]},
            texttemplate="%{y:.0f} kB",
            textposition="outside",
            hovertemplate="%{x}: %{y:.1f} kB<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.update_xaxes(title_text="sparsity (% of the pruned weights)", range=[-2, 100], row=1, col=1)
    fig.update_yaxes(title_text=label("accuracy"), row=1, col=1)
    fig.update_yaxes(title_text="kB (32-bit values)", row=1, col=2)
    fig.update_layout(title=title, template="plotly_white", height=420, showlegend=False)
    return fig


def gradual_pruning_curves(history: Any, *, title: str | None = None) -> go.Figure:
    """The AGP run of ``effdl.compress.prune.gradual_prune``: the sparsity schedule (line, left axis, from
    ``history.schedule`` = ``[(step, sparsity)]``) and the test accuracy after each epoch (markers, right
    axis, ``history.val_accuracy``), against epochs (``history.steps`` steps over ``history.epoch``)."""
    from plotly.subplots import make_subplots

    epochs = list(history.epoch)
    per_epoch = history.steps / max(len(epochs), 1)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            x=[step / per_epoch for step, _ in history.schedule],
            y=[100 * s for _, s in history.schedule],
            mode="lines",
            line={"shape": "hv"},
            name="sparsity (schedule)",
        ),
        secondary_y=False,
    )
    if history.val_accuracy:
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=[100 * a for a in history.val_accuracy],
                mode="lines+markers",
                name="test accuracy",
            ),
            secondary_y=True,
        )
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="sparsity (%)", range=[0, 100], secondary_y=False)
    fig.update_yaxes(title_text=label("accuracy"), secondary_y=True)
    fig.update_layout(
        title=title or "gradual pruning (Zhu & Gupta): the cubic schedule and the accuracy",
        template="plotly_white",
        height=400,
    )
    return fig


def relative_bars(rows: Mapping[str, Mapping[str, float]], *, baseline: str, title: str | None = None) -> go.Figure:
    """Grouped bars of each model's metrics as ratios to ``baseline`` (a key of ``rows``):
    ``{model: {metric: value}}``, one group per metric (e.g. MACs, parameters, latency), one colour per model."""
    if baseline not in rows:
        raise ValueError(f"baseline {baseline!r} is not among the rows {list(rows)}")
    metrics = list(rows[baseline])
    fig = go.Figure()
    for model_name, values in rows.items():
        ratios = [float(values[m]) / float(rows[baseline][m]) for m in metrics]
        fig.add_trace(
            go.Bar(
                x=[label(m) for m in metrics],
                y=ratios,
                name=str(model_name),
                texttemplate="%{y:.2f}",
                textposition="outside",
            )
        )
    fig.update_layout(
        barmode="group",
        title=title or f"relative to {baseline} (1.0 = the same)",
        yaxis_title=f"× {baseline}",
        template="plotly_white",
        height=400,
    )
    return fig
