"""The LZSS container: one byte-exact definition shared by every backend (encoder rule, layout, validation).

Parameters
----------
- symbol size ``S`` ∈ {1, 2, 4} bytes: the unit the codec matches (GPULZ matches an int16 as one symbol, not two
  bytes); the input's first ``m = n − n mod S`` bytes are read as ``m / S`` little-endian symbols.
- window ``W`` ∈ 1..255 symbols: how far back a match may start (the offset is one byte).
- chunk size ``C`` bytes, a multiple of ``S``, ``S ≤ C ≤ 2**24``: chunk ``i`` holds symbols
  ``[i·C/S, min((i+1)·C/S, m/S))``. Chunks are independent (a match never reaches outside its own chunk), which is
  what lets every backend compress and decompress them in parallel.

Layout (every integer little-endian; ``k`` chunks, ``F`` flag bytes, ``D`` data bytes, ``r = n mod S``)::

    offset        size  field
    0             4     magic b"EDLZ"
    4             1     version = 1
    5             1     symbol size S ∈ {1, 2, 4}
    6             1     window W ∈ 1..255 (symbols)
    7             1     reserved, must be 0
    8             4     u32 chunk size C (bytes): a multiple of S, S ≤ C ≤ 2**24
    12            4     u32 original length n (bytes), so n ≤ 2**32 − 1
    16            4     u32 chunk count k = ceil((n − r) / C)   (0 when n < S)
    20            4k    u32 flag_end[i]: flag bytes of chunks 0..i (inclusive prefix sum)
    20+4k         4k    u32 data_end[i]: data bytes of chunks 0..i (inclusive prefix sum)
    20+8k         F     flag bytes, F = flag_end[k−1] (chunk i's are [flag_end[i−1], flag_end[i]))
    20+8k+F       D     data bytes, D = data_end[k−1] (chunk i's are [data_end[i−1], data_end[i]))
    20+8k+F+D     r     raw tail: the last r bytes of the input, which do not fill a symbol
    20+8k+F+D+r   4     u32 CRC32 (zlib.crc32) of the n original bytes

Tokens of a chunk, in order: token ``t`` has flag bit ``t % 8`` (LSB first) of the chunk's flag byte ``t // 8``;
1 = match, 0 = literal. A literal is ``S`` data bytes, the symbol verbatim. A match is two data bytes, length (u8, in
symbols) then offset (u8, in symbols): copy ``length`` symbols, one at a time, from ``offset`` symbols back, so an
offset smaller than the length repeats a period (offset 1 runs one symbol).

Encoder rule (the one parse every backend emits, hence byte-identical blobs): greedy, left to right in each chunk.
At symbol ``j`` of a chunk the candidate offsets are ``d = 1..min(W, j)``; the match length for ``d`` is the number of
consecutive symbols with ``sym[j+i] == sym[j+i−d]``, capped at ``min(255, symbols left in the chunk)``. The longest
wins; among equally long ones, the **nearest** (smallest offset). If it is at least ``min_match(S)`` symbols (2 for
S = 1, where a 2-byte match token would not pay for a 1-byte literal; 1 for S ≥ 2, as in GPULZ) emit the match and
skip its length, otherwise emit a literal and advance one symbol.

Decoder acceptance (the blob is untrusted): exactly this layout and total length; reserved byte 0; prefix sums
non-decreasing; per chunk, flag bytes = ceil(tokens / 8) with the unused high bits zero, data bytes consumed exactly,
every match length in ``min_match(S)..symbols left in the chunk`` and every offset in ``1..min(W, symbols decoded in
the chunk)``; the CRC of the output equals the stored one. Anything else raises :class:`LZSSFormatError`.
Bound on the output: besides ``n ≤ 2**32 − 1``, each chunk's symbol count must be ≤ 128 × its data bytes (a 2-byte
match yields at most 255 symbols, a literal one), so a forged header cannot make a decoder allocate more than
``128·S·len(blob) + 3`` bytes; the header is checked in full before anything is allocated.
"""

