"""Checkers for Laplacian regularized stratified models (chapter 11): the graph Laplacian, the proximal step on the
edge weights, the gradient of log det(μI + L(W)), and the regularization slider's task."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from effdl.exercises._common import _attempt, _missing, _number, _verdict, checker
from effdl.learning.lrsm import laplacian

__all__ = ["check_laplacian", "check_logdet_gradient", "check_lrsm_lam2", "check_prox_w"]


def _graphs(seed: int = 0) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Small test graphs (K, edges (E, 2) with i < j, weights (E,) ≥ 0): a path, a 2×3 grid, a random graph with a
    zero-weight edge and an isolated node."""
    rng = np.random.default_rng(seed)
    path = (4, np.array([[0, 1], [1, 2], [2, 3]]), np.array([1.0, 2.0, 0.5]))
    grid = (6, np.array([[0, 1], [1, 2], [3, 4], [4, 5], [0, 3], [1, 4], [2, 5]]), rng.uniform(0.1, 3.0, 7))
    rand = (7, np.array([[0, 2], [1, 2], [2, 3], [3, 5], [0, 5], [1, 4]]), np.array([0.7, 0.0, 1.3, 2.2, 0.4, 1.0]))
    return [path, grid, rand]


def _array(out: Any, shape: tuple[int, ...], where: str) -> np.ndarray | str:
    try:
        arr = np.asarray(out.detach().cpu().numpy() if hasattr(out, "detach") else out, dtype=np.float64)
    except (TypeError, ValueError):
        return f"return a numpy array, got {type(out).__name__} {where}"
    if arr.shape != shape:
        return f"return shape {shape}, got {arr.shape} {where}"
    return arr


@checker
def check_laplacian(fn: Callable[[int, np.ndarray, np.ndarray], Any]) -> bool:
    """Exercise 1: ``fn(n_nodes, edges, w)`` returns the (K, K) Laplacian L(W) = diag(W·1) − W of the symmetric W
    with ``W[i, j] = W[j, i] = w[e]`` for edge ``e = (i, j)``; compared with :func:`effdl.learning.lrsm.laplacian`
    on three graphs, and ½ tr(ΘᵀLΘ) with ½ Σ_e w_e ‖θ_i − θ_j‖²."""
    for k, edges, w in _graphs():
        where = f"(graph with K = {k}, edges {edges.tolist()})"
        try:
            out = _attempt(fn, k, edges.copy(), w.copy())
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {str(err)[:120]} {where}")
        got = _array(out, (k, k), where)
        if isinstance(got, str):
            return _verdict(False, "", got)
        want = laplacian(k, edges, w)
        if np.allclose(got, want, atol=1e-10):
            continue
        wmat = np.diag(np.diag(want)) - want
        if np.allclose(got, -want, atol=1e-10):
            return _verdict(False, "", f"the signs are flipped: L = D − W (degrees on the diagonal, −w off it) {where}")
        if np.allclose(got, np.diag(np.diag(want)) + wmat, atol=1e-10):
            return _verdict(
                False, "", f"that is D + W (the signless Laplacian); the off-diagonal entries are −W_ij {where}"
            )
        if not np.allclose(got, got.T, atol=1e-10):
            return _verdict(False, "", f"L must be symmetric: each edge sets both W[i, j] and W[j, i] {where}")
        if np.allclose(np.diag(got), 2 * np.diag(want), atol=1e-10):
            return _verdict(
                False, "", f"the degrees are doubled: D_ii = Σ_j W_ij counts each edge once per end {where}"
            )
        if not np.allclose(got.sum(axis=1), 0, atol=1e-9):
            return _verdict(False, "", f"the rows of L must sum to 0 (D_ii = Σ_j W_ij) {where}")
        return _verdict(False, "", f"L differs from diag(W·1) − W by up to {np.abs(got - want).max():.3g} {where}")
    k, edges, w = _graphs()[1]
    theta = np.random.default_rng(1).normal(size=(k, 3))
    quad = 0.5 * np.trace(theta.T @ laplacian(k, edges, w) @ theta)
    pairs = 0.5 * sum(we * np.sum((theta[i] - theta[j]) ** 2) for (i, j), we in zip(edges, w, strict=True))
    return _verdict(
        True,
        f"your L matches on {len(_graphs())} graphs; on the 2×3 grid ½ tr(ΘᵀLΘ) = {quad:.4f} = ½ Σ_e w_e ‖θ_i − θ_j‖²"
        f" = {pairs:.4f}.",
        "",
    )


