"""The LZSS container: one byte-exact definition shared by every backend (encoder rule, layout, validation).

Parameters
----------
- symbol size ``S`` ∈ {1, 2, 4} bytes: the unit the codec matches (GPULZ matches an int16 as one symbol, not two
  bytes); the input's first ``m = n − n mod S`` bytes are read as ``m / S`` little-endian symbols.
- window ``W`` ∈ 1..255 symbols: how far back a match may start (the offset is one byte).
- chunk size ``C`` bytes, a multiple of ``S``, ``S ≤ C ≤ 2**24``: chunk ``i`` holds symbols
  ``[i·C/S, min((i+1)·C/S, m/S))``. Chunks are independent (a match never reaches outside its own chunk), which is
  what lets every backend compress and decompress them in parallel.
- shuffle element size ``E`` ∈ {0, 2, 4, 8} (0 = no filter): the byte-shuffle filter (blosc's ``SHUFFLE``). The
  first ``q = n − n mod E`` bytes, read as ``q / E`` elements of ``E`` bytes, are transposed into ``E`` planes —
  byte 0 of every element, then byte 1 of every element, … — so ``shuffled[p·(q/E) + i] = original[i·E + p]``; the
  last ``n mod E`` bytes stay in place at the end. The LZSS stage below (symbols, chunks, tail) then works on the
  shuffled ``n`` bytes, and the decoder undoes the filter after decoding them. ``E = 1`` would be the identity and is
  rejected, so every filter has exactly one encoding. Sorted indices or smooth fields vary slowly in their high
  bytes: as planes those become long runs a 255-symbol window sees, where element by element they repeat only
  kilobytes apart.

Layout (every integer little-endian; ``k`` chunks, ``F`` flag bytes, ``D`` data bytes; ``r = n mod S`` raw bytes
when ``k > 0``, ``r = n`` when ``k = 0``)::

    offset        size  field
    0             4     magic b"EDLZ"
    4             1     version = 4
    5             1     symbol size S ∈ {1, 2, 4}
    6             1     window W ∈ 1..255 (symbols)
    7             1     shuffle element size E ∈ {0, 2, 4, 8} (0: no filter; always 0 when k = 0)
    8             4     u32 chunk size C (bytes): a multiple of S, S ≤ C ≤ 2**24
    12            4     u32 original length n (bytes), so n ≤ 2**32 − 1
    16            4     u32 chunk count k: ceil((n − n mod S) / C), or 0 for a stored stream
    20            4k    u32 flag_end[i]: flag bytes of chunks 0..i (inclusive prefix sum)
    20+4k         4k    u32 data_end[i]: data bytes of chunks 0..i (inclusive prefix sum)
    20+8k         F     flag bytes, F = flag_end[k−1] (chunk i's are [flag_end[i−1], flag_end[i]); none if stored)
    20+8k+F       D     data bytes, D = data_end[k−1] (chunk i's are [data_end[i−1], data_end[i]); raw if stored)
    20+8k+F+D     r     raw bytes: the last r bytes of the (shuffled, if E > 0) input, which do not fill a symbol —
                        or, in a stored stream (k = 0), all n bytes of the input, verbatim
    20+8k+F+D+r   4     u32 CRC32 (zlib.crc32) of the n original bytes (before the shuffle filter)

Everything from ``k`` on describes the LZSS stage, whose input is the shuffled bytes when ``E > 0``: chunks, symbols,
tokens and the raw tail are those of the shuffled stream. Only the CRC is of the original (unshuffled) bytes, so it
checks the filter's inversion too.

A chunk is either *coded* (≥ 1 flag byte: the tokens below) or *stored* (0 flag bytes, and its data bytes are the
chunk's own ``S × symbols`` bytes, verbatim). A coded chunk always has at least one flag byte (a chunk holds ≥ 1
symbol, hence ≥ 1 token, since ``k = ceil((n − r) / C)``), so "0 flag bytes" marks a stored chunk unambiguously.
Stored chunks are what keep incompressible data (random codes, noisy fields) from growing: every literal costs a
flag bit, so coded random bytes take ``9/8`` of their size. When every chunk is stored (the input is incompressible to
LZSS as a whole: random bytes, near-uniform int8 codes), the tables would only repeat "stored" at 8 bytes a chunk, so
the blob is a *stored stream* instead: ``k = 0``, ``E = 0``, and the ``n`` bytes verbatim. Incompressible data then
costs the 24 bytes of header and CRC and nothing per chunk (zlib's stored blocks and lz4's uncompressed blocks bound
it the same way). Inputs shorter than one symbol (``n < S``, no chunk at all) are stored streams as well.

Tokens of a coded chunk, in order: token ``t`` has flag bit ``t % 8`` (LSB first) of the chunk's flag byte ``t // 8``;
1 = match, 0 = literal. A literal is ``S`` data bytes, the symbol verbatim. A match is two data bytes, length (u8, in
symbols) then offset (u8, in symbols): copy ``length`` symbols, one at a time, from ``offset`` symbols back, so an
offset smaller than the length repeats a period (offset 1 runs one symbol).

Encoder rule (the one parse every backend emits, hence byte-identical blobs): greedy, left to right in each chunk.
At symbol ``j`` of a chunk the candidate offsets are ``d = 1..min(W, j)``; the match length for ``d`` is the number of
consecutive symbols with ``sym[j+i] == sym[j+i−d]``, capped at ``min(255, symbols left in the chunk)``. The longest
wins; among equally long ones, the **nearest** (smallest offset). If it is at least ``min_match(S)`` symbols (2 for
S = 1, where a 2-byte match token would not pay for a 1-byte literal; 1 for S ≥ 2, as in GPULZ) emit the match and
skip its length, otherwise emit a literal and advance one symbol. Then, per chunk: if the coded chunk's flag bytes
plus data bytes are ≥ the chunk's raw bytes (``S × symbols``), emit it stored instead (ties go to stored: same size,
and it decodes with one copy). Last, for the whole input: if no chunk is coded (``F = 0``), emit the stored stream
instead. :func:`finish` makes that choice for every backend.

Decoder acceptance (the blob is untrusted): exactly this layout and total length; version 4; E ∈ {0, 2, 4, 8}, and
E = 0 when k = 0; k = ceil((n − n mod S) / C) or k = 0;
prefix sums non-decreasing; a chunk with 0 flag bytes has exactly ``S × symbols`` data bytes (else it is rejected,
never reinterpreted); per coded chunk, flag bytes = ceil(tokens / 8) with the unused high bits zero, data bytes
consumed exactly, every match length in ``min_match(S)..symbols left in the chunk`` and every offset in ``1..min(W,
symbols decoded in the chunk)``; the CRC of the output (unshuffled when E > 0) equals the stored one. Anything else
raises :class:`LZSSFormatError`.
The encoder never emits a coded chunk that is not smaller than its raw bytes, but the decoder accepts one (it is
well formed; only its size is suboptimal).
Bound on the output: besides ``n ≤ 2**32 − 1``, each chunk's symbol count must be ≤ 128 × its data bytes (a 2-byte
match yields at most 255 symbols, a literal one; a stored chunk yields ``1/S`` symbol per byte), so a forged header
cannot make a decoder allocate more than ``128·S·len(blob) + 3`` bytes; the header is checked in full before anything
is allocated. Undoing the shuffle is a permutation of those ``n`` bytes (one more buffer of the same size).

Version history: 1 (issue 7, part 1) had no stored chunks; 2 adds them; 3 turns the reserved byte 7 (0 in version 2)
into the shuffle element size E; 4 adds the stored stream (k = 0 for n ≥ S). An older decoder rejects newer blobs by
their version byte instead of misreading them; this decoder reads version 4 only (no blobs of versions 1–3 were ever
published).
"""

