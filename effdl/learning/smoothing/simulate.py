"""Targets of known smoothness, on the cube or on a d-dimensional manifold in R^D, with noisy samples.

A target is a random cosine series on the latent cube [0, 1]^d,
``f(u) = Σ_{k ∈ {0..K}^d} c_k ψ_k(u)``, ``ψ_k(u) = Π_j ψ_{k_j}(u_j)``, ``ψ_0 = 1``, ``ψ_k(t) = √2 cos(πkt)``
(an orthonormal basis of L²[0, 1]^d whose even reflections are smooth: the Neumann Laplacian's eigenfunctions), with
``c_k = ξ_k w_k`` (ξ_k iid N(0, 1)) rescaled so that ‖f‖_{L²} = Σ c_k² = 1:

- "sobolev" (:func:`sobolev_target`): ``w_k = (1 + |k|²)^{−(m/2 + d/4) − δ}``. Then Σ (1+|k|²)^{m'} c_k² < ∞ for every
  m' < m + 2δ, so f lies in the Sobolev space H^{m'} (the cosine-series one) for m' < m + 2δ; with δ = 0 (the
  default) f sits at the edge of H^m: the best approximation by frequencies |k| ≤ κ leaves a squared L² bias ≍ κ^{−2m},
  while estimating the ≍ κ^d kept coefficients costs ≍ κ^d/n, so the minimax rate n^{−2m/(2m+d)} is exactly the
  rate for this f;
- "mixed" (:func:`mixed_target`): ``w_k = Π_j (1 + k_j²)^{−(m/2 + 1/4) − δ}``, dominating mixed smoothness m (a
  tensor-product Sobolev space); its rate is n^{−2m/(2m+1)} up to log factors, whatever d.

The series is truncated at frequency K per coordinate (``kmax``, default ⌊min(1024, 8100^{1/d})⌋), which changes the
target only beyond the frequencies any n up to a few thousand can resolve.

The latent points u ~ Uniform[0, 1]^d are mapped to R^D by an :class:`Embedding`: "identity" (D = d), "linear"
(x = A u, A (D, d) with orthonormal columns: a flat d-dimensional slice of R^D) or "arc" (each latent coordinate is
bent onto a circular arc of unit speed, ``u_j ↦ (sin(a u_j)/a, (1 − cos(a u_j))/a)``, then x = A ψ(u) with A (D, 2d)
orthonormal: a curved d-dimensional manifold, isometric to the cube, needing D >= 2d). Either way the data's intrinsic
dimension is d, whatever D.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from effdl.learning.smoothing._checks import as_points, count, nonneg, positive, rng_from, seed_or_none

__all__ = ["Embedding", "Sample", "Target", "mixed_target", "sobolev_target", "theory_rate"]

EMBEDDINGS = ("identity", "linear", "arc")


def theory_rate(m: float, d: int, kind: str = "sobolev") -> float:
    """The minimax exponent of the excess risk in n: −2m/(2m + d) ("sobolev"), −2m/(2m + 1) ("mixed", logs aside)."""
    mm = positive("m", m)
    dd = count("d", d)
    if kind not in ("sobolev", "mixed"):
        raise ValueError(f"kind must be 'sobolev' or 'mixed', got {kind!r}")
    return -2 * mm / (2 * mm + (dd if kind == "sobolev" else 1))


@dataclass(frozen=True, eq=False)
class Embedding:
    """Map from the latent cube [0, 1]^d to R^D. ``kind`` ∈ {"identity", "linear", "arc"}; ``A`` (D, d) or (D, 2d)
    with orthonormal columns (None for identity); ``bend`` a: the arc's total angle per unit of u (radians)."""

    kind: str
    d: int
    D: int
    A: np.ndarray | None = field(default=None, repr=False)
    bend: float = math.pi / 2

    @classmethod
    def make(cls, kind: str, d: int, D: int, *, bend: float = math.pi / 2, seed: int | None = 0) -> Embedding:
        """A random embedding of [0, 1]^d into R^D (A from the QR factor of a Gaussian matrix drawn with ``seed``)."""
        dd, DD = count("d", d), count("D", D)
        bend = positive("bend", bend)  # checked for every kind: a bad bend must not pass because it is unused
        if kind not in EMBEDDINGS:
            raise ValueError(f"embedding must be one of {EMBEDDINGS}, got {kind!r}")
        if kind == "identity":
            if dd != DD:
                raise ValueError(f"D must equal d = {dd} for the identity embedding, got {DD}")
            return cls(kind, dd, DD)
        cols = dd if kind == "linear" else 2 * dd
        if cols > DD:
            raise ValueError(f"D must be >= {cols} for the {kind!r} embedding of d = {dd}, got {DD}")
        q, r = np.linalg.qr(rng_from(seed).standard_normal((DD, cols)))
        return cls(kind, dd, DD, q * np.sign(np.diag(r))[None, :], bend)

    def _lift(self, U: np.ndarray) -> np.ndarray:
        if self.kind != "arc":
            return U
        a = self.bend
        out = np.empty((U.shape[0], 2 * self.d))
        out[:, 0::2] = np.sin(a * U) / a
        out[:, 1::2] = (1.0 - np.cos(a * U)) / a
        return out

    def __call__(self, U: np.ndarray) -> np.ndarray:
        """Points X (n, D) of latent points U (n, d)."""
        Ua = as_points("U", U, dim=self.d)
        Z = self._lift(Ua)
        return Z if self.A is None else Z @ self.A.T

    def jacobian(self, U: np.ndarray) -> np.ndarray:
        """Tangent maps (n, D, d): ∂x/∂u at each latent point; rank d, orthonormal columns (the arc is unit-speed)."""
        Ua = as_points("U", U, dim=self.d)
        n, d = Ua.shape
        if self.kind == "identity":
            return np.broadcast_to(np.eye(d), (n, d, d)).copy()
        if self.kind == "linear":
            return np.broadcast_to(self.A, (n, self.D, d)).copy()  # type: ignore[arg-type]
        a = self.bend
        J = np.zeros((n, 2 * d, d))
        for j in range(d):
            J[:, 2 * j, j] = np.cos(a * Ua[:, j])
            J[:, 2 * j + 1, j] = np.sin(a * Ua[:, j])
        return np.einsum("Dc,ncd->nDd", self.A, J)


