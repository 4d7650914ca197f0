"""Chapter 09's studies behind one call each: the benchmark summary (ratio over lz4, throughput over zlib-6), the
byte-shuffle table, and the transforms the exercises try on bf16 weights and CSR column indices.

Tables are ``pandas.DataFrame`` (indexed by dataset name); ratios are ``raw bytes / compressed bytes``, throughputs
MB/s of input (``10**6`` bytes per second), as in :mod:`effdl.hardware.lzss.peers`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from effdl.hardware.lzss import peers
from effdl.hardware.lzss.codec import compress
from effdl.hardware.lzss.format import read_header

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "OURS",
    "benchmark_summary",
    "bytes_over_raw",
    "index_transforms",
    "shuffle_records",
    "shuffle_table",
    "stored_streams",
    "symbol_plane_ratios",
]

OURS = "effdl lzss (1 thread)"  # the codec's one-thread row in peers.compare


def benchmark_summary(bench: pd.DataFrame, datasets: Sequence[str], *, ours: str = OURS) -> pd.DataFrame:
    """Per dataset (rows in ``datasets`` order): the codec's symbol size ``S``, its ratio and lz4's, their quotient
    ``ratio × lz4``, the codec's and zlib-6's compression MB/s and their quotient ``MB/s × zlib-6``.

    ``bench``: one row per dataset × codec, the columns of :meth:`peers.Result.as_dict` (``dataset``, ``codec``,
    ``ratio``, ``compress MB/s``, ``S``)."""
    import pandas as pd

    ratio_tab = bench.pivot(index="dataset", columns="codec", values="ratio")
    mbs_tab = bench.pivot(index="dataset", columns="codec", values="compress MB/s")
    return pd.DataFrame(
        {
            "S": bench[bench.codec == ours].set_index("dataset")["S"],
            "lzss ratio": ratio_tab[ours],
            "lz4 ratio": ratio_tab.get("lz4"),
            "ratio × lz4": ratio_tab[ours] / ratio_tab.get("lz4"),
            "lzss MB/s": mbs_tab[ours],
            "zlib-6 MB/s": mbs_tab["zlib 6"],
            "MB/s × zlib-6": mbs_tab[ours] / mbs_tab["zlib 6"],
        }
    ).loc[list(datasets)]


def bytes_over_raw(bench: pd.DataFrame) -> pd.Series:
    """``compressed bytes − raw bytes`` per (dataset, codec): positive where a codec grows its input (bytes)."""
    import pandas as pd

    over = bench["compressed bytes"] - bench["raw bytes"]
    return over.set_axis(pd.MultiIndex.from_frame(bench[["dataset", "codec"]]))


def stored_streams(sets: Mapping[str, np.ndarray], *, window: int, chunk: int) -> list[str]:
    """The datasets the codec (default S, W = ``window`` symbols, C = ``chunk`` bytes) stores as a stored stream:
    no chunk shrinks, so the blob is header + input + CRC (24 bytes over raw)."""
    return [d for d in sets if read_header(compress(sets[d], window=window, chunk=chunk)).stored_stream]


def shuffle_table(
    sets: Mapping[str, np.ndarray],
    results: Sequence[peers.Result],
    names: Sequence[str],
    *,
    window: int,
    chunk: int,
    ours: str = OURS,
) -> pd.DataFrame:
    """The byte-shuffle filter on the datasets ``names``: ratios of the codec without and with the filter, of lz4
    without and with it, of ``shuffle="auto"`` (compressed here), the best of zlib-9/zstd-3 (entropy coders), and
    ``lzss + shuffle × lz4``. NaN where a row does not exist (no filter for 1-byte items)."""
    import pandas as pd

    ratio_of = {(r.dataset, r.codec): r.ratio for r in results}
    rows = []
    for name in names:
        x = sets[name]
        rows.append(
            {
                "dataset": name,
                "item bytes": x.dtype.itemsize,
                "lzss": ratio_of[(name, ours)],
                "lzss + shuffle": ratio_of.get((name, peers.SHUFFLE_CODEC), np.nan),  # none for 1-byte items
                "lz4": ratio_of[(name, "lz4")],
                "lz4 + shuffle": ratio_of.get((name, "lz4+shuffle"), np.nan),
                'shuffle="auto"': x.nbytes / len(compress(x, window=window, chunk=chunk, shuffle="auto")),
                "best of zlib/zstd": max(ratio_of[(name, c)] for c in ("zlib 9", "zstd 3") if (name, c) in ratio_of),
            }
        )
    tab = pd.DataFrame(rows).set_index("dataset")
    tab["lzss + shuffle × lz4"] = tab["lzss + shuffle"] / tab["lz4"]
    return tab


_SHUFFLE_SUFFIX = (
    ("lzss", "plain_ratio"),
    ("lzss + shuffle", "ratio"),
    ("lz4", "lz4_ratio"),
    ("lz4 + shuffle", "lz4_shuffle_ratio"),
    ('shuffle="auto"', "auto_ratio"),
    ("lzss + shuffle × lz4", "vs_lz4"),
)


def shuffle_records(table: pd.DataFrame, keys: Mapping[str, str]) -> dict[str, float]:
    """``{"<key>.<suffix>": value}`` for :func:`effdl.record_many` from :func:`shuffle_table`'s ``table``; ``keys``
    maps a short key (``"int32"``) to its dataset name. NaN cells are left out."""
    out: dict[str, float] = {}
    for key, name in keys.items():
        row = table.loc[name]
        for col, suffix in _SHUFFLE_SUFFIX:
            if not np.isnan(row[col]):
                out[f"{key}.{suffix}"] = float(row[col])
    return out


def symbol_plane_ratios(x: np.ndarray, *, window: int, chunk: int) -> dict[str, float]:
    """Exercise 3: the ratio of 2-byte data ``x`` (e.g. bf16 bit patterns as uint16, shape ``(n,)``) with S = 1, 2
    and 4, and of its byte planes alone (S = 1): ``"high bytes"`` (the sign, exponent and top mantissa bit of a
    bf16) and ``"low bytes"``. Every ratio is ``plane or array bytes / blob bytes``."""
    x = np.ascontiguousarray(x)
    if x.dtype.itemsize != 2:
        raise ValueError(f"x must hold 2-byte items, got dtype {x.dtype}")
    out = {f"S = {s}": x.nbytes / len(compress(x, symbol_size=s, window=window, chunk=chunk)) for s in (1, 2, 4)}
    low, high = x.view(np.uint8).reshape(-1, 2).T  # little-endian: byte 0 is the low byte
    for name, plane in (("high bytes", high), ("low bytes", low)):
        plane = np.ascontiguousarray(plane)
        out[name] = plane.nbytes / len(compress(plane, symbol_size=1, window=window, chunk=chunk))
    return out


def index_transforms(columns: np.ndarray, row_pointers: np.ndarray) -> dict[str, np.ndarray]:
    """Exercise 4: encodings of CSR column indices, each a 1-D array whose bytes the codec compresses.

    ``columns``: the int column of every non-zero, rows after rows (shape ``(nnz,)``); ``row_pointers``: the
    concatenated ``crow_indices`` of one or more matrices (each starts at 0 and ends at its non-zero count). Returns
    ``"int32 indices"``, ``"int16 indices"`` (columns < 32768), ``"uint16 gaps"`` (a row's first column as is, then
    differences), ``"uint8 gaps + escape"`` (a gap < 255 as one byte, else 255 followed by the gap as 2 bytes) and
    ``"rows sorted by first column"`` (int16 indices with the rows reordered, plus the permutation as uint16)."""
    col = np.asarray(columns).astype(np.int64).reshape(-1)
    crow = np.asarray(row_pointers).astype(np.int64).reshape(-1)
    if col.size and (col.min() < 0 or col.max() >= 1 << 15):
        raise ValueError("columns must lie in 0..32767 for the int16 encodings")
    lengths = np.diff(crow)
    lengths = lengths[lengths >= 0]  # a drop back to 0 starts the next matrix
    if int(lengths.sum()) != col.size:
        raise ValueError(f"row_pointers describe {int(lengths.sum())} non-zeros, columns has {col.size}")
    rows = np.split(col, np.cumsum(lengths)[:-1]) if lengths.size else []
    gaps = np.concatenate([np.diff(r, prepend=0) for r in rows]) if rows else col
    small = gaps < 255
    escaped = [
        np.array([g], np.uint8) if s else np.array([255, g & 255, g >> 8], np.uint8)
        for g, s in zip(gaps, small, strict=True)
    ]
    order = sorted(range(len(rows)), key=lambda i: (rows[i][0] if rows[i].size else -1, i))
    sorted_rows = np.concatenate([rows[i] for i in order]) if rows else col
    return {
        "int32 indices": col.astype(np.int32),
        "int16 indices": col.astype(np.int16),
        "uint16 gaps": gaps.astype(np.uint16),
        "uint8 gaps + escape": np.concatenate(escaped) if escaped else np.zeros(0, np.uint8),
        "rows sorted by first column": np.concatenate(
            [sorted_rows.astype(np.int16).view(np.uint16), np.array(order, np.uint16)]
        ),
    }
