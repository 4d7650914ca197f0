"""Low-rank factorization: replace a layer by a product of thinner layers with fewer parameters and FLOPs.

- ``nn.Linear`` (weight ``W``, shape ``(out, in)``): truncated SVD ``W ≈ U_r S_r V_r^T`` (Denton et al. 2014),
  the best rank-r approximation in Frobenius norm (Eckart–Young). The layer becomes
  ``Linear(in, r, bias=False) -> Linear(r, out, bias)``: ``r·(in + out)`` weights instead of ``in·out``.
- ``nn.Conv2d`` (weight ``(T, S, kh, kw)``), two ways:
  - **Tucker-2** (Kim et al. 2016): project the input channels onto ``r_in`` and the output channels onto
    ``r_out`` directions found by HOSVD of the two channel modes, giving ``1×1 (S→r_in) -> kh×kw (r_in→r_out)
    -> 1×1 (r_out→T)``;
  - **spatial separation** (Jaderberg et al. 2014, scheme 2): an SVD of the weight viewed as an
    ``(S·kh, T·kw)`` matrix gives ``kh×1 (S→K) -> 1×kw (K→T)``.

Ranks are given explicitly or by **retained energy**: the smallest rank whose singular values keep at least that
fraction of ``sum(σ²)`` (:func:`rank_for_energy`). :func:`factorize_` swaps layers of any model in place, by name,
and returns a :class:`FactorizationReport` (layers, ranks, parameters — and FLOPs and latency when given inputs,
measured with :mod:`effdl.core.footprint`). The factors are ordinary ``nn.Linear``/``nn.Conv2d`` modules, so
``effdl.fit`` fine-tunes the factorized model like any other.

Decompositions are computed in float64 (then cast back) so that a full-rank factorization reproduces the layer to
float32 round-off.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import Tensor, nn

from effdl.core.checks import is_int
from effdl.core.footprint import Latency, count_flops, count_params, measure_latency
from effdl.core.train import Data, evaluate

__all__ = [
    "METHODS",
    "SVD",
    "ConvComparison",
    "FactorizationReport",
    "LayerFactorization",
    "compare_conv_factorizations",
    "factorize_",
    "factorized_params",
    "linear_svd",
    "max_rank",
    "rank_for_energy",
    "rank_sweep",
    "retained_energy",
    "singular_values",
    "spatial_conv",
    "svd_linear",
    "tucker2_conv",
]

METHODS = ("svd", "tucker2", "spatial")
_ENERGY_RTOL = 1e-12  # cumulative sums in float64 may land a hair below an exactly reachable energy


# ----------------------------------------------------------------------------------------------------------
# Validation


def _check_rank(rank: object, hi: int, name: str = "rank") -> int:
    if not is_int(rank):
        raise TypeError(f"{name} must be an int in 1..{hi}, got {rank!r}")
    if not 1 <= rank <= hi:  # type: ignore[operator]
        raise ValueError(f"{name} must be an int in 1..{hi}, got {rank}")
    return int(rank)  # type: ignore[call-overload]


def _check_energy(energy: object) -> float:
    if isinstance(energy, bool) or not isinstance(energy, numbers.Real):
        raise TypeError(f"energy must be a number in (0, 1], got {energy!r}")
    if not (math.isfinite(energy) and 0.0 < energy <= 1.0):
        raise ValueError(f"energy must be in (0, 1], got {energy}")
    return float(energy)


def _check_method(method: object) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(repr(m) for m in METHODS)}, got {method!r}")
    return method  # type: ignore[return-value]


def _one_of(rank: object, energy: object, rank_name: str = "rank") -> None:
    if (rank is None) == (energy is None):
        raise ValueError(f"give exactly one of {rank_name}= or energy=, got {rank_name}={rank!r}, energy={energy!r}")


def _check_linear(layer: object, name: str = "layer") -> nn.Linear:
    if not isinstance(layer, nn.Linear):
        raise TypeError(f"{name} must be a torch.nn.Linear, got {type(layer).__name__}")
    return layer


def _check_conv(conv: object, name: str = "conv") -> nn.Conv2d:
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"{name} must be a torch.nn.Conv2d, got {type(conv).__name__}")
    if conv.groups != 1:
        # a grouped (e.g. depthwise) conv is already factorized across channels; its channel modes are blocks
        raise ValueError(f"{name} must have groups=1 to be factorized, got groups={conv.groups}")
    return conv


# ----------------------------------------------------------------------------------------------------------
# Spectra and the energy rule


class SVD(NamedTuple):
    """Thin SVD ``A = U @ diag(S) @ Vh`` in float64: ``U (m, k)``, ``S (k,)`` descending, ``Vh (k, n)``,
    k = min(m, n)."""

    U: Tensor
    S: Tensor
    Vh: Tensor


def _matrix(x: object) -> Tensor:
    """The matrix whose spectrum :func:`singular_values` reports (float64, detached)."""
    if isinstance(x, nn.Linear):
        m = x.weight.detach().double()
    elif isinstance(x, nn.Conv2d):
        w = x.weight.detach().double()
        m = w.reshape(w.shape[0], -1)  # output-channel unfolding (T, S·kh·kw)
    elif isinstance(x, Tensor):
        if x.dim() != 2:
            raise ValueError(f"a tensor given for its singular values must be 2-D, got shape {tuple(x.shape)}")
        m = x.detach().double()
    else:
        raise TypeError(f"layer must be an nn.Linear, an nn.Conv2d or a 2-D Tensor, got {type(x).__name__}")
    return _finite(m)


def _finite(m: Tensor, name: str = "layer") -> Tensor:
    # torch.linalg's SVD fails with a bare LinAlgError ("failed to converge") on NaN/inf entries
    if not torch.isfinite(m).all():
        raise ValueError(f"{name} weight must hold finite values only (no NaN/inf) to be decomposed")
    return m


def singular_values(layer: nn.Module | Tensor) -> Tensor:
    """Singular values (float64, descending, length min(m, n)) of a ``Linear``'s weight ``(out, in)``, of a
    ``Conv2d``'s weight unfolded to ``(out, in·kh·kw)``, or of a 2-D tensor."""
    return torch.linalg.svdvals(_matrix(layer))


