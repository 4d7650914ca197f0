"""Inputs for the LZSS benchmark and notebook 09: the multi-byte data GPULZ targets, built from real sources.

- :func:`lorenzo_codes`: uint16 quantization codes of a float field, as cuSZ (Tian et al. 2020) makes them;
- :func:`sample_field`: the real fields shipped with matplotlib (``topobathy`` elevation, the ``jacksboro`` DEM);
- :func:`model_weights`, :func:`int8_weight_codes`, :func:`csr_indices`: a model's weights as fp32/bf16 bytes, its
  8-bit quantization codes (:mod:`effdl.compress.quant`) and the int32 column indices of its pruned weights in CSR
  (:mod:`effdl.compress.prune` + ``torch.Tensor.to_sparse_csr``);
- :func:`csr_streams`: a pruned + quantized model as the streams a sparse file holds (Deep Compression's tail);
- :func:`python_source`: the CPython standard library's own ``.py`` files, read in sorted order;
- :func:`random_walk_codes`: seeded uint16 random-walk codes, data where the 255-symbol window loses to lz4 and zlib;
- :func:`repeat_distance`: how far back each short string of symbols last occurred (what a window must reach);
- :func:`benchmark_datasets`: all of them for one trained model, as flat numpy arrays whose dtype is the item size.

Everything here is deterministic: the same model (and arguments, ``seed`` included) gives the same bytes.
"""

from __future__ import annotations

import os
import sysconfig
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

__all__ = [
    "FIELDS",
    "benchmark_datasets",
    "csr_indices",
    "csr_streams",
    "int8_weight_codes",
    "lorenzo_codes",
    "model_weights",
    "python_source",
    "random_walk_codes",
    "repeat_distance",
    "sample_field",
]

# name → (matplotlib sample file, array key): real fields that ship with matplotlib, so no download is needed
FIELDS = {
    "topobathy": ("topobathy.npz", "topo"),  # float32 (91, 120): elevation and bathymetry, metres
    "jacksboro": ("jacksboro_fault_dem.npz", "elevation"),  # int16 (344, 403): a digital elevation model, metres
}
_SOURCE_EXCLUDED_DIRS = {"site-packages", "dist-packages", "test", "tests", "idlelib", "turtledemo", "__pycache__"}


def sample_field(name: str) -> np.ndarray:
    """A real 2-D field from matplotlib's sample data: ``"topobathy"`` (float32, 91 × 120) or ``"jacksboro"``
    (int16, 344 × 403)."""
    if name not in FIELDS:
        raise ValueError(f"name must be one of {sorted(FIELDS)}, got {name!r}")
    import matplotlib.cbook

    file, key = FIELDS[name]
    return np.asarray(matplotlib.cbook.get_sample_data(file)[key])


def lorenzo_codes(field: np.ndarray, *, rel_error: float = 1e-2) -> np.ndarray:
    """uint16 codes of a 2-D field, as cuSZ makes them: error-bounded quantization, then Lorenzo prediction.

    With ``eb = rel_error × (max − min)``: prequantize ``q = round(x / (2·eb))`` (so ``|x − 2·eb·q| ≤ eb``), predict
    each ``q`` from its west, north and north-west neighbours (``q[i−1, j] + q[i, j−1] − q[i−1, j−1]``; the first row
    and column from their one neighbour, ``q[0, 0]`` from 0) and keep the residual ``δ = q − pred`` offset by the
    radius 32768. A residual with ``|δ| ≥ 32768`` is an outlier, coded 0 (cuSZ stores those apart). On a smooth
    field most codes sit near 32768: low-entropy 2-byte symbols, the data GPULZ was built for.

    Returns uint16 of ``field``'s shape.
    """
    x = np.asarray(field)
    if x.ndim != 2 or x.size == 0:
        raise ValueError(f"field must be a non-empty 2-D array, got shape {x.shape}")
    if not 0 < rel_error < 1:
        raise ValueError(f"rel_error must be in (0, 1), got {rel_error!r}")
    x = x.astype(np.float64)
    if not np.isfinite(x).all():
        raise ValueError("field must be finite, got NaN or inf values")
    span = float(x.max() - x.min()) or 1.0  # a constant field: any step works
    q = np.round(x / (2 * rel_error * span)).astype(np.int64)
    pred = np.zeros_like(q)
    pred[1:, 1:] = q[:-1, 1:] + q[1:, :-1] - q[:-1, :-1]
    pred[0, 1:], pred[1:, 0] = q[0, :-1], q[:-1, 0]
    delta = q - pred
    return np.where(np.abs(delta) < 32768, delta + 32768, 0).astype(np.uint16)


