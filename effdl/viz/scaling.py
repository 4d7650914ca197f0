"""Figures of chapter 07 (train large, then compress): loss curves, robustness, size against loss."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.express as px
import plotly.graph_objects as go

from effdl.core.footprint import pareto_front

__all__ = ["SCALING_METHODS", "compression_robustness", "headline_verdict", "lm_curves", "size_loss_scatter"]

# Train large, then compress (chapter 07)

_LM_AXES = {
    "step": "optimizer steps",
    "seconds": "training wall-clock (s)",
    "flops": "training FLOPs (measured)",
}


def _field(obj: Any, key: str) -> list[float]:
    value = obj[key] if isinstance(obj, Mapping) else getattr(obj, key)
    return [float(v) for v in value]


def lm_curves(
    curves: Mapping[str, Any],
    *,
    x: str = "step",
    baseline: float | None = None,
    target: float | None = None,
    log_x: bool | None = None,
    title: str | None = None,
) -> go.Figure:
    """Validation loss (bits/char) of several language models against ``x``: ``"step"``, ``"seconds"`` (training
    wall-clock) or ``"flops"`` (cumulative training FLOPs, log axis by default). ``curves``: name -> an
    ``effdl.compress.scaling.LMCurve`` (or a dict with ``step``, ``seconds``, ``flops`` and ``val_bpc`` lists).
    ``baseline`` (e.g. the unigram entropy) is a dotted line, ``target`` (e.g. the smallest model's final loss)
    a dashed one. Step 0 (the untrained model) is left out on a log axis."""
    if x not in _LM_AXES:
        raise ValueError(f"x must be one of {', '.join(repr(a) for a in _LM_AXES)}, got {x!r}")
    if not curves:
        raise ValueError("curves is empty: nothing to plot")
    log = (x == "flops") if log_x is None else bool(log_x)
    fig = go.Figure()
    for name, curve in curves.items():
        xs, ys = _field(curve, x), _field(curve, "val_bpc")
        if log:
            xs, ys = [a for a in xs if a > 0], [b for a, b in zip(xs, ys, strict=True) if a > 0]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                marker={"size": 4},
                name=str(name),
                hovertemplate=f"{name}<br>{_LM_AXES[x]}: %{{x:.4g}}<br>val loss: %{{y:.3f}} bits/char<extra></extra>",
            )
        )
    if baseline is not None:
        fig.add_hline(
            y=float(baseline),
            line_dash="dot",
            line_color="gray",
            annotation_text=f"unigram entropy {baseline:.2f}",
            annotation_position="top right",
        )
    if target is not None:
        fig.add_hline(
            y=float(target),
            line_dash="dash",
            line_color="black",
            annotation_text=f"target {target:.3f}",
            annotation_position="bottom right",
        )
    fig.update_layout(
        title=title or f"validation loss against {_LM_AXES[x]}",
        xaxis={"title": _LM_AXES[x], "type": "log" if log else "linear"},
        yaxis_title="validation loss (bits/char)",
        template="plotly_white",
        height=400,
    )
    return fig


def compression_robustness(rows: Sequence[Mapping[str, Any]], *, title: str | None = None) -> go.Figure:
    """Relative loss increase (%) against compression, one line per model, two panels: magnitude pruning (x =
    sparsity %) and post-training quantization (x = bits per weight, many to few). ``rows``:
    ``effdl.compress.scaling.compress_curve`` rows (``name``, ``method``, ``sparsity``, ``bits``,
    ``rel_increase``); each model's fp32 row (0%) starts both lines."""
    from plotly.subplots import make_subplots

    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    need = ("name", "method", "sparsity", "bits", "rel_increase")
    for i, r in enumerate(rows):
        missing = [k for k in need if k not in r]
        if missing:
            raise ValueError(f"rows[{i}] has no {missing}; compress_curve rows have {list(need)}")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("magnitude pruning", "post-training quantization"))
    colours = px.colors.qualitative.Plotly
    names = list(dict.fromkeys(str(r["name"]) for r in rows))
    all_bits: set[int] = set()
    for i, name in enumerate(names):
        mine = [r for r in rows if str(r["name"]) == name]
        colour = colours[i % len(colours)]
        pr = sorted(
            (float(r["sparsity"]), 100 * float(r["rel_increase"])) for r in mine if r["method"] in ("none", "prune")
        )
        qu = sorted(
            ((int(r["bits"]), 100 * float(r["rel_increase"])) for r in mine if r["method"] in ("none", "quant")),
            reverse=True,
        )
        all_bits.update(b for b, _ in qu)
        fig.add_trace(
            go.Scatter(
                x=[100 * s for s, _ in pr],
                y=[v for _, v in pr],
                mode="lines+markers",
                name=name,
                legendgroup=name,
                line={"color": colour},
                hovertemplate=f"{name}<br>%{{x:.0f}}% pruned: %{{y:+.2f}}%<extra></extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=[str(b) for b, _ in qu],
                y=[v for _, v in qu],
                mode="lines+markers",
                name=name,
                legendgroup=name,
                showlegend=False,
                line={"color": colour},
                hovertemplate=f"{name}<br>%{{x}} bits: %{{y:+.2f}}%<extra></extra>",
            ),
            row=1,
            col=2,
        )
    order = [str(b) for b in sorted(all_bits, reverse=True)]
    fig.update_xaxes(title_text="sparsity of the compressed layers (%)", row=1, col=1)
    fig.update_xaxes(
        title_text="bits per weight", type="category", categoryorder="array", categoryarray=order, row=1, col=2
    )
    fig.update_yaxes(title_text="validation loss increase (%)", row=1, col=1)
    fig.update_layout(
        title=title or "robustness to compression: relative increase of the validation loss (lower is more robust)",
        template="plotly_white",
        height=420,
    )
    return fig


