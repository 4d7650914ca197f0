"""Checkers for pruning (chapter 01): magnitude pruning, CSR storage, the AGP schedule and the sparsity slider's
"Try it"."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

import torch

from effdl.exercises._common import _attempt, _missing, _verdict, checker

__all__ = ["AGP_STEPS", "check_agp_sparsity", "check_csr_bits", "check_magnitude_prune", "check_sparsity_within"]


@checker
def check_magnitude_prune(
    fn: Callable[[torch.Tensor, float], torch.Tensor] | None, *, trials: int = 50, seed: int = 0
) -> bool:
    """Exercise: ``fn(w, sparsity)`` returns a copy of ``w`` with the ``round(sparsity * w.numel())``
    smallest-magnitude entries set to zero. Compared with ``torch.nn.utils.prune.l1_unstructured`` on ``trials``
    random tensors (1-D to 4-D, sparsities from 0 to 0.99)."""
    from torch.nn.utils import prune

    if _missing(fn):
        return False
    if not callable(fn):
        raise TypeError(f"fn must be a function (w, sparsity) -> pruned w, got {type(fn).__name__}")
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    shapes = [(7,), (5, 8), (4, 3, 3, 3), (16, 10)]
    for t in range(trials):
        shape = shapes[t % len(shapes)]
        s = [0.0, 0.5, 0.9, 0.99][t] if t < 4 else round(rng.uniform(0, 0.99), 2)
        w = torch.randn(shape, generator=gen)
        want = w * prune.L1Unstructured(amount=s).compute_mask(w, default_mask=torch.ones_like(w))
        try:
            got = _attempt(fn, w.clone(), s)
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {err} (w of shape {shape})")
        if not isinstance(got, torch.Tensor) or got.shape != w.shape:
            got_shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            return _verdict(False, "", f"return a tensor shaped like w {tuple(w.shape)}, got {got_shape}")
        if not torch.equal(got, want):
            k, zeros = int((want == 0).sum()), int((got == 0).sum())
            return _verdict(
                False,
                "",
                f"w of shape {shape} at sparsity {s} (trial {t + 1}): expected {k} zeros (round(sparsity × numel)), "
                f"you have {zeros}"
                + ("; the count is right but not the entries: rank by |w|, not w" if k == zeros else "")
                + ". Keep the other entries unchanged.",
            )
    return _verdict(True, f"your pruning matches torch.nn.utils.prune on {trials} random tensors.", "")


@checker
def check_csr_bits(
    answer: int | float | None,
    *,
    rows: int = 128,
    cols: int = 256,
    nonzero: int = 3277,
    value_bits: int = 32,
    index_bits: int = 32,
) -> bool:
    """Exercise: bits to store a ``rows × cols`` weight matrix with ``nonzero`` non-zeros in CSR format
    (``value_bits`` per value, ``index_bits`` per column index and row pointer), as
    ``effdl.core.footprint.tensor_bits(storage="csr")`` counts them."""
    from effdl.core.footprint import tensor_bits

    if _missing(answer):
        return False
    w = torch.zeros(rows * cols)
    w[:nonzero] = 1.0
    truth = tensor_bits(w.reshape(rows, cols), storage="csr", value_bits=value_bits, index_bits=index_bits)
    dense = rows * cols * value_bits
    return _verdict(
        answer == truth,
        f"{truth:,} bits = {nonzero:,} × ({value_bits} + {index_bits}) + ({rows} + 1) × {index_bits}; "
        f"dense takes {dense:,}, {dense / truth:.1f}× more.",
        f"you said {answer:,}; every non-zero needs its value and its column index, and the row-pointer array has "
        f"one entry per row plus one.",
    )


AGP_STEPS = (25, 50)  # the steps asked for in the AGP exercise (s_i = 0, s_f = 0.9, t_0 = 0, end at step 100)


@checker
def check_agp_sparsity(
    answer: Any,
    *,
    steps: tuple[int, ...] = AGP_STEPS,
    final: float = 0.9,
    initial: float = 0.0,
    start: int = 0,
    end: int = 100,
    tol: float = 1e-3,
) -> bool:
    """Exercise: the sparsity of Zhu & Gupta's cubic schedule at each of ``steps`` (a tuple of fractions), as
    ``effdl.compress.prune.agp_sparsity(step, final=final, initial=initial, start=start, end=end)`` computes it."""
    from effdl.compress.prune import agp_sparsity

    if _missing(answer):
        return False
    truth = [agp_sparsity(t, final=final, initial=initial, start=start, end=end) for t in steps]
    try:
        got = [float(a) for a in answer]
    except (TypeError, ValueError):
        return _verdict(False, "", f"give {len(steps)} sparsities (fractions) as a tuple, got {answer!r}")
    if len(got) != len(truth):
        return _verdict(False, "", f"give one sparsity per step {steps}: {len(steps)} numbers, got {len(got)}")
    if all(abs(g - t) <= tol for g, t in zip(got, truth, strict=True)):
        shown = ", ".join(f"s({t}) = {v:.4f}" for t, v in zip(steps, truth, strict=True))
        return _verdict(True, f"{shown}: more than half of the final sparsity a quarter of the way in.", "")
    if all(abs(g - 100 * t) <= 100 * tol for g, t in zip(got, truth, strict=True)):
        return _verdict(False, "", "give fractions (0.52), not percentages (52)")
    linear = [initial + (final - initial) * (t - start) / (end - start) for t in steps]
    if all(abs(g - v) <= tol for g, v in zip(got, linear, strict=True)):
        return _verdict(False, "", "that is a linear ramp; the schedule cubes (1 − progress) before scaling it")
    flipped = [initial + (final - initial) * ((t - start) / (end - start)) ** 3 for t in steps]
    if all(abs(g - v) <= tol for g, v in zip(got, flipped, strict=True)):
        return _verdict(
            False, "", "you cubed the progress (t − t₀)/(nΔt) itself: the cube is of 1 − progress, starting fast"
        )
    return _verdict(
        False,
        "",
        f"expected s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(nΔt))³ with s_i = {initial}, s_f = {final}, t₀ = {start}, "
        f"nΔt = {end - start}; got {tuple(round(g, 4) for g in got)}",
    )


@checker
def check_sparsity_within(answer: float | None, explorer: Any, *, points: float = 1.0) -> bool:
    """Try it (sparsity_explorer): the largest slider sparsity whose test accuracy stays within ``points`` of the
    unpruned model's (the slider's 0% position), read off ``explorer.results`` (the widget's own sweep,
    ``{sparsity: (accuracy as a fraction, storage bits, non-zeros)}``)."""
    if _missing(answer):
        return False
    results: Mapping[float, tuple[float, Mapping[str, int], int]] = explorer.results
    accs = {float(s): 100 * float(r[0]) for s, r in results.items()}
    base = accs[min(accs)]
    ok = [s for s, a in accs.items() if a >= base - points]
    truth = max(ok)
    try:
        got = float(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _verdict(False, "", f"give a sparsity as a fraction (0.85), got {answer!r}")
    if got > 1 and any(abs(got / 100 - s) < 1e-6 for s in accs):
        return _verdict(False, "", f"give the sparsity as a fraction ({got / 100:g}), not a percentage ({got:g})")
    near = min(accs, key=lambda s: abs(s - got))
    if abs(near - got) > 1e-6:
        return _verdict(False, "", f"{got:g} is not a slider position; they run {min(accs):g}..{max(accs):g}")
    if near == truth:
        above = [s for s in accs if s > truth]
        nxt = f" ({min(above):.0%}: {accs[min(above)]:.2f}%)" if above else ""
        return _verdict(
            True, f"{truth:.0%} of the weights pruned: {accs[truth]:.2f}% against {base:.2f}% unpruned{nxt}.", ""
        )
    if near in ok:
        return _verdict(False, "", f"at {near:.0%} the accuracy is within {points:g} point(s), but also higher up.")
    return _verdict(
        False,
        "",
        f"at {near:.0%} the accuracy is {accs[near]:.2f}%, more than {points:g} point(s) below the unpruned "
        f"{base:.2f}% (the 0% position).",
    )
