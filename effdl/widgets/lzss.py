"""Explorer of LZSS (chapter 09): symbol size, window and chunk on real data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from effdl import viz

__all__ = ["lzss_explorer"]


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

    The returned box exposes its data for "Try it" checkers: ``box.start = (W, C, S)`` (the starting setting),
    ``box.chunks`` (the C options), ``box.results = {(W, C, S): ratio}`` (every setting compressed so far, the
    slider's moves included) and ``box.ratio(W, C, S)`` (the ratio of a setting, compressed once and cached).
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

    results: dict[tuple[int, int, int], float] = {}

    def measure(w: int, c: int, s: int) -> tuple[bytes, float]:
        start = time.perf_counter()
        blob = lzss.compress(data, symbol_size=s, window=w, chunk=c, backend="cpu")
        seconds = time.perf_counter() - start
        results[(w, c, s)] = lzss.read_header(blob).length / len(blob)
        return blob, seconds

    def ratio(w: int, c: int, s: int) -> float:
        """The ratio (raw bytes / blob bytes) at window w, chunk c, symbol size s; compressed once, then cached."""
        key = (int(w), int(c), int(s))
        if key not in results:
            measure(*key)
        return results[key]

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
    box.start = (window, chunk, symbol_size)
    box.chunks = options
    box.results = results
    box.ratio = ratio
    return box