SCALING_METHODS: dict[str, tuple[str, ...]] = {
    "any": ("none", "prune", "quant", "prune+quant"),
    "prune": ("none", "prune"),
    "quant": ("none", "quant"),
    "prune+quant": ("none", "prune+quant"),
}


def size_loss_scatter(
    rows: Sequence[Mapping[str, Any]],
    *,
    method: str = "any",
    budget_bits: float | None = None,
    best: Sequence[Mapping[str, Any]] = (),
    title: str | None = None,
) -> go.Figure:
    """The headline plot of "train large, then compress": validation loss (bits/char) against compressed size
    (kbit, log axis), one marker trace per model, for the rows of one compression ``method`` (``"any"``,
    ``"prune"``, ``"quant"``, ``"prune+quant"``; the fp32 rows are always shown). ``rows``:
    ``effdl.compress.scaling.compress_curve`` rows of several models.

    Trace order (widgets update them in place): one per model, then the Pareto frontier of the shown points, then
    the size budget (a vertical line at ``budget_bits``, empty if None), then ``best`` (rows drawn as stars)."""
    if method not in SCALING_METHODS:
        raise ValueError(f"method must be one of {', '.join(repr(m) for m in SCALING_METHODS)}, got {method!r}")
    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    need = ("name", "method", "label", "size_bits", "val_bpc")
    for i, r in enumerate(rows):
        missing = [k for k in need if k not in r]
        if missing:
            raise ValueError(f"rows[{i}] has no {missing}; compress_curve rows have {list(need)}")
    shown = [r for r in rows if r["method"] in SCALING_METHODS[method]]
    names = list(dict.fromkeys(str(r["name"]) for r in rows))
    fig = go.Figure()
    for name in names:
        mine = sorted((r for r in shown if str(r["name"]) == name), key=lambda r: float(r["size_bits"]))
        fig.add_trace(
            go.Scatter(
                x=[float(r["size_bits"]) / 1e3 for r in mine],
                y=[float(r["val_bpc"]) for r in mine],
                text=[str(r["label"]) for r in mine],
                mode="markers",
                marker={"size": 9, "opacity": 0.8},
                name=name,
                hovertemplate=f"{name}, %{{text}}<br>%{{x:,.0f}} kbit<br>%{{y:.3f}} bits/char<extra></extra>",
            )
        )
    keep = pareto_front([(float(r["size_bits"]), float(r["val_bpc"])) for r in shown], maximize=(False, False))
    front = [shown[i] for i in keep]
    fig.add_trace(
        go.Scatter(
            x=[float(r["size_bits"]) / 1e3 for r in front],
            y=[float(r["val_bpc"]) for r in front],
            mode="lines",
            line={"color": "gray", "dash": "dot", "shape": "hv"},
            name="best at each size",
            hoverinfo="skip",
        )
    )
    ys = [float(r["val_bpc"]) for r in rows]
    lo, hi = min(ys), max(ys)
    bx = [budget_bits / 1e3] * 2 if budget_bits is not None else []
    fig.add_trace(
        go.Scatter(
            x=bx,
            y=[lo, hi] if bx else [],
            mode="lines",
            line={"color": "crimson", "width": 2},
            name="size budget",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[float(r["size_bits"]) / 1e3 for r in best],
            y=[float(r["val_bpc"]) for r in best],
            text=[f"{r['name']}, {r['label']}" for r in best],
            mode="markers",
            marker={"symbol": "star", "size": 18, "color": "gold", "line": {"width": 1, "color": "black"}},
            name="best under the budget",
            hovertemplate="%{text}<br>%{x:,.0f} kbit<br>%{y:.3f} bits/char<extra></extra>",
        )
    )
    fig.update_layout(
        title=title or "validation loss against compressed size: every model, every compression level",
        xaxis={"title": "compressed size (kbit, log scale)", "type": "log"},
        yaxis_title="validation loss (bits/char)",
        template="plotly_white",
        height=460,
    )
    return fig


