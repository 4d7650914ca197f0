"""Chapter 09's studies behind one call each: the benchmark summary (ratio over lz4, throughput over zlib-6), the
byte-shuffle table, and the transforms the exercises try on bf16 weights and CSR column indices.

Tables are ``pandas.DataFrame`` (indexed by dataset name); ratios are ``raw bytes / compressed bytes``, throughputs
MB/s of input (``10**6`` bytes per second), as in :mod:`effdl.hardware.lzss.peers`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from effdl.hardware.lzss import peers
from effdl.hardware.lzss.codec import compress
from effdl.hardware.lzss.format import read_header

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "GPU_RESULTS",
    "OURS",
    "GPUBenchmark",
    "benchmark_summary",
    "bytes_over_raw",
    "gpu_benchmark",
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


# Where benchmarks/cuda_check.sh (``effdl bench lzss --device cuda --json …``) leaves its cuda section: the build folder
# of a checkout, or a copy committed under results/ once a GPU run is worth keeping.
GPU_RESULTS = ("build/lzss_cuda.json", "results/lzss_cuda.json")
TARGETS_GBS = {"compress": 5.0, "decompress": 10.0}  # issue 19's goals on 256 MiB (GPULZ: 4.9 GB/s on an A100)


@dataclass(frozen=True)
class GPUBenchmark:
    """The cuda section of one ``effdl bench lzss --device cuda`` run: the GPU's name, the input's bytes, W, C, whether
    every cuda blob equalled the cpu backend's, and one row per codec and S (ratio, compress and decompress GB/s of
    input bytes; ``None`` where not measured)."""

    path: Path
    device: str
    simulated: bool
    nbytes: int
    window: int
    chunk: int
    identical: bool
    date: str
    rows: list[dict[str, Any]]

    def table(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows).set_index(["codec", "S"])

    def best(self, kind: str = "device time") -> tuple[float | None, float | None]:
        """The cuda backend's best compress and decompress GB/s over S, for ``"device time"`` or ``"end to end"``."""
        mine = [r for r in self.rows if r["codec"] == f"effdl lzss cuda, {kind}"]
        comp = [r["comp_gbs"] for r in mine if r["comp_gbs"] is not None]
        dec = [r["dec_gbs"] for r in mine if r["dec_gbs"] is not None]
        return (max(comp) if comp else None, max(dec) if dec else None)

    def markdown(self) -> str:
        """One paragraph: where and what was measured, the best device-time figures against the targets."""
        comp, dec = self.best()
        if self.simulated:
            return f"The recorded run ({self.path}) used numba's CUDA simulator: its timings mean nothing."

        def vs(x: float | None, goal: float) -> str:
            return "not measured" if x is None else f"**{x:.2f} GB/s** ({'meets' if x >= goal else 'below'} {goal:g})"

        return (
            f"Measured on **{self.device}** ({self.date}), {self.nbytes / 2**20:.0f} MiB of uint16 codes, W = "
            f"{self.window}, C = {self.chunk}: the cuda backend compresses at {vs(comp, TARGETS_GBS['compress'])} and "
            f"decompresses at {vs(dec, TARGETS_GBS['decompress'])}, device time, best S; blobs "
            f"{'identical to' if self.identical else 'DIFFERENT from'} the cpu backend's. GPULZ reports 4.9 GB/s "
            "compression on an A100."
        )


def gpu_benchmark(path: str | Path | None = None) -> GPUBenchmark | None:
    """The recorded cuda section, or ``None`` when no GPU run was recorded. ``path``: a JSON file written by
    ``effdl bench lzss --device cuda --json PATH``; default: the first of :data:`GPU_RESULTS` found in the current
    folder or one of its parents (a notebook runs in ``notebooks/``)."""
    if path is None:
        here = Path.cwd().resolve()
        found = [d / rel for d in (here, *here.parents) for rel in GPU_RESULTS if (d / rel).is_file()]
        if not found:
            return None
        path = found[0]
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return GPUBenchmark(
            path=path,
            device=str(raw["device"]),
            simulated=bool(raw["simulated"]),
            nbytes=int(raw["bytes"]),
            window=int(raw["window"]),
            chunk=int(raw["chunk"]),
            identical=bool(raw["identical"]),
            date=str(raw.get("date", "")),
            rows=list(raw["rows"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(
            f"{path} is not a cuda benchmark record (effdl bench lzss --device cuda --json): {err}"
        ) from err
