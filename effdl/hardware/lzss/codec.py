"""The public entry points: :func:`compress`, :func:`decompress`, :func:`choose_symbol_size` (argument checks,
input conversion, backend dispatch). The format lives in :mod:`.format`, the algorithms in the backend modules."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import torch

from effdl.core.checks import is_int
from effdl.hardware.lzss import cpu, reference, torch_backend
from effdl.hardware.lzss.format import SHUFFLE_SIZES, SYMBOL_SIZES, check_params

__all__ = [
    "AUTO_SAMPLE_CHUNKS",
    "BACKENDS",
    "DECODE_BACKENDS",
    "choose_symbol_size",
    "compress",
    "decompress",
    "shuffle_sizes",
]

BACKENDS = ("auto", "cpu", "torch", "cuda", "reference")
DECODE_BACKENDS = ("auto", "cpu", "cuda", "reference")
AUTO_SAMPLE_CHUNKS = 16  # chunks compressed twice (S and 1 byte) when symbol_size="auto" has to decide

Data = bytes | bytearray | memoryview | np.ndarray | torch.Tensor


def _as_raw(data: object) -> tuple[np.ndarray | torch.Tensor, int]:
    """The input's bytes (C order, as stored) as a 1-D uint8 array or tensor, and its item size in bytes."""
    if isinstance(data, torch.Tensor):
        t = data.detach().contiguous().reshape(-1)
        return t.view(torch.uint8), t.element_size()
    if isinstance(data, np.ndarray):
        if data.dtype.hasobject:
            raise TypeError(f"data must hold plain values, got a numpy array of dtype {data.dtype}")
        a = np.ascontiguousarray(data).reshape(-1)
        return a.view(np.uint8), a.dtype.itemsize
    if isinstance(data, (bytes, bytearray)):
        return np.frombuffer(data, dtype=np.uint8), 1
    if isinstance(data, memoryview):
        return np.frombuffer(data.cast("B") if data.c_contiguous else data.tobytes(), dtype=np.uint8), data.itemsize
    raise TypeError(
        f"data must be bytes, bytearray, memoryview, a numpy array or a torch tensor, got {type(data).__name__}"
    )


def _check_device(device: object) -> torch.device | None:
    if device is None:
        return None
    try:
        return torch.device(device)  # type: ignore[arg-type]
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be a torch device such as 'cpu' or 'cuda', got {device!r}") from exc


def _cuda_backend() -> ModuleType:
    """:mod:`.cuda_backend`, imported on first use: it imports ``numba.cuda``, which CPU-only paths never need."""
    from effdl.hardware.lzss import cuda_backend

    return cuda_backend


def _resolve_backend(backend: object, raw: np.ndarray | torch.Tensor, device: torch.device | None) -> str:
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    target = device if device is not None else raw.device if isinstance(raw, torch.Tensor) else None
    on_accelerator = target is not None and target.type != "cpu"
    if backend == "auto":
        # keep accelerator data where it is (the CUDA kernels when numba can launch them, else tensor ops); else
        # numba, else the vectorized torch path (the reference is slow)
        if on_accelerator:
            return "cuda" if target.type == "cuda" and _cuda_backend().available() else "torch"
        return "cpu" if cpu.AVAILABLE else "torch"
    if backend == "cuda":
        # host data (numpy, bytes, a CPU tensor) is copied to the GPU; an explicit device must be a CUDA one
        if target is not None and target.type != "cuda" and (device is not None or target.type != "cpu"):
            raise ValueError(
                f"backend='cuda' computes on a CUDA GPU: device must be None or a CUDA device such as 'cuda' or "
                f"'cuda:0', got device={str(target)!r}"
            )
        return backend
    if backend != "torch" and device is not None and device.type != "cpu":
        raise ValueError(
            f"device={str(device)!r} needs backend='torch' or, for a CUDA device, 'cuda' (or 'auto'), got "
            f"backend={backend!r}"
        )
    return backend


def _run(
    raw: np.ndarray | torch.Tensor, s: int, w: int, c: int, backend: str, device: torch.device | None, e: int = 0
) -> bytes:
    if backend == "torch":
        t = raw if isinstance(raw, torch.Tensor) else torch.from_numpy(raw.copy())  # copy: frombuffer is read-only
        return torch_backend.compress(t.to(device) if device is not None else t, s, w, c, e)
    if backend == "cuda":
        cuda_backend = _cuda_backend()
        cuda_backend.require()
        return cuda_backend.compress(raw, s, w, c, e, device)
    host = raw.cpu().numpy() if isinstance(raw, torch.Tensor) else raw
    if backend == "cpu":
        return cpu.compress(host, s, w, c, e)
    return reference.compress(host, s, w, c, e)


