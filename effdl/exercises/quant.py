"""Checkers for quantization (chapter 04): affine parameters, symmetric quantization, LSQ's step gradient, the
per-channel spread of a model's layers, and the bit-width explorer's task."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from effdl.exercises._common import _attempt, _missing, _verdict, checker

__all__ = [
    "LSQ_X",
    "check_affine_qparams",
    "check_channel_spread",
    "check_lsq_step_grad",
    "check_ptq_bits_within",
    "check_symmetric_quantize",
]

LSQ_X = (0.23, -0.57, 0.5)  # the inputs of the LSQ exercise (3-bit, step s = 0.1)


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


@checker
def check_lsq_step_grad(
    answer: Sequence[float] | None,
    *,
    x: Sequence[float] = LSQ_X,
    step: float = 0.1,
    bits: int = 3,
    tol: float = 1e-4,
) -> bool:
    """Exercise: ``∂x̂/∂s`` of LSQ's quantizer ``x̂ = round(clamp(x / s, qmin, qmax)) · s`` (full signed grid) for each
    element of ``x``, *before* the gradient scale ``g``. The truth is autograd through
    :class:`effdl.compress.quant.LSQQuantizer` (step fixed at ``step``), divided by its ``g = 1 / sqrt(N · qmax)``."""
    import math

    from effdl.compress.quant import LSQQuantizer

    if _missing(answer):
        return False
    xs = torch.tensor(x, dtype=torch.float32)
    lsq = LSQQuantizer(bits)
    with torch.no_grad():
        lsq.scale.fill_(step)
        lsq.initialized.fill_(True)
    g = 1.0 / math.sqrt(xs.numel() * lsq.qmax)
    truth = []
    for i in range(xs.numel()):
        (grad,) = torch.autograd.grad(lsq(xs)[i], lsq.scale)
        truth.append(float(grad) / g)
    try:
        got = [float(v) for v in answer]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return _verdict(False, "", f"give one number per element of x = {list(x)}, got {answer!r}")
    if len(got) != len(truth):
        return _verdict(False, "", f"give one number per element of x = {list(x)}: {len(truth)} numbers")

    def close(values: Sequence[float]) -> bool:
        return all(abs(a - b) <= tol for a, b in zip(got, values, strict=True))

    if close(truth):
        return _verdict(True, f"∂x̂/∂s = {[round(t, 4) for t in truth]} (times g = {g:.4f} in training).", "")
    v = [xi / step for xi in x]
    if close([t * g for t in truth]):
        return _verdict(False, "", f"give the gradient before LSQ's scale g = 1/√(N·qmax) = {g:.4f}.")
    if close([-t for t in truth]):
        return _verdict(False, "", "the sign is flipped: d/ds [round(x/s)·s] = round(x/s) − x/s inside the range.")
    if close([round(vi) - vi for vi in v]):
        return _verdict(False, "", f"clamp first: an x/s outside {lsq.qmin}..{lsq.qmax} gives qmin or qmax.")
    if close([float(round(min(max(vi, lsq.qmin), lsq.qmax))) for vi in v]):
        return _verdict(False, "", "round(x/s)·s depends on s twice: differentiate x/s too (round passes straight).")
    wrong = [i for i, (a, b) in enumerate(zip(got, truth, strict=True)) if abs(a - b) > tol]
    return _verdict(
        False, "", f"element(s) {wrong} are off: x/s = {[round(vi, 3) for vi in v]}, qmin {lsq.qmin}, qmax {lsq.qmax}."
    )


def _channel_spreads(model: torch.nn.Module) -> dict[str, float]:
    """Per Conv2d/Linear layer: the largest per-output-channel ``max|w|`` over the smallest one."""
    out = {}
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.Conv2d | torch.nn.Linear):
            top = m.weight.detach().abs().flatten(1).amax(dim=1)
            out[name] = float(top.max() / top.min().clamp(min=torch.finfo(torch.float32).tiny))
    return out


@checker
def check_channel_spread(answer: str | None, model: torch.nn.Module) -> bool:
    """Exercise: the name of ``model``'s Conv2d/Linear layer with the widest spread between its output channels,
    measured as ``max_c max|w_c| / min_c max|w_c|`` (``w_c`` = the weights of output channel ``c``)."""
    if _missing(answer):
        return False
    spreads = _channel_spreads(model)
    if not spreads:
        return _verdict(False, "", "the model has no Conv2d/Linear layer")
    best = max(spreads, key=lambda n: spreads[n])
    if answer == best:
        return _verdict(True, f"{best}: its channels' max|w| differ by {spreads[best]:.1f}×.", "")
    if answer not in spreads:
        return _verdict(False, "", f"give a layer name, one of {list(spreads)}; got {answer!r}")
    return _verdict(
        False,
        "",
        f"{answer}'s channels differ by {spreads[answer]:.1f}× in max|w|; another layer spreads wider. Take max|w| "
        "per output channel (dim 0), then the largest over the smallest, for every layer.",
    )


@checker
def check_ptq_bits_within(answer: int | None, explorer: Any, *, points: float = 1.0) -> bool:
    """Try it (quant_explorer): the smallest bit width at which weight-only PTQ *per channel* with the *min-max*
    observer keeps the test accuracy within ``points`` of float, read off ``explorer.results`` (the widget's own
    cached settings, ``{(bits, per_channel, observer): (accuracy %, bits)}``) and ``explorer.baseline``."""
    if _missing(answer):
        return False
    results: Mapping[tuple[int, bool, str], tuple[float, int]] = explorer.results
    base = float(explorer.baseline)
    accs = {b: acc for (b, pc, obs), (acc, _) in results.items() if pc and obs == "minmax"}
    ok = sorted(b for b, acc in accs.items() if acc >= base - points)
    if not ok:
        return _verdict(False, "", f"no per-channel min-max width in the widget is within {points:g} point(s)")
    truth = ok[0]
    try:
        got = int(answer)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return _verdict(False, "", f"give a bit width (an int), got {answer!r}")
    if got == truth:
        return _verdict(
            True,
            f"{truth} bits: {accs[truth]:.2f}% against float {base:.2f}% "
            + (f"({truth - 1} bits: {accs[truth - 1]:.2f}%)." if truth - 1 in accs else "."),
            "",
        )
    if got not in accs:
        return _verdict(False, "", f"the slider runs over {min(accs)}..{max(accs)} bits; got {got}")
    if got in ok:
        return _verdict(False, "", f"{got} bits is within {points:g} point(s), but a smaller width is too.")
    return _verdict(
        False,
        "",
        f"at {got} bits the accuracy is {accs[got]:.2f}%, more than {points:g} point(s) below float {base:.2f}% "
        "(is per channel on and the observer min-max?).",
    )
