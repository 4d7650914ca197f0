"""Plotly figure builders: pure functions, data in, ``go.Figure`` out (:mod:`effdl.widgets` makes them live).

One module per topic; every builder is re-exported here, so ``from effdl import viz; viz.pareto_scatter(...)``.

A new builder goes into its topic's module and that module's ``__all__``; this package re-exports them all.
"""

from effdl.viz import (
    distill,
    edram,
    flad,
    general,
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
from effdl.viz.distill import *  # noqa: F403
from effdl.viz.edram import *  # noqa: F403
from effdl.viz.flad import *  # noqa: F403
from effdl.viz.general import *  # noqa: F403
from effdl.viz.guide import *  # noqa: F403
from effdl.viz.lowrank import *  # noqa: F403
from effdl.viz.lrsm import *  # noqa: F403
from effdl.viz.lzss import *  # noqa: F403
from effdl.viz.prune import *  # noqa: F403
from effdl.viz.quant import *  # noqa: F403
from effdl.viz.range_reg import *  # noqa: F403
from effdl.viz.sbs import *  # noqa: F403
from effdl.viz.scaling import *  # noqa: F403
from effdl.viz.smoothing import *  # noqa: F403
from effdl.viz.stream import *  # noqa: F403

__all__ = [
    n
    for m in (
        general,
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
