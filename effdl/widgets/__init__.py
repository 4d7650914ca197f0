"""ipywidgets explorers built on :mod:`effdl.viz`: each function returns one widget to display.

They also work when a notebook is executed headless (papermill): the widget is created and displayed, it just has
no one to move it.

One module per topic; every explorer is re-exported here (``from effdl import widgets``).
"""

from effdl.widgets.core import pareto_explorer
from effdl.widgets.distill import distill_sweep_explorer, temperature_explorer
from effdl.widgets.edram import edram_explorer
from effdl.widgets.lowrank import lowrank_explorer
from effdl.widgets.lzss import lzss_explorer
from effdl.widgets.prune import sparsity_explorer
from effdl.widgets.quant import quant_explorer
from effdl.widgets.range_reg import weight_histogram_explorer
from effdl.widgets.scaling import scaling_explorer

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
