"""The ``cuda`` backend: GPULZ's kernels in numba-cuda, byte-identical to the reference, with a CUDA decoder.

Compression (:func:`encode`, four launches, all asynchronous on the default stream):

1. ``_encode_kernel`` — one thread block per chunk (grid-stride over chunks when there are more than
   ``MAX_GRID``). The block walks its chunk in *tiles* of ``blockDim`` positions: it loads the tile's symbols, the
   ``W`` before them and the 255 after them into shared memory (symbols assembled from ``S`` little-endian bytes,
   so an int16 is matched as one value — GPULZ's multi-byte symbols), then every thread finds the match of its own
   position with the reference's rule: offsets ``d = 1..min(W, j)`` nearest first, a strict ``>`` keeps the
   longest and, among equally long, the nearest; a candidate whose symbol at the current best length differs is
   skipped with one compare (zlib's check), and a match as long as the chunk allows ends the search. Then thread 0
   runs the greedy parse over the tile from shared memory, writing flag bytes and data bytes into the chunk's
   worst-case slot in global memory, and the next tile starts where the parse stands (so no position behind the
   parse is matched twice). *Fusion*: match finding, the parse and the per-chunk sizes are one kernel, so the
   per-position matches never go through global memory (GPULZ's separate "find" and "encode" passes become one).
   A chunk whose flags and data reach its raw size is stored; the parse stops as soon as that is certain (sizes only
   grow), and the stored chunk's bytes are never copied into the slot: the compaction reads them from the input.
2. ``_scan_kernel`` / ``_add_kernel`` — the device-wide prefix sum of the per-chunk flag and data sizes (both rows in
   one launch): each block scans ``blockDim × SCAN_ITEMS`` values (a per-thread serial scan, then a Hillis–Steele
   scan in shared memory), block totals are scanned recursively, and a second pass adds them back. The inclusive
   sums are the container's ``flag_end``/``data_end`` tables as they are.
3. ``_compact_kernel`` — one block per chunk copies its flag bytes and data bytes (or, for a stored chunk, its input
   bytes) to their prefix-sum offsets: the blob's body, flags then data, contiguous on the device.

The host then copies the tables and the body back and :func:`~effdl.hardware.lzss.format.finish` assembles the
blob (or the stored stream when no chunk was coded). The CRC32 is zlib's, on the host, of the original bytes, and
the optional shuffle filter runs on the device for CUDA tensors (a torch transpose), on the host for host data.
Differences from GPULZ: the blob is this package's container (:mod:`.format`: byte-aligned tokens, per-chunk
tables, stored chunks and streams, a CRC), so the output is byte-identical to the other backends'; the worst-case
slots cost ``1.125 ×`` the input in device scratch.

Decompression (:func:`decode`): one block (one warp, 32 threads) per chunk, offsets from the header's tables. The
token walk is sequential, as LZSS is; the warp walks it in lock-step (every lane reads the same flag and data
bytes) and copies each match with all lanes — the ``i``-th byte of a match comes from ``i mod (offset·S)`` bytes
into the period before it, so even an overlapping copy needs no rounds — with one barrier per token, since the
next match may read what this one wrote. Every check of the reference decoder is made (the same error codes as
the ``cpu`` backend); a kernel writes a code per chunk and the host raises
:class:`~effdl.hardware.lzss.format.LZSSFormatError`. The structure (header, tables, sizes, output bound) is checked
on the host by :func:`~effdl.hardware.lzss.format.unpack` before anything is allocated or launched, and the CRC32
after.

Why numba-cuda: it is the same numba as the ``cpu`` backend, so the CPU and GPU kernels are read side by side in one
language, with the same typing rules, and CI runs these kernels without a GPU in numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``, which must be set before ``numba.cuda`` is first imported; the simulator runs every
thread as a Python thread, so :data:`THREADS` shrinks the blocks there — block sizes change speed, never the
output). With numba ≥ 0.61 on a GPU, install ``numba-cuda`` (NVIDIA's maintained target, which takes over
``numba.cuda``).
"""