from __future__ import annotations

import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from effdl.core.checks import is_int

if TYPE_CHECKING:
    import torch

__all__ = [
    "CRC_SIZE",
    "HEADER_SIZE",
    "MAGIC",
    "MAX_CHUNK",
    "MAX_LENGTH",
    "MAX_MATCH",
    "MAX_WINDOW",
    "SHUFFLE_SIZES",
    "SYMBOL_SIZES",
    "VERSION",
    "Container",
    "Header",
    "LZSSFormatError",
    "check_crc",
    "check_params",
    "chunk_count",
    "chunk_stats",
    "finish",
    "layout",
    "min_match",
    "pack",
    "read_header",
    "should_store",
    "should_store_stream",
    "shuffle",
    "symbols",
    "unpack",
    "unshuffle",
]

MAGIC = b"EDLZ"
VERSION = 4  # 2: stored chunks (0 flag bytes, raw data); 3: the shuffle filter (byte 7); 4: the stored stream (k = 0)
SYMBOL_SIZES = (1, 2, 4)
SHUFFLE_SIZES = (0, 2, 4, 8)  # shuffle element size E; 0 = no filter
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
    if not is_int(symbol_size) or symbol_size not in SYMBOL_SIZES:  # any other value used to answer 1 silently
        raise ValueError(f"symbol_size must be one of {SYMBOL_SIZES}, got {symbol_size!r}")
    return 2 if symbol_size == 1 else 1