def shuffle_sizes(shuffle: object, itemsize: int) -> tuple[int, ...]:
    """The shuffle element sizes ``compress(..., shuffle=shuffle)`` tries on data of item size ``itemsize`` bytes
    (0 = no filter): ``False`` → (0,); ``True`` → (itemsize,), which must be 2, 4 or 8; an int 2, 4 or 8 → that one
    (also for bytes input); ``"auto"`` → (0, itemsize) when the item size is 2, 4 or 8, else (0,).
    Raises ``ValueError`` naming the argument for anything else (``1`` too: shuffling 1-byte elements changes nothing).
    """
    allowed = "False, True, 'auto' or an element size in (2, 4, 8)"
    if isinstance(shuffle, (bool, np.bool_)):
        if not shuffle:
            return (0,)
        if itemsize not in SHUFFLE_SIZES[1:]:
            raise ValueError(
                f"shuffle=True shuffles elements of the data's item size, which must be 2, 4 or 8 bytes, got item "
                f"size {itemsize}; for bytes input pass shuffle=2, 4 or 8 (the element size), or shuffle=False"
            )
        return (itemsize,)
    if isinstance(shuffle, str):
        if shuffle != "auto":
            raise ValueError(f"shuffle must be {allowed}, got {shuffle!r}")
        return (0, itemsize) if itemsize in SHUFFLE_SIZES[1:] else (0,)
    if is_int(shuffle) and shuffle in SHUFFLE_SIZES[1:]:
        return (int(shuffle),)  # type: ignore[call-overload]
    raise ValueError(f"shuffle must be {allowed}, got {shuffle!r}")


def _auto(
    raw: np.ndarray | torch.Tensor, itemsize: int, w: int, c: int, backend: str, device: torch.device | None
) -> tuple[int, bytes | None]:
    """(S, the blob when the sample already was the whole input, else None)."""
    s = 4 if itemsize % 4 == 0 else 2 if itemsize % 2 == 0 else 1
    if s == 1:
        return 1, None
    if c % s:
        raise ValueError(
            f"chunk must be a multiple of the symbol size symbol_size='auto' picks from the item size {itemsize} "
            f"({s} bytes), got {c}; pass symbol_size explicitly or a chunk that is a multiple of {s}"
        )
    sample = raw[: AUTO_SAMPLE_CHUNKS * c]
    wide, narrow = _run(sample, s, w, c, backend, device), _run(sample, 1, w, c, backend, device)
    s = 1 if len(narrow) < len(wide) else s
    if len(sample) == len(raw):
        return s, narrow if s == 1 else wide
    return s, None


def choose_symbol_size(
    data: Data,
    *,
    window: int = 128,
    chunk: int = 2048,
    backend: str = "auto",
    device: str | torch.device | None = None,
) -> int:
    """The symbol size ``symbol_size="auto"`` picks for ``data`` (1, 2 or 4 bytes).

    Rule (our reading of GPULZ: match whole data-type values, but byte symbols when that pays better): start from the
    item size — 4 if it is a multiple of 4 (float32, int32, and 8-byte types such as float64/int64 as two 4-byte
    symbols), else 2 if even (int16, float16, bfloat16), else 1 (bytes, int8, uint8, bool). If that is 2 or 4,
    compress the first ``AUTO_SAMPLE_CHUNKS`` chunks (all of a small input) with it and with 1 byte, same window and
    chunk, and fall back to 1 when the byte symbols give the smaller blob (ties keep the wider symbol). The choice
    depends only on the bytes, so every backend makes the same one.
    """
    raw, itemsize = _as_raw(data)
    dev = _check_device(device)
    check_params(1, window, chunk)
    return _auto(raw, itemsize, window, chunk, _resolve_backend(backend, raw, dev), dev)[0]


