"""A compact, lossless model file: what a pruned, weight-shared model really costs on disk.

``torch.save`` writes every weight as dense fp32 (and a pruned module's mask beside it), so it cannot show what
pruning and quantization buy. :func:`pack` writes a model's ``state_dict`` the way Deep Compression (Han et al. 2016)
stores one — a bitmask of the non-zeros, the distinct values as a palette, and each weight as a ``b``-bit index into
it — and then runs a lossless codec (this series' LZSS, or zlib/lzma from the standard library) over the bytes.
:func:`unpack` gives back the exact tensors, so accuracy can be measured on the decoded file.

Per floating-point tensor the smallest of these lossless encodings is kept (sizes are exact, in bits):

- ``raw``: the tensor's bytes as stored (``numel × itemsize``);
- ``palette``: the ``K`` distinct values (``K × itemsize``) and a ``⌈log2 K⌉``-bit index per element;
- ``row-palette``: one palette per output channel (row 0 of the tensor; ``rows × K_max`` values), for weights that
  were quantized with one scale per channel;
- ``row-scale``: one step ``s_r`` per output channel and a ``⌈log2 L⌉``-bit integer code per element, where every
  value is exactly ``q · s_r`` in the tensor's float arithmetic (``q`` on one grid of ``L`` levels for the whole
  tensor): how a deployment stores per-channel uniform weights (LSQ/QAT, SBS), one scale per row instead of a
  row's every level (fp32/fp64 tensors; the step is recovered from the values and checked exact, so it stays
  lossless);
- ``sparse-raw`` / ``sparse-palette``: a bitmask of the non-zeros (1 bit per element) and only the non-zeros,
  raw or as palette indices (zeros need no palette entry).

Integer tensors (``num_batches_tracked``) are stored raw. The file holds the weights, not the architecture: decode
into a model of the same shapes (for a channel-pruned model, the pruned model itself).

Layout: ``b"EFFDLPK1"``, one byte naming the codec, the body length (u32, little-endian) and its CRC32 (u32), then
the body, coded. The plain body is the header's length and record count (u32 each), one binary record per tensor
(name, dtype, shape, encoding, bit width, palette size, non-zeros, stream lengths; see ``_entry_bytes``) and the
streams, in header order. Anything else raises
:class:`PackFormatError` (a ``ValueError``).
"""

from __future__ import annotations

import lzma
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = [
    "CODECS",
    "ENCODINGS",
    "PackFormatError",
    "PackedTensor",
    "encoded_size",
    "inspect",
    "load_packed",
    "pack",
    "unpack",
]

MAGIC = b"EFFDLPK1"
CODECS = ("none", "lzss", "zlib", "lzma")
_CODEC_ID = {name: i for i, name in enumerate(CODECS)}
_PREFIX = struct.Struct("<8sBII")  # magic, codec, body length, body CRC32
_MAX_BODY = 1 << 31  # a sanity bound for untrusted headers: 2 GiB of plain body
_DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "int64": torch.int64,
    "int32": torch.int32,
    "int16": torch.int16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
_NAMES = {v: k for k, v in _DTYPES.items()}
ENCODINGS = ("raw", "palette", "row-palette", "sparse-raw", "sparse-palette", "row-scale")
# row-scale looks for a row's integer grid with its smallest non-zero magnitude at most this many steps (a grid
# whose first levels are unused)
_GRID_MAX_STEPS = 16


class PackFormatError(ValueError):
    """The bytes are not a valid packed model (wrong magic, truncated, corrupted, or an unknown layout)."""