def check_params(symbol_size: object, window: object, chunk: object) -> tuple[int, int, int]:
    """Validate the codec parameters (a concrete ``symbol_size``); returns them as ints.

    Raises ``ValueError`` naming the argument, the value and the allowed values.
    """
    if not is_int(symbol_size) or symbol_size not in SYMBOL_SIZES:
        raise ValueError(f"symbol_size must be 'auto' or one of {SYMBOL_SIZES}, got {symbol_size!r}")
    if not is_int(window) or not 1 <= window <= MAX_WINDOW:
        raise ValueError(f"window must be an int in 1..{MAX_WINDOW} (symbols), got {window!r}")
    if not is_int(chunk) or not symbol_size <= chunk <= MAX_CHUNK or chunk % symbol_size:
        raise ValueError(
            f"chunk must be an int in {symbol_size}..{MAX_CHUNK} (bytes) and a multiple of symbol_size={symbol_size}, "
            f"got {chunk!r}"
        )
    return int(symbol_size), int(window), int(chunk)


@dataclass(frozen=True)
class Header:
    """The fixed 20-byte header. ``chunk`` and ``length`` in bytes, ``window`` in symbols; ``shuffle`` is the shuffle
    filter's element size E in bytes (0: no filter)."""

    symbol_size: int
    window: int
    chunk: int
    length: int
    chunks: int
    shuffle: int = 0

    @property
    def tail(self) -> int:
        """Bytes stored raw after the data: ``length mod symbol_size``, or all ``length`` in a stored stream (k = 0)."""
        return self.length if self.chunks == 0 else self.length % self.symbol_size

    @property
    def stored_stream(self) -> bool:
        """True when the blob holds the input verbatim (k = 0): no chunk's coding paid for its table entry."""
        return self.chunks == 0

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
        return _HEAD.pack(
            MAGIC, VERSION, self.symbol_size, self.window, self.shuffle, self.chunk, self.length, self.chunks
        )


