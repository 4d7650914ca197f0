"""Uniform quantizers of any bit-width (1..16), written out so every step is visible (re-exported by ``quant``).

A uniform quantizer maps a real ``x`` to an integer code ``q = clamp(round(x / scale) + zero_point, qmin, qmax)``
and back to ``x_hat = (q - zero_point) * scale``. Written by hand (not ``torch.ao``'s fake-quantize ops) because
those fix the bit-width conventions and have no 1-bit, mid-rise or MSE-searched ranges; the arithmetic is the lesson.

:class:`QParams` holds ``scale``, ``zero_point``, ``bits``, ``symmetric``, the channel ``axis`` (``None`` =
per-tensor) and, for symmetric quantizers, the ``grid`` (see :data:`GRIDS`):

- ``"full"`` (default): the full signed range ``-2**(b-1) .. 2**(b-1) - 1``, all ``2**b`` codes, with an exact zero
  (as LSQ and ``torch.ao``'s qint8 use). From a symmetric clipping range ``±m`` the step is ``m / 2**(b-1)``: the
  lowest level sits at ``-m`` and the highest one step short of ``+m`` (an even number of levels around an exact zero
  cannot be symmetric), so the largest positive values saturate by at most one step. At 2 bits: ``-m, -m/2, 0, m/2``.
- ``"restricted"``: ``-(2**(b-1) - 1) .. 2**(b-1) - 1`` (e.g. -127..127), symmetric around zero but one code unused:
  ``2**b - 1`` levels, which is ternary ``-m, 0, m`` at 2 bits. Int8 kernels use it so that ``-q`` never overflows.
- ``"midrise"``: no zero level: the range ``[-m, m]`` cut into ``2**b`` equal cells, each coded by its centre,
  ``x_hat = (q + 1/2) * scale`` with ``q = floor(x / scale)`` in ``-2**(b-1) .. 2**(b-1) - 1``. Symmetric and all
  ``2**b`` codes used, but a zero weight becomes ``±scale/2`` (pruned zeros are lost).
- affine (``symmetric=False``): ``0 .. 2**b - 1`` with an integer ``zero_point`` so that real 0 is exactly
  representable (``grid`` must stay ``"full"``).
- 1-bit symmetric is *sign binarization* for every grid: codes ``{-1, +1}`` (``qmin=-1``, ``qmax=1``), ``x >= 0``
  maps to +1, ``x_hat = ±scale``, and :func:`calibrate` sets ``scale = mean|x|`` (per slice), the closed-form
  minimizer of ``‖x − s·sign(x)‖²`` (BWN / XNOR-Net, Rastegari et al. 2016) for every observer.

Observers choose the clipping range from data: ``"minmax"``, ``"percentile"``, ``"mse"`` (see :func:`calibrate`);
:func:`quantize` gives integer codes, :func:`dequantize` floats, :func:`fake_quantize` both, in float,
differentiable with the straight-through estimator. Values outside the clipping range are mapped to
``qmin``/``qmax``: saturation is part of the quantizer's definition (the observer chose to trade clipping error for
resolution), not silent clipping of invalid input. Rounding is ``torch.round`` (half to even).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "GRIDS",
    "OBSERVERS",
    "QParams",
    "calibrate",
    "code_dtype",
    "dequantize",
    "fake_quantize",
    "quantize",
]

OBSERVERS = ("minmax", "percentile", "mse")
GRIDS = ("full", "restricted", "midrise")
MIN_BITS, MAX_BITS = 1, 16
MSE_GRID = 100  # clipping ratios 0.01, 0.02, ..., 1.0 of the min/max range


# ----------------------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------------------


def _check_bits(bits: object) -> int:
    msg = f"bits must be an int in {MIN_BITS}..{MAX_BITS}, got {bits!r}"
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral):
        raise TypeError(msg)
    if not MIN_BITS <= bits <= MAX_BITS:
        raise ValueError(msg)
    return int(bits)


def _check_grid(grid: object, symmetric: bool) -> str:
    if grid not in GRIDS:
        raise ValueError(f"grid must be one of {', '.join(repr(g) for g in GRIDS)}, got {grid!r}")
    if not symmetric and grid != "full":
        raise ValueError(f"grid={grid!r} applies to symmetric quantization only; affine grids are always 'full'")
    return grid  # type: ignore[return-value]


def _check_float_tensor(name: str, x: object) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    return x


def _check_axis(axis: object, ndim: int) -> int | None:
    if axis is None:
        return None
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an int or None, got {axis!r}")
    if ndim == 0 or not -ndim <= axis < ndim:
        raise ValueError(f"axis must be None or an int in {-ndim}..{ndim - 1} for a {ndim}-d tensor, got {axis}")
    return int(axis) % ndim


def _check_percentile(p: object) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"percentile must be a number in (0, 100], got {p!r}")
    if not 0.0 < p <= 100.0:  # also rejects NaN
        raise ValueError(f"percentile must be in (0, 100], got {p}")
    return float(p)


# ----------------------------------------------------------------------------------------------------
# Quantization parameters
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QParams:
    """Parameters of a uniform quantizer.

    ``scale`` (float, > 0) and ``zero_point`` (integer-valued) are 0-d tensors for per-tensor quantization
    (``axis=None``) or 1-d tensors of length ``C = x.shape[axis]`` for per-channel quantization. ``bits`` is in
    1..16; ``symmetric`` means ``zero_point == 0`` and a ``grid`` from :data:`GRIDS` (affine: ``"full"``). See the
    module docstring for the ``qmin..qmax`` rule of each grid.
    """

    scale: Tensor
    zero_point: Tensor
    bits: int
    symmetric: bool
    axis: int | None
    grid: str = "full"

    def __post_init__(self) -> None:
        _check_bits(self.bits)
        _check_grid(self.grid, self.symmetric)
        if not isinstance(self.scale, Tensor) or not isinstance(self.zero_point, Tensor):
            raise TypeError("scale and zero_point must be torch.Tensors")
        expected = 0 if self.axis is None else 1
        if self.scale.ndim != expected or self.zero_point.shape != self.scale.shape:
            raise ValueError(
                f"scale and zero_point must be {expected}-d tensors of the same shape for axis={self.axis}, "
                f"got {tuple(self.scale.shape)} and {tuple(self.zero_point.shape)}"
            )
        if not bool((self.scale > 0).all()):
            raise ValueError("scale must be > 0 everywhere")

    @property
    def binary(self) -> bool:
        """True for 1-bit symmetric quantization (sign binarization, codes ``{-1, +1}``)."""
        return self.symmetric and self.bits == 1

    @property
    def qmin(self) -> int:
        """Smallest integer code: ``-2**(bits-1)`` (full, midrise), ``-(2**(bits-1) - 1)`` (restricted), ``-1`` for
        1-bit symmetric, 0 affine."""
        if not self.symmetric:
            return 0
        if self.binary:
            return -1
        return -(2 ** (self.bits - 1) - 1) if self.grid == "restricted" else -(2 ** (self.bits - 1))

    @property
    def qmax(self) -> int:
        """Largest integer code: ``2**(bits-1) - 1`` symmetric (``+1`` for 1 bit), ``2**bits - 1`` affine."""
        if self.symmetric:
            return 1 if self.binary else 2 ** (self.bits - 1) - 1
        return 2**self.bits - 1

    @property
    def levels(self) -> int:
        """Number of distinct values the quantizer can output: ``2**bits`` except ``2**bits - 1`` for restricted."""
        return 2 if self.binary else self.qmax - self.qmin + 1

    @property
    def clip_range(self) -> tuple[Tensor, Tensor]:
        """The real interval represented without saturation: ``[(qmin - zp) * scale, (qmax - zp) * scale]``, or
        ``[qmin * scale, (qmax + 1) * scale]`` for the mid-rise grid (its outer cells end there)."""
        if self.grid == "midrise" and not self.binary:
            return self.qmin * self.scale, (self.qmax + 1) * self.scale
        return (self.qmin - self.zero_point) * self.scale, (self.qmax - self.zero_point) * self.scale


def code_dtype(qp: QParams) -> torch.dtype:
    """The smallest of int8/int16/int32 holding ``qmin..qmax``: int8 for symmetric <= 8 bits and affine <= 7 bits,
    int16 for symmetric <= 16 and affine 8..15 bits, int32 for affine 16 bits."""
    for dtype in (torch.int8, torch.int16, torch.int32):
        info = torch.iinfo(dtype)
        if info.min <= qp.qmin and qp.qmax <= info.max:
            return dtype
    raise AssertionError("unreachable: 16-bit codes always fit int32")


def _broadcast(t: Tensor, qp: QParams, x: Tensor) -> Tensor:
    """Reshape a per-channel parameter so it broadcasts against ``x`` along ``qp.axis``."""
    if qp.axis is None:
        return t
    if x.ndim <= qp.axis or x.shape[qp.axis] != t.numel():
        raise ValueError(
            f"tensor of shape {tuple(x.shape)} does not match per-channel QParams with {t.numel()} channels "
            f"on axis {qp.axis}"
        )
    shape = [1] * x.ndim
    shape[qp.axis] = t.numel()
    return t.reshape(shape)


# ----------------------------------------------------------------------------------------------------
# Observers and calibration
# ----------------------------------------------------------------------------------------------------


def _rows(x: Tensor, axis: int | None) -> Tensor:
    """``x`` as a float32 ``(C, N)`` matrix: one row per channel (one row in all for per-tensor)."""
    x = x.detach().float()
    return x.reshape(1, -1) if axis is None else x.movedim(axis, 0).reshape(x.shape[axis], -1)


def _quantile(rows: Tensor, q: float) -> Tensor:
    """Per-row quantile (linear interpolation, like ``torch.quantile``, without its input-size limit)."""
    n = rows.shape[1]
    s = rows.sort(dim=1).values
    pos = q * (n - 1)
    lo = int(pos)
    hi = min(lo + 1, n - 1)
    return s[:, lo] + (pos - lo) * (s[:, hi] - s[:, lo])


def _shaped(scale: Tensor, zero_point: Tensor, bits: int, symmetric: bool, axis: int | None, grid: str) -> QParams:
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))  # an all-zero channel: any scale is exact
    if axis is None:
        scale, zero_point = scale.reshape(()), zero_point.reshape(())
    return QParams(scale, zero_point, bits, symmetric, axis, grid)


def _from_range(lo: Tensor, hi: Tensor, bits: int, symmetric: bool, axis: int | None, grid: str) -> QParams:
    """QParams whose grid covers ``[lo, hi]`` per row (lo <= 0 <= hi after widening to include zero)."""
    lo, hi = lo.clamp(max=0.0), hi.clamp(min=0.0)
    probe = QParams(torch.ones(()), torch.zeros(()), bits, symmetric, None, grid)  # for qmin/qmax only
    if symmetric:
        # restricted: ±m on the outermost codes ±qmax; full and midrise: -m on the lowest code (2**(b-1) steps).
        steps = probe.qmax if grid == "restricted" else -probe.qmin
        scale = torch.maximum(-lo, hi) / steps
        return _shaped(scale, torch.zeros_like(scale), bits, symmetric, axis, grid)
    scale = (hi - lo) / (probe.qmax - probe.qmin)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    zero_point = (probe.qmin - torch.round(lo / scale)).clamp(probe.qmin, probe.qmax)
    return _shaped(scale, zero_point, bits, symmetric, axis, grid)


def _range(
    rows: Tensor, bits: int, symmetric: bool, observer: str, percentile: float, grid: str
) -> tuple[Tensor, Tensor]:
    if observer == "percentile":
        if symmetric:
            hi = _quantile(rows.abs(), percentile / 100.0)
            return -hi, hi
        return _quantile(rows, 1.0 - percentile / 100.0), _quantile(rows, percentile / 100.0)
    lo, hi = rows.amin(dim=1), rows.amax(dim=1)
    if symmetric:
        hi = torch.maximum(-lo, hi)
        lo = -hi
    if observer == "minmax":
        return lo, hi
    # "mse": shrink the min/max range by each ratio in (0, 1] and keep, per row, the one with the lowest error.
    best_err = torch.full_like(hi, float("inf"))
    best_lo, best_hi = lo.clone(), hi.clone()
    for r in torch.linspace(1.0 / MSE_GRID, 1.0, MSE_GRID).tolist():
        qp = _from_range(lo * r, hi * r, bits, symmetric, 0, grid)
        err = (_fake(rows, qp) - rows).pow(2).mean(dim=1)
        better = err < best_err
        best_err = torch.where(better, err, best_err)
        best_lo, best_hi = torch.where(better, lo * r, best_lo), torch.where(better, hi * r, best_hi)
    return best_lo, best_hi


def calibrate(
    x: Tensor,
    *,
    bits: int,
    symmetric: bool = True,
    axis: int | None = None,
    observer: str = "minmax",
    percentile: float = 99.99,
    grid: str = "full",
) -> QParams:
    """Choose quantization parameters for ``x`` (any shape, floating point, finite).

    ``axis=None`` gives one scale for the whole tensor; an int ``axis`` gives one per slice along that axis (per
    output channel: ``axis=0`` for ``nn.Linear``/``nn.Conv2d`` weights). The clipping range comes from ``observer``:

    - ``"minmax"``: ``[min(x), max(x)]`` (symmetric: ``±max|x|``); no saturation, except that the ``"full"`` grid's
      top code sits one step below ``max|x|`` (see the module docstring);
    - ``"percentile"``: the ``percentile``-th percentile of ``|x|`` (symmetric) or the ``(100 - p)``-th and
      ``p``-th percentiles of ``x`` (affine), ``p`` in (0, 100]; outliers beyond it saturate;
    - ``"mse"``: the min/max range scaled by the ratio in ``0.01, 0.02, ..., 1.0`` that minimizes the mean squared
      quantization error (per channel when ``axis`` is set); never worse than ``"minmax"`` on ``x`` itself.

    ``grid`` (symmetric only): ``"full"`` (``2**b`` codes with an exact zero), ``"restricted"`` (``2**b - 1``
    codes, as int8 kernels use) or ``"midrise"`` (``2**b`` codes, no zero level). 1-bit symmetric is sign
    binarization with ``scale = mean|x|`` (per slice), whatever the observer: the least-squares optimum.
    The range is widened to include 0. Scales are float32.
    """
    x = _check_float_tensor("x", x)
    bits = _check_bits(bits)
    if not isinstance(symmetric, bool):
        raise TypeError(f"symmetric must be a bool, got {symmetric!r}")
    grid = _check_grid(grid, symmetric)
    axis = _check_axis(axis, x.ndim)
    if observer not in OBSERVERS:
        raise ValueError(f"observer must be one of {', '.join(repr(o) for o in OBSERVERS)}, got {observer!r}")
    percentile = _check_percentile(percentile)
    if x.numel() == 0:
        raise ValueError("x must have at least one element, got an empty tensor")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x must be finite, got NaN or inf values")
    rows = _rows(x, axis)
    if symmetric and bits == 1:  # argmin_s ‖x − s·sign(x)‖² = mean|x|: no range to observe
        scale = rows.abs().mean(dim=1)
        return _shaped(scale, torch.zeros_like(scale), bits, symmetric, axis, grid)
    lo, hi = _range(rows, bits, symmetric, observer, percentile, grid)
    return _from_range(lo, hi, bits, symmetric, axis, grid)


# ----------------------------------------------------------------------------------------------------
# Quantize / dequantize / fake-quantize
# ----------------------------------------------------------------------------------------------------


def _codes_float(x: Tensor, qp: QParams) -> Tensor:
    """Integer codes as float values (shared by :func:`quantize` and :func:`fake_quantize`)."""
    scale, zp = _broadcast(qp.scale, qp, x), _broadcast(qp.zero_point, qp, x)
    if qp.binary:  # sign binarization: no zero level, 0 goes to +1
        return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)
    if qp.grid == "midrise":  # the cell index: [k*s, (k+1)*s) -> k
        return torch.clamp(torch.floor(x / scale), qp.qmin, qp.qmax)
    return torch.clamp(torch.round(x / scale) + zp, qp.qmin, qp.qmax)


def _values(codes: Tensor, qp: QParams) -> Tensor:
    """Real values of (float or integer) codes: ``(q - zp) * scale``; mid-rise cells are coded by their centre."""
    scale, zp = _broadcast(qp.scale, qp, codes), _broadcast(qp.zero_point, qp, codes)
    if qp.grid == "midrise" and not qp.binary:
        return (codes.float() + 0.5) * scale
    return (codes.float() - zp) * scale


def _fake(x: Tensor, qp: QParams) -> Tensor:
    return _values(_codes_float(x, qp), qp)


def quantize(x: Tensor, qp: QParams) -> Tensor:
    """Integer codes of ``x`` (same shape), of dtype :func:`code_dtype` (``qp``), each in ``qp.qmin..qp.qmax``.

    Values outside ``qp.clip_range`` saturate to ``qmin``/``qmax`` by definition of the quantizer.
    """
    x = _check_float_tensor("x", x)
    return _codes_float(x.detach().float(), qp).to(code_dtype(qp))


def dequantize(codes: Tensor, qp: QParams) -> Tensor:
    """Real values ``(codes - zero_point) * scale`` (``(codes + 1/2) * scale`` on the mid-rise grid): float32, same
    shape as ``codes``, an integer tensor."""
    if not isinstance(codes, Tensor):
        raise TypeError(f"codes must be a torch.Tensor, got {type(codes).__name__}")
    if codes.is_floating_point() or codes.is_complex() or codes.dtype == torch.bool:
        raise TypeError(f"codes must be an integer tensor, got dtype {codes.dtype}")
    return _values(codes, qp)


def fake_quantize(x: Tensor, qp: QParams) -> Tensor:
    """``dequantize(quantize(x))`` computed in ``x``'s float dtype, differentiable for quantization-aware training.

    Backward is the straight-through estimator (Bengio et al. 2013) with clipping: ``d out / d x`` is 1 where ``x``
    lies inside ``qp.clip_range`` (ends included) and 0 where it saturates. Implemented with the detach trick
    ``q + (x - x.detach()) * m`` (``m`` = inside mask): the value is exactly ``q`` (``x - x.detach()`` is exactly
    0, where ``x + (q - x)`` would round), the gradient is ``m``. No gradient flows to ``qp.scale`` (plain STE, not
    learned step size).
    """
    x = _check_float_tensor("x", x)
    q = _fake(x.detach(), qp).to(x.dtype)
    lo, hi = qp.clip_range
    lo, hi = _broadcast(lo, qp, x), _broadcast(hi, qp, x)
    inside = ((x.detach() >= lo) & (x.detach() <= hi)).to(x.dtype)
    return q + (x - x.detach()) * inside
