"""Explorer of range regularization (chapter 05): weight histograms per regularizer and layer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from effdl import viz

__all__ = ["weight_histogram_explorer"]


def weight_histogram_explorer(
    weights: Mapping[str, Mapping[str, Any]],
    *,
    reference: str | None = None,
    variant: str | None = None,
    layer: str | None = None,
    bins: int = 80,
) -> W.VBox:
    """Browse precomputed weights of several trainings, layer by layer: ``weights[training][layer]`` (tensors,
    e.g. ``R2Comparison.weights``). A layer slider (the main control) and a training dropdown redraw a
    :func:`effdl.viz.weight_histograms` figure (a ``FigureWidget``, updated in place) of the selected training
    against ``reference`` (default: the first training, e.g. the baseline), in standard deviations, log scale.

    The readout gives each one's ``max|w| / std`` and the share of weights that 2-bit symmetric min/max quantization
    of the whole layer on the default full grid (levels ``−m, −m/2, 0, m/2``, ``m = max|w|``) rounds to zero, i.e.
    ``|w| <= m / 4``. Nothing is retrained: each update bins two tensors.

    Attributes of the returned box: ``figure``, ``slider``, ``dropdown``, ``reference`` (the reference training's
    name) and ``stats`` (``{training: {layer: (max|w| / std, % of weights 2-bit rounds to 0)}}``, every training and
    layer, computed once when the widget is built: the numbers the readout shows).
    """
    import torch

    if not weights or any(not per_layer for per_layer in weights.values()):
        raise ValueError("weights must map each training to a non-empty {layer: tensor}")
    names = list(weights)
    layers = list(weights[names[0]])
    for name in names[1:]:
        missing = [n for n in layers if n not in weights[name]]
        if missing:
            raise ValueError(f"weights[{name!r}] has no tensor for layers {missing}")
    reference = names[0] if reference is None else reference
    variant = (names[1] if len(names) > 1 else names[0]) if variant is None else variant
    layer = layers[0] if layer is None else layer
    for arg, value, allowed in (("reference", reference, names), ("variant", variant, names), ("layer", layer, layers)):
        if value not in allowed:
            raise ValueError(f"{arg} must be one of {allowed}, got {value!r}")

    def pair(lay: str, var: str) -> dict[str, Any]:
        ref_name = f"{reference} (reference)" if var == reference else reference
        return {ref_name: weights[reference][lay], var: weights[var][lay]}

    def stats(w: Any) -> tuple[float, float]:
        flat = torch.as_tensor(w).detach().float().flatten()
        top = float(flat.abs().max())
        from effdl.compress import quant

        zeros = quant.quantize(flat, quant.calibrate(flat, bits=2)) == 0
        return top / float(flat.std()), 100 * float(zeros.float().mean())

    all_stats = {name: {lay: stats(weights[name][lay]) for lay in layers} for name in names}
    fig = go.FigureWidget(viz.weight_histograms(pair(layer, variant), bins=bins))
    layer_sl = W.SelectionSlider(
        options=layers, value=layer, description="layer", continuous_update=True, layout=W.Layout(width="520px")
    )
    layer_sl.add_class("effdl-main-control")  # the control the browser tests move
    variant_dd = W.Dropdown(options=names, value=variant, description="training")
    readout = W.HTML()

    def update(change: Any = None) -> None:
        lay, var = layer_sl.value, variant_dd.value
        new = viz.weight_histograms(pair(lay, var), bins=bins)
        with fig.batch_update():
            for old_trace, new_trace in zip(fig.data, new.data, strict=True):
                old_trace.x, old_trace.y, old_trace.name = new_trace.x, new_trace.y, new_trace.name
                old_trace.hovertemplate = new_trace.hovertemplate
            fig.layout.title = f"layer {lay}: {reference} vs {var}"
        shape = tuple(torch.as_tensor(weights[var][lay]).shape)
        parts = []
        for name in dict.fromkeys((reference, var)):
            ratio, zeros = all_stats[name][lay]
            parts.append(f"{name}: max|w|/std <b>{ratio:.2f}</b>, 2-bit rounds <b>{zeros:.0f}%</b> to 0")
        readout.value = f"{lay} {shape} · " + " · ".join(parts)

    update()
    layer_sl.observe(update, names="value")
    variant_dd.observe(update, names="value")
    box = W.VBox([W.HBox([layer_sl, variant_dd]), readout, fig])
    box.figure = fig  # for tests and for readers who want to restyle it
    box.slider = layer_sl
    box.dropdown = variant_dd
    box.reference = reference
    box.stats = all_stats
    return box