def _permute(raw: np.ndarray | torch.Tensor, element_size: int, inverse: bool) -> np.ndarray | torch.Tensor:
    # checked here: a list fails on .shape, a 2-D array would be permuted by rows, a negative or string size
    # fails inside numpy's reshape. torch is not imported for this (a tensor implies it is loaded already).
    torch_mod = sys.modules.get("torch")
    kinds = (np.ndarray,) if torch_mod is None else (np.ndarray, torch_mod.Tensor)
    if not isinstance(raw, kinds) or raw.ndim != 1:
        got = f"shape {tuple(raw.shape)}" if isinstance(raw, kinds) else type(raw).__name__
        raise TypeError(f"raw must be a 1-D numpy array or torch tensor of bytes (uint8[n]), got {got}")
    if not is_int(element_size) or element_size < 0:
        raise ValueError(
            f"element_size must be an int >= 0 (bytes per element; 0 or 1 = no shuffle), got {element_size!r}"
        )
    n = raw.shape[0]
    if element_size in (0, 1) or n < element_size:
        return raw
    q = n - n % element_size
    shape = (element_size, -1) if inverse else (-1, element_size)
    body = raw[:q].reshape(shape).T.reshape(-1)  # a transpose: the same ops in numpy and torch, on any device
    if q == n:
        return body
    if isinstance(raw, np.ndarray):
        return np.concatenate([body, raw[q:]])
    import torch

    return torch.cat([body, raw[q:]])


def shuffle(raw: np.ndarray | torch.Tensor, element_size: int) -> np.ndarray | torch.Tensor:
    """The byte-shuffle filter: ``raw`` (uint8[n], a numpy array or a torch tensor on any device) with its first
    ``n − n mod E`` bytes transposed into ``E`` byte planes (``out[p·(q/E) + i] = raw[i·E + p]``) and the rest in
    place. Returns a new array/tensor of the same kind and device (``raw`` itself for ``E`` ∈ {0, 1} or ``n < E``)."""
    return _permute(raw, element_size, inverse=False)


def unshuffle(raw: np.ndarray | torch.Tensor, element_size: int) -> np.ndarray | torch.Tensor:
    """The inverse of :func:`shuffle`: ``unshuffle(shuffle(x, E), E)`` equals ``x``."""
    return _permute(raw, element_size, inverse=True)


def should_store(flag_bytes: int, data_bytes: int, raw_bytes: int) -> bool:
    """The encoder's choice for one chunk: store it raw when coding does not make it smaller (ties store)."""
    return flag_bytes + data_bytes >= raw_bytes


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
    """A parsed, structurally valid blob. Offsets are int64[k]; ``flags``/``data`` are uint8 views into the blob.

    Structurally valid includes: every chunk with no flag bytes (stored) has exactly its raw bytes of data."""

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

    @property
    def stored(self) -> np.ndarray:
        """bool[k]: chunks stored raw (no flag bytes)."""
        return self.flag_end == self.flag_start


def should_store_stream(flag_bytes: int) -> bool:
    """The encoder's choice for the whole input: a stored stream when no chunk is coded (``flag_bytes`` = F = 0:
    every chunk stored, or no chunk at all), since then the ``8k`` bytes of tables say nothing."""
    return flag_bytes == 0


def pack(
    header: Header,
    flag_sizes: np.ndarray,
    data_sizes: np.ndarray,
    flags: bytes | np.ndarray,
    data: bytes | np.ndarray,
    tail: bytes,
    crc: int,
) -> bytes:
    """Assemble a blob, exactly as given, from per-chunk section sizes (int[k]) and the concatenated flag and data
    bytes (``tail``: the raw bytes; all ``n`` of them when ``header.chunks == 0``). Encoders call :func:`finish`."""
    flag_end = np.cumsum(np.asarray(flag_sizes, dtype=np.int64))
    data_end = np.cumsum(np.asarray(data_sizes, dtype=np.int64))
    assert flag_end.size == data_end.size == header.chunks and len(tail) == header.tail
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


