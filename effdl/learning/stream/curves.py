"""Power-law learning curves L(s) = a·s^(−b) + c and their fit from a few (noisy) observed losses.

s is compute spent on a task (units), a > 0 the scale, b > 0 the exponent, c ≥ 0 the irreducible loss. Power laws
in compute/data with an offset describe loss curves well over wide ranges (Hestness et al. 2017, arXiv:1712.00409);
fitting them online to predict the work left is what learning-curve-aware cluster schedulers do (e.g. Optimus,
Peng et al., EuroSys 2018).

:func:`fit_power_law` profiles the offset out: for each c on a grid below the smallest observed loss, log(L − c) =
log a − b·log s is linear, so (a, b) come in closed form by least squares on log-log; the best c (smallest squared
error in log L) then seeds a few Gauss–Newton steps (``scipy.optimize.least_squares``) on all three parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from effdl.core.checks import int_at_least, positive_int

__all__ = ["PowerLaw", "fit_power_law", "profile"]


@dataclass(frozen=True)
class PowerLaw:
    """L(s) = a·s^(−b) + c (a > 0, b > 0, c ≥ 0), s in compute units."""

    a: float
    b: float
    c: float

    def __call__(self, s: np.ndarray | float) -> np.ndarray:
        """Loss at compute ``s`` (any shape; s > 0)."""
        return self.a * np.asarray(s, dtype=np.float64) ** (-self.b) + self.c

    def compute_to(self, target: float) -> float:
        """Compute s at which L(s) = ``target``: (a / (target − c))^(1/b); ``inf`` if target ≤ c (unreachable)."""
        gap = target - self.c
        if gap <= 0:
            return float("inf")
        return float((self.a / gap) ** (1.0 / self.b))


def _loglog(s: np.ndarray, loss: np.ndarray, c: float) -> tuple[float, float, float]:
    """Least squares of log(L − c) on log s: (a, b, squared error of the model in log L)."""
    u, v = np.log(s), np.log(loss - c)
    A = np.stack([np.ones_like(u), -u], axis=1)
    (log_a, b), *_ = np.linalg.lstsq(A, v, rcond=None)
    model = np.log(np.exp(log_a) * s ** (-b) + c)
    return float(np.exp(log_a)), float(b), float(np.sum((np.log(loss) - model) ** 2))


def _observations(s: np.ndarray, loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    try:
        s, loss = np.asarray(s, dtype=np.float64), np.asarray(loss, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"s and loss must be numeric arrays, got {type(s).__name__} and {type(loss).__name__}"
        ) from None
    if s.ndim > 1 or loss.ndim > 1:  # ravel() would silently interleave a 2-D table's columns into one curve
        raise ValueError(f"s and loss must be 1-D, got shapes {s.shape} and {loss.shape}")
    s, loss = s.ravel(), loss.ravel()
    if s.shape != loss.shape or s.size < 3:
        raise ValueError(f"s and loss must have the same length >= 3, got {s.size} and {loss.size}")
    if not (np.all(s > 0) and np.all(np.isfinite(s)) and np.all(loss > 0) and np.all(np.isfinite(loss))):
        raise ValueError("s and loss must be positive and finite")
    return s, loss


def profile(
    s: np.ndarray, loss: np.ndarray, *, grid: int = 40
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The profile of the fit over the offset: ``(c, a, b, sse)``, each ``(grid,)``, for c on a grid in [0, min loss).

    For each c, (a, b) is the least-squares line of log(L − c) on log s and ``sse`` the model's squared error in
    log L. The c whose ``sse`` is within a few noise variances of the minimum are the ones the data cannot rule out.
    """
    s, loss = _observations(s, loss)
    grid = positive_int("grid", grid)
    # offsets on a grid that is dense near min(loss), where the curve flattens (1 − geometric spacing)
    cs = float(loss.min()) * (1.0 - np.geomspace(1.0, 1e-4, grid))
    a, b, sse = np.array([_loglog(s, loss, c) for c in cs]).T
    return cs, a, b, sse


def fit_power_law(s: np.ndarray, loss: np.ndarray, *, grid: int = 40, refine: int = 20) -> PowerLaw:
    """Fit L(s) = a·s^(−b) + c to observations (``s`` > 0 and ``loss`` > 0, both ``(n,)``, n ≥ 3).

    The best point of :func:`profile` over ``grid`` offsets, then at most ``refine`` Gauss–Newton evaluations on
    (log a, b, c) in log-loss space (0: profile only). Exact on a noiseless power law.
    """
    s, loss = _observations(s, loss)
    grid = positive_int("grid", grid)
    refine = int_at_least("refine", refine, 0)  # a float here made scipy's least_squares loop without end
    lo = float(loss.min())
    cs, aa, bb, sse = profile(s, loss, grid=grid)
    i = int(np.argmin(sse))
    best = (float(aa[i]), float(bb[i]), float(sse[i]), float(cs[i]))
    a, b, _, c = best
    if refine and s.size > 3:

        def resid(p: np.ndarray) -> np.ndarray:
            return np.log(np.exp(p[0]) * s ** (-p[1]) + p[2]) - np.log(loss)

        x0 = np.array([np.clip(np.log(a), -49, 49), np.clip(b, 1e-6, 9.9), c])
        fit = least_squares(resid, x0, bounds=([-50, 1e-6, 0.0], [50, 10.0, lo * (1 - 1e-9)]), max_nfev=refine,
                            method="trf")  # fmt: skip
        if fit.cost * 2 <= best[2]:
            a, b, c = float(np.exp(fit.x[0])), float(fit.x[1]), float(fit.x[2])
    return PowerLaw(a, max(b, 1e-6), max(c, 0.0))
