"""Explorers of the scaling, LZSS and eDRAM chapters (07–09)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from effdl import viz

# Train large, then compress (chapter 07)


def scaling_explorer(
    rows: Sequence[Mapping[str, Any]],
    *,
    method: str = "any",
    budget_bits: float | None = None,
) -> W.VBox:
    """Browse precomputed "train large, then compress" results: pick the compression method (dropdown) and a size
    budget (the main slider, over the sizes that occur); the figure (``viz.size_loss_scatter``) shows every model's
    points for that method, the budget as a vertical line and, as stars, each model's best point within the
    budget; the readout names the overall best. ``rows``: ``effdl.compress.scaling.compress_curve`` rows of several
    models. ``budget_bits``: the starting budget (default: the median size). Nothing is recomputed."""
    if not rows:
        raise ValueError("rows is empty: nothing to explore")
    if method not in viz.SCALING_METHODS:
        raise ValueError(f"method must be one of {', '.join(repr(m) for m in viz.SCALING_METHODS)}, got {method!r}")
    sizes = sorted({float(r["size_bits"]) for r in rows})
    if budget_bits is None:
        start = sizes[len(sizes) // 2]
    else:
        fits = [s for s in sizes if s <= float(budget_bits)]
        if not fits:
            raise ValueError(f"budget_bits={budget_bits} is below every size (the smallest is {sizes[0]:.0f} bits)")
        start = fits[-1]
    names = list(dict.fromkeys(str(r["name"]) for r in rows))
    labels = {
        "any": "any method",
        "prune": "pruning",
        "quant": "quantization",
        "prune+quant": "pruning + quantization",
    }

    def best_rows(m: str, cap: float) -> list[Mapping[str, Any]]:
        out = []
        for name in names:
            ok = [r for r in rows if str(r["name"]) == name and r["method"] in viz.SCALING_METHODS[m]]
            ok = [r for r in ok if float(r["size_bits"]) <= cap]
            if ok:
                out.append(min(ok, key=lambda r: (float(r["val_bpc"]), float(r["size_bits"]))))
        return out

    method_dd = W.Dropdown(options=[(labels[m], m) for m in viz.SCALING_METHODS], value=method, description="method")
    slider = W.SelectionSlider(
        options=[(f"{s / 1e3:,.0f} kbit", s) for s in sizes],
        value=start,
        description="budget",
        continuous_update=False,
        layout=W.Layout(width="520px"),
    )
    slider.add_class("effdl-main-control")  # the control the browser tests move
    readout = W.HTML()
    fig = go.FigureWidget(viz.size_loss_scatter(rows, method=method, budget_bits=start, best=best_rows(method, start)))

    def update(change: Any = None) -> None:
        m, cap = str(method_dd.value), float(slider.value)
        best = best_rows(m, cap)
        new = viz.size_loss_scatter(rows, method=m, budget_bits=cap, best=best)
        with fig.batch_update():
            for old_trace, new_trace in zip(fig.data, new.data, strict=True):
                old_trace.x, old_trace.y = new_trace.x, new_trace.y
                old_trace.text = new_trace.text
        if not best:
            readout.value = f"nothing fits in {cap / 1e3:,.0f} kbit with {labels[m]}"
            return
        top = min(best, key=lambda r: float(r["val_bpc"]))
        per_model = ", ".join(f"{r['name']}: {float(r['val_bpc']):.3f} ({r['label']})" for r in best)
        readout.value = (
            f"within <b>{cap / 1e3:,.0f} kbit</b> using {labels[m]}: best is <b>{top['name']}, {top['label']}</b> at "
            f"<b>{float(top['val_bpc']):.3f} bits/char</b> ({float(top['size_bits']) / 1e3:,.0f} kbit) · "
            f"each model's best: {per_model}"
        )

    update()
    method_dd.observe(update, names="value")
    slider.observe(update, names="value")
    box = W.VBox([W.HBox([method_dd, slider]), readout, fig])
    box.figure = fig  # handy for tests and for readers who want to restyle it
    box.slider = slider
    box.method = method_dd
    box.readout = readout
    return box


# ----------------------------------------------------------------------------------------------------------
# LZSS for multi-byte data (chapter 09)


def lzss_explorer(
    data: Any,
    *,
    window: int = 128,
    chunk: int = 2048,
    symbol_size: int = 2,
    chunks: Sequence[int] = (256, 512, 1024, 2048, 4096, 8192, 16384),
    reference: Mapping[str, float] | None = None,
) -> W.VBox:
    """Sliders for the LZSS codec's parameters on real data, recompressed LIVE with the ``cpu`` backend: the window
    W (1..255 symbols, the main control), the chunk size C (one of ``chunks``, bytes, multiples of 4) and the symbol
    size S (1, 2 or 4 bytes). The readout gives the ratio, the blob's size, the token mix, the stored chunks and the
    compression time; the figure (:func:`effdl.viz.lzss_chunk_ratios` in a ``FigureWidget``, updated in place) the
    ratio of every chunk along the data.

    ``data``: anything :func:`effdl.hardware.lzss.compress` takes; 100–300 kB recompress in milliseconds.
    ``reference``: other codecs' ratios on the same bytes, shown alongside (e.g. ``{"lz4": 1.8}``).
    """
    import time

    from effdl.hardware import lzss
    from effdl.hardware.lzss.format import chunk_stats

    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= 255:
        raise ValueError(f"window must be an int in 1..255, got {window!r}")
    if symbol_size not in (1, 2, 4) or isinstance(symbol_size, bool):
        raise ValueError(f"symbol_size must be 1, 2 or 4, got {symbol_size!r}")
    options = [int(c) for c in chunks]
    if not options or any(c < 4 or c % 4 for c in options):
        raise ValueError(f"chunks must be positive multiples of 4 (so every symbol size fits), got {list(chunks)!r}")
    if chunk not in options:
        raise ValueError(f"chunk must be one of chunks {options}, got {chunk!r}")
    refs = dict(reference or {})

    def measure(w: int, c: int, s: int) -> tuple[bytes, float]:
        start = time.perf_counter()
        blob = lzss.compress(data, symbol_size=s, window=w, chunk=c, backend="cpu")
        return blob, time.perf_counter() - start

    slider = W.IntSlider(
        value=window,
        min=1,
        max=255,
        step=1,
        description="W (symbols)",
        continuous_update=False,
        style={"description_width": "initial"},
        layout=W.Layout(width="380px"),
    )
    slider.add_class("effdl-main-control")  # the control the browser tests move
    chunk_slider = W.SelectionSlider(
        options=options,
        value=chunk,
        description="C (bytes)",
        continuous_update=False,
        style={"description_width": "initial"},
        layout=W.Layout(width="380px"),
    )
    symbol_buttons = W.ToggleButtons(options=[1, 2, 4], value=symbol_size, description="S (bytes)")
    readout = W.HTML()
    blob, seconds = measure(window, chunk, symbol_size)
    fig = go.FigureWidget(viz.lzss_chunk_ratios(blob))

    def show(blob: bytes, seconds: float) -> None:
        st = chunk_stats(blob)
        h = lzss.read_header(blob)
        n, ratio = h.length, h.length / len(blob)
        others = " · ".join(f"{name} {r:.2f}" for name, r in refs.items())
        chunks = (
            "a stored stream (no chunk compressed)"
            if h.stored_stream
            else f"{int(st['stored'].sum())} of {len(st['stored'])} chunks stored"
        )
        readout.value = (
            f"ratio <b>{ratio:.3f}</b> ({n:,} → {len(blob):,} bytes) · {int(st['matches'].sum()):,} matches, "
            f"{int(st['literals'].sum()):,} literals · {chunks} · {1e3 * seconds:.1f} ms ({n / seconds / 1e6:.0f} MB/s)"
        )
        if refs:
            readout.value += f"<br>the same bytes with other codecs: {others}"

    def update(change: Any = None) -> None:
        w, c, s = int(slider.value), int(chunk_slider.value), int(symbol_buttons.value)
        blob, seconds = measure(w, c, s)
        new = viz.lzss_chunk_ratios(blob)
        with fig.batch_update():
            for i in range(3):  # coded chunks, stored chunks, the overall ratio
                fig.data[i].x, fig.data[i].y, fig.data[i].name = new.data[i].x, new.data[i].y, new.data[i].name
                if i < 2:
                    fig.data[i].width = new.data[i].width
            fig.layout.title.text = new.layout.title.text
        show(blob, seconds)

    show(blob, seconds)
    for control in (slider, chunk_slider, symbol_buttons):
        control.observe(update, names="value")
    box = W.VBox([W.HBox([slider, chunk_slider]), symbol_buttons, readout, fig])
    box.figure = fig  # handy for tests and for readers who want to restyle it
    box.slider = slider
    box.chunk_slider = chunk_slider
    box.symbol_buttons = symbol_buttons
    box.readout = readout
    return box


# ----------------------------------------------------------------------------------------------------------
# eDRAM (chapter 08)


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
    """Sliders for the eDRAM simulator, re-simulated LIVE at every move (``edram.simulate`` takes milliseconds on a
    pre-computed trace): the temperature (°C, the main control; retention from :func:`edram.retention_at`), the
    buffer's area (KiB of SRAM; the eDRAM holds ``density`` times more), the batch size (one pre-computed trace
    per value) and the systolic array's size (``array × array``). Two ``FigureWidget``\\ s update in place: the
    lifetime chart (:func:`effdl.viz.lifetime_chart`, standard and reversible schedules on eDRAM, against the
    retention line) and the stacked energy bars of the three scenarios (:func:`effdl.viz.energy_bars`, the rows
    :func:`edram.compare` gives). The readout lists refreshes, spills, off-chip traffic and the energy ratio.

    ``traces``: ``{batch: edram.Trace}`` of the reversible model; ``standard``: the same for its standard
    counterpart (default: the reversible model under the standard schedule). Other assumptions: the defaults.
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

    def run(t_c: float, area: int, b: int, a: int) -> tuple[list[dict], dict[str, list[dict]], float]:
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
        new_life = viz.lifetime_chart(life, retention_us=r_us)
        new_energy = viz.energy_bars(rows)
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
    box.rows = rows  # the compare() rows on display, replaced at every move
    return box