from __future__ import annotations

import numbers
import struct
import zlib
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CRC_SIZE",
    "HEADER_SIZE",
    "MAGIC",
    "MAX_CHUNK",
    "MAX_LENGTH",
    "MAX_MATCH",
    "MAX_WINDOW",
    "SYMBOL_SIZES",
    "VERSION",
    "Container",
    "Header",
    "LZSSFormatError",
    "check_crc",
    "check_params",
    "chunk_count",
    "min_match",
    "pack",
    "read_header",
    "symbols",
    "unpack",
]

MAGIC = b"EDLZ"
VERSION = 1
SYMBOL_SIZES = (1, 2, 4)
MAX_WINDOW = 255  # offsets are one byte
MAX_MATCH = 255  # lengths are one byte
MAX_CHUNK = 1 << 24  # bytes; keeps per-chunk work and buffers bounded for forged headers
MAX_LENGTH = (1 << 32) - 1  # n is a u32
MAX_SYMBOLS_PER_DATA_BYTE = 128  # a 2-byte match yields ≤ 255 symbols, a 1-byte literal 1
_HEAD = struct.Struct("<4sBBBBIII")
HEADER_SIZE = _HEAD.size  # 20
CRC_SIZE = 4


class LZSSFormatError(ValueError):
    """The blob is not a valid LZSS container (truncated, corrupted or forged)."""


def min_match(symbol_size: int) -> int:
    """Shortest match the encoder emits and the decoder accepts: 2 symbols for S = 1, else 1."""
    return 2 if symbol_size == 1 else 1


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_params(symbol_size: object, window: object, chunk: object) -> tuple[int, int, int]:
    """Validate the codec parameters (a concrete ``symbol_size``); returns them as ints.

    Raises ``ValueError`` naming the argument, the value and the allowed values.
    """
    if not _is_int(symbol_size) or symbol_size not in SYMBOL_SIZES:
        raise ValueError(f"symbol_size must be 'auto' or one of {SYMBOL_SIZES}, got {symbol_size!r}")
    if not _is_int(window) or not 1 <= window <= MAX_WINDOW:
        raise ValueError(f"window must be an int in 1..{MAX_WINDOW} (symbols), got {window!r}")
    if not _is_int(chunk) or not symbol_size <= chunk <= MAX_CHUNK or chunk % symbol_size:
        raise ValueError(
            f"chunk must be an int in {symbol_size}..{MAX_CHUNK} (bytes) and a multiple of symbol_size={symbol_size}, "
            f"got {chunk!r}"
        )
    return int(symbol_size), int(window), int(chunk)


@dataclass(frozen=True)
class Header:
    """The fixed 20-byte header. ``chunk`` and ``length`` in bytes, ``window`` in symbols."""

    symbol_size: int
    window: int
    chunk: int
    length: int
    chunks: int

    @property
    def tail(self) -> int:
        """Bytes stored raw at the end (``length mod symbol_size``)."""
        return self.length % self.symbol_size

    @property
    def n_symbols(self) -> int:
        return (self.length - self.tail) // self.symbol_size

    @property
    def chunk_symbols(self) -> int:
        return self.chunk // self.symbol_size

    def symbols_per_chunk(self) -> np.ndarray:
        """int64[k]: symbols in each chunk (all ``chunk_symbols`` but a shorter last one)."""
        counts = np.full(self.chunks, self.chunk_symbols, dtype=np.int64)
        if self.chunks:
            counts[-1] = self.n_symbols - (self.chunks - 1) * self.chunk_symbols
        return counts

    def to_bytes(self) -> bytes:
        return _HEAD.pack(MAGIC, VERSION, self.symbol_size, self.window, 0, self.chunk, self.length, self.chunks)


