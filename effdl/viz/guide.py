"""Figures of the practitioner's guide: per-layer sensitivity of a :class:`effdl.guide.ModelReport`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

if TYPE_CHECKING:
    from effdl.guide.report import ModelReport

__all__ = ["file_breakdown", "ordering_bars", "pipeline_pareto", "sensitivity_bars"]

_COLUMNS = ("name", "params_share", "prune_output_change", "quant_output_change")


def sensitivity_bars(report: ModelReport | Sequence[Mapping[str, Any]], *, title: str | None = None) -> go.Figure:
    """Horizontal bars, one pair per Conv2d/Linear layer (module order, top to bottom): the relative output change
    (%) when that layer alone is magnitude-pruned and when it alone is quantized, from ``effdl.guide.report``.

    ``report``: a ``ModelReport`` or its ``layers`` rows (dicts with ``name``, ``params_share``,
    ``prune_output_change``, ``quant_output_change``). Each bar's hover shows the layer's share of the weights.
    Short bars on big layers are the ones to compress first.
    """
    rows = getattr(report, "layers", report)
    settings: Mapping[str, Any] = getattr(report, "settings", {})
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
        raise TypeError(f"report must be a ModelReport or a list of layer rows, got {type(report).__name__}")
    if not rows:
        raise ValueError("report has no layers: nothing to plot")
    for key in _COLUMNS:
        missing = [i for i, r in enumerate(rows) if key not in r]
        if missing:
            raise ValueError(f"report rows {missing} have no {key!r}; each row needs {list(_COLUMNS)}")
    names = [str(r["name"]) for r in rows]
    shares = [100 * float(r["params_share"]) for r in rows]
    prune_name = f"prune {settings['sparsity']:.0%} of the layer" if "sparsity" in settings else "pruned"
    quant_name = f"{settings['bits']}-bit weights" if "bits" in settings else "quantized"
    fig = go.Figure()
    for key, name in (("prune_output_change", prune_name), ("quant_output_change", quant_name)):
        fig.add_trace(
            go.Bar(
                y=names,
                x=[100 * float(r[key]) for r in rows],
                customdata=shares,
                orientation="h",
                name=name,
                hovertemplate="%{y}: %{x:.2f}% output change, %{customdata:.1f}% of the weights<extra>"
                + name
                + "</extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        title=title or "sensitivity proxy: output change when one layer alone is compressed",
        xaxis_title="relative output change (%)",
        yaxis_title="layer",
        yaxis_autorange="reversed",
        template="plotly_white",
        height=max(300, 120 + 28 * len(rows)),
        legend={"orientation": "h", "y": -0.15 - 2.0 / max(len(rows), 1)},
    )
    return fig


# ----------------------------------------------------------------------------------------------------
# The capstone's pipelines: the Pareto front, what a file holds, the ordering study

_AXES = {
    "file_bytes": ("bytes on disk (log scale)", True),
    "latency_ms": ("CPU latency per batch (ms)", False),
    "energy_uj": ("energy per image (µJ, log scale)", True),
    "bops": ("BOPs per image (log scale)", True),
}


def _family(stage: Any) -> str:
    return " → ".join(s.split()[0] for s in stage.steps) or "fp32"


def pipeline_pareto(
    stages: Sequence[Any],
    *,
    x: str = "file_bytes",
    accuracy: str = "test_acc",
    chosen: Any = None,
    floor: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """Accuracy (%) against ``x`` (``"file_bytes"``, ``"latency_ms"``, ``"energy_uj"`` or ``"bops"``) for every
    distinct stage of :func:`effdl.guide.run_pipeline` runs, one colour per family of steps (``prune → qat``), the
    front of :func:`effdl.guide.pareto` (chosen on ``"val_acc"``, drawn at ``accuracy``) as a line, and ``chosen``
    (a stage) as a star; ``floor`` (a fraction) draws the accuracy constraint as a dashed horizontal line. Traces: one
    per family, then the front, the star and the floor (the last two empty when not given)."""
    from effdl.guide.study import distinct_stages, pareto

    if x not in _AXES:
        raise ValueError(f"x must be one of {sorted(_AXES)}, got {x!r}")
    if accuracy not in ("val_acc", "test_acc"):
        raise ValueError(f"accuracy must be 'val_acc' or 'test_acc', got {accuracy!r}")
    pts = distinct_stages(stages)
    if not pts:
        raise ValueError("stages is empty: nothing to plot")
    fig = go.Figure()
    families: dict[str, list[Any]] = {}
    for s in pts:
        families.setdefault(_family(s), []).append(s)
    for fam, group in families.items():
        fig.add_trace(
            go.Scatter(
                x=[getattr(s, x) for s in group],
                y=[100 * getattr(s, accuracy) for s in group],
                mode="markers",
                name=fam,
                text=[s.label for s in group],
                customdata=[[s.ratio, 100 * s.val_acc] for s in group],
                marker={"size": 10, "opacity": 0.85},
                hovertemplate="%{text}<br>%{x:.4g}, accuracy %{y:.1f}% (validation %{customdata[1]:.1f}%)"
                "<br>%{customdata[0]:.1f}× smaller on disk<extra></extra>",
            )
        )
    front = pareto(pts, x=x)
    fig.add_trace(
        go.Scatter(
            x=[getattr(s, x) for s in front],
            y=[100 * getattr(s, accuracy) for s in front],
            mode="lines",
            line={"color": "black", "dash": "dot", "shape": "hv"},
            name="Pareto front (validation)",
            hoverinfo="skip",
        )
    )
    star = [] if chosen is None else [chosen]
    fig.add_trace(
        go.Scatter(
            x=[getattr(s, x) for s in star],
            y=[100 * getattr(s, accuracy) for s in star],
            mode="markers",
            marker={"symbol": "star", "size": 20, "color": "gold", "line": {"color": "black", "width": 1}},
            name="chosen",
            text=[s.label for s in star],
            hovertemplate="chosen: %{text}<extra></extra>",
        )
    )
    xs = [float(getattr(s, x)) for s in pts]
    fig.add_trace(
        go.Scatter(
            x=[min(xs), max(xs)] if floor is not None else [],
            y=[100 * floor] * 2 if floor is not None else [],
            mode="lines",
            line={"color": "crimson", "dash": "dash", "width": 1},
            name="accuracy constraint",
            hovertemplate="constraint: %{y:.1f}%<extra></extra>",
        )
    )
    label, log = _AXES[x]
    fig.update_layout(
        title=title or f"every stage: {accuracy.replace('_acc', '')} accuracy against {label.split(' (')[0]}",
        xaxis={"title": label, "type": "log" if log else "linear"},
        yaxis_title=f"{'test' if accuracy == 'test_acc' else 'validation'} accuracy (%)",
        template="plotly_white",
        height=480,
    )
    return fig


def file_breakdown(packed: Sequence[Any], *, title: str | None = None, top: int = 8) -> go.Figure:
    """Where a packed file's bytes go (before the codec): one horizontal bar per tensor (the ``top`` largest, the
    rest summed), coloured by encoding. ``packed``: :func:`effdl.guide.inspect` of a file."""
    if not packed:
        raise ValueError("packed is empty: nothing to plot")
    rows = sorted(packed, key=lambda t: -t.nbytes)
    shown, rest = rows[:top], rows[top:]
    fig = go.Figure()
    encodings = list(dict.fromkeys(t.encoding for t in shown))
    for enc in encodings:
        group = [t for t in shown if t.encoding == enc]
        fig.add_trace(
            go.Bar(
                y=[t.name for t in group],
                x=[t.nbytes for t in group],
                orientation="h",
                name=enc,
                customdata=[[t.nnz, t.bits, t.palette] for t in group],
                hovertemplate="%{y}: %{x:,} bytes<br>%{customdata[0]:,} non-zeros, %{customdata[1]}-bit indices, "
                "palette %{customdata[2]}<extra>" + enc + "</extra>",
            )
        )
    if rest:
        fig.add_trace(
            go.Bar(
                y=[f"{len(rest)} other tensors"],
                x=[sum(t.nbytes for t in rest)],
                orientation="h",
                name="others",
                marker_color="lightgrey",
            )
        )
    fig.update_layout(
        title=title or f"what the file holds: {sum(t.nbytes for t in packed):,} bytes before the codec",
        xaxis_title="bytes",
        yaxis={"autorange": "reversed", "categoryorder": "total descending"},
        template="plotly_white",
        height=max(300, 110 + 30 * (len(shown) + bool(rest))),
    )
    return fig


def ordering_bars(study: Any, *, title: str | None = None) -> go.Figure:
    """Test accuracy (%) of prune → quantize and quantize → prune over the seeds of an
    :class:`effdl.guide.OrderingStudy`: mean ± std bars and one dot per seed."""
    from effdl.viz.general import mean_std_bars

    per_seed = {
        "prune → quantize": [100 * s.test_acc for s in study.prune_first],
        "quantize → prune": [100 * s.test_acc for s in study.quant_first],
    }
    seeds = {k: list(study.seeds) for k in per_seed}
    fig = mean_std_bars(per_seed, colours={"prune → quantize": "#1f77b4", "quantize → prune": "#ff7f0e"}, unit=" %",
                        text_format=".1f", seeds=seeds)  # fmt: skip
    lo = min(min(v) for v in per_seed.values())
    fig.update_layout(
        title=title
        or f"order matters? {100 * study.sparsity:.0f}% pruned, {study.bits}-bit, {len(study.seeds)} seed(s)",
        yaxis={"title": "test accuracy (%)", "range": [max(0.0, lo - 5), 100]},
        template="plotly_white",
        height=420,
        showlegend=False,
    )
    return fig
