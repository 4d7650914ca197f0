"""Explorer of quantization (chapter 04): bit width, granularity and the error histograms."""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from effdl import viz

__all__ = ["quant_explorer"]


def quant_explorer(
    model: Any,
    data: Any,
    *,
    bits: int = 4,
    per_channel: bool = True,
    observer: str = "minmax",
    layer: str | None = None,
    baseline: float | None = None,
) -> W.VBox:
    """The bit-width slider: weight-only post-training quantization of a copy of ``model`` at the slider's bits
    (1..8), per channel or per tensor (checkbox), with the chosen observer, re-evaluated live on ``data``.

    Shows the test accuracy, the storage (``quantized_model_bits``) and, for ``layer`` (a Conv2d/Linear module name,
    default the largest), the float/quantized weight histogram and the error histogram (``viz.quant_histograms``
    in a ``FigureWidget`` updated in place). ``baseline``: the float accuracy in % (computed if None). ``model``
    itself is never modified. Every setting is computed once and kept (the eight bit widths of the starting setting at
    start-up, others when first chosen), so moving the slider back and forth only redraws the figure.

    Attributes of the returned box: ``slider``, ``figure``, ``readout``, ``baseline`` (the float accuracy in %) and
    ``results`` (``{(bits, per_channel, observer): (accuracy %, bits on disk)}`` of every setting computed so far).
    """
    import copy

    import torch

    from effdl.compress import quant
    from effdl.core.footprint import model_bits
    from effdl.core.train import evaluate

    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 8:
        raise ValueError(f"bits must be an int in 1..8, got {bits!r}")
    if observer not in quant.OBSERVERS:
        raise ValueError(f"observer must be one of {quant.OBSERVERS}, got {observer!r}")
    work = copy.deepcopy(model)
    quant.remove_quantization_(work, keep=False)
    layers = {n: m for n, m in work.named_modules() if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)}
    if not layers:
        raise ValueError("model has no Conv2d/Linear layer to quantize")
    if layer is None:
        layer = max(layers, key=lambda n: layers[n].weight.numel())
    elif layer not in layers:
        raise ValueError(f"layer must be one of the Conv2d/Linear layers {list(layers)}, got {layer!r}")
    float_weight = layers[layer].weight.detach().clone()
    base = 100 * evaluate(work, data).accuracy if baseline is None else float(baseline)
    fp_bits = model_bits(work)

    results: dict[tuple[int, bool, str], tuple[float, int]] = {}  # (bits, per_channel, observer) -> (acc %, bits)
    figures: dict[tuple[int, bool, str], go.Figure] = {}

    def measure(b: int, pc: bool, obs: str) -> tuple[float, int, go.Figure]:
        """(accuracy %, bits on disk, histogram figure) of one setting; deterministic, so computed once per key."""
        key = (b, pc, obs)
        if key not in results:
            quant.remove_quantization_(work, keep=False)
            quant.quantize_weights_(work, bits=b, per_channel=pc, observer=obs)
            acc = 100 * evaluate(work, data).accuracy
            results[key] = (acc, quant.quantized_model_bits(work, bits=b, per_channel=pc))
            figures[key] = viz.quant_histograms(
                float_weight, layers[layer].weight.detach().clone(), title=f"layer {layer}"
            )
        return (*results[key], figures[key])

    slider = W.IntSlider(
        value=bits, min=1, max=8, step=1, description="bits", continuous_update=False, layout=W.Layout(width="360px")
    )
    slider.add_class("effdl-main-control")  # the control the browser tests move
    channel_cb = W.Checkbox(value=per_channel, description="per channel")
    observer_dd = W.Dropdown(options=list(quant.OBSERVERS), value=observer, description="observer")
    readout = W.HTML()
    for b in range(1, 9):  # every slider position of the starting setting, before anyone moves it
        measure(b, per_channel, observer)
    acc, size, hist = measure(bits, per_channel, observer)
    fig = go.FigureWidget(hist)

    def show(b: int, acc: float, size: int) -> None:
        readout.value = (
            f"<b>{b}-bit</b> weights: test accuracy <b>{acc:.2f}%</b> (float {base:.2f}%, "
            f"{acc - base:+.2f} points) · size {size / 8e3:,.1f} kB ({fp_bits / size:.1f}× smaller than fp32)"
        )

    def update(change: Any = None) -> None:
        b, pc, obs = int(slider.value), bool(channel_cb.value), str(observer_dd.value)
        acc, size, new = measure(b, pc, obs)
        with fig.batch_update():
            for i in range(3):  # float (bins may move with the quantized range), quantized, error
                fig.data[i].x, fig.data[i].y, fig.data[i].width = new.data[i].x, new.data[i].y, new.data[i].width
        show(b, acc, size)

    show(bits, acc, size)
    for control in (slider, channel_cb, observer_dd):
        control.observe(update, names="value")
    box = W.VBox([W.HBox([slider, channel_cb, observer_dd]), readout, fig])
    box.figure = fig  # handy for tests and for readers who want to restyle it
    box.slider = slider
    box.readout = readout
    box.results = results
    box.baseline = base
    return box