def chunk_count(length: int, symbol_size: int, chunk: int) -> int:
    """k = ceil((n − n mod S) / C)."""
    m = length - length % symbol_size
    return -(-m // chunk)


def symbols(raw: np.ndarray, symbol_size: int) -> np.ndarray:
    """uint32[m / S]: the symbol-aligned prefix of ``raw`` (uint8[n]) read as little-endian S-byte integers."""
    m = raw.size - raw.size % symbol_size
    body = np.ascontiguousarray(raw[:m])
    if symbol_size == 1:
        return body.astype(np.uint32)
    return body.view("<u2" if symbol_size == 2 else "<u4").astype(np.uint32)


@dataclass(frozen=True)
class Container:
    """A parsed, structurally valid blob. Offsets are int64[k]; ``flags``/``data`` are uint8 views into the blob."""

    header: Header
    flag_end: np.ndarray
    data_end: np.ndarray
    flags: np.ndarray
    data: np.ndarray
    tail: bytes
    crc: int

    @property
    def flag_start(self) -> np.ndarray:
        return np.concatenate([[0], self.flag_end[:-1]]).astype(np.int64) if self.header.chunks else self.flag_end

    @property
    def data_start(self) -> np.ndarray:
        return np.concatenate([[0], self.data_end[:-1]]).astype(np.int64) if self.header.chunks else self.data_end


def pack(
    header: Header,
    flag_sizes: np.ndarray,
    data_sizes: np.ndarray,
    flags: bytes | np.ndarray,
    data: bytes | np.ndarray,
    tail: bytes,
    crc: int,
) -> bytes:
    """Assemble a blob from per-chunk section sizes (int[k]) and the concatenated flag and data bytes."""
    flag_end = np.cumsum(np.asarray(flag_sizes, dtype=np.int64))
    data_end = np.cumsum(np.asarray(data_sizes, dtype=np.int64))
    assert flag_end.size == data_end.size == header.chunks
    assert (flag_end[-1] if flag_end.size else 0) == len(flags) and (data_end[-1] if data_end.size else 0) == len(data)
    return b"".join(
        [
            header.to_bytes(),
            flag_end.astype("<u4").tobytes(),
            data_end.astype("<u4").tobytes(),
            bytes(flags) if isinstance(flags, bytes) else np.ascontiguousarray(flags, dtype=np.uint8).tobytes(),
            bytes(data) if isinstance(data, bytes) else np.ascontiguousarray(data, dtype=np.uint8).tobytes(),
            tail,
            struct.pack("<I", crc),
        ]
    )


def _as_buffer(blob: object) -> np.ndarray:
    if isinstance(blob, np.ndarray):
        if blob.dtype != np.uint8 or blob.ndim != 1:
            raise TypeError(f"blob must be bytes-like or a 1-D uint8 array, got array {blob.dtype}{list(blob.shape)}")
        return blob
    if isinstance(blob, (bytes, bytearray, memoryview)):
        if isinstance(blob, memoryview):
            blob = blob.cast("B") if blob.c_contiguous else blob.tobytes()
        return np.frombuffer(blob, dtype=np.uint8)
    raise TypeError(f"blob must be bytes, bytearray, memoryview or a uint8 numpy array, got {type(blob).__name__}")


def read_header(blob: bytes | bytearray | memoryview | np.ndarray) -> Header:
    """Parse and validate the fixed header (not the tables); raises :class:`LZSSFormatError`."""
    buf = _as_buffer(blob)
    if buf.size < HEADER_SIZE + CRC_SIZE:
        raise LZSSFormatError(f"blob too short: {buf.size} bytes, a container has at least {HEADER_SIZE + CRC_SIZE}")
    magic, version, s, w, reserved, c, n, k = _HEAD.unpack(buf[:HEADER_SIZE].tobytes())
    if magic != MAGIC:
        raise LZSSFormatError(f"bad magic {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise LZSSFormatError(f"unsupported version {version}, this decoder reads version {VERSION}")
    if s not in SYMBOL_SIZES:
        raise LZSSFormatError(f"bad symbol size {s}, expected one of {SYMBOL_SIZES}")
    if not 1 <= w <= MAX_WINDOW:
        raise LZSSFormatError(f"bad window {w}, expected 1..{MAX_WINDOW}")
    if reserved:
        raise LZSSFormatError(f"reserved header byte is {reserved}, expected 0")
    if not s <= c <= MAX_CHUNK or c % s:
        raise LZSSFormatError(f"bad chunk size {c}, expected a multiple of {s} in {s}..{MAX_CHUNK}")
    if k != chunk_count(n, s, c):
        raise LZSSFormatError(
            f"chunk count {k} does not match length {n} / chunk {c} (expected {chunk_count(n, s, c)})"
        )
    return Header(symbol_size=s, window=w, chunk=c, length=n, chunks=k)


def unpack(blob: bytes | bytearray | memoryview | np.ndarray) -> Container:
    """Parse a blob and check its structure in full (header, tables, section sizes, exact length, output bound).

    Token-level checks (lengths, offsets, flag padding) and the CRC are the decoder's. Raises :class:`LZSSFormatError`.
    """
    buf = _as_buffer(blob)
    h = read_header(buf)
    k = h.chunks
    tables_end = HEADER_SIZE + 8 * k
    if buf.size < tables_end + h.tail + CRC_SIZE:
        raise LZSSFormatError(f"blob truncated: {buf.size} bytes cannot hold the tables of {k} chunks")
    tables = buf[HEADER_SIZE:tables_end].view("<u4").astype(np.int64)
    flag_end, data_end = tables[:k], tables[k:]
    for name, ends in (("flag", flag_end), ("data", data_end)):
        if k and (ends[0] < 0 or np.any(np.diff(ends) < 0)):
            raise LZSSFormatError(f"{name} offsets are not non-decreasing prefix sums")
    f_total = int(flag_end[-1]) if k else 0
    d_total = int(data_end[-1]) if k else 0
    expected = tables_end + f_total + d_total + h.tail + CRC_SIZE
    if buf.size != expected:
        raise LZSSFormatError(f"blob is {buf.size} bytes, its tables say {expected}")
    if k:
        need = h.symbols_per_chunk()
        flag_sizes = np.diff(flag_end, prepend=0)
        data_sizes = np.diff(data_end, prepend=0)
        # every token needs a flag bit and ≥ 1 data byte and yields ≤ 255 symbols: bounds the output before allocating
        if np.any(need > MAX_SYMBOLS_PER_DATA_BYTE * data_sizes) or np.any(need > 8 * MAX_MATCH * flag_sizes):
            bad = int(np.argmax((need > MAX_SYMBOLS_PER_DATA_BYTE * data_sizes) | (need > 8 * MAX_MATCH * flag_sizes)))
            raise LZSSFormatError(
                f"chunk {bad} claims {int(need[bad])} symbols from {int(flag_sizes[bad])} flag and "
                f"{int(data_sizes[bad])} data bytes"
            )
    flags = buf[tables_end : tables_end + f_total]
    data = buf[tables_end + f_total : tables_end + f_total + d_total]
    tail_at = tables_end + f_total + d_total
    tail = buf[tail_at : tail_at + h.tail].tobytes()
    (crc,) = struct.unpack("<I", buf[tail_at + h.tail :].tobytes())
    return Container(header=h, flag_end=flag_end, data_end=data_end, flags=flags, data=data, tail=tail, crc=crc)


def check_crc(out: bytes | np.ndarray, crc: int) -> None:
    """Raise :class:`LZSSFormatError` when the decoded bytes' CRC32 differs from the stored one."""
    got = zlib.crc32(out)
    if got != crc:
        raise LZSSFormatError(f"CRC32 mismatch: decoded data has {got:#010x}, the blob stores {crc:#010x}")
