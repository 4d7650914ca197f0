"""The comparison of chapter 06: SBS configurations against uniform ones, at equal training and matched BOPs.

One trained model is compressed many ways, each measured the same way (:func:`effdl.compress.sbs.report`):

- :func:`compress_sbs`: ``search`` for ``search_epochs`` then ``finalize`` with ``finetune_epochs`` of fine-tuning;
- :func:`compress_uniform`: a :func:`uniform_config` (every searchable layer at the same bits, optionally a fraction
  of its channels pruned) finalized with ``search_epochs + finetune_epochs`` epochs of fine-tuning — the same passes
  over the same data as the SBS model, so neither side gets more training;
- :func:`lam_sweep` / :func:`uniform_sweep`: the two families of configurations;
- :func:`best_under_budget`: each family's best configuration within a BOPs budget, chosen on the validation split;
  :func:`compare_at_budget` does this seed by seed and reports the test-accuracy gain of SBS over uniform.
"""

from __future__ import annotations

import math
import numbers
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from effdl.compress.sbs.quantizer import _int
from effdl.compress.sbs.search import SBSConfig, _number, finalize, report, search, uniform_config
from effdl.core.train import Data, evaluate, progress_enabled

__all__ = [
    "UNIFORM_SETTINGS",
    "BudgetComparison",
    "SBSPoint",
    "best_under_budget",
    "compare_at_budget",
    "compress_sbs",
    "compress_uniform",
    "lam_sweep",
    "most_compressed_within",
    "uniform_label",
    "uniform_sweep",
]

# (bits, fraction of channels pruned) of the uniform baselines: 8/4/2 bits, each without and with 50% pruning
UNIFORM_SETTINGS: tuple[tuple[int, float], ...] = ((8, 0.0), (4, 0.0), (2, 0.0), (8, 0.5), (4, 0.5), (2, 0.5))


@dataclass(frozen=True)
class SBSPoint:
    """One compressed model, measured. ``method``: "sbs" or "uniform"; ``bops``: bit operations per example measured
    on the built model (``count_bops``), ``config.bops`` predicted them; accuracies are fractions in [0, 1];
    ``seconds``: wall time of the search (if any), the build and the fine-tuning. ``lam`` for SBS runs; ``bits`` and
    ``prune`` for uniform ones."""

    label: str
    method: str
    seed: int
    config: SBSConfig = field(repr=False)
    bops: int
    fp32_bops: int
    size_bits: int
    fp32_bits: int
    val_accuracy: float
    test_accuracy: float
    seconds: float
    lam: float | None = None
    bits: int | None = None
    prune: float | None = None

    @property
    def reduction(self) -> float:
        """fp32 BOPs / this model's BOPs (×)."""
        return self.fp32_bops / self.bops

    @property
    def compression(self) -> float:
        """fp32 size / this model's size (×)."""
        return self.fp32_bits / self.size_bits

    def as_dict(self) -> dict[str, object]:
        keys = ("label", "method", "seed", "bops", "size_bits", "val_accuracy", "test_accuracy", "lam", "bits", "prune")
        return {k: getattr(self, k) for k in keys} | {"reduction": self.reduction, "compression": self.compression}


