"""Checkers for the tour (chapter 00): MACs of a layer, the Pareto frontier, and the Pareto explorer's task."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from effdl.core.footprint import count_flops, pareto_front
from effdl.exercises._common import _attempt, _missing, _verdict, checker

__all__ = ["check_conv_macs", "check_linear_macs", "check_pareto_front", "check_pareto_models"]


@checker
def check_linear_macs(answer: int | float | None, *, in_features: int = 784, out_features: int = 256) -> bool:
    """Exercise: multiply-accumulates of one ``nn.Linear(in_features, out_features)`` for one input sample."""
    if _missing(answer):
        return False
    truth = count_flops(nn.Linear(in_features, out_features), torch.zeros(1, in_features)).macs
    return _verdict(
        answer == truth,
        f"{truth:,} MACs: every output is a dot product of length {in_features}.",
        f"you said {answer:,}; each of the {out_features} outputs needs {in_features} multiply-adds "
        "(the bias add is not counted as a MAC).",
    )


@checker
def check_conv_macs(
    answer: int | float | None,
    *,
    in_channels: int = 16,
    out_channels: int = 32,
    kernel_size: int = 3,
    size: int = 14,
) -> bool:
    """Exercise: MACs of a ``Conv2d(in, out, k, padding=k//2)`` on one ``(in, size, size)`` input."""
    if _missing(answer):
        return False
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
    truth = count_flops(conv, torch.zeros(1, in_channels, size, size)).macs
    return _verdict(
        answer == truth,
        f"{truth:,} MACs = out_channels × H × W × in_channels × k².",
        f"you said {answer:,}; every one of the {out_channels}×{size}×{size} outputs is a sum over "
        f"{in_channels}×{kernel_size}×{kernel_size} products.",
    )


@checker
def check_pareto_front(
    fn: Callable[[Sequence[tuple[float, float]]], Sequence[int]] | None, *, trials: int = 200, seed: int = 0
) -> bool:
    """Exercise: ``fn(points)`` returns the indices of the (size ↓, accuracy ↑) Pareto-optimal points.

    Compared with :func:`effdl.core.footprint.pareto_front` on ``trials`` random point sets (order ignored).
    """
    if _missing(fn):
        return False
    if not callable(fn):
        raise TypeError(f"fn must be a function points -> indices, got {type(fn).__name__}")
    rng = random.Random(seed)
    for t in range(trials):
        n = rng.randint(1, 12)
        # Small integer grids make ties and duplicates common: the cases that catch wrong answers.
        pts = [(float(rng.randint(0, 6)), float(rng.randint(0, 6))) for _ in range(n)]
        want = sorted(pareto_front(pts, maximize=(False, True)))
        try:
            got = sorted(int(i) for i in _attempt(fn, pts))
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {err} on points {pts}")
        if got != want:
            return _verdict(
                False,
                "",
                f"on points {pts} (trial {t + 1}) you returned {got}, the frontier is {want}. Remember: a point "
                "is dominated if another is no larger AND no less accurate, and strictly better in one; of exact "
                "duplicates keep the first.",
            )
    return _verdict(True, f"your frontier matches on {trials} random point sets, ties and duplicates included.", "")


def _frontier_names(points: Sequence[Mapping[str, Any]], x: str, y: str, name: str) -> list[str]:
    """Names of the points on the (``x`` ↓, ``y`` ↑) Pareto frontier, in the order of ``x``."""
    return [str(points[i][name]) for i in pareto_front([(p[x], p[y]) for p in points], maximize=(False, True))]


@checker
def check_pareto_models(answer: Iterable[str] | str | None, explorer: Any, *, x: str = "latency_ms") -> bool:
    """Try it (chapter 00): the names of the models on the Pareto frontier of accuracy (↑) against ``x`` (↓), as
    ``widgets.pareto_explorer`` draws it with ``x`` on the x axis. The truth comes from the explorer's own data
    (``explorer.points``, labels under ``explorer.name``); the order of the names does not matter."""
    if _missing(answer):
        return False
    points, name = explorer.points, getattr(explorer, "name", "name")
    if isinstance(answer, str):
        answer = [answer]
    try:
        got = {str(a) for a in answer}
    except TypeError:
        return _verdict(False, "", f"give a list of model names, got {answer!r}")
    names = [str(p[name]) for p in points]
    want = _frontier_names(points, x, "accuracy", name)
    if got == set(want):
        return _verdict(True, f"on accuracy against {x}, the frontier is {', '.join(want)}.", "")
    unknown = sorted(got - set(names))
    if unknown:
        return _verdict(False, "", f"{unknown} are not among the models {names}; spell them as the legend does")
    others = [k for k in points[0] if k not in (x, "accuracy", name) and isinstance(points[0][k], int | float)]
    for other in others:
        if got == set(_frontier_names(points, other, "accuracy", name)):
            return _verdict(False, "", f"that is the frontier against {other}: put {x} on the x axis")
    extra = sorted(got - set(want))
    if extra:
        by = {str(p[name]): p for p in points}
        m = by[extra[0]]
        dom = next(
            (
                str(p[name])
                for p in points
                if p[x] <= m[x] and p["accuracy"] >= m["accuracy"] and (p[x], p["accuracy"]) != (m[x], m["accuracy"])
            ),
            None,
        )
        if dom is None:
            return _verdict(False, "", f"{extra[0]} ties another model exactly: of duplicates only the first counts")
        return _verdict(False, "", f"{extra[0]} is dominated: {dom} is no more costly in {x} and no less accurate")
    missing = sorted(set(want) - got)
    return _verdict(False, "", f"{missing[0]} is on the frontier too: no model is both cheaper and more accurate")
