"""Checkers for single-path bit sharing (chapter 06): BOPs of one pruned, quantized layer; the nested decomposition;
the BOPs ceiling the fixed layers set; and the λ slider's task."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import torch

from effdl.exercises._common import _attempt, _missing, _number, _verdict, checker

if TYPE_CHECKING:
    from effdl.compress.sbs import SBSConfig, SBSPoint

__all__ = ["BOPS_LAYER", "check_bops", "check_bops_ceiling", "check_decompose", "check_sbs_lambda"]

# exercise 1: a 3×3 conv, 32 → 64 channels, 7×7 output map, its input pruned to 24 channels, 4-bit weights, 2-bit inputs
BOPS_LAYER = {"h": 7, "w": 7, "c_out": 64, "c_in": 32, "c_in_kept": 24, "k": 3, "w_bits": 4, "a_bits": 2}


@checker
def check_bops(answer: float | None) -> bool:
    """Exercise 1: the BOPs per example of a 3×3 convolution with 32 input and 64 output channels producing a 7×7
    map, whose input was pruned to 24 channels, at 4-bit weights and 2-bit activations (``BOPS_LAYER``):
    ``H·W·C_out·C_in·k²·b_w·b_a``. Accepted within 0.5; common slips get a hint."""
    if _missing(answer):
        return False
    got = _number(answer)
    if got is None:
        return _verdict(False, "", f"give a number of bit operations, got {answer!r}")
    n = BOPS_LAYER
    macs = n["h"] * n["w"] * n["c_out"] * n["c_in_kept"] * n["k"] ** 2
    bits = n["w_bits"] * n["a_bits"]
    want = macs * bits
    if abs(got - want) <= 0.5:
        return _verdict(True, f"{want:,} BOPs: {macs:,} MACs (7·7·64·24·9) × {n['w_bits']} × {n['a_bits']} bits.", "")
    unpruned = macs * n["c_in"] // n["c_in_kept"]
    slips = {
        "the layer before was pruned to 24 channels: this layer only reads 24 inputs, not 32": unpruned * bits,
        "that is the fp32 count (32 × 32 bits); this layer runs at 4-bit weights and 2-bit activations": macs * 32 * 32,
        "that is the fp32 count of the unpruned layer; use the 24 kept inputs and 4 × 2 bits": unpruned * 32 * 32,
        "multiply the bit-widths (b_w × b_a = 8), don't add them": macs * (n["w_bits"] + n["a_bits"]),
        "each output value sums over the 3×3 kernel too: 9 MACs per input channel": macs // n["k"] ** 2 * bits,
        "those are the MACs; BOPs multiply every MAC by b_w × b_a": macs,
    }
    for hint, value in slips.items():
        if abs(got - value) <= 0.5:
            return _verdict(False, "", f"{got:,.0f}: {hint}.")
    return _verdict(False, "", f"{got:,.0f} is not right: count the MACs (H·W·C_out·C_in·k²) first, then × b_w × b_a.")


def _close(a: torch.Tensor, b: torch.Tensor, tol: float) -> bool:
    return a.shape == b.shape and bool(((a.double() - b.double()).abs() <= tol).all())


def _trials(seed: int) -> list[tuple[torch.Tensor, tuple[int, ...]]]:
    gen = torch.Generator().manual_seed(seed)
    out = []
    for candidates in ((2, 4, 8), (1, 2, 4)):
        for shape in ((200,), (8, 9), (3, 4, 5)):
            out.append((torch.rand(*shape, generator=gen), candidates))
    out.append((torch.tensor([0.0, 1.0, 0.5, 0.25, 0.999, 0.001]), (2, 4, 8)))
    return out


@checker
def check_decompose(
    fn: Callable[[torch.Tensor, Sequence[int]], Sequence[torch.Tensor]] | None, *, seed: int = 0, tol: float = 1e-6
) -> bool:
    """Exercise 2: ``fn(z, candidates) -> [z_{b1}, ε_{b2}, …]``, the single path of ``z`` (values in [0, 1]),
    compared with :func:`effdl.compress.sbs.decompose` on seeded random tensors of several shapes for candidates
    (2, 4, 8) and (1, 2, 4), within ``tol``; the parts must sum to ``discretize(z, step_size(b_last))``. Wrong part
    counts, wrong step sizes and residuals taken from ``z`` instead of ``z − z_{b(j−1)}`` get a hint."""
    from effdl.compress.sbs import decompose, discretize, step_size

    if _missing(fn):
        return False
    if not callable(fn):
        raise TypeError(f"fn must be a function (z, candidates) -> list of tensors, got {fn!r}")
    trials = _trials(seed)
    for t, (z, cands) in enumerate(trials, 1):
        where = f"(trial {t}: z of shape {tuple(z.shape)}, candidates {cands})"
        try:
            out = _attempt(fn, z.clone(), cands)
            parts = [torch.as_tensor(p).detach() for p in out]
        except Exception as err:
            msg = str(err).splitlines()[0][:160] if str(err) else ""
            return _verdict(False, "", f"your function raised {type(err).__name__}: {msg} {where}")
        want = [p.detach() for p in decompose(z, cands)]
        if len(parts) != len(want):
            return _verdict(
                False,
                "",
                f"return one part per candidate, z_b1 and then one residual ε per larger bit-width ({len(want)} "
                f"for {cands}), got {len(parts)} {where}",
            )
        prev = torch.zeros_like(z)
        for j, (got, ref) in enumerate(zip(parts, want, strict=True)):
            b = cands[j]
            name = f"z_{b}" if j == 0 else f"ε_{b}"
            if not _close(got, ref, tol):
                if got.shape != ref.shape:
                    return _verdict(False, "", f"{name} has shape {tuple(got.shape)}, z has {tuple(z.shape)} {where}")
                if j > 0 and _close(got, discretize(z, step_size(b)), tol):
                    return _verdict(
                        False,
                        "",
                        f"{name} is D(z, s_{b}): the residual must be taken from what the lower bits left, "
                        f"ε_{b} = D(z − z_{cands[j - 1]}, s_{b}), not from z itself {where}",
                    )
                for other in (*cands, *range(1, 17)):  # the other candidates first: the likeliest mix-up
                    if other != b and _close(got, discretize(z - prev, step_size(other)), tol):
                        return _verdict(
                            False,
                            "",
                            f"{name} uses the step of {other} bits, 1/(2^{other} − 1); it needs s_{b} = "
                            f"1/(2^{b} − 1) = {step_size(b):.6g} {where}",
                        )
                err = float((got.double() - ref.double()).abs().max())
                return _verdict(False, "", f"{name} differs from the reference by up to {err:.3g} {where}")
            prev = prev + ref
        total = torch.stack([p.double() for p in parts]).sum(0)
        if not _close(total, discretize(z, step_size(cands[-1])), tol):
            return _verdict(False, "", f"your parts do not sum to the {cands[-1]}-bit code D(z, s_{cands[-1]}) {where}")
    return _verdict(
        True,
        f"your single path matches decompose on {len(trials)} tensors, and the parts sum to the top-bit code.",
        "",
    )


def _ceiling(config: SBSConfig) -> tuple[float, int, int]:
    """(ceiling, BOPs of the fixed layers, BOPs of everything not configured)."""
    fixed = sum(c.bops for c in config.layers.values() if c.fixed)
    rest = config.bops - sum(c.bops for c in config.layers.values())
    floor = fixed + rest
    return (config.fp32_bops / floor if floor > 0 else math.inf), fixed, rest


@checker
def check_bops_ceiling(answer: float | None, config: SBSConfig) -> bool:
    """Exercise 3: the largest BOPs reduction any configuration of the searchable layers could reach if they cost
    nothing: ``config.fp32_bops / (BOPs of the fixed layers + BOPs of everything not configured)``, the rest being
    ``config.bops − Σ layer.bops``. Accepted within 1% relative."""
    if _missing(answer):
        return False
    got = _number(answer)
    if got is None:
        return _verdict(False, "", f"give the reduction as a number (×), got {answer!r}")
    want, fixed, rest = _ceiling(config)

    def near(value: float) -> bool:
        return math.isinf(value) if math.isinf(got) else abs(got - value) <= 0.01 * abs(value)

    if near(want):
        return _verdict(
            True,
            f"{want:.1f}×: even free searchable layers leave the fixed layers' {fixed:,} BOPs"
            + (f" and {rest:,} BOPs outside the configured layers" if rest else "")
            + f" of the fp32 {config.fp32_bops:,}.",
            "",
        )
    if rest and fixed > 0 and near(config.fp32_bops / fixed):
        return _verdict(
            False,
            "",
            f"you divided by the fixed layers alone; what is not configured (pooling, …: {rest:,} BOPs at 32 × 32 "
            "bits) costs the same in every configuration, add it to the floor.",
        )
    if near(config.reduction):
        return _verdict(
            False,
            "",
            "that is this configuration's own reduction; the ceiling sets the searchable layers' BOPs to 0 and "
            "keeps only what no search can change.",
        )
    if near(fixed + rest) or near(fixed):
        return _verdict(False, "", "those are BOPs; the task asks for a reduction, fp32 BOPs ÷ the BOPs that remain.")
    return _verdict(
        False,
        "",
        f"{got:g}× is not right: which BOPs remain if every non-fixed layer costs 0? Divide the fp32 BOPs by them.",
    )


def _choice(points: Sequence[SBSPoint], limit: float, attr: str) -> SBSPoint | None:
    fits = [p for p in points if getattr(p, attr) >= limit - 1e-12]
    return min(fits, key=lambda p: (p.bops, -getattr(p, attr))) if fits else None


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@checker
def check_sbs_lambda(answer: float | str | None, explorer: Any, reference_val: float, max_drop: float = 0.01) -> bool:
    """Try it (lam_explorer): the λ whose configuration has the fewest BOPs while its validation accuracy stays
    within ``max_drop`` (a fraction; 0.01 = one point) of the fp32 control's ``reference_val``; ``"none"`` if no λ
    does. The truth is :func:`effdl.compress.sbs.most_compressed_within` over ``explorer.points``."""
    from effdl.compress.sbs import most_compressed_within

    points = list(explorer.points.values())
    best = most_compressed_within(points, reference_val, max_drop)
    limit = reference_val - max_drop
    rule = f"validation ≥ {100 * limit:.2f}% (fp32 {100 * reference_val:.2f}% − {100 * max_drop:g} point)"
    if isinstance(answer, str) and answer.strip().lower() == "none":
        if best is None:
            return _verdict(True, f"no λ of the sweep keeps {rule}: every one costs too much accuracy.", "")
        return _verdict(False, "", f"at least one λ keeps {rule}: look again at the validation accuracy per λ.")
    if _missing(answer):
        return False
    lams = sorted(explorer.points)
    got = _number(answer)
    match = [lam for lam in lams if got is not None and _same(lam, got)]
    if not match:
        return _verdict(
            False, "", f"give one of the slider's λ {[f'{lam:g}' for lam in lams]} (or 'none'), got {answer!r}"
        )
    p = explorer.points[match[0]]
    if best is not None and p is best:
        return _verdict(
            True,
            f"λ = {p.lam:g}: {p.reduction:.1f}× fewer BOPs at validation {100 * p.val_accuracy:.2f}% ({rule}); "
            f"its test accuracy is {100 * p.test_accuracy:.2f}%.",
            "",
        )
    by_test = _choice(points, limit, "test_accuracy")
    if by_test is not None and p is by_test:
        return _verdict(
            False,
            "",
            f"λ = {p.lam:g} is the choice by test accuracy; choose on validation (the test split is for reporting).",
        )
    if p is max(points, key=lambda q: (q.val_accuracy, -q.bops)):
        return _verdict(
            False,
            "",
            f"λ = {p.lam:g} is the most accurate; the task asks for the fewest BOPs among those that keep {rule}.",
        )
    if p.val_accuracy < limit - 1e-12:
        return _verdict(
            False,
            "",
            f"λ = {p.lam:g} has validation {100 * p.val_accuracy:.2f}%, below the limit {100 * limit:.2f}% "
            f"(fp32 {100 * reference_val:.2f}% − {100 * max_drop:g} point).",
        )
    return _verdict(False, "", f"λ = {p.lam:g} keeps {rule}, but another λ that does has fewer BOPs.")
