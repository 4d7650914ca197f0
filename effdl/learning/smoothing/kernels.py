"""Base kernels and input-noise models.

Kernels take point sets ``X`` (n, D) and ``Y`` (m, D) and return the Gram matrix (n, m):

- :class:`GaussianKernel` ``K(x, x') = exp(−‖x − x'‖² / (2h²))`` (bandwidth ``h`` in the units of x). It is a product
  over coordinates of ``exp(−t²/(2h²))`` whose 1-D Fourier transform is ``k̂(ω) = h √(2π) exp(−h²ω²/2)``;
- :class:`MaternKernel` (ν ∈ {1/2, 3/2, 5/2}, isotropic, length scale ``h``): a finite-smoothness kernel whose RKHS
  on R^D is the Sobolev space H^{ν + D/2}; ν = 1/2 is the Laplace kernel ``exp(−‖x − x'‖/h)``.

Noise models draw iid coordinates and give their per-coordinate characteristic function ``φ(ω) = E e^{iωε}``:

- :class:`GaussianNoise` N(0, σ²): ``φ(ω) = exp(−σ²ω²/2)``;
- :class:`LaplaceNoise` (scale b, density ``e^{−|t|/b}/(2b)``): ``φ(ω) = 1/(1 + b²ω²)``;
- :class:`PolynomialNoise` (scale s, order p), the Matérn-type spectral-decay noise: ``φ(ω) = (1 + s²ω²)^{−p}``,
  a symmetric variance-gamma law ``ε = s √(2V) Z`` with V ~ Gamma(shape p, scale 1), Z ~ N(0, 1). Its spectrum decays
  polynomially, like |ω|^{−2p}; p = 1 is the Laplace law. Smoothing with it multiplies a kernel's spectrum by
  ``|φ|² = (1 + s²ω²)^{−2p}``, the spectrum of a 1-D Matérn kernel with ν = 2p − 1/2, so a narrow Gaussian kernel
  smoothed by this noise behaves, per coordinate, like a Matérn kernel whose RKHS is H^{2p}.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from effdl.learning.smoothing._checks import as_points, nonneg, positive

__all__ = [
    "GaussianKernel",
    "GaussianNoise",
    "Kernel",
    "LaplaceNoise",
    "MaternKernel",
    "Noise",
    "PolynomialNoise",
    "sq_dists",
]


def sq_dists(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (n, m) between the rows of X (n, D) and Y (m, D), clipped at 0."""
    d2 = (X * X).sum(1)[:, None] + (Y * Y).sum(1)[None, :] - 2.0 * (X @ Y.T)
    return np.maximum(d2, 0.0)