from __future__ import annotations

import contextlib
import os
import warnings
import zlib
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from effdl.hardware.lzss.format import (
    MAX_MATCH,
    MAX_WINDOW,
    Container,
    Header,
    LZSSFormatError,
    check_crc,
    chunk_count,
    finish,
    shuffle,
    unpack,
    unshuffle,
)

if TYPE_CHECKING:
    import torch

try:
    from numba import cuda
except ImportError:  # numba without its CUDA target (numba ≥ 0.61 ships it as the numba-cuda package)
    cuda = None

__all__ = [
    "MAX_GRID",
    "SIMULATED",
    "THREADS",
    "Encoded",
    "available",
    "compress",
    "decode",
    "decompress",
    "encode",
    "require",
]

TILE = 128  # most threads per encode block = positions per tile; sizes the shared arrays (compile-time constants)
SPAN = TILE + MAX_WINDOW + MAX_MATCH  # symbols a tile reads: W behind it, its own, and 255 ahead of it
SCAN_THREADS = 256  # most threads per scan block
SCAN_ITEMS = 4  # values each scan thread adds up serially before the shared-memory scan
MAX_GRID = 1 << 20  # blocks per launch; more chunks are taken grid-stride

try:
    from numba import config as _numba_config

    SIMULATED = bool(getattr(_numba_config, "ENABLE_CUDASIM", 0))
except ImportError:
    SIMULATED = False
SIMULATED = SIMULATED or os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"

# threads per block for each kernel. The simulator runs one Python thread per CUDA thread: small blocks keep it
# fast and still exercise every strided loop and barrier (the output does not depend on these).
THREADS = (
    {"encode": 8, "scan": 4, "compact": 4, "decode": 4}
    if SIMULATED
    else {"encode": TILE, "scan": SCAN_THREADS, "compact": 128, "decode": 32}
)

_available: bool | None = None


def available() -> bool:
    """True when numba can launch CUDA kernels here: a GPU with a driver, or the simulator."""
    global _available
    if _available is None:
        try:
            _available = cuda is not None and bool(cuda.is_available())
        except Exception:  # a broken driver or toolkit is "not available", not a crash
            _available = False
    return _available


def require() -> None:
    """Raise ``ImportError``/``RuntimeError`` with the fix when the ``cuda`` backend cannot run here."""
    if cuda is None:
        raise ImportError(
            "backend='cuda' needs numba's CUDA target (pip install numba-cuda); use backend='cpu' or 'torch' without it"
        )
    if not available():
        why = ""
        with contextlib.suppress(Exception):
            err = cuda.cuda_error()
            why = f" ({err})" if err else ""
        raise RuntimeError(
            f"backend='cuda' needs an NVIDIA GPU that numba can use, and numba finds none{why}. Use backend='cpu' or "
            "'torch' here, or run the kernels in numba's CUDA simulator (slow; for tests) by setting "
            "NUMBA_ENABLE_CUDASIM=1 before numba is imported"
        )


def _jit(fn: Any) -> Any:
    return cuda.jit(fn) if cuda is not None else fn


