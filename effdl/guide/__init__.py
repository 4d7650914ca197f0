"""effdl.guide — the practitioner's pipeline on any model (the capstone, chapter 14).

- :mod:`.report`: :func:`analyze` — one call on any ``nn.Module`` and an example input: footprint, per-layer
  sensitivity proxies, structured-pruning speed-up, int8 size and latency, and what to compress first;
- :mod:`.packfile`: a compact, lossless model file (bitmask + palette indices + a codec): real bytes on disk;
- :mod:`.pipeline`: one trained model through a chain of steps (prune, channels, low-rank, distil, R², PTQ, QAT,
  palette), every stage measured: file bytes, accuracy decoded from the file, latency, BOPs, energy;
- :mod:`.study`: the Pareto front, the prune/quantize ordering study, the decision guide and :func:`compress`.

Example::

    from effdl import guide
    result = guide.compress(model, train, val, target="disk", max_drop=0.02)
    print(result.summary())            # the chosen pipeline, bytes on disk, accuracy, latency, energy
    open("model.effdl", "wb").write(result.blob)
"""

from effdl.guide.packfile import PackFormatError, encoded_size, inspect, load_packed, pack, unpack
from effdl.guide.pipeline import STEP_KINDS, Stage, Step, energy_uj, parse_step, run_pipeline
from effdl.guide.report import ModelReport, analyze
from effdl.guide.study import (
    DEFAULT_CANDIDATES,
    GOALS,
    Advice,
    Compressed,
    OrderingStudy,
    compress,
    decide,
    distinct_stages,
    ordering_study,
    pareto,
    run_pipelines,
)

__all__ = [
    "DEFAULT_CANDIDATES",
    "GOALS",
    "STEP_KINDS",
    "Advice",
    "Compressed",
    "ModelReport",
    "OrderingStudy",
    "PackFormatError",
    "Stage",
    "Step",
    "analyze",
    "compress",
    "decide",
    "distinct_stages",
    "encoded_size",
    "energy_uj",
    "inspect",
    "load_packed",
    "ordering_study",
    "pack",
    "pareto",
    "parse_step",
    "run_pipeline",
    "run_pipelines",
    "unpack",
]