def linear_svd(layer: nn.Linear) -> SVD:
    """Thin SVD of ``layer.weight`` ``(out, in)`` in float64; compute it once and pass it to :func:`svd_linear`
    as ``svd=`` to factorize at many ranks cheaply."""
    _check_linear(layer)
    U, S, Vh = torch.linalg.svd(_matrix(layer), full_matrices=False)
    return SVD(U, S, Vh)


def _check_spectrum(values: object) -> Tensor:
    if not isinstance(values, Tensor):
        raise TypeError(f"singular_values must be a 1-D Tensor, got {type(values).__name__}")
    if values.dim() != 1 or values.numel() == 0:
        raise ValueError(f"singular_values must be a non-empty 1-D Tensor, got shape {tuple(values.shape)}")
    s = values.detach().double()
    if not torch.isfinite(s).all() or (s < 0).any():
        raise ValueError("singular_values must be finite and >= 0")
    if (s[1:] > s[:-1]).any():  # the energy rule reads a prefix: an unsorted spectrum gives a wrong rank silently
        raise ValueError("singular_values must be sorted descending, as torch.linalg.svdvals returns them")
    return s


def retained_energy(singular_values: Tensor) -> Tensor:
    """Energy kept at every rank: entry r-1 is ``sum(σ[:r]²) / sum(σ²)`` (float64, length k, last entry 1).

    ``singular_values`` must be sorted descending, as ``torch.linalg.svdvals`` returns them. An all-zero spectrum
    keeps everything at any rank (all ones)."""
    s = _check_spectrum(singular_values)
    sq = s.square()
    total = sq.sum()
    if total == 0:
        return torch.ones_like(s)
    return sq.cumsum(0) / total


def rank_for_energy(singular_values: Tensor, energy: float) -> int:
    """Smallest rank r (1..k) with ``sum(σ[:r]²) >= energy · sum(σ²)``, ``energy`` in (0, 1].

    E.g. σ = (4, 3, 2, 1): σ² sums to 30, so energies in (16/30, 25/30] give rank 2 and (25/30, 29/30] rank 3.
    Energies within a relative 1e-12 of a cumulative sum count as reached (float round-off), so energy 1 gives the
    numerical rank."""
    energy = _check_energy(energy)
    kept = retained_energy(singular_values)
    hit = torch.nonzero(kept >= energy * (1 - _ENERGY_RTOL))
    return int(hit[0, 0]) + 1


def max_rank(layer: nn.Module, method: str | None = None) -> int | tuple[int, int]:
    """Largest rank a factorization accepts (the full rank of the matrix it decomposes):

    ``"svd"`` (Linear): ``min(out, in)``; ``"spatial"`` (Conv2d): ``min(S·kh, T·kw)``; ``"tucker2"`` (Conv2d):
    ``(min(S, T·kh·kw), min(T, S·kh·kw))`` for ``(r_in, r_out)``. ``method`` defaults to ``"svd"`` for a Linear
    and ``"tucker2"`` for a Conv2d."""
    method = _default_method(layer, method)
    if method == "svd":
        lin = _check_linear(layer)
        return min(lin.in_features, lin.out_features)
    conv = _check_conv(layer, "layer")
    t, s, kh, kw = conv.weight.shape
    if method == "spatial":
        return min(s * kh, t * kw)
    return min(s, t * kh * kw), min(t, s * kh * kw)


def _default_method(layer: object, method: str | None) -> str:
    if method is None:
        if isinstance(layer, nn.Linear):
            return "svd"
        if isinstance(layer, nn.Conv2d):
            return "tucker2"
        raise TypeError(f"layer must be an nn.Linear or an nn.Conv2d, got {type(layer).__name__}")
    return _check_method(method)


# ----------------------------------------------------------------------------------------------------------
# Linear: truncated SVD