def _launch(kernel: Any, grid: int | tuple[int, int], threads: int, *args: Any) -> None:
    """``kernel[grid, threads](*args)``, without numba's low-occupancy warning: a small input is a small grid on
    purpose (one block per chunk), not a mistake worth a warning per call."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*under-utilization.*")
        kernel[grid, threads](*args)


# ----------------------------------------------------------------------------------------------------
# Kernels (read them beside cpu.py's: same names for the same quantities). No min()/max() in them: numba's built-in
# CUDA target resolves them through a device overload that fails to type two scalars; conditionals do the same.
# ----------------------------------------------------------------------------------------------------


@_jit
def _encode_kernel(raw, n_symbols, symbol_size, window, chunk_symbols, flags_tmp, data_tmp, ends):
    """Match finding + greedy parse + per-chunk sizes, one block per chunk. ``raw``: uint8[m] (m = n_symbols·S),
    ``flags_tmp``/``data_tmp``: uint8 worst-case slots (``ceil(cs/8)`` and ``cs·S`` bytes per chunk), ``ends``:
    int64[2, k] ← (flag bytes, data bytes) per chunk, 0 flag bytes for a stored chunk."""
    sym = cuda.shared.array(SPAN, np.uint32)  # sym[x − base]: chunk symbol x of the current tile's span
    key = cuda.shared.array(TILE, np.int32)  # per tile position: length << 8 | offset of its best match
    state = cuda.shared.array(1, np.int64)  # the parse position (chunk-local), thread 0 → all threads
    tid = cuda.threadIdx.x
    tile = cuda.blockDim.x
    s = symbol_size
    short = 2 if s == 1 else 1  # format.min_match
    k = (n_symbols + chunk_symbols - 1) // chunk_symbols
    flag_slot = (chunk_symbols + 7) // 8
    data_slot = chunk_symbols * s
    for c in range(cuda.blockIdx.x, k, cuda.gridDim.x):
        start = c * chunk_symbols
        n = n_symbols - start if n_symbols - start < chunk_symbols else chunk_symbols
        raw_bytes = n * s
        fo = c * flag_slot
        do = c * data_slot
        t = 0  # thread 0's parse: tokens so far, data bytes so far, the flag byte being filled
        dp = 0
        acc = 0
        if tid == 0:
            state[0] = 0
        cuda.syncthreads()
        while True:
            p0 = state[0]  # the tile starts where the parse stands
            if p0 >= n:
                break
            base = p0 - window
            hi = p0 + tile + MAX_MATCH if p0 + tile + MAX_MATCH < n else n
            lo = base if base > 0 else 0
            for x in range(lo + tid, hi, tile):
                at = (start + x) * s
                v = np.uint32(raw[at])
                for b in range(1, s):
                    v |= np.uint32(raw[at + b]) << np.uint32(8 * b)
                sym[x - base] = v
            cuda.syncthreads()
            j = p0 + tid
            best = 0
            off = 0
            if j < n:
                limit = n - j if n - j < MAX_MATCH else MAX_MATCH
                q = j - base
                reach = j if j < window else window
                for d in range(1, reach + 1):  # nearest first; strict > keeps the nearest of the longest
                    if sym[q + best - d] != sym[q + best]:  # cannot be longer than best (for best = 0: no match)
                        continue
                    m = 0
                    while m < limit and sym[q + m - d] == sym[q + m]:
                        m += 1
                    if m > best:
                        best = m
                        off = d
                        if m == limit:  # nothing can be longer
                            break
            key[tid] = (best << 8) | off
            cuda.syncthreads()
            if tid == 0:
                j = p0
                end = p0 + tile if p0 + tile < n else n
                while j < end:
                    length = key[j - p0] >> 8
                    if length >= short:
                        acc |= 1 << (t & 7)
                        data_tmp[do + dp] = length
                        data_tmp[do + dp + 1] = key[j - p0] & 255
                        dp += 2
                        j += length
                    else:
                        at = (start + j) * s
                        for b in range(s):
                            data_tmp[do + dp + b] = raw[at + b]
                        dp += s
                        j += 1
                    t += 1
                    if (t & 7) == 0:
                        flags_tmp[fo + (t >> 3) - 1] = acc
                        acc = 0
                if ((t + 7) >> 3) + dp >= raw_bytes:  # sizes only grow: the chunk will be stored, stop here
                    j = n
                state[0] = j
            cuda.syncthreads()
        if tid == 0:
            if t & 7:
                flags_tmp[fo + (t >> 3)] = acc
            fb = (t + 7) >> 3
            if fb + dp >= raw_bytes:  # format.should_store (ties store)
                ends[0, c] = 0
                ends[1, c] = raw_bytes
            else:
                ends[0, c] = fb
                ends[1, c] = dp
        cuda.syncthreads()  # state[0] is reset for the next chunk only after every thread has left this one


@_jit
def _scan_kernel(values, totals):
    """In place, per row (``blockIdx.y``): inclusive scan of this block's ``blockDim × SCAN_ITEMS`` values of
    ``values`` (int64[rows, m]); the block's total → ``totals[row, blockIdx.x]``."""
    sh = cuda.shared.array(SCAN_THREADS, np.int64)
    row = cuda.blockIdx.y
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    m = values.shape[1]
    first = (cuda.blockIdx.x * nt + tid) * SCAN_ITEMS
    last = first + SCAN_ITEMS if first + SCAN_ITEMS < m else m
    acc = np.int64(0)
    for i in range(first, last):
        acc += values[row, i]
        values[row, i] = acc
    sh[tid] = acc
    cuda.syncthreads()
    step = 1
    while step < nt:  # Hillis–Steele: log2(blockDim) rounds
        v = sh[tid - step] if tid >= step else np.int64(0)
        cuda.syncthreads()
        sh[tid] += v
        cuda.syncthreads()
        step *= 2
    before = sh[tid - 1] if tid > 0 else np.int64(0)
    for i in range(first, last):
        values[row, i] += before
    if tid == nt - 1:
        totals[row, cuda.blockIdx.x] = sh[tid]


