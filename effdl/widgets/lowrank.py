"""Explorer of low-rank factorization (chapter 02): the rank slider."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from effdl import viz

__all__ = ["lowrank_explorer"]


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

    The returned box also carries its data: ``layers``, ``dense_accuracy`` (%), ``curves`` (``{layer: (ranks,
    accuracies %)}`` computed so far), ``curve(layer)``, ``accuracy_at(layer, rank)`` (%) and ``energies(layer)``.
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

    def curve(name: str) -> tuple[list[int], list[float]]:
        prepare(name)
        return sweep(name)

    def accuracy_at(name: str, rank: int) -> float:
        prepare(name)
        return 100 * evaluate(factorized(name, rank), data).accuracy

    box = W.VBox([W.HBox([rank_sl, energy_sl, layer_dd]), readout, fig])
    box.figure = fig  # for tests and for readers who want to restyle it
    box.slider = rank_sl
    # The data the figure shows, for tasks and checkers: the layers, the unfactorized accuracy (%), the curves
    # computed so far ({layer: (ranks, accuracies in %)}), curve(layer) (computing it if needed), the test accuracy
    # (%) at any rank (what the readout shows), and the energy kept at each rank (energies(layer)[r - 1]).
    box.layers = names
    box.dense_accuracy = dense_acc
    box.curves = sweeps
    box.curve = curve
    box.accuracy_at = accuracy_at
    box.energies = lambda name: (prepare(name), energies[name])[1]
    return box