def _like(t: Tensor, ref: Tensor) -> Tensor:
    return t.to(dtype=ref.dtype, device=ref.device).contiguous()


def svd_linear(
    layer: nn.Linear, *, rank: int | None = None, energy: float | None = None, svd: SVD | None = None
) -> nn.Sequential:
    """Truncated-SVD factorization of ``layer`` (``W`` of shape ``(out, in)``) at ``rank`` r, or at the smallest
    rank keeping ``energy`` of ``sum(σ²)`` (give exactly one).

    Returns ``Sequential(Linear(in, r, bias=False), Linear(r, out, bias=layer.bias is not None))`` with weights
    ``sqrt(S_r)·V_r^T`` and ``U_r·sqrt(S_r)`` (the singular values split evenly, so both factors have the same
    scale when fine-tuned) and the original bias; dtype and device follow ``layer``. At r = min(in, out) it
    computes the same function up to round-off. ``svd``: a precomputed :func:`linear_svd` of this layer.
    """
    _check_linear(layer)
    _one_of(rank, energy)
    if svd is None:
        svd = linear_svd(layer)
    elif not isinstance(svd, SVD) or svd.U.shape[0] != layer.out_features or svd.Vh.shape[1] != layer.in_features:
        raise ValueError(
            f"svd must be linear_svd(layer) of this {layer.out_features}×{layer.in_features} layer, "
            f"got {type(svd).__name__} with U of shape {tuple(getattr(svd, 'U', torch.empty(0)).shape)}"
        )
    hi = min(layer.in_features, layer.out_features)
    r = _check_rank(rank, hi) if rank is not None else rank_for_energy(svd.S, energy)  # type: ignore[arg-type]
    root = svd.S[:r].sqrt()
    first = nn.Linear(layer.in_features, r, bias=False, device=layer.weight.device, dtype=layer.weight.dtype)
    second = nn.Linear(
        r, layer.out_features, bias=layer.bias is not None, device=layer.weight.device, dtype=layer.weight.dtype
    )
    with torch.no_grad():
        first.weight.copy_(_like(root[:, None] * svd.Vh[:r], layer.weight))
        second.weight.copy_(_like(svd.U[:, :r] * root[None, :], layer.weight))
        if layer.bias is not None:
            second.bias.copy_(layer.bias.detach())
    return nn.Sequential(first, second)


# ----------------------------------------------------------------------------------------------------------
# Conv2d: Tucker-2 and spatial separation


def _conv_kwargs(conv: nn.Conv2d) -> dict[str, object]:
    return {"device": conv.weight.device, "dtype": conv.weight.dtype}


def _mode_basis(w: Tensor, mode: int, rank: int) -> Tensor:
    """The leading ``rank`` left singular vectors of ``w``'s mode-``mode`` unfolding (HOSVD factor)."""
    unfold = w.movedim(mode, 0).reshape(w.shape[mode], -1)
    U, _, _ = torch.linalg.svd(unfold, full_matrices=False)
    return U[:, :rank]


def _pair(value: object, name: str) -> tuple[object, object]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (r_in, r_out), got {value!r}")
        return value[0], value[1]
    return value, value


def tucker2_conv(
    conv: nn.Conv2d, *, ranks: int | tuple[int, int] | None = None, energy: float | None = None
) -> nn.Sequential:
    """Tucker-2 factorization of ``conv`` (weight ``(T, S, kh, kw)``, groups 1) by HOSVD of its two channel modes.

    ``ranks = (r_in, r_out)`` (an int sets both) with ``r_in`` in 1..min(S, T·kh·kw) and ``r_out`` in
    1..min(T, S·kh·kw); or ``energy``: each mode keeps the smallest rank retaining that fraction of its unfolding's
    ``sum(σ²)``. Returns ``Sequential(Conv2d(S, r_in, 1), Conv2d(r_in, r_out, (kh, kw), stride, padding, dilation,
    padding_mode), Conv2d(r_out, T, 1, bias))`` with the core ``W ×_T U_out^T ×_S U_in^T`` in the middle and the
    original bias on the last. At the full ranks it computes the same function as ``conv`` up to round-off.
    """
    _check_conv(conv)
    _one_of(ranks, energy, "ranks")
    w = _finite(conv.weight.detach().double(), "conv")
    t, s, kh, kw = w.shape
    hi_in, hi_out = min(s, t * kh * kw), min(t, s * kh * kw)
    if ranks is not None:
        r_in_raw, r_out_raw = _pair(ranks, "ranks")
        r_in = _check_rank(r_in_raw, hi_in, "ranks[0] (r_in)")
        r_out = _check_rank(r_out_raw, hi_out, "ranks[1] (r_out)")
    else:
        r_in = rank_for_energy(torch.linalg.svdvals(w.transpose(0, 1).reshape(s, -1)), energy)  # type: ignore[arg-type]
        r_out = rank_for_energy(torch.linalg.svdvals(w.reshape(t, -1)), energy)  # type: ignore[arg-type]
    u_out = _mode_basis(w, 0, r_out)  # (T, r_out)
    u_in = _mode_basis(w, 1, r_in)  # (S, r_in)
    core = torch.einsum("tsij,tr,sq->rqij", w, u_out, u_in)  # (r_out, r_in, kh, kw)

    kwargs = _conv_kwargs(conv)
    first = nn.Conv2d(s, r_in, 1, bias=False, **kwargs)
    middle = nn.Conv2d(
        r_in,
        r_out,
        (kh, kw),
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        padding_mode=conv.padding_mode,
        bias=False,
        **kwargs,
    )
    last = nn.Conv2d(r_out, t, 1, bias=conv.bias is not None, **kwargs)
    with torch.no_grad():
        first.weight.copy_(_like(u_in.T[:, :, None, None], conv.weight))
        middle.weight.copy_(_like(core, conv.weight))
        last.weight.copy_(_like(u_out[:, :, None, None], conv.weight))
        if conv.bias is not None:
            last.bias.copy_(conv.bias.detach())
    return nn.Sequential(first, middle, last)


