"""The ``torch`` backend: the GPULZ data-parallel design in tensor ops; runs on whatever device the input is on.

1. Match finding, all positions at once: for a block of offsets ``d`` (a 2-D ``(offsets, positions)`` tensor),
   ``eq[d, i] = sym[i] == sym[i − d]`` where ``i − d`` lies in ``i``'s chunk; the match length at ``i`` is the distance
   to the next ``False`` (a ``cummax`` over the reversed sequence), capped at 255 — a chunk's first symbol never
   matches, so runs stop at chunk ends by themselves. Lengths and offsets are folded into one key
   ``length·256 + (255 − d)`` whose maximum over offsets is the longest match, nearest on ties: the reference's rule.
2. Greedy parse, chunks in lock-step: one position per chunk advances by its token's length each step (≤ C/S steps).
3. Packing with prefix sums: per-token sizes (S for a literal, 2 for a match) and per-chunk flag/data sizes are
   turned into offsets with ``torch.cumsum``; a chunk whose coded size is not below its raw size is marked stored
   (0 flag bytes, its raw bytes as data); flags are scattered bit by bit and data bytes by index.

The output equals the reference's byte for byte; only the CRC32 (zlib) and the final join run on the host. The
optional byte-shuffle filter (:func:`effdl.hardware.lzss.format.shuffle`, a reshape + transpose) runs on the device
before step 1.
"""

from __future__ import annotations

import zlib

import torch
from torch import Tensor

from effdl.hardware.lzss.format import MAX_MATCH, Header, chunk_count, finish, min_match, shuffle

__all__ = ["compress"]

_BLOCK_ELEMENTS = 1 << 23  # offsets × positions per match-finding block: bounds the temporaries (~64 MiB each)
_SYNC_EVERY = 64  # lock-step iterations between "are all chunks done?" checks (each check syncs a GPU)


def _symbols(raw: Tensor, symbol_size: int) -> Tensor:
    """int64[m / S]: little-endian S-byte symbols of ``raw`` (uint8, length a multiple of S)."""
    body = raw.to(torch.int64).view(-1, symbol_size)
    sym = body[:, 0].clone()
    for b in range(1, symbol_size):
        sym |= body[:, b] << (8 * b)
    return sym


