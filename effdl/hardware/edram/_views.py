"""The notebook's views of the simulator: CAMEL's three scenarios, per-tensor lifetimes, the co-design sweep."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from torch import nn

from effdl.core.checks import positive_int
from effdl.hardware.edram._hardware import Accelerator, Energy, Memory, _check_type
from effdl.hardware.edram._sim import SimResult, simulate
from effdl.hardware.edram._trace import Trace, trace

# ----------------------------------------------------------------------------------------------------------
# The notebook's views: three scenarios, lifetimes


SCENARIOS = (
    ("standard + SRAM", "standard", "sram"),
    ("standard + eDRAM", "standard", "edram"),
    ("reversible + eDRAM", "reversible", "edram"),
)


def compare(
    model: nn.Module | Trace,
    input_shape: Sequence[int] | None = None,
    *,
    batch: int = 1,
    standard: nn.Module | Trace | None = None,
    accelerator: Accelerator | None = None,
    memory: Memory | None = None,
    energy: Energy | None = None,
    recompute_stem: bool = True,
    refresh: str = "bank",
) -> list[dict[str, float | int | str]]:
    """The three scenarios of CAMEL's comparison, one row each (see :meth:`SimResult.summary`), in this order:

    1. ``"standard + SRAM"``: the standard schedule on an SRAM buffer of ``memory.area_bytes`` (same area as the
       eDRAM, so ``1 / density`` of its capacity: more spills);
    2. ``"standard + eDRAM"``: the standard schedule on the eDRAM buffer, refreshing long-lived tensors;
    3. ``"reversible + eDRAM"``: the reversible schedule on the eDRAM buffer.

    ``model`` is the reversible network (an ``nn.Module`` traced on ``(batch, *input_shape)``, or a
    :class:`Trace`); ``standard`` its standard counterpart for rows 1–2 (default: ``model`` itself under the
    standard schedule). Pass Traces to re-simulate without re-tracing (what a slider should do). ``refresh``:
    the refresh model the energy uses (see :func:`simulate`). Rows add ``scenario``; energy columns are
    ``<component>_uj`` and ``total_uj``.
    """
    mem = Memory() if memory is None else memory
    _check_type("memory", mem, Memory)

    def as_trace(m: object, name: str) -> Trace:
        if isinstance(m, Trace):
            return m
        if isinstance(m, nn.Module):
            if input_shape is None:
                raise ValueError(f"input_shape is needed to trace {name} (an nn.Module), e.g. (1, 28, 28)")
            return trace(m, input_shape, batch=batch)
        raise TypeError(f"{name} must be an nn.Module or a Trace, got {type(m).__name__}")

    rev = as_trace(model, "model")
    std = rev if standard is None else as_trace(standard, "standard")
    rows = []
    for scenario, schedule, kind in SCENARIOS:
        res = simulate(
            std if schedule == "standard" else rev,
            schedule=schedule,
            accelerator=accelerator,
            memory=replace(mem, kind=kind),
            energy=energy,
            recompute_stem=recompute_stem,
            refresh=refresh,
        )
        rows.append({"scenario": scenario, **res.summary()})
    return rows


def lifetimes(result: SimResult) -> list[dict[str, float | int | str | bool]]:
    """One row per stored tensor of ``result``, in write order, for a lifetime chart against the retention line:
    ``name``, ``bytes``, ``write_us``, ``last_read_us``, ``lifetime_us``, ``onchip_us``, ``where``,
    ``refreshes``, ``retention_us`` and ``exceeds_retention`` (lifetime longer than the retention time)."""
    _check_type("result", result, SimResult)
    r_us = result.retention_s * 1e6
    rows = []
    for t in sorted(result.tensors, key=lambda t: (t.write_s, t.name)):
        rows.append(
            {
                "name": t.name,
                "bytes": t.bytes,
                "write_us": t.write_s * 1e6,
                "last_read_us": t.last_read_s * 1e6,
                "lifetime_us": t.lifetime_s * 1e6,
                "onchip_us": t.onchip_s * 1e6,
                "where": t.where,
                "refreshes": t.refreshes,
                "retention_us": r_us,
                "exceeds_retention": t.lifetime_s > result.retention_s,
            }
        )
    return rows


# ----------------------------------------------------------------------------------------------------------
# Co-design: one configuration's energy per sample, and the choice under an accuracy constraint


def codesign_energy(
    channels: int,
    depth: int,
    *,
    stem_stride: int = 4,
    batch: int = 4,
    input_shape: Sequence[int] = (1, 28, 28),
    num_classes: int = 10,
    accelerator: Accelerator | None = None,
    memory: Memory | None = None,
    energy: Energy | None = None,
    refresh: str = "bank",
) -> dict[str, float | int | str]:
    """Simulate one co-design configuration: a :class:`effdl.hardware.reversible.RevNet` of ``channels`` ×
    ``depth`` with ``stem_stride`` and its :class:`~effdl.hardware.reversible.PlainResNet` twin, traced at
    ``batch``, through :func:`compare`'s three scenarios. Deterministic (the weights do not change the trace).

    Returns one flat row: ``config`` (a label such as ``"c4 d96 s4 b4"``), the four knobs, and for each scenario
    ``sram`` (standard + SRAM), ``std_edram`` (standard + eDRAM) and ``rev`` (reversible + eDRAM):
    ``<scenario>_uj`` (µJ per training step), ``<scenario>_uj_per_sample`` (per step / ``batch``),
    ``<scenario>_refreshes`` (the ``refresh`` model's count), ``<scenario>_tensor_refreshes``,
    ``<scenario>_bank_refreshes``, ``<scenario>_max_lifetime_us``, ``<scenario>_spill_bytes``; plus
    ``energy_ratio`` (standard + SRAM / reversible + eDRAM, same batch) and ``vs_edram_ratio``.
    """
    from effdl.hardware import reversible as rv  # not at import time: edram does not depend on reversible

    for name, value in (("channels", channels), ("depth", depth), ("stem_stride", stem_stride), ("batch", batch)):
        positive_int(name, value)
    shape = tuple(input_shape)
    rev_tr = trace(rv.RevNet(shape, num_classes, channels=channels, depth=depth, stem_stride=stem_stride), shape,
                   batch=batch)  # fmt: skip
    std_tr = trace(rv.PlainResNet(shape, num_classes, channels=channels, depth=depth, stem_stride=stem_stride),
                   shape, batch=batch)  # fmt: skip
    rows = compare(rev_tr, standard=std_tr, accelerator=accelerator, memory=memory, energy=energy, refresh=refresh)
    row: dict[str, float | int | str] = {
        "config": f"c{channels} d{depth} s{stem_stride} b{batch}",
        "channels": channels,
        "depth": depth,
        "stem_stride": stem_stride,
        "batch": batch,
    }
    for key, r in zip(("sram", "std_edram", "rev"), rows, strict=True):
        row[f"{key}_uj"] = r["total_uj"]
        row[f"{key}_uj_per_sample"] = float(r["total_uj"]) / batch
        for col in ("refreshes", "tensor_refreshes", "bank_refreshes", "max_lifetime_us", "spill_bytes"):
            row[f"{key}_{col}"] = r[col]
    row["energy_ratio"] = float(rows[0]["total_uj"]) / float(rows[2]["total_uj"])
    row["vs_edram_ratio"] = float(rows[1]["total_uj"]) / float(rows[2]["total_uj"])
    return row


def lowest_energy_meeting(
    rows: Sequence[Mapping[str, object]], *, min_accuracy: float, accuracy: str, energy: str
) -> Mapping[str, object] | None:
    """The row with the lowest ``row[energy]`` among those with ``row[accuracy] >= min_accuracy`` (ties: the
    more accurate, then the first), or ``None`` when no row meets the constraint. Choose ``accuracy`` to be a
    validation-split metric, never the test set's."""
    if isinstance(min_accuracy, bool) or not isinstance(min_accuracy, int | float) or math.isnan(min_accuracy):
        raise TypeError(f"min_accuracy must be a number, got {min_accuracy!r}")
    for i, r in enumerate(rows):
        for key, what in ((accuracy, "accuracy"), (energy, "energy")):
            if key not in r:
                raise ValueError(f"rows[{i}] has no {what} column {key!r}; it has {sorted(r)}")
    ok = [(float(r[energy]), -float(r[accuracy]), i) for i, r in enumerate(rows) if float(r[accuracy]) >= min_accuracy]
    return rows[min(ok)[2]] if ok else None
