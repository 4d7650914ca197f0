"""Explorer of pruning (chapter 01): the sparsity slider."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from effdl import viz

__all__ = ["sparsity_explorer"]


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
    (0 .. ``max_sparsity`` in steps of ``sweep_step``), evaluated on ``data`` (accuracy, non-zeros, storage as dense /
    bitmask / CSR).

    Every slider position is computed once at start-up (the sweep the figure draws), so a move only looks its result
    up and updates the ``FigureWidget`` in place (``viz.sparsity_tradeoff``: the sweep, a marker at the current
    sparsity, the storage bars): the slider answers at the speed of the redraw, not of an evaluation. ``value`` is
    snapped to the nearest position. ``model`` itself is never modified. ``layers``: which Conv2d/Linear layers to
    prune (default all).

    Attributes of the returned box: ``slider``, ``figure``, ``curve`` (``[(sparsity, accuracy), ...]``, accuracy as a
    fraction) and ``results`` (``{sparsity: (accuracy, storage bits per format, non-zeros)}``).
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
    results: dict[float, tuple[float, dict[str, int], int]] = {}
    for s in grid:  # deterministic per position: computed once, looked up on every move
        prune.magnitude_prune_(work, s, layers=names)
        results[s] = (evaluate(work, data).accuracy, prune.storage_bits(work), count_nonzero(work))
    curve = [(s, results[s][0]) for s in grid]
    dense_bits = results[grid[0]][1]["dense"]

    def nearest(s: float) -> float:
        return min(grid, key=lambda g: abs(g - s))

    value = nearest(value)
    acc, sizes, nnz = results[value]
    fig = go.FigureWidget(viz.sparsity_tradeoff(curve, current=(value, acc), sizes=sizes))
    slider = W.SelectionSlider(
        options=[(f"{s:.0%}", s) for s in grid],
        value=value,
        description="sparsity",
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
        acc, sizes, nnz = results[s]
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
    box.results = results
    return box
