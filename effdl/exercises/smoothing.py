"""Checkers for random smoothing in kernel gradient descent (chapter 10): the Gaussian closed form of the smoothed
kernel, the kernel gradient-descent update, the sample factor that halves the excess risk, the log-log slope of a
rate study, and the explorer's task (the noise scale chosen on validation)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from effdl.exercises._common import _attempt, _missing, _number, _verdict, checker

if TYPE_CHECKING:
    from effdl.learning.smoothing import RateStudy

__all__ = [
    "check_best_noise_scale",
    "check_gaussian_smoothed",
    "check_halving_factor",
    "check_kernel_gd",
    "check_loglog_slope",
]


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _crash(err: Exception, where: str) -> bool:
    msg = str(err).splitlines()[0][:160] if str(err) else ""
    return _verdict(False, "", f"your function raised {type(err).__name__}: {msg} {where}")


@checker
def check_gaussian_smoothed(fn: Callable[[np.ndarray, np.ndarray, float, float], Any] | None) -> bool:
    """Exercise: ``fn(X, Y, h, sigma)`` -> the smoothed Gram matrix (n, m) of a Gaussian kernel of bandwidth h under
    iid N(0, σ²) input noise on every coordinate of both arguments, for X (n, D), Y (m, D); compared with
    :func:`effdl.learning.smoothing.smoothed_kernel` for D = 1, 2 and 5. The usual slips (no amplitude factor,
    the factor to the power 1/2 instead of D/2, noise on one argument only: σ² instead of 2σ²) get a hint."""
    from effdl.learning.smoothing import GaussianKernel, GaussianNoise, smoothed_kernel
    from effdl.learning.smoothing.kernels import sq_dists

    if _missing(fn):
        return False
    if not callable(fn):
        raise TypeError(f"fn must be a function (X, Y, h, sigma) -> Gram matrix, got {fn!r}")
    rng = np.random.default_rng(0)
    for D, h, sigma in ((1, 0.1, 0.05), (2, 0.2, 0.1), (5, 0.3, 0.07)):
        X, Y = rng.uniform(size=(6, D)), rng.uniform(size=(4, D))
        where = f"(D = {D}, h = {h}, σ = {sigma})"
        try:
            got = np.asarray(_attempt(fn, X.copy(), Y.copy(), h, sigma), dtype=float)
        except Exception as err:
            return _crash(err, where)
        want = smoothed_kernel(X, Y, GaussianKernel(h), GaussianNoise(sigma))
        if _close(got, want):
            continue
        if got.shape != want.shape:
            return _verdict(False, "", f"return the (n, m) = {want.shape} Gram matrix, got shape {got.shape} {where}")
        d2 = sq_dists(X, Y)
        s2 = h**2 + 2 * sigma**2
        slips = {
            "the shape is right but the amplitude is missing: K_S(x, x) < 1, multiply by (h²/(h² + 2σ²))^(D/2)": (
                np.exp(-d2 / (2 * s2))
            ),
            "the amplitude is per coordinate: raise h²/(h² + 2σ²) to the power D/2, not 1/2": (
                math.sqrt(h**2 / s2) * np.exp(-d2 / (2 * s2))
            ),
            "both x and x′ are perturbed: the variance of ε − ε′ is 2σ², so the bandwidth² is h² + 2σ², not h² + σ²": (
                (h**2 / (h**2 + sigma**2)) ** (D / 2) * np.exp(-d2 / (2 * (h**2 + sigma**2)))
            ),
            "that is the unsmoothed kernel exp(−‖x − x′‖²/2h²): the noise must widen it": np.exp(-d2 / (2 * h**2)),
        }
        for hint, value in slips.items():
            if _close(got, value):
                return _verdict(False, "", f"{hint} {where}.")
        err = float(np.abs(got - want).max())
        return _verdict(False, "", f"your Gram matrix differs from K_S by up to {err:.3g} {where}.")
    return _verdict(True, "your closed form matches smoothed_kernel for D = 1, 2 and 5.", "")


@checker
def check_kernel_gd(fn: Callable[..., Any] | None) -> bool:
    """Exercise: ``fn(K, y, lr, steps, weight_decay)`` -> α (n,) after ``steps`` iterations of
    ``α ← α − lr·[(Kα − y)/n + weight_decay·α]`` from α = 0; compared with
    :func:`effdl.learning.smoothing.kernel_gd` (its exact eigen path) on two small problems, with and without weight
    decay. A missing 1/n, a flipped sign and a forgotten weight-decay term get a hint."""
    from effdl.learning.smoothing import GaussianKernel, kernel_gd

    if _missing(fn):
        return False
    if not callable(fn):
        raise TypeError(f"fn must be a function (K, y, lr, steps, weight_decay) -> alpha, got {fn!r}")
    rng = np.random.default_rng(1)
    for n, steps, lam in ((12, 25, 0.0), (20, 40, 0.05)):
        X = rng.uniform(size=(n, 1))
        K = GaussianKernel(0.2)(X, X)
        y = np.sin(6 * X[:, 0]) + 0.1 * rng.standard_normal(n)
        lr = 0.9 / (np.linalg.eigvalsh(K)[-1] / n + lam)
        where = f"(n = {n}, {steps} steps, weight_decay = {lam})"
        try:
            got = np.asarray(_attempt(fn, K.copy(), y.copy(), lr, steps, lam), dtype=float).ravel()
        except Exception as err:
            return _crash(err, where)
        want = kernel_gd(K, y, lr=lr, steps=steps, weight_decay=lam, checkpoints=[steps]).alpha
        if _close(got, want):
            continue
        if got.shape != want.shape:
            return _verdict(False, "", f"return α of shape ({n},), got {got.shape} {where}")
        alpha = np.zeros(n)
        for _ in range(steps):  # the usual slip: no 1/n on the data term (a diverging or different path)
            alpha = alpha - lr * ((K @ alpha - y) + lam * alpha)
        if np.all(np.isfinite(alpha)) and _close(got, alpha):
            return _verdict(False, "", f"divide the residual by n: the gradient is (Kα − y)/n + λα {where}.")
        if lam > 0 and _close(got, kernel_gd(K, y, lr=lr, steps=steps, checkpoints=[steps]).alpha):
            return _verdict(False, "", f"the weight-decay term λα is missing from the update {where}.")
        if np.all(np.isfinite(got)) and np.linalg.norm(got + want) < 1e-6 * max(1.0, np.linalg.norm(want)):
            return _verdict(False, "", f"your α has the opposite sign: step against the gradient, α − η·grad {where}.")
        for k in (steps - 1, steps + 1):
            if _close(got, kernel_gd(K, y, lr=lr, steps=k, weight_decay=lam, checkpoints=[k]).alpha):
                return _verdict(False, "", f"you ran {k} steps, not {steps} (start from α = 0) {where}.")
        err = float(np.abs(got - want).max())
        return _verdict(False, "", f"your α differs from kernel_gd's by up to {err:.3g} {where}.")
    return _verdict(True, "your loop matches kernel_gd's exact path, with and without weight decay.", "")


@checker
def check_halving_factor(answer: float | None, m: float, d: int, D: int | None = None) -> bool:
    """Exercise: by what factor must n grow to halve the excess risk when it falls like n^(−2m/(2m+d))? The answer
    is ``2^((2m+d)/(2m))``, accepted within 1%. ``D``: the ambient dimension, for the hint when it was used instead
    of d."""
    if _missing(answer):
        return False
    got = _number(answer)
    if got is None:
        return _verdict(False, "", f"give the factor as a number, got {answer!r}")
    want = 2.0 ** ((2 * m + d) / (2 * m))

    def near(v: float) -> bool:
        return abs(got - v) <= 0.01 * abs(v)

    if near(want):
        rate = 2 * m / (2 * m + d)
        return _verdict(True, f"×{want:.3g}: risk ∝ n^(−{rate:.3g}), so n grows by 2^(1/{rate:.3g}).", "")
    if D is not None and d != D and near(2.0 ** ((2 * m + D) / (2 * m))):
        return _verdict(False, "", f"that uses the ambient D = {D}; the rate is set by the intrinsic d = {d}.")
    if near(2.0 ** (2 * m / (2 * m + d))):
        return _verdict(False, "", "that is 2 to the rate's exponent; solve (c·n)^(−r) = n^(−r)/2 for c: c = 2^(1/r).")
    if near(0.5 ** ((2 * m + d) / (2 * m))) or near(0.5 ** (2 * m / (2 * m + d))):
        return _verdict(False, "", "the factor on n is larger than 1: more data, less risk.")
    if near(2.0):
        return _verdict(False, "", "risk ∝ 1/n only for a parametric model; here the exponent is 2m/(2m + d) < 1.")
    return _verdict(False, "", f"{got:g} is not right: write (c·n)^(−r) = ½·n^(−r) with r = 2m/(2m + d).")


@checker
def check_loglog_slope(answer: float | None, study: RateStudy) -> bool:
    """Exercise: the least-squares slope of log(geometric-mean risk) on log n of ``study``
    (:class:`~effdl.learning.smoothing.RateStudy`), accepted within 1e-6; the arithmetic-mean slope, a log10/ln mix
    and the theory's exponent get a hint."""
    if _missing(answer):
        return False
    got = _number(answer)
    if got is None:
        return _verdict(False, "", f"give the slope as a number, got {answer!r}")
    ns = np.asarray(study.ns, dtype=float)
    want = float(np.polyfit(np.log(ns), np.log(study.risks).mean(1), 1)[0])
    if abs(got - want) <= 1e-6:
        return _verdict(True, f"slope {want:.3f} against the theory's {study.theory:.3f}.", "")
    if abs(got - study.mean_slope) <= 1e-6:
        return _verdict(False, "", "that fits the arithmetic means; average log(risk) over repetitions (geometric).")
    if abs(got - study.theory) <= 1e-6:
        return _verdict(False, "", "that is the theoretical exponent; fit the measured risks.")
    if abs(got - want / math.log(10)) <= 1e-6 or abs(got - want * math.log(10)) <= 1e-6:
        return _verdict(False, "", "take the same logarithm on both axes (a slope has no base, a mixed one has).")
    return _verdict(False, "", f"{got:.4g} is not the fit: np.polyfit(log n, mean over reps of log risk, 1)[0].")


