"""Checkers for eDRAM and reversible networks (chapter 08): refresh count, the coupling inverse."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from effdl.exercises._common import _attempt, _missing, _verdict, checker

__all__ = ["check_coupling_inverse", "check_refresh_count"]


@checker
def check_refresh_count(answer: int | None, *, lifetime_us: float = 11.0, retention_us: float = 3.35) -> bool:
    """Exercise: how many times must an eDRAM tensor that stays on chip ``lifetime_us`` µs be refreshed when the
    cells hold their charge ``retention_us`` µs? The simulator's per-tensor rule (:mod:`effdl.hardware.edram`,
    ``refresh="tensor"``): one refresh just before each retention period runs out, none for the last one, so
    ``ceil(t / R) − 1``. (Periodic bank refresh, the simulator's default, refreshes whole banks instead.)"""

    if _missing(answer):
        return False
    for name, v in (("lifetime_us", lifetime_us), ("retention_us", retention_us)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    periods = lifetime_us / retention_us
    truth = max(0, math.ceil(periods - 1e-9) - 1)
    if answer == truth:
        return _verdict(
            True,
            f"{truth} refreshes: the data lives {periods:.2f} retention periods; it is refreshed at the end of "
            f"each full one it outlives ({lifetime_us:g} µs / {retention_us:g} µs, rounded up, minus 1).",
            "",
        )
    if answer == math.ceil(periods - 1e-9):
        hint = "that counts the last period too: after the last read the data may fade, no refresh needed."
    elif answer == math.floor(periods) - 1:
        hint = "a partial period at the end still needs the refresh before it: round the periods up, not down."
    else:
        hint = f"divide the lifetime by the retention time ({periods:.2f} periods), round up, subtract one."
    return _verdict(False, "", f"you said {answer}; " + hint)


@checker
def check_coupling_inverse(fn: Callable[[nn.Module, torch.Tensor], torch.Tensor] | None, *, trials: int = 3) -> bool:
    """Exercise: implement the inverse of an additive coupling, ``fn(block, y) -> x``, using only ``block.f``,
    ``block.g`` and tensor arithmetic (``block`` is an :class:`effdl.hardware.reversible.AdditiveCoupling`:
    ``y1 = x1 + F(x2)``, ``y2 = x2 + G(y1)``, halves along dim 1). The checker runs random blocks in eval mode and
    accepts ``fn`` when ``block(fn(block, y))`` gives back ``y`` and ``fn`` rebuilds ``x`` to 1e-5."""
    if _missing(fn):
        return False
    if not callable(fn):
        raise TypeError(f"fn must be a callable (block, y) -> x, got {type(fn).__name__}")
    from effdl.hardware.reversible import AdditiveCoupling, residual_function

    gen = torch.Generator().manual_seed(8)
    for trial in range(trials):
        torch.manual_seed(100 + trial)
        c = 2 * (trial + 1)
        block = AdditiveCoupling(residual_function(c), residual_function(c)).eval()
        x = torch.randn(2, 2 * c, 5, 5, generator=gen)
        with torch.no_grad():
            y = block(x)
            got = _attempt(fn, block, y.clone())
        if not isinstance(got, torch.Tensor) or got.shape != x.shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            return _verdict(False, "", f"fn must return a tensor of x's shape {tuple(x.shape)}, got {shape}.")
        err = float((got - x).norm() / x.norm())
        if err <= 1e-5:
            continue
        y1, y2 = y.chunk(2, dim=1)
        with torch.no_grad():
            x2_first_f = y2 - block.f(y1)  # the common slip: F and G swapped
        hint = "undo the last step first: x2 = y2 − G(y1), then x1 = y1 − F(x2), and concatenate (x1, x2)."
        if torch.allclose(got.chunk(2, dim=1)[1], x2_first_f, atol=1e-5):
            hint = "x2 comes from y2 with G, not F: y2 = x2 + G(y1), so x2 = y2 − G(y1)."
        elif torch.allclose(got, torch.cat((x.chunk(2, dim=1)[1], x.chunk(2, dim=1)[0]), dim=1), atol=1e-5):
            hint = "the halves are right but in the wrong order: return cat((x1, x2), dim=1)."
        return _verdict(False, "", f"relative error {err:.2g} on a block of {2 * c} channels; " + hint)
    return _verdict(True, f"exact to 1e-5 on {trials} random blocks: the coupling is invertible by construction.", "")
