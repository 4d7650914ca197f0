"""The ``cpu`` backend: numba kernels, parallel over chunks, byte-identical to the reference.

Compression finds the reference's match (longest, nearest on ties) without trying all ``W`` offsets, with hash
chains (``head[key]`` = latest position with that key, ``prev[i]`` = the one before), two sets of them. The *short*
chains are keyed by the minimum match (a byte pair for S = 1, exact; one symbol otherwise, exact for S = 2): their
nearest entry that matches is the nearest minimum-length match, and without one there is no match at all — on data
LZSS cannot compress, the common case, that one lookup is all a position costs. Only when it finds one do the *long*
chains (keyed by one symbol more, hashed to 16 bits) search for a longer match: every such match starts with the
long key, so walking its chain nearest first, up to the window, with a strict ``>`` finds the longest and, among
equally long, the nearest — the reference's tie-break. A candidate whose symbol at the current best length differs
cannot be longer and is skipped without comparing (zlib's check). Keying the long search by three bytes for S = 1
keeps its walks short where byte pairs repeat every few positions (the zero high bytes of int32 CSR indices).
Chunks are split into contiguous groups, so a group allocates its 64 Ki-entry ``head`` tables once and never clears
them (an entry older than the current chunk's start is simply out of range). Each chunk writes into a slot of a
worst-case-sized buffer (``C`` data bytes, ``ceil(C/S/8)`` flag bytes); prefix sums of the sizes then place the
compaction copies, again in parallel. A chunk whose flags and data are not smaller than its raw bytes is written
stored (raw, no flags).

Decompression decodes each chunk with every check of the reference decoder; a chunk reports an error code instead of
raising inside the kernel, and the caller raises :class:`LZSSFormatError`.

Parallelism: the group kernels are ``nogil`` and run on a small thread pool (``NUMBA_NUM_THREADS`` threads, or fewer
after :func:`set_threads`, 4 groups each; inputs under 16 chunks stay on the calling thread). Not
``parallel=True``/``prange``: on a busy machine (2 cores shared with pytest-xdist workers) numba's OpenMP layer
spin-waits, and a 2 MB compression measured 45 ms with ``prange`` against 6 ms on one thread; sleeping pool threads
do not have that failure mode. Everything is compiled once per machine (``cache=True``) for a single signature:
symbols are always uint32, whatever ``S``.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from effdl.hardware.lzss.format import (
    MAX_MATCH,
    Header,
    LZSSFormatError,
    check_crc,
    chunk_count,
    finish,
    shuffle,
    symbols,
    unpack,
    unshuffle,
)

try:
    import numba
except ImportError:  # the package depends on numba; this keeps the other backends usable without it
    numba = None

__all__ = ["AVAILABLE", "compress", "decompress", "require", "set_threads"]

AVAILABLE = numba is not None
_HASH_SIZE = 1 << 16
_GROUPS_PER_THREAD = 4  # several groups per thread balance chunks of uneven cost
_MIN_CHUNKS_PER_GROUP = 8  # below this a thread hand-off costs more than it saves


def require() -> None:
    """Raise ``ImportError`` with the fix when numba is missing."""
    if not AVAILABLE:
        raise ImportError(
            "backend='cpu' needs numba (pip install 'numba>=0.60'); use backend='torch' or 'reference' without it"
        )


def _compress_group(sym, raw, symbol_size, window, chunk_symbols, c0, c1, flags_tmp, data_tmp, flag_size, data_size):
    """Greedy-parse chunks c0..c1-1 into their slots of the worst-case buffers (one group)."""
    n_sym = sym.size
    flag_slot = (chunk_symbols + 7) // 8
    data_slot = chunk_symbols * symbol_size
    short = 2 if symbol_size == 1 else 1  # format.min_match: the shortest match worth a token
    long = short + 1
    # short chains (keys of `short` symbols) find the nearest minimum-length match, long chains (keys of `long`
    # symbols) every longer one. Heads hold global positions: one < the chunk's start means "none".
    head_l = np.full(_HASH_SIZE, -1, np.int64)
    prev_l = np.empty(chunk_symbols, np.int64)
    head_s = np.full(_HASH_SIZE, -1, np.int64)
    prev_s = np.empty(chunk_symbols, np.int64)
    for c in range(c0, c1):
        start = c * chunk_symbols
        end = min(start + chunk_symbols, n_sym)
        fo = c * flag_slot
        do = c * data_slot
        j = start
        t = 0
        dp = 0
        while j < end:
            limit = min(MAX_MATCH, end - j)
            best = 0
            best_off = 0
            kl = -1
            ks = -1
            if limit >= short:
                # the nearest minimum-length match first: without one there is no longer one either, and on data
                # LZSS cannot compress (most positions) that one lookup is all a position costs
                ks = _key_short(sym, j, symbol_size)
                p = head_s[ks]
                while p >= start and j - p <= window:
                    if sym[p] == sym[j] and (short == 1 or sym[p + 1] == sym[j + 1]):
                        best = short
                        best_off = j - p
                        break
                    p = prev_s[p - start]
            if limit >= long:
                kl = _key_long(sym, j, symbol_size)
                if best:  # a longer match, if any: the longest, nearest on ties
                    p = head_l[kl]
                    while p >= start and j - p <= window:
                        if sym[p + best] != sym[j + best]:  # cannot be longer than best (zlib's check)
                            p = prev_l[p - start]
                            continue
                        n = 0
                        while n < limit and sym[p + n] == sym[j + n]:
                            n += 1
                        if n > best:  # n ≥ long here: best ≥ short and sym[p + best] matched
                            best = n
                            best_off = j - p
                            if n == limit:
                                break
                        p = prev_l[p - start]
            if best:
                flags_tmp[fo + (t >> 3)] |= np.uint8(1 << (t & 7))
                data_tmp[do + dp] = best
                data_tmp[do + dp + 1] = best_off
                dp += 2
                step = best
            else:
                for b in range(symbol_size):
                    data_tmp[do + dp + b] = raw[j * symbol_size + b]
                dp += symbol_size
                step = 1
            # every position enters the chains, also those inside a match: later matches may start there
            for q in range(j, j + step):
                if q + long <= end:  # a key needs its symbols inside the chunk
                    key = kl if q == j else _key_long(sym, q, symbol_size)
                    prev_l[q - start] = head_l[key]
                    head_l[key] = q
                if q + short <= end:
                    key = ks if q == j else _key_short(sym, q, symbol_size)
                    prev_s[q - start] = head_s[key]
                    head_s[key] = q
            j += step
            t += 1
        raw_bytes = (end - start) * symbol_size
        if ((t + 7) >> 3) + dp >= raw_bytes:  # format.should_store: coding did not pay, store the chunk raw
            for b in range(raw_bytes):
                data_tmp[do + b] = raw[start * symbol_size + b]
            flag_size[c] = 0
            data_size[c] = raw_bytes
        else:
            flag_size[c] = (t + 7) >> 3
            data_size[c] = dp


def _key_long_impl(sym, j, symbol_size):
    """16-bit key (Knuth's multiplicative hash) of the symbols at j..j+min_match: three bytes for S = 1, a pair of
    symbols otherwise."""
    if symbol_size == 1:
        v = (np.int64(sym[j]) | (np.int64(sym[j + 1]) << 8) | (np.int64(sym[j + 2]) << 16)) * 2654435761
        return (v & 0xFFFFFFFF) >> 16
    v = ((np.int64(sym[j]) * 2654435761) ^ np.int64(sym[j + 1])) & 0xFFFFFFFF
    return ((v * 2246822519) & 0xFFFFFFFF) >> 16


def _key_short_impl(sym, j, symbol_size):
    """16-bit key of the min_match symbols at j: the byte pair for S = 1 and the symbol for S = 2 (both exact),
    hashed for S = 4."""
    if symbol_size == 1:
        return np.int64(sym[j]) | (np.int64(sym[j + 1]) << 8)
    if symbol_size == 2:
        return np.int64(sym[j])
    return ((np.int64(sym[j]) * 2654435761) & 0xFFFFFFFF) >> 16


def _compact_group(tmp, slot, size, end, out, c0, c1):
    """Copy chunks c0..c1-1 from their worst-case slots to their prefix-sum offsets in ``out``."""
    for c in range(c0, c1):
        out[end[c] - size[c] : end[c]] = tmp[c * slot : c * slot + size[c]]


def _decompress_group(
    flags, data, flag_end, data_end, n_symbols, symbol_size, window, chunk_symbols, out, status, c0, c1
):
    """Decode chunks c0..c1-1 into ``out``; ``status[c]`` = 0 or the error code of chunk c (see ``_ERRORS``)."""
    shortest = 2 if symbol_size == 1 else 1
    for c in range(c0, c1):
        fs = flag_end[c - 1] if c else 0
        fe = flag_end[c]
        dp = data_end[c - 1] if c else 0
        de = data_end[c]
        n = n_symbols[c]
        base = c * chunk_symbols * symbol_size
        j = 0
        t = 0
        err = 0
        if fe == fs:  # stored: no flag bytes, the chunk's raw bytes
            if de - dp != n * symbol_size:
                status[c] = 9
            else:
                for b in range(n * symbol_size):
                    out[base + b] = data[dp + b]
                status[c] = 0
            continue
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
                dst = base + j * symbol_size
                src = dst - offset * symbol_size
                for b in range(length * symbol_size):  # forward, byte by byte: overlapping copies repeat the period
                    out[dst + b] = out[src + b]
                j += length
            else:
                if dp + symbol_size > de:
                    err = 5
                    break
                for b in range(symbol_size):
                    out[base + j * symbol_size + b] = data[dp + b]
                dp += symbol_size
                j += 1
            t += 1
        if err == 0:
            if fe - fs != (t + 7) >> 3:
                err = 6
            elif (t & 7) and (np.int64(flags[fe - 1]) >> (t & 7)) != 0:
                err = 7
            elif dp != de:
                err = 8
        status[c] = err


_ERRORS = {
    1: "flag bytes end before the chunk is complete",
    2: "data bytes end inside a match token",
    3: "match length out of range",
    4: "match offset out of range (before the chunk start or beyond the window)",
    5: "data bytes end inside a literal token",
    6: "flag byte count does not match the token count",
    7: "unused flag bits are not zero",
    8: "data bytes left over",
    9: "a stored chunk (no flag bytes) does not hold exactly its raw bytes",
}

if AVAILABLE:
    # nogil: the groups run on a thread pool, truly in parallel (see the module docstring for why not prange)
    _key_long = numba.njit(cache=True, inline="always")(_key_long_impl)
    _key_short = numba.njit(cache=True, inline="always")(_key_short_impl)
    _compress_group_jit = numba.njit(cache=True, nogil=True)(_compress_group)
    _compact_group_jit = numba.njit(cache=True, nogil=True)(_compact_group)
    _decompress_group_jit = numba.njit(cache=True, nogil=True)(_decompress_group)

_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_thread_cap: int | None = None


def set_threads(n: int | None) -> int | None:
    """Use at most ``n`` threads (an int ≥ 1) for the following calls, or ``None`` for all ``NUMBA_NUM_THREADS``;
    returns the previous setting. ``set_threads(1)`` gives the single-threaded speed peers are compared with."""
    global _thread_cap
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"n must be an int ≥ 1 or None, got {n!r}")
    previous, _thread_cap = _thread_cap, n
    return previous


def _threads() -> int:
    available = max(1, int(numba.config.NUMBA_NUM_THREADS)) if AVAILABLE else 1
    return available if _thread_cap is None else min(available, _thread_cap)


def _parallel(fn: Callable[[int, int], None], k: int) -> None:
    """Run ``fn(c0, c1)`` over chunk ranges covering 0..k-1: on the calling thread when the input is small, else on
    ``_threads()`` pool threads with ``_GROUPS_PER_THREAD`` contiguous groups each (balances uneven chunks)."""
    global _pool, _pool_pid
    groups = min(_GROUPS_PER_THREAD * _threads(), k // _MIN_CHUNKS_PER_GROUP)
    if groups <= 1 or _threads() == 1:
        fn(0, k)
        return
    if _pool is None or _pool_pid != os.getpid():  # a forked child must not reuse the parent's threads
        workers = max(_threads(), int(numba.config.NUMBA_NUM_THREADS))
        _pool, _pool_pid = ThreadPoolExecutor(workers, thread_name_prefix="effdl-lzss"), os.getpid()
    bounds = [g * k // groups for g in range(groups + 1)]
    for future in [_pool.submit(fn, bounds[g], bounds[g + 1]) for g in range(groups)]:
        future.result()


def compress(raw: np.ndarray, symbol_size: int, window: int, chunk: int, shuffle_size: int = 0) -> bytes:
    """Compress ``raw`` (uint8[n]) with validated parameters (``shuffle_size``: the filter's E, 0 for none)."""
    require()
    n = raw.size
    h = Header(symbol_size, window, chunk, n, chunk_count(n, symbol_size, chunk), shuffle_size)
    crc = zlib.crc32(raw)  # of the original bytes; the LZSS stage below sees the shuffled ones
    original = raw
    raw = shuffle(raw, shuffle_size)
    tail = raw[n - h.tail :].tobytes()
    if h.chunks == 0:
        return finish(h, [], [], b"", b"", tail, crc, original.tobytes)
    sym = symbols(raw, symbol_size)
    k, cs = h.chunks, h.chunk_symbols
    flag_slot, data_slot = (cs + 7) // 8, chunk  # worst cases: a flag bit and S bytes per symbol
    flags_tmp = np.zeros(k * flag_slot, np.uint8)
    data_tmp = np.empty(k * data_slot, np.uint8)
    flag_size = np.zeros(k, np.int64)
    data_size = np.zeros(k, np.int64)
    _parallel(
        lambda c0, c1: _compress_group_jit(
            sym, raw, symbol_size, window, cs, c0, c1, flags_tmp, data_tmp, flag_size, data_size
        ),
        k,
    )
    flag_end, data_end = np.cumsum(flag_size), np.cumsum(data_size)  # the prefix sums that place every chunk
    flags = np.empty(flag_end[-1], np.uint8)
    data = np.empty(data_end[-1], np.uint8)

    def compact(c0: int, c1: int) -> None:
        _compact_group_jit(flags_tmp, flag_slot, flag_size, flag_end, flags, c0, c1)
        _compact_group_jit(data_tmp, data_slot, data_size, data_end, data, c0, c1)

    _parallel(compact, k)
    return finish(h, flag_size, data_size, flags, data, tail, crc, original.tobytes)


def _readonly(a: np.ndarray) -> np.ndarray:
    """A read-only view, so numba compiles one signature whether the blob was bytes or bytearray."""
    v = a.view()
    v.flags.writeable = False
    return v


def decompress(blob: bytes | bytearray | memoryview | np.ndarray) -> bytes:
    """Decode a blob; raises :class:`LZSSFormatError` on anything but a valid container."""
    require()
    box = unpack(blob)
    h = box.header
    out = np.empty(h.length, np.uint8)  # bounded by unpack's checks
    if h.chunks:
        status = np.zeros(h.chunks, np.int64)
        flags, data, n_symbols = _readonly(box.flags), _readonly(box.data), h.symbols_per_chunk()
        _parallel(
            lambda c0, c1: _decompress_group_jit(
                flags,
                data,
                box.flag_end,
                box.data_end,
                n_symbols,
                h.symbol_size,
                h.window,
                h.chunk_symbols,
                out,
                status,
                c0,
                c1,
            ),
            h.chunks,
        )
        bad = np.flatnonzero(status)
        if bad.size:
            c = int(bad[0])
            raise LZSSFormatError(f"chunk {c}: {_ERRORS[int(status[c])]}")
    out[h.length - h.tail :] = np.frombuffer(box.tail, np.uint8)
    out = unshuffle(out, h.shuffle)
    check_crc(out, box.crc)
    return out.tobytes()