@dataclass(frozen=True)
class Sample:
    """``X`` (n, D) inputs, ``y`` (n,) noisy targets ``f(u) + N(0, noise_sd²)``, ``f`` (n,) the clean values,
    ``U`` (n, d) latent points."""

    X: np.ndarray
    y: np.ndarray
    f: np.ndarray
    U: np.ndarray


@dataclass(frozen=True, eq=False)
class Target:
    """A random cosine series (module docstring) on [0, 1]^d, embedded in R^D. ``coef`` (K+1,)*d; ``m``: smoothness;
    ``kind``: "sobolev" or "mixed"; ``noise_sd`` >= 0: label noise; ``rate``: the minimax exponent."""

    coef: np.ndarray = field(repr=False)
    m: float
    d: int
    kind: str
    embedding: Embedding
    noise_sd: float
    delta: float = 0.0

    @property
    def D(self) -> int:
        """Ambient dimension."""
        return self.embedding.D

    @property
    def rate(self) -> float:
        """The theoretical exponent of the excess risk in n, :func:`theory_rate`."""
        return theory_rate(self.m, self.d, self.kind)

    def f(self, U: np.ndarray) -> np.ndarray:
        """Clean target values (n,) at latent points U (n, d) in [0, 1]^d."""
        Ua = as_points("U", U, dim=self.d)
        K = self.coef.shape[0]
        k = np.pi * np.arange(K)
        out = np.empty(Ua.shape[0])
        for s in range(0, Ua.shape[0], 1024):
            Uc = Ua[s : s + 1024]
            bases = [np.cos(Uc[:, j][:, None] * k[None, :]) * np.sqrt(2.0) for j in range(self.d)]
            for B in bases:
                B[:, 0] = 1.0
            T = bases[0] @ self.coef.reshape(K, -1)  # (c, K^{d-1})
            for j in range(1, self.d):
                T = np.einsum("nk...,nk->n...", T.reshape(T.shape[0], K, -1), bases[j])
            out[s : s + 1024] = T.reshape(-1)
        return out

    def sample(self, n: int, *, seed: int | None = 0, noisy: bool = True) -> Sample:
        """n iid points u ~ U[0, 1]^d, x = embedding(u), y = f(u) + noise (``noisy=False``: y = f, e.g. for test)."""
        nn_ = count("n", n)
        if not isinstance(noisy, bool | np.bool_):  # noisy="no" is truthy and would add the noise it meant to skip
            raise TypeError(f"noisy must be a bool, got {noisy!r}")
        rng = rng_from(seed)
        U = rng.uniform(size=(nn_, self.d))
        fv = self.f(U)
        y = fv + self.noise_sd * rng.standard_normal(nn_) if noisy and self.noise_sd > 0 else fv.copy()
        return Sample(self.embedding(U), y, fv, U)