def headline_verdict(head: Mapping[str, Any], strict: Mapping[str, Any], *, view: str, small: str) -> str:
    """The headline test in words (Markdown): ``head`` and ``strict`` are
    ``effdl.compress.scaling.headline_tests``'s verdicts within ``small``'s fp32 size and within its 8-bit size;
    ``view`` opens the sentence (e.g. "**At equal training compute**"). Sizes in kbit, losses in bits/char."""
    for name, d in (("head", head), ("strict", strict)):
        missing = [k for k in ("small_light", "large_heavy", "max_bits", "wins") if k not in d]
        if missing:
            raise ValueError(f"{name} must be a large_vs_small verdict, it lacks {missing}")
    sl, lh, cap = head["small_light"], head["large_heavy"], float(head["max_bits"])
    if lh is None:
        text = f"{view}: no heavily compressed larger model fits within {cap / 1e3:,.0f} kbit."
    else:
        text = (
            f"{view}: the best heavily compressed larger model is **{lh['name']}, {lh['label']}**: "
            f"**{lh['val_bpc']:.3f} bits/char** in {lh['size_bits'] / 1e3:,.0f} kbit, against **{sl['val_bpc']:.3f}** "
            f"for the best lightly compressed {small} ({sl['label']}, {sl['size_bits'] / 1e3:,.0f} kbit): "
            + ("**the large compressed model wins**" if head["wins"] else f"**{small} wins**")
            + f" by {abs(head['margin_bpc']):.3f} bits/char."
        )
    sh = strict["large_heavy"]
    return (
        text
        + f" Within {small}'s **8-bit** size ({float(strict['max_bits']) / 1e3:,.0f} kbit): "
        + (
            "no heavily compressed larger model fits."
            if sh is None
            else f"{sh['name']}, {sh['label']} at {sh['val_bpc']:.3f} bits/char against "
            f"{strict['small_light']['val_bpc']:.3f} — "
            + ("the larger model still wins." if strict["wins"] else f"{small} wins there.")
        )
    )
