"""Figures of range regularization (chapter 05): weight histograms, range ratios, grouped seed bars, trajectories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.express as px
import plotly.graph_objects as go
import torch

from effdl.viz.general import _hist

__all__ = ["grouped_seed_bars", "range_ratio_bars", "trajectory_curves", "weight_histograms"]


def weight_histograms(
    weights: Mapping[str, torch.Tensor],
    *,
    standardize: bool = True,
    bins: int = 80,
    log_y: bool = True,
    title: str | None = None,
) -> go.Figure:
    """One layer's weight distribution under several trainings, overlaid: ``{name: weight tensor}`` (any shapes).

    With ``standardize`` (default) each tensor is divided by its own standard deviation, so the x axis reads "how
    many standard deviations out" and distributions of different scales compare; each trace's name carries its
    ``max|w| / std``. The y axis is the share of the layer's weights per bin in % (log scale by default, so that
    a handful of outliers in the tails stays visible). Histograms are binned here over a common range.
    """
    if not weights:
        raise ValueError("weights is empty: nothing to plot")
    values: dict[str, torch.Tensor] = {}
    for name, w in weights.items():
        flat = torch.as_tensor(w).detach().float().flatten()
        if flat.numel() < 2:
            raise ValueError(f"weights[{name!r}] needs at least 2 values, got {flat.numel()}")
        std = float(flat.std())
        values[name] = flat / std if standardize and std > 0 else flat
    lo = min(float(v.min()) for v in values.values())
    hi = max(float(v.max()) for v in values.values())
    fig = go.Figure()
    for name, v in values.items():
        x, counts, _ = _hist(v, lo, hi, bins)
        share = [100 * c / v.numel() for c in counts]
        ratio = float(v.abs().max() / v.std())
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[s if s > 0 else None for s in share],
                mode="lines",
                line={"shape": "hvh", "width": 2},
                name=f"{name} (max|w|/std {ratio:.2f})",
                connectgaps=False,
                hovertemplate=f"{name}<br>%{{x:.2f}}: %{{y:.3g}}% of the weights<extra></extra>",
            )
        )
    fig.update_layout(
        title=title or "weight distribution" + (" (in standard deviations)" if standardize else ""),
        xaxis_title="weight / std(weight)" if standardize else "weight value",
        yaxis={"title": "share of weights per bin (%)", "type": "log" if log_y else "linear"},
        template="plotly_white",
        height=380,
    )
    return fig


def range_ratio_bars(ratios: Mapping[str, Mapping[str, float]], *, title: str | None = None) -> go.Figure:
    """``max|W| / std(W)`` per layer, one group of bars per layer and one colour per training:
    ``{name: {layer: ratio}}`` (e.g. ``effdl.compress.range_reg.range_ratio`` of each model).

    A dotted line marks √3 ≈ 1.73, the ratio of a uniform distribution (a Gaussian of a few thousand weights sits
    near 3–4); a ratio below it means the weights pile up at the edges of their range.
    """
    if not ratios or any(not r for r in ratios.values()):
        raise ValueError("ratios must map each name to a non-empty {layer: ratio}")
    layers = list(next(iter(ratios.values())))
    fig = go.Figure()
    for name, per_layer in ratios.items():
        missing = [n for n in layers if n not in per_layer]
        if missing:
            raise ValueError(f"ratios[{name!r}] has no value for layers {missing}")
        fig.add_trace(
            go.Bar(
                x=layers,
                y=[float(per_layer[n]) for n in layers],
                name=str(name),
                hovertemplate=f"{name}<br>%{{x}}: %{{y:.2f}}<extra></extra>",
            )
        )
    fig.add_hline(
        y=3**0.5, line_dash="dot", line_color="gray", annotation_text="uniform: √3", annotation_position="top left"
    )
    fig.update_layout(
        title=title or "outlier measure max|W| / std(W) per layer",
        xaxis_title="layer",
        yaxis_title="max|W| / std(W)",
        barmode="group",
        template="plotly_white",
        height=400,
    )
    return fig


def grouped_seed_bars(
    groups: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    ylabel: str = "test accuracy (%)",
    title: str | None = None,
) -> go.Figure:
    """Grouped bars with every run shown: ``{category: {series: [one value per seed]}}``, e.g.
    ``{"PTQ 2-bit": {"baseline": [28.5, 25.0], "L∞": [68.9, 50.3]}}``. Each bar is the mean of its values; the
    values themselves are black points on it (hover names the seed index). The axis starts at 0."""
    if not groups:
        raise ValueError("groups is empty: nothing to plot")
    categories = list(groups)
    series: list[str] = []
    for cat, by_series in groups.items():
        if not by_series or any(len(v) == 0 for v in by_series.values()):
            raise ValueError(f"groups[{cat!r}] must map each series to at least one value")
        series += [s for s in by_series if s not in series]
    colours = px.colors.qualitative.Plotly
    fig = go.Figure()
    for i, name in enumerate(series):
        cats = [c for c in categories if name in groups[c]]
        vals = [[float(v) for v in groups[c][name]] for c in cats]
        colour = colours[i % len(colours)]
        fig.add_trace(
            go.Bar(
                x=cats,
                y=[sum(v) / len(v) for v in vals],
                name=str(name),
                marker_color=colour,
                offsetgroup=str(i),
                hovertemplate=f"{name}<br>%{{x}}: mean %{{y:.2f}}<extra></extra>",
            )
        )
        xs = [c for c, v in zip(cats, vals, strict=True) for _ in v]
        ys = [x for v in vals for x in v]
        runs = [str(j) for v in vals for j in range(len(v))]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                marker={"color": "black", "size": 7, "symbol": "diamond-open"},
                offsetgroup=str(i),
                name="each run",
                legendgroup="runs",
                showlegend=i == 0,
                customdata=runs,
                hovertemplate=f"{name}<br>%{{x}}: %{{y:.2f}} (run %{{customdata}})<extra></extra>",
            )
        )
    fig.update_layout(
        title=title or f"{ylabel}: mean over runs (bars) and each run (points)",
        yaxis_title=ylabel,
        barmode="group",
        scattermode="group",
        template="plotly_white",
        height=430,
    )
    return fig


def trajectory_curves(
    history: Any,
    layers: Sequence[str],
    *,
    relative: bool = True,
    ylabel: str = "hardness α",
    title: str | None = None,
) -> go.Figure:
    """A learned per-layer value over training, one line per layer: ``history`` ``(steps, len(layers))`` (a tensor
    or nested list, e.g. ``SoftMinMaxRegularizer.history``: α used at each step). ``relative`` plots the change
    since the first step, ``value − value[0]``, so that small moves show; hover gives the value itself."""
    h = torch.as_tensor(history, dtype=torch.float64)
    if h.ndim != 2 or h.shape[0] == 0:
        raise ValueError(f"history must be (steps, layers) with at least one step, got shape {tuple(h.shape)}")
    if len(layers) != h.shape[1]:
        raise ValueError(f"layers must name the {h.shape[1]} columns of history, got {len(layers)} names")
    steps = list(range(1, h.shape[0] + 1))
    fig = go.Figure()
    for j, name in enumerate(layers):
        col = h[:, j]
        y = (col - col[0]) if relative else col
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=y.tolist(),
                mode="lines",
                name=str(name),
                customdata=col.tolist(),
                hovertemplate=f"{name}<br>step %{{x}}: {ylabel} %{{customdata:.6g}}<extra></extra>",
            )
        )
    fig.update_layout(
        title=title or f"{ylabel} per layer during training",
        xaxis_title="training step",
        yaxis_title=f"{ylabel} − its initial value" if relative else ylabel,
        template="plotly_white",
        height=400,
    )
    return fig
