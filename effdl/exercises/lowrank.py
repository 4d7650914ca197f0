"""Checkers for low-rank factorization (chapter 02): factor parameters, truncated SVD, and the rank explorer's task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from effdl.exercises._common import _attempt, _missing, _verdict, checker

__all__ = ["check_lowrank_params", "check_rank_within", "check_truncated_svd"]


@checker
def check_lowrank_params(
    params: int | float | None,
    largest_saving_rank: int | float | None,
    *,
    in_features: int = 784,
    out_features: int = 256,
    rank: int = 32,
) -> bool:
    """Exercise (chapter 02): (1) the weights of ``nn.Linear(in_features, out_features)`` factorized at ``rank``
    (two thinner layers, biases not counted), (2) the largest rank whose factorization still has fewer weights
    than the dense ``in × out`` matrix."""
    if _missing(params) or _missing(largest_saving_rank):
        return False
    from effdl.compress.lowrank import factorized_params

    m, n = out_features, in_features
    truth = factorized_params(nn.Linear(n, m, bias=False), rank)
    # r·(m + n) < m·n  <=>  r < m·n / (m + n): the largest such integer
    break_even = -(-m * n // (m + n)) - 1
    ok_params = params == truth
    ok_rank = largest_saving_rank == break_even
    if not ok_params:
        return _verdict(
            False,
            "",
            f"you said {params:,} weights; rank {rank} means a {n}→{rank} layer and a {rank}→{m} layer.",
        )
    return _verdict(
        ok_rank,
        f"{truth:,} weights = r·(m + n) instead of m·n = {m * n:,}; the factorization saves weights while "
        f"r < m·n/(m + n) = {m * n / (m + n):.2f}, i.e. up to rank {break_even} (of {min(m, n)}).",
        f"{truth:,} weights is right; but rank {largest_saving_rank} is not the largest saving one — solve "
        f"r·(m + n) < m·n for the largest integer r.",
    )


@checker
def check_truncated_svd(
    fn: Callable[[torch.Tensor, int], torch.Tensor] | None, *, trials: int = 30, seed: int = 0
) -> bool:
    """Exercise (chapter 02): ``fn(A, r)`` returns the best rank-r approximation of the matrix ``A`` (m, n).

    Compared, on random float64 matrices of random shapes (some rank-deficient), with the Eckart–Young optimum:
    the Frobenius error of the best rank-r matrix is ``sqrt(sum(σ[r:]²))``; the answer must have rank ≤ r and
    reach that error (relative tolerance 1e-6)."""
    if _missing(fn):
        return False
    if not callable(fn):
        raise TypeError(f"fn must be a function (A, r) -> matrix, got {type(fn).__name__}")
    gen = torch.Generator().manual_seed(seed)
    for t in range(trials):
        m, n = (int(v) for v in torch.randint(2, 12, (2,), generator=gen))
        k = min(m, n)
        a = torch.randn(m, n, generator=gen, dtype=torch.float64)
        if t % 5 == 4:  # rank-deficient: the optimum error at r >= rank is zero
            a = a[:, :1] @ torch.randn(1, n, generator=gen, dtype=torch.float64) + a[:, 1:2] @ a[1:2, :]
        r = int(torch.randint(1, k + 1, (1,), generator=gen))
        try:
            got = torch.as_tensor(_attempt(fn, a.clone(), r), dtype=torch.float64)
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {err} on a {m}×{n} matrix, r={r}")
        if got.shape != a.shape:
            return _verdict(
                False, "", f"for a {m}×{n} matrix and r={r} you returned shape {tuple(got.shape)}, expected {(m, n)}"
            )
        s = torch.linalg.svdvals(a)
        best = float(s[r:].square().sum().sqrt())
        err = float(torch.linalg.matrix_norm(a - got))
        got_rank = int(torch.linalg.matrix_rank(got, rtol=1e-9))
        if got_rank > r:
            return _verdict(False, "", f"for r={r} your {m}×{n} matrix has rank {got_rank}: keep only r components")
        if err > best * (1 + 1e-6) + 1e-9:
            return _verdict(
                False,
                "",
                f"on a {m}×{n} matrix at r={r} your error is {err:.6g}, the optimum is {best:.6g}: keep the r LARGEST "
                "singular values with their own singular vectors (columns of U, rows of Vh), U[:, :r] · diag(S[:r]) "
                "· Vh[:r].",
            )
    return _verdict(
        True,
        f"your approximation reaches the Eckart–Young optimum sqrt(Σ σᵢ², i > r) on {trials} random matrices.",
        "",
    )


@checker
def check_rank_within(answer: int | None, explorer: Any, *, layer: str | None = None, points: float = 1.0) -> bool:
    """Try it (chapter 02, ``widgets.lowrank_explorer``): the smallest rank of ``layer`` (default the explorer's
    first layer) whose factorization keeps the test accuracy within ``points`` of the unfactorized model.

    The truth is read off the explorer's own accuracy-against-rank curve (``explorer.curve(layer)``): the smallest
    rank on it with accuracy ≥ ``explorer.dense_accuracy − points``. A smaller rank found with the slider between
    the curve's points is also right when the explorer's own evaluation at that rank (``explorer.accuracy_at``)
    keeps the accuracy within ``points``.
    """
    if _missing(answer):
        return False
    name = explorer.layers[0] if layer is None else layer
    ranks, accs = explorer.curve(name)
    floor = explorer.dense_accuracy - points
    ok = [r for r, a in zip(ranks, accs, strict=True) if a >= floor]
    truth = min(ok) if ok else max(ranks)
    full = max(ranks)
    if isinstance(answer, bool) or not isinstance(answer, int | float) or answer != int(answer):
        return _verdict(False, "", f"give a whole rank between 1 and {full}, got {answer!r}")
    r = int(answer)
    if not 1 <= r <= full:
        return _verdict(False, "", f"{name} has ranks 1..{full}; {r} is outside that range.")
    where = f"{name}: unfactorized {explorer.dense_accuracy:.2f}%, so the target is ≥ {floor:.2f}%"
    if r == truth:
        acc = accs[ranks.index(r)]
        return _verdict(True, f"rank {r} of {full} ({acc:.2f}%) is the smallest point on the curve ({where}).", "")
    acc = explorer.accuracy_at(name, r)
    if acc < floor:
        below = f"at rank {r} the accuracy is {acc:.2f}%, more than {points:g} point(s) below ({where})"
        if r < truth:
            return _verdict(False, "", below + "; move the rank up until the readout reaches the target.")
        return _verdict(False, "", below + "; the curve is not monotone: check the points near your rank.")
    if r < truth:
        return _verdict(True, f"rank {r} ({acc:.2f}%) keeps it too, found between the curve's points ({where}).", "")
    energy = explorer.energies(name)
    kept = 100 * energy[r - 1]
    return _verdict(
        False,
        "",
        f"rank {r} keeps the accuracy ({acc:.2f}%, {kept:.0f}% of the energy), but a smaller rank does too: move "
        f"the slider down, or hover over the curve's points, and find the smallest one still ≥ {floor:.2f}%.",
    )