def _default_kmax(d: int) -> int:
    return max(2, int(min(1024.0, 8100.0 ** (1.0 / d))))


def _make(
    kind: str,
    m: float,
    d: int,
    D: int | None,
    embedding: str | None,
    kmax: int | None,
    delta: float,
    noise_sd: float,
    bend: float,
    seed: int | None,
) -> Target:
    mm, dd = positive("m", m), count("d", d)
    DD = dd if D is None else count("D", D)
    emb = embedding if embedding is not None else ("identity" if dd == DD else "arc")
    K = (_default_kmax(dd) if kmax is None else count("kmax", kmax)) + 1
    if K**dd > 2_000_000:
        raise ValueError(f"kmax must keep (kmax+1)^d <= 2e6 coefficients, got kmax = {K - 1} with d = {dd}")
    dl, sd = nonneg("delta", delta), nonneg("noise_sd", noise_sd)
    ss = np.random.SeedSequence(seed_or_none(seed))
    s_coef, s_emb = ss.spawn(2)
    grids = np.meshgrid(*[np.arange(K, dtype=np.float64)] * dd, indexing="ij")
    if kind == "sobolev":
        w = (1.0 + sum(g**2 for g in grids)) ** (-(mm / 2 + dd / 4) - dl)
    else:
        w = np.prod([(1.0 + g**2) ** (-(mm / 2 + 0.25) - dl) for g in grids], axis=0)
    c = np.random.default_rng(s_coef).standard_normal(w.shape) * w
    c /= np.sqrt((c**2).sum())
    emb_obj = Embedding.make(emb, dd, DD, bend=bend, seed=int(np.random.default_rng(s_emb).integers(2**31)))
    return Target(c, mm, dd, kind, emb_obj, sd, dl)


def sobolev_target(
    m: float,
    d: int,
    *,
    D: int | None = None,
    embedding: str | None = None,
    kmax: int | None = None,
    delta: float = 0.0,
    noise_sd: float = 0.5,
    bend: float = math.pi / 2,
    seed: int | None = 0,
) -> Target:
    """A target of Sobolev smoothness m on a d-dimensional domain (module docstring), in R^D (default D = d).

    ``embedding``: "identity" (D = d), "linear" or "arc" (default "identity" when D = d, else "arc");
    ``kmax``: truncation frequency per coordinate; ``delta`` >= 0 extra decay; ``noise_sd``: label-noise SD (the
    target has unit L² norm); ``bend``: the arc's angle per unit of u; ``seed``: coefficients and embedding."""
    return _make("sobolev", m, d, D, embedding, kmax, delta, noise_sd, bend, seed)


def mixed_target(
    m: float,
    d: int,
    *,
    D: int | None = None,
    embedding: str | None = None,
    kmax: int | None = None,
    delta: float = 0.0,
    noise_sd: float = 0.5,
    bend: float = math.pi / 2,
    seed: int | None = 0,
) -> Target:
    """A target of dominating mixed smoothness m (tensor-product weights, module docstring); arguments as
    :func:`sobolev_target`."""
    return _make("mixed", m, d, D, embedding, kmax, delta, noise_sd, bend, seed)