@dataclass(frozen=True)
class PackedTensor:
    """How one tensor was stored: its ``encoding`` (see :data:`ENCODINGS`), index ``bits`` (0 when raw), palette
    entries ``palette`` (per row for ``row-palette``; the grid's levels for ``row-scale``), non-zeros ``nnz`` and the
    stored bytes before the codec."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    encoding: str
    bits: int
    palette: int
    nnz: int
    nbytes: int


# ----------------------------------------------------------------------------------------------------
# Bit packing: b-bit unsigned codes, little-endian within a byte. numpy packs bits but not b-bit fields.


def _pack_codes(codes: np.ndarray, bits: int) -> bytes:
    if bits == 0 or codes.size == 0:
        return b""
    c = codes.astype(np.uint32).reshape(-1, 1)
    planes = ((c >> np.arange(bits, dtype=np.uint32)) & 1).astype(np.uint8)
    return np.packbits(planes.reshape(-1), bitorder="little").tobytes()


def _unpack_codes(buf: bytes, n: int, bits: int) -> np.ndarray:
    if bits == 0 or n == 0:
        return np.zeros(n, dtype=np.int64)
    need = (n * bits + 7) // 8
    if len(buf) != need:
        raise PackFormatError(f"a code stream holds {len(buf)} bytes, expected {need}")
    planes = np.unpackbits(np.frombuffer(buf, dtype=np.uint8), count=n * bits, bitorder="little")
    weights = (1 << np.arange(bits, dtype=np.int64)).reshape(1, -1)
    return (planes.reshape(n, bits).astype(np.int64) * weights).sum(1)


def _index_bits(k: int) -> int:
    return max(1, int(k - 1).bit_length()) if k > 1 else 0


def _bytes_of(t: torch.Tensor) -> bytes:
    return t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


# ----------------------------------------------------------------------------------------------------
# Per-row integer grids (row-scale): find s_r and integer codes with values == codes * s_r exactly


def _row_grid(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(steps ``(rows,)``, integer codes shaped ``(rows, cols)``) with ``codes * steps[:, None] == t`` exactly, or
    None when ``t`` (fp32/fp64, 2-D or more, more than one row) is not an integer grid per row.

    A row's step is near its smallest non-zero magnitude divided by a small integer ``m`` (1 when the grid's first
    level is used); the exact float is one of a few ulps around ``v / q`` for the row's value with the largest code
    (the tightest constraint). Every candidate is checked exactly, all rows at once."""
    if t.dtype not in (torch.float32, torch.float64) or t.ndim < 2 or t.shape[0] < 2 or t.numel() == 0:
        return None
    rows = t.reshape(t.shape[0], -1)
    if not bool(torch.isfinite(rows).all()):
        return None
    if _row_steps(rows[:1]) is None:  # a float weight fails on its first row: skip the rest
        return None
    steps = _row_steps(rows)
    if steps is None:
        return None
    codes = torch.round(rows / steps[:, None])
    if codes.abs().max() > 2**24 or not torch.equal(codes * steps[:, None], rows):  # exact as decoded
        return None
    return steps, codes.to(torch.int64)


def _row_steps(rows: torch.Tensor) -> torch.Tensor | None:
    """Each row's exact step (see :func:`_row_grid`), or None if a row has none."""
    smallest = torch.where(rows != 0, rows.abs(), torch.inf).amin(1)
    steps = torch.ones(rows.shape[0], dtype=rows.dtype)  # an all-zero row: step 1, codes 0
    todo = torch.isfinite(smallest)
    for m in range(1, _GRID_MAX_STEPS + 1):
        for ulps in (0, 1, -1, 2, -2):
            idx = todo.nonzero().squeeze(1)
            if idx.numel() == 0:
                break
            r = rows[idx]
            q = torch.round(r / (smallest[idx] / m)[:, None])
            j = q.abs().argmax(1, keepdim=True)
            step = (r.gather(1, j) / q.gather(1, j)).squeeze(1)
            for _ in range(abs(ulps)):
                step = torch.nextafter(step, step * 2 if ulps > 0 else torch.zeros_like(step))
            ok = (step > 0) & (torch.round(r / step[:, None]) * step[:, None] == r).all(1)
            steps[idx[ok]] = step[ok]
            todo[idx[ok]] = False
    return None if bool(todo.any()) else steps


