"""Explorers of distillation (chapter 03): temperature, and the (T, α) sweep."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from effdl import viz

__all__ = ["distill_sweep_explorer", "temperature_explorer"]


def temperature_explorer(
    logits: Any,
    *,
    T: float = 4.0,
    reference: float = 1.0,
    max_T: float = 20.0,
    classes: Sequence[str] | None = None,
) -> W.VBox:
    """A temperature slider over one example's logits: the softened distribution ``softmax(logits / T)`` is redrawn
    live (a softmax of C numbers) next to the one at ``reference`` (default T = 1), with its entropy.

    ``logits``: a ``(C,)`` tensor (e.g. the teacher's output for one image). The slider runs over 0.5 .. ``max_T``.
    The box carries ``temperatures`` (the slider's values), ``probabilities`` (``{T: [p_1, ..., p_C]}``) and
    ``probs(T)``.
    """
    import math

    import torch

    from effdl.compress.distill import soften

    z = torch.as_tensor(logits, dtype=torch.float32).detach().cpu()
    if z.dim() != 1 or z.numel() < 2:
        raise ValueError(f"logits must be one example's (C,) logits with C ≥ 2, got shape {tuple(z.shape)}")
    if not 0.5 <= T <= max_T:
        raise ValueError(f"T must be in [0.5, max_T={max_T}], got {T}")

    def probs(t: float) -> list[float]:
        return soften(z, t).tolist()

    def entropy_bits(p: list[float]) -> float:
        return -sum(q * math.log2(q) for q in p if q > 0)

    ref_name = f"T = {reference:g} (reference)"
    fig = go.FigureWidget(viz.soft_targets_bars({ref_name: probs(reference), f"T = {T:g}": probs(T)}, classes=classes))
    slider = W.FloatSlider(
        value=T,
        min=0.5,
        max=max_T,
        step=0.5,
        description="T",
        readout_format=".1f",
        continuous_update=True,
        layout=W.Layout(width="420px"),
    )
    readout = W.HTML()
    max_bits = math.log2(z.numel())

    def update(change: Any = None) -> None:
        t = float(slider.value)
        p = probs(t)
        with fig.batch_update():
            fig.data[1].y = [100 * v for v in p]
            fig.data[1].name = f"T = {t:g}"
        top = max(range(len(p)), key=p.__getitem__)
        readout.value = (
            f"T = <b>{t:g}</b>: top class {top} gets <b>{100 * p[top]:.1f}%</b>, the other "
            f"{len(p) - 1} share {100 * (1 - p[top]):.1f}% · entropy {entropy_bits(p):.2f} bits "
            f"(uniform: {max_bits:.2f})"
        )

    update()
    slider.observe(update, names="value")
    box = W.VBox([slider, readout, fig])
    box.figure = fig  # handy for tests and for readers who want to restyle it
    box.slider = slider
    # The data the figure shows, for tasks and checkers: the slider's temperatures and, for each, the softened
    # probabilities (fractions summing to 1); probs(T) for any other temperature.
    steps = round((slider.max - slider.min) / slider.step)
    box.temperatures = [slider.min + i * slider.step for i in range(steps + 1)]
    box.probabilities = {t: probs(t) for t in box.temperatures}
    box.probs = probs
    return box


def distill_sweep_explorer(
    rows: Sequence[Mapping[str, Any]],
    *,
    baseline: float | None = None,
    baseline_curve: Sequence[float] | None = None,
    value: tuple[float, float] | None = None,
) -> W.VBox:
    """Browse a precomputed temperature × alpha sweep with two sliders (T is the main one).

    ``rows``: dicts with ``T``, ``alpha``, ``accuracy`` (test accuracy in %) and optionally ``curve`` (the test
    accuracy in % after each epoch). ``baseline``: the student trained alone (%), ``baseline_curve`` its curve.
    The heatmap (``viz.distill_sweep_heatmap``, a ``FigureWidget``) moves its marker to the selected cell; when the
    rows have curves, a second figure shows the selected run's curve against the student alone. Nothing is
    recomputed: each update only looks a row up. ``value=(T, alpha)`` is the starting cell; default the lowest ``T``
    with the largest ``alpha``, so that moving the T slider to the right walks through the sweep.
    """
    if not rows:
        raise ValueError("rows is empty: nothing to explore")
    table = {(float(r["T"]), float(r["alpha"])): r for r in rows}
    temps = sorted({t for t, _ in table})
    alphas = sorted({a for _, a in table})
    start = value if value is not None else (temps[0], alphas[-1])
    start = (float(start[0]), float(start[1]))
    if start not in table:
        raise ValueError(f"value {start} is not in the sweep; (T, alpha) pairs: {sorted(table)}")

    heat = go.FigureWidget(viz.distill_sweep_heatmap(rows, baseline=baseline, marker=start))
    t_slider = W.SelectionSlider(
        options=[(f"{t:g}", t) for t in temps], value=start[0], description="T", layout=W.Layout(width="420px")
    )
    a_slider = W.SelectionSlider(
        options=[(f"{a:g}", a) for a in alphas], value=start[1], description="α", layout=W.Layout(width="420px")
    )
    t_slider.add_class("effdl-main-control")  # the control the browser tests move
    readout = W.HTML()
    has_curves = any(r.get("curve") for r in rows)
    curves = None
    if has_curves:
        curves = go.FigureWidget()
        if baseline_curve is not None:
            xs = list(range(1, len(baseline_curve) + 1))
            curves.add_scatter(x=xs, y=list(baseline_curve), mode="lines", name="student alone", line={"dash": "dot"})
        curves.add_scatter(x=[], y=[], mode="lines", name="distilled")
        curves.update_layout(
            title="test accuracy after each epoch",
            xaxis_title="epoch",
            yaxis_title="test accuracy (%)",
            template="plotly_white",
            height=320,
        )

    def update(change: Any = None) -> None:
        key = (float(t_slider.value), float(a_slider.value))
        r = table.get(key)
        with heat.batch_update():
            heat.data[-1].x, heat.data[-1].y = [f"{key[0]:g}"], [f"{key[1]:g}"]
        if r is None:
            readout.value = f"T = {key[0]:g}, α = {key[1]:g}: not in the sweep"
            return
        acc = float(r["accuracy"])
        gain = ""
        if baseline is not None:
            gain = f" ({acc - baseline:+.2f} points over the student alone, {baseline:.2f}%)"
        readout.value = f"T = <b>{key[0]:g}</b>, α = <b>{key[1]:g}</b>: distilled student <b>{acc:.2f}%</b>{gain}"
        if curves is not None:
            c = list(r.get("curve") or [])
            with curves.batch_update():
                curves.data[-1].x, curves.data[-1].y = list(range(1, len(c) + 1)), c
                curves.data[-1].name = f"distilled, T = {key[0]:g}, α = {key[1]:g}"

    update()
    t_slider.observe(update, names="value")
    a_slider.observe(update, names="value")
    parts: list[W.Widget] = [W.HBox([t_slider, a_slider]), readout, heat]
    if curves is not None:
        parts.append(curves)
    box = W.VBox(parts)
    box.figure = heat  # handy for tests and for readers who want to restyle it
    box.slider = t_slider
    box.alpha_slider = a_slider
    box.curves = curves
    box.table = table  # {(T, alpha): row} as given, for tasks and checkers
    box.baseline = baseline
    return box