def random_walk_codes(n: int, *, max_step: int = 4, seed: int | None = 0) -> np.ndarray:
    """uint16 codes of a random walk: ``32768 + cumsum(steps)``, each step uniform in ``−max_step..max_step``.

    Neighbouring codes differ by a few units, so the data looks smooth, yet a short run of codes rarely recurs within a
    few hundred positions: its repeats lie thousands of codes back, beyond LZSS's 255-symbol window and within lz4's
    64 KB one. Values wrap modulo 2^16, as uint16 arithmetic does (a walk of ``n`` steps strays about
    ``max_step·sqrt(n/3)`` from 32768: no wrap below ~10^7 steps at the default). Returns uint16[n].
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int ≥ 1, got {n!r}")
    if isinstance(max_step, bool) or not isinstance(max_step, int) or not 1 <= max_step <= 32767:
        raise ValueError(f"max_step must be an int in 1..32767, got {max_step!r}")
    steps = np.random.default_rng(seed).integers(-max_step, max_step + 1, n)
    return ((32768 + np.cumsum(steps)) % 65536).astype(np.uint16)


def repeat_distance(x: np.ndarray, *, length: int = 2) -> np.ndarray:
    """For every position ``i`` of the 1-D array ``x``: how many items back the string ``x[i : i + length]`` last
    occurred (``i − j`` for the latest ``j < i`` with the same ``length`` items), 0 where it has not occurred before.

    A match of ``length`` symbols at ``i`` is only found by a codec whose window reaches that distance: LZSS's 255
    symbols, lz4's 64 KB. Returns int64[len(x) − length + 1] (empty when ``x`` is shorter than ``length``).
    """
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"x must be a 1-D array, got shape {a.shape}")
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"length must be an int ≥ 1, got {length!r}")
    m = a.size - length + 1
    if m <= 0:
        return np.zeros(0, dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(a, length)
    key = np.unique(windows, axis=0, return_inverse=True)[1].reshape(-1)
    order = np.lexsort((np.arange(m), key))  # by string, then by position
    same = key[order[1:]] == key[order[:-1]]
    out = np.zeros(m, dtype=np.int64)
    out[order[1:]] = np.where(same, order[1:] - order[:-1], 0)
    return out


def _layers(model: nn.Module) -> dict[str, nn.Module]:
    layers = {n: m for n, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)}
    if not layers:
        raise ValueError("model has no Conv2d/Linear layer")
    return layers


def model_weights(model: nn.Module, *, dtype: torch.dtype = torch.float32) -> np.ndarray:
    """Every floating-point parameter of ``model`` (in ``named_parameters`` order), flattened and concatenated, in
    ``dtype``: float32 → a float32 array; bfloat16 or float16 → their bits as a uint16 array (numpy has no bfloat16;
    the bytes are what a file would hold)."""
    if dtype not in (torch.float32, torch.bfloat16, torch.float16):
        raise ValueError(f"dtype must be torch.float32, torch.bfloat16 or torch.float16, got {dtype!r}")
    params = [p.detach().reshape(-1) for p in model.parameters() if p.is_floating_point()]
    if not params:
        raise ValueError("model has no floating-point parameters")
    flat = torch.cat(params).cpu().to(dtype)
    return flat.numpy() if dtype == torch.float32 else flat.view(torch.int16).numpy().view(np.uint16)


def int8_weight_codes(model: nn.Module) -> np.ndarray:
    """int8 codes of every Conv2d/Linear weight: symmetric 8-bit, one scale per output channel (min-max), as
    :func:`effdl.compress.quant.quantize` gives them; flattened and concatenated (the scales are not included)."""
    from effdl.compress import quant

    codes = []
    for layer in _layers(model).values():
        w = layer.weight.detach().float().cpu()
        codes.append(quant.quantize(w, quant.calibrate(w, bits=8, axis=0)).reshape(-1))
    return torch.cat(codes).numpy().astype(np.int8)


def _csr(matrix: torch.Tensor) -> torch.Tensor:
    """``matrix.to_sparse_csr()`` without PyTorch's "sparse CSR support is in beta" warning: CSR is used here only
    to read its index arrays, which are stable."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta", category=UserWarning)
        return matrix.to_sparse_csr()