def _spatial_matrix(w: Tensor) -> Tensor:
    """View ``(T, S, kh, kw)`` as the ``(S·kh, T·kw)`` matrix M[(s, i), (t, j)] = W[t, s, i, j]."""
    t, s, kh, kw = w.shape
    return w.permute(1, 2, 0, 3).reshape(s * kh, t * kw)


def _split(value: object, axis: int, neutral: int) -> object:
    """Keep one spatial axis of a conv hyper-parameter, the other set to ``neutral``; strings pass through."""
    if isinstance(value, str):
        return value
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    return (pair[0], neutral) if axis == 0 else (neutral, pair[1])


def spatial_conv(conv: nn.Conv2d, *, rank: int | None = None, energy: float | None = None) -> nn.Sequential:
    """Spatially separable factorization of ``conv`` (weight ``(T, S, kh, kw)``, groups 1, zero padding) —
    Jaderberg et al. 2014, scheme 2 — at ``rank`` K in 1..min(S·kh, T·kw), or by ``energy``.

    The SVD of the ``(S·kh, T·kw)`` matrix ``M[(s, i), (t, j)] = W[t, s, i, j]`` gives
    ``Sequential(Conv2d(S, K, (kh, 1)), Conv2d(K, T, (1, kw), bias))``: the vertical filters take the stride,
    padding and dilation along the height, the horizontal ones along the width. ``K·(S·kh + T·kw)`` weights
    instead of ``T·S·kh·kw``; at K = min(S·kh, T·kw) it computes the same function up to round-off.
    """
    _check_conv(conv)
    _one_of(rank, energy)
    if conv.padding_mode != "zeros":
        # splitting the kernel splits the padding too; only zero padding commutes with that
        raise ValueError(f"conv.padding_mode must be 'zeros' for spatial separation, got {conv.padding_mode!r}")
    w = _finite(conv.weight.detach().double(), "conv")
    t, s, kh, kw = w.shape
    U, S, Vh = torch.linalg.svd(_spatial_matrix(w), full_matrices=False)
    k = _check_rank(rank, min(s * kh, t * kw)) if rank is not None else rank_for_energy(S, energy)  # type: ignore[arg-type]
    root = S[:k].sqrt()
    vertical = (U[:, :k] * root).T.reshape(k, s, kh, 1)  # [k, s, i] = sqrt(σ_k) U[(s, i), k]
    horizontal = (root[:, None] * Vh[:k]).reshape(k, t, kw).permute(1, 0, 2)[:, :, None, :]  # [t, k, 0, j]

    kwargs = _conv_kwargs(conv)
    first = nn.Conv2d(
        s,
        k,
        (kh, 1),
        stride=_split(conv.stride, 0, 1),
        padding=_split(conv.padding, 0, 0),
        dilation=_split(conv.dilation, 0, 1),
        bias=False,
        **kwargs,
    )
    second = nn.Conv2d(
        k,
        t,
        (1, kw),
        stride=_split(conv.stride, 1, 1),
        padding=_split(conv.padding, 1, 0),
        dilation=_split(conv.dilation, 1, 1),
        bias=conv.bias is not None,
        **kwargs,
    )
    with torch.no_grad():
        first.weight.copy_(_like(vertical, conv.weight))
        second.weight.copy_(_like(horizontal, conv.weight))
        if conv.bias is not None:
            second.bias.copy_(conv.bias.detach())
    return nn.Sequential(first, second)


