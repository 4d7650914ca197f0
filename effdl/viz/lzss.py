"""Figures of chapter 09 (LZSS for multi-byte data): tokens, pipeline, chunk ratios, codec comparison."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.express as px
import plotly.graph_objects as go

__all__ = [
    "LZSS_COLORS",
    "codec_comparison",
    "lzss_chunk_ratios",
    "lzss_pipeline",
    "lzss_reach",
    "lzss_sweep_curves",
    "lzss_tokens",
]

# LZSS for multi-byte data (chapter 09)

LZSS_COLORS: dict[str, str] = {"literal": "#636efa", "match": "#ef553b", "stored": "#b0b0b0"}


def lzss_tokens(
    symbols: Sequence[Any], tokens: Sequence[Any], *, per_row: int = 16, title: str | None = None
) -> go.Figure:
    """An LZSS parse drawn symbol by symbol: one cell per input symbol (its value written in it), coloured by the
    kind of the token that covers it — literal, match or stored — with each match labelled ``length×, −offset`` in
    its first cell and an arrow from there back to where its copy starts. ``tokens``:
    :func:`effdl.hardware.lzss.parse`'s list (``chunk, symbol, kind, length, offset``); ``symbols``: the input's
    symbol values (e.g. ``codes.tolist()``), ``per_row`` cells per row.

    Cells are rectangle shapes; traces: one text trace per kind present (literal, match, stored order; its x/y are
    the cells' centres, hover names the token), then one legend swatch per kind."""
    if not isinstance(per_row, int) or per_row < 1:
        raise ValueError(f"per_row must be an int ≥ 1, got {per_row!r}")
    values = list(symbols)
    covered = sum(int(t.length) for t in tokens)
    if covered != len(values):
        raise ValueError(f"tokens cover {covered} symbols but symbols has {len(values)}")
    row_gap = 1.3  # rows are 1.3 units apart: room for the arrows above each row
    kind_of, info, label = [""] * len(values), [""] * len(values), [""] * len(values)
    for i, t in enumerate(tokens):
        for j in range(int(t.symbol), int(t.symbol) + int(t.length)):
            kind_of[j] = t.kind
            what = f"match: copy {t.length} from {t.offset} back" if t.kind == "match" else t.kind
            info[j] = f"token {i} (chunk {t.chunk}): {what}"
        if t.kind == "match":
            label[int(t.symbol)] = f"<br><span style='font-size:9px'>{t.length}×, −{t.offset}</span>"
    pos = [(i % per_row, -row_gap * (i // per_row)) for i in range(len(values))]
    fig = go.Figure()
    for (x, y), kind in zip(pos, kind_of, strict=True):
        fig.add_shape(
            type="rect",
            x0=x - 0.46,
            x1=x + 0.46,
            y0=y - 0.4,
            y1=y + 0.4,
            fillcolor=LZSS_COLORS[kind],
            line={"width": 0},
            opacity=0.9,
            layer="below",
        )
    for t in tokens:  # each token outlined, one box per row it spans
        first, last = int(t.symbol), int(t.symbol) + int(t.length) - 1
        for r in range(first // per_row, last // per_row + 1):
            a, b = max(first, r * per_row) % per_row, min(last, (r + 1) * per_row - 1) % per_row
            fig.add_shape(
                type="rect",
                x0=a - 0.49,
                x1=b + 0.49,
                y0=-row_gap * r - 0.43,
                y1=-row_gap * r + 0.43,
                line={"color": "#333", "width": 1.5},
                fillcolor="rgba(0,0,0,0)",
            )
    present = [k for k in ("literal", "match", "stored") if k in kind_of]
    for kind in present:
        idx = [i for i, k in enumerate(kind_of) if k == kind]
        fig.add_trace(
            go.Scatter(
                x=[pos[i][0] for i in idx],
                y=[pos[i][1] for i in idx],
                text=[f"{values[i]}{label[i]}" for i in idx],
                customdata=[[i, info[i]] for i in idx],
                mode="text",
                textfont={"color": "white", "size": 12},
                name=kind,
                showlegend=False,
                hovertemplate="symbol %{customdata[0]}<br>%{customdata[1]}<extra></extra>",
            )
        )
    for kind in present:  # legend swatches
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"symbol": "square", "size": 14, "color": LZSS_COLORS[kind]},
                name=kind,
            )
        )
    for n, t in enumerate(t for t in tokens if t.kind == "match"):
        (x, y), (sx, sy) = pos[int(t.symbol)], pos[int(t.symbol) - int(t.offset)]
        lift = 0.47 + 0.1 * (n % 2)  # alternate heights so that neighbouring arrows do not overlap
        fig.add_annotation(
            x=sx,
            y=sy + lift,
            ax=x,
            ay=y + lift,
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            showarrow=True,
            arrowhead=2,
            arrowwidth=1.5,
            arrowcolor="#444",
            text="",
        )
    rows = -(-len(values) // per_row) if values else 1
    fig.update_layout(
        title=title or "the greedy parse: literals, matches (arrows point to the copy's source)",
        xaxis={"visible": False, "range": [-0.6, per_row - 0.4]},
        yaxis={"visible": False, "range": [-row_gap * (rows - 1) - 0.6, 0.75]},
        template="plotly_white",
        height=140 + 75 * rows,
        width=max(420, 58 * per_row + 80),
        legend={"orientation": "h", "y": -0.02},
        margin={"l": 20, "r": 20},
    )
    return fig


def lzss_pipeline(blob: bytes, *, title: str | None = None) -> go.Figure:
    """The chunk-parallel design of GPULZ drawn from a real blob (:mod:`effdl.hardware.lzss.format`), on one byte
    scale, top to bottom:

    1. the input cut into ``k`` chunks of ``C`` bytes;
    2. every chunk coded on its own, in parallel, into a worst-case slot of its own (flag bytes, then data bytes;
       a chunk that would not shrink is stored raw, grey);
    3. the prefix sums of the per-chunk sizes, which say where each chunk lands;
    4. the compacted blob: header, the two tables, all flag bytes, all data bytes, (tail,) CRC.

    Shapes are rectangles (and dotted lines for the compaction); one invisible scatter trace per row carries the
    hover text (input, coded, offsets, blob), then three legend swatches."""
    import numpy as np

    from effdl.hardware.lzss.format import CRC_SIZE, HEADER_SIZE, chunk_stats, read_header

    h = read_header(blob)
    st = chunk_stats(blob)
    k = h.chunks
    if k == 0:
        raise ValueError(
            "blob is a stored stream (no chunk compressed, or an input shorter than one symbol): no chunks to draw"
        )
    c = h.chunk
    flag_end, data_end = np.cumsum(st["flag_bytes"]), np.cumsum(st["data_bytes"])
    tables = 8 * k
    fig = go.Figure()
    ys = {"input": 3.0, "coded": 2.0, "offsets": 1.0, "blob": 0.0}

    def box(x0: float, x1: float, y: float, color: str, line: str = "white", dash: str | None = None) -> None:
        fig.add_shape(
            type="rect",
            x0=x0,
            x1=x1,
            y0=y - 0.3,
            y1=y + 0.3,
            fillcolor=color,
            line={"color": line, "width": 1, "dash": dash or "solid"},
            layer="below",
        )

    hover: dict[str, tuple[list[float], list[str]]] = {name: ([], []) for name in ys}
    for i in range(k):
        lo = i * c
        box(lo, lo + int(st["raw_bytes"][i]), ys["input"], "#9ecae1")
        hover["input"][0].append(lo + st["raw_bytes"][i] / 2)
        hover["input"][1].append(f"chunk {i}: {st['raw_bytes'][i]:,} bytes = {st['symbols'][i]:,} symbols")
        box(lo, lo + c, ys["coded"], "rgba(0,0,0,0)", line="#888", dash="dot")  # the worst-case slot
        f, d = int(st["flag_bytes"][i]), int(st["data_bytes"][i])
        if st["stored"][i]:
            box(lo, lo + d, ys["coded"], LZSS_COLORS["stored"])
            what = f"stored raw: {d:,} data bytes, no flags"
        else:
            box(lo, lo + f, ys["coded"], "#2ca02c")
            box(lo + f, lo + f + d, ys["coded"], LZSS_COLORS["match"])
            what = f"{st['matches'][i]} matches, {st['literals'][i]} literals: {f} flag + {d:,} data bytes"
        hover["coded"][0].append(lo + c / 2)
        hover["coded"][1].append(f"chunk {i} coded alone: {what}")
        hover["offsets"][0].append(lo + c / 2)
        hover["offsets"][1].append(
            f"chunk {i}: flags at {flag_end[i] - f:,}, data at {data_end[i] - d:,} (exclusive prefix sums)"
        )
        fig.add_annotation(
            x=lo + c / 2,
            y=ys["offsets"],
            text=f"{flag_end[i] - f:,} · {data_end[i] - d:,}",
            showarrow=False,
            font={"size": 10},
        )
    # the compacted blob
    parts = [("header", HEADER_SIZE, "#636363"), ("tables", tables, "#969696")]
    x = 0
    for name, size, color in parts:
        box(x, x + size, ys["blob"], color)
        hover["blob"][0].append(x + size / 2)
        hover["blob"][1].append(f"{name}: {size:,} bytes")
        x += size
    for i in range(k):  # every chunk's flags, then every chunk's data: compaction by the prefix sums
        f = int(st["flag_bytes"][i])
        if f:
            box(x, x + f, ys["blob"], "#2ca02c")
        x += f
    for i in range(k):
        d = int(st["data_bytes"][i])
        box(x, x + d, ys["blob"], LZSS_COLORS["stored"] if st["stored"][i] else LZSS_COLORS["match"])
        hover["blob"][0].append(x + d / 2)
        hover["blob"][1].append(f"chunk {i}'s data: bytes {x:,}..{x + d:,} of the blob")
        x += d
    box(x, x + h.tail + CRC_SIZE, ys["blob"], "#636363")
    total = x + h.tail + CRC_SIZE
    data_at = HEADER_SIZE + tables + int(flag_end[-1])
    for i in range(k):  # compaction: every chunk's data moves from its slot to its prefix-sum offset
        d0 = int(data_end[i] - st["data_bytes"][i])
        fig.add_shape(
            type="line",
            x0=i * c + int(st["flag_bytes"][i]),
            y0=ys["coded"] - 0.32,
            x1=data_at + d0,
            y1=ys["blob"] + 0.32,
            line={"color": "#888", "width": 1, "dash": "dot"},
        )
    for name, (hx, text) in hover.items():
        fig.add_trace(
            go.Scatter(
                x=hx,
                y=[ys[name]] * len(hx),
                text=text,
                mode="markers",
                marker={"size": 14, "opacity": 0},
                name=name,
                showlegend=False,
                hovertemplate="%{text}<extra></extra>",
            )
        )
    for name, color in (("flag bytes", "#2ca02c"), ("data bytes", LZSS_COLORS["match"]), ("stored chunk", "#b0b0b0")):
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="markers", marker={"symbol": "square", "size": 12, "color": color}, name=name
            )
        )
    labels = {
        "input": f"1 · input: {k} chunks of {c:,} bytes",
        "coded": "2 · each chunk coded alone (in parallel)",
        "offsets": "3 · prefix sums → offsets (flags · data)",
        "blob": f"4 · compacted blob: {total:,} bytes",
    }
    width = max(k * c, total)
    fig.update_layout(
        title=title or f"chunk-parallel LZSS: {h.length:,} bytes → {total:,} bytes (ratio {h.length / total:.2f})",
        xaxis={"title": "bytes", "range": [-0.02 * width, 1.02 * width], "showgrid": False},
        yaxis={
            "tickvals": list(ys.values()),
            "ticktext": [labels[n] for n in ys],
            "range": [-0.6, 3.6],
            "showgrid": False,
            "zeroline": False,
        },
        legend={"orientation": "h", "y": -0.25},
        template="plotly_white",
        height=380,
        margin={"l": 280},
    )
    return fig


def lzss_chunk_ratios(blob: bytes, *, title: str | None = None) -> go.Figure:
    """Per-chunk compression ratio along the input (``raw bytes / (flag + data bytes)``): coded chunks in one colour,
    stored ones (ratio 1) in grey, and the blob's overall ratio (container included) as a dashed line.
    Trace order (widgets update them in place): coded chunks, stored chunks, overall ratio."""
    import numpy as np

    from effdl.hardware.lzss.format import chunk_stats, read_header

    h = read_header(blob)
    st = chunk_stats(blob)
    size = st["flag_bytes"] + st["data_bytes"]
    ratio = np.divide(st["raw_bytes"], size, out=np.ones(h.chunks), where=size > 0)
    start = np.arange(h.chunks) * h.chunk
    width = np.full(h.chunks, h.chunk)
    stored_name = "stored chunk"
    if h.stored_stream and h.length:  # no chunk compressed: one grey bar, the whole input stored verbatim
        ratio, start, width = np.ones(1), np.zeros(1, np.int64), np.array([h.length])
        st = {"stored": np.ones(1, bool)}
        stored_name = "stored stream (nothing compressed)"
    fig = go.Figure()
    for stored, name, color in ((False, "coded chunk", LZSS_COLORS["match"]), (True, stored_name, "#b0b0b0")):
        sel = st["stored"] == stored
        fig.add_trace(
            go.Bar(
                x=(start[sel] / 1e3).tolist(),
                y=ratio[sel].tolist(),
                width=(width[sel] / 1e3).tolist(),
                offset=0,
                marker={"color": color, "line": {"width": 0}},
                name=name,
                hovertemplate="chunk at %{x:,.1f} kB: ratio %{y:.2f}<extra></extra>",
            )
        )
    overall = h.length / len(blob) if len(blob) else 1.0
    end = max(h.length, 1) / 1e3
    fig.add_trace(
        go.Scatter(
            x=[0, end],
            y=[overall, overall],
            mode="lines",
            line={"color": "black", "dash": "dash"},
            name=f"whole blob: {overall:.2f}",
        )
    )
    fig.update_layout(
        title=title or f"ratio per chunk (S = {h.symbol_size}, W = {h.window}, C = {h.chunk:,} bytes)",
        xaxis_title="position in the input (kB)",
        yaxis_title="raw bytes / coded bytes",
        template="plotly_white",
        bargap=0,
        height=340,
    )
    return fig


def codec_comparison(
    rows: Sequence[Mapping[str, Any]], *, codecs: Sequence[str] | None = None, title: str | None = None
) -> go.Figure:
    """Codecs side by side: grouped bars (one group per dataset, one bar per codec) in three stacked panels —
    compression ratio, compress MB/s and decompress MB/s (log axes), IQR as error bars. ``rows``: dicts with keys
    ``dataset``, ``codec``, ``ratio``, ``compress MB/s``, ``compress IQR MB/s``, ``decompress MB/s``,
    ``decompress IQR MB/s`` (``effdl.hardware.lzss.peers.Result.as_dict()``); ``codecs``: which ones, in order
    (default: all, first-seen order). One trace per codec and panel."""
    from plotly.subplots import make_subplots

    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    datasets = list(dict.fromkeys(str(r["dataset"]) for r in rows))
    names = list(codecs) if codecs is not None else list(dict.fromkeys(str(r["codec"]) for r in rows))
    by = {(str(r["dataset"]), str(r["codec"])): r for r in rows}
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=("compression ratio (higher is better)", "compress MB/s", "decompress MB/s"),
    )
    palette = px.colors.qualitative.Plotly + px.colors.qualitative.Set2
    for i, name in enumerate(names):
        color = palette[i % len(palette)]
        for row, key, iqr in (
            (1, "ratio", None),
            (2, "compress MB/s", "compress IQR MB/s"),
            (3, "decompress MB/s", "decompress IQR MB/s"),
        ):
            ds = [d for d in datasets if (d, name) in by and by[(d, name)].get(key) is not None]
            fig.add_trace(
                go.Bar(
                    x=ds,
                    y=[float(by[(d, name)][key]) for d in ds],
                    error_y=None
                    if iqr is None
                    else {"type": "data", "array": [float(by[(d, name)].get(iqr) or 0) / 2 for d in ds]},
                    name=name,
                    legendgroup=name,
                    showlegend=row == 1,
                    marker_color=color,
                    hovertemplate=f"{name}<br>%{{x}}: %{{y:.3g}}<extra></extra>",
                ),
                row=row,
                col=1,
            )
    fig.add_hline(y=1, line={"color": "gray", "dash": "dot"}, row=1, col=1)
    fig.update_yaxes(type="log", row=2, col=1)
    fig.update_yaxes(type="log", row=3, col=1)
    fig.update_layout(
        title=title or "LZSS against its peers: ratio and single-threaded throughput",
        barmode="group",
        template="plotly_white",
        height=820,
    )
    return fig


