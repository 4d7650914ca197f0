"""Range regularization (R²): training losses that shrink the weight range so low-bit quantization loses less.

Follows "R²: Range Regularization for Model Compression and Quantization" (Kundu, Yoo, Mishra, Cho, Adya, 2023).
A few outlier weights stretch a layer's quantization range, so every other weight gets coarser levels. The three
regularizers below are added to the task loss during full-precision training (``effdl.fit(..., extra_loss=reg)``)
and pull the outliers in. Each is an ``nn.Module`` whose ``forward(model)`` returns the scalar

    R(model) = λ · Σ_l penalty(W_l)

over the chosen layers ``l`` (default: every ``nn.Conv2d`` / ``nn.Linear`` weight), with ``λ = strength``:

- :class:`LInfRegularizer`: ``penalty = max|W|`` (the L∞ norm);
- :class:`MarginRegularizer`: ``penalty = Σ relu(|W| − |M|)² + |M|`` with a learnable margin ``M`` per layer;
- :class:`SoftMinMaxRegularizer`: ``penalty = softmax_α(W) − softmin_α(W) + e^{−α}`` with a learnable hardness ``α``.

:func:`range_ratio` reports the outlier measure ``max|W| / std(W)`` per layer. :func:`compare_regularizers` runs the
whole experiment of the paper at workbench scale: train one model per regularizer (and seed) with the same recipe,
then measure full-precision accuracy, range ratio, and accuracy after low-bit PTQ on each quantization grid and after
k-means palettization, on a validation split (for choices) and on the test set (for reporting), as a tidy table.

Written by hand because no maintained library ships these losses; they are a few lines of tensor math each.
Layers are stored by name and ``forward(model)`` reads the weights from the model it is given, which is how
``fit`` calls ``extra_loss(model)``.
"""

from __future__ import annotations

import copy
import math
import numbers
import re
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "DEFAULT_PTQ",
    "PTQ_GRIDS",
    "Gain",
    "LInfRegularizer",
    "MarginRegularizer",
    "R2Comparison",
    "SoftMinMaxRegularizer",
    "alpha_balance",
    "compare_regularizers",
    "ptq_metric",
    "range_ratio",
    "soft_range_slope",
]

_DEFAULT_TYPES = (nn.Conv2d, nn.Linear)


def _check_model(model: object, arg: str = "model") -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{arg} must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _default_layers(model: nn.Module) -> list[str]:
    return [name for name, m in model.named_modules() if isinstance(m, _DEFAULT_TYPES)]


def _resolve_layers(model: nn.Module, layers: Iterable[str] | None) -> list[str]:
    """Names of the layers to regularize: all Conv2d/Linear when ``layers`` is None, else the given names, checked."""
    available = _default_layers(model)
    if layers is None:
        if not available:
            raise ValueError("layers=None needs a model with at least one nn.Conv2d or nn.Linear layer; found none")
        return available
    if isinstance(layers, str):
        layers = [layers]
    if not isinstance(layers, Iterable):
        raise TypeError(f"layers must be None, a layer name or a list of layer names, got {layers!r}")
    names = list(layers)
    if not names:
        raise ValueError(f"layers must name at least one layer, got an empty list; available: {available}")
    modules = dict(model.named_modules())
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"layers must be layer names (str), got {type(name).__name__}: {name!r}")
        weight = getattr(modules.get(name), "weight", None)
        if not isinstance(weight, torch.Tensor):
            raise ValueError(f"unknown layer {name!r} (or it has no weight tensor); available: {available}")
    if len(set(names)) != len(names):
        raise ValueError(f"layers has duplicate names: {names}")
    return names


def _check_strength(strength: object) -> float:
    if not isinstance(strength, numbers.Real) or isinstance(strength, bool) or not math.isfinite(strength):
        raise ValueError(f"strength must be a finite real number >= 0, got {strength!r}")
    if strength < 0:
        raise ValueError(f"strength must be >= 0, got {strength!r}")
    return float(strength)


def _weight(model: nn.Module, name: str) -> torch.Tensor:
    try:
        module = model.get_submodule(name)
    except AttributeError as err:
        raise ValueError(
            f"layer {name!r} (given at construction) is missing from the model passed to forward; "
            f"that model has: {_default_layers(model)}"
        ) from err
    weight = getattr(module, "weight", None)
    if not isinstance(weight, torch.Tensor):
        raise ValueError(f"layer {name!r} in the model passed to forward has no weight tensor")
    return weight