def factorized_params(layer: nn.Module, rank: int | tuple[int, int], *, method: str | None = None) -> int:
    """Parameters of ``layer`` factorized at ``rank`` (bias included), without building it:

    ``"svd"`` (Linear ``in→out``): ``r·(in + out) + out·bias``; ``"tucker2"`` (Conv2d ``S→T``, ``kh×kw``, rank
    int or ``(r_in, r_out)``): ``S·r_in + r_in·r_out·kh·kw + r_out·T + T·bias``; ``"spatial"``:
    ``K·(S·kh + T·kw) + T·bias``. ``method`` defaults to "svd" for a Linear, "tucker2" for a Conv2d. Ranks are
    checked against :func:`max_rank`.
    """
    method = _default_method(layer, method)
    hi = max_rank(layer, method)
    if method == "svd":
        lin = _check_linear(layer)
        r = _check_rank(rank, hi)  # type: ignore[arg-type]
        bias = lin.out_features if lin.bias is not None else 0
        return r * (lin.in_features + lin.out_features) + bias
    conv = _check_conv(layer, "layer")
    t, s, kh, kw = conv.weight.shape
    bias = t if conv.bias is not None else 0
    if method == "spatial":
        k = _check_rank(rank, hi)  # type: ignore[arg-type]
        return k * (s * kh + t * kw) + bias
    r_in_raw, r_out_raw = _pair(rank, "rank")
    r_in = _check_rank(r_in_raw, hi[0], "rank[0] (r_in)")  # type: ignore[index]
    r_out = _check_rank(r_out_raw, hi[1], "rank[1] (r_out)")  # type: ignore[index]
    return s * r_in + r_in * r_out * kh * kw + r_out * t + bias


# ----------------------------------------------------------------------------------------------------------
# Whole models


@dataclass(frozen=True)
class LayerFactorization:
    """One replaced layer: its qualified name, the method, the rank(s) used and its parameters before/after."""

    name: str
    method: str
    shape: tuple[int, ...]
    rank: int | tuple[int, int]
    max_rank: int | tuple[int, int]
    params_before: int
    params_after: int

    @property
    def ratio(self) -> float:
        """``params_before / params_after`` (> 1 saves parameters)."""
        return self.params_before / self.params_after


@dataclass(frozen=True)
class FactorizationReport:
    """What :func:`factorize_` did. Parameters are counted with ``count_params``; FLOPs (``count_flops`` on the
    ``inputs`` given, one forward pass) and latency (``measure_latency``, median ms) only when asked for."""

    method: str
    layers: list[LayerFactorization]
    model_params_before: int
    model_params_after: int
    flops_before: int | None = None
    flops_after: int | None = None
    latency_before: Latency | None = field(default=None, repr=False)
    latency_after: Latency | None = field(default=None, repr=False)

    @property
    def params_before(self) -> int:
        """Parameters of the factorized layers before factorization."""
        return sum(lf.params_before for lf in self.layers)

    @property
    def params_after(self) -> int:
        """Parameters of the factorized layers after factorization."""
        return sum(lf.params_after for lf in self.layers)

    @property
    def param_ratio(self) -> float:
        """Layer-level compression ``params_before / params_after`` over the factorized layers."""
        return self.params_before / self.params_after

    @property
    def model_param_ratio(self) -> float:
        """Whole-model ``model_params_before / model_params_after``."""
        return self.model_params_before / self.model_params_after

    @property
    def flops_ratio(self) -> float | None:
        """Whole-model ``flops_before / flops_after`` (None without inputs)."""
        if self.flops_before is None or self.flops_after is None:
            return None
        return self.flops_before / self.flops_after

    @property
    def speedup(self) -> float | None:
        """Median latency before / after (None unless ``latency=True``; > 1 is faster)."""
        if self.latency_before is None or self.latency_after is None:
            return None
        return self.latency_before.median_ms / self.latency_after.median_ms

    def rows(self) -> list[dict[str, object]]:
        """One dict per layer (name, method, shape, rank, max_rank, params_before, params_after, ratio), for a table."""
        return [
            {
                "name": lf.name,
                "method": lf.method,
                "shape": lf.shape,
                "rank": lf.rank,
                "max_rank": lf.max_rank,
                "params_before": lf.params_before,
                "params_after": lf.params_after,
                "ratio": lf.ratio,
            }
            for lf in self.layers
        ]

    def __str__(self) -> str:
        lines = [
            f"{lf.name}: {lf.method} rank {lf.rank} of {lf.max_rank}, "
            f"{lf.params_before:,} -> {lf.params_after:,} params ({lf.ratio:.2f}×)"
            for lf in self.layers
        ]
        lines.append(
            f"layers: {self.params_before:,} -> {self.params_after:,} params ({self.param_ratio:.2f}×); "
            f"model: {self.model_params_before:,} -> {self.model_params_after:,} ({self.model_param_ratio:.2f}×)"
        )
        if self.flops_ratio is not None:
            lines.append(f"FLOPs: {self.flops_before:,} -> {self.flops_after:,} ({self.flops_ratio:.2f}×)")
        if self.speedup is not None:
            lines.append(
                f"latency: {self.latency_before.median_ms:.3g} -> {self.latency_after.median_ms:.3g} ms "  # type: ignore[union-attr]
                f"({self.speedup:.2f}× speed-up)"
            )
        return "\n".join(lines)


_TARGET = {"svd": nn.Linear, "tucker2": nn.Conv2d, "spatial": nn.Conv2d}