def csr_indices(model: nn.Module, *, sparsity: float | None = 0.9) -> np.ndarray:
    """int32 column indices of every Conv2d/Linear weight in CSR form (a weight as a ``(out, in·k·k)`` matrix,
    ``torch.Tensor.to_sparse_csr``), concatenated: the index stream of a sparse model on disk.

    ``sparsity``: global magnitude pruning of a copy (:func:`effdl.compress.prune.magnitude_prune_`) to this fraction
    of zeros first (deterministic); ``None`` takes the model's zeros as they are (an already pruned model).
    """
    if sparsity is not None:
        from effdl.compress import prune

        model = prune.make_permanent_(prune.magnitude_prune_(prune.copy_model(model), sparsity))
    parts = []
    for layer in _layers(model).values():
        w = layer.weight.detach().float().cpu()
        parts.append(_csr(w.reshape(w.shape[0], -1)).col_indices().to(torch.int32))
    return torch.cat(parts).numpy()


def csr_streams(model: nn.Module, *, bits: int = 8) -> dict[str, np.ndarray]:
    """A pruned model's Conv2d/Linear weights as the streams a sparse, quantized file holds — Deep Compression's
    layout (Han et al. 2016) without its Huffman stage, which is where a lossless codec comes in.

    Each weight, as an ``(out, in·k·k)`` matrix, becomes CSR (its zeros are the pruned weights); its non-zeros are
    quantized to ``bits``-bit symmetric codes, one min-max scale per output channel. Concatenated over layers:

    - ``"values (int8 codes)"``: int8 codes of the non-zeros (``bits`` ≤ 8);
    - ``"column indices (int32)"``: the column of every non-zero, as ``to_sparse_csr`` gives it;
    - ``"column gaps (uint16)"``: the same, relative — a row's first column as is, then the differences to the
      previous one (Deep Compression stores relative indices too; small, repetitive numbers suit LZ codecs);
    - ``"row pointers (int32)"``: ``crow_indices`` (``out + 1`` per layer);
    - ``"scales (fp32)"``: the per-channel scales.

    Biases and BatchNorm parameters are left out (they are kept dense in any case).
    """
    from effdl.compress import quant

    if isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= 8:
        raise ValueError(f"bits must be an int in 2..8, got {bits!r}")
    parts: dict[str, list[np.ndarray]] = {
        "values (int8 codes)": [],
        "column indices (int32)": [],
        "column gaps (uint16)": [],
        "row pointers (int32)": [],
        "scales (fp32)": [],
    }
    for name, layer in _layers(model).items():
        w = layer.weight.detach().float().cpu()
        w = w.reshape(w.shape[0], -1)
        if w.shape[1] > 1 << 16:
            raise ValueError(f"layer {name} has {w.shape[1]} columns; column gaps need at most 65536")
        qp = quant.calibrate(w, bits=bits, axis=0)
        codes = quant.quantize(w, qp).to(torch.int8)
        csr = _csr(w)
        crow, col = csr.crow_indices(), csr.col_indices()
        rows = torch.repeat_interleave(torch.arange(w.shape[0]), crow.diff())
        gaps = col.clone()
        inner = torch.ones_like(col, dtype=torch.bool)
        inner[crow[:-1][crow.diff() > 0]] = False  # a row's first non-zero keeps its column
        gaps[inner] = col[inner] - col[torch.nonzero(inner).squeeze(1) - 1]
        parts["values (int8 codes)"].append(codes[rows, col].numpy())
        parts["column indices (int32)"].append(col.to(torch.int32).numpy())
        parts["column gaps (uint16)"].append(gaps.numpy().astype(np.uint16))
        parts["row pointers (int32)"].append(crow.to(torch.int32).numpy())
        parts["scales (fp32)"].append(qp.scale.reshape(-1).float().numpy())
    return {k: np.ascontiguousarray(np.concatenate(v)) for k, v in parts.items()}


