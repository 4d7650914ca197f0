"""The reference backend: plain NumPy/Python, written to be read — the executable specification of the codec.

Every other backend must emit exactly the bytes :func:`compress` emits and accept exactly the blobs
:func:`decompress` accepts. The encoder rule and the layout are documented in :mod:`effdl.hardware.lzss.format`.
It is slow (a Python loop per token): use it on kilobytes, the ``cpu`` or ``torch`` backend on megabytes.
"""

from __future__ import annotations

import zlib
from typing import NamedTuple

import numpy as np

from effdl.hardware.lzss.format import (
    MAX_MATCH,
    Container,
    Header,
    LZSSFormatError,
    check_crc,
    chunk_count,
    finish,
    min_match,
    should_store,
    shuffle,
    symbols,
    unpack,
    unshuffle,
)

__all__ = ["Token", "compress", "decompress", "longest_match", "parse"]


class Token(NamedTuple):
    """One LZSS token. ``symbol``: index of its first symbol in the whole input; ``length`` and ``offset`` in symbols
    (a literal has length 1 and offset 0). A stored chunk is one token of kind ``"stored"`` whose length is the
    chunk's symbol count (offset 0): its bytes are in the blob verbatim, with no flag bits."""

    chunk: int
    symbol: int
    kind: str  # "literal", "match" or "stored"
    length: int
    offset: int


# ----------------------------------------------------------------------------------------------------
# Encoder
# ----------------------------------------------------------------------------------------------------


def longest_match(sym: np.ndarray, j: int, window: int) -> tuple[int, int]:
    """(length, offset) of the longest match for ``sym[j:]`` (one chunk's symbols) starting 1..min(window, j) back.

    Lengths are capped at ``min(255, len(sym) − j)``; among equally long matches the nearest (smallest offset) wins.
    Returns (0, 0) when no offset is possible.
    """
    offsets = np.arange(1, min(window, j) + 1)
    if offsets.size == 0:
        return 0, 0
    lengths = np.zeros(offsets.size, dtype=np.int64)
    alive = np.ones(offsets.size, dtype=bool)  # offsets whose match is still running
    for i in range(min(MAX_MATCH, sym.size - j)):
        alive &= sym[j + i - offsets] == sym[j + i]
        if not alive.any():
            break
        lengths += alive
    best = int(np.argmax(lengths))  # argmax returns the first maximum: the smallest offset
    return int(lengths[best]), int(offsets[best])


