"""Checkers for quantization (chapter 04): affine parameters, symmetric quantization."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from effdl.exercises._common import _attempt, _missing, _verdict, checker

__all__ = ["check_affine_qparams", "check_symmetric_quantize"]


@checker
def check_affine_qparams(
    answer: Sequence[float] | None, *, lo: float = -1.0, hi: float = 3.0, bits: int = 8, tol: float = 1e-6
) -> bool:
    """Exercise: ``(scale, zero_point)`` of the affine ``bits``-bit quantizer (codes ``0..2**bits - 1``) whose range
    is ``[lo, hi]``, by hand; the truth is :func:`effdl.compress.quant.calibrate` on ``[lo, hi]``."""
    from effdl.compress.quant import calibrate

    if _missing(answer):
        return False
    qp = calibrate(torch.tensor([lo, hi]), bits=bits, symmetric=False)
    scale, zp = float(qp.scale), int(qp.zero_point)
    try:
        got_scale, got_zp = (float(v) for v in answer)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return _verdict(False, "", f"give a pair (scale, zero_point), got {answer!r}")
    levels = 2**bits - 1
    if abs(got_scale - scale) <= tol * max(1.0, scale) and got_zp == zp:
        return _verdict(
            True,
            f"scale = ({hi:g} − ({lo:g})) / {levels} = {scale:.6f} and zero_point = round({-lo:g} / scale) = {zp}: "
            f"the code {zp} stands for exactly 0.0.",
            "",
        )
    if abs(got_scale - (hi - lo) / 2**bits) <= tol:
        return _verdict(False, "", f"{bits} bits give {2**bits} codes but only {levels} steps between them.")
    if abs(got_scale - scale) > tol * max(1.0, scale):
        return _verdict(False, "", f"scale {got_scale:g} is off: spread the range hi − lo over the {levels} steps.")
    if abs(got_zp - (-lo / scale)) < 1 and got_zp != zp:
        return _verdict(False, "", f"zero_point must be an integer code: round {-lo / scale:.2f}, do not truncate it.")
    return _verdict(False, "", f"zero_point {got_zp} is off: it is the code of real 0, round(−lo / scale).")


@checker
def check_symmetric_quantize(fn: Callable[[torch.Tensor, int], torch.Tensor] | None, *, trials: int = 5) -> bool:
    """Exercise: ``fn(x, bits)`` returns the symmetric per-tensor min-max integer codes of a float tensor ``x`` on
    the *restricted* grid (``scale = max|x| / (2**(bits-1) - 1)``, codes ``round(x / scale)`` clamped to
    ``±(2**(bits-1) - 1)``, as int8 kernels use), compared with :func:`effdl.compress.quant.quantize` on random tensors
    (bits 2..8)."""
    from effdl.compress.quant import calibrate, quantize

    if _missing(fn):
        return False
    gen = torch.Generator().manual_seed(0)
    for trial in range(trials):
        bits = 2 + trial % 7
        x = torch.randn(257, generator=gen) * (0.1 + trial)
        truth = quantize(x, calibrate(x, bits=bits, symmetric=True, grid="restricted")).long()
        try:
            got = torch.as_tensor(_attempt(fn, x.clone(), bits))
        except Exception as exc:  # the student's code may fail in any way: report it, do not crash the checker
            return _verdict(False, "", f"your function raised {type(exc).__name__}: {exc}")
        if got.shape != x.shape:
            return _verdict(False, "", f"return one code per element: shape {tuple(x.shape)}, got {tuple(got.shape)}")
        if got.is_floating_point() and not torch.equal(got, got.round()):
            return _verdict(False, "", "codes are integers: round x / scale.")
        got = got.long()
        if torch.equal(got, truth):
            continue
        qmax = 2 ** (bits - 1) - 1
        amax = x.abs().max()
        if torch.equal(got, torch.clamp(torch.round(x / (amax / 2 ** (bits - 1))), -qmax - 1, qmax).long()):
            hint = f"divide max|x| by 2**(bits-1) − 1 = {qmax}, not by 2**(bits-1): the range is symmetric."
        elif torch.equal(got, torch.floor(x / (amax / qmax)).long()):
            hint = "use round, not floor (or int(), which truncates toward zero)."
        elif torch.equal(got, torch.trunc(x / (amax / qmax)).long()):
            hint = "use round, not int()/trunc, which truncates toward zero."
        elif int(got.max()) > qmax or int(got.min()) < -qmax:
            hint = f"codes must stay within ±{qmax} for {bits} bits: clamp them."
        else:
            wrong = int((got != truth).sum())
            hint = (
                f"{wrong} of {x.numel()} codes differ at {bits} bits; scale = max|x| / {qmax}, "
                "codes = round(x / scale)."
            )
        return _verdict(False, "", hint + f" (trial {trial + 1}, bits={bits})")
    return _verdict(
        True, f"your codes match effdl.compress.quant.quantize on {trials} tensors (2..{1 + trials} bits).", ""
    )
