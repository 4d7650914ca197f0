"""A precomputed grid over the noise type, its scale and the input dimension, for chapter 10's explorer.

The three noise families are compared at **matched per-coordinate standard deviation** ``sd``
(:func:`matched_noise`): Gaussian σ = sd, Laplace b = sd/√2 (variance 2b²), polynomial s = sd/√(2p) (variance 2ps²).
:func:`noise_sweep` fits kernel gradient descent on the smoothed kernel of every (family, sd) to one 1-D data set,
the stopping step chosen on validation, and tabulates the smoothed profile along one axis in D dimensions,
``K_S(t e₁) = p(t) · p(0)^{D−1}`` with ``p`` the 1-D profile (:func:`~effdl.learning.smoothing.smoothed_profile`):
per-coordinate noise shrinks the kernel's diagonal ``K_S(x, x) = p(0)^D`` exponentially in D while the shape along
an axis stays that of ``p``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from effdl.learning.smoothing._checks import as_array, count, nonneg, positive, rng_from, sequence
from effdl.learning.smoothing.kernels import GaussianKernel, GaussianNoise, LaplaceNoise, Noise, PolynomialNoise
from effdl.learning.smoothing.kgd import KernelSpectrum, kernel_gd
from effdl.learning.smoothing.simulate import Sample, Target
from effdl.learning.smoothing.smoothed import smoothed_kernel, smoothed_profile

__all__ = ["FAMILIES", "NoiseSweep", "matched_noise", "noise_sweep"]

FAMILIES = ("gaussian", "laplace", "polynomial")


def matched_noise(family: str, sd: float, *, order: float = 2.0) -> Noise:
    """The noise of ``family`` ("gaussian", "laplace" or "polynomial") with per-coordinate standard deviation
    ``sd`` >= 0: :class:`GaussianNoise` (σ = sd), :class:`LaplaceNoise` (b = sd/√2) or :class:`PolynomialNoise`
    (order p = ``order``, s = sd/√(2p))."""
    s = nonneg("sd", sd)
    if family == "gaussian":
        return GaussianNoise(s)
    if family == "laplace":
        return LaplaceNoise(s / math.sqrt(2.0))
    if family == "polynomial":
        p = positive("order", order)
        return PolynomialNoise(s / math.sqrt(2.0 * p), p)
    raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")


@dataclass(frozen=True, eq=False)
class NoiseSweep:
    """Everything the explorer shows, computed once.

    ``families``, ``sds`` (noise standard deviations), ``dims`` (input dimensions D); ``offsets`` (T,) the offsets t
    along one axis; ``base`` (T,) the unsmoothed kernel along an axis (the same in every D);
    ``profiles[(family, sd, D)]`` (T,) the smoothed kernel along an axis in D dimensions; ``grid`` (G,) the x
    points of the fitted curves, ``f_grid`` (G,) the target there; ``curves[(family, sd)]`` (G,) the early-stopped
    fit; ``table[(family, sd)]`` = (validation MSE, test excess risk, chosen step); ``train`` the training sample.
    """

    families: tuple[str, ...]
    sds: tuple[float, ...]
    dims: tuple[int, ...]
    offsets: np.ndarray
    base: np.ndarray
    profiles: dict[tuple[str, float, int], np.ndarray] = field(repr=False)
    grid: np.ndarray = field(repr=False)
    f_grid: np.ndarray = field(repr=False)
    curves: dict[tuple[str, float], np.ndarray] = field(repr=False)
    table: dict[tuple[str, float], tuple[float, float, float]] = field(repr=False)
    train: Sample = field(repr=False)

    def best(self, family: str, *, on: str = "val") -> float:
        """The sd of ``family`` with the least validation MSE (``on="val"``) or test excess risk (``on="test"``);
        ties: the smallest sd."""
        if family not in self.families:
            raise ValueError(f"family must be one of {self.families}, got {family!r}")
        if on not in ("val", "test"):
            raise ValueError(f"on must be 'val' or 'test', got {on!r}")
        col = 0 if on == "val" else 1
        return min(self.sds, key=lambda s: (self.table[(family, s)][col], s))


def noise_sweep(
    target: Target,
    *,
    n: int = 200,
    n_val: int = 200,
    n_test: int = 1000,
    kernel: GaussianKernel | None = None,
    families: Sequence[str] = FAMILIES,
    sds: Sequence[float] = (0.0, 0.02, 0.05, 0.1, 0.2, 0.4),
    dims: Sequence[int] = (1, 2, 10),
    order: float = 2.0,
    offsets: np.ndarray | None = None,
    grid_points: int = 200,
    steps: int = 10**12,
    seed: int | None = 0,
) -> NoiseSweep:
    """Fit every (family, sd) on one 1-D data set and tabulate the profiles (module docstring).

    ``target``: a 1-D target (d = D = 1); ``n``, ``n_val``: noisy training and validation points, ``n_test`` clean
    test points (all drawn with ``seed``); ``kernel``: the base Gaussian kernel (default h = 0.05);
    ``families``/``sds``: the grid (:func:`matched_noise` with ``order``); ``dims``: input dimensions for the
    profiles; ``offsets`` (T,): default 401 points on [−0.6, 0.6]; ``grid_points``: x points of the curves on
    [0, 1]; ``steps``: the largest GD step count (stopping step chosen on validation among ~256 log-spaced ones,
    lr = n/λ_max). Cost: one n×n eigen-decomposition per (family, sd)."""
    if not isinstance(target, Target):
        raise TypeError(f"target must be a Target (sobolev_target / mixed_target), got {type(target).__name__}")
    if target.d != 1 or target.D != 1:
        raise ValueError(f"target must be 1-D (d = D = 1) for the curves, got d = {target.d}, D = {target.D}")
    kernel = GaussianKernel(0.05) if kernel is None else kernel
    if not isinstance(kernel, GaussianKernel):
        raise TypeError(f"kernel must be a GaussianKernel, got {type(kernel).__name__}")
    fams = tuple(sequence("families", families))
    for fam in fams:
        matched_noise(fam, 0.0, order=order)  # validates the name
    sd_list = tuple(sorted({nonneg("sds[i]", s) for s in sequence("sds", sds)}))
    dim_list = tuple(count("dims[i]", D) for D in sequence("dims", dims))
    if not fams or not sd_list or not dim_list:
        raise ValueError("families, sds and dims must each hold at least one value")
    t = np.linspace(-0.6, 0.6, 401) if offsets is None else as_array("offsets", offsets).ravel()
    if t.size == 0 or not np.all(np.isfinite(t)):
        raise ValueError(f"offsets must hold at least one finite offset, got {t.size} values (or NaN/inf)")
    rng = rng_from(seed)  # the module's seed check (None or an int >= 0), then the same generator as default_rng
    train = target.sample(count("n", n, 2), seed=rng)
    val = target.sample(count("n_val", n_val), seed=rng)
    test = target.sample(count("n_test", n_test), seed=rng, noisy=False)
    grid = np.linspace(0.0, 1.0, count("grid_points", grid_points, 2))
    f_grid = target.f(grid[:, None])
    profiles: dict[tuple[str, float, int], np.ndarray] = {}
    curves: dict[tuple[str, float], np.ndarray] = {}
    table: dict[tuple[str, float], tuple[float, float, float]] = {}
    for fam in fams:
        for sd in sd_list:
            noise = matched_noise(fam, sd, order=order)
            p = smoothed_profile(kernel, noise, t)
            p0 = float(smoothed_profile(kernel, noise, np.zeros(1))[0])
            for D in dim_list:
                profiles[(fam, sd, D)] = p * p0 ** (D - 1)
            K = smoothed_kernel(train.X, None, kernel, noise)
            Kv = smoothed_kernel(val.X, train.X, kernel, noise)
            fit = kernel_gd(K, train.y, steps=count("steps", steps), K_val=Kv, y_val=val.y,
                            spectrum=KernelSpectrum.from_gram(K))  # fmt: skip
            vmse = float(fit.val_mse[fit.grid == fit.chosen][0])  # type: ignore[index]
            risk = float(np.mean((fit.predict(smoothed_kernel(test.X, train.X, kernel, noise)) - test.f) ** 2))
            curves[(fam, sd)] = fit.predict(smoothed_kernel(grid[:, None], train.X, kernel, noise))
            table[(fam, sd)] = (vmse, risk, fit.chosen)
    return NoiseSweep(fams, sd_list, dim_list, t, kernel.profile(t), profiles, grid, f_grid, curves, table, train)