def _encode_chunk(sym: np.ndarray, raw: bytes, symbol_size: int, window: int) -> tuple[bytes, bytes]:
    """Greedy parse of one chunk (``sym``: its symbols, ``raw``: its bytes) → (flag bytes, data bytes); stored as
    (no flag bytes, ``raw``) when the parse does not make it smaller."""
    shortest = min_match(symbol_size)
    flags = bytearray((sym.size + 7) // 8)  # upper bound; trimmed to ceil(tokens / 8) below
    data = bytearray()
    j = t = 0
    while j < sym.size:
        length, offset = longest_match(sym, j, window)
        if length >= shortest:
            flags[t // 8] |= 1 << (t % 8)
            data += bytes((length, offset))
            j += length
        else:
            data += raw[j * symbol_size : (j + 1) * symbol_size]
            j += 1
        t += 1
    flags = flags[: (t + 7) // 8]
    if should_store(len(flags), len(data), len(raw)):
        return b"", raw
    return bytes(flags), bytes(data)


def compress(raw: np.ndarray, symbol_size: int, window: int, chunk: int, shuffle_size: int = 0) -> bytes:
    """Compress ``raw`` (uint8[n]) with validated parameters (``shuffle_size``: the filter's E, 0 for none)."""
    n = raw.size
    header = Header(symbol_size, window, chunk, n, chunk_count(n, symbol_size, chunk), shuffle_size)
    crc = zlib.crc32(raw)  # of the original bytes; the LZSS stage below sees the shuffled ones
    original = raw
    raw = shuffle(raw, shuffle_size)
    sym = symbols(raw, symbol_size)
    per_chunk = header.chunk_symbols
    flag_parts, data_parts = [], []
    for c in range(header.chunks):
        lo, hi = c * per_chunk, min((c + 1) * per_chunk, sym.size)
        flags, data = _encode_chunk(sym[lo:hi], raw[lo * symbol_size : hi * symbol_size].tobytes(), symbol_size, window)
        flag_parts.append(flags)
        data_parts.append(data)
    return finish(
        header,
        [len(f) for f in flag_parts],
        [len(d) for d in data_parts],
        b"".join(flag_parts),
        b"".join(data_parts),
        raw[n - header.tail :].tobytes(),
        crc,
        original.tobytes,
    )


# ----------------------------------------------------------------------------------------------------
# Decoder (the blob is untrusted: every field is checked before it is used)
# ----------------------------------------------------------------------------------------------------


def _decode_chunk(
    c: int, flags: bytes, data: bytes, n_sym: int, header: Header, first_symbol: int, tokens: list[Token] | None
) -> bytearray:
    s, w = header.symbol_size, header.window
    if not flags:  # stored: unpack has checked that the data is exactly the chunk's bytes
        if len(data) != n_sym * s:
            raise LZSSFormatError(f"chunk {c}: stored chunk of {len(data)} bytes, expected {n_sym * s}")
        if tokens is not None:
            tokens.append(Token(c, first_symbol, "stored", n_sym, 0))
        return bytearray(data)
    shortest = min_match(s)
    out = bytearray()
    j = t = dp = 0  # symbols written, tokens read, data bytes read
    while j < n_sym:  # every token writes ≥ 1 symbol, so this loop ends
        if t // 8 >= len(flags):
            raise LZSSFormatError(f"chunk {c}: flag bytes end after {t} tokens, {n_sym - j} symbols short")
        if flags[t // 8] >> (t % 8) & 1:
            if dp + 2 > len(data):
                raise LZSSFormatError(f"chunk {c}: data bytes end inside match token {t}")
            length, offset = data[dp], data[dp + 1]
            dp += 2
            if not shortest <= length <= n_sym - j:
                raise LZSSFormatError(f"chunk {c}: match length {length} not in {shortest}..{n_sym - j}")
            if not 1 <= offset <= min(w, j):
                raise LZSSFormatError(f"chunk {c}: match offset {offset} not in 1..{min(w, j)}")
            for _ in range(length * s):  # byte by byte, so an overlapping copy repeats the period
                out.append(out[-offset * s])
            kind = "match"
        else:
            if dp + s > len(data):
                raise LZSSFormatError(f"chunk {c}: data bytes end inside literal token {t}")
            out += data[dp : dp + s]
            dp += s
            length, offset, kind = 1, 0, "literal"
        if tokens is not None:
            tokens.append(Token(c, first_symbol + j, kind, length, offset))
        j += length
        t += 1
    if len(flags) != (t + 7) // 8:
        raise LZSSFormatError(f"chunk {c}: {len(flags)} flag bytes for {t} tokens, expected {(t + 7) // 8}")
    if t % 8 and flags[-1] >> (t % 8):
        raise LZSSFormatError(f"chunk {c}: unused flag bits are not zero")
    if dp != len(data):
        raise LZSSFormatError(f"chunk {c}: {len(data) - dp} data bytes left over")
    return out


def _decode(box: Container, tokens: list[Token] | None) -> bytes:
    h = box.header
    out = bytearray()
    fs, ds = box.flag_start, box.data_start
    for c, n_sym in enumerate(h.symbols_per_chunk()):
        flags = box.flags[fs[c] : box.flag_end[c]].tobytes()
        data = box.data[ds[c] : box.data_end[c]].tobytes()
        out += _decode_chunk(c, flags, data, int(n_sym), h, c * h.chunk_symbols, tokens)
    out += box.tail
    if h.shuffle:
        out = unshuffle(np.frombuffer(out, np.uint8), h.shuffle).tobytes()
    check_crc(out, box.crc)
    return bytes(out)


def decompress(blob: bytes | bytearray | memoryview | np.ndarray) -> bytes:
    """Decode a blob; raises :class:`LZSSFormatError` on anything but a valid container."""
    return _decode(unpack(blob), None)


def parse(blob: bytes | bytearray | memoryview | np.ndarray) -> list[Token]:
    """The blob's tokens in order (fully validated, CRC included): the step-by-step view of what the encoder did.
    With the shuffle filter (``read_header(blob).shuffle > 0``) the tokens' symbols are those of the shuffled bytes.

    A stored chunk appears as one ``"stored"`` token spanning the chunk (see :class:`Token`); a stored stream
    (``read_header(blob).stored_stream``: nothing was coded) has no tokens, ``[]``."""
    tokens: list[Token] = []
    _decode(unpack(blob), tokens)
    return tokens
