"""Explorer of single-path bit sharing (chapter 06): the λ slider over a precomputed SBS sweep."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as W
import plotly.graph_objects as go

from effdl import viz
from effdl.viz.sbs import _config_title, _config_traces

if TYPE_CHECKING:
    from effdl.compress.sbs import SBSPoint

__all__ = ["lam_explorer"]


def _pruned_layers(point: SBSPoint) -> list[str]:
    return [c.name for c in point.config.layers.values() if c.channels < c.out_channels]


def lam_explorer(points: Sequence[SBSPoint], *, value: float | None = None) -> W.VBox:
    """The λ slider: browse a λ sweep computed earlier (``effdl.compress.sbs.lam_sweep``), one configuration per
    position. ``points`` may mix methods and seeds: only the SBS points (``method == "sbs"`` with a λ) of the
    **first seed** among them are shown (the seed of the first SBS point; the other seeds are ignored), one per λ.

    A move only looks the chosen point up and updates the ``FigureWidget`` of ``viz.sbs_config_chart`` in place (bar
    heights, colours and hover values, the title): nothing is recomputed. The readout gives λ, the BOPs reduction and
    size compression against fp32 (×), validation and test accuracy (%) and the layers with channels pruned.
    ``value``: the λ to start at (one of the sweep's; default the median λ, the lower middle one for an even count).

    Attributes of the returned box: ``slider``, ``figure``, ``readout``, ``points`` (``{λ: SBSPoint}``) and ``table``
    (``{λ: (BOPs reduction, validation accuracy, test accuracy)}``, accuracies as fractions).
    Raises ``ValueError`` if ``points`` holds no SBS point with a λ, or ``value`` is not one of their λ.
    """
    sbs_points = [p for p in points if p.method == "sbs" and p.lam is not None]
    if not sbs_points:
        methods = sorted({str(p.method) for p in points})
        raise ValueError(f"points must hold at least one SBS point (method 'sbs' with a λ), got methods {methods}")
    seed = sbs_points[0].seed
    by_lam: dict[float, SBSPoint] = {}
    for p in sbs_points:
        if p.seed == seed:
            by_lam.setdefault(float(p.lam), p)  # type: ignore[arg-type]
    lams = sorted(by_lam)
    names = list(by_lam[lams[0]].config.layers)
    for lam in lams:
        if list(by_lam[lam].config.layers) != names:
            raise ValueError(f"points must configure the same layers: λ={lam:g} has {list(by_lam[lam].config.layers)}")
    if value is None:
        value = lams[(len(lams) - 1) // 2]
    else:
        near = [lam for lam in lams if math.isclose(lam, float(value), rel_tol=1e-9, abs_tol=1e-12)]
        if not near:
            raise ValueError(f"value must be one of the sweep's λ {[f'{lam:g}' for lam in lams]}, got {value!r}")
        value = near[0]
    table = {lam: (p.reduction, p.val_accuracy, p.test_accuracy) for lam, p in by_lam.items()}

    fig = go.FigureWidget(viz.sbs_config_chart(by_lam[value].config))
    slider = W.SelectionSlider(
        options=[(f"{lam:g}", lam) for lam in lams],
        value=value,
        description="λ",
        continuous_update=False,
        layout=W.Layout(width="420px"),
    )
    slider.add_class("effdl-main-control")  # the control the browser tests move
    readout = W.HTML()

    def show(p: SBSPoint) -> None:
        pruned = _pruned_layers(p)
        where = ", ".join(pruned) if pruned else "none"
        readout.value = (
            f"λ = <b>{p.lam:g}</b>: <b>{p.reduction:.1f}×</b> fewer BOPs than fp32 · size "
            f"<b>{p.compression:.1f}×</b> smaller · validation <b>{100 * p.val_accuracy:.2f}%</b> · test "
            f"<b>{100 * p.test_accuracy:.2f}%</b> · layers pruned: {len(pruned)} of {len(p.config.layers)} ({where})"
        )

    def update(change: Any = None) -> None:
        p = by_lam[float(slider.value)]
        with fig.batch_update():
            for trace, vals in zip(fig.data, _config_traces(p.config), strict=True):
                trace.y = vals["y"]
                trace.marker.color = vals["marker_color"]
                trace.customdata = vals["customdata"]
            fig.layout.title.text = _config_title(p.config)
        show(p)

    show(by_lam[value])
    slider.observe(update, names="value")
    box = W.VBox([slider, readout, fig])
    box.slider = slider
    box.figure = fig
    box.readout = readout
    box.points = by_lam
    box.table = table
    return box