def _eligible(module: nn.Module, method: str) -> bool:
    if not isinstance(module, _TARGET[method]):
        return False
    return not isinstance(module, nn.Conv2d) or module.groups == 1


def _select(model: nn.Module, layers: object, method: str) -> list[str]:
    """Qualified names of the layers to factorize, in ``named_modules`` order."""
    modules = dict(model.named_modules())
    if layers is None:
        names = [n for n, m in modules.items() if n and _eligible(m, method)]
        if not names:
            raise ValueError(f"model has no layer that method={method!r} factorizes ({_TARGET[method].__name__})")
        return names
    if isinstance(layers, str):
        layers = [layers]
    if not isinstance(layers, Sequence) or not all(isinstance(n, str) for n in layers):
        raise TypeError(f"layers must be None, a module name or a sequence of module names, got {layers!r}")
    chosen: list[str] = []
    for name in layers:
        if name not in modules:
            known = [n for n, m in modules.items() if n and _eligible(m, method)]
            raise ValueError(f"layers: {name!r} is not a module of the model; {method!r} layers are {known}")
        module = modules[name]
        if _eligible(module, method):
            found = [name]
        else:  # a container stands for every eligible layer inside it
            prefix = f"{name}." if name else ""
            found = [n for n, m in modules.items() if n.startswith(prefix) and n and _eligible(m, method)]
            if not found:
                raise TypeError(
                    f"layers: {name!r} is a {type(module).__name__} and holds no layer that method={method!r} "
                    f"factorizes ({_TARGET[method].__name__}{' with groups=1' if method != 'svd' else ''})"
                )
        chosen += [n for n in found if n not in chosen]
    return chosen


def _rank_for(rank: object, name: str) -> object:
    if isinstance(rank, Mapping):
        if name not in rank:
            raise ValueError(f"rank has no entry for layer {name!r}; its keys are {sorted(rank)}")
        return rank[name]
    return rank


def _factorize_one(
    layer: nn.Module, method: str, rank: object, energy: float | None, svd: SVD | None = None
) -> nn.Sequential:
    if method == "svd":
        return svd_linear(layer, rank=rank, energy=energy, svd=svd)  # type: ignore[arg-type]
    if method == "tucker2":
        return tucker2_conv(layer, ranks=rank, energy=energy)  # type: ignore[arg-type]
    return spatial_conv(layer, rank=rank, energy=energy)  # type: ignore[arg-type]


def _used_rank(method: str, new: nn.Sequential) -> int | tuple[int, int]:
    if method == "tucker2":
        return new[0].out_channels, new[1].out_channels
    first = new[0]
    return first.out_features if isinstance(first, nn.Linear) else first.out_channels


def _replace(model: nn.Module, old: nn.Module, new: nn.Module) -> None:
    """Swap every reference to ``old`` in ``model`` (a module shared under two names is swapped in both)."""
    for parent in model.modules():
        for child_name, child in list(parent._modules.items()):
            if child is old:
                setattr(parent, child_name, new)


