"""ipywidgets explorers built on :mod:`effdl.viz`: each function returns one widget to display.

They also work when a notebook is executed headless (papermill): the widget is created and displayed, it just has
no one to move it.

One module per group of chapters; every explorer is re-exported here (``from effdl import widgets``).
"""

from effdl.widgets.compress import (
    distill_sweep_explorer,
    lowrank_explorer,
    pareto_explorer,
    quant_explorer,
    sparsity_explorer,
    temperature_explorer,
    weight_histogram_explorer,
)
from effdl.widgets.systems import (
    edram_explorer,
    lzss_explorer,
    scaling_explorer,
)

__all__ = [
    "distill_sweep_explorer",
    "edram_explorer",
    "lowrank_explorer",
    "lzss_explorer",
    "pareto_explorer",
    "quant_explorer",
    "scaling_explorer",
    "sparsity_explorer",
    "temperature_explorer",
    "weight_histogram_explorer",
]