def _measure(
    built: nn.Module,
    config: SBSConfig,
    val: Data,
    test: Data,
    *,
    label: str,
    method: str,
    seed: int,
    start: float,
    **extra: object,
) -> SBSPoint:
    rep = report(built, config, test)
    if rep.bops != config.bops:  # the configuration's arithmetic and the built model must agree
        raise RuntimeError(f"{label}: measured {rep.bops:,} BOPs, the configuration predicted {config.bops:,}")
    return SBSPoint(
        label=label, method=method, seed=seed, config=config, bops=rep.bops, fp32_bops=rep.fp32_bops,
        size_bits=rep.size_bits, fp32_bits=rep.fp32_bits, val_accuracy=evaluate(built, val).accuracy,
        test_accuracy=rep.accuracy, seconds=time.perf_counter() - start, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def compress_sbs(
    model: nn.Module,
    train: Data,
    val: Data,
    test: Data,
    *,
    lam: float | None = None,
    bops_target: float | None = None,
    search_epochs: int = 2,
    finetune_epochs: int = 2,
    seed: int = 0,
    label: str | None = None,
    **search_kwargs: object,
) -> SBSPoint:
    """Search ``model`` (untouched) on ``train`` with ``lam`` or ``bops_target`` for ``search_epochs``, finalize the
    configuration with ``finetune_epochs`` of fine-tuning, and measure it on ``val`` and ``test``. Other keywords
    go to :func:`search` (``candidates``, ``group_size``, ``lr``, ``gate_lr``, ...)."""
    start = time.perf_counter()
    search_epochs = _int("search_epochs", search_epochs, 1)
    finetune_epochs = _int("finetune_epochs", finetune_epochs, 0)
    progress = search_kwargs.pop("progress", False)
    cfg = search(
        model, train, lam=lam, bops_target=bops_target, epochs=search_epochs, seed=seed, progress=progress,  # type: ignore[arg-type]
        **search_kwargs,  # type: ignore[arg-type]
    )  # fmt: skip
    built = finalize(model, cfg, train, epochs=finetune_epochs, seed=seed, progress=progress)  # type: ignore[arg-type]
    if label is None:
        label = f"SBS λ={lam:g}" if lam is not None else f"SBS target {bops_target:.3g} BOPs"
    return _measure(built, cfg, val, test, label=label, method="sbs", seed=seed, start=start, lam=lam)


def uniform_label(bits: int, prune: float = 0.0) -> str:
    """``"uniform 4-bit"`` / ``"uniform 4-bit, 50% pruned"``."""
    bits, prune = _check_setting(bits, prune)
    return f"uniform {bits}-bit" + (f", {prune:.0%} pruned" if prune else "")


def compress_uniform(
    model: nn.Module,
    train: Data,
    val: Data,
    test: Data,
    *,
    bits: int,
    prune: float = 0.0,
    epochs: int = 4,
    seed: int = 0,
    group_size: int | None = None,
    label: str | None = None,
) -> SBSPoint:
    """The uniform baseline: :func:`uniform_config` (``bits`` for weights and activations of every searchable layer,
    ``prune`` of their channel groups removed, lowest L1 norm first), finalized from ``model``'s own weights with
    ``epochs`` of fine-tuning (give it the SBS run's search + fine-tuning epochs), measured on ``val`` and ``test``."""
    start = time.perf_counter()
    cfg = uniform_config(model, train, bits=bits, prune=prune, group_size=group_size)
    built = finalize(model, cfg, train, epochs=_int("epochs", epochs, 0), seed=seed, progress=False)
    label = uniform_label(bits, prune) if label is None else label
    return _measure(
        built, cfg, val, test, label=label, method="uniform", seed=seed, start=start, bits=bits, prune=prune
    )


def _bar(total: int, desc: str, progress: bool | None) -> Any:  # a tqdm bar
    from tqdm.auto import tqdm  # imported here: tqdm.auto probes for Jupyter, which is slow at module import

    return tqdm(total=total, desc=desc, unit="model", disable=not progress_enabled(progress), leave=False)


def _check_setting(bits: object, prune: object) -> tuple[int, float]:
    """One uniform setting, as :func:`uniform_config` takes it: bits in 1..16, prune a fraction in [0, 1)."""
    b = _int("bits", bits, 1, 16)
    if isinstance(prune, bool) or not isinstance(prune, numbers.Real) or not (math.isfinite(prune) and 0 <= prune < 1):
        raise ValueError(f"prune must be a fraction in [0, 1), got {prune!r}")
    return b, float(prune)


def _check_points(points: object) -> list[Any]:
    if isinstance(points, str | bytes) or not isinstance(points, Sequence):
        raise TypeError(f"points must be a sequence of SBSPoint (from lam_sweep or uniform_sweep), got {points!r}")
    for p in points:  # duck-typed: anything with .bops and .val_accuracy, as the selection reads only those
        if not (hasattr(p, "bops") and hasattr(p, "val_accuracy")):
            raise TypeError(f"points must hold SBSPoint entries (from lam_sweep or uniform_sweep), got {p!r}")
    return list(points)


def _check_seq(name: str, values: object) -> list:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{name} must be a non-empty sequence, got {values!r}")
    return list(values)


def lam_sweep(
    model: nn.Module,
    train: Data,
    val: Data,
    test: Data,
    lams: Sequence[float],
    *,
    search_epochs: int = 2,
    finetune_epochs: int = 2,
    seed: int = 0,
    progress: bool | None = None,
    **search_kwargs: object,
) -> list[SBSPoint]:
    """:func:`compress_sbs` once per λ in ``lams`` (each λ ≥ 0), from the same trained ``model`` and seed."""
    lams = _check_seq("lams", lams)
    for lam in lams:  # all up front: a bad last λ must not fail after the searches before it
        _number("lams entries (λ)", lam, positive=False)
    out = []
    with _bar(len(lams), "SBS λ sweep", progress) as bar:
        for lam in lams:
            out.append(
                compress_sbs(
                    model,
                    train,
                    val,
                    test,
                    lam=lam,
                    search_epochs=search_epochs,
                    finetune_epochs=finetune_epochs,
                    seed=seed,
                    **search_kwargs,
                )
            )
            bar.update()
    return out


def uniform_sweep(
    model: nn.Module,
    train: Data,
    val: Data,
    test: Data,
    settings: Sequence[tuple[int, float]] = UNIFORM_SETTINGS,
    *,
    epochs: int = 4,
    seed: int = 0,
    group_size: int | None = None,
    progress: bool | None = None,
) -> list[SBSPoint]:
    """:func:`compress_uniform` once per ``(bits, prune)`` of ``settings`` (default :data:`UNIFORM_SETTINGS`)."""
    settings = _check_seq("settings", settings)
    for item in settings:  # all up front: a bad last setting must not fail after the runs before it
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise ValueError(f"settings must hold (bits, prune) pairs such as (4, 0.5), got {item!r}")
        _check_setting(*item)
    out = []
    with _bar(len(settings), "uniform configurations", progress) as bar:
        for item in settings:
            bits, prune = item
            out.append(
                compress_uniform(
                    model, train, val, test, bits=bits, prune=prune, epochs=epochs, seed=seed, group_size=group_size
                )
            )
            bar.update()
    return out


def best_under_budget(points: Sequence[SBSPoint], budget: float) -> SBSPoint | None:
    """The point with the highest validation accuracy among those with ``bops <= budget`` (ties: fewer BOPs), or
    ``None`` if none fits. Choosing on validation keeps the test split for reporting."""
    if not isinstance(budget, int | float) or isinstance(budget, bool) or not budget > 0:
        raise ValueError(f"budget must be a number of BOPs > 0, got {budget!r}")
    points = _check_points(points)
    fits = [p for p in points if p.bops <= budget]
    return max(fits, key=lambda p: (p.val_accuracy, -p.bops)) if fits else None


def most_compressed_within(points: Sequence[SBSPoint], reference_val: float, max_drop: float) -> SBSPoint | None:
    """The point with the fewest BOPs whose validation accuracy is at least ``reference_val − max_drop`` (fractions,
    e.g. the fp32 control's validation accuracy and 0.01 for one point), or ``None``."""
    if isinstance(max_drop, bool) or not isinstance(max_drop, numbers.Real) or not 0 <= max_drop < 1:
        raise ValueError(f"max_drop must be a fraction in [0, 1), got {max_drop!r}")
    # a string or NaN reference would silently match nothing
    if isinstance(reference_val, bool) or not isinstance(reference_val, numbers.Real) or not 0 <= reference_val <= 1:
        raise ValueError(f"reference_val must be an accuracy fraction in [0, 1], got {reference_val!r}")
    points = _check_points(points)
    fits = [p for p in points if p.val_accuracy >= reference_val - max_drop - 1e-12]
    return min(fits, key=lambda p: (p.bops, -p.val_accuracy)) if fits else None


@dataclass(frozen=True)
class BudgetComparison:
    """SBS against uniform at one BOPs ``budget`` (per example), seed by seed: each side's configuration chosen on
    validation within the budget (``sbs[i]``, ``uniform[i]`` for ``seeds[i]``); ``gains``: SBS − uniform test
    accuracy in points."""

    budget: float
    seeds: list[int]
    sbs: list[SBSPoint]
    uniform: list[SBSPoint]

    @property
    def gains(self) -> list[float]:
        return [100 * (s.test_accuracy - u.test_accuracy) for s, u in zip(self.sbs, self.uniform, strict=True)]

    @property
    def mean_gain(self) -> float:
        return statistics.fmean(self.gains)

    @property
    def std_gain(self) -> float:
        """Sample standard deviation over seeds (NaN for one seed)."""
        return statistics.stdev(self.gains) if len(self.gains) > 1 else math.nan

    def mean(self, method: str, attr: str = "test_accuracy") -> float:
        """Mean over seeds of ``attr`` ("test_accuracy", "val_accuracy", "reduction", "bops") for "sbs"/"uniform"."""
        if method not in ("sbs", "uniform"):
            raise ValueError(f"method must be 'sbs' or 'uniform', got {method!r}")
        return statistics.fmean(getattr(p, attr) for p in getattr(self, method))


def compare_at_budget(
    runs: Mapping[int, tuple[Sequence[SBSPoint], Sequence[SBSPoint]]], budget: float
) -> BudgetComparison:
    """For every seed of ``runs`` (``{seed: (sbs_points, uniform_points)}``, e.g. from :func:`lam_sweep` and
    :func:`uniform_sweep`), each family's :func:`best_under_budget`; raises ``ValueError`` if a family has nothing
    within ``budget`` for some seed (widen the λ grid or raise the budget)."""
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty mapping {seed: (sbs_points, uniform_points)}")
    seeds, sbs_best, uni_best = [], [], []
    for seed, pair in runs.items():
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValueError(f"runs[{seed!r}] must be a pair (sbs_points, uniform_points), got {pair!r}")
        sbs_points, uni_points = pair
        for name, pts in (("SBS", sbs_points), ("uniform", uni_points)):
            if not _check_points(pts):
                raise ValueError(f"runs[{seed!r}] has no {name} points")
        s, u = best_under_budget(sbs_points, budget), best_under_budget(uni_points, budget)
        for name, p, pts in (("SBS", s, sbs_points), ("uniform", u, uni_points)):
            if p is None:
                least = min(q.bops for q in pts)
                raise ValueError(
                    f"seed {seed}: no {name} configuration within budget {budget:,.0f} BOPs (the cheapest has "
                    f"{least:,}); widen the λ grid or raise the budget"
                )
        seeds.append(int(seed))
        sbs_best.append(s)
        uni_best.append(u)
    return BudgetComparison(budget=float(budget), seeds=seeds, sbs=sbs_best, uniform=uni_best)  # type: ignore[arg-type]