def _source_files(stdlib: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(stdlib):
        dirnames[:] = sorted(d for d in dirnames if d not in _SOURCE_EXCLUDED_DIRS)
        found += [Path(dirpath) / f for f in filenames if f.endswith(".py")]
    return sorted(found, key=lambda p: p.relative_to(stdlib).as_posix())


def python_source(max_bytes: int = 1 << 20) -> bytes:
    """The first ``max_bytes`` bytes of the CPython standard library's ``.py`` files (sorted by path, tests and
    demos left out), as stored on disk (UTF-8): always present, and real text."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError(f"max_bytes must be an int ≥ 1, got {max_bytes!r}")
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    out = bytearray()
    for path in _source_files(stdlib):
        out += path.read_bytes()
        if len(out) >= max_bytes:
            break
    return bytes(out[:max_bytes])


def benchmark_datasets(
    model: nn.Module,
    *,
    max_bytes: int | None = None,
    text_bytes: int = 1 << 20,
    rel_error: float = 1e-2,
    sparsity: float = 0.9,
) -> dict[str, np.ndarray]:
    """The benchmark's inputs for a (trained) ``model``, as flat numpy arrays (dtype = the item size a codec sees):

    ``fp32 weights``, ``bf16 weights`` (uint16 bits), ``int8 weights`` (:func:`int8_weight_codes`), ``int32 CSR
    indices`` (:func:`csr_indices` at ``sparsity``), ``uint16 codes (topobathy)`` and ``uint16 codes (DEM)``
    (:func:`lorenzo_codes` at ``rel_error``), ``int16 DEM`` (the raw jacksboro elevations: noisy, near incompressible)
    and ``Python source`` (:func:`python_source`, ``text_bytes``). ``max_bytes`` truncates each one (whole items).
    """
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 4):
        raise ValueError(f"max_bytes must be None or an int ≥ 4, got {max_bytes!r}")
    dem = sample_field("jacksboro")
    out = {
        "fp32 weights": model_weights(model),
        "bf16 weights": model_weights(model, dtype=torch.bfloat16),
        "int8 weights": int8_weight_codes(model),
        "int32 CSR indices": csr_indices(model, sparsity=sparsity),
        "uint16 codes (topobathy)": lorenzo_codes(sample_field("topobathy"), rel_error=rel_error).reshape(-1),
        "uint16 codes (DEM)": lorenzo_codes(dem, rel_error=rel_error).reshape(-1),
        "int16 DEM": dem.reshape(-1).astype(np.int16),
        "Python source": np.frombuffer(python_source(text_bytes), dtype=np.uint8),
    }
    if max_bytes is not None:
        out = {k: v[: max_bytes // v.itemsize] for k, v in out.items()}
    return {k: np.ascontiguousarray(v) for k, v in out.items()}