def factorize_(
    model: nn.Module,
    *,
    rank: int | tuple[int, int] | Mapping[str, int | tuple[int, int]] | None = None,
    energy: float | None = None,
    layers: str | Sequence[str] | None = None,
    method: str = "svd",
    inputs: Tensor | tuple[Tensor, ...] | None = None,
    latency: bool = False,
    latency_repeats: int = 30,
    svds: Mapping[str, SVD] | None = None,
) -> FactorizationReport:
    """Replace layers of ``model`` **in place** by their low-rank factorizations and report what changed.

    Args:
        rank: one rank for every chosen layer, or a dict ``{layer name: rank}``; for ``"tucker2"`` a rank is an
            int or ``(r_in, r_out)``. Give exactly one of ``rank`` and ``energy`` (fraction of ``sum(σ²)`` each
            layer keeps, in (0, 1]). A rank above a layer's :func:`max_rank` raises; nothing is clipped.
        layers: module names; a ``Linear``/``Conv2d`` name picks that layer, a container name (``"features"``)
            every eligible layer inside it. Default: every eligible layer of the model.
        method: ``"svd"`` (``nn.Linear``), ``"tucker2"`` or ``"spatial"`` (``nn.Conv2d`` with groups 1).
        inputs: if given, ``count_flops(model, inputs)`` before and after (FLOPs of one forward pass on these
            inputs) and, with ``latency=True``, ``measure_latency(model, inputs, repeats=latency_repeats)``.
        svds: ``{layer name: linear_svd(layer)}`` computed earlier (``"svd"`` only), so that factorizing copies of
            a model at many ranks does not recompute the decompositions.

    Each layer becomes an ``nn.Sequential`` of plain layers (see :func:`svd_linear`, :func:`tucker2_conv`,
    :func:`spatial_conv`), so the model keeps working and ``effdl.fit`` can fine-tune it. All layers are
    validated and factorized before the first one is swapped, so a bad rank leaves the model untouched.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    method = _check_method(method)
    _one_of(rank, energy)
    if energy is not None:
        energy = _check_energy(energy)
    if latency and inputs is None:
        raise ValueError("latency=True needs inputs= (a batch to time the model on)")
    names = _select(model, layers, method)
    if svds is not None:
        if method != "svd" or not isinstance(svds, Mapping):
            raise ValueError(
                f"svds must be a dict {{layer name: linear_svd(layer)}} and needs method='svd', got {method!r}"
            )
        unknown = sorted(set(svds) - set(names))
        if unknown:
            raise ValueError(f"svds has entries for layers that are not factorized: {unknown}; chosen layers: {names}")
    if isinstance(rank, Mapping):
        extra = sorted(set(rank) - set(names))
        if extra:
            raise ValueError(f"rank has entries for layers that are not factorized: {extra}; chosen layers: {names}")

    flops_before = count_flops(model, inputs).flops if inputs is not None else None
    lat_before = measure_latency(model, inputs, repeats=latency_repeats) if latency else None  # type: ignore[arg-type]
    params_before = count_params(model)

    modules = dict(model.named_modules())
    plan: list[tuple[nn.Module, nn.Sequential, LayerFactorization]] = []
    for name in names:
        old = modules[name]
        try:
            new = _factorize_one(old, method, _rank_for(rank, name), energy, None if svds is None else svds.get(name))
        except (TypeError, ValueError) as err:
            raise type(err)(f"layer {name!r}: {err}") from None
        entry = LayerFactorization(
            name=name,
            method=method,
            shape=tuple(old.weight.shape),
            rank=_used_rank(method, new),
            max_rank=max_rank(old, method),
            params_before=count_params(old),
            params_after=count_params(new),
        )
        plan.append((old, new, entry))
    for old, new, _ in plan:
        _replace(model, old, new)

    flops_after = count_flops(model, inputs).flops if inputs is not None else None
    lat_after = measure_latency(model, inputs, repeats=latency_repeats) if latency else None  # type: ignore[arg-type]
    return FactorizationReport(
        method=method,
        layers=[entry for _, _, entry in plan],
        model_params_before=params_before,
        model_params_after=count_params(model),
        flops_before=flops_before,
        flops_after=flops_after,
        latency_before=lat_before,
        latency_after=lat_after,
    )


def rank_sweep(
    model: nn.Module,
    data: Data,
    ranks: Sequence[int | tuple[int, int]],
    *,
    layers: str | Sequence[str] | None = None,
    method: str = "svd",
) -> list[dict[str, object]]:
    """Accuracy of ``model`` with ``layers`` factorized at each of ``ranks`` (the same rank for every chosen layer);
    ``model`` itself is left unchanged (each rank factorizes a deep copy; SVDs are computed once).

    Returns one dict per rank: ``rank``, ``accuracy`` (fraction in [0, 1], ``effdl.evaluate`` on ``data``),
    ``params`` (whole model) and ``layer_params`` (the factorized layers), in the order of ``ranks``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    method = _check_method(method)
    if isinstance(ranks, (str, bytes)) or not isinstance(ranks, Sequence) or len(ranks) == 0:
        raise ValueError(f"ranks must be a non-empty sequence of ranks, got {ranks!r}")
    names = _select(model, layers, method)
    modules = dict(model.named_modules())
    svds = {n: linear_svd(modules[n]) for n in names} if method == "svd" else None  # type: ignore[arg-type]
    rows: list[dict[str, object]] = []
    for r in ranks:
        work = copy.deepcopy(model)
        report = factorize_(work, rank=r, layers=names, method=method, svds=svds)
        rows.append(
            {
                "rank": r,
                "accuracy": evaluate(work, data).accuracy,
                "params": report.model_params_after,
                "layer_params": report.params_after,
            }
        )
    return rows


@dataclass(frozen=True)
class ConvComparison:
    """What :func:`compare_conv_factorizations` measured. Accuracies in % of ``test``; latencies in ms."""

    layer: str
    dense_accuracy: float
    dense_ft_accuracy: float
    reports: dict[str, FactorizationReport]
    accuracy_before_ft: dict[str, float]
    accuracy_after_ft: dict[str, float]
    models: dict[str, nn.Module] = field(repr=False)
    batch: int = 1

    @property
    def latencies(self) -> dict[str, Latency]:
        """``{"dense": ..., label: ...}``: the dense model timed before the first variant, then each variant."""
        out: dict[str, Latency] = {}
        for label, rep in self.reports.items():
            if rep.latency_before is not None and rep.latency_after is not None:
                out.setdefault("dense", rep.latency_before)
                out[label] = rep.latency_after
        return out

    def rows(self) -> list[dict[str, object]]:
        """One dict per model, the dense one first: method, rank, conv params, param ratio (conv), model MACs /
        sample, FLOPs ratio (model), latency (ms), speed-up, accuracy before FT, accuracy after FT (%)."""
        first = next(iter(self.reports.values()))

        def per_sample(flops: int | None) -> int | None:
            return None if flops is None else flops // 2 // self.batch

        rows: list[dict[str, object]] = [
            {
                "method": "dense",
                "rank": "—",
                "conv params": first.params_before,
                "param ratio (conv)": 1.0,
                "model MACs / sample": per_sample(first.flops_before),
                "FLOPs ratio (model)": 1.0,
                "latency (ms)": first.latency_before.median_ms if first.latency_before else None,
                "speed-up": 1.0,
                "accuracy before FT": self.dense_accuracy,
                "accuracy after FT": self.dense_ft_accuracy,
            }
        ]
        for label, rep in self.reports.items():
            rows.append(
                {
                    "method": label,
                    "rank": str(rep.layers[0].rank),
                    "conv params": rep.params_after,
                    "param ratio (conv)": rep.param_ratio,
                    "model MACs / sample": per_sample(rep.flops_after),
                    "FLOPs ratio (model)": rep.flops_ratio,
                    "latency (ms)": rep.latency_after.median_ms if rep.latency_after else None,
                    "speed-up": rep.speedup,
                    "accuracy before FT": self.accuracy_before_ft[label],
                    "accuracy after FT": self.accuracy_after_ft[label],
                }
            )
        return rows