@checker
def check_best_noise_scale(answer: float | None, explorer: Any, family: str) -> bool:
    """Try it (noise_explorer): the noise sd of ``family`` with the least **validation** MSE in ``explorer.table``
    (ties: the smallest sd). Answers that pick by test risk or read another family get a hint."""
    if _missing(answer):
        return False
    table = explorer.table
    sds = sorted({s for f, s in table if f == family})
    if not sds:
        raise ValueError(f"family must be one of {sorted({f for f, _ in table})}, got {family!r}")
    got = _number(answer)
    match = [s for s in sds if got is not None and math.isclose(s, got, rel_tol=1e-9, abs_tol=1e-12)]
    if not match:
        return _verdict(False, "", f"give one of the slider's noise sd {[f'{s:g}' for s in sds]}, got {answer!r}")
    s = match[0]
    best = min(sds, key=lambda v: (table[(family, v)][0], v))
    if s == best:
        vmse, risk, _ = table[(family, s)]
        return _verdict(True, f"sd {s:g}: validation MSE {vmse:.4f}, test excess risk {risk:.4f}.", "")
    by_test = min(sds, key=lambda v: (table[(family, v)][1], v))
    if s == by_test:
        return _verdict(False, "", f"sd {s:g} has the least test risk; choose on validation, report on test.")
    others = [f for f, _ in table if f != family]
    if any(min((v for f, v in table if f == o), key=lambda v: (table[(o, v)][0], v)) == s for o in set(others)):
        return _verdict(False, "", f"sd {s:g} is another noise's best; set the dropdown to {family!r}.")
    return _verdict(False, "", f"sd {s:g} does not have the least validation MSE for {family} noise: compare them all.")