@runtime_checkable
class Kernel(Protocol):
    """A positive-definite kernel: ``kernel(X, Y)`` with X (n, D), Y (m, D) returns the Gram matrix (n, m)."""

    def __call__(self, X: np.ndarray, Y: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Noise(Protocol):
    """Iid per-coordinate input noise: ``sample(shape, rng)`` draws an array of that shape, ``cf(ω)`` is the
    per-coordinate characteristic function (real, the laws are symmetric), ``variance`` the per-coordinate variance."""

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray: ...

    def cf(self, omega: np.ndarray) -> np.ndarray: ...

    @property
    def variance(self) -> float: ...


def _batched_sq_dists(Xb: np.ndarray, Yb: np.ndarray) -> np.ndarray:
    d2 = (Xb * Xb).sum(-1)[:, :, None] + (Yb * Yb).sum(-1)[:, None, :] - 2.0 * (Xb @ Yb.transpose(0, 2, 1))
    return np.maximum(d2, 0.0)


def _pair(X: object, Y: object | None) -> tuple[np.ndarray, np.ndarray]:
    Xa = as_points("X", X)
    Ya = Xa if Y is None else as_points("Y", Y, dim=Xa.shape[1])
    return Xa, Ya


@dataclass(frozen=True)
class GaussianKernel:
    """``K(x, x') = exp(−‖x − x'‖² / (2 h²))``; ``bandwidth`` h > 0."""

    bandwidth: float = 0.1

    def __post_init__(self) -> None:
        object.__setattr__(self, "bandwidth", positive("bandwidth", self.bandwidth))

    def __call__(self, X: np.ndarray, Y: np.ndarray | None = None) -> np.ndarray:
        """Gram matrix (n, m) of X (n, D) against Y (m, D) (Y defaults to X)."""
        Xa, Ya = _pair(X, Y)
        return np.exp(-sq_dists(Xa, Ya) / (2.0 * self.bandwidth**2))

    def batched(self, Xb: np.ndarray, Yb: np.ndarray) -> np.ndarray:
        """Gram matrices (b, n, m) of a batch of point sets Xb (b, n, D) against Yb (b, m, D), pair by pair."""
        return np.exp(-_batched_sq_dists(Xb, Yb) / (2.0 * self.bandwidth**2))

    def profile(self, t: np.ndarray) -> np.ndarray:
        """The 1-D factor ``exp(−t²/(2h²))`` at offsets t (any shape)."""
        return np.exp(-np.square(t) / (2.0 * self.bandwidth**2))

    def spectral_density(self, omega: np.ndarray) -> np.ndarray:
        """1-D Fourier transform ``k̂(ω) = h √(2π) exp(−h²ω²/2)`` (so ``(1/2π)∫ k̂(ω) e^{iωt} dω = exp(−t²/2h²)``)."""
        h = self.bandwidth
        return h * math.sqrt(2.0 * math.pi) * np.exp(-0.5 * (h * np.asarray(omega)) ** 2)


@dataclass(frozen=True)
class MaternKernel:
    """Isotropic Matérn kernel with smoothness ``nu`` ∈ {0.5, 1.5, 2.5} and length scale ``bandwidth`` h > 0:
    ν = 1/2: ``e^{−r/h}``; ν = 3/2: ``(1 + √3 r/h) e^{−√3 r/h}``; ν = 5/2: ``(1 + √5 r/h + 5r²/3h²) e^{−√5 r/h}``."""

    nu: float = 1.5
    bandwidth: float = 0.1

    def __post_init__(self) -> None:
        if self.nu not in (0.5, 1.5, 2.5):
            raise ValueError(f"nu must be one of 0.5, 1.5, 2.5, got {self.nu!r}")
        object.__setattr__(self, "bandwidth", positive("bandwidth", self.bandwidth))

    def __call__(self, X: np.ndarray, Y: np.ndarray | None = None) -> np.ndarray:
        """Gram matrix (n, m) of X (n, D) against Y (m, D) (Y defaults to X)."""
        Xa, Ya = _pair(X, Y)
        return self._of_r(np.sqrt(sq_dists(Xa, Ya)) / self.bandwidth)

    def batched(self, Xb: np.ndarray, Yb: np.ndarray) -> np.ndarray:
        """Gram matrices (b, n, m) of a batch of point sets Xb (b, n, D) against Yb (b, m, D), pair by pair."""
        return self._of_r(np.sqrt(_batched_sq_dists(Xb, Yb)) / self.bandwidth)

    def _of_r(self, r: np.ndarray) -> np.ndarray:
        if self.nu == 0.5:
            return np.exp(-r)
        if self.nu == 1.5:
            a = math.sqrt(3.0) * r
            return (1.0 + a) * np.exp(-a)
        a = math.sqrt(5.0) * r
        return (1.0 + a + a * a / 3.0) * np.exp(-a)


@dataclass(frozen=True)
class GaussianNoise:
    """Iid N(0, σ²) per coordinate; ``sigma`` >= 0 (0: no noise). ``φ(ω) = exp(−σ²ω²/2)``."""

    sigma: float = 0.05

    def __post_init__(self) -> None:
        object.__setattr__(self, "sigma", nonneg("sigma", self.sigma))

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Noise of the given shape."""
        return self.sigma * rng.standard_normal(shape)

    def cf(self, omega: np.ndarray) -> np.ndarray:
        """Per-coordinate characteristic function."""
        return np.exp(-0.5 * (self.sigma * np.asarray(omega)) ** 2)

    @property
    def variance(self) -> float:
        """σ²."""
        return self.sigma**2


@dataclass(frozen=True)
class LaplaceNoise:
    """Iid Laplace per coordinate, density ``e^{−|t|/b}/(2b)``, ``scale`` b >= 0. ``φ(ω) = 1/(1 + b²ω²)``."""

    scale: float = 0.05

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", nonneg("scale", self.scale))

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Noise of the given shape."""
        return rng.laplace(0.0, self.scale, shape) if self.scale > 0 else np.zeros(shape)

    def cf(self, omega: np.ndarray) -> np.ndarray:
        """Per-coordinate characteristic function."""
        return 1.0 / (1.0 + (self.scale * np.asarray(omega)) ** 2)

    @property
    def variance(self) -> float:
        """2 b²."""
        return 2.0 * self.scale**2


@dataclass(frozen=True)
class PolynomialNoise:
    """Matérn-type spectral-decay noise: iid per coordinate ``ε = s √(2V) Z``, V ~ Gamma(p, 1), Z ~ N(0, 1) (a
    symmetric variance-gamma law), with ``φ(ω) = E e^{−s²ω²V} = (1 + s²ω²)^{−p}``. ``scale`` s >= 0, ``order`` p > 0;
    p = 1 is :class:`LaplaceNoise` with b = s. Variance 2 p s²."""

    scale: float = 0.05
    order: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", nonneg("scale", self.scale))
        object.__setattr__(self, "order", positive("order", self.order))

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Noise of the given shape."""
        v = rng.gamma(self.order, 1.0, shape)
        return self.scale * np.sqrt(2.0 * v) * rng.standard_normal(shape)

    def cf(self, omega: np.ndarray) -> np.ndarray:
        """Per-coordinate characteristic function."""
        return (1.0 + (self.scale * np.asarray(omega)) ** 2) ** (-self.order)

    @property
    def variance(self) -> float:
        """2 p s²."""
        return 2.0 * self.order * self.scale**2
