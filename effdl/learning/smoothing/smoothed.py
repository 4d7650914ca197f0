"""Convolution-smoothed kernels ``K_S(x, x') = E K(x + ε, x' + ε')`` (ε, ε' independent copies of the input noise).

- :func:`smoothed_kernel`: exact for a :class:`GaussianKernel`. With :class:`GaussianNoise` in closed form,
  ``K_S = (h²/(h² + 2σ²))^{D/2} exp(−‖x − x'‖²/(2(h² + 2σ²)))``; with any other iid noise (Laplace, polynomial) through
  the spectral view, per coordinate ``K_S,1D(t) = (1/2π) ∫ k̂(ω) |φ(ω)|² e^{iωt} dω = (1/π) ∫₀^∞ k̂(ω) φ(ω)² cos(ωt) dω``
  (:func:`smoothed_profile`, composite Gauss–Legendre quadrature to ~1e-12), and ``K_S = Π_d K_S,1D(x_d − x'_d)``
  (the Gaussian kernel and the noise are both products over coordinates). For Gram matrices the profile is tabulated
  on a fine grid of offsets and read by cubic-spline interpolation (absolute error ≲ 1e-10).
- :func:`smoothed_kernel_mc`: the Monte-Carlo estimate for any kernel and noise, the mean of ``K(X + E_s, Y + E'_s)``
  over ``samples`` independent draws; it is also the feature-averaged data-augmentation Gram matrix (every sample is one
  noisy copy of each point in X and in Y), see :mod:`effdl.learning.smoothing.augment`.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.interpolate import CubicSpline

from effdl.learning.smoothing._checks import as_array, as_points, count, rng_from
from effdl.learning.smoothing.kernels import GaussianKernel, GaussianNoise, Kernel, LaplaceNoise, Noise, PolynomialNoise
from effdl.learning.smoothing.kernels import sq_dists as _sq_dists

__all__ = ["smoothed_kernel", "smoothed_kernel_mc", "smoothed_profile"]

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(32)
_GRID = 4097  # offsets tabulated for the spline
# The quadrature's panel count grows like max|t|/h and s/h; past this many panels (32 nodes each: a 2 GiB cosine
# block per 512 offsets, minutes for a spline table) the profile is refused with a clear error instead of asking
# numpy for hundreds of GiB (max|t| = 1e9 did).
_MAX_PANELS = 2**14


def _noise_scale(noise: Noise) -> float:
    return float(getattr(noise, "sigma", getattr(noise, "scale", 0.0)))


def _check_pair(kernel: object, noise: object) -> None:
    if not isinstance(kernel, Kernel):
        raise TypeError(f"kernel must be a kernel (callable on (X, Y)), got {type(kernel).__name__}")
    if noise is not None and not isinstance(noise, Noise):
        raise TypeError(f"noise must be None or a noise model with sample/cf/variance, got {type(noise).__name__}")


def smoothed_profile(kernel: GaussianKernel, noise: Noise, t: np.ndarray) -> np.ndarray:
    """The 1-D smoothed profile ``K_S,1D(t) = (1/π) ∫₀^Ω k̂(ω) φ(ω)² cos(ωt) dω`` at offsets t (any shape).

    ``Ω = 12/h`` (the Gaussian factor is below 1e-31 beyond it); composite 32-point Gauss–Legendre on panels no wider
    than half a period of ``cos(ω max|t|)`` and ``1/s`` of the noise scale s, so the quadrature error is ~1e-12.
    """
    if not isinstance(kernel, GaussianKernel):
        raise TypeError(f"kernel must be a GaussianKernel for the spectral profile, got {type(kernel).__name__}")
    _check_pair(kernel, noise)
    if noise is None:
        raise TypeError("noise must be a noise model for the spectral profile, got None")
    t = as_array("t", t)
    if not np.all(np.isfinite(t)):
        raise ValueError("t must be finite, got NaN or inf")
    h = kernel.bandwidth
    omega_max = 12.0 / h
    tmax = float(np.max(np.abs(t))) if t.size else 0.0
    width = min(math.pi / max(tmax, h), omega_max / 8)
    s = _noise_scale(noise)
    if s > 0:
        width = min(width, 1.0 / s)
    panels = math.ceil(omega_max / width)
    if panels > _MAX_PANELS:
        raise ValueError(
            f"t (max|t| = {tmax:.6g}) or the noise scale ({s:.6g}) is too large for the bandwidth {h:.6g}: the "
            f"spectral profile would need {panels} quadrature panels > {_MAX_PANELS}; rescale the inputs or use "
            "smoothed_kernel_mc"
        )
    edges = np.linspace(0.0, omega_max, panels + 1)
    half = 0.5 * np.diff(edges)
    omega = ((edges[:-1] + half)[:, None] + half[:, None] * _GL_NODES[None, :]).ravel()
    w = (half[:, None] * _GL_WEIGHTS[None, :]).ravel()
    g = w * kernel.spectral_density(omega) * np.square(noise.cf(omega)) / math.pi
    flat = t.ravel()
    out = np.empty_like(flat)
    for start in range(0, flat.size, 512):  # bounded memory: 512 offsets × nodes at a time
        out[start : start + 512] = np.cos(np.outer(flat[start : start + 512], omega)) @ g
    return out.reshape(t.shape)


@functools.lru_cache(maxsize=32)
def _cached_spline(kernel: GaussianKernel, noise: Noise, top: float) -> CubicSpline:
    grid = np.linspace(0.0, top, _GRID)
    vals = smoothed_profile(kernel, noise, grid)
    return CubicSpline(grid, vals, bc_type=((1, 0.0), (2, 0.0)))


def _profile_spline(kernel: GaussianKernel, noise: Noise, tmax: float) -> CubicSpline:
    """The profile tabulated on [0, T] with T = tmax rounded up to a power of 2 (≥ 1.0001·tmax; so repeated Gram
    matrices of similar data reuse one table, cached by (kernel, noise, T)); 4097 grid points (interpolation error
    ≲ 1e-10 absolute in the tests, for T up to 100h)."""
    top = 2.0 ** math.ceil(math.log2(max(tmax, 1e-12) * 1.0001))
    return _cached_spline(kernel, noise, top)


def smoothed_kernel(X: np.ndarray, Y: np.ndarray | None, kernel: Kernel, noise: Noise | None) -> np.ndarray:
    """The exact smoothed Gram matrix ``K_S(X, Y)`` (n, m) for X (n, D), Y (m, D) (None: Y = X).

    ``noise=None`` (or a zero noise scale) returns ``kernel(X, Y)``. Otherwise ``kernel`` must be a
    :class:`GaussianKernel`: Gaussian noise uses the closed form, Laplace and polynomial noise the per-coordinate
    spectral profile (:func:`smoothed_profile`) multiplied over coordinates. Other kernels: use
    :func:`smoothed_kernel_mc`.
    """
    _check_pair(kernel, noise)
    Xa = as_points("X", X)
    Ya = Xa if Y is None else as_points("Y", Y, dim=Xa.shape[1])
    if noise is None or _noise_scale(noise) == 0.0:
        return kernel(Xa, Ya)
    if not isinstance(kernel, GaussianKernel):
        raise TypeError(
            f"kernel must be a GaussianKernel for the exact smoothed kernel, got {type(kernel).__name__}; "
            "use smoothed_kernel_mc for other kernels"
        )
    h2 = kernel.bandwidth**2
    D = Xa.shape[1]
    if isinstance(noise, GaussianNoise):
        s2 = h2 + 2.0 * noise.sigma**2
        return (h2 / s2) ** (D / 2) * np.exp(-_sq_dists(Xa, Ya) / (2.0 * s2))
    if not isinstance(noise, LaplaceNoise | PolynomialNoise):
        raise TypeError(
            f"noise must be GaussianNoise, LaplaceNoise or PolynomialNoise for the exact smoothed kernel, got "
            f"{type(noise).__name__}; use smoothed_kernel_mc"
        )
    if Xa.shape[0] == 0 or Ya.shape[0] == 0:  # no offsets to tabulate (max over none would fail deep in numpy)
        return np.ones((Xa.shape[0], Ya.shape[0]))
    tmax = max(float(np.max(np.abs(Xa[:, j][:, None] - Ya[:, j][None, :]))) for j in range(D))
    spline = _profile_spline(kernel, noise, tmax)
    out = np.ones((Xa.shape[0], Ya.shape[0]))
    for j in range(D):
        out *= spline(np.abs(Xa[:, j][:, None] - Ya[:, j][None, :]))
    return out


def smoothed_kernel_mc(
    X: np.ndarray,
    Y: np.ndarray | None,
    kernel: Kernel,
    noise: Noise,
    *,
    samples: int = 1000,
    seed: int | None = 0,
    batch: int = 256,
) -> np.ndarray:
    """Monte-Carlo smoothed Gram matrix (n, m): ``(1/S) Σ_s K(X + E_s, Y + E'_s)`` with E_s (n, D), E'_s (m, D) fresh
    iid noise each sample (also when Y is X: the two arguments get independent copies, as in K_S). Works for any
    kernel and noise; standard error ∝ 1/√samples. ``batch``: samples per vectorized chunk (memory ∝ batch·n·m)."""
    _check_pair(kernel, noise)
    if noise is None:
        raise TypeError("noise must be a noise model for the Monte-Carlo estimate, got None")
    S = count("samples", samples)
    B = count("batch", batch)
    rng = rng_from(seed)
    Xa = as_points("X", X)
    Ya = Xa if Y is None else as_points("Y", Y, dim=Xa.shape[1])
    n, m, D = Xa.shape[0], Ya.shape[0], Xa.shape[1]
    acc = np.zeros((n, m))
    done = 0
    while done < S:
        b = min(B, S - done)
        Xn = Xa[None] + noise.sample((b, n, D), rng)
        Yn = Ya[None] + noise.sample((b, m, D), rng)
        batched = getattr(kernel, "batched", None)
        if batched is not None:
            acc += batched(Xn, Yn).sum(0)
        else:
            for i in range(b):
                acc += kernel(Xn[i], Yn[i])
        done += b
    return acc / S