def lzss_sweep_curves(rows: Sequence[Mapping[str, Any]], *, title: str | None = None) -> go.Figure:
    """The codec's parameters one at a time: compression ratio (top) and compress MB/s (bottom) against the window
    W, the chunk size C (log axis) and the symbol size S. ``rows``: ``effdl.hardware.lzss.peers.sweep`` dicts
    (``param`` in W/C/S, ``value``, ``ratio``, ``compress MB/s``). One trace per panel, W, C, S order, ratio first."""
    from plotly.subplots import make_subplots

    params = [p for p in ("W", "C", "S") if any(r["param"] == p for r in rows)]
    if not params:
        raise ValueError("rows has no W, C or S sweep: nothing to plot")
    axis = {"W": "window W (symbols)", "C": "chunk C (bytes)", "S": "symbol size S (bytes)"}
    fig = make_subplots(rows=2, cols=len(params), shared_xaxes="columns", horizontal_spacing=0.07)
    for col, p in enumerate(params, start=1):
        mine = sorted((r for r in rows if r["param"] == p), key=lambda r: float(r["value"]))
        for row, key, color in ((1, "ratio", "#ef553b"), (2, "compress MB/s", "#636efa")):
            fig.add_trace(
                go.Scatter(
                    x=[r["value"] for r in mine],
                    y=[float(r[key]) for r in mine],
                    mode="lines+markers",
                    line={"color": color},
                    name=f"{key} vs {p}",
                    showlegend=False,
                    hovertemplate=f"{p} = %{{x}}: {key} %{{y:.3g}}<extra></extra>",
                ),
                row=row,
                col=col,
            )
        fig.update_xaxes(title_text=axis[p], row=2, col=col, type="log" if p == "C" else "linear")
        if p == "S":
            fig.update_xaxes(tickvals=[1, 2, 4], row=2, col=col)
    fig.update_yaxes(title_text="ratio", row=1, col=1)
    fig.update_yaxes(title_text="compress MB/s", row=2, col=1)
    fig.update_layout(
        title=title or "GPULZ's trade-offs: a longer window and bigger chunks find more matches, at a price",
        template="plotly_white",
        height=520,
    )
    return fig