@checker
def check_prox_w(fn: Callable[[np.ndarray, float, float, float], Any]) -> bool:
    """Exercise 2: ``fn(v, step, lam2, eta)`` is the proximal step on the edge weights (E,) of the package's
    non-smooth part λ₂η‖W‖₁ + ι(W ≥ 0) = 2λ₂η Σ_e w_e + ι(w ≥ 0): ``max(v − 2·step·λ₂·η, 0)``."""
    rng = np.random.default_rng(0)
    trials = [
        (rng.normal(size=9), 0.3, 0.5, 0.4),
        (rng.normal(size=5) * 2, 1.0, 2.0, 1.0),
        (np.abs(rng.normal(size=6)), 0.05, 0.1, 0.0),
    ]
    for v, step, lam2, eta in trials:
        where = f"(step {step}, λ₂ {lam2}, η {eta})"
        try:
            out = _attempt(fn, v.copy(), step, lam2, eta)
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {str(err)[:120]} {where}")
        got = _array(out, v.shape, where)
        if isinstance(got, str):
            return _verdict(False, "", got)
        want = np.maximum(v - 2 * step * lam2 * eta, 0.0)
        if np.allclose(got, want, atol=1e-12):
            continue
        t = step * lam2 * eta
        if np.allclose(got, np.maximum(v - t, 0.0), atol=1e-12):
            return _verdict(
                False, "", f"the shift is 2·step·λ₂·η: ‖W‖₁ counts every edge twice (W_ij and W_ji) {where}"
            )
        if np.allclose(got, v - 2 * t, atol=1e-12) or np.allclose(got, v - t, atol=1e-12):
            return _verdict(False, "", f"after the shift, clip at 0: the weights must stay ≥ 0 {where}")
        if np.allclose(got, np.maximum(v, 0.0), atol=1e-12):
            return _verdict(
                False, "", f"you clipped but did not shift: the ℓ₁ term moves every weight down first {where}"
            )
        soft = np.sign(v) * np.maximum(np.abs(v) - 2 * t, 0.0)
        if np.allclose(got, soft, atol=1e-12):
            return _verdict(
                False,
                "",
                f"that is the two-sided soft threshold; negative weights are not allowed, clip them at 0 {where}",
            )
        return _verdict(
            False, "", f"your step differs from max(v − 2·step·λ₂·η, 0) by up to {np.abs(got - want).max():.3g} {where}"
        )
    return _verdict(True, "shift by 2·step·λ₂·η, then clip at 0: weights that the shift takes below 0 are cut.", "")


def _resistance(k: int, edges: np.ndarray, w: np.ndarray, mu: float) -> tuple[np.ndarray, np.ndarray]:
    inv = np.linalg.inv(mu * np.eye(k) + laplacian(k, edges, w))
    i, j = edges[:, 0], edges[:, 1]
    return inv[i, i] + inv[j, j] - 2 * inv[i, j], inv


