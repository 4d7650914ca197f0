"""ipywidgets explorers built on :mod:`effdl.viz`: each function returns one widget to display.

They also work when a notebook is executed headless (papermill): the widget is created and displayed, it just has
no one to move it.

One module per topic; every explorer is re-exported here (``from effdl import widgets``).

A new explorer goes into its topic's module and that module's ``__all__``; this package re-exports them all.
"""

from effdl.widgets import (
    core,
    distill,
    edram,
    flad,
    guide,
    lowrank,
    lrsm,
    lzss,
    prune,
    quant,
    range_reg,
    sbs,
    scaling,
    smoothing,
    stream,
)
from effdl.widgets.core import *  # noqa: F403
from effdl.widgets.distill import *  # noqa: F403
from effdl.widgets.edram import *  # noqa: F403
from effdl.widgets.flad import *  # noqa: F403
from effdl.widgets.guide import *  # noqa: F403
from effdl.widgets.lowrank import *  # noqa: F403
from effdl.widgets.lrsm import *  # noqa: F403
from effdl.widgets.lzss import *  # noqa: F403
from effdl.widgets.prune import *  # noqa: F403
from effdl.widgets.quant import *  # noqa: F403
from effdl.widgets.range_reg import *  # noqa: F403
from effdl.widgets.sbs import *  # noqa: F403
from effdl.widgets.scaling import *  # noqa: F403
from effdl.widgets.smoothing import *  # noqa: F403
from effdl.widgets.stream import *  # noqa: F403

__all__ = [
    n
    for m in (
        core,
        prune,
        lowrank,
        distill,
        quant,
        range_reg,
        sbs,
        scaling,
        edram,
        lzss,
        lrsm,
        smoothing,
        flad,
        stream,
        guide,
    )
    for n in m.__all__
]
