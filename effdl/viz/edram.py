"""Figures of chapter 08 (eDRAM and reversible networks): retention, memory, lifetimes, energy, co-design."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.express as px
import plotly.graph_objects as go

from effdl.core.footprint import pareto_front
from effdl.viz.general import label

__all__ = [
    "EDRAM_COLORS",
    "activation_memory_curves",
    "codesign_front",
    "codesign_scatter",
    "energy_bars",
    "lifetime_chart",
    "retention_curve",
]

# eDRAM and reversible networks (chapter 08)

EDRAM_COLORS: dict[str, str] = {
    "mac": "#636efa",
    "onchip_read": "#00cc96",
    "onchip_write": "#19d3f3",
    "refresh": "#ef553b",
    "dram": "#ab63fa",
    "standard": "#ef553b",
    "reversible": "#00cc96",
}
_EDRAM_COMPONENTS = ("mac", "onchip_read", "onchip_write", "refresh", "dram")  # = effdl.hardware.edram.COMPONENTS
_EDRAM_LABELS = {
    "mac": "MACs",
    "onchip_read": "on-chip reads",
    "onchip_write": "on-chip writes",
    "refresh": "eDRAM refresh",
    "dram": "off-chip DRAM",
}


def retention_curve(
    temperatures_c: Sequence[float],
    retention_s: Sequence[float],
    *,
    mark: tuple[float, float] | None = (100.0, 3.35e-6),
    title: str | None = None,
) -> go.Figure:
    """eDRAM retention time (µs, log axis) against temperature (°C), with ``mark = (°C, seconds)`` highlighted
    (default: CAMEL's worst case, 3.35 µs at 100 °C). Trace order: the curve, then the mark."""
    if len(temperatures_c) != len(retention_s) or not len(temperatures_c):
        raise ValueError(
            f"temperatures_c and retention_s must be non-empty and of equal length, got "
            f"{len(temperatures_c)} and {len(retention_s)}"
        )
    fig = go.Figure(
        go.Scatter(
            x=[float(t) for t in temperatures_c],
            y=[1e6 * float(r) for r in retention_s],
            mode="lines",
            name="retention time",
            line={"color": "#636efa"},
            hovertemplate="%{x:.0f} °C: %{y:.3g} µs<extra></extra>",
        )
    )
    if mark is not None:
        fig.add_trace(
            go.Scatter(
                x=[float(mark[0])],
                y=[1e6 * float(mark[1])],
                mode="markers+text",
                text=[f"{1e6 * mark[1]:.2f} µs @ {mark[0]:.0f} °C"],
                textposition="top right",
                marker={"color": "#ef553b", "size": 10},
                name="CAMEL's worst case",
            )
        )
    fig.update_layout(
        title=title or "eDRAM retention falls exponentially with temperature",
        xaxis_title="temperature (°C)",
        yaxis_title="retention time (µs)",
        yaxis_type="log",
        template="plotly_white",
        height=360,
    )
    return fig


def activation_memory_curves(rows: Sequence[Mapping[str, Any]], *, title: str | None = None) -> go.Figure:
    """Saved activation memory (kB) against depth, one line per model. ``rows``: dicts with ``model``, ``depth``
    and ``bytes`` (e.g. from :func:`effdl.saved_activation_bytes`). One trace per model, first-seen order."""
    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    for i, r in enumerate(rows):
        missing = [k for k in ("model", "depth", "bytes") if k not in r]
        if missing:
            raise ValueError(f"rows[{i}] has no {missing}; need model, depth and bytes")
    fig = go.Figure()
    for name in dict.fromkeys(str(r["model"]) for r in rows):
        mine = sorted((int(r["depth"]), float(r["bytes"])) for r in rows if str(r["model"]) == name)
        fig.add_trace(
            go.Scatter(
                x=[d for d, _ in mine],
                y=[b / 1e3 for _, b in mine],
                mode="lines+markers",
                name=name,
                hovertemplate=f"{name}<br>depth %{{x}}: %{{y:,.1f}} kB<extra></extra>",
            )
        )
    fig.update_layout(
        title=title or "activation memory kept for backward, one training step",
        xaxis_title="depth (blocks)",
        yaxis_title="saved activations (kB)",
        template="plotly_white",
        height=380,
    )
    return fig


def lifetime_chart(
    lifetimes: Mapping[str, Sequence[Mapping[str, Any]]], *, retention_us: float, title: str | None = None
) -> go.Figure:
    """Every stored tensor's lifetime (µs, log axis) in write order, one marker trace per schedule, against the
    eDRAM retention time (a dashed line). ``lifetimes``: ``{label: effdl.hardware.edram.lifetimes(result)}``;
    spilled tensors are drawn as open markers (they live off chip and need no refresh). Trace order: one per
    label, then the retention line (widgets update them in place)."""
    if not lifetimes:
        raise ValueError("lifetimes is empty: nothing to plot")
    if not (isinstance(retention_us, int | float) and retention_us > 0):
        raise ValueError(f"retention_us must be a number > 0, got {retention_us!r}")
    fig = go.Figure()
    most = 1
    palette = px.colors.qualitative.Plotly
    for i, (name, rows) in enumerate(lifetimes.items()):
        most = max(most, len(rows))
        key = "reversible" if "reversible" in name else "standard" if "standard" in name else None
        fig.add_trace(
            go.Scatter(
                x=list(range(len(rows))),
                y=[max(float(r["lifetime_us"]), 1e-4) for r in rows],
                mode="markers",
                name=name,
                marker={
                    "color": EDRAM_COLORS[key] if key else palette[i % len(palette)],
                    "size": 6,
                    "symbol": ["circle-open" if r["where"] == "spilled" else "circle" for r in rows],
                },
                customdata=[[r["name"], int(r["bytes"]), int(r["refreshes"]), r["where"]] for r in rows],
                hovertemplate=f"{name}<br>%{{customdata[0]}} (%{{customdata[1]:,}} bytes, %{{customdata[3]}})<br>"
                "lifetime %{y:.3g} µs, %{customdata[2]} refreshes<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[-0.5, most - 0.5],
            y=[float(retention_us)] * 2,
            mode="lines",
            line={"color": "black", "dash": "dash"},
            name=f"retention {retention_us:.3g} µs",
        )
    )
    fig.update_layout(
        title=title or "data lifetime of every stored tensor against the eDRAM retention time",
        xaxis_title="stored tensor (in write order)",
        yaxis_title="lifetime (µs)",
        yaxis_type="log",
        template="plotly_white",
        height=420,
    )
    return fig


def energy_bars(rows: Sequence[Mapping[str, Any]], *, title: str | None = None) -> go.Figure:
    """Training-step energy per scenario (µJ), stacked by component: MACs, on-chip reads, on-chip writes, eDRAM
    refresh, off-chip DRAM. ``rows``: :func:`effdl.hardware.edram.compare` rows (``scenario``, ``<component>_uj``,
    ``total_uj``). Trace order: the five components, then the totals written above the bars."""
    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    for i, r in enumerate(rows):
        missing = [k for k in ("scenario", "total_uj", *(f"{c}_uj" for c in _EDRAM_COMPONENTS)) if k not in r]
        if missing:
            raise ValueError(f"rows[{i}] has no {missing}; pass effdl.hardware.edram.compare rows")
    x = [str(r["scenario"]) for r in rows]
    fig = go.Figure()
    for c in _EDRAM_COMPONENTS:
        fig.add_trace(
            go.Bar(
                x=x,
                y=[float(r[f"{c}_uj"]) for r in rows],
                name=_EDRAM_LABELS[c],
                marker_color=EDRAM_COLORS[c],
                hovertemplate=f"{_EDRAM_LABELS[c]}: %{{y:.3g}} µJ<extra>%{{x}}</extra>",
            )
        )
    totals = [float(r["total_uj"]) for r in rows]
    fig.add_trace(
        go.Scatter(
            x=x,
            y=totals,
            mode="text",
            text=[f"{t:.3g} µJ" for t in totals],
            textposition="top center",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        title=title or "energy of one training step, by component",
        barmode="stack",
        yaxis_title="energy per training step (µJ)",
        yaxis_range=[0, 1.15 * max(totals)] if max(totals) > 0 else None,
        template="plotly_white",
        height=420,
    )
    return fig


def codesign_scatter(rows: Sequence[Mapping[str, Any]], *, retention_us: float, title: str | None = None) -> go.Figure:
    """The co-design sweep: the reversible schedule's longest tensor lifetime (µs, log axis) against the energy
    ratio standard + SRAM / reversible + eDRAM, one marker per configuration, filled when the reversible schedule
    needs no refresh. ``rows``: dicts with ``config`` (a label), ``max_lifetime_us``, ``energy_ratio`` and
    ``refreshes``. Trace order: no refresh, refresh, the retention line."""
    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    fig = go.Figure()
    for free, name, symbol in ((True, "reversible: no refresh", "circle"), (False, "reversible: refresh", "x")):
        mine = [r for r in rows if (int(r["refreshes"]) == 0) == free]
        fig.add_trace(
            go.Scatter(
                x=[float(r["max_lifetime_us"]) for r in mine],
                y=[float(r["energy_ratio"]) for r in mine],
                mode="markers",
                name=name,
                marker={"symbol": symbol, "size": 10, "color": EDRAM_COLORS["reversible" if free else "standard"]},
                text=[str(r["config"]) for r in mine],
                hovertemplate="%{text}<br>longest lifetime %{x:.3g} µs<br>energy %{y:.2f}× lower<extra></extra>",
            )
        )
    top = max(max(float(r["energy_ratio"]) for r in rows), 1.0)
    fig.add_trace(
        go.Scatter(
            x=[retention_us, retention_us],
            y=[0, 1.1 * top],
            mode="lines",
            line={"color": "black", "dash": "dash"},
            name=f"retention {retention_us:.3g} µs",
        )
    )
    fig.update_layout(
        title=title or "co-design: the reversible schedule's longest lifetime against the energy it saves",
        xaxis_title="longest stored-tensor lifetime, reversible schedule (µs)",
        yaxis_title="energy: standard + SRAM / reversible + eDRAM",
        xaxis_type="log",
        template="plotly_white",
        height=420,
    )
    return fig


def codesign_front(
    rows: Sequence[Mapping[str, Any]],
    *,
    energy: str = "energy_uj_per_sample",
    accuracy: str = "val_accuracy",
    group: str = "kind",
    min_accuracy: float | None = None,
    chosen: str | None = None,
    title: str | None = None,
) -> go.Figure:
    """The co-design space: accuracy (%) against training energy (µJ per sample, log axis), one marker trace per
    ``row[group]`` (first-seen order), the Pareto front over all rows (lower energy, higher accuracy) as a line,
    the declared accuracy constraint ``min_accuracy`` as a dashed horizontal line, and the ``chosen`` row (its
    ``config``) as a star. ``rows``: dicts with ``config`` (a label), ``energy``, ``accuracy`` and ``group``
    keys. Trace order: the groups, the front, the constraint (when given), the chosen point (when given)."""
    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    for i, r in enumerate(rows):
        missing = [k for k in ("config", energy, accuracy, group) if k not in r]
        if missing:
            raise ValueError(f"rows[{i}] has no {missing}; need config, {energy}, {accuracy} and {group}")
    xs = [float(r[energy]) for r in rows]
    ys = [float(r[accuracy]) for r in rows]
    if min(xs) <= 0:
        raise ValueError(f"{energy} must be > 0 for the log axis, got {min(xs)}")
    fig = go.Figure()
    palette = px.colors.qualitative.Plotly
    for i, name in enumerate(dict.fromkeys(str(r[group]) for r in rows)):
        mine = [j for j, r in enumerate(rows) if str(r[group]) == name]
        fig.add_trace(
            go.Scatter(
                x=[xs[j] for j in mine],
                y=[ys[j] for j in mine],
                mode="markers",
                name=name,
                marker={"size": 9, "color": palette[i % len(palette)]},
                text=[str(rows[j]["config"]) for j in mine],
                hovertemplate="%{text}<br>%{x:.3g} µJ per sample<br>accuracy %{y:.2f}%<extra>" + name + "</extra>",
            )
        )
    front = sorted(pareto_front(list(zip(xs, ys, strict=True)), maximize=(False, True)), key=lambda j: xs[j])
    fig.add_trace(
        go.Scatter(
            x=[xs[j] for j in front],
            y=[ys[j] for j in front],
            mode="lines",
            line={"dash": "dot", "color": "grey"},
            name="Pareto front",
            text=[str(rows[j]["config"]) for j in front],
            hovertemplate="%{text}<extra>Pareto front</extra>",
        )
    )
    if min_accuracy is not None:
        fig.add_trace(
            go.Scatter(
                x=[min(xs) / 1.2, max(xs) * 1.2],
                y=[float(min_accuracy)] * 2,
                mode="lines",
                line={"color": "black", "dash": "dash"},
                name=f"constraint: accuracy ≥ {float(min_accuracy):.2f}%",
            )
        )
    if chosen is not None:
        hits = [j for j, r in enumerate(rows) if str(r["config"]) == chosen]
        if not hits:
            raise ValueError(f"chosen={chosen!r} is no row's config")
        j = hits[0]
        fig.add_trace(
            go.Scatter(
                x=[xs[j]],
                y=[ys[j]],
                mode="markers+text",
                marker={"symbol": "star", "size": 16, "color": "gold", "line": {"color": "black", "width": 1}},
                text=[chosen],
                textposition="bottom right",
                name="chosen",
            )
        )
    fig.update_layout(
        title=title or "co-design: accuracy against training energy, with the Pareto front",
        xaxis_title="training energy per sample (µJ, log)",
        yaxis_title=f"{label(accuracy)}",
        xaxis_type="log",
        template="plotly_white",
        height=460,
    )
    return fig