@_jit
def _add_kernel(values, totals):
    """Second pass of the scan: block ``b ≥ 1`` of every row adds the scanned total of the blocks before it."""
    row = cuda.blockIdx.y
    b = cuda.blockIdx.x + 1
    nt = cuda.blockDim.x
    m = values.shape[1]
    add = totals[row, b - 1]
    first = b * nt * SCAN_ITEMS
    stop = first + nt * SCAN_ITEMS if first + nt * SCAN_ITEMS < m else m
    for i in range(first + cuda.threadIdx.x, stop, nt):
        values[row, i] += add


@_jit
def _compact_kernel(raw, symbol_size, chunk_symbols, flags_tmp, data_tmp, ends, body):
    """Chunk ``c``'s flag bytes → ``body[flag_end[c−1]:flag_end[c]]``, its data bytes (its input bytes when stored)
    → ``body[F + data_end[c−1]:F + data_end[c]]``; ``ends``: the inclusive prefix sums, int64[2, k]."""
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    k = ends.shape[1]
    total_flags = ends[0, k - 1]
    flag_slot = (chunk_symbols + 7) // 8
    data_slot = chunk_symbols * symbol_size
    for c in range(cuda.blockIdx.x, k, cuda.gridDim.x):
        f0 = ends[0, c - 1] if c > 0 else np.int64(0)
        f1 = ends[0, c]
        d0 = ends[1, c - 1] if c > 0 else np.int64(0)
        d1 = ends[1, c]
        src = c * flag_slot
        for i in range(tid, f1 - f0, nt):
            body[f0 + i] = flags_tmp[src + i]
        dst = total_flags + d0
        src = c * data_slot  # the chunk's slot, and also where its bytes start in the input
        if f1 == f0:
            for i in range(tid, d1 - d0, nt):
                body[dst + i] = raw[src + i]
        else:
            for i in range(tid, d1 - d0, nt):
                body[dst + i] = data_tmp[src + i]