def compress(
    data: Data,
    *,
    symbol_size: int | str = "auto",
    window: int = 128,
    chunk: int = 2048,
    shuffle: bool | int | str = False,
    backend: str = "auto",
    device: str | torch.device | None = None,
) -> bytes:
    """LZSS-compress the bytes of ``data`` into a self-describing blob (layout: :mod:`effdl.hardware.lzss.format`).

    Args:
        data: bytes-like, or a numpy array / torch tensor of any shape and dtype; its bytes as stored (C order) are
            compressed, so ``decompress`` returns ``arr.tobytes()``. At most 2**32 − 1 bytes.
        symbol_size: bytes per symbol, 1, 2 or 4, or ``"auto"`` (see :func:`choose_symbol_size`; with the shuffle
            filter on, ``"auto"`` is 1: the shuffled planes are streams of bytes).
        window: how far back a match may start, 1..255 symbols.
        chunk: bytes per independently compressed chunk, a multiple of the symbol size, up to 2**24.
        shuffle: the byte-shuffle filter (blosc's, applied before the LZSS stage and recorded in the header, so
            :func:`decompress` needs no argument). ``False`` (default: the plain GPULZ codec), ``True`` (element
            size E = the data's item size, which must be 2, 4 or 8), an int 2, 4 or 8 (that E, for bytes input
            too) or ``"auto"``: compress without and with the filter (E = item size, when 2, 4 or 8) and keep the
            smaller blob (ties: without), at the cost of compressing twice. See :func:`shuffle_sizes`.
        backend: ``"cpu"`` (numba, parallel over chunks), ``"cuda"`` (numba-cuda kernels on a CUDA GPU; data on the
            host is copied there and back), ``"torch"`` (tensor ops on ``device``), ``"reference"`` (NumPy/Python,
            slow) or ``"auto"``: for data on (or ``device`` naming) a CUDA device ``"cuda"`` when numba can launch
            kernels there, for other accelerators (or without numba's CUDA target) ``"torch"``; else ``"cpu"``, else
            ``"torch"`` on the CPU when numba is missing. All give byte-identical blobs.
        device: where the torch and cuda backends compute, the shuffle filter included (default: the tensor's
            device, else CPU for torch and numba's current GPU for cuda); cuda accepts only None or a CUDA device,
            the other backends only None or a CPU device.

    Returns:
        The blob (bytes); its size over ``len(data bytes)`` is the compression ratio's inverse.
    """
    raw, itemsize = _as_raw(data)
    dev = _check_device(device)
    name = _resolve_backend(backend, raw, dev)
    n = raw.numel() if isinstance(raw, torch.Tensor) else raw.size
    if n > (1 << 32) - 1:
        raise ValueError(f"data must be at most 2**32 - 1 bytes (the format's u32 length), got {n}")
    auto = isinstance(symbol_size, str) and symbol_size == "auto"
    if not auto and (symbol_size not in SYMBOL_SIZES or isinstance(symbol_size, bool)):
        raise ValueError(f"symbol_size must be 'auto' or one of {SYMBOL_SIZES}, got {symbol_size!r}")
    candidates = shuffle_sizes(shuffle, itemsize)
    best: bytes | None = None
    for e in candidates:
        if e:  # shuffled planes are bytes: "auto" means S = 1
            s, w, c = check_params(1 if auto else symbol_size, window, chunk)
            blob = _run(raw, s, w, c, name, dev, e)
        elif auto:
            check_params(1, window, chunk)  # window, and chunk as far as S = 1 goes; _auto checks it against S
            s, sampled = _auto(raw, itemsize, window, chunk, name, dev)
            blob = sampled if sampled is not None else _run(raw, *check_params(s, window, chunk), name, dev)
        else:
            blob = _run(raw, *check_params(symbol_size, window, chunk), name, dev)
        if best is None or len(blob) < len(best):
            best = blob
    assert best is not None
    return best


def decompress(blob: bytes | bytearray | memoryview | np.ndarray, *, backend: str = "auto") -> bytes:
    """Decode a blob made by :func:`compress` back into the original bytes (undoing the shuffle filter when the
    header records one).

    The blob is treated as untrusted: anything but a valid container (truncated, corrupted, forged) raises
    :class:`~effdl.hardware.lzss.format.LZSSFormatError` (a ``ValueError``); the output never exceeds the length the
    header states, itself bounded (see :mod:`effdl.hardware.lzss.format`), and its CRC32 is checked.

    Args:
        blob: bytes-like or a 1-D uint8 numpy array.
        backend: ``"cpu"`` (numba, parallel over chunks), ``"cuda"`` (numba-cuda kernels, one block per chunk; the
            blob goes to the GPU and the bytes come back), ``"reference"`` or ``"auto"`` (``"cpu"`` when numba is
            installed, else ``"reference"``). All accept and reject exactly the same blobs.
    """
    if not isinstance(backend, str) or backend not in DECODE_BACKENDS:
        raise ValueError(f"backend must be one of {DECODE_BACKENDS} for decompress, got {backend!r}")
    if backend == "cuda":
        cuda_backend = _cuda_backend()
        cuda_backend.require()
        return cuda_backend.decompress(blob)
    if backend == "cpu" or (backend == "auto" and cpu.AVAILABLE):
        return cpu.decompress(blob)
    return reference.decompress(blob)