def lzss_reach(
    distances: Mapping[str, Sequence[int]],
    *,
    windows: Mapping[str, float] | None = None,
    unit: str = "symbols",
    title: str | None = None,
) -> go.Figure:
    """How far back repeats lie: for each dataset, the fraction of positions whose string last occurred at most ``d``
    back (a cumulative curve over ``d``, log axis). ``distances``: name → repeat distances, 0 = never before (as
    :func:`effdl.hardware.lzss.data.repeat_distance` returns them); the curve ends below 1 by the share of never-seen
    strings. ``windows``: label → distance drawn as a dashed vertical line (a codec's reach). One trace per dataset."""
    import numpy as np

    if not distances:
        raise ValueError("distances is empty: nothing to plot")
    fig = go.Figure()
    for name, d in distances.items():
        d = np.asarray(d, dtype=np.int64)
        if d.ndim != 1 or d.size == 0 or (d < 0).any():
            raise ValueError(f"distances[{name!r}] must be a non-empty 1-D array of ints ≥ 0")
        seen = np.sort(d[d > 0])
        x = np.unique(seen)
        y = np.searchsorted(seen, x, side="right") / d.size
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                name=name,
                line={"shape": "hv"},
                hovertemplate=f"{name}: %{{y:.1%}} within %{{x}} {unit}<extra></extra>",
            )
        )
    for label, w in (windows or {}).items():
        fig.add_vline(x=float(w), line_dash="dash", line_color="#888", annotation_text=label)
    fig.update_layout(
        title=title or "How far back does the same string occur? (the window must reach it)",
        xaxis={"title": f"distance back ({unit}, log)", "type": "log"},
        yaxis={"title": "fraction of positions", "range": [0, 1.02], "tickformat": ".0%"},
        template="plotly_white",
        height=400,
    )
    return fig