@_jit
def _decode_kernel(flags, data, ends, n_symbols, symbol_size, window, chunk_symbols, out, status):
    """Decode every chunk into ``out`` (uint8[n_symbols·S]); ``status[c]`` ← 0 or chunk c's error code (the ``cpu``
    backend's codes, ``cpu._ERRORS``). Control flow is uniform across the block: every thread reads the same
    bytes, so all take the same branches and meet at every barrier."""
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    s = symbol_size
    shortest = 2 if s == 1 else 1
    k = ends.shape[1]
    for c in range(cuda.blockIdx.x, k, cuda.gridDim.x):
        fs = ends[0, c - 1] if c > 0 else np.int64(0)
        fe = ends[0, c]
        dp = ends[1, c - 1] if c > 0 else np.int64(0)
        de = ends[1, c]
        start = c * chunk_symbols
        n = n_symbols - start if n_symbols - start < chunk_symbols else chunk_symbols
        base = start * s
        err = 0
        if fe == fs:  # stored: exactly the chunk's raw bytes (unpack checked it; checked again, as the cpu does)
            if de - dp != n * s:
                err = 9
            else:
                for i in range(tid, n * s, nt):
                    out[base + i] = data[dp + i]
        else:
            j = 0
            t = 0
            while j < n:  # every token writes ≥ 1 symbol, so this loop ends
                fi = fs + (t >> 3)
                if fi >= fe:
                    err = 1
                    break
                if (np.int64(flags[fi]) >> (t & 7)) & 1:
                    if dp + 2 > de:
                        err = 2
                        break
                    length = np.int64(data[dp])
                    offset = np.int64(data[dp + 1])
                    dp += 2
                    if length < shortest or length > n - j:
                        err = 3
                        break
                    if offset < 1 or offset > window or offset > j:
                        err = 4
                        break
                    dst = base + j * s
                    dist = offset * s
                    size = length * s
                    if dist >= size:  # no overlap: a plain copy
                        for i in range(tid, size, nt):
                            out[dst + i] = out[dst - dist + i]
                    else:  # overlapping: byte i repeats byte i mod dist of the period before dst
                        for i in range(tid, size, nt):
                            out[dst + i] = out[dst - dist + i % dist]
                    j += length
                else:
                    if dp + s > de:
                        err = 5
                        break
                    for b in range(tid, s, nt):
                        out[base + j * s + b] = data[dp + b]
                    dp += s
                    j += 1
                t += 1
                cuda.syncthreads()  # the next match may read the bytes this token wrote
            if err == 0:
                if fe - fs != (t + 7) >> 3:
                    err = 6
                elif (t & 7) != 0 and (np.int64(flags[fe - 1]) >> (t & 7)) != 0:
                    err = 7
                elif dp != de:
                    err = 8
        if tid == 0:
            status[c] = err


# ----------------------------------------------------------------------------------------------------
# Host side
# ----------------------------------------------------------------------------------------------------


class Encoded(NamedTuple):
    """What :func:`encode` leaves on the device: ``ends`` int64[2, k] (rows: ``flag_end``, ``data_end``, the
    container's inclusive prefix-sum tables) and ``body`` uint8[≥ F + D] (flag bytes, then data bytes)."""

    ends: Any
    body: Any


def _grid(k: int) -> int:
    return max(1, min(k, MAX_GRID))


def _buffer(workspace: dict | None, name: str, shape: int | tuple[int, ...], dtype: type) -> Any:
    """An uninitialized device array; with a ``workspace`` dict, the one kept there under ``name`` when its shape
    matches (so repeated calls, such as a benchmark's, time kernels rather than ``cudaMalloc``)."""
    if workspace is None:
        return cuda.device_array(shape, dtype)
    shape = shape if isinstance(shape, tuple) else (shape,)
    a = workspace.get(name)
    if a is None or a.shape != shape or a.dtype != np.dtype(dtype):
        a = workspace[name] = cuda.device_array(shape, dtype)
    return a