@checker
def check_logdet_gradient(fn: Callable[[int, np.ndarray, np.ndarray, float], Any]) -> bool:
    """Exercise 3: ``fn(n_nodes, edges, w, mu)`` returns ∂ log det(μI + L(W)) / ∂w_e for every edge (E,):
    (e_i − e_j)ᵀ(μI + L)⁻¹(e_i − e_j), the effective resistance of edge e in μI + L; compared on three graphs
    and two μ."""
    for (k, edges, w), mu in zip(_graphs(2), (1.0, 0.1, 0.5), strict=True):
        where = f"(K = {k}, μ = {mu})"
        try:
            out = _attempt(fn, k, edges.copy(), w.copy(), mu)
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {str(err)[:120]} {where}")
        got = _array(out, (len(edges),), where)
        if isinstance(got, str):
            return _verdict(False, "", got)
        want, inv = _resistance(k, edges, w, mu)
        if np.allclose(got, want, rtol=1e-6, atol=1e-9):
            continue
        i, j = edges[:, 0], edges[:, 1]
        if np.allclose(got, -want, rtol=1e-6, atol=1e-9):
            return _verdict(False, "", f"the sign: adding weight raises log det (L grows in the PSD order) {where}")
        if np.allclose(got, inv[i, i] + inv[j, j], rtol=1e-6, atol=1e-9):
            return _verdict(False, "", f"you left out the cross term −2[(μI + L)⁻¹]_ij {where}")
        if np.allclose(got, 2 * want, rtol=1e-6, atol=1e-9) or np.allclose(got, 0.5 * want, rtol=1e-6, atol=1e-9):
            return _verdict(
                False, "", f"off by a factor 2: ∂L/∂w_e = (e_i − e_j)(e_i − e_j)ᵀ, and ∂ log det M = tr(M⁻¹ ∂M) {where}"
            )
        if np.allclose(got, inv[i, j], rtol=1e-6, atol=1e-9) or np.allclose(got, -2 * inv[i, j], rtol=1e-6):
            return _verdict(False, "", f"use the whole quadratic form (e_i − e_j)ᵀ M⁻¹ (e_i − e_j) {where}")
        return _verdict(
            False,
            "",
            f"your gradient differs from (e_i − e_j)ᵀ(μI + L)⁻¹(e_i − e_j) by up to "
            f"{np.abs(got - want).max():.3g} {where}",
        )
    return _verdict(
        True,
        "∂ log det(μI + L)/∂w_e = (e_i − e_j)ᵀ(μI + L)⁻¹(e_i − e_j) > 0: every edge's effective "
        "resistance, largest for the edges the rest of the graph cannot replace.",
        "",
    )


@checker
def check_lrsm_lam2(answer: float | None, explorer: Any, tol: float = 5e-5) -> bool:
    """Try it (graph_explorer): the grid value with the lowest **validation** loss in ``explorer.table``. Values
    whose validation loss is within ``tol`` of the lowest (the readout shows 4 decimals) are accepted too."""
    if _missing(answer):
        return False
    grid = sorted(explorer.table)
    got = _number(answer)
    match = [v for v in grid if got is not None and math.isclose(v, got, rel_tol=1e-6)]
    if not match:
        return _verdict(False, "", f"give one of the slider's values {[f'{v:g}' for v in grid]}, got {answer!r}")
    v = match[0]
    val, test = {g: explorer.table[g][0] for g in grid}, {g: explorer.table[g][1] for g in grid}
    best = min(grid, key=lambda g: val[g])
    if val[v] <= val[best] + tol:
        return _verdict(
            True,
            f"{v:g}: validation loss {val[v]:.4f} (the lowest {val[best]:.4f}); its test loss is {test[v]:.4f}.",
            "",
        )
    if v == min(grid, key=lambda g: test[g]):
        return _verdict(
            False, "", f"{v:g} has the lowest test loss; choose on validation (the test split only reports)."
        )
    if v == grid[-1]:
        return _verdict(
            False,
            "",
            f"{v:g} is the largest value: there W is pinned to W₀ (the fixed graph); read the "
            "validation loss at every position.",
        )
    return _verdict(False, "", f"{v:g} has validation loss {val[v]:.4f}; another position is lower.")
