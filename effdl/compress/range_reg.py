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
then measure full-precision accuracy, range ratio, low-bit PTQ and k-means accuracy of each, as a tidy table.

Written by hand because no maintained library ships these losses; they are a few lines of tensor math each.
Layers are stored by name and ``forward(model)`` reads the weights from the model it is given, which is how
``fit`` calls ``extra_loss(model)``.
"""

from __future__ import annotations

import copy
import math
import numbers
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "LInfRegularizer",
    "MarginRegularizer",
    "R2Comparison",
    "SoftMinMaxRegularizer",
    "compare_regularizers",
    "range_ratio",
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


# ----------------------------------------------------------------------------------------------------
# The experiment: the same training with and without each regularizer, then low-bit compression of each model


@dataclass
class R2Comparison:
    """What :func:`compare_regularizers` measured.

    ``rows``: one dict per trained model (variant × seed), tidy: ``variant``, ``seed`` and one number per metric in
    ``metrics``: ``fp`` (full-precision test accuracy, %), ``range_ratio`` (mean over ``layers`` of
    ``max|W| / std(W)``), ``ptq{b}_channel`` / ``ptq{b}_tensor`` (test accuracy % after ``b``-bit symmetric min/max
    weight PTQ, per output channel / per tensor), ``kmeans{b}`` (test accuracy % after ``b``-bit k-means
    palettization per layer), ``seconds`` (training wall-clock time).
    ``models[variant]``: the first seed's trained float model (in eval mode); ``weights[variant][layer]``: its
    weights (CPU copies); ``layer_ratios[variant]``: its :func:`range_ratio` per layer. ``layers``: the layers
    measured, quantized and palettized.
    """

    variants: list[str]
    seeds: list[int]
    layers: list[str]
    metrics: list[str]
    rows: list[dict[str, object]] = field(default_factory=list)
    models: dict[str, nn.Module] = field(default_factory=dict)
    weights: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    layer_ratios: dict[str, dict[str, float]] = field(default_factory=dict)

    def _check(self, variant: str, metric: str) -> None:
        if variant not in self.variants:
            raise ValueError(f"variant must be one of {self.variants}, got {variant!r}")
        if metric not in self.metrics:
            raise ValueError(f"metric must be one of {self.metrics}, got {metric!r}")

    def values(self, variant: str, metric: str) -> list[float]:
        """``metric`` of ``variant``, one value per seed (in ``seeds`` order)."""
        self._check(variant, metric)
        return [float(r[metric]) for r in self.rows if r["variant"] == variant]  # type: ignore[arg-type]

    def mean(self, variant: str, metric: str) -> float:
        """Mean of ``metric`` over the seeds for ``variant``."""
        vals = self.values(variant, metric)
        return sum(vals) / len(vals)

    def summary(self) -> list[dict[str, object]]:
        """One dict per variant: ``variant``, ``runs`` (seeds) and the mean over seeds of every metric."""
        return [
            {"variant": v, "runs": len(self.values(v, "fp"))} | {m: self.mean(v, m) for m in self.metrics}
            for v in self.variants
        ]


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
    seeds: Sequence[int] = (0,),
    epochs: int = 10,
    lr: float = 0.05,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    schedule: str | None = "cosine",
    batch_size: int = 64,
    layers: Iterable[str] | None = None,
    ptq_bits: Sequence[int] = (2, 4),
    per_channel: Sequence[bool] = (True, False),
    kmeans_bits: Sequence[int] = (1, 2),
    device: str | torch.device | None = None,
    progress: bool | None = None,
) -> R2Comparison:
    """Train one model per (seed, variant) with the same recipe and measure how well each compresses.

    For every seed, and every ``variants`` entry ``name -> factory``: ``model = make_model(seed)``, ``reg =
    factory(model)`` (``None`` as the factory, or a factory returning ``None``, trains without a regularizer: the
    baseline), then ``effdl.fit(model, train, extra_loss=reg, seed=seed, ...)`` with the recipe given here (the
    same for every variant; ``weight_decay`` applies to all, so R² comes *on top* of the usual training). Then, on
    ``test``: the full-precision accuracy; the mean :func:`range_ratio` over ``layers``; for each ``ptq_bits`` and
    ``per_channel`` choice, the accuracy after symmetric min/max weight-only fake quantization
    (:func:`effdl.compress.quant.quantize_weights_` on a copy; activations stay float); for each ``kmeans_bits``, the
    accuracy after k-means palettization (:func:`effdl.compress.palettize.palettize_` on a copy).

    Args:
        make_model: ``seed -> nn.Module``, a fresh untrained model (e.g. ``lambda s: effdl.build(..., seed=s)``).
        train, test: data as :func:`effdl.fit` / :func:`effdl.evaluate` take it.
        variants: ``{name: factory}``, ``factory(model) -> regularizer module`` (or ``None`` for the baseline).
        seeds: the seeds; each seeds the initial weights (through ``make_model``) and the batch order.
        epochs, lr, optimizer, momentum, weight_decay, schedule, batch_size, device: passed to :func:`effdl.fit`.
        layers: Conv2d/Linear layer names that are measured, quantized and palettized (default: all of them).
        ptq_bits: weight bit-widths for PTQ (1..16); per_channel: which granularities (True = per output channel).
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
    ptq_list = _check_bit_list("ptq_bits", ptq_bits, 16)
    kmeans_list = _check_bit_list("kmeans_bits", kmeans_bits, 8)
    if isinstance(per_channel, bool) or not isinstance(per_channel, Sequence) or not per_channel:
        raise TypeError(f"per_channel must be a non-empty sequence of bools such as (True, False), got {per_channel!r}")
    if not all(isinstance(pc, bool) for pc in per_channel) or len(set(per_channel)) != len(per_channel):
        raise ValueError(f"per_channel must hold distinct bools, got {list(per_channel)}")
    layer_arg = None if layers is None else ([layers] if isinstance(layers, str) else list(layers))

    metrics = ["fp", "range_ratio"]
    metrics += [f"ptq{b}_{'channel' if pc else 'tensor'}" for b in ptq_list for pc in per_channel]
    metrics += [f"kmeans{b}" for b in kmeans_list] + ["seconds"]
    result = R2Comparison(variants=list(variants), seeds=[int(s) for s in seeds], layers=[], metrics=metrics)

    def accuracy(model: nn.Module) -> float:
        return 100 * evaluate(model, test).accuracy

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
                row: dict[str, object] = {"variant": name, "seed": seed, "fp": accuracy(model)}
                row["range_ratio"] = sum(ratios.values()) / len(ratios)
                for b in ptq_list:
                    for pc in per_channel:
                        q = quantize_weights_(copy.deepcopy(model), bits=b, per_channel=pc, layers=chosen)
                        row[f"ptq{b}_{'channel' if pc else 'tensor'}"] = accuracy(q)
                for b in kmeans_list:
                    q = copy.deepcopy(model)
                    palettize_(q, bits=b, layers=chosen, seed=seed)
                    row[f"kmeans{b}"] = accuracy(q)
                row["seconds"] = seconds
                result.rows.append(row)
                if name not in result.weights:  # the first seed's model, for histograms
                    result.layers = chosen
                    result.models[name] = model
                    result.weights[name] = {n: _weight(model, n).detach().float().cpu().clone() for n in chosen}
                    result.layer_ratios[name] = ratios
                bar.update(1)
    finally:
        bar.close()
    return result