# ----------------------------------------------------------------------------------------------------
# Encoding one tensor: every candidate's exact size, the smallest kept


def _candidates(t: torch.Tensor) -> tuple[list[tuple[int, str]], tuple[torch.Tensor, torch.Tensor] | None]:
    """(size in bits, encoding) of each lossless encoding that applies to floating tensor ``t``, and its row grid
    (:func:`_row_grid`; None when row-scale does not apply), passed on so the encoder need not find it again."""
    n, item = t.numel(), t.element_size() * 8
    flat = t.reshape(-1)
    out = [(n * item, "raw")]
    k = int(torch.unique(flat).numel())
    out.append((k * item + n * _index_bits(k), "palette"))
    nz = flat[flat != 0]
    nnz = int(nz.numel())
    if nnz < n:
        out.append((n + nnz * item, "sparse-raw"))
        k_nz = int(torch.unique(nz).numel())
        out.append((n + k_nz * item + nnz * _index_bits(k_nz), "sparse-palette"))
    grid = None
    if t.ndim >= 2 and t.shape[0] > 1:
        rows = t.reshape(t.shape[0], -1)
        k_row = max(int(torch.unique(r).numel()) for r in rows)
        out.append((t.shape[0] * k_row * item + n * _index_bits(k_row), "row-palette"))
        grid = _row_grid(t)
        if grid is not None:
            levels = int(grid[1].max() - grid[1].min()) + 1
            out.append((t.shape[0] * item + 32 + n * _index_bits(levels), "row-scale"))
    return out, grid


def _encode(
    t: torch.Tensor, encoding: str, grid: tuple[torch.Tensor, torch.Tensor] | None = None
) -> tuple[list[bytes], int, int]:
    """Streams, index bits and palette size of ``t`` under ``encoding`` (``grid``: ``t``'s row grid if known)."""
    flat = t.detach().cpu().reshape(-1)
    if encoding == "raw":
        return [_bytes_of(flat)], 0, 0
    if encoding == "palette":
        values, codes = torch.unique(flat, return_inverse=True)
        bits = _index_bits(values.numel())
        return [_bytes_of(values), _pack_codes(codes.numpy(), bits)], bits, int(values.numel())
    if encoding in ("sparse-raw", "sparse-palette"):
        mask = flat != 0
        mask_bytes = np.packbits(mask.numpy(), bitorder="little").tobytes()
        nz = flat[mask]
        if encoding == "sparse-raw":
            return [mask_bytes, _bytes_of(nz)], 0, 0
        values, codes = torch.unique(nz, return_inverse=True)
        bits = _index_bits(values.numel())
        return [mask_bytes, _bytes_of(values), _pack_codes(codes.numpy(), bits)], bits, int(values.numel())
    if encoding == "row-scale":  # one step per row, the codes offset by the grid's lowest level (an int32)
        if grid is None:
            grid = _row_grid(t.detach().cpu())
        if grid is None:
            raise ValueError("row-scale applies only to a tensor whose rows are exact integer grids")
        steps, codes = grid
        lo = int(codes.min())
        levels = int(codes.max()) - lo + 1
        bits = _index_bits(levels)
        return (
            [_bytes_of(steps), struct.pack("<i", lo), _pack_codes((codes - lo).reshape(-1).numpy(), bits)],
            bits,
            levels,
        )
    # row-palette: every row's distinct values, padded to the longest with the row's last value
    rows = flat.reshape(t.shape[0], -1)
    uniques = [torch.unique(r, return_inverse=True) for r in rows]
    k = max(int(u.numel()) for u, _ in uniques)
    table = torch.stack([torch.cat([u, u[-1:].expand(k - u.numel())]) for u, _ in uniques])
    codes = torch.cat([c for _, c in uniques])
    bits = _index_bits(k)
    return [_bytes_of(table), _pack_codes(codes.numpy(), bits)], bits, k


