"""effdl — a workbench for efficient deep learning.

The names most chapters need are re-exported here (``effdl.load``, ``effdl.fit``, ``effdl.footprint`` …);
everything else lives in the submodules (``effdl.core.*``, ``effdl.viz``, ``effdl.widgets``, ``effdl.series``).
"""

from effdl.core.data import DATASETS, DatasetUnavailableError, info, load, loaders, subset
from effdl.core.footprint import (
    Footprint,
    compare_latency,
    count_bops,
    count_flops,
    count_nonzero,
    count_params,
    footprint,
    measure_latency,
    model_bits,
    pareto_front,
    saved_activation_bytes,
    serialized_bytes,
)
from effdl.core.models import MLP, MODELS, MobileNetV1, ResNet20, SmallCNN, TinyTransformer, build
from effdl.core.record import record, record_many
from effdl.core.train import evaluate, fit, seed_everything

__version__ = "0.1.0"

__all__ = [
    "DATASETS",
    "MLP",
    "MODELS",
    "DatasetUnavailableError",
    "Footprint",
    "MobileNetV1",
    "ResNet20",
    "SmallCNN",
    "TinyTransformer",
    "__version__",
    "build",
    "compare_latency",
    "count_bops",
    "count_flops",
    "count_nonzero",
    "count_params",
    "evaluate",
    "fit",
    "footprint",
    "info",
    "load",
    "loaders",
    "measure_latency",
    "model_bits",
    "pareto_front",
    "record",
    "record_many",
    "saved_activation_bytes",
    "seed_everything",
    "serialized_bytes",
    "subset",
]
