"""Figures of quantization (chapter 04): accuracy against bits, value and error histograms."""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go
import torch

from effdl.viz.general import _hist, label

__all__ = ["bits_accuracy_curves", "quant_histograms"]


def bits_accuracy_curves(
    curves: Mapping[str, Mapping[int, float]],
    *,
    baseline: float | None = None,
    baseline_name: str = "fp32",
    ylabel: str | None = None,
    log_y: bool = False,
    title: str | None = None,
) -> go.Figure:
    """A metric against bit-width, one line per method: ``{method: {bits: value}}`` (default: test accuracy in %);
    the x axis runs from many bits to few (left to right), and ``baseline`` (e.g. the fp32 accuracy) is a dotted
    horizontal line. ``ylabel`` names another metric (e.g. an error), ``log_y`` puts it on a log scale."""
    if not curves:
        raise ValueError("curves is empty: nothing to plot")
    fig = go.Figure()
    all_bits: set[int] = set()
    for name, points in curves.items():
        bits = sorted(points, reverse=True)
        all_bits.update(bits)
        fig.add_trace(
            go.Scatter(
                x=[str(b) for b in bits],
                y=[float(points[b]) for b in bits],
                mode="lines+markers",
                name=str(name),
                hovertemplate=f"{name}<br>%{{x}} bits: %{{y:.4g}}<extra></extra>",
            )
        )
    order = [str(b) for b in sorted(all_bits, reverse=True)]
    if baseline is not None:
        fig.add_hline(
            y=float(baseline),
            line_dash="dot",
            line_color="gray",
            annotation_text=f"{baseline_name} {baseline:.4g}",
            annotation_position="bottom left",
        )
    fig.update_layout(
        title=title or f"{ylabel or 'test accuracy'} against bit-width",
        xaxis={"title": "bits per weight", "type": "category", "categoryorder": "array", "categoryarray": order},
        yaxis={"title": ylabel or label("accuracy"), "type": "log" if log_y else "linear"},
        template="plotly_white",
        height=420,
    )
    return fig


def quant_histograms(
    weight: torch.Tensor,
    quantized: torch.Tensor,
    *,
    bins: int = 120,
    title: str | None = None,
) -> go.Figure:
    """Two panels for one layer: the float weights with their quantized values overlaid (the spikes are the
    quantization levels), and the error ``quantized − weight``. ``weight`` and ``quantized``: tensors of the same
    shape (any). Histograms are binned here (``bins`` bars per trace, shared edges for float and quantized)."""
    from plotly.subplots import make_subplots

    if weight.shape != quantized.shape:
        raise ValueError(
            f"weight and quantized must have the same shape, got {tuple(weight.shape)} and {tuple(quantized.shape)}"
        )
    w = weight.detach().float().flatten()
    q = quantized.detach().float().flatten()
    err = q - w
    lo, hi = float(torch.minimum(w.min(), q.min())), float(torch.maximum(w.max(), q.max()))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("weights: float and quantized", "error (quantized − float)"))
    for values, name, colour in ((w, "float", "#636efa"), (q, "quantized", "#ef553b")):
        x, y, width = _hist(values, lo, hi, bins)
        fig.add_trace(go.Bar(x=x, y=y, width=width, name=name, opacity=0.6, marker_color=colour), row=1, col=1)
    e_lo, e_hi = float(err.min()), float(err.max())
    x, y, width = _hist(err, e_lo, e_hi, bins)
    fig.add_trace(go.Bar(x=x, y=y, width=width, name="error", marker_color="#d62728"), row=1, col=2)
    rmse = float(err.pow(2).mean().sqrt())
    fig.update_layout(
        title=title or f"{w.numel():,} weights; RMS error {rmse:.2e}, max |error| {float(err.abs().max()):.2e}",
        barmode="overlay",
        bargap=0,
        template="plotly_white",
        height=380,
    )
    fig.update_xaxes(title_text="weight value", row=1, col=1)
    fig.update_xaxes(title_text="error", row=1, col=2)
    fig.update_yaxes(title_text="count", row=1, col=1)
    return fig
