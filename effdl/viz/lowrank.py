"""Figures of low-rank factorization (chapter 02): singular-value spectra, accuracy against rank."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.express as px
import plotly.graph_objects as go
import torch

__all__ = ["rank_curves", "singular_value_spectra"]


def singular_value_spectra(spectra: Mapping[str, Any], *, title: str | None = None) -> go.Figure:
    """Two panels for ``spectra`` (name -> 1-D singular values, descending, e.g. ``lowrank.singular_values(layer)``).

    Left: normalized singular values ``σ_i / σ_1`` against the index i (log y). Right: retained energy
    ``sum(σ[:r]²) / sum(σ²)`` (%) against the rank as a fraction of the full rank k, so that layers of different
    sizes compare on one axis.
    """
    from plotly.subplots import make_subplots

    from effdl.compress.lowrank import retained_energy

    if not spectra:
        raise ValueError("spectra is empty: nothing to plot")
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("normalized singular values σᵢ / σ₁", "retained energy Σσ² up to rank r"),
        horizontal_spacing=0.1,
    )
    palette = px.colors.qualitative.Plotly
    for i, (name, values) in enumerate(spectra.items()):
        s = torch.as_tensor(values).detach().double().flatten()
        if s.numel() == 0:
            raise ValueError(f"spectra[{name!r}] is empty")
        k = s.numel()
        color = palette[i % len(palette)]
        norm = (s / s[0]).clamp_min(1e-12) if s[0] > 0 else torch.ones_like(s)
        fig.add_trace(
            go.Scatter(
                x=list(range(1, k + 1)),
                y=norm.tolist(),
                mode="lines",
                name=name,
                legendgroup=name,
                line={"color": color},
                hovertemplate="i = %{x}<br>σᵢ/σ₁ = %{y:.3g}<extra>" + name + "</extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=[r / k for r in range(1, k + 1)],
                y=(100 * retained_energy(s)).tolist(),
                mode="lines",
                name=name,
                legendgroup=name,
                showlegend=False,
                line={"color": color},
                customdata=list(range(1, k + 1)),
                hovertemplate="rank %{customdata} (%{x:.0%} of full)<br>energy %{y:.1f}%<extra>" + name + "</extra>",
            ),
            row=1,
            col=2,
        )
    fig.update_yaxes(type="log", title_text="σᵢ / σ₁", row=1, col=1)
    fig.update_xaxes(title_text="index i", row=1, col=1)
    fig.update_yaxes(title_text="retained energy (%)", range=[0, 101], row=1, col=2)
    fig.update_xaxes(title_text="rank / full rank", tickformat=".0%", row=1, col=2)
    fig.update_layout(
        title=title or "singular-value spectra",
        template="plotly_white",
        height=470,
        legend={"orientation": "h", "y": -0.22},
        margin={"b": 110},
    )
    return fig


def rank_curves(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    baseline: float | None = None,
    marker: tuple[float, float] | None = None,
    break_even: float | None = None,
    x_title: str = "rank",
    y_title: str = "test accuracy (%)",
    log_x: bool = False,
    title: str | None = None,
) -> go.Figure:
    """One line per entry of ``curves`` (name -> (ranks, values), e.g. accuracy in % against rank).

    ``baseline``: a dashed horizontal line (the unfactorized model); ``break_even``: a dotted vertical line at the
    rank above which the factorization stops saving parameters; ``marker``: one highlighted ``(rank, value)``
    point. The marker trace is always the last trace (empty when ``marker`` is None) so widgets can move it.
    """
    fig = go.Figure()
    all_x: list[float] = []
    for name, (xs, ys) in curves.items():
        xs, ys = [float(v) for v in xs], [float(v) for v in ys]
        if len(xs) != len(ys):
            raise ValueError(f"curves[{name!r}] has {len(xs)} ranks but {len(ys)} values")
        all_x += xs
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=name))
    if baseline is not None and all_x:
        fig.add_trace(
            go.Scatter(
                x=[min(all_x), max(all_x)],
                y=[baseline, baseline],
                mode="lines",
                line={"dash": "dash", "color": "grey"},
                name=f"unfactorized ({baseline:.4g})",
                hoverinfo="skip",
            )
        )
    if break_even is not None:
        fig.add_vline(
            x=break_even,
            line={"dash": "dot", "color": "firebrick"},
            annotation_text="break-even",
            annotation_position="top left",
        )
    mx, my = ([marker[0]], [marker[1]]) if marker is not None else ([], [])
    fig.add_trace(
        go.Scatter(x=mx, y=my, mode="markers", marker={"size": 14, "color": "crimson", "symbol": "diamond"}, name="now")
    )
    fig.update_layout(
        title=title or f"{y_title} against {x_title}",
        xaxis_title=x_title,
        yaxis_title=y_title,
        xaxis_type="log" if log_x else "linear",
        template="plotly_white",
        height=420,
    )
    return fig
