"""Figures of distillation (chapter 03): soft targets, the (T, α) sweep, gains over seeds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.express as px
import plotly.graph_objects as go

__all__ = ["distill_sweep_heatmap", "seed_bars", "soft_targets_bars"]


def soft_targets_bars(
    probs: Mapping[str, Sequence[float]], *, classes: Sequence[str] | None = None, title: str | None = None
) -> go.Figure:
    """Grouped bars of probability distributions over the same classes, one colour per entry of ``probs``.

    ``probs``: e.g. ``{"T = 1": p1, "T = 4": p4}`` with each ``p`` a length-C sequence (or tensor) of probabilities
    in [0, 1]; shown in %. ``classes``: the C bar labels (default ``"0"`` … ``"C-1"``).
    """
    if not probs:
        raise ValueError("probs is empty: nothing to plot")
    rows = {name: [float(v) for v in (p.tolist() if hasattr(p, "tolist") else p)] for name, p in probs.items()}
    sizes = {len(v) for v in rows.values()}
    if len(sizes) != 1:
        raise ValueError(f"every distribution must have the same number of classes, got sizes {sorted(sizes)}")
    n = sizes.pop()
    names = [str(c) for c in classes] if classes is not None else [str(i) for i in range(n)]
    if len(names) != n:
        raise ValueError(f"classes has {len(names)} labels for {n} probabilities")
    fig = go.Figure()
    for name, p in rows.items():
        fig.add_trace(
            go.Bar(
                x=names,
                y=[100 * v for v in p],
                name=name,
                hovertemplate="class %{x}: %{y:.2f}%<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        title=title or "softened probabilities",
        xaxis_title="class",
        yaxis_title="probability (%)",
        barmode="group",
        template="plotly_white",
        height=380,
    )
    return fig


def distill_sweep_heatmap(
    rows: Sequence[Mapping[str, Any]],
    *,
    baseline: float | None = None,
    marker: tuple[float, float] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Heatmap of a temperature × alpha sweep: ``rows`` are dicts with ``T``, ``alpha`` and ``accuracy`` (in %).

    With ``baseline`` (the student alone, in %) the colours and labels show the gain in points over it (diverging
    colours around 0); otherwise the accuracy. ``marker=(T, alpha)`` circles one cell (last trace: widgets move it).
    """
    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    for key in ("T", "alpha", "accuracy"):
        missing = [i for i, r in enumerate(rows) if key not in r]
        if missing:
            raise ValueError(f"rows {missing} have no {key!r}; each row needs T, alpha and accuracy")
    temps = sorted({float(r["T"]) for r in rows})
    alphas = sorted({float(r["alpha"]) for r in rows})
    xs, ys = [f"{t:g}" for t in temps], [f"{a:g}" for a in alphas]
    grid: list[list[float | None]] = [[None] * len(temps) for _ in alphas]
    for r in rows:
        v = float(r["accuracy"]) - (baseline if baseline is not None else 0.0)
        grid[alphas.index(float(r["alpha"]))][temps.index(float(r["T"]))] = v
    fmt = "{:+.2f}" if baseline is not None else "{:.2f}"
    text = [["" if v is None else fmt.format(v) for v in row] for row in grid]
    what = "gain over the student alone (points)" if baseline is not None else "test accuracy (%)"
    heat = go.Heatmap(
        x=xs,
        y=ys,
        z=grid,
        text=text,
        texttemplate="%{text}",
        colorscale="RdBu" if baseline is not None else "Viridis",
        zmid=0.0 if baseline is not None else None,
        colorbar={"title": {"text": "points" if baseline is not None else "%"}},
        hovertemplate="T = %{x}, α = %{y}<br>" + what + ": %{text}<extra></extra>",
    )
    mx, my = ([f"{float(marker[0]):g}"], [f"{float(marker[1]):g}"]) if marker is not None else ([], [])
    mark = go.Scatter(
        x=mx,
        y=my,
        mode="markers",
        marker={"symbol": "circle-open", "size": 38, "color": "black", "line": {"width": 3}},
        name="selected",
        hoverinfo="skip",
        showlegend=False,
    )
    fig = go.Figure([heat, mark])
    fig.update_layout(
        title=title or f"distilled student: {what}",
        xaxis={"title": "temperature T", "type": "category"},
        yaxis={"title": "α (weight of the teacher's soft targets)", "type": "category"},
        template="plotly_white",
        height=380,
    )
    return fig


def seed_bars(
    groups: Mapping[str, Sequence[float]], *, ylabel: str = "test accuracy (%)", title: str | None = None
) -> go.Figure:
    """One bar per group at the mean of its values, with every value (one per seed) drawn as a point on it.

    ``groups``: e.g. ``{"student alone": [83.8, 83.4, 83.3], "distilled": [85.4, 86.4, 85.7]}``. The y axis starts
    near the smallest value (not at 0) so that differences of a point stay visible; the title says so.
    """
    if not groups or any(len(v) == 0 for v in groups.values()):
        raise ValueError("groups must map each name to at least one value")
    names = list(groups)
    vals = {k: [float(v) for v in vs] for k, vs in groups.items()}
    means = [sum(v) / len(v) for v in vals.values()]
    ticks = [f"{k}<br>mean {m:.2f}" for k, m in zip(names, means, strict=True)]  # bar text would hide the points
    fig = go.Figure(
        go.Bar(
            x=ticks,
            y=means,
            marker={"color": px.colors.qualitative.Plotly[: len(names)], "opacity": 0.7},
            name="mean",
            hovertemplate="%{x}: mean %{y:.2f}<extra></extra>",
        )
    )
    n_points = max(len(v) for v in vals.values())
    for i in range(n_points):  # one trace per run index: hovering a point names its run
        fig.add_trace(
            go.Scatter(
                x=[t for t, k in zip(ticks, names, strict=True) if i < len(vals[k])],
                y=[vals[k][i] for k in names if i < len(vals[k])],
                mode="markers",
                marker={"size": 11, "color": "black", "symbol": "diamond-open", "line": {"width": 2}},
                name="each run",
                showlegend=i == 0,
                legendgroup="runs",
                hovertemplate="%{x}: %{y:.2f}<extra>run " + str(i) + "</extra>",
            )
        )
    lo = min(min(v) for v in vals.values())
    hi = max(max(v) for v in vals.values())
    pad = max(0.5, 0.3 * (hi - lo))
    fig.update_layout(
        title=title or f"{ylabel}: mean over runs (bars) and each run (points); axis does not start at 0",
        yaxis={"title": ylabel, "range": [lo - pad, hi + pad]},
        template="plotly_white",
        height=400,
    )
    return fig
