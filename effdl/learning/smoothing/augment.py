"""The data-augmentation view of random smoothing: train on M noisy copies of the inputs, average the features.

With M noisy copies ``x_i + ε_{i,1..M}`` of each training point, the averaged feature map
``φ̄(x_i) = (1/M) Σ_m φ(x_i + ε_{im})`` has Gram matrix ``Ĝ_ij = (1/M²) Σ_{m,m'} K(x_i + ε_im, x_j + ε_jm')``;
new points get their own M copies. Off the diagonal ``E Ĝ_ij = K_S(x_i, x_j)`` exactly; on the diagonal the M pairs
m = m' add a bias ``(E K(x+ε, x+ε) − K_S(x, x))/M``; the spread is ∝ 1/√M. So training the averaged-feature model
by kernel gradient descent on Ĝ converges, as M grows, to kernel gradient descent on the smoothed kernel K_S
(:func:`augmentation_gap` measures it: Gram error, cross-Gram error and the gap between the two models' predictions).
Ĝ is symmetric PSD for every M (it is a Gram matrix of averaged features), so gradient descent on it is well posed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from effdl.learning.smoothing._checks import as_points, as_vector, count, rng_from, seed_or_none, sequence
from effdl.learning.smoothing.kernels import Kernel, Noise
from effdl.learning.smoothing.kgd import kernel_gd
from effdl.learning.smoothing.smoothed import _check_pair, smoothed_kernel

__all__ = ["AugmentationGap", "augmentation_gap", "augmented_gram", "noisy_copies"]


def noisy_copies(X: np.ndarray, noise: Noise, *, copies: int, seed: int | None = 0) -> np.ndarray:
    """M noisy copies (M, n, D) of the points X (n, D): ``X[None] + ε`` with iid noise."""
    if not isinstance(noise, Noise):
        raise TypeError(f"noise must be a noise model with sample/cf/variance, got {type(noise).__name__}")
    Xa = as_points("X", X)
    M = count("copies", copies)
    return Xa[None] + noise.sample((M, *Xa.shape), rng_from(seed))


def _block_mean(kernel: Kernel, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """(1/(M·M')) Σ_{m,m'} K(A_m, B_m') for copies A (M, n, D), B (M', k, D), in row chunks to bound memory."""
    M, n, D = A.shape
    Mb, k, _ = B.shape
    Bflat = B.reshape(Mb * k, D)
    out = np.zeros((n, k))
    for m in range(M):
        out += kernel(A[m], Bflat).reshape(n, Mb, k).sum(1)
    return out / (M * Mb)


def augmented_gram(
    X: np.ndarray,
    Y: np.ndarray | None,
    kernel: Kernel,
    noise: Noise,
    *,
    copies: int,
    seed: int | None = 0,
) -> np.ndarray:
    """The averaged-feature Gram matrix (n, m) over ``copies`` = M noisy copies of X (n, D) and of Y (m, D).

    ``Y=None``: the training Gram matrix, X against the same copies of itself (symmetric PSD). Otherwise Y gets its
    own independent copies (new points). Cost M²·n·m kernel evaluations."""
    _check_pair(kernel, noise)
    if noise is None:
        raise TypeError("noise must be a noise model, got None")
    rng = rng_from(seed)
    Xa = as_points("X", X)
    A = noisy_copies(Xa, noise, copies=copies, seed=rng)  # type: ignore[arg-type]
    if Y is None:
        G = _block_mean(kernel, A, A)
        return 0.5 * (G + G.T)
    Ya = as_points("Y", Y, dim=Xa.shape[1])
    B = noisy_copies(Ya, noise, copies=copies, seed=rng)  # type: ignore[arg-type]
    return _block_mean(kernel, A, B)


@dataclass(frozen=True)
class AugmentationGap:
    """Per number of copies M (``copies``): ``gram_error`` max |Ĝ − K_S| over the training Gram matrix,
    ``cross_error`` the same over new points × training points, ``prediction_gap`` the RMS difference between the
    predictions of kernel GD (same lr and steps) on Ĝ and on K_S at the new points, ``prediction_scale`` the RMS of
    the K_S predictions. Means over ``repeats`` draws of the copies."""

    copies: tuple[int, ...]
    gram_error: tuple[float, ...]
    cross_error: tuple[float, ...]
    prediction_gap: tuple[float, ...]
    prediction_scale: float

    def relative_gap(self) -> tuple[float, ...]:
        """``prediction_gap / prediction_scale`` per M."""
        return tuple(g / self.prediction_scale for g in self.prediction_gap)


def augmentation_gap(
    X: np.ndarray,
    y: np.ndarray,
    X_new: np.ndarray,
    kernel: Kernel,
    noise: Noise,
    *,
    copies: Sequence[int] = (4, 16, 64),
    steps: int = 200,
    lr: float | None = None,
    repeats: int = 3,
    seed: int | None = 0,
) -> AugmentationGap:
    """Compare training on M noisy copies (averaged features, :func:`augmented_gram`) with training on the exact
    smoothed kernel (:func:`smoothed_kernel`) for each M in ``copies``: X (n, D), y (n,), X_new (m, D); kernel GD for
    ``steps`` steps with ``lr`` (default: 1/(λ_max(K_S)/n), the same for both)."""
    Xa = as_points("X", X)
    ya = as_vector("y", y, length=Xa.shape[0])
    Xn = as_points("X_new", X_new, dim=Xa.shape[1])
    Ms = tuple(count("copies[i]", c) for c in sequence("copies", copies))
    if not Ms:
        raise ValueError("copies must hold at least one number of copies >= 1, got none")
    R = count("repeats", repeats)
    base = np.random.SeedSequence(seed_or_none(seed))
    if noise is None:  # smoothed_kernel accepts None (no smoothing), but the noisy copies need a noise model
        raise TypeError("noise must be a noise model, got None")
    KS = smoothed_kernel(Xa, None, kernel, noise)
    KSn = smoothed_kernel(Xn, Xa, kernel, noise)
    ref = kernel_gd(KS, ya, lr=lr, steps=steps, checkpoints=[steps])
    eta = ref.lr
    pred = ref.predict(KSn)
    scale = float(np.sqrt(np.mean(pred**2)))
    ge, ce, pg = [], [], []
    for M, ss in zip(Ms, base.spawn(len(Ms)), strict=True):
        g = c = p = 0.0
        for child in ss.spawn(R):
            rng = np.random.default_rng(child)
            A = noisy_copies(Xa, noise, copies=M, seed=rng)  # type: ignore[arg-type]
            B = noisy_copies(Xn, noise, copies=M, seed=rng)  # type: ignore[arg-type]
            G = _block_mean(kernel, A, A)
            G = 0.5 * (G + G.T)
            C = _block_mean(kernel, B, A)
            fit = kernel_gd(G, ya, lr=eta, steps=steps, checkpoints=[steps]) if eta is not None else None
            g += float(np.abs(G - KS).max())
            c += float(np.abs(C - KSn).max())
            p += float(np.sqrt(np.mean((fit.predict(C) - pred) ** 2))) if fit is not None else 0.0
        ge.append(g / R)
        ce.append(c / R)
        pg.append(p / R)
    return AugmentationGap(Ms, tuple(ge), tuple(ce), tuple(pg), scale)
