"""The codec against its peers — zlib 1/6/9, lz4, zstd 1/3, blosc2 (shuffle + zstd) — on the same data, in one run.

On data of 2-, 4- or 8-byte items two more rows compare the byte-shuffle filter fairly: the codec with it
(``effdl lzss+shuffle (1 thread)``, E = the item size, S = 1) and lz4 on the same shuffled bytes (``lz4+shuffle``,
the filter and its inverse timed with it, a NumPy transpose each way).

Every peer runs single-threaded; the LZSS ``cpu`` backend runs on one thread too (and, as an extra row, on all of
``NUMBA_NUM_THREADS``), so the compress-throughput ratio against zlib-6 compares one core with one core. A peer
whose package is missing is left out with a note (zlib ships with Python; ``lz4``, ``zstandard`` and ``blosc2`` are
in the ``[dev]`` extra). Timings are medians of ``repeats`` interleaved rounds (each round runs every codec once, so
a burst of load from other processes hits all of them alike) after one warm-up call; the spread is the
interquartile range. Ratios (``raw bytes / compressed bytes``) are exact and the same on every machine; MB/s
(``10**6`` bytes of *input* per second, for compression and decompression alike) are this machine's.

:func:`compare` measures datasets × codecs, :func:`sweep` the codec's own parameters (W, C, S) on one dataset;
``effdl bench lzss`` (``benchmarks/lzss.py``) and notebook 09 print and plot them.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from effdl.hardware.lzss import cpu
from effdl.hardware.lzss.codec import choose_symbol_size, compress, decompress
from effdl.hardware.lzss.format import SHUFFLE_SIZES, shuffle, unshuffle

__all__ = ["SHUFFLE_CODEC", "Codec", "Result", "compare", "lzss_codec", "peer_codecs", "sweep", "time_codec"]

SHUFFLE_CODEC = "effdl lzss+shuffle (1 thread)"  # the codec's row with the byte-shuffle filter


@dataclass(frozen=True)
class Codec:
    """A named compressor: ``compress(array) -> bytes`` and ``decompress(bytes) -> bytes`` (the array's bytes)."""

    name: str
    compress: Callable[[np.ndarray], bytes]
    decompress: Callable[[bytes], bytes] | None  # None: not measured (e.g. the GPU row, whose decoder is the CPU's)


@dataclass
class Result:
    """One dataset × codec measurement. Throughputs in MB/s of input (``10**6`` bytes per second)."""

    dataset: str
    codec: str
    raw_bytes: int
    blob_bytes: int
    compress_mbs: float
    compress_iqr_mbs: float
    decompress_mbs: float | None
    decompress_iqr_mbs: float | None
    round_trip: bool | None  # None when decompression is not measured
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.raw_bytes / self.blob_bytes

    def as_dict(self) -> dict[str, object]:
        return {
            "dataset": self.dataset,
            "codec": self.codec,
            "raw bytes": self.raw_bytes,
            "compressed bytes": self.blob_bytes,
            "ratio": self.ratio,
            "compress MB/s": self.compress_mbs,
            "compress IQR MB/s": self.compress_iqr_mbs,
            "decompress MB/s": self.decompress_mbs,
            "decompress IQR MB/s": self.decompress_iqr_mbs,
            "round trip": self.round_trip,
            **self.extra,
        }


def _raw(x: np.ndarray) -> bytes:
    return np.ascontiguousarray(x).tobytes()


def peer_codecs(itemsize: int = 1, *, shuffled: bool = True) -> tuple[list[Codec], list[str]]:
    """(the peers whose packages are installed, one note per missing package). ``itemsize``: the data's item size
    in bytes, which blosc2's shuffle filter needs (it regroups the k-th byte of every item). With ``shuffled`` and an
    item size of 2, 4 or 8, also ``lz4+shuffle``: lz4 on the bytes :func:`~effdl.hardware.lzss.format.shuffle`
    makes (the same filter as the codec's), unshuffled after decompression."""
    codecs = [
        Codec(f"zlib {level}", lambda x, level=level: zlib.compress(_raw(x), level), zlib.decompress)
        for level in (1, 6, 9)
    ]
    notes = []
    try:
        import lz4.frame
    except ImportError:
        notes.append("lz4 skipped: pip install lz4")
    else:
        codecs.append(Codec("lz4", lambda x: lz4.frame.compress(_raw(x)), lz4.frame.decompress))
        if shuffled and itemsize in SHUFFLE_SIZES[1:]:

            def lz4_shuffled(x: np.ndarray, e: int = itemsize) -> bytes:
                return lz4.frame.compress(shuffle(np.frombuffer(_raw(x), np.uint8), e).tobytes())

            def unlz4_shuffled(b: bytes, e: int = itemsize) -> bytes:
                return unshuffle(np.frombuffer(lz4.frame.decompress(b), np.uint8), e).tobytes()

            codecs.append(Codec("lz4+shuffle", lz4_shuffled, unlz4_shuffled))
    try:
        import zstandard
    except ImportError:
        notes.append("zstd skipped: pip install zstandard")
    else:
        unzstd = zstandard.ZstdDecompressor()
        for level in (1, 3):
            z = zstandard.ZstdCompressor(level=level, threads=0)  # threads=0: no worker threads
            codecs.append(Codec(f"zstd {level}", lambda x, z=z: z.compress(_raw(x)), unzstd.decompress))
    try:
        import blosc2
    except ImportError:
        notes.append("blosc2 skipped: pip install blosc2")
    else:
        params = {"typesize": itemsize, "clevel": 5, "filters": [blosc2.Filter.SHUFFLE], "codec": blosc2.Codec.ZSTD}
        codecs.append(
            Codec(
                "blosc2 shuffle+zstd",
                lambda x: blosc2.compress2(_raw(x), nthreads=1, **params),
                lambda b: blosc2.decompress2(b, nthreads=1),
            )
        )
    return codecs, notes


def lzss_codec(
    *,
    symbol_size: int | str = "auto",
    window: int = 128,
    chunk: int = 2048,
    shuffle: bool | int | str = False,
    threads: int | None = 1,
    backend: str = "cpu",
    device: str | torch.device | None = None,
    name: str | None = None,
) -> Codec:
    """The LZSS codec as a :class:`Codec` (``shuffle``: :func:`~effdl.hardware.lzss.compress`'s filter argument).
    ``threads``: the ``cpu`` backend's thread cap (``None``: all; see
    :func:`effdl.hardware.lzss.cpu.set_threads`). With ``backend="torch"`` the input is moved to ``device`` before
    the timer starts (the GPU's throughput, not the bus's), and decompression is not measured (the torch backend
    has no decoder). With ``backend="cuda"`` both directions run on the GPU from host bytes, copies included."""
    if backend == "cuda":  # end to end: host bytes to the GPU, kernels, the blob (or the bytes) back

        def compress_cuda(x: np.ndarray) -> bytes:
            return compress(x, symbol_size=symbol_size, window=window, chunk=chunk, shuffle=shuffle, backend="cuda")

        return Codec(name or "effdl lzss cuda", compress_cuda, lambda blob: decompress(blob, backend="cuda"))
    if backend == "torch":
        dev = torch.device(device or "cpu")

        def compress_torch(x: np.ndarray) -> bytes:
            return compress(
                x, symbol_size=symbol_size, window=window, chunk=chunk, shuffle=shuffle, backend="torch", device=dev
            )

        return Codec(name or f"effdl lzss torch ({dev.type})", compress_torch, None)

    def compress_cpu(x: np.ndarray) -> bytes:
        previous = cpu.set_threads(threads)
        try:
            return compress(x, symbol_size=symbol_size, window=window, chunk=chunk, shuffle=shuffle, backend=backend)
        finally:
            cpu.set_threads(previous)

    def decompress_cpu(blob: bytes) -> bytes:
        previous = cpu.set_threads(threads)
        try:
            return decompress(blob, backend="cpu" if backend == "cpu" else "reference")
        finally:
            cpu.set_threads(previous)

    label = name or ("effdl lzss" + (" (1 thread)" if threads == 1 else f" ({threads or cpu._threads()} threads)"))
    return Codec(label, compress_cpu, decompress_cpu)


def _cuda_ready() -> bool:
    """True when the ``cuda`` backend can launch kernels (imports ``numba.cuda`` only when asked)."""
    from effdl.hardware.lzss import cuda_backend

    return cuda_backend.available()


def _median_iqr(mbs: list[float]) -> tuple[float, float]:
    q1, med, q3 = np.percentile(mbs, [25, 50, 75])
    return float(med), float(q3 - q1)


def time_codec(
    codec: Codec, x: np.ndarray | torch.Tensor, *, repeats: int = 5
) -> tuple[bytes, list[float], list[float]]:
    """(blob, compress seconds per repeat, decompress seconds per repeat) after one untimed warm-up call."""
    blob = codec.compress(x)
    if codec.decompress is not None:
        codec.decompress(blob)
    comp, decomp = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        codec.compress(x)
        t1 = time.perf_counter()
        if codec.decompress is not None:
            codec.decompress(blob)
            decomp.append(time.perf_counter() - t1)
        comp.append(t1 - t0)
    return blob, comp, decomp


def _check_repeats(repeats: object) -> int:
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be an int ≥ 1, got {repeats!r}")
    return repeats


def compare(
    datasets: Mapping[str, np.ndarray],
    *,
    repeats: int = 5,
    window: int = 128,
    chunk: int = 2048,
    all_threads: bool = True,
    device: str | torch.device | None = None,
    peers: bool = True,
    shuffled: bool = True,
) -> tuple[list[Result], list[str]]:
    """Measure every dataset (flat numpy arrays; the dtype's item size is what ``symbol_size="auto"`` and blosc2
    see) with the LZSS codec and its peers. Returns (results in dataset, codec order; notes on skipped peers).

    Codecs: ``effdl lzss (1 thread)`` (``cpu`` backend, W = ``window``, C = ``chunk``, S chosen once per dataset by
    :func:`~effdl.hardware.lzss.choose_symbol_size` before timing, and stored in ``Result.extra["S"]``); with
    ``all_threads`` and more than one thread, the same on all threads; with ``device`` naming a CUDA device, the
    ``torch`` backend there and ``effdl lzss cuda`` (the ``cuda`` backend, end to end), whose blobs must equal the
    CPU's (``Result.extra["identical"]``); with ``shuffled`` and
    an item size of 2, 4 or 8, :data:`SHUFFLE_CODEC` (the byte-shuffle filter with E = the item size, S = 1, one
    thread) and, among the peers, ``lz4+shuffle`` (lz4 on the same shuffled bytes); then the peers.
    """
    repeats = _check_repeats(repeats)
    gpu = None
    if device is not None:
        gpu = torch.device(device)
        if gpu.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={str(device)!r} needs CUDA, and torch finds no CUDA device on this machine")
    results: list[Result] = []
    notes: list[str] = []
    for name, x in datasets.items():
        s = choose_symbol_size(x, window=window, chunk=chunk)
        codecs = [lzss_codec(symbol_size=s, window=window, chunk=chunk, threads=1)]
        if all_threads and cpu._threads() > 1:
            codecs.append(lzss_codec(symbol_size=s, window=window, chunk=chunk, threads=None))
        inputs: dict[str, np.ndarray | torch.Tensor] = {}
        if gpu is not None:
            codec = lzss_codec(symbol_size=s, window=window, chunk=chunk, backend="torch", device=gpu)
            codecs.append(codec)
            inputs[codec.name] = torch.from_numpy(np.ascontiguousarray(x).copy()).to(gpu)
            if gpu.type == "cuda" and _cuda_ready():
                codecs.append(lzss_codec(symbol_size=s, window=window, chunk=chunk, backend="cuda"))
        shuffle_e = x.dtype.itemsize if shuffled and x.dtype.itemsize in SHUFFLE_SIZES[1:] else 0
        if shuffle_e:
            codecs.append(
                lzss_codec(symbol_size=1, window=window, chunk=chunk, shuffle=shuffle_e, threads=1, name=SHUFFLE_CODEC)
            )
        if peers:
            found, missing = peer_codecs(x.dtype.itemsize, shuffled=shuffled)
            codecs += found
            notes += [m for m in missing if m not in notes]
        raw = _raw(x)
        timings: dict[str, tuple[list[float], list[float]]] = {c.name: ([], []) for c in codecs}
        blobs: dict[str, bytes] = {}
        for c in codecs:  # warm-up (numba's cache, CUDA kernels) and the blob
            blobs[c.name] = c.compress(inputs.get(c.name, x))
        for _ in range(repeats):  # interleaved rounds
            for c in codecs:
                _, comp, decomp = time_codec_once(c, inputs.get(c.name, x), blobs[c.name])
                timings[c.name][0].append(comp)
                if decomp is not None:
                    timings[c.name][1].append(decomp)
        cpu_blob = blobs[codecs[0].name]
        for c in codecs:
            comp_s, decomp_s = timings[c.name]
            comp = _median_iqr([len(raw) / t / 1e6 for t in comp_s])
            decomp = _median_iqr([len(raw) / t / 1e6 for t in decomp_s]) if decomp_s else (None, None)
            extra: dict[str, object] = {}
            if c.name == SHUFFLE_CODEC:
                extra["S"], extra["shuffle"] = 1, shuffle_e
            elif c.name.startswith("effdl lzss"):
                extra["S"] = s
            if c.decompress is None or c.name == "effdl lzss cuda":
                extra["identical"] = blobs[c.name] == cpu_blob
            ok = None if c.decompress is None else c.decompress(blobs[c.name]) == raw
            results.append(
                Result(name, c.name, len(raw), len(blobs[c.name]), comp[0], comp[1], decomp[0], decomp[1], ok, extra)
            )
    return results, notes


def time_codec_once(c: Codec, x: np.ndarray | torch.Tensor, blob: bytes) -> tuple[bytes, float, float | None]:
    """One timed compression of ``x`` and (if the codec has a decoder) one timed decompression of ``blob``."""
    t0 = time.perf_counter()
    out = c.compress(x)
    comp = time.perf_counter() - t0
    if c.decompress is None:
        return out, comp, None
    t0 = time.perf_counter()
    c.decompress(blob)
    return out, comp, time.perf_counter() - t0


def sweep(
    x: np.ndarray,
    *,
    windows: Sequence[int] = (32, 64, 128, 192, 255),
    chunks: Sequence[int] = (512, 1024, 2048, 4096, 8192),
    symbol_sizes: Sequence[int] = (1, 2, 4),
    window: int = 128,
    chunk: int = 2048,
    symbol_size: int | None = None,
    repeats: int = 3,
) -> list[dict[str, object]]:
    """The codec's parameters one at a time on ``x`` (the others at ``window``, ``chunk`` and ``symbol_size``,
    default: :func:`~effdl.hardware.lzss.choose_symbol_size`'s pick), ``cpu`` backend on one thread.

    Returns one dict per point: ``param`` ("W", "C" or "S"), ``value``, ``ratio``, ``compress MB/s`` and
    ``decompress MB/s`` (medians of ``repeats``). ``chunks`` must be multiples of 4 so every S fits.
    """
    repeats = _check_repeats(repeats)
    s0 = choose_symbol_size(x, window=window, chunk=chunk) if symbol_size is None else symbol_size
    points = (
        [("W", w, {"symbol_size": s0, "window": w, "chunk": chunk}) for w in windows]
        + [("C", c, {"symbol_size": s0, "window": window, "chunk": c}) for c in chunks]
        + [("S", s, {"symbol_size": s, "window": window, "chunk": chunk}) for s in symbol_sizes]
    )
    rows = []
    n = np.ascontiguousarray(x).nbytes
    for param, value, kw in points:
        blob, comp, decomp = time_codec(lzss_codec(threads=1, **kw), x, repeats=repeats)  # type: ignore[arg-type]
        rows.append(
            {
                "param": param,
                "value": value,
                "ratio": n / len(blob),
                "compress MB/s": float(np.median([n / t / 1e6 for t in comp])),
                "decompress MB/s": float(np.median([n / t / 1e6 for t in decomp])),
            }
        )
    return rows
