"""Explorer of train large, then compress (chapter 07): loss against compressed size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from effdl import viz

__all__ = ["scaling_explorer"]


def scaling_explorer(
    rows: Sequence[Mapping[str, Any]],
    *,
    method: str = "any",
    budget_bits: float | None = None,
) -> W.VBox:
    """Browse precomputed "train large, then compress" results: pick the compression method (dropdown) and a size
    budget (the main slider, over the sizes that occur); the figure (``viz.size_loss_scatter``) shows every model's
    points for that method, the budget as a vertical line and, as stars, each model's best point within the
    budget; the readout names the overall best. ``rows``: ``effdl.compress.scaling.compress_curve`` rows of several
    models. ``budget_bits``: the starting budget (default: the median size). Nothing is recomputed. The box exposes
    ``rows`` (copies of the rows it browses) and ``sizes`` (the slider's positions, bits)."""
    if not rows:
        raise ValueError("rows is empty: nothing to explore")
    if method not in viz.SCALING_METHODS:
        raise ValueError(f"method must be one of {', '.join(repr(m) for m in viz.SCALING_METHODS)}, got {method!r}")
    sizes = sorted({float(r["size_bits"]) for r in rows})
    if budget_bits is None:
        start = sizes[len(sizes) // 2]
    else:
        fits = [s for s in sizes if s <= float(budget_bits)]
        if not fits:
            raise ValueError(f"budget_bits={budget_bits} is below every size (the smallest is {sizes[0]:.0f} bits)")
        start = fits[-1]
    names = list(dict.fromkeys(str(r["name"]) for r in rows))
    labels = {
        "any": "any method",
        "prune": "pruning",
        "quant": "quantization",
        "prune+quant": "pruning + quantization",
    }

    def best_rows(m: str, cap: float) -> list[Mapping[str, Any]]:
        out = []
        for name in names:
            ok = [r for r in rows if str(r["name"]) == name and r["method"] in viz.SCALING_METHODS[m]]
            ok = [r for r in ok if float(r["size_bits"]) <= cap]
            if ok:
                out.append(min(ok, key=lambda r: (float(r["val_bpc"]), float(r["size_bits"]))))
        return out

    method_dd = W.Dropdown(options=[(labels[m], m) for m in viz.SCALING_METHODS], value=method, description="method")
    slider = W.SelectionSlider(
        options=[(f"{s / 1e3:,.0f} kbit", s) for s in sizes],
        value=start,
        description="budget",
        continuous_update=False,
        layout=W.Layout(width="520px"),
    )
    slider.add_class("effdl-main-control")  # the control the browser tests move
    readout = W.HTML()
    fig = go.FigureWidget(viz.size_loss_scatter(rows, method=method, budget_bits=start, best=best_rows(method, start)))

    def update(change: Any = None) -> None:
        m, cap = str(method_dd.value), float(slider.value)
        best = best_rows(m, cap)
        new = viz.size_loss_scatter(rows, method=m, budget_bits=cap, best=best)
        with fig.batch_update():
            for old_trace, new_trace in zip(fig.data, new.data, strict=True):
                old_trace.x, old_trace.y = new_trace.x, new_trace.y
                old_trace.text = new_trace.text
        if not best:
            readout.value = f"nothing fits in {cap / 1e3:,.0f} kbit with {labels[m]}"
            return
        top = min(best, key=lambda r: float(r["val_bpc"]))
        per_model = ", ".join(f"{r['name']}: {float(r['val_bpc']):.3f} ({r['label']})" for r in best)
        readout.value = (
            f"within <b>{cap / 1e3:,.0f} kbit</b> using {labels[m]}: best is <b>{top['name']}, {top['label']}</b> at "
            f"<b>{float(top['val_bpc']):.3f} bits/char</b> ({float(top['size_bits']) / 1e3:,.0f} kbit) · "
            f"each model's best: {per_model}"
        )

    update()
    method_dd.observe(update, names="value")
    slider.observe(update, names="value")
    box = W.VBox([W.HBox([method_dd, slider]), readout, fig])
    box.figure = fig  # handy for tests and for readers who want to restyle it
    box.slider = slider
    box.method = method_dd
    box.readout = readout
    box.rows = [dict(r) for r in rows]  # the data it browses (tasks read their truth from it)
    box.sizes = sizes  # the slider's positions, in bits
    return box
