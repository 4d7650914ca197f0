"""Explorer of random smoothing (chapter 10): noise type, noise scale and input dimension over a precomputed grid."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as W
import plotly.graph_objects as go

from effdl import viz
from effdl.viz.smoothing import _explorer_title

if TYPE_CHECKING:
    from effdl.learning.smoothing import NoiseSweep

__all__ = ["noise_explorer"]


def noise_explorer(
    sweep: NoiseSweep, *, family: str | None = None, sd: float | None = None, dim: int | None = None
) -> W.VBox:
    """Browse a :class:`~effdl.learning.smoothing.NoiseSweep` (``effdl.learning.smoothing.noise_sweep``): a
    noise-type dropdown, the noise-scale slider (the main control: the per-coordinate standard deviation, families
    compared at equal variance) and an input-dimension dropdown.

    A move only looks the setting up and updates the ``FigureWidget`` of ``viz.noise_explorer_figure`` in place
    (the K_S profile, the fitted curve, the title): nothing is recomputed. The readout gives the setting, K_S(x, x)
    in D dimensions, the validation MSE, the test excess risk and the stopping step chosen on validation.
    ``family``/``sd``/``dim``: the start (defaults: the first family, the middle sd, the first dimension).

    Attributes of the returned box: ``slider`` (sd), ``family``, ``dim`` (the dropdowns), ``figure``, ``readout``,
    ``sweep`` and ``table`` (``{(family, sd): (validation MSE, test excess risk, chosen step)}``).
    Raises ``ValueError`` if a start value is not in the sweep.
    """
    fam0 = sweep.families[0] if family is None else family
    sd0 = sweep.sds[(len(sweep.sds) - 1) // 2] if sd is None else sd
    dim0 = sweep.dims[0] if dim is None else dim
    if fam0 not in sweep.families:
        raise ValueError(f"family must be one of {sweep.families}, got {fam0!r}")
    match = [s for s in sweep.sds if abs(s - float(sd0)) <= 1e-12]
    if not match:
        raise ValueError(f"sd must be one of the sweep's {list(sweep.sds)}, got {sd0!r}")
    sd0 = match[0]
    if dim0 not in sweep.dims:
        raise ValueError(f"dim must be one of {sweep.dims}, got {dim0!r}")

    fig = go.FigureWidget(viz.noise_explorer_figure(sweep, fam0, sd0, dim0))
    slider = W.SelectionSlider(
        options=[(f"{s:g}", s) for s in sweep.sds],
        value=sd0,
        description="noise sd",
        continuous_update=False,
        layout=W.Layout(width="420px"),
    )
    slider.add_class("effdl-main-control")  # the control the browser tests move
    fam_box = W.Dropdown(options=list(sweep.families), value=fam0, description="noise")
    dim_box = W.Dropdown(options=list(sweep.dims), value=dim0, description="dimension D")
    readout = W.HTML()

    def show(fam: str, s: float, D: int) -> None:
        vmse, risk, step = sweep.table[(fam, s)]
        diag = float(sweep.profiles[(fam, s, D)][abs(sweep.offsets).argmin()])
        readout.value = (
            f"<b>{fam}</b> noise, sd <b>{s:g}</b>, D = <b>{D}</b>: K_S(x, x) = <b>{diag:.3f}</b> · validation MSE "
            f"<b>{vmse:.4f}</b> · test excess risk <b>{risk:.4f}</b> · stopped at step <b>{step:g}</b>"
        )

    def update(change: Any = None) -> None:
        fam, s, D = fam_box.value, float(slider.value), int(dim_box.value)
        with fig.batch_update():
            fig.data[1].y = sweep.profiles[(fam, s, D)]
            fig.data[3].y = sweep.curves[(fam, s)]
            fig.layout.title.text = _explorer_title(sweep, fam, s, D)
        show(fam, s, D)

    show(fam0, sd0, dim0)
    for control in (slider, fam_box, dim_box):
        control.observe(update, names="value")
    box = W.VBox([W.HBox([fam_box, dim_box]), slider, readout, fig])
    box.slider = slider
    box.family = fam_box
    box.dim = dim_box
    box.figure = fig
    box.readout = readout
    box.sweep = sweep
    box.table = dict(sweep.table)
    return box
