"""Checkers for eDRAM and reversible networks (chapter 08): refresh count, the coupling inverse, and the
temperature task on the eDRAM explorer."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from effdl.exercises._common import _attempt, _missing, _verdict, checker

__all__ = ["check_coupling_inverse", "check_first_refresh_temperature", "check_refresh_count"]


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


def _first_refresh(explorer: Any, scenario: str) -> float | None:
    """The lowest simulated temperature of the explorer's starting setting at which ``scenario`` refreshes."""
    hot = [
        t
        for (t, *setting), (rows, _life, _r) in explorer.results.items()
        if tuple(setting) == tuple(explorer.start)
        and any(r["scenario"] == scenario and r["refreshes"] > 0 for r in rows)
    ]
    return min(hot) if hot else None


@checker
def check_first_refresh_temperature(answer: float | None, explorer: Any) -> bool:
    """Try it (``widgets.edram_explorer``): the lowest temperature (°C, a slider position) at which the reversible
    schedule on eDRAM first needs refreshes, at the explorer's starting buffer, batch and array. The truth comes
    from the explorer's own simulations (``explorer.results``, every temperature of the starting setting);
    ``math.inf`` is the answer when no temperature up to the slider's end needs one."""
    if _missing(answer):
        return False
    if not hasattr(explorer, "results") or not hasattr(explorer, "start"):
        raise TypeError("explorer must be widgets.edram_explorer(...) (it has .results and .start)")
    truth = _first_refresh(explorer, "reversible + eDRAM")
    got = float(answer)  # type: ignore[arg-type]
    if truth is None:
        return _verdict(
            math.isinf(got),
            "no temperature on the slider makes the reversible schedule refresh at this setting.",
            f"you said {got:g} °C, but the reversible schedule never refreshes here: answer math.inf.",
        )
    temps = sorted({float(k[0]) for k in explorer.results if tuple(k[1:]) == tuple(explorer.start)})
    below = [t for t in temps if t < truth]
    good = f"{truth:g} °C: the first slider position at which a reversible tensor outlives the retention time" + (
        f" (at {below[-1]:g} °C none does)." if below else "."
    )
    if abs(got - truth) < 1e-6:
        return _verdict(True, good, "")
    std = _first_refresh(explorer, "standard + eDRAM")
    if std is not None and abs(got - std) < 1e-6:
        hint = "that is where the standard schedule starts refreshing: read the reversible + eDRAM count."
    elif got < truth:
        hint = "at that temperature the reversible schedule still needs no refresh: heat the chip further."
    else:
        hint = "the reversible schedule already refreshes at a lower temperature: move the slider down in 5 °C steps."
    return _verdict(False, "", f"you said {got:g} °C; " + hint)
