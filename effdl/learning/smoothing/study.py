"""Rate studies: the excess risk of smoothed-kernel gradient descent against n, and its log-log slope.

For each n and repetition: draw n training points and ⌈val_fraction·n⌉ validation points (noisy labels), and a clean
test set (y = f) of ``n_test`` points; build the smoothed Gram matrices with :func:`smoothed_kernel`; fit by kernel
gradient descent with the stopping step chosen on validation (``stopping="early"``, weight decay 0) or by weight decay
run to convergence with λ chosen on validation (``stopping="decay"``); when ``noise`` is a sequence of noise models,
the noise level is chosen on validation as well. The excess risk is the test mean of (f̂ − f)². The slope is the least-
squares fit of log risk on log n over all (n, rep) points — the slope through the geometric means, robust to the
occasional repetition whose validation split picks a poor stopping time — compared with ``target.rate``;
``mean_slope`` is the same fit through the arithmetic means.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from effdl.learning.smoothing._checks import as_array, count, positive, seed_or_none, sequence
from effdl.learning.smoothing.kernels import GaussianKernel, GaussianNoise, Kernel, Noise
from effdl.learning.smoothing.kgd import KernelSpectrum, kernel_gd, kernel_weight_decay
from effdl.learning.smoothing.simulate import Target
from effdl.learning.smoothing.smoothed import smoothed_kernel

__all__ = ["DEFAULT_KERNEL", "DEFAULT_NOISE_GRID", "RateStudy", "loglog_slope", "rate_study"]

DEFAULT_WEIGHT_DECAYS = tuple(np.geomspace(1e-12, 1.0, 61).tolist())
# A narrow Gaussian kernel and Gaussian input noise whose smoothed bandwidths √(h² + 2σ²) ≈ 0.15, 0.29, 0.57 span the
# best bandwidths from n ≈ 100 (wide) to a few thousand (narrower) for unit-norm targets on [0, 1]^d, d ≤ 2: chosen so
# that the best fit on the path is within ~10% of the oracle cosine-projection risk at n = 100..1600.
DEFAULT_KERNEL = GaussianKernel(0.05)
DEFAULT_NOISE_GRID: tuple[Noise, ...] = (GaussianNoise(0.1), GaussianNoise(0.2), GaussianNoise(0.4))


def loglog_slope(ns: Sequence[float], risks: Sequence[float]) -> tuple[float, float]:
    """Least-squares ``log risk = intercept + slope·log n``; returns (slope, intercept). Needs >= 2 distinct n > 0 and
    risks > 0."""
    nv = as_array("ns", ns)
    yv = as_array("risks", risks)
    if nv.ndim != 1 or nv.shape != yv.shape or np.unique(nv).size < 2:
        raise ValueError(
            f"ns and risks must be 1-D, equal-length, with >= 2 distinct n, got shapes {nv.shape} and {yv.shape}"
        )
    if np.any(nv <= 0) or not np.all(np.isfinite(nv)):  # log n of these would fail deep in the least-squares SVD
        raise ValueError("ns must be finite and > 0")
    x = np.log(nv)
    if np.any(yv <= 0) or not np.all(np.isfinite(yv)):
        raise ValueError("risks must be finite and > 0")
    slope, intercept = np.polyfit(x, np.log(yv), 1)
    return float(slope), float(intercept)


@dataclass(frozen=True, eq=False)
class RateStudy:
    """``ns`` (N,); ``risks`` (N, reps) test excess risks; ``mean_risk`` (N,); ``slope``/``intercept`` of the log-log
    fit over all (n, rep) points (through the geometric means); ``mean_slope`` through the arithmetic means;
    ``rep_slopes`` (reps,) one slope per repetition (their spread); ``theory`` the exponent
    −2m/(2m+d); ``chosen`` (N, reps) the chosen step (early) or λ (decay); ``chosen_noise`` (N, reps) the index of
    the chosen noise model; ``seconds`` wall time; ``settings`` what was run."""

    ns: np.ndarray
    risks: np.ndarray
    slope: float
    intercept: float
    mean_slope: float
    rep_slopes: np.ndarray
    theory: float
    chosen: np.ndarray
    chosen_noise: np.ndarray
    seconds: float
    settings: dict[str, object] = field(default_factory=dict)

    @property
    def mean_risk(self) -> np.ndarray:
        """Mean excess risk per n (N,)."""
        return self.risks.mean(1)

    @property
    def gap(self) -> float:
        """slope − theory."""
        return self.slope - self.theory

    def rows(self) -> list[dict[str, float]]:
        """One dict per n: n, mean risk, its standard error, median chosen step/λ."""
        reps = self.risks.shape[1]
        return [
            {
                "n": int(n),
                "risk": float(r.mean()),
                "risk_se": float(r.std(ddof=1) / math.sqrt(reps)) if reps > 1 else float("nan"),
                "chosen": float(np.median(c)),
            }
            for n, r, c in zip(self.ns, self.risks, self.chosen, strict=True)
        ]


def rate_study(
    target: Target,
    ns: Sequence[int] = (250, 500, 1000, 2000),
    *,
    kernel: Kernel = DEFAULT_KERNEL,
    noise: Noise | Sequence[Noise] | None = DEFAULT_NOISE_GRID,
    stopping: str = "early",
    reps: int = 4,
    val_fraction: float = 0.5,
    n_test: int = 2000,
    steps: int = 10**12,
    weight_decays: Sequence[float] = DEFAULT_WEIGHT_DECAYS,
    seed: int | None = 0,
) -> RateStudy:
    """Excess risk of smoothed-kernel GD on ``target`` for each training size in ``ns`` (module docstring).

    ``kernel``/``noise``: the smoothed kernel ``K_S`` (:func:`smoothed_kernel`; a sequence of noise models = a grid
    chosen on validation; defaults: :data:`DEFAULT_KERNEL` h = 0.05 and :data:`DEFAULT_NOISE_GRID` σ ∈ {0.1, 0.2,
    0.4}); ``stopping``: "early" (gradient descent at lr = n/λ_max(K_S), stopping step chosen among ~256 log-spaced
    steps up to ``steps`` on validation) or "decay" (λ chosen in ``weight_decays`` on validation);
    ``reps`` repetitions per n with fresh data; ``val_fraction`` > 0: validation size as a fraction of n; ``n_test``
    clean test points; ``seed``: all draws. Cost: one (n, n) eigen-decomposition per n, rep and noise model."""
    if not isinstance(target, Target):
        raise TypeError(f"target must be a Target (sobolev_target / mixed_target), got {type(target).__name__}")
    nlist = [count("ns[i]", n, 2) for n in sequence("ns", ns)]
    if len(set(nlist)) < 2:
        raise ValueError(f"ns must hold at least 2 distinct sizes >= 2, got {list(ns)}")
    if stopping not in ("early", "decay"):
        raise ValueError(f"stopping must be 'early' or 'decay', got {stopping!r}")
    R = count("reps", reps)
    vf = positive("val_fraction", val_fraction)
    nt = count("n_test", n_test)
    T = count("steps", steps)
    noises: list[Noise | None] = list(noise) if isinstance(noise, Sequence) else [noise]
    if not noises:
        raise ValueError("noise must be a noise model, None, or a non-empty sequence of them")
    t0 = time.perf_counter()
    root = np.random.SeedSequence(seed_or_none(seed))
    s_test, s_runs = root.spawn(2)
    test = target.sample(nt, seed=np.random.default_rng(s_test), noisy=False)  # type: ignore[arg-type]
    risks = np.empty((len(nlist), R))
    chosen = np.empty((len(nlist), R))
    chosen_noise = np.zeros((len(nlist), R), dtype=np.int64)
    for i, (n, s_n) in enumerate(zip(nlist, s_runs.spawn(len(nlist)), strict=True)):
        for r, s_r in enumerate(s_n.spawn(R)):
            rng = np.random.default_rng(s_r)
            tr = target.sample(n, seed=rng)  # type: ignore[arg-type]
            va = target.sample(max(2, math.ceil(vf * n)), seed=rng)  # type: ignore[arg-type]
            best: tuple[float, float, float, int] | None = None  # (val mse, test risk, chosen, noise index)
            for j, nz in enumerate(noises):
                K = smoothed_kernel(tr.X, None, kernel, nz)
                Kv = smoothed_kernel(va.X, tr.X, kernel, nz)
                spec = KernelSpectrum.from_gram(K)
                if stopping == "early":
                    fit = kernel_gd(K, tr.y, steps=T, K_val=Kv, y_val=va.y, spectrum=spec)
                else:
                    fit = kernel_weight_decay(K, tr.y, weight_decays=weight_decays, K_val=Kv, y_val=va.y, spectrum=spec)
                vmse = float(fit.val_mse[fit.grid == fit.chosen][0])  # type: ignore[index]
                if best is None or vmse < best[0]:
                    pred = fit.predict(smoothed_kernel(test.X, tr.X, kernel, nz))
                    best = (vmse, float(np.mean((pred - test.f) ** 2)), fit.chosen, j)
            assert best is not None
            risks[i, r], chosen[i, r], chosen_noise[i, r] = best[1], best[2], best[3]
    ns_arr = np.asarray(nlist)
    slope, intercept = loglog_slope(ns_arr, np.exp(np.log(risks).mean(1)))
    mean_slope = loglog_slope(ns_arr, risks.mean(1))[0]
    rep_slopes = np.array([loglog_slope(ns_arr, risks[:, r])[0] for r in range(R)])
    settings: dict[str, object] = {
        "m": target.m,
        "d": target.d,
        "D": target.D,
        "kind": target.kind,
        "embedding": target.embedding.kind,
        "noise_sd": target.noise_sd,
        "kernel": repr(kernel),
        "noise": [repr(z) for z in noises],
        "stopping": stopping,
        "reps": R,
        "val_fraction": vf,
        "n_test": nt,
        "seed": seed,
    }
    return RateStudy(
        ns=ns_arr,
        risks=risks,
        slope=slope,
        intercept=intercept,
        mean_slope=mean_slope,
        rep_slopes=rep_slopes,
        theory=target.rate,
        chosen=chosen,
        chosen_noise=chosen_noise,
        seconds=time.perf_counter() - t0,
        settings=settings,
    )
