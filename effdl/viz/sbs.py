"""Figures of single-path bit sharing (chapter 06): the nested decomposition of one weight tensor, a configuration
layer by layer (bits, kept channels, share of the BOPs), and SBS against uniform on the BOPs/accuracy plane."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
import torch

from effdl.core.footprint import pareto_front

if TYPE_CHECKING:
    from effdl.compress.sbs import SBSConfig, SBSPoint

__all__ = ["sbs_config_chart", "sbs_decomposition", "sbs_pareto"]

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_LEVEL_COLOURS = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a")
_W_COLOUR, _A_COLOUR, _KEEP_COLOUR, _BOPS_COLOUR = "steelblue", "darkorange", "seagreen", "mediumpurple"
_FIXED_W, _FIXED_A = "#8c8c8c", "#c4c4c4"  # first/last layers: grey (weights darker than activations)
_SBS_COLOUR, _UNIFORM_COLOUR = "crimson", "steelblue"


def _sub(bits: int) -> str:
    return str(bits).translate(_SUB)


def _level_name(candidates: Sequence[int], j: int) -> str:
    """``"4-bit: z₂ + ε₄"`` for the first ``j + 1`` parts of the single path."""
    terms = [f"z{_sub(candidates[0])}"] + [f"ε{_sub(b)}" for b in candidates[1 : j + 1]]
    return f"{candidates[j]}-bit: " + " + ".join(terms)


def sbs_decomposition(w: torch.Tensor, candidates: Sequence[int] = (2, 4, 8), *, title: str | None = None) -> go.Figure:
    """The nested single path on one weight tensor (any shape). ``z = normalize(w, max|w|, signed=True)`` puts
    the weights in [0, 1]; :func:`~effdl.compress.sbs.decompose` splits ``z`` into ``z_{b1}, ε_{b2}, …`` and the
    running sums are its ``b1``-, ``b2``-, …-bit codes.

    Left: the quantized value against ``z`` for an evenly spaced sample of at most 400 of the sorted weights, one
    step line per level (``"2-bit: z₂"``, ``"4-bit: z₂ + ε₄"``, …) and the identity dashed. Right: the RMS error
    ``|z − level|`` over all weights per level, log y axis. Traces: one per level, the identity, the error bars.
    """
    from plotly.subplots import make_subplots

    from effdl.compress.sbs import check_candidates, decompose, normalize

    cands = check_candidates(candidates)
    flat = torch.as_tensor(w).detach().float().flatten()
    if flat.numel() == 0:
        raise ValueError("w is empty: nothing to decompose")
    v = flat.abs().max()
    if not torch.isfinite(v) or v <= 0:
        raise ValueError(f"w must hold finite values, not all zero; got max|w| = {float(v)}")
    z = normalize(flat, v, signed=True)
    levels = list(torch.stack(decompose(z, cands)).cumsum(0))  # levels[j]: the b_j-bit code of every weight
    errors = [float((z - q).pow(2).mean().sqrt()) for q in levels]
    order = torch.argsort(z)
    pick = order[torch.linspace(0, len(order) - 1, min(400, len(order))).round().long().unique()]
    zs = z[pick].tolist()

    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.65, 0.35],
        subplot_titles=("quantized value along the single path", "RMS error |z − quantized|"),
    )
    for j, q in enumerate(levels):
        name = _level_name(cands, j)
        fig.add_trace(
            go.Scatter(
                x=zs,
                y=q[pick].tolist(),
                mode="lines",
                line={"shape": "hv", "width": 2, "color": _LEVEL_COLOURS[j % len(_LEVEL_COLOURS)]},
                name=name,
                hovertemplate=f"{name}<br>z = %{{x:.4f}} → %{{y:.4f}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=[0.0, 1.0],
            y=[0.0, 1.0],
            mode="lines",
            line={"dash": "dash", "color": "gray", "width": 1},
            name="identity (no error)",
            hoverinfo="skip",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=[f"{b}-bit" for b in cands],
            y=errors,
            marker_color=[_LEVEL_COLOURS[j % len(_LEVEL_COLOURS)] for j in range(len(cands))],
            text=[f"{e:.2g}" for e in errors],
            textposition="outside",
            name="RMS error",
            showlegend=False,
            hovertemplate="%{x}: RMS error %{y:.3g}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.update_xaxes(title_text="normalized weight z ∈ [0, 1]", row=1, col=1)
    fig.update_yaxes(title_text="quantized z", row=1, col=1)
    fig.update_xaxes(title_text="bits", row=1, col=2)
    fig.update_yaxes(title_text="RMS error (log)", type="log", row=1, col=2)
    fig.update_layout(
        title=title or f"one weight tensor on the single path {' → '.join(f'{b}-bit' for b in cands)}",
        template="plotly_white",
        height=420,
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def _config_title(config: SBSConfig) -> str:
    return f"per-layer configuration: {config.bops / 1e6:,.3g} MBOPs, {config.reduction:.1f}× fewer than fp32"


def _config_traces(config: SBSConfig) -> list[dict[str, Any]]:
    """The values :func:`sbs_config_chart`'s four bar traces take for ``config`` (in trace order: weight bits,
    activation bits, kept channels %, BOPs share %), each a dict of ``x``, ``y``, ``marker_color``, ``customdata``.
    A widget assigns ``y``/``marker_color``/``customdata`` to the existing traces to show another configuration."""
    rows = list(config.layers.values())
    names = [c.name for c in rows]
    fixed = [" (fixed)" if c.fixed else "" for c in rows]
    total = config.bops or 1
    return [
        {
            "x": names,
            "y": [c.w_bits for c in rows],
            "marker_color": [_FIXED_W if c.fixed else _W_COLOUR for c in rows],
            "customdata": fixed,
        },
        {
            "x": names,
            "y": [c.a_bits for c in rows],
            "marker_color": [_FIXED_A if c.fixed else _A_COLOUR for c in rows],
            "customdata": fixed,
        },
        {
            "x": names,
            "y": [100 * c.channels / c.out_channels for c in rows],
            "marker_color": [_FIXED_W if c.fixed else _KEEP_COLOUR for c in rows],
            "customdata": [[f"{c.channels}/{c.out_channels}", f] for c, f in zip(rows, fixed, strict=True)],
        },
        {
            "x": names,
            "y": [100 * c.bops / total for c in rows],
            "marker_color": [_FIXED_W if c.fixed else _BOPS_COLOUR for c in rows],
            "customdata": [[f"{c.bops:,}", f] for c, f in zip(rows, fixed, strict=True)],
        },
    ]


def sbs_config_chart(config: SBSConfig, *, title: str | None = None) -> go.Figure:
    """One :class:`~effdl.compress.sbs.SBSConfig` layer by layer (x: layer names in order). Top: grouped bars of
    weight and activation bits; middle: output channels kept (% of the layer's); bottom: each layer's share of the
    configuration's BOPs (%; what is not configured, e.g. pooling, is the rest to 100). The fixed first and last
    layers are grey and say "(fixed)" on hover. Traces: weight bits, activation bits, kept %, BOPs share %
    (values from ``_config_traces``, so a widget updates them in place)."""
    from plotly.subplots import make_subplots

    if not config.layers:
        raise ValueError("config has no layers: nothing to plot")
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        row_heights=[0.4, 0.3, 0.3],
        subplot_titles=("bits (weights, activations)", "output channels kept", "share of the BOPs"),
    )
    w, a, keep, share = _config_traces(config)
    fig.add_trace(
        go.Bar(
            **w,
            name="weight bits",
            texttemplate="%{y}",
            hovertemplate="%{x}%{customdata}: %{y}-bit weights<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            **a,
            name="activation bits",
            texttemplate="%{y}",
            hovertemplate="%{x}%{customdata}: %{y}-bit inputs<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            **keep,
            name="channels kept",
            showlegend=False,
            hovertemplate="%{x}%{customdata[1]}: %{customdata[0]} channels kept (%{y:.0f}%)<extra></extra>",
        ),
        row=2,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            **share,
            name="BOPs share",
            showlegend=False,
            hovertemplate="%{x}%{customdata[1]}: %{customdata[0]} BOPs (%{y:.1f}%)<extra></extra>",
        ),
        row=3,
        col=1,
    )
    fig.update_yaxes(title_text="bits", row=1, col=1)
    fig.update_yaxes(title_text="kept (%)", range=[0, 105], row=2, col=1)
    fig.update_yaxes(title_text="BOPs (%)", range=[0, 100], row=3, col=1)
    fig.update_xaxes(title_text="layer", row=3, col=1)
    fig.update_layout(
        title=title or _config_title(config),
        barmode="group",
        template="plotly_white",
        height=560,
        legend={"orientation": "h", "y": 1.08, "x": 1, "xanchor": "right"},
    )
    return fig


def _short(p: SBSPoint) -> str:
    """``"4b"`` / ``"2b·50%"`` for a uniform point (its label when bits are unknown)."""
    if p.bits is None:
        return p.label
    return f"{p.bits}b" + (f"·{p.prune:.0%}" if p.prune else "")


def _hover(p: SBSPoint) -> list[object]:
    lam = f"{p.lam:g}" if p.lam is not None else "–"
    return [p.label, lam, 100 * p.val_accuracy, 100 * p.test_accuracy, p.bops, p.seed]


_HOVER = (
    "%{customdata[0]} (seed %{customdata[5]})<br>λ = %{customdata[1]}<br>validation %{customdata[2]:.2f}% · "
    "test %{customdata[3]:.2f}%<br>%{customdata[4]:,} BOPs (%{x:.1f}× fewer)<extra></extra>"
)


def sbs_pareto(
    points: Sequence[SBSPoint],
    *,
    reference: float | None = None,
    highlight: SBSPoint | None = None,
    budget: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """SBS against uniform on the BOPs/accuracy plane: x = BOPs reduction against fp32 (×, log axis), y = test
    accuracy (%). SBS points (``method == "sbs"``) are a line with markers in BOPs order (hover: label, λ,
    validation and test accuracy, BOPs), uniform points markers labelled ``"4b"``, ``"2b·50%"``; with several seeds,
    one trace per method and seed, every point drawn lighter. Each method's Pareto front over all its points (fewer
    BOPs, higher test accuracy) is a wide translucent band. ``reference``: the fp32 test accuracy (a fraction),
    dashed; ``highlight``: one point circled; ``budget``: BOPs per example, a dotted vertical line at
    ``fp32_bops / budget``."""
    pts = list(points)
    if not pts:
        raise ValueError("points is empty: nothing to plot")
    bad = sorted({p.method for p in pts} - {"sbs", "uniform"})
    if bad:
        raise ValueError(f"points must have method 'sbs' or 'uniform', got {bad}")
    seeds = sorted({p.seed for p in pts})
    several = len(seeds) > 1
    fig = go.Figure()
    for method, colour in (("sbs", _SBS_COLOUR), ("uniform", _UNIFORM_COLOUR)):
        mine = [p for p in pts if p.method == method]
        if not mine:
            continue
        name = "SBS" if method == "sbs" else "uniform"
        for seed in seeds:
            group = sorted((p for p in mine if p.seed == seed), key=lambda p: p.bops)
            if not group:
                continue
            common: dict[str, Any] = {
                "x": [p.reduction for p in group],
                "y": [100 * p.test_accuracy for p in group],
                "customdata": [_hover(p) for p in group],
                "name": f"{name} (seed {seed})" if several else name,
                "legendgroup": method,
                "opacity": 0.5 if several else 1.0,
                "hovertemplate": _HOVER,
            }
            if method == "sbs":
                fig.add_trace(go.Scatter(**common, mode="lines+markers", line={"color": colour}, marker={"size": 8}))
            else:
                fig.add_trace(
                    go.Scatter(
                        **common,
                        mode="markers+text",
                        text=[_short(p) for p in group],
                        textposition="top center",
                        marker={"color": colour, "size": 9, "symbol": "square"},
                    )
                )
        front = [mine[i] for i in pareto_front([(p.bops, p.test_accuracy) for p in mine])]
        fig.add_trace(
            go.Scatter(
                x=[p.reduction for p in front],
                y=[100 * p.test_accuracy for p in front],
                mode="lines",
                line={"color": colour, "width": 10},
                opacity=0.2,
                name=f"{name} Pareto front",
                legendgroup=method,
                hoverinfo="skip",
            )
        )
    ys = [100 * p.test_accuracy for p in pts] + ([100 * reference] if reference is not None else [])
    lo, hi = min(ys) - 2, max(ys) + 2
    if reference is not None:
        fig.add_hline(
            y=100 * reference,
            line_dash="dash",
            line_color="gray",
            annotation_text=f"fp32 {100 * reference:.2f}%",
            annotation_position="bottom left",
        )
    if highlight is not None:
        fig.add_trace(
            go.Scatter(
                x=[highlight.reduction],
                y=[100 * highlight.test_accuracy],
                mode="markers",
                marker={"size": 22, "symbol": "circle-open", "color": "black", "line": {"width": 2}},
                name=f"chosen: {highlight.label}",
                customdata=[_hover(highlight)],
                hovertemplate=_HOVER,
            )
        )
    if budget is not None:
        if not budget > 0:
            raise ValueError(f"budget must be a number of BOPs > 0, got {budget!r}")
        x = pts[0].fp32_bops / budget
        fig.add_trace(  # a trace, not a shape: it sits in data coordinates on the log axis and in the legend
            go.Scatter(
                x=[x, x],
                y=[lo, hi],
                mode="lines",
                line={"dash": "dot", "color": "black", "width": 1.5},
                name=f"budget {budget:,.0f} BOPs ({x:.1f}×)",
                hoverinfo="skip",
            )
        )
    fig.update_layout(
        title=title or "SBS against uniform bits: accuracy against BOPs",
        xaxis={"title": "BOPs reduction against fp32 (×, log)", "type": "log"},
        yaxis={"title": "test accuracy (%)", "range": [lo, hi]},
        template="plotly_white",
        height=440,
    )
    return fig