def _best_matches(sym: Tensor, window: int, chunk_symbols: int) -> tuple[Tensor, Tensor]:
    """(length, offset), int64[N] each: every position's longest match within its chunk, nearest on ties.

    Works on the reversed sequence ``r[i'] = sym[N − 1 − i']``, where "the run of matches starting at i" becomes "the
    run ending at i'", i.e. the distance to the last non-match: a forward ``cummax``. Tricks that keep the big
    (offsets, positions) temporaries few: the chunk id is folded into the symbol (so equal means same chunk, no mask),
    the shifted copies are one ``as_strided`` view, and a sentinel column of non-matches in front of every row lets
    one flat ``cummax`` serve all rows.
    """
    n = sym.numel()
    device = sym.device
    last = min(window, chunk_symbols - 1)  # a match needs its source in the chunk: d ≤ local ≤ C/S − 1
    block = max(1, min(last, _BLOCK_ELEMENTS // (n + 1)))
    chunk_id = torch.arange(n, device=device) // chunk_symbols
    tagged = sym | (chunk_id << 32)  # ≥ 0; sym < 2**32
    # e[0] = −1 is the sentinel column (never equal), e[1 + i'] = reversed symbols, then −2 padding (never equal)
    e = torch.cat([tagged.new_full((1,), -1), tagged.flip(0), tagged.new_full((last + 1,), -2)])
    cols = n + 1
    itype = torch.int32 if block * cols < (1 << 31) else torch.int64
    best = torch.zeros(cols, dtype=itype, device=device)
    for d0 in range(1, last + 1, block):
        b = min(block, last + 1 - d0)
        shifted = e.as_strided((b, cols), (1, 1), d0)  # shifted[r, x] = e[x + d0 + r]: position i − d
        eq = torch.empty((b, cols), dtype=torch.bool, device=device)
        torch.eq(shifted, e[:cols], out=eq)  # row-major output: the layout the flat cummax needs
        flat = torch.arange(b * cols, device=device, dtype=itype).view(b, cols)
        last_stop = torch.where(eq, -1, flat).view(-1).cummax(0).values.view(b, cols)
        length = (flat - last_stop).clamp_(max=MAX_MATCH)
        d = torch.arange(d0, d0 + b, device=device, dtype=itype)[:, None]
        best = torch.maximum(best, ((length << 8) | (255 - d)).amax(0))  # max key: longest, then smallest offset
    best = best[1:].flip(0).to(torch.int64)
    return best >> 8, 255 - (best & 255)


def _greedy_starts(step: Tensor, n: int, chunk_symbols: int) -> Tensor:
    """bool[N]: token starts of the greedy parse, all chunks advanced in lock-step."""
    device = step.device
    k = -(-n // chunk_symbols)
    pos = torch.arange(k, device=device) * chunk_symbols
    end = (pos + chunk_symbols).clamp_(max=n)
    step = torch.cat([step, step.new_zeros(1)])  # slot n: a finished last chunk parks there
    start = torch.zeros(n + 1, dtype=torch.bool, device=device)
    for it in range(chunk_symbols):
        # a finished chunk sits on the next chunk's first symbol (a token start anyway) or on slot n
        start[pos] = True
        pos = torch.where(pos < end, pos + step[pos], pos)
        if it % _SYNC_EVERY == _SYNC_EVERY - 1 and not bool((pos < end).any()):
            break
    return start[:n]


def compress(raw: Tensor, symbol_size: int, window: int, chunk: int, shuffle_size: int = 0) -> bytes:
    """Compress ``raw`` (uint8[n] on any device) with validated parameters (``shuffle_size``: the filter's E, 0 for
    none; the filter runs on ``raw``'s device, a transpose); returns the blob."""
    n = raw.numel()
    header = Header(symbol_size, window, chunk, n, chunk_count(n, symbol_size, chunk), shuffle_size)
    crc = zlib.crc32(raw.cpu().numpy())  # of the original bytes (zlib runs on the host)
    original = raw
    raw = shuffle(raw, shuffle_size)  # type: ignore[assignment]
    tail = raw[n - header.tail :].cpu().numpy().tobytes()
    if header.chunks == 0:
        return finish(header, [], [], b"", b"", tail, crc, lambda: original.cpu().numpy().tobytes())
    s, cs, k = symbol_size, header.chunk_symbols, header.chunks
    device = raw.device
    sym = _symbols(raw[: n - header.tail], s)
    length, offset = _best_matches(sym, window, cs)
    is_match = length >= min_match(s)
    starts = _greedy_starts(torch.where(is_match, length, 1), sym.numel(), cs)

    # tokens in stream order (chunk by chunk, left to right): sizes → offsets by prefix sums
    tok = torch.nonzero(starts).squeeze(1)
    tok_chunk = tok // cs
    tok_match = is_match[tok]
    tok_bytes = torch.where(tok_match, 2, s)
    per_chunk = torch.zeros(k, dtype=torch.int64, device=device).index_add_(0, tok_chunk, torch.ones_like(tok))
    t_local = torch.arange(tok.numel(), device=device) - (torch.cumsum(per_chunk, 0) - per_chunk)[tok_chunk]
    coded_flags = (per_chunk + 7) // 8
    coded_data = torch.zeros(k, dtype=torch.int64, device=device).index_add_(0, tok_chunk, tok_bytes)
    coded_at = torch.cumsum(tok_bytes, 0) - tok_bytes  # token's offset in all chunks' coded data, in stream order
    coded_at -= (torch.cumsum(coded_data, 0) - coded_data)[tok_chunk]  # … rebased to its chunk
    # a chunk whose coding does not pay is stored raw (format.should_store); sizes → offsets by prefix sums
    chunk_bytes = torch.full((k,), cs * s, dtype=torch.int64, device=device)
    chunk_bytes[-1] = (sym.numel() - (k - 1) * cs) * s
    stored = coded_flags + coded_data >= chunk_bytes
    flag_size = torch.where(stored, 0, coded_flags)
    data_size = torch.where(stored, chunk_bytes, coded_data)
    flag_start = torch.cumsum(flag_size, 0) - flag_size
    data_start = torch.cumsum(data_size, 0) - data_size

    keep = ~stored[tok_chunk]  # tokens of coded chunks
    tok, tok_chunk, tok_match, t_local = tok[keep], tok_chunk[keep], tok_match[keep], t_local[keep]
    data_at = data_start[tok_chunk] + coded_at[keep]
    # distinct bits of one byte, so adding them is OR-ing them
    flags = torch.zeros(int(flag_size.sum()), dtype=torch.int64, device=device)
    flags.index_add_(0, flag_start[tok_chunk] + t_local // 8, tok_match.to(torch.int64) << (t_local % 8))
    data = torch.empty(int(data_size.sum()), dtype=torch.uint8, device=device)
    lit, mat = tok[~tok_match], tok[tok_match]
    lit_at, mat_at = data_at[~tok_match], data_at[tok_match]
    for b in range(s):
        data[lit_at + b] = raw[lit * s + b]
    data[mat_at] = length[mat].to(torch.uint8)
    data[mat_at + 1] = offset[mat].to(torch.uint8)
    if bool(stored.any()):  # stored chunks: their raw bytes, compacted to their data offsets
        src = torch.nonzero(stored.repeat_interleave(chunk_bytes)).squeeze(1)  # byte indices of stored chunks
        src_chunk = src // (cs * s)
        data[data_start[src_chunk] + src - src_chunk * (cs * s)] = raw[src]
    return finish(
        header,
        flag_size.cpu().numpy(),
        data_size.cpu().numpy(),
        flags.to(torch.uint8).cpu().numpy(),
        data.cpu().numpy(),
        tail,
        crc,
        lambda: original.cpu().numpy().tobytes(),
    )