def finish(
    header: Header,
    flag_sizes: np.ndarray,
    data_sizes: np.ndarray,
    flags: bytes | np.ndarray,
    data: bytes | np.ndarray,
    tail: bytes,
    crc: int,
    original: Callable[[], bytes],
) -> bytes:
    """Every encoder's last step: :func:`pack` the chunks, or, when :func:`should_store_stream` says so, the stored
    stream of ``original()`` — the input's bytes before the shuffle filter (a callable, so that a device backend
    copies them to the host only then)."""
    if should_store_stream(len(flags)):
        raw = original()
        stream = Header(header.symbol_size, header.window, header.chunk, header.length, 0, 0)
        return pack(stream, [], [], b"", b"", raw, crc)
    return pack(header, flag_sizes, data_sizes, flags, data, tail, crc)


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
    magic, version, s, w, e, c, n, k = _HEAD.unpack(buf[:HEADER_SIZE].tobytes())
    if magic != MAGIC:
        raise LZSSFormatError(f"bad magic {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise LZSSFormatError(f"unsupported version {version}, this decoder reads version {VERSION}")
    if s not in SYMBOL_SIZES:
        raise LZSSFormatError(f"bad symbol size {s}, expected one of {SYMBOL_SIZES}")
    if not 1 <= w <= MAX_WINDOW:
        raise LZSSFormatError(f"bad window {w}, expected 1..{MAX_WINDOW}")
    if e not in SHUFFLE_SIZES:
        raise LZSSFormatError(f"bad shuffle element size {e}, expected one of {SHUFFLE_SIZES} (0: no filter)")
    if not s <= c <= MAX_CHUNK or c % s:
        raise LZSSFormatError(f"bad chunk size {c}, expected a multiple of {s} in {s}..{MAX_CHUNK}")
    if k not in (0, chunk_count(n, s, c)):
        raise LZSSFormatError(
            f"chunk count {k} does not match length {n} / chunk {c} (expected {chunk_count(n, s, c)}, or 0 for a "
            f"stored stream)"
        )
    if k == 0 and e:
        raise LZSSFormatError(f"a stored stream (0 chunks) has no shuffle filter, but the header says E = {e}")
    return Header(symbol_size=s, window=w, chunk=c, length=n, chunks=k, shuffle=e)


def unpack(blob: bytes | bytearray | memoryview | np.ndarray) -> Container:
    """Parse a blob and check its structure in full (header, tables, section sizes, exact length, output bound).

    Token-level checks (lengths, offsets, flag padding) and the CRC are the decoder's. Raises :class:`LZSSFormatError`.
    """
    buf = _as_buffer(blob)
    h = read_header(buf)
    k = h.chunks
    tables_end = HEADER_SIZE + 8 * k
    if buf.size < tables_end + h.tail + CRC_SIZE:
        what = f"a stored stream of {h.length} bytes" if h.stored_stream else f"the tables of {k} chunks"
        raise LZSSFormatError(f"blob truncated: {buf.size} bytes cannot hold {what}")
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
        # a stored chunk (no flag bytes) holds exactly its raw bytes: anything else is rejected, never reinterpreted
        stored = flag_sizes == 0
        wrong = stored & (data_sizes != need * h.symbol_size)
        if np.any(wrong):
            bad = int(np.argmax(wrong))
            raise LZSSFormatError(
                f"chunk {bad} has no flag bytes (a stored chunk) but {int(data_sizes[bad])} data bytes; a stored "
                f"chunk holds exactly its {int(need[bad]) * h.symbol_size} bytes"
            )
        # every token needs a flag bit and ≥ 1 data byte and yields ≤ 255 symbols: bounds the output before allocating
        over = ~stored & ((need > MAX_SYMBOLS_PER_DATA_BYTE * data_sizes) | (need > 8 * MAX_MATCH * flag_sizes))
        if np.any(over):
            bad = int(np.argmax(over))
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


def chunk_stats(blob: bytes | bytearray | memoryview | np.ndarray) -> dict[str, np.ndarray]:
    """Per-chunk numbers of a blob, read from its tables and flag bits without decoding (int64[k] each, ``stored``
    bool[k]): ``symbols``, ``raw_bytes`` (``S × symbols``), ``flag_bytes``, ``data_bytes``, ``stored``, ``matches``
    (set flag bits) and ``literals`` (``(data bytes − 2 × matches) / S``; 0 for a stored chunk). The structure is
    checked (:func:`unpack`), the tokens are not: on a forged blob the counts are whatever its bits say."""
    box = unpack(blob)
    h = box.header
    symbols = h.symbols_per_chunk()
    flag_bytes = box.flag_end - box.flag_start
    data_bytes = box.data_end - box.data_start
    ones = np.concatenate([[0], np.cumsum(np.unpackbits(box.flags).reshape(-1, 8).sum(1, dtype=np.int64))])
    matches = ones[box.flag_end] - ones[box.flag_start] if h.chunks else np.zeros(0, np.int64)
    stored = box.stored
    literals = np.where(stored, 0, (data_bytes - 2 * matches) // h.symbol_size)
    return {
        "symbols": symbols,
        "raw_bytes": symbols * h.symbol_size,
        "flag_bytes": flag_bytes,
        "data_bytes": data_bytes,
        "stored": stored,
        "matches": np.asarray(matches, np.int64),
        "literals": np.asarray(literals, np.int64),
    }


def layout(blob: bytes | bytearray | memoryview | np.ndarray) -> list[dict[str, object]]:
    """The blob field by field, as documented above: one dict per field with ``offset``, ``size`` (bytes), ``field``
    and ``value`` (the number, or the bytes in hex; flag bytes in binary, most significant bit first, so token 0 is
    the rightmost bit). For reading small blobs; the structure is checked (:func:`unpack`), the tokens are not."""
    box = unpack(blob)
    h, buf = box.header, _as_buffer(blob)
    rows: list[dict[str, object]] = []

    def add(offset: int, size: int, name: str, value: object) -> None:
        rows.append({"offset": offset, "size": size, "field": name, "value": value})

    add(0, 4, "magic", bytes(buf[:4]).decode("ascii", "replace"))
    for off, name, value in ((4, "version", VERSION), (5, "symbol size S", h.symbol_size), (6, "window W", h.window)):
        add(off, 1, name, value)
    add(7, 1, "shuffle element size E", h.shuffle)
    add(8, 4, "chunk size C (bytes)", h.chunk)
    add(12, 4, "length n (bytes)", h.length)
    add(16, 4, "chunks k", h.chunks)
    k = h.chunks
    for i in range(k):
        add(HEADER_SIZE + 4 * i, 4, f"flag_end[{i}]", int(box.flag_end[i]))
    for i in range(k):
        add(HEADER_SIZE + 4 * (k + i), 4, f"data_end[{i}]", int(box.data_end[i]))
    at = HEADER_SIZE + 8 * k
    for i in range(k):
        flags = box.flags[box.flag_start[i] : box.flag_end[i]]
        if flags.size:
            add(
                at + int(box.flag_start[i]), int(flags.size), f"flags of chunk {i}", " ".join(f"{b:08b}" for b in flags)
            )
    at += box.flags.size
    for i in range(k):
        data = box.data[box.data_start[i] : box.data_end[i]]
        name = f"data of chunk {i}" + (" (stored)" if box.stored[i] else "")
        add(at + int(box.data_start[i]), int(data.size), name, data.tobytes().hex(" "))
    at += box.data.size
    if h.tail:
        add(at, h.tail, "stored stream (the input)" if h.stored_stream else "raw tail", box.tail.hex(" "))
    add(at + h.tail, CRC_SIZE, "CRC32", f"{box.crc:#010x}")
    return rows


def check_crc(out: bytes | np.ndarray, crc: int) -> None:
    """Raise :class:`LZSSFormatError` when the decoded bytes' CRC32 differs from the stored one."""
    got = zlib.crc32(out)
    if got != crc:
        raise LZSSFormatError(f"CRC32 mismatch: decoded data has {got:#010x}, the blob stores {crc:#010x}")