def _scan(values: Any, workspace: dict | None = None, level: int = 0) -> None:
    """Inclusive prefix sum of every row of the device array ``values`` (int64[rows, m]), in place."""
    rows, m = values.shape
    nt = max(1, min(THREADS["scan"], SCAN_THREADS))  # the shared array holds SCAN_THREADS totals
    per_block = nt * SCAN_ITEMS
    blocks = -(-m // per_block)
    totals = _buffer(workspace, f"scan{level}", (rows, blocks), np.int64)
    _launch(_scan_kernel, (blocks, rows), nt, values, totals)
    if blocks > 1:
        _scan(totals, workspace, level + 1)
        _launch(_add_kernel, (blocks - 1, rows), nt, values, totals)


def encode(d_raw: Any, symbol_size: int, window: int, chunk: int, *, workspace: dict | None = None) -> Encoded:
    """Compress the device array ``d_raw`` (uint8[m], ``m`` a positive multiple of ``symbol_size``: the symbol part
    of the (shuffled) input) with validated parameters. Launches the kernels and returns without synchronizing.
    ``workspace``: a dict that keeps the scratch arrays between calls (None: fresh ones)."""
    m = d_raw.shape[0]
    n_symbols = m // symbol_size
    cs = chunk // symbol_size
    k = -(-n_symbols // cs)
    flag_slot = (cs + 7) // 8
    flags_tmp = _buffer(workspace, "flags_tmp", k * flag_slot, np.uint8)
    data_tmp = _buffer(workspace, "data_tmp", k * chunk, np.uint8)
    ends = _buffer(workspace, "ends", (2, k), np.int64)
    _launch(
        _encode_kernel,
        _grid(k),
        max(1, min(THREADS["encode"], TILE)),  # the shared arrays hold TILE positions
        d_raw,
        n_symbols,
        symbol_size,
        window,
        cs,
        flags_tmp,
        data_tmp,
        ends,
    )
    _scan(ends, workspace)
    body = _buffer(
        workspace, "body", k * flag_slot + m, np.uint8
    )  # F ≤ k·ceil(cs/8), D ≤ m: no round trip for the sizes
    _launch(_compact_kernel, _grid(k), THREADS["compact"], d_raw, symbol_size, cs, flags_tmp, data_tmp, ends, body)
    return Encoded(ends, body)


def _device_index(device: object) -> int | None:
    index = getattr(device, "index", None)
    return index if isinstance(index, int) else None


def _on(index: int | None) -> contextlib.AbstractContextManager:
    """The numba context of CUDA device ``index`` (None: numba's current device)."""
    return contextlib.nullcontext() if index is None or SIMULATED else cuda.gpus[index]


def compress(
    raw: np.ndarray | torch.Tensor,
    symbol_size: int,
    window: int,
    chunk: int,
    shuffle_size: int = 0,
    device: torch.device | None = None,
) -> bytes:
    """Compress ``raw`` (uint8[n]: a numpy array, or a torch tensor on the CPU or a CUDA device, where it stays)
    with validated parameters on CUDA device ``device`` (None: the tensor's, else numba's current one)."""
    require()
    n = int(raw.shape[0])
    h = Header(symbol_size, window, chunk, n, chunk_count(n, symbol_size, chunk), shuffle_size)
    m = n - h.tail
    if isinstance(raw, np.ndarray):
        host, on_gpu = raw, None
    elif raw.device.type == "cuda" and not SIMULATED:
        on_gpu = raw if device is None or raw.device == device else raw.to(device)
        host = on_gpu.cpu().numpy()  # for the CRC (zlib, on the host), and the stored stream if it comes to that
    else:
        host, on_gpu = raw.cpu().numpy(), None
    crc = zlib.crc32(host)  # of the original bytes; the LZSS stage sees the shuffled ones
    if h.chunks == 0:
        return finish(h, [], [], b"", b"", host.tobytes(), crc, host.tobytes)
    if on_gpu is not None:
        import torch

        shuffled = shuffle(on_gpu, shuffle_size)  # on the device (a transpose)
        tail = shuffled[m:].cpu().numpy().tobytes()
        body_in = shuffled[:m].contiguous()
        torch.cuda.current_stream(body_in.device).synchronize()  # numba launches on its own (default) stream
        with _on(body_in.device.index):
            enc = encode(cuda.as_cuda_array(body_in), symbol_size, window, chunk)
            return _finish(h, enc, tail, crc, host.tobytes)
    shuffled = shuffle(host, shuffle_size)
    tail = shuffled[m:].tobytes()
    with _on(_device_index(device)):
        enc = encode(cuda.to_device(np.ascontiguousarray(shuffled[:m])), symbol_size, window, chunk)
        return _finish(h, enc, tail, crc, host.tobytes)


def _finish(h: Header, enc: Encoded, tail: bytes, crc: int, original: Any) -> bytes:
    """Copy the tables and the body to the host and assemble the blob (or the stored stream)."""
    flag_end, data_end = enc.ends.copy_to_host()
    f_total, d_total = int(flag_end[-1]), int(data_end[-1])
    flag_size = np.diff(flag_end, prepend=0)
    data_size = np.diff(data_end, prepend=0)
    if f_total == 0:  # nothing coded: finish() makes the stored stream, the body is not needed
        return finish(h, flag_size, data_size, b"", b"", tail, crc, original)
    body = enc.body[: f_total + d_total].copy_to_host()
    return finish(h, flag_size, data_size, body[:f_total], body[f_total:], tail, crc, original)


def _to_device(a: np.ndarray) -> Any:
    """``a`` on the device; a 1-byte placeholder for an empty array (a blob whose chunks are all stored has no flag
    bytes, and the kernel never reads it then)."""
    return cuda.to_device(np.ascontiguousarray(a) if a.size else np.zeros(1, a.dtype))


def decode(d_flags: Any, d_data: Any, d_ends: Any, header: Header, *, workspace: dict | None = None) -> tuple[Any, Any]:
    """Launch the decoder on a structurally checked blob's sections, on the device: ``d_flags``/``d_data`` uint8,
    ``d_ends`` int64[2, k] (``flag_end``, ``data_end``). Returns (out uint8[n_symbols·S], status int32[k]) on the
    device, without synchronizing; a nonzero status is chunk c's error code. ``workspace``: as for :func:`encode`."""
    k = header.chunks
    out = _buffer(workspace, "out", header.n_symbols * header.symbol_size, np.uint8)
    status = _buffer(workspace, "status", k, np.int32)
    h = header
    args = (d_flags, d_data, d_ends, h.n_symbols, h.symbol_size, h.window, h.chunk_symbols, out, status)
    _launch(_decode_kernel, _grid(k), THREADS["decode"], *args)
    return out, status


def upload(box: Container) -> tuple[Any, Any, Any]:
    """The device copies :func:`decode` reads: (flag bytes, data bytes, int64[2, k] tables) of an unpacked blob."""
    return _to_device(box.flags), _to_device(box.data), cuda.to_device(np.stack([box.flag_end, box.data_end]))


def decompress(blob: bytes | bytearray | memoryview | np.ndarray) -> bytes:
    """Decode a blob on the GPU; raises :class:`LZSSFormatError` on anything but a valid container."""
    require()
    from effdl.hardware.lzss.cpu import _ERRORS  # one table of error codes for both kernels

    box = unpack(blob)  # header, tables, sizes and the output bound, before anything is allocated
    h = box.header
    out = np.empty(h.length, np.uint8)
    if h.chunks:
        d_out, d_status = decode(*upload(box), h)
        status = d_status.copy_to_host()
        bad = np.flatnonzero(status)
        if bad.size:
            c = int(bad[0])
            raise LZSSFormatError(f"chunk {c}: {_ERRORS[int(status[c])]}")
        d_out.copy_to_host(out[: h.length - h.tail])
    out[h.length - h.tail :] = np.frombuffer(box.tail, np.uint8)
    out = unshuffle(out, h.shuffle)
    check_crc(out, box.crc)
    return out.tobytes()