def compare_conv_factorizations(
    model: nn.Module,
    train: Data,
    test: Data,
    *,
    layer: str,
    variants: Mapping[str, tuple[str, int | tuple[int, int]]],
    fine_tune: Mapping[str, object],
    inputs: Tensor,
    latency: bool = True,
    latency_repeats: int = 30,
) -> ConvComparison:
    """Factorize one convolution of ``model`` in several ways, fine-tune each, and compare with a fair control.

    ``variants``: ``{label: (method, rank)}``, e.g. ``{"Tucker-2": ("tucker2", (6, 12)), "spatial": ("spatial",
    8)}``. For each, a deep copy of ``model`` has ``layer`` factorized by :func:`factorize_` (FLOPs counted on
    ``inputs``, a batch ``(B, C, H, W)``, and, with ``latency``, median latency over ``latency_repeats`` passes of
    it), is evaluated on ``test``, fine-tuned with ``effdl.fit(copy, train, **fine_tune)`` and evaluated again.
    The control: a copy of the dense ``model`` fine-tuned with the same ``fine_tune`` arguments. ``model`` itself is
    left unchanged; accuracies are in % of ``test``.
    """
    from effdl.core.train import fit

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(variants, Mapping) or not variants:
        raise ValueError(f"variants must be a non-empty dict {{label: (method, rank)}}, got {variants!r}")
    if not isinstance(fine_tune, Mapping):
        raise TypeError(f"fine_tune must be a dict of effdl.fit keyword arguments, got {type(fine_tune).__name__}")
    if not isinstance(inputs, Tensor) or inputs.dim() < 1 or inputs.shape[0] < 1:
        raise ValueError("inputs must be a tensor batch (B, ...) with B >= 1, to count FLOPs and time the models")
    # Every variant is checked before the control's fine-tuning, so a bad last variant fails in seconds, not after
    # all the training before it.
    modules = dict(model.named_modules())
    for label, spec in variants.items():
        if not isinstance(spec, tuple | list) or len(spec) != 2:
            raise ValueError(f"variants[{label!r}] must be a pair (method, rank), got {spec!r}")
        method, rank = _check_method(spec[0]), spec[1]
        try:
            for name in _select(model, [layer], method):  # the layer exists and this method factorizes it
                if not isinstance(rank, Mapping):  # a per-layer dict is checked by factorize_ itself
                    factorized_params(modules[name], rank, method=method)  # the rank is in range for it
        except (TypeError, ValueError) as err:
            raise type(err)(f"variants[{label!r}]: {err}") from None

    dense_acc = 100 * evaluate(model, test).accuracy
    control = copy.deepcopy(model)  # the control: the dense model fine-tuned exactly like the factorized ones
    fit(control, train, **fine_tune)  # type: ignore[arg-type]
    dense_ft_acc = 100 * evaluate(control, test).accuracy

    reports: dict[str, FactorizationReport] = {}
    before: dict[str, float] = {}
    after: dict[str, float] = {}
    models: dict[str, nn.Module] = {"dense": model, "dense + FT": control}
    for label, (method, rank) in variants.items():
        net = copy.deepcopy(model)
        reports[label] = factorize_(
            net,
            method=method,
            rank=rank,
            layers=[layer],
            inputs=inputs,
            latency=latency,
            latency_repeats=latency_repeats,
        )
        before[label] = 100 * evaluate(net, test).accuracy
        fit(net, train, **fine_tune)  # type: ignore[arg-type]
        after[label] = 100 * evaluate(net, test).accuracy
        models[label] = net
    return ConvComparison(
        layer=layer,
        dense_accuracy=dense_acc,
        dense_ft_accuracy=dense_ft_acc,
        reports=reports,
        accuracy_before_ft=before,
        accuracy_after_ft=after,
        models=models,
        batch=int(inputs.shape[0]),
    )
