"""Figures of Laplacian regularized stratified models (chapter 11): a graph over strata drawn in its grid layout
with the (learned) edge weights, the test loss of the variants, the solver's objective history, and a loss path
over a regularization grid."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from effdl.viz.general import mean_std_bars

__all__ = ["lrsm_graph", "lrsm_history", "lrsm_loss_path", "lrsm_variants"]

_COLORSCALE = "Viridis"
_BREAK = "crimson"
_VARIANT_COLOURS = {"separate": "#8c8c8c", "common": "#636efa", "fixed": "#ffa15a", "learned": "#00cc96"}

Edge = tuple[Hashable, Hashable]


def _position(key: Hashable, order: Mapping[Hashable, int]) -> tuple[float, float]:
    """(x, y) of a stratum: ``(row, bin)`` tuples of two numbers sit at x = bin, y = row; other keys on a line."""
    if isinstance(key, tuple) and len(key) == 2 and all(isinstance(v, int | float | np.integer) for v in key):
        return float(key[1]), float(key[0])
    return float(order[key]), 0.0


def _keys(weights: Mapping[Edge, float], keys: Sequence[Hashable] | None) -> list[Hashable]:
    if keys is not None:
        return list(keys)
    out: dict[Hashable, None] = {}
    for a, b in weights:
        out.setdefault(a)
        out.setdefault(b)
    return list(out)


def _edge_style(weights: Mapping[Edge, float], wmax: float) -> list[dict[str, Any]]:
    """Per edge (in ``weights`` order): line ``width`` (1 + 9·w/wmax), ``color`` (Viridis at w/wmax) and ``dash``
    (dotted for a weight of exactly 0, so a cut edge stays visible). A widget assigns these to existing traces."""
    out = []
    for w in weights.values():
        frac = float(np.clip(w / wmax, 0.0, 1.0)) if wmax > 0 else 0.0
        colour = plotly.colors.sample_colorscale(_COLORSCALE, [frac])[0]
        out.append(
            {"width": 1.0 + 9.0 * frac, "color": colour if w > 0 else "#bbbbbb", "dash": "dot" if w <= 0 else "solid"}
        )
    return out


def lrsm_graph(
    weights: Mapping[Edge, float],
    *,
    keys: Sequence[Hashable] | None = None,
    sizes: Mapping[Hashable, int] | None = None,
    highlight: Iterable[Edge] = (),
    wmax: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """A graph over strata with its edge weights, drawn in the strata's grid layout (no networkx drawing).

    Args:
        weights: ``{(key_i, key_j): W_ij}`` for every candidate edge (e.g. :func:`effdl.learning.lrsm.edge_weights`),
            in any unit (divide by the Laplacian scale first to read 1 as the prior W₀).
        keys: the strata to draw as nodes (default: every key that appears in an edge). ``(row, bin)`` pairs of
            numbers are placed at x = bin, y = row (e.g. sex × age bin); other keys on one line.
        sizes: training samples per stratum: node size ∝ √n and shown on hover and as the node's label.
        highlight: edges to mark (e.g. the synthetic study's break edges): a red cross at their midpoint.
        wmax: the weight drawn at full width and the top of the colour bar (default the largest weight).

    Traces: one line per edge (width 1 + 9·w/wmax, Viridis colour, dotted grey at w = 0; in ``weights`` order),
    then the edge midpoints (hover: the weight, colour bar), the highlight crosses (if any), the nodes.
    """
    if not weights:
        raise ValueError("weights is empty: a graph needs at least one edge")
    bad = [e for e, w in weights.items() if not np.isfinite(w) or w < 0]
    if bad:
        raise ValueError(f"weights must be finite and ≥ 0, got {bad[:3]!r}")
    nodes = _keys(weights, keys)
    order = {k: i for i, k in enumerate(nodes)}
    missing = [k for e in weights for k in e if k not in order]
    if missing:
        raise ValueError(f"edges name strata not in keys: {missing[:3]!r}")
    top = float(wmax) if wmax is not None else max(max(weights.values()), 1e-12)
    fig = go.Figure()
    mids, texts, values = [], [], []
    for (a, b), style in zip(weights, _edge_style(weights, top), strict=True):
        (xa, ya), (xb, yb) = _position(a, order), _position(b, order)
        fig.add_trace(
            go.Scatter(
                x=[xa, xb],
                y=[ya, yb],
                mode="lines",
                showlegend=False,
                hoverinfo="skip",
                line={"width": style["width"], "color": style["color"], "dash": style["dash"]},
            )
        )
        mids.append(((xa + xb) / 2, (ya + yb) / 2))
        texts.append(f"{a} – {b}")
        values.append(float(weights[(a, b)]))
    fig.add_trace(
        go.Scatter(
            x=[m[0] for m in mids],
            y=[m[1] for m in mids],
            mode="markers",
            name="edge weight",
            showlegend=False,
            text=texts,
            customdata=values,
            hovertemplate="%{text}: W = %{customdata:.4g}<extra></extra>",
            marker={
                "size": 7,
                "color": values,
                "colorscale": _COLORSCALE,
                "cmin": 0.0,
                "cmax": top,
                "colorbar": {"title": "W", "thickness": 12},
                "line": {"width": 0},
            },
        )
    )
    marked = [i for i, e in enumerate(weights) if frozenset(e) in {frozenset(h) for h in highlight}]
    if marked:
        fig.add_trace(
            go.Scatter(
                x=[mids[i][0] for i in marked],
                y=[mids[i][1] for i in marked],
                mode="markers",
                name="break edges",
                hoverinfo="skip",
                marker={"symbol": "x-thin-open", "size": 16, "color": _BREAK, "line": {"width": 3}},
            )
        )
    xy = [_position(k, order) for k in nodes]
    n = [int(sizes.get(k, 0)) for k in nodes] if sizes is not None else None
    fig.add_trace(
        go.Scatter(
            x=[p[0] for p in xy],
            y=[p[1] for p in xy],
            mode="markers+text" if n else "markers",
            name="strata",
            text=[str(v) for v in n] if n else None,
            textposition="top center",
            showlegend=False,
            customdata=[[str(k), v] for k, v in zip(nodes, n or [0] * len(nodes), strict=True)],
            hovertemplate="stratum %{customdata[0]}"
            + (": %{customdata[1]} training samples" if n else "")
            + "<extra></extra>",
            marker={
                "size": [8 + 2.0 * np.sqrt(v) for v in n] if n else 12,
                "color": "white",
                "line": {"width": 2, "color": "#444"},
            },
        )
    )
    grid = all(isinstance(k, tuple) and len(k) == 2 for k in nodes)
    fig.update_layout(
        title=title or "graph over the strata (edge width and colour = weight)",
        template="plotly_white",
        height=320,
        legend={"orientation": "h", "y": -0.15},
        xaxis={"title": "bin" if grid else "", "dtick": 1, "zeroline": False},
        yaxis={"title": "row" if grid else "", "dtick": 1, "zeroline": False, "scaleanchor": "x", "scaleratio": 1.5},
    )
    return fig


def lrsm_variants(
    per_seed: Mapping[str, Sequence[float]],
    *,
    floor: float | None = None,
    ylabel: str = "test loss",
    title: str | None = None,
) -> go.Figure:
    """Mean test loss per variant with the spread over seeds (error bar = standard deviation, ddof 1) and every
    seed's value as a dot. ``per_seed``: ``{variant: [loss per seed]}`` in display order; ``floor``: a dashed line
    (e.g. the noise variance, the best any model can reach). Log y axis when the means span more than 5×."""
    if not per_seed or any(len(v) == 0 for v in per_seed.values()):
        raise ValueError("per_seed must map each variant to at least one loss")
    fig = mean_std_bars(per_seed, colours=_VARIANT_COLOURS, text_format=".3g", hover_format=".4g")
    means = list(fig.data[0].y)
    if floor is not None:
        fig.add_hline(y=floor, line_dash="dash", line_color="gray", annotation_text=f"noise floor {floor:g}")
    log = max(means) > 5 * max(min(means), 1e-12)
    fig.update_layout(
        title=title or "test loss by variant",
        template="plotly_white",
        height=380,
        yaxis={"title": ylabel + (" (log)" if log else ""), "type": "log" if log else "linear"},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def lrsm_history(histories: Mapping[str, Sequence[float]], *, title: str | None = None) -> go.Figure:
    """The solver's objective per iteration for one or more fits: left F(x_k), right F(x_k) − F(x_last) on a log
    axis (the last iterate and exact zeros dropped). One trace per fit and panel, in ``histories`` order."""
    from plotly.subplots import make_subplots

    if not histories or any(len(h) == 0 for h in histories.values()):
        raise ValueError("histories must map each fit to a non-empty list of objective values")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("objective F", "F − F(last iterate), log"))
    for i, (name, hist) in enumerate(histories.items()):
        h = np.asarray(hist, dtype=np.float64)
        colour = plotly.colors.qualitative.Plotly[i % 10]
        fig.add_trace(
            go.Scatter(
                x=list(range(len(h))),
                y=h.tolist(),
                mode="lines+markers",
                name=name,
                line={"color": colour},
                marker={"size": 4},
                legendgroup=name,
            ),
            row=1,
            col=1,
        )
        gap = h[:-1] - h[-1]
        keep = np.flatnonzero(gap > 0)
        fig.add_trace(
            go.Scatter(
                x=keep.tolist(),
                y=gap[keep].tolist(),
                mode="lines+markers",
                name=name,
                line={"color": colour},
                marker={"size": 4},
                legendgroup=name,
                showlegend=False,
            ),
            row=1,
            col=2,
        )
    fig.update_xaxes(title_text="iteration")
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_layout(
        title=title or "monotone accelerated proximal gradient: objective per iteration",
        template="plotly_white",
        height=360,
    )
    return fig


def lrsm_loss_path(
    table: Mapping[float, Sequence[float]],
    *,
    current: float | None = None,
    param: str = "λ₂",
    title: str | None = None,
) -> go.Figure:
    """Validation and test loss over a regularization grid: ``table = {value: (val_loss, test_loss, ...)}``, x on
    a log axis. Traces: validation, test, then the current position (a marker pair; a widget moves its x/y)."""
    if not table:
        raise ValueError("table is empty: nothing to plot")
    xs = sorted(table)
    if any(x <= 0 for x in xs):
        raise ValueError(f"the grid values must be > 0 for a log axis, got {xs!r}")
    val = [float(table[x][0]) for x in xs]
    test = [float(table[x][1]) for x in xs]
    cur = xs[(len(xs) - 1) // 2] if current is None else current
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=xs, y=val, mode="lines+markers", name="validation", line={"color": "darkorange"}))
    fig.add_trace(go.Scatter(x=xs, y=test, mode="lines+markers", name="test", line={"color": "steelblue"}))
    fig.add_trace(
        go.Scatter(
            x=[cur, cur],
            y=[float(table[cur][0]), float(table[cur][1])],
            mode="markers",
            name="slider",
            marker={"size": 14, "symbol": "circle-open", "color": "black", "line": {"width": 2}},
        )
    )
    fig.update_layout(
        title=title or f"loss along the {param} grid",
        template="plotly_white",
        height=320,
        xaxis={"title": f"{param} (relative, log)", "type": "log"},
        yaxis={"title": "mean loss"},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig
