"""Explorer of eDRAM (chapter 08): temperature, buffer, batch and array."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from effdl import viz

__all__ = ["edram_explorer"]


def edram_explorer(
    traces: Mapping[int, Any],
    *,
    standard: Mapping[int, Any] | None = None,
    batch: int | None = None,
    temperature_c: float = 100.0,
    area_kib: int = 128,
    array: int = 16,
    areas_kib: Sequence[int] = (16, 32, 64, 128, 256, 512, 1024),
    arrays: Sequence[int] = (4, 8, 16, 32, 64),
) -> W.VBox:
    """Sliders for the eDRAM simulator on pre-computed traces: the temperature (°C, the main control; retention from
    :func:`edram.retention_at`), the buffer's area (KiB of SRAM; the eDRAM holds ``density`` times more), the batch
    size (one pre-computed trace per value) and the systolic array's size (``array × array``). Two
    ``FigureWidget``\\ s update in place: the lifetime chart (:func:`effdl.viz.lifetime_chart`, standard and
    reversible schedules on eDRAM, against the retention line) and the stacked energy bars of the three scenarios
    (:func:`effdl.viz.energy_bars`, the rows :func:`edram.compare` gives). The readout lists refreshes, spills,
    off-chip traffic and the energy ratio.

    ``traces``: ``{batch: edram.Trace}`` of the reversible model; ``standard``: the same for its standard
    counterpart (default: the reversible model under the standard schedule). Other assumptions: the defaults.

    Every setting is simulated once and kept: all 31 temperature positions of the starting setting at start-up,
    other settings when first chosen, so moving a slider back and forth only redraws. ``box.results`` maps
    ``(temperature °C, area KiB, batch, array)`` to ``(scenario rows, lifetimes, retention µs)``; ``box.start`` is
    the starting ``(area KiB, batch, array)``.
    """
    from dataclasses import replace

    from effdl.hardware import edram

    if not traces:
        raise ValueError("traces is empty: pass {batch: edram.trace(model, input_shape, batch=batch)}")
    batches = sorted(int(b) for b in traces)
    for b, tr in traces.items():
        if not isinstance(tr, edram.Trace):
            raise TypeError(f"traces[{b!r}] must be an edram.Trace, got {type(tr).__name__}")
    std = dict(standard) if standard is not None else dict(traces)
    if sorted(int(b) for b in std) != batches:
        raise ValueError(f"standard must have the same batch sizes as traces {batches}, got {sorted(std)}")
    batch = batches[0] if batch is None else batch
    if batch not in batches:
        raise ValueError(f"batch must be one of the traced batch sizes {batches}, got {batch!r}")
    areas, sizes = [int(a) for a in areas_kib], [int(a) for a in arrays]
    if area_kib not in areas:
        raise ValueError(f"area_kib must be one of areas_kib {areas}, got {area_kib!r}")
    if array not in sizes:
        raise ValueError(f"array must be one of arrays {sizes}, got {array!r}")
    edram.retention_at(temperature_c)  # validates the number
    if not 0 <= temperature_c <= 150:
        raise ValueError(f"temperature_c must be in 0..150 (°C), got {temperature_c!r}")

    cache: dict[tuple[float, int, int, int], tuple[list[dict], dict[str, list[dict]], float]] = {}

    def run(t_c: float, area: int, b: int, a: int) -> tuple[list[dict], dict[str, list[dict]], float]:
        """Simulate one setting; deterministic, so each is simulated once and kept."""
        key = (float(t_c), int(area), int(b), int(a))
        if key not in cache:
            cache[key] = simulate(*key)
        return cache[key]

    def simulate(t_c: float, area: int, b: int, a: int) -> tuple[list[dict], dict[str, list[dict]], float]:
        mem = edram.Memory(area_bytes=area * 1024, retention_s=edram.retention_at(t_c))
        acc = edram.Accelerator(rows=a, cols=a)
        rows, life = [], {}
        for scenario, schedule, kind in edram.SCENARIOS:
            res = edram.simulate(
                std[b] if schedule == "standard" else traces[b],
                schedule=schedule,
                accelerator=acc,
                memory=replace(mem, kind=kind),
            )
            rows.append({"scenario": scenario, **res.summary()})
            if kind == "edram":
                life[scenario] = edram.lifetimes(res)
        return rows, life, mem.retention_s * 1e6

    style = {"description_width": "initial"}
    temp_slider = W.FloatSlider(
        value=float(temperature_c),
        min=0.0,
        max=150.0,
        step=5.0,
        description="temperature (°C)",
        continuous_update=False,
        readout_format=".0f",
        style=style,
        layout=W.Layout(width="380px"),
    )
    temp_slider.add_class("effdl-main-control")  # the control the browser tests move
    area_slider = W.SelectionSlider(
        options=areas, value=area_kib, description="buffer area (KiB SRAM)", continuous_update=False, style=style,
        layout=W.Layout(width="380px"),
    )  # fmt: skip
    batch_slider = W.SelectionSlider(
        options=batches, value=batch, description="batch", continuous_update=False, style=style,
        layout=W.Layout(width="380px"),
    )  # fmt: skip
    array_slider = W.SelectionSlider(
        options=sizes, value=array, description="array (n × n)", continuous_update=False, style=style,
        layout=W.Layout(width="380px"),
    )  # fmt: skip
    readout = W.HTML()
    drawn: dict[int, tuple[go.Figure, go.Figure]] = {}

    def figures(rows: list[dict], life: dict, r_us: float) -> tuple[go.Figure, go.Figure]:
        """The two figures of one simulated setting, built once (keyed by the cached result's identity)."""
        if id(rows) not in drawn:
            drawn[id(rows)] = (viz.lifetime_chart(life, retention_us=r_us), viz.energy_bars(rows))
        return drawn[id(rows)]

    # Every temperature position of the starting setting, before anyone moves the main slider.
    for t_c in range(0, 151, 5):
        figures(*run(float(t_c), area_kib, batch, array))
    rows, life, r_us = run(temperature_c, area_kib, batch, array)
    fig = go.FigureWidget(viz.lifetime_chart(life, retention_us=r_us))
    energy_fig = go.FigureWidget(viz.energy_bars(rows))

    def show(rows: list[dict], r_us: float) -> None:
        by = {r["scenario"]: r for r in rows}
        sram, std_ed, rev = by["standard + SRAM"], by["standard + eDRAM"], by["reversible + eDRAM"]
        ratio = sram["total_uj"] / rev["total_uj"] if rev["total_uj"] > 0 else float("inf")
        readout.value = (
            f"retention <b>{r_us:.3g} µs</b> · longest lifetime: standard {std_ed['max_lifetime_us']:.3g} µs, "
            f"reversible <b>{rev['max_lifetime_us']:.3g} µs</b><br>refreshes: standard + eDRAM "
            f"{int(std_ed['refreshes']):,}, reversible + eDRAM <b>{int(rev['refreshes']):,}</b> · off-chip traffic: "
            + ", ".join(f"{s} {int(r['dram_bytes']) / 1e3:,.1f} kB" for s, r in by.items())
            + f"<br>energy: standard + SRAM / reversible + eDRAM = <b>{ratio:.2f}×</b> "
            f"(standard + eDRAM / reversible + eDRAM = {std_ed['total_uj'] / rev['total_uj']:.2f}×)"
        )

    def update(change: Any = None) -> None:
        rows, life, r_us = run(
            float(temp_slider.value), int(area_slider.value), int(batch_slider.value), int(array_slider.value)
        )
        new_life, new_energy = figures(rows, life, r_us)
        with fig.batch_update():
            for old, new in zip(fig.data, new_life.data, strict=True):
                old.x, old.y, old.customdata, old.name = new.x, new.y, new.customdata, new.name
                old.marker.symbol = new.marker.symbol
        with energy_fig.batch_update():
            for old, new in zip(energy_fig.data, new_energy.data, strict=True):
                old.y = new.y
                if new.text is not None:
                    old.text = new.text
            energy_fig.layout.yaxis.range = new_energy.layout.yaxis.range
        show(rows, r_us)
        box.rows = rows

    show(rows, r_us)
    for control in (temp_slider, area_slider, batch_slider, array_slider):
        control.observe(update, names="value")
    box = W.VBox([W.HBox([temp_slider, area_slider]), W.HBox([batch_slider, array_slider]), readout, fig, energy_fig])
    box.figure = fig  # handy for tests and for readers who want to restyle it
    box.energy_figure = energy_fig
    box.temperature = temp_slider
    box.area = area_slider
    box.batch = batch_slider
    box.array = array_slider
    box.readout = readout
    box.results = cache
    box.start = (int(area_kib), int(batch), int(array))  # the starting (area KiB, batch, array): tasks read it
    box.rows = rows  # the compare() rows on display, replaced at every move
    return box