class _RangeRegularizer(nn.Module):
    """Shared constructor and validation: ``strength`` (λ) and the layer names; the record of learned values."""

    def __init__(self, model: nn.Module, *, strength: float = 0.01, layers: Iterable[str] | None = None) -> None:
        super().__init__()
        _check_model(model)
        self.strength = _check_strength(strength)
        self.layers: list[str] = _resolve_layers(model, layers)
        self._trace: list[torch.Tensor] = []

    def _weights(self, model: nn.Module) -> list[torch.Tensor]:
        _check_model(model)
        return [_weight(model, name) for name in self.layers]

    def _learned(self) -> list[torch.Tensor]:
        """The per-layer learned values that :attr:`history` records (none for L∞)."""
        return []

    def _record(self) -> None:
        """Append the learned values used by this forward, if it is a training one (training mode, grad enabled)."""
        if self.training and torch.is_grad_enabled():
            values = self._learned()
            if values:
                self._trace.append(torch.stack([v.detach() for v in values]))

    @property
    def history(self) -> torch.Tensor:
        """Learned values per training forward, float32 CPU, shape ``(forwards, len(layers))``: row ``i`` holds the
        values used by the ``i``-th forward in training mode with gradients on (under ``fit``: step ``i + 1``,
        before that step's update). Soft-min-max records ``α_l``, margin ``|M_l|``; L∞ learns nothing, so
        ``(0, len(layers))``. :meth:`clear_history` empties it; ``.eval()`` or ``torch.no_grad()`` pauses it."""
        if not self._trace:
            return torch.empty(0, len(self.layers))
        return torch.stack(self._trace).float().cpu()

    def clear_history(self) -> None:
        """Forget the recorded :attr:`history`."""
        self._trace.clear()

    def extra_repr(self) -> str:
        return f"strength={self.strength}, layers={self.layers}"


class LInfRegularizer(_RangeRegularizer):
    """L∞ range regularizer: ``R = λ · Σ_l max_i |W_l[i]|``.

    Only the largest-magnitude weight of each layer gets a gradient (``λ · sign(w)``), so the outlier is pulled in
    step by step. No learnable parameters.

    Args:
        model: the model whose layers are regularized (names are stored; weights are read at ``forward``).
        strength: λ ≥ 0 (default 0.01); 0 gives a zero loss.
        layers: layer names (``model.named_modules()`` names with a ``weight``); ``None`` = every Conv2d/Linear.
    """

    def forward(self, model: nn.Module) -> torch.Tensor:
        """``λ · Σ_l max|W_l|`` as a 0-d tensor."""
        return self.strength * sum(w.abs().max() for w in self._weights(model))