def encoded_size(t: torch.Tensor, encoding: str | None = None) -> int:
    """Bytes tensor ``t`` takes in a packed file before the codec (its streams; the header record aside): under
    ``encoding`` (one of :data:`ENCODINGS` that applies to ``t``), or under the one :func:`pack` chooses (None).

    Example: ``{e: encoded_size(w, e) for e in applicable}`` shows why a pruned, 16-level weight is stored as
    ``sparse-palette``."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"t must be a torch.Tensor, got {type(t).__name__}")
    if encoding is not None and encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS} or None, got {encoding!r}")
    t = t.detach().cpu()
    sizes, grid = _candidates(t) if t.is_floating_point() and t.numel() > 0 else ([(0, "raw")], None)
    applicable = [e for _, e in sizes]
    if encoding is None:
        encoding = min(sizes)[1]
    elif encoding not in applicable:
        raise ValueError(f"encoding {encoding!r} does not apply to this {t.dtype} tensor; it takes {applicable}")
    parts, _, _ = _encode(t, encoding, grid)
    return sum(len(p) for p in parts)


def _decode(entry: Mapping[str, object], streams: list[bytes]) -> torch.Tensor:
    dtype = _DTYPES[str(entry["dtype"])]
    shape = tuple(int(s) for s in entry["shape"])  # type: ignore[union-attr]
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    item = torch.empty((), dtype=dtype).element_size()
    encoding, bits, k = entry["encoding"], int(entry["bits"]), int(entry["palette"])  # type: ignore[arg-type]

    def values(buf: bytes, count: int) -> torch.Tensor:
        if len(buf) != count * item:
            raise PackFormatError(
                f"tensor {entry['name']!r}: a value stream holds {len(buf)} bytes, not {count * item}"
            )
        return (
            torch.frombuffer(bytearray(buf), dtype=torch.uint8).view(dtype).clone()
            if count
            else torch.empty(0, dtype=dtype)
        )

    def lookup(table: torch.Tensor, codes: np.ndarray) -> torch.Tensor:
        if codes.size and int(codes.max()) >= table.numel():
            raise PackFormatError(f"tensor {entry['name']!r}: an index points past its palette of {table.numel()}")
        return table[torch.from_numpy(codes)]

    if encoding == "raw":
        flat = values(streams[0], n)
    elif encoding == "palette":
        flat = lookup(values(streams[0], k), _unpack_codes(streams[1], n, bits))
    elif encoding in ("sparse-raw", "sparse-palette"):
        if len(streams[0]) != (n + 7) // 8:
            raise PackFormatError(f"tensor {entry['name']!r}: its bitmask holds {len(streams[0])} bytes")
        mask = torch.from_numpy(
            np.unpackbits(np.frombuffer(streams[0], dtype=np.uint8), count=n, bitorder="little").astype(bool)
        )
        nnz = int(mask.sum())
        if nnz != int(entry["nnz"]):  # type: ignore[arg-type]
            raise PackFormatError(f"tensor {entry['name']!r}: its bitmask has {nnz} ones, header says {entry['nnz']}")
        if encoding == "sparse-raw":
            nz = values(streams[1], nnz)
        else:
            nz = lookup(values(streams[1], k), _unpack_codes(streams[2], nnz, bits))
        flat = torch.zeros(n, dtype=dtype)
        flat[mask] = nz
    elif encoding == "row-palette":
        rows = shape[0]
        table = values(streams[0], rows * k).reshape(rows, k)
        codes = _unpack_codes(streams[1], n, bits).reshape(rows, -1)
        if codes.size and int(codes.max()) >= k:
            raise PackFormatError(f"tensor {entry['name']!r}: an index points past its palette of {k}")
        flat = torch.gather(table, 1, torch.from_numpy(codes)).reshape(-1)
    elif encoding == "row-scale":
        rows = shape[0] if shape else 0
        if rows < 1 or len(streams[1]) != 4:
            raise PackFormatError(f"tensor {entry['name']!r}: a row-scale tensor needs rows and a 4-byte offset")
        steps = values(streams[0], rows)
        (lo,) = struct.unpack("<i", streams[1])
        codes = _unpack_codes(streams[2], n, bits)
        if codes.size and int(codes.max()) >= k:
            raise PackFormatError(f"tensor {entry['name']!r}: a code points past its grid of {k} levels")
        q = torch.from_numpy(codes + lo).to(dtype).reshape(rows, -1)
        flat = (q * steps[:, None]).reshape(-1)
    else:
        raise PackFormatError(f"tensor {entry['name']!r}: unknown encoding {encoding!r}")
    return flat.reshape(shape)


_STREAMS = {"raw": 1, "palette": 2, "row-palette": 2, "sparse-raw": 2, "sparse-palette": 3, "row-scale": 3}


# ----------------------------------------------------------------------------------------------------
# The file


def _state(model: nn.Module | Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    if isinstance(model, nn.Module):
        from torch.nn.utils import prune as torch_prune

        if torch_prune.is_pruned(model):
            raise ValueError(
                "model carries torch.nn.utils.prune masks; call effdl.compress.prune.make_permanent_ first"
            )
        from torch.nn.utils import parametrize

        if any(parametrize.is_parametrized(m) for m in model.modules()):
            raise ValueError(
                "model carries parametrizations (fake-quantizers?); bake them in first, e.g. "
                "effdl.compress.quant.remove_quantization_(model, keep=True)"
            )
        return dict(model.state_dict())
    if isinstance(model, Mapping) and all(isinstance(v, torch.Tensor) for v in model.values()):
        return dict(model)
    raise TypeError(f"model must be a torch.nn.Module or a state_dict of tensors, got {type(model).__name__}")


def _compress(body: bytes, codec: str) -> bytes:
    if codec == "none":
        return body
    if codec == "zlib":
        return zlib.compress(body, 9)
    if codec == "lzma":
        return lzma.compress(body, preset=9)
    from effdl.hardware import lzss

    return lzss.compress(body, symbol_size=1, backend="cpu" if _numba() else "auto")


def _numba() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover - numba is a dependency
        return False
    return True


def _decompress(coded: bytes, codec: str, length: int) -> bytes:
    try:
        if codec == "none":
            body = coded
        elif codec == "zlib":
            body = zlib.decompress(coded)
        elif codec == "lzma":
            body = lzma.decompress(coded)
        else:
            from effdl.hardware import lzss

            body = lzss.decompress(coded)
    except (zlib.error, lzma.LZMAError, ValueError) as err:
        raise PackFormatError(f"the {codec} body does not decode: {err}") from err
    if len(body) != length:
        raise PackFormatError(f"the body decodes to {len(body)} bytes, the prefix says {length}")
    return body


def pack(model: nn.Module | Mapping[str, torch.Tensor], *, codec: str = "lzss") -> bytes:
    """The packed file of ``model``'s ``state_dict`` (or of a state dict), as bytes; ``len()`` is its size on disk.

    Each floating tensor gets the smallest lossless encoding (see the module docstring), so a pruned model pays a
    bitmask and its non-zeros, and a weight with ``K`` distinct values ``⌈log2 K⌉`` bits per element; ``codec``
    (``"none"``, ``"lzss"`` — effdl's GPULZ-style codec, the default —, ``"zlib"`` or ``"lzma"``) then codes the
    whole body; the coded body is kept only if smaller. Bake pruning masks and fake-quantizers in first
    (``prune.make_permanent_``, ``quant.remove_quantization_(keep=True)``): a ``ValueError`` says so otherwise.
    """
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {CODECS}, got {codec!r}")
    state = _state(model)
    header: list[dict[str, object]] = []
    streams: list[bytes] = []
    for name, t in state.items():
        if t.dtype not in _NAMES:
            raise ValueError(f"tensor {name!r} has dtype {t.dtype}; packable dtypes: {sorted(_DTYPES)}")
        t = t.detach().cpu()
        encoding, grid = "raw", None
        if t.is_floating_point() and t.numel() > 0:
            sizes, grid = _candidates(t)
            encoding = min(sizes)[1]
        parts, bits, k = _encode(t, encoding, grid)
        header.append(
            {
                "name": name,
                "dtype": _NAMES[t.dtype],
                "shape": list(t.shape),
                "encoding": encoding,
                "bits": bits,
                "palette": k,
                "nnz": int(torch.count_nonzero(t)),
                "lengths": [len(p) for p in parts],
            }
        )
        streams += parts
    head = b"".join(_entry_bytes(e) for e in header)
    body = struct.pack("<II", len(head), len(header)) + head + b"".join(streams)
    coded, used = body, "none"
    if codec != "none":
        candidate = _compress(body, codec)
        if len(candidate) < len(body):
            coded, used = candidate, codec
    return _PREFIX.pack(MAGIC, _CODEC_ID[used], len(body), zlib.crc32(body)) + coded


_DTYPE_IDS = {name: i for i, name in enumerate(_DTYPES)}
_ENCODING_IDS = {name: i for i, name in enumerate(ENCODINGS)}
_ENTRY = struct.Struct("<BBBBII")  # dtype, encoding, ndim, bits, palette, nnz


def _entry_bytes(e: Mapping[str, object]) -> bytes:
    """One tensor's header record: u16 name length, UTF-8 name, dtype/encoding/ndim/bits (u8), palette and nnz
    (u32), the dims (u32 each) and the stream lengths (u32 each; their count follows from the encoding)."""
    name = str(e["name"]).encode()
    shape, lengths = list(e["shape"]), list(e["lengths"])  # type: ignore[call-overload]
    if len(name) > 0xFFFF or len(shape) > 255 or any(d > 0xFFFFFFFF for d in shape):
        raise ValueError(f"tensor {e['name']!r}: name, rank or a dimension is too large for the format")
    fixed = _ENTRY.pack(
        _DTYPE_IDS[str(e["dtype"])], _ENCODING_IDS[str(e["encoding"])], len(shape), e["bits"], e["palette"], e["nnz"]
    )
    return struct.pack("<H", len(name)) + name + fixed + struct.pack(f"<{len(shape) + len(lengths)}I", *shape, *lengths)


def _parse_entries(raw: bytes, count: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    pos = 0
    try:
        for _ in range(count):
            (n,) = struct.unpack_from("<H", raw, pos)
            name = raw[pos + 2 : pos + 2 + n].decode()
            pos += 2 + n
            dtype, enc, ndim, bits, palette, nnz = _ENTRY.unpack_from(raw, pos)
            pos += _ENTRY.size
            encoding = ENCODINGS[enc]
            k = ndim + _STREAMS[encoding]
            values = struct.unpack_from(f"<{k}I", raw, pos)
            pos += 4 * k
            out.append(
                {
                    "name": name,
                    "dtype": list(_DTYPES)[dtype],
                    "shape": list(values[:ndim]),
                    "encoding": encoding,
                    "bits": bits,
                    "palette": palette,
                    "nnz": nnz,
                    "lengths": list(values[ndim:]),
                }
            )
    except (struct.error, UnicodeDecodeError, IndexError) as err:
        raise PackFormatError(f"the header is malformed: {err}") from err
    if pos != len(raw):
        raise PackFormatError(f"the header holds {len(raw) - pos} bytes after its {count} records")
    return out


def _read(blob: bytes | bytearray | memoryview) -> tuple[list[dict[str, object]], bytes, int, str]:
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise TypeError(f"blob must be bytes-like, got {type(blob).__name__}")
    blob = bytes(blob)
    if len(blob) < _PREFIX.size:
        raise PackFormatError(f"blob holds {len(blob)} bytes, fewer than the {_PREFIX.size}-byte prefix")
    magic, codec_id, length, crc = _PREFIX.unpack_from(blob)
    if magic != MAGIC:
        raise PackFormatError(f"blob does not start with {MAGIC!r}: not an effdl packed model")
    if codec_id >= len(CODECS):
        raise PackFormatError(f"unknown codec id {codec_id}; known: {dict(enumerate(CODECS))}")
    if length > _MAX_BODY:
        raise PackFormatError(f"body length {length} exceeds the {_MAX_BODY}-byte bound")
    body = _decompress(blob[_PREFIX.size :], CODECS[codec_id], length)
    if zlib.crc32(body) != crc:
        raise PackFormatError("the body's CRC32 does not match: the file is corrupted")
    if len(body) < 8:
        raise PackFormatError("the body is shorter than its 8-byte header prefix")
    hlen, count = struct.unpack_from("<II", body)
    if 8 + hlen > len(body):
        raise PackFormatError("the header length points past the body")
    header = _parse_entries(body[8 : 8 + hlen], count)
    return header, body[8 + hlen :], len(blob), CODECS[codec_id]


def unpack(blob: bytes | bytearray | memoryview) -> dict[str, torch.Tensor]:
    """The state dict a :func:`pack` file holds, tensor for tensor equal to the packed one (dtypes included)."""
    header, payload, _, _ = _read(blob)
    out: dict[str, torch.Tensor] = {}
    pos = 0
    for entry in header:
        try:
            name, encoding, lengths = entry["name"], entry["encoding"], [int(x) for x in entry["lengths"]]  # type: ignore[union-attr]
            if encoding not in _STREAMS or len(lengths) != _STREAMS[str(encoding)] or entry["dtype"] not in _DTYPES:
                raise PackFormatError(f"tensor {name!r}: bad encoding/dtype/stream count in the header")
            streams = []
            for n in lengths:
                if n < 0 or pos + n > len(payload):
                    raise PackFormatError(f"tensor {name!r}: its streams run past the end of the file")
                streams.append(payload[pos : pos + n])
                pos += n
            out[str(name)] = _decode(entry, streams)  # type: ignore[arg-type]
        except (KeyError, TypeError, RuntimeError) as err:
            raise PackFormatError(f"a header entry is malformed: {err!r}") from err
    if pos != len(payload):
        raise PackFormatError(f"{len(payload) - pos} bytes follow the last tensor")
    return out


def inspect(blob: bytes | bytearray | memoryview) -> list[PackedTensor]:
    """Per tensor: its encoding, index bits, palette size, non-zeros and stored bytes (before the codec)."""
    header, _, _, _ = _read(blob)
    return [
        PackedTensor(
            name=str(e["name"]),
            dtype=str(e["dtype"]),
            shape=tuple(int(s) for s in e["shape"]),  # type: ignore[union-attr]
            encoding=str(e["encoding"]),
            bits=int(e["bits"]),  # type: ignore[arg-type]
            palette=int(e["palette"]),  # type: ignore[arg-type]
            nnz=int(e["nnz"]),  # type: ignore[arg-type]
            nbytes=sum(int(x) for x in e["lengths"]),  # type: ignore[union-attr]
        )
        for e in header
    ]


def load_packed(blob: bytes | bytearray | memoryview, model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` (the architecture: same tensor names and shapes) holding the weights of ``blob``."""
    import copy

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    state = unpack(blob)
    out = copy.deepcopy(model)
    expected = out.state_dict()
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise ValueError(f"blob does not fit model: missing {missing[:5]}, unexpected {extra[:5]}")
    wrong = [k for k in expected if expected[k].shape != state[k].shape]
    if wrong:
        k = wrong[0]
        raise ValueError(
            f"blob does not fit model: {k} is {tuple(state[k].shape)} in the file, {tuple(expected[k].shape)}"
        )
    out.load_state_dict(state)
    return out
