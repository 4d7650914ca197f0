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

:func:`range_ratio` reports the outlier measure ``max|W| / std(W)`` per layer.

Written by hand because no maintained library ships these losses; they are a few lines of tensor math each.
Layers are stored by name and ``forward(model)`` reads the weights from the model it is given, which is how
``fit`` calls ``extra_loss(model)``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LInfRegularizer", "MarginRegularizer", "SoftMinMaxRegularizer", "range_ratio"]

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
    """Shared constructor and validation: ``strength`` (λ) and the layer names."""

    def __init__(self, model: nn.Module, *, strength: float = 0.01, layers: Iterable[str] | None = None) -> None:
        super().__init__()
        _check_model(model)
        self.strength = _check_strength(strength)
        self.layers: list[str] = _resolve_layers(model, layers)

    def _weights(self, model: nn.Module) -> list[torch.Tensor]:
        _check_model(model)
        return [_weight(model, name) for name in self.layers]

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
    order); ``fit`` trains them along with the model when ``extra_loss=`` is this module.
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

    def forward(self, model: nn.Module) -> torch.Tensor:
        """``λ · Σ_l (Σ relu(|W_l| − |M_l|)² + |M_l|)`` as a 0-d tensor."""
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
    and the range term is 0; as ``α → ∞`` they approach ``max(w)`` and ``min(w)``. The ``e^{−α}`` term pushes
    ``α`` up so the soft range tracks the true range, while the range term pulls the extreme weights together.
    Unlike the L∞ and margin forms this penalises the asymmetric range ``max − min``, not ``max|w|``.

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

    def forward(self, model: nn.Module) -> torch.Tensor:
        """``λ · Σ_l (smax_α(W_l) − smin_α(W_l) + e^{−α_l})`` as a 0-d tensor."""
        total = 0.0
        for w, alpha in zip(self._weights(model), self.alphas, strict=True):
            smax, smin = self.soft_max_min(w, alpha)
            total = total + smax - smin + torch.exp(-alpha)
        return self.strength * total


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
