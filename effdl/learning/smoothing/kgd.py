"""Kernel gradient descent with early stopping or weight decay, and the kernel ridge closed form.

The model is ``f(x) = Σ_i α_i K(x, x_i)`` fit to n training pairs by gradient descent on
``(1/2n)‖Kα − y‖² + (λ/2) α^T K α`` in the RKHS, i.e. ``α ← α − η[(Kα − y)/n + λα]`` from α = 0
(η = ``lr``, λ = ``weight_decay``).

In the eigenbasis ``K = V diag(Λ) V^T``, with ``b = V^T y`` and ``μ = Λ/n + λ``, every direction evolves on its own:
``a_t = (b/n)·(1 − (1 − ημ)^t)/μ`` (and ``a_t = tη b/n`` where μ = 0), α_t = V a_t. So after one O(n³) eigen-
decomposition (:class:`KernelSpectrum`) the whole path costs O(n) per step evaluated, and any step count (1e12 is fine)
is exact: :func:`kernel_gd` uses it (``method="eigen"``) and can run the literal iteration (``method="iterate"``).
As t → ∞ with λ > 0, α_t → ``(K/n + λI)^{-1} y/n = (K + nλI)^{-1} y``: :func:`kernel_ridge`. The stopping time
(:func:`kernel_gd`) or λ (:func:`kernel_weight_decay`) is chosen on a validation split, never on test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from effdl.learning.smoothing._checks import as_array, as_vector, count, nonneg, positive, sequence

__all__ = ["KGDResult", "KernelSpectrum", "kernel_gd", "kernel_ridge", "kernel_weight_decay"]


# kernel_gd(method="iterate") runs one O(n²) Python step per iteration: beyond this many it would run for hours
# (steps=10**12 is fine for the eigen path), so it is refused and the eigen path suggested.
_MAX_ITERATE_STEPS = 10**7


def _check_gram(K: object, name: str = "K") -> np.ndarray:
    arr = as_array(name, K)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a square Gram matrix (n, n) with n >= 1, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return arr


@dataclass(frozen=True, eq=False)
class KernelSpectrum:
    """Eigen-decomposition of a symmetric PSD Gram matrix: ``K = vectors @ diag(values) @ vectors.T``; ``values``
    (n,) ascending, clipped at 0 (round-off negatives), ``vectors`` (n, n) orthonormal columns."""

    values: np.ndarray
    vectors: np.ndarray

    @classmethod
    def from_gram(cls, K: np.ndarray) -> KernelSpectrum:
        """Decompose ``K`` (n, n) (symmetrized first); O(n³)."""
        arr = _check_gram(K)
        vals, vecs = np.linalg.eigh(0.5 * (arr + arr.T))
        # clipping is for round-off (~1e-15 relative); a clearly negative eigenvalue means K is no Gram matrix
        # (e.g. −K, or a distance matrix), and clipping it would silently fit a different problem
        if vals[0] < -1e-6 * max(float(np.abs(vals).max()), 1e-300):
            raise ValueError(
                f"K must be a positive semi-definite Gram matrix, got an eigenvalue {vals[0]:.3g} "
                f"(largest {vals[-1]:.3g})"
            )
        return cls(np.maximum(vals, 0.0), vecs)

    @property
    def n(self) -> int:
        """Number of training points."""
        return int(self.values.shape[0])


@dataclass(frozen=True, eq=False)
class KGDResult:
    """A fitted kernel model and its regularization path.

    ``alpha`` (n,): coefficients of the chosen fit; ``kind``: "early" (``chosen`` is a step count, ``grid`` the
    steps evaluated) or "decay" (``chosen`` is λ, ``grid`` the λ values); ``train_mse`` / ``val_mse`` (len(grid),):
    mean squared errors along the path (``val_mse`` None without a validation split); ``lr``, ``weight_decay``.
    """

    alpha: np.ndarray
    kind: str
    chosen: float
    grid: np.ndarray
    train_mse: np.ndarray
    val_mse: np.ndarray | None
    lr: float | None
    weight_decay: float
    alphas: np.ndarray | None = field(default=None, repr=False)

    def predict(self, K_new: np.ndarray) -> np.ndarray:
        """Predictions (m,) ``K(x, X) α`` from the cross-Gram matrix ``K_new`` (m, n) of new points against training."""
        arr = as_array("K_new", K_new)
        if arr.ndim != 2 or arr.shape[1] != self.alpha.shape[0]:
            raise ValueError(f"K_new must have shape (m, {self.alpha.shape[0]}), got shape {arr.shape}")
        return arr @ self.alpha


def _gd_gain(mu: np.ndarray, lr: float, steps: np.ndarray) -> np.ndarray:
    """g[i, j] = (1 − (1 − lr·μ_i)^{t_j}) / μ_i (lr·t_j where μ_i = 0), shape (n, T), without cancellation."""
    t = steps.astype(np.float64)[None, :]
    mu_c = mu[:, None]
    base = 1.0 - lr * mu_c
    out = np.empty((mu.shape[0], steps.shape[0]))
    pos = (mu_c[:, 0] > 0) & (base[:, 0] > 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out[pos] = -np.expm1(t * np.log1p(-lr * mu_c[pos])) / mu_c[pos]
        neg = (mu_c[:, 0] > 0) & ~pos  # 1 <= lr·μ < 2: one-step or oscillating but convergent
        out[neg] = (1.0 - np.power(base[neg], t)) / mu_c[neg]
    zero = mu_c[:, 0] <= 0
    out[zero] = lr * t
    return out


def _check_spectrum(spectrum: object, n: int) -> KernelSpectrum:
    if not isinstance(spectrum, KernelSpectrum):
        raise TypeError(f"spectrum must be a KernelSpectrum (from_gram(K)), got {type(spectrum).__name__}")
    if spectrum.n != n:
        raise ValueError(f"spectrum must come from the (n, n) = ({n}, {n}) Gram matrix K, got n = {spectrum.n}")
    return spectrum


def _default_steps(steps: int) -> np.ndarray:
    if steps <= 256:
        return np.arange(steps + 1, dtype=np.int64)
    geo = np.unique(np.round(np.geomspace(1, steps, 240)).astype(np.int64))
    return np.unique(np.concatenate([[0], np.arange(1, 17), geo, [steps]]))


def _validation(
    K_val: object, y_val: object, n: int, *, need_both: bool = True
) -> tuple[np.ndarray, np.ndarray] | None:
    if K_val is None and y_val is None:
        return None
    if K_val is None or y_val is None:
        raise ValueError("K_val and y_val must be given together (both or neither)")
    Kv = as_array("K_val", K_val)
    if Kv.ndim != 2 or Kv.shape[1] != n:
        raise ValueError(f"K_val must have shape (n_val, {n}) (validation points against training), got {Kv.shape}")
    if not np.all(np.isfinite(Kv)):  # NaN would make every validation MSE NaN and argmin silently pick step 0
        raise ValueError("K_val must be finite, got NaN or inf")
    return Kv, as_vector("y_val", y_val, length=Kv.shape[0])


def kernel_gd(
    K: np.ndarray,
    y: np.ndarray,
    *,
    lr: float | None = None,
    steps: int,
    weight_decay: float = 0.0,
    K_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    checkpoints: Sequence[int] | None = None,
    method: str = "eigen",
    spectrum: KernelSpectrum | None = None,
    keep_path: bool = False,
) -> KGDResult:
    """Kernel gradient descent ``α ← α − lr·[(Kα − y)/n + weight_decay·α]`` from α = 0 for up to ``steps`` steps.

    ``K`` (n, n): training Gram matrix; ``y`` (n,): targets. ``lr`` > 0 defaults to ``1/(λ_max(K)/n + weight_decay)``
    (the largest step that never overshoots) and must stay below ``2/(λ_max(K)/n + weight_decay)``. ``checkpoints``:
    the step counts evaluated (default: every step up to 256, else ~256 log-spaced ones and ``steps``). With a
    validation split (``K_val`` (n_val, n) = K(X_val, X_train), ``y_val`` (n_val,)) the returned ``alpha`` is the one
    at the checkpoint of least validation MSE (early stopping; ties: the earliest); without one, the last.
    ``method``: "eigen" (closed form per eigen-direction; pass a precomputed ``spectrum`` to reuse it) or "iterate"
    (the literal loop, O(n²) per step). ``keep_path``: also return every checkpoint's α as ``alphas`` (n, T).
    """
    Ka = _check_gram(K)
    n = Ka.shape[0]
    ya = as_vector("y", y, length=n)
    T = count("steps", steps, 0)
    lam = nonneg("weight_decay", weight_decay)
    if method not in ("eigen", "iterate"):
        raise ValueError(f"method must be 'eigen' or 'iterate', got {method!r}")
    val = _validation(K_val, y_val, n)
    if checkpoints is None:
        grid = _default_steps(T)
    else:
        grid = np.unique(
            np.asarray([count("checkpoints[i]", c, 0) for c in sequence("checkpoints", checkpoints)], dtype=np.int64)
        )
        if grid.size == 0 or grid[-1] > T:
            raise ValueError(f"checkpoints must be a non-empty list of ints in 0..steps={T}, got {list(checkpoints)}")
    if method == "iterate" and grid[-1] > _MAX_ITERATE_STEPS:
        raise ValueError(
            f"steps must be <= {_MAX_ITERATE_STEPS} for method='iterate' (one Python step each), got {int(grid[-1])}; "
            "use method='eigen' (exact for any step count)"
        )
    spectrum = KernelSpectrum.from_gram(Ka) if spectrum is None else _check_spectrum(spectrum, n)
    mu_max = float(spectrum.values[-1]) / n + lam
    limit = 2.0 / mu_max if mu_max > 0 else np.inf
    eta = 1.0 / mu_max if lr is None and mu_max > 0 else (1.0 if lr is None else positive("lr", lr))
    if eta >= limit:
        raise ValueError(
            f"lr must be < 2/(λ_max(K)/n + weight_decay) = {limit:.6g} for gradient descent to converge, got {eta}"
        )
    if method == "eigen":
        b = spectrum.vectors.T @ ya
        coef = (b / n)[:, None] * _gd_gain(spectrum.values / n + lam, eta, grid)  # (n, T) in the eigenbasis
        resid = b[:, None] - spectrum.values[:, None] * coef
        train_mse = (resid**2).sum(0) / n
        alphas = spectrum.vectors @ coef
    else:
        alphas = np.empty((n, grid.size))
        alpha = np.zeros(n)
        j = 0
        for t in range(int(grid[-1]) + 1):
            while j < grid.size and grid[j] == t:
                alphas[:, j] = alpha
                j += 1
            alpha = alpha - eta * ((Ka @ alpha - ya) / n + lam * alpha)
        train_mse = ((Ka @ alphas - ya[:, None]) ** 2).mean(0)
    val_mse = None
    pick = grid.size - 1
    if val is not None:
        Kv, yv = val
        val_mse = ((Kv @ alphas - yv[:, None]) ** 2).mean(0)
        pick = int(np.argmin(val_mse))
    return KGDResult(
        alpha=alphas[:, pick].copy(),
        kind="early",
        chosen=float(grid[pick]),
        grid=grid,
        train_mse=train_mse,
        val_mse=val_mse,
        lr=eta,
        weight_decay=lam,
        alphas=alphas if keep_path else None,
    )


def kernel_ridge(K: np.ndarray, y: np.ndarray, *, weight_decay: float) -> np.ndarray:
    """The weight-decay fixed point ``α = (K/n + λI)^{-1} y/n = (K + nλI)^{-1} y`` (n,), by a Cholesky-free solve;
    ``weight_decay`` λ > 0, ``K`` (n, n), ``y`` (n,)."""
    Ka = _check_gram(K)
    n = Ka.shape[0]
    ya = as_vector("y", y, length=n)
    lam = positive("weight_decay", weight_decay)
    return np.linalg.solve(Ka + n * lam * np.eye(n), ya)


def kernel_weight_decay(
    K: np.ndarray,
    y: np.ndarray,
    *,
    weight_decays: Sequence[float],
    K_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    spectrum: KernelSpectrum | None = None,
    keep_path: bool = False,
) -> KGDResult:
    """Weight decay run to convergence, ``α_λ = V (V^T y)/(Λ + nλ)`` for each λ in ``weight_decays`` (each > 0), with
    λ chosen on the validation split (``K_val`` (n_val, n), ``y_val``) by least MSE; without one, the smallest λ.
    Equals :func:`kernel_ridge` at each λ (one eigen-decomposition for all of them). ``keep_path``: also return every
    λ's α as ``alphas`` (n, L), columns in ascending λ (the order of ``grid``)."""
    Ka = _check_gram(K)
    n = Ka.shape[0]
    ya = as_vector("y", y, length=n)
    lams = np.asarray(
        [positive("weight_decays[i]", v) for v in sequence("weight_decays", weight_decays)], dtype=np.float64
    )
    if lams.size == 0:
        raise ValueError("weight_decays must hold at least one value > 0, got none")
    lams = np.sort(lams)
    val = _validation(K_val, y_val, n)
    spectrum = KernelSpectrum.from_gram(Ka) if spectrum is None else _check_spectrum(spectrum, n)
    b = spectrum.vectors.T @ ya
    coef = b[:, None] / (spectrum.values[:, None] + n * lams[None, :])
    train_mse = ((b[:, None] - spectrum.values[:, None] * coef) ** 2).sum(0) / n
    alphas = spectrum.vectors @ coef
    val_mse = None
    pick = 0
    if val is not None:
        Kv, yv = val
        val_mse = ((Kv @ alphas - yv[:, None]) ** 2).mean(0)
        pick = int(np.argmin(val_mse))
    return KGDResult(
        alpha=alphas[:, pick].copy(),
        kind="decay",
        chosen=float(lams[pick]),
        grid=lams,
        train_mse=train_mse,
        val_mse=val_mse,
        lr=None,
        weight_decay=float(lams[pick]),
        alphas=alphas if keep_path else None,
    )
