"""Checkers for range regularization (chapter 05): the R² penalties, soft max/min, and the weight-histogram
explorer's task."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from effdl.exercises._common import _attempt, _missing, _verdict, checker

__all__ = ["R2_WEIGHT", "check_most_zeroed_layer", "check_range_penalties", "check_soft_max_min"]

R2_WEIGHT = ((0.4, -1.5), (0.9, -0.2))  # the 2×2 weight of exercise 1


@checker
def check_range_penalties(
    linf: float | None,
    margin: float | None,
    *,
    weight: Sequence[Sequence[float]] = R2_WEIGHT,
    M: float = 0.5,
    tol: float = 1e-3,
) -> bool:
    """Exercise: the L∞ penalty ``max|W|`` and the margin penalty ``Σ relu(|W| − |M|)² + |M|`` of ``weight`` by
    hand (strength λ = 1). Compared with :class:`~effdl.compress.range_reg.LInfRegularizer` and
    :class:`~effdl.compress.range_reg.MarginRegularizer` (margin fixed at ``M``); common slips get a hint."""
    from effdl.compress.range_reg import LInfRegularizer, MarginRegularizer

    if _missing(linf) or _missing(margin):
        return False
    try:
        got_linf, got_margin = float(linf), float(margin)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _verdict(False, "", f"give two numbers, got linf={linf!r}, margin={margin!r}")
    w = torch.tensor(weight, dtype=torch.float64)
    layer = nn.Linear(w.shape[1], w.shape[0], bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(w)
    want_linf = LInfRegularizer(layer, strength=1.0)(layer).item()
    want_margin = MarginRegularizer(layer, strength=1.0, init=float(M))(layer).item()
    ok_linf = abs(got_linf - want_linf) <= tol
    ok_margin = abs(got_margin - want_margin) <= tol
    if ok_linf and ok_margin:
        return _verdict(True, f"L∞ = max|W| = {want_linf:g}; margin = {want_margin:g} (λ = 1, M = {M:g}).", "")
    if not ok_linf:
        linf_slips = {
            "take the largest absolute value, not the largest signed value": w.max().item(),
            "that is the L1 norm (the sum of |w|); L∞ is the single largest |w|": w.abs().sum().item(),
            "that is the range max − min; the L∞ penalty is max|w|": (w.max() - w.min()).item(),
        }
        for hint, value in linf_slips.items():
            if abs(got_linf - value) <= tol:
                return _verdict(False, "", f"L∞: {hint}.")
        return _verdict(False, "", f"L∞ = {got_linf:g} is not right: which weight has the largest |w|?")
    over = (w.abs() - M).clamp(min=0)
    margin_slips = {
        "you left out the + |M| term that makes the margin itself shrink": over.pow(2).sum().item(),
        "square each excess relu(|w| − M) before summing": over.sum().item() + M,
        "use |w|: negative weights beyond −M are outliers too": (w - M).clamp(min=0).pow(2).sum().item() + M,
    }
    for hint, value in margin_slips.items():
        if abs(got_margin - value) <= tol:
            return _verdict(False, "", f"L∞ is right; margin: {hint}.")
    return _verdict(
        False, "", f"L∞ is right; margin = {got_margin:g} is not: list relu(|w| − {M:g}) for every weight first."
    )


@checker
def check_soft_max_min(
    fn: Callable[[torch.Tensor, float], tuple[torch.Tensor, torch.Tensor]] | None,
    *,
    trials: int = 12,
    seed: int = 0,
    rtol: float = 1e-4,
) -> bool:
    """Exercise: ``fn(w, alpha) -> (smax, smin)``, the soft maximum ``Σ w_i e^{α w_i} / Σ e^{α w_j}`` and soft
    minimum (the same with ``−α``) over all entries of ``w``. Compared with
    :meth:`~effdl.compress.range_reg.SoftMinMaxRegularizer.soft_max_min` on random tensors, including large
    ``alpha`` where a naive ``exp`` overflows; the log-sum-exp "soft max" and swapped outputs get a hint."""
    from effdl.compress.range_reg import SoftMinMaxRegularizer

    if _missing(fn):
        return False
    if not callable(fn):
        raise TypeError(f"fn must be a function (w, alpha) -> (smax, smin), got {fn!r}")
    gen = torch.Generator().manual_seed(seed)
    for trial in range(trials):
        shape = [(5,), (3, 4), (2, 3, 3)][trial % 3]
        w = torch.randn(*shape, generator=gen) * [0.1, 1.0][trial % 2]
        alpha = [0.0, 1.0, 10.0, 100.0, 500.0, 2000.0][trial % 6]
        want = [v.item() for v in SoftMinMaxRegularizer.soft_max_min(w, torch.tensor(alpha))]
        try:
            out = _attempt(fn, w.clone(), alpha)
            got = [float(v.item() if isinstance(v, torch.Tensor) else v) for v in out]
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {err}")
        if len(got) != 2:
            return _verdict(False, "", f"return two numbers (smax, smin), got {len(got)}")

        def close(a: float, b: float) -> bool:
            return abs(a - b) <= rtol * max(1.0, abs(b))

        if close(got[0], want[0]) and close(got[1], want[1]):
            continue
        where = f"(trial {trial + 1}: {tuple(shape)} weights, alpha = {alpha:g})"
        if any(v != v or v in (float("inf"), float("-inf")) for v in got):
            return _verdict(
                False, "", f"you returned {got} {where}: e^(α·w) overflows; subtract the max first (torch.softmax does)"
            )
        if close(got[0], want[1]) and close(got[1], want[0]):
            return _verdict(False, "", f"smax and smin are swapped {where}")
        flat = w.flatten().double()
        if alpha > 0:
            lse = (torch.logsumexp(alpha * flat, 0) / alpha).item(), (-torch.logsumexp(-alpha * flat, 0) / alpha).item()
            if close(got[0], lse[0]) and close(got[1], lse[1]):
                return _verdict(
                    False,
                    "",
                    "that is the log-sum-exp soft max (1/α)·log Σ e^(α·w); R² uses the softmax-weighted average "
                    f"Σ w_i·softmax(α·w)_i {where}",
                )
        return _verdict(
            False, "", f"you returned ({got[0]:.6f}, {got[1]:.6f}), expected ({want[0]:.6f}, {want[1]:.6f}) {where}"
        )
    return _verdict(True, f"your soft max and min match soft_max_min on {trials} tensors, α from 0 to 2000.", "")


@checker
def check_most_zeroed_layer(answer: str | None, explorer: Any, *, training: str | None = None) -> bool:
    """Try it (weight_histogram_explorer): the layer in which 2-bit min/max quantization on the full grid rounds the
    largest share of ``training``'s weights to zero (default: the explorer's reference, e.g. the baseline), read off
    ``explorer.stats`` (``{training: {layer: (max|w| / std, % rounded to 0)}}``, the numbers of the readout)."""
    if _missing(answer):
        return False
    name = explorer.reference if training is None else training
    stats = explorer.stats[name]
    top = max(share for _, share in stats.values())
    best = [lay for lay, (_, share) in stats.items() if share >= top - 1e-9]
    if answer in best:
        return _verdict(True, f"{answer}: {name}'s 2-bit grid rounds {top:.1f}% of its weights to 0.", "")
    if answer not in stats:
        return _verdict(False, "", f"give a layer name as the slider shows it, one of {list(stats)}; got {answer!r}")
    most_outlying = max(stats, key=lambda lay: stats[lay][0])
    if answer == most_outlying:
        return _verdict(
            False,
            "",
            f"{answer} has the largest max|w|/std, but the task asks for the largest share rounded to 0 "
            f"({stats[answer][1]:.1f}% here; another layer has more).",
        )
    return _verdict(
        False, "", f"in {answer} {name} rounds {stats[answer][1]:.1f}% to 0; walk every layer, another has more."
    )