class MarginRegularizer(_RangeRegularizer):
    """Margin range regularizer with a learnable margin ``M_l`` per layer (the paper's form):

    ``R = λ · Σ_l ( Σ_i relu(|W_l[i]| − |M_l|)² + |M_l| )``

    Weights outside the band ``[−|M_l|, |M_l|]`` pay a squared penalty on how far they stick out; the ``|M_l|`` term
    pushes the band itself to shrink, so margin and weights tighten together.

    Args:
        model, strength, layers: as in :class:`LInfRegularizer`.
        init: initial margin: ``"max"`` (default) = each layer's current ``max|W|`` (so training starts with a zero
            squared term), or a positive float used for every layer.

    The margins are ``self.margins`` (an ``nn.ParameterList``, one 0-d parameter per layer in ``self.layers``
    order); ``fit`` trains them along with the model when ``extra_loss=`` is this module, in a parameter group
    without weight decay. :attr:`history` records ``|M_l|`` at every training step.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        strength: float = 0.01,
        layers: Iterable[str] | None = None,
        init: str | float = "max",
    ) -> None:
        super().__init__(model, strength=strength, layers=layers)
        weights = self._weights(model)
        if isinstance(init, str):
            if init != "max":
                raise ValueError(f"init must be 'max' or a positive float, got {init!r}")
            values = [w.detach().abs().max().item() for w in weights]
        elif isinstance(init, numbers.Real) and not isinstance(init, bool) and math.isfinite(init) and init > 0:
            values = [float(init)] * len(weights)
        else:
            raise ValueError(f"init must be 'max' or a positive float, got {init!r}")
        self.margins = nn.ParameterList(
            [
                nn.Parameter(torch.tensor(v, dtype=w.dtype, device=w.device))
                for v, w in zip(values, weights, strict=True)
            ]
        )

    def _learned(self) -> list[torch.Tensor]:
        return [m.abs() for m in self.margins]

    def forward(self, model: nn.Module) -> torch.Tensor:
        """``λ · Σ_l (Σ relu(|W_l| − |M_l|)² + |M_l|)`` as a 0-d tensor."""
        self._record()
        total = 0.0
        for w, m in zip(self._weights(model), self.margins, strict=True):
            margin = m.abs()
            total = total + F.relu(w.abs() - margin).pow(2).sum() + margin
        return self.strength * total


class SoftMinMaxRegularizer(_RangeRegularizer):
    """Soft-min-max range regularizer with a learnable hardness ``α_l`` per layer:

    ``R = λ · Σ_l ( smax_α(W_l) − smin_α(W_l) + e^{−α_l} )`` with, over the flattened weights ``w``,

    ``smax_α(w) = Σ_i w_i e^{α w_i} / Σ_j e^{α w_j} = w · softmax(α w)``,
    ``smin_α(w) = Σ_i w_i e^{−α w_i} / Σ_j e^{−α w_j} = w · softmax(−α w)``.

    ``softmax`` is computed stably (shifted by the max, as ``torch.softmax`` does). At ``α = 0`` both are the mean
    and the range term is 0; as ``α → ∞`` they approach ``max(w)`` and ``min(w)``. The range term pulls the extreme
    weights together. Unlike the L∞ and margin forms it penalises the asymmetric range ``max − min``, not ``max|w|``.

    How ``α`` moves: with ``p = softmax(α w)`` and ``q = softmax(−α w)``, ``∂smax/∂α = Var_p(w)`` and
    ``∂smin/∂α = −Var_q(w)``, so ``∂R/∂α_l = λ (Var_p(w) + Var_q(w) − e^{−α_l})``. The range term always pulls
    ``α`` *down* (a softer max is a smaller range: on its own the loss would rather blur the max than shrink it);
    ``e^{−α}`` pushes it up and stops it at the ``α`` where the two balance, a few units for weights of order
    0.1 (there the soft range is a fraction of the true one). Once ``α`` is more than a few units ``e^{−α}`` is
    negligible, and the range term's pull is small too (about ``2e-4`` per layer at ``α = 100`` for weights of
    order 0.1, against ``e^{−100} ≈ 4e-44``), so from a large ``alpha_init`` ``α`` barely moves: the hardness
    then acts as a chosen hyper-parameter. ``fit`` trains ``α`` without weight decay (decay would pull it to 0);
    :attr:`history` records ``α_l`` at every training step.

    Args:
        model, strength, layers: as in :class:`LInfRegularizer`.
        alpha_init: initial ``α`` for every layer (finite float, default 10.0: weights of order 0.1 then get a
            noticeably max-leaning average; 0 would start at the mean).

    The hardnesses are ``self.alphas`` (an ``nn.ParameterList`` of 0-d parameters in ``self.layers`` order).
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        strength: float = 0.01,
        layers: Iterable[str] | None = None,
        alpha_init: float = 10.0,
    ) -> None:
        super().__init__(model, strength=strength, layers=layers)
        if not isinstance(alpha_init, numbers.Real) or isinstance(alpha_init, bool) or not math.isfinite(alpha_init):
            raise ValueError(f"alpha_init must be a finite real number, got {alpha_init!r}")
        weights = self._weights(model)
        self.alphas = nn.ParameterList(
            [nn.Parameter(torch.tensor(float(alpha_init), dtype=w.dtype, device=w.device)) for w in weights]
        )

    @staticmethod
    def soft_max_min(w: torch.Tensor, alpha: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(smax_α(w), smin_α(w))`` over all elements of ``w`` (see the class docstring)."""
        flat = w.reshape(-1)
        smax = (flat * torch.softmax(alpha * flat, dim=0)).sum()
        smin = (flat * torch.softmax(-alpha * flat, dim=0)).sum()
        return smax, smin

    def _learned(self) -> list[torch.Tensor]:
        return list(self.alphas)

    def forward(self, model: nn.Module) -> torch.Tensor:
        """``λ · Σ_l (smax_α(W_l) − smin_α(W_l) + e^{−α_l})`` as a 0-d tensor."""
        self._record()
        total = 0.0
        for w, alpha in zip(self._weights(model), self.alphas, strict=True):
            smax, smin = self.soft_max_min(w, alpha)
            total = total + smax - smin + torch.exp(-alpha)
        return self.strength * total


def soft_range_slope(w: torch.Tensor, alpha: float) -> tuple[float, float]:
    """Soft-min-max's range term at hardness ``alpha`` and its slope in ``α``: ``(smax_α(w) − smin_α(w),
    ∂(smax_α − smin_α)/∂α)`` over all elements of ``w`` (any shape), by autograd through
    :meth:`SoftMinMaxRegularizer.soft_max_min` (α a float32 0-d tensor). The slope equals
    ``Var_p(w) + Var_q(w) >= 0`` (see :class:`SoftMinMaxRegularizer`), in the units of ``w`` per unit of ``α``."""
    if not isinstance(w, torch.Tensor) or not w.is_floating_point() or w.numel() == 0:
        raise TypeError(f"w must be a non-empty floating-point torch.Tensor, got {w!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not math.isfinite(alpha):
        raise ValueError(f"alpha must be a finite real number, got {alpha!r}")
    if not torch.isfinite(w).all():  # the soft max/min and the slope would be NaN, which compares False
        raise ValueError("w must hold finite values only (no NaN/inf)")
    a = torch.tensor(alpha, requires_grad=True)
    smax, smin = SoftMinMaxRegularizer.soft_max_min(w.detach(), a)
    (slope,) = torch.autograd.grad(smax - smin, a)
    return (smax - smin).item(), slope.item()


_MAX_ALPHA_GRID = 1_000_000


def alpha_balance(w: torch.Tensor, *, step: float = 0.25, stop: float = 100.0) -> float:
    """The smallest ``α`` on the grid ``step, 2·step, ... < stop`` at which the range term's slope
    (:func:`soft_range_slope`) reaches ``e^{−α}``: where ``∂R/∂α = λ (slope − e^{−α})`` turns non-negative, i.e.
    where gradient descent would leave ``α`` if it started below. Raises ``ValueError`` if no grid point does."""
    if not (isinstance(step, numbers.Real) and isinstance(stop, numbers.Real)) or not 0 < step < stop:
        raise ValueError(f"need 0 < step < stop, got step={step!r}, stop={stop!r}")
    if not math.isfinite(stop) or stop / step > _MAX_ALPHA_GRID:
        # every grid point is an autograd pass: an infinite or huge grid would overflow or run for hours
        raise ValueError(
            f"need a finite stop and at most {_MAX_ALPHA_GRID:,} grid points (stop / step), "
            f"got step={step!r}, stop={stop!r}"
        )
    n = math.ceil(stop / step)
    for k in range(1, n):
        a = k * step
        if soft_range_slope(w, a)[1] >= math.exp(-a):
            return a
    raise ValueError(f"the slope never reaches e^(-alpha) for alpha in {step:g}..{stop:g}")


@torch.no_grad()
def range_ratio(model: nn.Module, *, layers: Iterable[str] | None = None) -> dict[str, float]:
    """Per-layer outlier measure ``max|W| / std(W)`` (``std`` with Bessel's correction, over all elements).

    A Gaussian layer of a few thousand weights sits around 3–4; outliers push it higher. Returns
    ``{layer name: ratio}`` for ``layers`` (default every Conv2d/Linear); a constant weight (std 0) gives ``inf``
    (or ``nan`` if it is all zeros), a one-element weight gives ``nan``.
    """
    _check_model(model)
    out: dict[str, float] = {}
    for name in _resolve_layers(model, layers):
        w = _weight(model, name).detach().float().reshape(-1)
        out[name] = (w.abs().max() / w.std()).item() if w.numel() > 1 else float("nan")
    return out


# ----------------------------------------------------------------------------------------------------
# The experiment: the same training with and without each regularizer, then low-bit compression of each model


PTQ_GRIDS = ("full", "restricted", "affine", "midrise")
_PTQ_RE = re.compile(r"^ptq(\d+)_(full|restricted|affine|midrise)_(channel|tensor)$")
DEFAULT_PTQ = (
    "ptq4_full_channel",
    "ptq2_full_channel",
    "ptq2_restricted_channel",
    "ptq2_affine_channel",
    "ptq2_midrise_channel",
    "ptq2_full_tensor",
)


def ptq_metric(bits: int, grid: str = "full", *, per_channel: bool = True) -> str:
    """The metric name ``ptq{bits}_{grid}_{channel|tensor}`` that :func:`compare_regularizers` takes in ``ptq=``.

    ``grid``: ``"full"`` (symmetric, all ``2**bits`` codes, step ``max|w| / 2**(bits-1)``), ``"restricted"``
    (symmetric, ``2**bits − 1`` levels: ternary at 2 bits), ``"affine"`` (``min..max`` with a zero point),
    ``"midrise"`` (symmetric, ``2**bits`` levels, no zero); see :mod:`effdl.compress.uniform`.
    """
    # the name pattern alone would accept bits="2" or "02", and any truthy per_channel
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral):
        raise TypeError(f"bits must be an int in 1..16, got {bits!r}")
    if not isinstance(per_channel, bool):
        raise TypeError(f"per_channel must be a bool, got {per_channel!r}")
    name = f"ptq{int(bits)}_{grid}_{'channel' if per_channel else 'tensor'}"
    _ptq_config(name, "ptq_metric(...)")
    return name


def _ptq_config(name: object, arg: str) -> dict[str, object]:
    """``quantize_weights_`` keyword arguments for a metric name ``ptq{b}_{grid}_{channel|tensor}``."""
    match = _PTQ_RE.match(name) if isinstance(name, str) else None
    if match is None or not 1 <= int(match[1]) <= 16:
        raise ValueError(
            f"{arg} must be names ptq{{bits}}_{{grid}}_{{channel|tensor}} with bits in 1..16 and grid one of "
            f"{PTQ_GRIDS} (e.g. 'ptq2_full_channel'), got {name!r}"
        )
    bits, grid, gran = int(match[1]), match[2], match[3]
    symmetric = grid != "affine"
    return {
        "bits": bits,
        "per_channel": gran == "channel",
        "symmetric": symmetric,
        "grid": grid if symmetric else "full",
    }


@dataclass
class Gain:
    """``variant`` on ``metric`` minus ``baseline`` on ``baseline_metric``, seed by seed, on ``split`` (points of
    accuracy). ``per_seed`` in the comparison's seed order; ``std`` is the sample standard deviation over seeds
    (``nan`` for one seed); ``min_seed`` the smallest per-seed gain."""

    variant: str
    metric: str
    baseline: str
    baseline_metric: str
    split: str
    per_seed: list[float]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.per_seed)

    @property
    def std(self) -> float:
        return statistics.stdev(self.per_seed) if len(self.per_seed) > 1 else float("nan")

    @property
    def min_seed(self) -> float:
        return min(self.per_seed)


@dataclass
class R2Comparison:
    """What :func:`compare_regularizers` measured.

    ``rows``: one dict per trained model (variant × seed), tidy: ``variant``, ``seed``, ``range_ratio`` (mean over
    ``layers`` of ``max|W| / std(W)``), ``seconds`` (training wall-clock time) and, for every accuracy metric ``m``
    in ``metrics`` and split ``s`` in ``splits``, ``"{s}.{m}"``: accuracy in % on that split. Accuracy metrics:
    ``fp`` (full precision); ``ptq{b}_{grid}_{channel|tensor}`` (``b``-bit min/max weight-only PTQ on ``grid``, one
    range per output channel / per tensor, see :func:`ptq_metric`); ``kmeans{b}`` (``b``-bit k-means palette per
    layer). ``splits`` is ``["val", "test"]`` when a validation set was given, else ``["test"]``.
    ``models[variant]``: the first seed's trained float model (eval mode); ``weights[variant][layer]``: its weights
    (CPU copies); ``layer_ratios[variant]``: its :func:`range_ratio` per layer; ``histories[variant]``: one
    regularizer :attr:`~_RangeRegularizer.history` per seed, ``(steps, len(layers))`` (α for soft-min-max, ``|M|``
    for margin; empty for L∞, absent for a variant without a regularizer module). ``layers``: the layers measured.
    """

    variants: list[str]
    seeds: list[int]
    layers: list[str]
    metrics: list[str]
    splits: list[str] = field(default_factory=lambda: ["test"])
    rows: list[dict[str, object]] = field(default_factory=list)
    models: dict[str, nn.Module] = field(default_factory=dict)
    weights: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    layer_ratios: dict[str, dict[str, float]] = field(default_factory=dict)
    histories: dict[str, list[torch.Tensor]] = field(default_factory=dict)

    def _key(self, variant: str, metric: str, split: str | None) -> str:
        if variant not in self.variants:
            raise ValueError(f"variant must be one of {self.variants}, got {variant!r}")
        if metric in _MODEL_METRICS:
            if split is not None:
                raise ValueError(f"{metric!r} is a property of the trained model: leave split=None, got {split!r}")
            return metric
        if metric not in self.metrics:
            raise ValueError(f"metric must be one of {self.metrics + list(_MODEL_METRICS)}, got {metric!r}")
        split = "test" if split is None else split
        if split not in self.splits:
            raise ValueError(f"split must be one of {self.splits} (pass val= to measure 'val'), got {split!r}")
        return f"{split}.{metric}"

    def values(self, variant: str, metric: str, split: str | None = None) -> list[float]:
        """``metric`` of ``variant`` on ``split`` (default ``"test"``; ``None`` for ``range_ratio``/``seconds``),
        one value per seed in ``seeds`` order."""
        key = self._key(variant, metric, split)
        return [float(r[key]) for r in self.rows if r["variant"] == variant]  # type: ignore[arg-type]

    def mean(self, variant: str, metric: str, split: str | None = None) -> float:
        """Mean over the seeds of :meth:`values`."""
        return statistics.fmean(self.values(variant, metric, split))

    def std(self, variant: str, metric: str, split: str | None = None) -> float:
        """Sample standard deviation over the seeds of :meth:`values` (``nan`` for one seed)."""
        vals = self.values(variant, metric, split)
        return statistics.stdev(vals) if len(vals) > 1 else float("nan")

    def summary(self, split: str = "test") -> list[dict[str, object]]:
        """One dict per variant: ``variant``, ``runs`` (seeds), mean ``range_ratio`` and ``seconds``, and the mean
        over seeds of every accuracy metric on ``split``."""
        return [
            {"variant": v, "runs": len(self.values(v, "range_ratio"))}
            | {m: self.mean(v, m) for m in _MODEL_METRICS}
            | {m: self.mean(v, m, split) for m in self.metrics}
            for v in self.variants
        ]

    def choose(
        self, variants: Sequence[str] | None = None, metrics: Sequence[str] | None = None, *, split: str = "val"
    ) -> tuple[str, str]:
        """The ``(variant, metric)`` pair with the highest mean accuracy over the seeds on ``split`` (default the
        validation set: choose there, report on test), among ``variants`` × ``metrics`` (default all). Ties go to
        the first in the given order. E.g. ``choose(["L∞", "margin"], ["ptq2_full_channel"])`` picks a regularizer;
        ``choose(["baseline"], two_bit_grids)`` the baseline's best grid."""
        variants = list(self.variants if variants is None else variants)
        metrics = list(self.metrics if metrics is None else metrics)
        if not variants or not metrics:
            raise ValueError(f"variants and metrics must not be empty, got {variants} and {metrics}")
        if split not in self.splits:
            raise ValueError(f"split must be one of {self.splits} (pass val= to measure 'val'), got {split!r}")
        if any(m in _MODEL_METRICS for m in metrics):
            raise ValueError(f"metrics must be accuracy metrics {self.metrics}, got {metrics}")
        pairs = [(v, m) for v in variants for m in metrics]
        return max(pairs, key=lambda vm: self.mean(vm[0], vm[1], split))  # max keeps the first of equal ones

    def gain(
        self,
        variant: str,
        metric: str,
        *,
        baseline: str = "baseline",
        baseline_metric: str | None = None,
        split: str = "test",
    ) -> Gain:
        """Per-seed accuracy of ``variant`` on ``metric`` minus ``baseline`` on ``baseline_metric`` (default the
        same metric), on ``split``, as a :class:`Gain` (mean, std, smallest seed's gain)."""
        base_metric = metric if baseline_metric is None else baseline_metric
        a, b = self.values(variant, metric, split), self.values(baseline, base_metric, split)
        return Gain(variant, metric, baseline, base_metric, split, [x - y for x, y in zip(a, b, strict=True)])


_MODEL_METRICS = ("range_ratio", "seconds")


def _check_bit_list(name: str, bits: object, hi: int) -> list[int]:
    if isinstance(bits, str | bytes) or not isinstance(bits, Sequence):
        raise TypeError(f"{name} must be a sequence of ints in 1..{hi}, got {bits!r}")
    out = list(bits)
    if any(isinstance(b, bool) or not isinstance(b, numbers.Integral) or not 1 <= b <= hi for b in out):
        raise ValueError(f"{name} must hold ints in 1..{hi}, got {out}")
    if len(set(out)) != len(out):
        raise ValueError(f"{name} has duplicates: {out}")
    return [int(b) for b in out]


def compare_regularizers(
    make_model: Callable[[int], nn.Module],
    train: object,
    test: object,
    *,
    variants: Mapping[str, Callable[[nn.Module], nn.Module] | None],
    val: object | None = None,
    seeds: Sequence[int] = (0,),
    epochs: int = 10,
    lr: float = 0.05,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    schedule: str | None = "cosine",
    batch_size: int = 64,
    layers: Iterable[str] | None = None,
    ptq: Sequence[str] = DEFAULT_PTQ,
    kmeans_bits: Sequence[int] = (2, 1),
    device: str | torch.device | None = None,
    progress: bool | None = None,
) -> R2Comparison:
    """Train one model per (seed, variant) with the same recipe and measure how well each compresses.

    For every seed, and every ``variants`` entry ``name -> factory``: ``model = make_model(seed)``, ``reg =
    factory(model)`` (``None`` as the factory, or a factory returning ``None``, trains without a regularizer: the
    baseline), then ``effdl.fit(model, train, extra_loss=reg, seed=seed, ...)`` with the recipe given here (the
    same for every variant; ``weight_decay`` applies to all the model's weights, so R² comes *on top* of the usual
    training; the regularizer's own α or margins get no decay). Then, on ``val`` (if given) and on ``test``: the
    full-precision accuracy; for each ``ptq`` name, the accuracy after min/max weight-only fake quantization on that
    grid (:func:`effdl.compress.quant.quantize_weights_` on a copy; activations stay float); for each
    ``kmeans_bits``, the accuracy after k-means palettization (:func:`effdl.compress.palettize.palettize_` on a
    copy, seeded by the seed). Nothing is fine-tuned after compression. Choose on ``val``
    (:meth:`R2Comparison.choose`), report on ``test`` (:meth:`R2Comparison.gain`).

    Args:
        make_model: ``seed -> nn.Module``, a fresh untrained model (e.g. ``lambda s: effdl.build(..., seed=s)``).
        train, test: data as :func:`effdl.fit` / :func:`effdl.evaluate` take it.
        variants: ``{name: factory}``, ``factory(model) -> regularizer module`` (or ``None`` for the baseline).
        val: held-out data for choices (never trained on, e.g. from :func:`effdl.core.holdout.train_val_split`).
        seeds: the seeds; each seeds the initial weights (through ``make_model``) and the batch order.
        epochs, lr, optimizer, momentum, weight_decay, schedule, batch_size, device: passed to :func:`effdl.fit`.
        layers: Conv2d/Linear layer names that are measured, quantized and palettized (default: all of them).
        ptq: PTQ schemes as metric names ``ptq{bits}_{grid}_{channel|tensor}`` (:func:`ptq_metric`; grid in
            :data:`PTQ_GRIDS`); default 4-bit full grid per channel, 2-bit on every grid per channel, and 2-bit full
            grid per tensor.
        kmeans_bits: bit-widths for k-means palettization (1..8, ``2**bits`` centroids per layer).
        progress: one tqdm bar over the runs (default on unless ``EFFDL_PROGRESS=0``); ``fit``'s own bars are off.

    Returns an :class:`R2Comparison` (rows in seed-major order: all variants for the first seed, then the next).
    """
    from tqdm.auto import tqdm

    from effdl.compress.palettize import palettize_
    from effdl.compress.quant import quantize_weights_
    from effdl.core.train import evaluate, fit, progress_enabled

    if not callable(make_model):
        raise TypeError(f"make_model must be a callable seed -> nn.Module, got {type(make_model).__name__}")
    if not isinstance(variants, Mapping) or not variants:
        raise ValueError(f"variants must be a non-empty mapping name -> factory (or None), got {variants!r}")
    for name, factory in variants.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"variants keys must be non-empty names (str), got {name!r}")
        if factory is not None and not callable(factory):
            raise TypeError(f"variants[{name!r}] must be a callable model -> regularizer, or None; got {factory!r}")
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence) or not seeds:
        raise ValueError(f"seeds must be a non-empty sequence of ints >= 0, got {seeds!r}")
    if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be ints >= 0, got {list(seeds)}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds has duplicates: {list(seeds)}")
    if isinstance(ptq, str | bytes) or not isinstance(ptq, Sequence):
        raise TypeError(f"ptq must be a sequence of names such as ('ptq2_full_channel',), got {ptq!r}")
    ptq_list = list(ptq)
    ptq_configs = {name: _ptq_config(name, "ptq") for name in ptq_list}
    if len(ptq_configs) != len(ptq_list):
        raise ValueError(f"ptq has duplicates: {ptq_list}")
    kmeans_list = _check_bit_list("kmeans_bits", kmeans_bits, 8)
    if layers is not None and not isinstance(layers, str | Iterable):
        raise TypeError(f"layers must be None, a layer name or a list of layer names, got {layers!r}")
    layer_arg = None if layers is None else ([layers] if isinstance(layers, str) else list(layers))

    metrics = ["fp", *ptq_list, *(f"kmeans{b}" for b in kmeans_list)]
    splits = {"val": val, "test": test} if val is not None else {"test": test}
    result = R2Comparison(
        variants=list(variants), seeds=[int(s) for s in seeds], layers=[], metrics=metrics, splits=list(splits)
    )

    def accuracies(model: nn.Module, metric: str, row: dict[str, object]) -> None:
        for split, data in splits.items():
            row[f"{split}.{metric}"] = 100 * evaluate(model, data).accuracy

    bar = tqdm(total=len(seeds) * len(variants), desc="R² runs", unit="model", disable=not progress_enabled(progress))
    try:
        for seed in result.seeds:
            for name, factory in variants.items():
                bar.set_postfix(variant=name, seed=seed)
                model = make_model(seed)
                _check_model(model, "make_model(seed)")
                chosen = _resolve_layers(model, layer_arg)
                reg = factory(model) if factory is not None else None
                if reg is not None and not callable(reg):
                    raise TypeError(
                        f"variants[{name!r}](model) must return a callable regularizer or None, got {reg!r}"
                    )
                start = time.perf_counter()
                fit(
                    model,
                    train,
                    epochs=epochs,
                    lr=lr,
                    optimizer=optimizer,
                    momentum=momentum,
                    weight_decay=weight_decay,
                    schedule=schedule,
                    batch_size=batch_size,
                    extra_loss=reg,
                    seed=seed,
                    device=device,
                    progress=False,
                )
                seconds = time.perf_counter() - start
                model.eval()
                ratios = range_ratio(model, layers=chosen)
                row: dict[str, object] = {"variant": name, "seed": seed}
                row["range_ratio"] = sum(ratios.values()) / len(ratios)
                row["seconds"] = seconds
                accuracies(model, "fp", row)
                for metric, cfg in ptq_configs.items():
                    q = quantize_weights_(copy.deepcopy(model), layers=chosen, **cfg)  # type: ignore[arg-type]
                    accuracies(q, metric, row)
                for b in kmeans_list:
                    q = copy.deepcopy(model)
                    palettize_(q, bits=b, layers=chosen, seed=seed)
                    accuracies(q, f"kmeans{b}", row)
                result.rows.append(row)
                if isinstance(reg, _RangeRegularizer):
                    result.histories.setdefault(name, []).append(reg.history)
                if name not in result.weights:  # the first seed's model, for histograms
                    result.layers = chosen
                    result.models[name] = model
                    result.weights[name] = {n: _weight(model, n).detach().float().cpu().clone() for n in chosen}
                    result.layer_ratios[name] = ratios
                bar.update(1)
    finally:
        bar.close()
    return result
