"""Figures every chapter uses: Pareto scatter, training curves, image grids, latency boxes, mean-over-seeds bars,
axis labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
import torch

from effdl.core.footprint import pareto_front

__all__ = [
    "METRIC_LABELS",
    "image_grid",
    "label",
    "latency_box",
    "mean_std_bars",
    "pareto_scatter",
    "training_curves",
]

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


def image_grid(
    images: torch.Tensor, labels: Sequence[int] | torch.Tensor | None = None, *, columns: int = 8, title: str = ""
) -> go.Figure:
    """Show ``images`` (N, C, H, W) — standardized or not, each rescaled to its own range — as a grid of tiles."""
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must be (N, 1 or 3, H, W), got shape {tuple(images.shape)}")
    x = images.detach().float().cpu()
    lo = x.amin(dim=(1, 2, 3), keepdim=True)
    hi = x.amax(dim=(1, 2, 3), keepdim=True)
    x = ((x - lo) / (hi - lo).clamp_min(1e-8) * 255).to(torch.uint8)
    arr = x[:, 0].numpy() if x.shape[1] == 1 else x.permute(0, 2, 3, 1).numpy()
    fig = px.imshow(arr, facet_col=0, facet_col_wrap=columns, binary_string=True, facet_col_spacing=0.01)
    names = [str(int(v)) for v in labels] if labels is not None else [str(i) for i in range(len(arr))]
    for ann in fig.layout.annotations:  # facet titles read "facet_col=7": show the label instead
        ann.text = names[int(ann.text.split("=")[1])]
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    rows = -(-len(arr) // columns)
    fig.update_layout(title=title, height=90 * rows + 60, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return fig


def latency_box(latencies: Mapping[str, Any], *, title: str | None = None) -> go.Figure:
    """Box plot of every timed run per model (``Latency.samples_ms``): the spread that a single number hides."""
    fig = go.Figure()
    for model_name, lat in latencies.items():
        fig.add_trace(go.Box(y=list(lat.samples_ms), name=model_name, boxpoints="all", jitter=0.4, pointpos=0))
    first = next(iter(latencies.values()))
    fig.update_layout(
        title=title or f"latency of one batch of {first.batch_size} ({first.threads} threads, {first.device})",
        yaxis_title="milliseconds per batch",
        template="plotly_white",
        height=400,
        showlegend=False,
    )
    return fig


def _hist(values: torch.Tensor, lo: float, hi: float, bins: int) -> tuple[list[float], list[int], float]:
    """Bin centres, counts and bin width of ``values`` over ``[lo, hi]`` (computed here: a figure then carries
    ``bins`` bars instead of every value, so a live widget sends kilobytes, not megabytes, per update)."""
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.histc(values.double(), bins=bins, min=lo, max=hi)
    width = (hi - lo) / bins
    centres = [lo + (i + 0.5) * width for i in range(bins)]
    return centres, [int(c) for c in counts.tolist()], width


def mean_std_bars(
    per_seed: Mapping[str, Sequence[float]],
    *,
    colours: Mapping[str, str] | None = None,
    text_format: str = ".3g",
    hover_format: str = ".4g",
    unit: str = "",
    seeds: Mapping[str, Sequence[int]] | None = None,
) -> go.Figure:
    """A method comparison over seeds: the mean per name as a bar (error bar = standard deviation, ddof 1; 0 for a
    single seed), labelled with ``text_format``, and every seed's value as a black dot.

    ``per_seed``: ``{name: [value per seed]}`` in display order; ``colours``: bar colour per name (default plotly
    blue); ``unit``: appended to hover values (e.g. ``" %"``); ``seeds``: each value's seed, shown on hover.
    Traces: the bars, then the dots. The caller sets the title, axes and height."""
    if not per_seed or any(len(v) == 0 for v in per_seed.values()):
        raise ValueError("per_seed must map each name to at least one value")
    names = list(per_seed)
    values = {n: [float(v) for v in per_seed[n]] for n in names}
    means = [float(np.mean(values[n])) for n in names]
    stds = [float(np.std(values[n], ddof=1)) if len(values[n]) > 1 else 0.0 for n in names]
    colours = colours or {}
    fig = go.Figure(
        go.Bar(
            x=names,
            y=means,
            error_y={"type": "data", "array": stds},
            name="mean over seeds",
            marker_color=[colours.get(n, "#636efa") for n in names],
            text=[f"{m:{text_format}}" for m in means],
            textposition="outside",
            hovertemplate=f"%{{x}}: %{{y:{hover_format}}}{unit}<extra>mean</extra>",
        )
    )
    dots: dict[str, Any] = {"hovertemplate": f"%{{x}}: %{{y:{hover_format}}}{unit}<extra>one seed</extra>"}
    if seeds is not None:
        dots = {
            "customdata": [s for n in names for s in seeds[n]],
            "hovertemplate": f"%{{x}}, seed %{{customdata}}: %{{y:{hover_format}}}{unit}<extra></extra>",
        }
    fig.add_trace(
        go.Scatter(
            x=[n for n in names for _ in values[n]],
            y=[v for n in names for v in values[n]],
            mode="markers",
            name="one seed",
            marker={"color": "black", "size": 6},
            **dots,
        )
    )
    return fig
