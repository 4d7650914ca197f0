"""Explorers of the tour and the compression chapters (00–05): Pareto axes, sparsity, rank, temperature,
distillation sweep, bit-width and weight histograms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from effdl import viz


def pareto_explorer(
    points: Sequence[Mapping[str, Any]],
    *,
    x: str = "macs",
    y: str = "accuracy",
    metrics: Sequence[str] | None = None,
    name: str = "name",
) -> W.VBox:
    """Pick the axes of a Pareto plot from dropdowns; the figure (a ``FigureWidget``) updates in place.

    ``points``: dicts with ``name`` and numeric metrics (e.g. ``Footprint.as_dict()`` plus ``accuracy``).
    """
    if not points:
        raise ValueError("points is empty: nothing to explore")
    numeric = [k for k, v in points[0].items() if isinstance(v, int | float) and not isinstance(v, bool)]
    options = list(metrics) if metrics is not None else numeric
    for key in (x, y):
        if key not in options:
            raise ValueError(f"{key!r} is not among the metrics {options}")
    x_dd = W.Dropdown(options=[(viz.label(m), m) for m in options], value=x, description="x axis")
    x_dd.add_class("effdl-main-control")  # the control the browser tests move
    y_dd = W.Dropdown(options=[(viz.label(m), m) for m in options], value=y, description="y axis")
    log_cb = W.Checkbox(value=True, description="log x")
    fig = go.FigureWidget(viz.pareto_scatter(points, x=x, y=y, name=name, log_x=True))

    def redraw(_: object = None) -> None:
        new = viz.pareto_scatter(points, x=x_dd.value, y=y_dd.value, name=name, log_x=log_cb.value)
        with fig.batch_update():
            for old_trace, new_trace in zip(fig.data, new.data, strict=True):
                old_trace.x, old_trace.y = new_trace.x, new_trace.y
                old_trace.text = new_trace.text
                old_trace.hovertemplate = new_trace.hovertemplate
            fig.layout.title = new.layout.title
            fig.layout.xaxis.title = new.layout.xaxis.title
            fig.layout.yaxis.title = new.layout.yaxis.title
            fig.layout.xaxis.type = new.layout.xaxis.type

    for control in (x_dd, y_dd, log_cb):
        control.observe(redraw, names="value")
    box = W.VBox([W.HBox([x_dd, y_dd, log_cb]), fig])
    box.figure = fig  # handy for tests and for readers who want to restyle it
    return box


# ----------------------------------------------------------------------------------------------------------
# Pruning (chapter 01)


def sparsity_explorer(
    model: Any,
    data: Any,
    *,
    value: float = 0.8,
    max_sparsity: float = 0.95,
    sweep_step: float = 0.05,
    layers: Sequence[str] | None = None,
) -> W.VBox:
    """The sparsity slider: global magnitude pruning of a copy of ``model`` at the slider's sparsity
    (0 .. ``max_sparsity``), re-evaluated live on ``data`` (accuracy, non-zeros, storage as dense / bitmask / CSR).

    The figure (``viz.sparsity_tradeoff``, a ``FigureWidget`` updated in place) shows a sweep computed once at
    start-up (every ``sweep_step``) with a marker at the current sparsity, and the storage bars. ``model`` itself is
    never modified. ``layers``: which Conv2d/Linear layers to prune (default all). Each update prunes and evaluates
    once: milliseconds for a small model on a thousand images.
    """
    from effdl.compress import prune
    from effdl.core.footprint import count_nonzero
    from effdl.core.train import evaluate

    if not 0 < max_sparsity < 1:
        raise ValueError(f"max_sparsity must be in (0, 1), got {max_sparsity}")
    if not 0 <= value <= max_sparsity:
        raise ValueError(f"value must be in [0, max_sparsity={max_sparsity}], got {value}")
    if not 0 < sweep_step <= max_sparsity:
        raise ValueError(f"sweep_step must be in (0, max_sparsity={max_sparsity}], got {sweep_step}")
    work = prune.copy_model(model)
    names = list(layers) if layers is not None else None
    n_sweep = round(max_sparsity / sweep_step)
    grid = sorted({round(min(i * sweep_step, max_sparsity), 6) for i in range(n_sweep + 1)} | {max_sparsity})
    curve = []
    for s in grid:
        prune.magnitude_prune_(work, s, layers=names)
        curve.append((s, evaluate(work, data).accuracy))
    dense_bits = prune.storage_bits(work)["dense"]

    def measure(s: float) -> tuple[float, dict[str, int], int]:
        prune.magnitude_prune_(work, s, layers=names)
        return evaluate(work, data).accuracy, prune.storage_bits(work), count_nonzero(work)

    acc, sizes, nnz = measure(value)
    fig = go.FigureWidget(viz.sparsity_tradeoff(curve, current=(value, acc), sizes=sizes))
    slider = W.FloatSlider(
        value=value,
        min=0.0,
        max=max_sparsity,
        step=0.01,
        description="sparsity",
        readout_format=".0%",
        continuous_update=False,
        layout=W.Layout(width="420px"),
    )
    slider.add_class("effdl-main-control")  # the control the browser tests move
    readout = W.HTML()

    def show(s: float, acc: float, sizes: dict[str, int], nnz: int) -> None:
        readout.value = (
            f"<b>{s:.0%}</b> of the weights pruned: test accuracy <b>{100 * acc:.2f}%</b> · "
            f"non-zeros {nnz:,} · dense {sizes['dense'] / 8e3:,.1f} kB · "
            f"bitmask {sizes['bitmask'] / 8e3:,.1f} kB ({sizes['bitmask'] / dense_bits:.2f}× dense) · "
            f"CSR {sizes['csr'] / 8e3:,.1f} kB ({sizes['csr'] / dense_bits:.2f}× dense)"
        )

    def update(change: Any = None) -> None:
        s = float(slider.value)
        acc, sizes, nnz = measure(s)
        with fig.batch_update():
            fig.data[1].x, fig.data[1].y = [100 * s], [100 * acc]
            fig.data[2].y = [sizes[k] / 8 / 1e3 for k in fig.data[2].x]
        show(s, acc, sizes, nnz)

    show(value, acc, sizes, nnz)
    slider.observe(update, names="value")
    box = W.VBox([slider, readout, fig])
    box.figure = fig  # handy for tests and for readers who want to restyle it
    box.slider = slider
    box.curve = curve
    return box


def lowrank_explorer(
    model: Any,
    data: Any,
    *,
    layers: Sequence[str] | None = None,
    points: int = 16,
) -> W.VBox:
    """Factorize one ``nn.Linear`` of ``model`` by truncated SVD at the rank a slider picks, and re-evaluate LIVE.

    The main control is the **rank** slider: every move factorizes a copy of the layer at that rank (slicing an SVD
    computed once per layer), evaluates the model on ``data`` and moves the marker on the accuracy-against-rank
    curve (``points`` ranks, computed when a layer is first shown). The **energy** slider picks the smallest rank
    keeping that fraction of ``sum(σ²)``. ``layers``: the names of the Linear layers to choose from (default: all).
    ``model`` is never modified; a small model on 1,000 test images takes milliseconds per move.
    """
    import copy

    from torch import nn

    from effdl.compress import lowrank
    from effdl.core.footprint import count_params
    from effdl.core.train import evaluate

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    modules = dict(model.named_modules())
    names = [n for n, m in modules.items() if isinstance(m, nn.Linear)] if layers is None else list(layers)
    if not names:
        raise ValueError("model has no nn.Linear layer to factorize")
    for n in names:
        if not isinstance(modules.get(n), nn.Linear):
            linear = [k for k, m in modules.items() if isinstance(m, nn.Linear)]
            raise ValueError(f"layers: {n!r} is not an nn.Linear of the model; its Linear layers are {linear}")
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ValueError(f"points must be an int >= 2, got {points!r}")

    dense_acc = 100 * evaluate(model, data).accuracy
    dense_params = count_params(model)
    svds: dict[str, lowrank.SVD] = {}
    energies: dict[str, list[float]] = {}
    sweeps: dict[str, tuple[list[int], list[float]]] = {}

    def prepare(name: str) -> None:
        if name not in svds:
            svds[name] = lowrank.linear_svd(modules[name])
            energies[name] = lowrank.retained_energy(svds[name].S).tolist()

    def factorized(name: str, rank: int) -> nn.Module:
        copy_ = copy.deepcopy(model)
        lowrank.factorize_(copy_, rank={name: rank}, layers=[name], svds={name: svds[name]})
        return copy_

    def sweep(name: str) -> tuple[list[int], list[float]]:
        if name not in sweeps:
            k = len(svds[name].S)
            # geometric spacing: accuracy changes fastest at small ranks
            grid = sorted({max(1, min(k, round(k ** (i / (points - 1))))) for i in range(points)})
            rows = lowrank.rank_sweep(model, data, grid, layers=[name])
            sweeps[name] = (grid, [100 * float(row["accuracy"]) for row in rows])
        return sweeps[name]

    def break_even(name: str) -> float:
        layer = modules[name]
        return layer.in_features * layer.out_features / (layer.in_features + layer.out_features)

    first = names[0]
    prepare(first)
    k0 = len(svds[first].S)
    layer_dd = W.Dropdown(options=names, value=first, description="layer")
    rank_sl = W.IntSlider(
        value=max(1, k0 // 8), min=1, max=k0, description="rank", continuous_update=False, layout={"width": "420px"}
    )
    rank_sl.add_class("effdl-main-control")  # the control the browser tests move
    energy_sl = W.FloatSlider(
        value=0.9, min=0.05, max=1.0, step=0.01, description="energy", continuous_update=False, readout_format=".0%"
    )
    readout = W.HTML()
    ranks, accs = sweep(first)
    fig = go.FigureWidget(
        viz.rank_curves(
            {first: (ranks, accs)},
            baseline=dense_acc,
            break_even=break_even(first),
            marker=(rank_sl.value, dense_acc),
            log_x=True,  # the curve bends at small ranks
            title="test accuracy with one layer factorized, against its rank",
        )
    )
    busy = {"energy": False}

    def update(_: object = None) -> None:
        name, r = layer_dd.value, rank_sl.value
        model_r = factorized(name, r)
        acc = 100 * evaluate(model_r, data).accuracy
        layer = modules[name]
        before = count_params(layer)
        after = lowrank.factorized_params(layer, r)
        kept = energies[name][r - 1]
        saving = f"{before / after:.2f}× fewer" if after < before else f"{after / before:.2f}× MORE (above break-even)"
        readout.value = (
            f"<b>{name}</b> ({layer.out_features}×{layer.in_features}) at rank <b>{r}</b> of {len(energies[name])}: "
            f"{after:,} parameters instead of {before:,} ({saving}); energy kept <b>{100 * kept:.1f}%</b><br>"
            f"test accuracy <b>{acc:.2f}%</b> (unfactorized {dense_acc:.2f}%); whole model "
            f"{count_params(model_r):,} parameters (unfactorized {dense_params:,})"
        )
        with fig.batch_update():
            fig.data[-1].x, fig.data[-1].y = [r], [acc]
        if not busy["energy"]:
            busy["energy"] = True
            try:
                energy_sl.value = max(energy_sl.min, round(kept, 2))
            finally:
                busy["energy"] = False

    def on_energy(_: object = None) -> None:
        if busy["energy"]:
            return
        busy["energy"] = True
        try:
            rank_sl.value = lowrank.rank_for_energy(svds[layer_dd.value].S, energy_sl.value)
        finally:
            busy["energy"] = False

    def on_layer(_: object = None) -> None:
        name = layer_dd.value
        prepare(name)
        xs, ys = sweep(name)
        k = len(svds[name].S)
        with fig.batch_update():
            fig.data[0].x, fig.data[0].y, fig.data[0].name = xs, ys, name
            fig.data[1].x = [1, k]
            fig.layout.shapes[0].x0 = fig.layout.shapes[0].x1 = break_even(name)
            fig.layout.annotations[0].x = break_even(name)
        rank_sl.max = k
        rank_sl.value = min(rank_sl.value, k)
        update()

    layer_dd.observe(on_layer, names="value")
    rank_sl.observe(update, names="value")
    energy_sl.observe(on_energy, names="value")
    update()
    box = W.VBox([W.HBox([rank_sl, energy_sl, layer_dd]), readout, fig])
    box.figure = fig  # for tests and for readers who want to restyle it
    box.slider = rank_sl
    return box


# ----------------------------------------------------------------------------------------------------------
# Distillation (chapter 03)


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
    return box


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
    itself is never modified. Each update quantizes and evaluates once: milliseconds for a small model.
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

    def measure(b: int, pc: bool, obs: str) -> tuple[float, int, torch.Tensor]:
        quant.remove_quantization_(work, keep=False)
        quant.quantize_weights_(work, bits=b, per_channel=pc, observer=obs)
        acc = 100 * evaluate(work, data).accuracy
        return acc, quant.quantized_model_bits(work, bits=b, per_channel=pc), layers[layer].weight.detach().clone()

    slider = W.IntSlider(
        value=bits, min=1, max=8, step=1, description="bits", continuous_update=False, layout=W.Layout(width="360px")
    )
    slider.add_class("effdl-main-control")  # the control the browser tests move
    channel_cb = W.Checkbox(value=per_channel, description="per channel")
    observer_dd = W.Dropdown(options=list(quant.OBSERVERS), value=observer, description="observer")
    readout = W.HTML()
    acc, size, qw = measure(bits, per_channel, observer)
    fig = go.FigureWidget(viz.quant_histograms(float_weight, qw, title=f"layer {layer}"))

    def show(b: int, acc: float, size: int) -> None:
        readout.value = (
            f"<b>{b}-bit</b> weights: test accuracy <b>{acc:.2f}%</b> (float {base:.2f}%, "
            f"{acc - base:+.2f} points) · size {size / 8e3:,.1f} kB ({fp_bits / size:.1f}× smaller than fp32)"
        )

    def update(change: Any = None) -> None:
        b, pc, obs = int(slider.value), bool(channel_cb.value), str(observer_dd.value)
        acc, size, qw = measure(b, pc, obs)
        new = viz.quant_histograms(float_weight, qw, title=f"layer {layer}")
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
    return box


# ----------------------------------------------------------------------------------------------------------
# Range regularization (chapter 05)


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
            ratio, zeros = stats(weights[name][lay])
            parts.append(f"{name}: max|w|/std <b>{ratio:.2f}</b>, 2-bit rounds <b>{zeros:.0f}%</b> to 0")
        readout.value = f"{lay} {shape} · " + " · ".join(parts)

    update()
    layer_sl.observe(update, names="value")
    variant_dd.observe(update, names="value")
    box = W.VBox([W.HBox([layer_sl, variant_dd]), readout, fig])
    box.figure = fig  # for tests and for readers who want to restyle it
    box.slider = layer_sl
    box.dropdown = variant_dd
    return box
