"""Checkers for the notebooks' exercises: call one with your answer (or your function) and it tells you whether it
is right, with a hint when it is not. Each returns ``True``/``False`` so a notebook cell can also assert on it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import torch
from torch import nn

from effdl.core.footprint import count_flops, pareto_front

__all__ = [
    "LZSS_DECODE_TOKENS",
    "check_affine_qparams",
    "check_conv_macs",
    "check_coupling_inverse",
    "check_csr_bits",
    "check_kd_loss",
    "check_linear_macs",
    "check_lowrank_params",
    "check_lzss_blob_size",
    "check_lzss_decode",
    "check_magnitude_prune",
    "check_pareto_front",
    "check_range_penalties",
    "check_refresh_count",
    "check_soft_max_min",
    "check_softened",
    "check_symmetric_quantize",
    "check_transformer_params",
    "check_truncated_svd",
    "check_unigram_entropy",
    "lzss_exercise_input",
]


def _missing(answer: object) -> bool:
    if answer is None or answer is Ellipsis:
        print("✏️  fill in your answer (replace None) and run the cell again")
        return True
    return False


def _verdict(ok: bool, good: str, hint: str) -> bool:
    print(("✅ " + good) if ok else ("❌ not yet — " + hint))
    return ok


def check_linear_macs(answer: int | float | None, *, in_features: int = 784, out_features: int = 256) -> bool:
    """Exercise: multiply-accumulates of one ``nn.Linear(in_features, out_features)`` for one input sample."""
    if _missing(answer):
        return False
    truth = count_flops(nn.Linear(in_features, out_features), torch.zeros(1, in_features)).macs
    return _verdict(
        answer == truth,
        f"{truth:,} MACs: every output is a dot product of length {in_features}.",
        f"you said {answer:,}; each of the {out_features} outputs needs {in_features} multiply-adds "
        "(the bias add is not counted as a MAC).",
    )


def check_conv_macs(
    answer: int | float | None,
    *,
    in_channels: int = 16,
    out_channels: int = 32,
    kernel_size: int = 3,
    size: int = 14,
) -> bool:
    """Exercise: MACs of a ``Conv2d(in, out, k, padding=k//2)`` on one ``(in, size, size)`` input."""
    if _missing(answer):
        return False
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
    truth = count_flops(conv, torch.zeros(1, in_channels, size, size)).macs
    return _verdict(
        answer == truth,
        f"{truth:,} MACs = out_channels × H × W × in_channels × k².",
        f"you said {answer:,}; every one of the {out_channels}×{size}×{size} outputs is a sum over "
        f"{in_channels}×{kernel_size}×{kernel_size} products.",
    )


def check_pareto_front(
    fn: Callable[[Sequence[tuple[float, float]]], Sequence[int]] | None, *, trials: int = 200, seed: int = 0
) -> bool:
    """Exercise: ``fn(points)`` returns the indices of the (size ↓, accuracy ↑) Pareto-optimal points.

    Compared with :func:`effdl.core.footprint.pareto_front` on ``trials`` random point sets (order ignored).
    """
    if _missing(fn):
        return False
    if not callable(fn):
        raise TypeError(f"fn must be a function points -> indices, got {type(fn).__name__}")
    rng = random.Random(seed)
    for t in range(trials):
        n = rng.randint(1, 12)
        # Small integer grids make ties and duplicates common: the cases that catch wrong answers.
        pts = [(float(rng.randint(0, 6)), float(rng.randint(0, 6))) for _ in range(n)]
        want = sorted(pareto_front(pts, maximize=(False, True)))
        try:
            got = sorted(int(i) for i in fn(pts))
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {err} on points {pts}")
        if got != want:
            return _verdict(
                False,
                "",
                f"on points {pts} (trial {t + 1}) you returned {got}, the frontier is {want}. Remember: a point "
                "is dominated if another is no larger AND no less accurate, and strictly better in one; of exact "
                "duplicates keep the first.",
            )
    return _verdict(True, f"your frontier matches on {trials} random point sets, ties and duplicates included.", "")


# ----------------------------------------------------------------------------------------------------------
# Pruning (chapter 01)


def check_magnitude_prune(
    fn: Callable[[torch.Tensor, float], torch.Tensor] | None, *, trials: int = 50, seed: int = 0
) -> bool:
    """Exercise: ``fn(w, sparsity)`` returns a copy of ``w`` with the ``round(sparsity * w.numel())``
    smallest-magnitude entries set to zero. Compared with ``torch.nn.utils.prune.l1_unstructured`` on ``trials``
    random tensors (1-D to 4-D, sparsities from 0 to 0.99)."""
    from torch.nn.utils import prune

    if _missing(fn):
        return False
    if not callable(fn):
        raise TypeError(f"fn must be a function (w, sparsity) -> pruned w, got {type(fn).__name__}")
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    shapes = [(7,), (5, 8), (4, 3, 3, 3), (16, 10)]
    for t in range(trials):
        shape = shapes[t % len(shapes)]
        s = [0.0, 0.5, 0.9, 0.99][t] if t < 4 else round(rng.uniform(0, 0.99), 2)
        w = torch.randn(shape, generator=gen)
        want = w * prune.L1Unstructured(amount=s).compute_mask(w, default_mask=torch.ones_like(w))
        try:
            got = fn(w.clone(), s)
        except NotImplementedError:
            print("✏️  not yet: replace `raise NotImplementedError` with your code and run the cell again")
            return False
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {err} (w of shape {shape})")
        if not isinstance(got, torch.Tensor) or got.shape != w.shape:
            got_shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            return _verdict(False, "", f"return a tensor shaped like w {tuple(w.shape)}, got {got_shape}")
        if not torch.equal(got, want):
            k, zeros = int((want == 0).sum()), int((got == 0).sum())
            return _verdict(
                False,
                "",
                f"w of shape {shape} at sparsity {s} (trial {t + 1}): expected {k} zeros (round(sparsity × numel)), "
                f"you have {zeros}"
                + ("; the count is right but not the entries: rank by |w|, not w" if k == zeros else "")
                + ". Keep the other entries unchanged.",
            )
    return _verdict(True, f"your pruning matches torch.nn.utils.prune on {trials} random tensors.", "")


def check_csr_bits(
    answer: int | float | None,
    *,
    rows: int = 128,
    cols: int = 256,
    nonzero: int = 3277,
    value_bits: int = 32,
    index_bits: int = 32,
) -> bool:
    """Exercise: bits to store a ``rows × cols`` weight matrix with ``nonzero`` non-zeros in CSR format
    (``value_bits`` per value, ``index_bits`` per column index and row pointer), as
    ``effdl.core.footprint.tensor_bits(storage="csr")`` counts them."""
    from effdl.core.footprint import tensor_bits

    if _missing(answer):
        return False
    w = torch.zeros(rows * cols)
    w[:nonzero] = 1.0
    truth = tensor_bits(w.reshape(rows, cols), storage="csr", value_bits=value_bits, index_bits=index_bits)
    dense = rows * cols * value_bits
    return _verdict(
        answer == truth,
        f"{truth:,} bits = {nonzero:,} × ({value_bits} + {index_bits}) + ({rows} + 1) × {index_bits}; "
        f"dense takes {dense:,}, {dense / truth:.1f}× more.",
        f"you said {answer:,}; every non-zero needs its value and its column index, and the row-pointer array has "
        f"one entry per row plus one.",
    )


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
            got = torch.as_tensor(fn(a.clone(), r), dtype=torch.float64)
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


# ----------------------------------------------------------------------------------------------------------
# Distillation (chapter 03)


def check_softened(
    answer: Sequence[float] | torch.Tensor | None,
    *,
    logits: Sequence[float] = (3.0, 1.0, 0.2),
    T: float = 2.0,
    tol: float = 1e-3,
) -> bool:
    """Exercise: the softened probabilities ``softmax(logits / T)`` of ``logits`` at temperature ``T``, by hand.

    ``answer``: one probability per logit, as fractions (summing to 1); within ``tol`` of the truth counts as right.
    """
    from effdl.compress.distill import soften

    if _missing(answer):
        return False
    truth = soften(torch.tensor(logits, dtype=torch.float64), T).tolist()
    try:
        got = [float(v) for v in (answer.tolist() if isinstance(answer, torch.Tensor) else answer)]
    except (TypeError, ValueError):
        return _verdict(False, "", f"give one number per logit (a list of {len(truth)}), got {answer!r}")
    if len(got) != len(truth):
        return _verdict(False, "", f"give one probability per logit: {len(truth)} numbers, got {len(got)}")
    shown = ", ".join(f"{p:.4f}" for p in truth)
    if all(abs(g - t) <= tol for g, t in zip(got, truth, strict=True)):
        return _verdict(True, f"softmax({list(logits)} / {T:g}) = ({shown}).", "")
    plain = soften(torch.tensor(logits, dtype=torch.float64), 1.0).tolist()
    if all(abs(g - t) <= tol for g, t in zip(got, plain, strict=True)):
        return _verdict(False, "", f"that is the ordinary softmax (T = 1); divide every logit by T = {T:g} first.")
    if abs(sum(got) - 1.0) > 10 * tol:
        return _verdict(False, "", f"your numbers sum to {sum(got):.4f}; probabilities sum to 1 (normalize by Σ exp).")
    if abs(sum(got) - 100.0) < 1:
        return _verdict(False, "", "give fractions (summing to 1), not percentages.")
    return _verdict(False, "", f"you said {[round(g, 4) for g in got]}; compute exp(z_i / T) / Σ_j exp(z_j / T).")


def check_kd_loss(
    fn: Callable[..., torch.Tensor] | None, *, trials: int = 20, seed: int = 0, rtol: float = 1e-4
) -> bool:
    """Exercise: ``fn(student_logits, teacher_logits, targets, T, alpha)`` returns Hinton's distillation loss.

    Compared with :func:`effdl.compress.distill.kd_loss` (``alpha · T² · KL(p_t ‖ p_s) + (1 − alpha) · CE``, KL
    summed over classes and averaged over the batch) on ``trials`` random (N, C) batches, temperatures and weights.
    Common slips (no T², the KL reversed, alpha on the wrong term, soft cross-entropy instead of KL) get a hint.
    """
    import torch.nn.functional as F

    from effdl.compress.distill import kd_loss

    if _missing(fn):
        return False
    if not callable(fn):
        raise TypeError(f"fn must be a function (student_logits, teacher_logits, targets, T, alpha), got {fn!r}")
    gen = torch.Generator().manual_seed(seed)
    for trial in range(trials):
        n, c = int(torch.randint(2, 9, (1,), generator=gen)), int(torch.randint(2, 11, (1,), generator=gen))
        s, t = 3 * torch.randn(n, c, generator=gen), 3 * torch.randn(n, c, generator=gen)
        y = torch.randint(0, c, (n,), generator=gen)
        T = [1.0, 2.0, 4.0, 7.5][trial % 4]
        alpha = [0.5, 0.9, 0.3, 0.0, 1.0][trial % 5]
        want = kd_loss(s, t, y, T=T, alpha=alpha).item()
        try:
            got = fn(s.clone(), t.clone(), y.clone(), T, alpha)
            got = float(got.item() if isinstance(got, torch.Tensor) else got)
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {err}")
        if abs(got - want) <= rtol * max(1.0, abs(want)):
            continue
        ls, lt = F.log_softmax(s / T, -1), F.log_softmax(t / T, -1)
        kl = (lt.exp() * (lt - ls)).sum(-1).mean().item()
        kl_rev = (ls.exp() * (ls - lt)).sum(-1).mean().item()
        soft_ce = -(lt.exp() * ls).sum(-1).mean().item()
        ce = F.cross_entropy(s, y).item()
        hard, T2 = (1 - alpha) * ce, T * T
        summed = alpha * T2 * kl * n + hard
        slips = {
            "the soft term lacks the T² factor": alpha * kl + hard,
            "the KL is reversed: use KL(teacher ‖ student) = Σ p_t (log p_t − log p_s)": alpha * T2 * kl_rev + hard,
            "alpha weighs the wrong term: alpha goes with the soft (teacher) term": (1 - alpha) * T2 * kl + alpha * ce,
            "you used the soft cross-entropy −Σ p_t log p_s; subtract the teacher's entropy to get the KL (same "
            "gradients, but the KL is 0 when the student matches the teacher)": alpha * T2 * soft_ce + hard,
            "the KL is summed over the batch; average it over the N examples (reduction='batchmean')": summed,
        }
        for hint, value in slips.items():
            if abs(got - value) <= rtol * max(1.0, abs(value)):
                return _verdict(False, "", hint + f" (trial {trial + 1}: T={T:g}, alpha={alpha:g})")
        return _verdict(
            False,
            "",
            f"on a ({n}, {c}) batch with T={T:g}, alpha={alpha:g} you returned {got:.6f}, expected {want:.6f}. "
            "Loss = alpha · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − alpha) · cross_entropy(s, y).",
        )
    return _verdict(True, f"your loss matches kd_loss on {trials} random batches, temperatures and weights.", "")


def check_affine_qparams(
    answer: Sequence[float] | None, *, lo: float = -1.0, hi: float = 3.0, bits: int = 8, tol: float = 1e-6
) -> bool:
    """Exercise: ``(scale, zero_point)`` of the affine ``bits``-bit quantizer (codes ``0..2**bits - 1``) whose range
    is ``[lo, hi]``, by hand; the truth is :func:`effdl.compress.quant.calibrate` on ``[lo, hi]``."""
    from effdl.compress.quant import calibrate

    if _missing(answer):
        return False
    qp = calibrate(torch.tensor([lo, hi]), bits=bits, symmetric=False)
    scale, zp = float(qp.scale), int(qp.zero_point)
    try:
        got_scale, got_zp = (float(v) for v in answer)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return _verdict(False, "", f"give a pair (scale, zero_point), got {answer!r}")
    levels = 2**bits - 1
    if abs(got_scale - scale) <= tol * max(1.0, scale) and got_zp == zp:
        return _verdict(
            True,
            f"scale = ({hi:g} − ({lo:g})) / {levels} = {scale:.6f} and zero_point = round({-lo:g} / scale) = {zp}: "
            f"the code {zp} stands for exactly 0.0.",
            "",
        )
    if abs(got_scale - (hi - lo) / 2**bits) <= tol:
        return _verdict(False, "", f"{bits} bits give {2**bits} codes but only {levels} steps between them.")
    if abs(got_scale - scale) > tol * max(1.0, scale):
        return _verdict(False, "", f"scale {got_scale:g} is off: spread the range hi − lo over the {levels} steps.")
    if abs(got_zp - (-lo / scale)) < 1 and got_zp != zp:
        return _verdict(False, "", f"zero_point must be an integer code: round {-lo / scale:.2f}, do not truncate it.")
    return _verdict(False, "", f"zero_point {got_zp} is off: it is the code of real 0, round(−lo / scale).")


def check_symmetric_quantize(fn: Callable[[torch.Tensor, int], torch.Tensor] | None, *, trials: int = 5) -> bool:
    """Exercise: ``fn(x, bits)`` returns the symmetric per-tensor min-max integer codes of a float tensor ``x`` on
    the *restricted* grid (``scale = max|x| / (2**(bits-1) - 1)``, codes ``round(x / scale)`` clamped to
    ``±(2**(bits-1) - 1)``, as int8 kernels use), compared with :func:`effdl.compress.quant.quantize` on random tensors
    (bits 2..8)."""
    from effdl.compress.quant import calibrate, quantize

    if _missing(fn):
        return False
    gen = torch.Generator().manual_seed(0)
    for trial in range(trials):
        bits = 2 + trial % 7
        x = torch.randn(257, generator=gen) * (0.1 + trial)
        truth = quantize(x, calibrate(x, bits=bits, symmetric=True, grid="restricted")).long()
        try:
            got = torch.as_tensor(fn(x.clone(), bits))
        except NotImplementedError:
            return _verdict(False, "", "replace `raise NotImplementedError` with your code.")
        except Exception as exc:  # the student's code may fail in any way: report it, do not crash the checker
            return _verdict(False, "", f"your function raised {type(exc).__name__}: {exc}")
        if got.shape != x.shape:
            return _verdict(False, "", f"return one code per element: shape {tuple(x.shape)}, got {tuple(got.shape)}")
        if got.is_floating_point() and not torch.equal(got, got.round()):
            return _verdict(False, "", "codes are integers: round x / scale.")
        got = got.long()
        if torch.equal(got, truth):
            continue
        qmax = 2 ** (bits - 1) - 1
        amax = x.abs().max()
        if torch.equal(got, torch.clamp(torch.round(x / (amax / 2 ** (bits - 1))), -qmax - 1, qmax).long()):
            hint = f"divide max|x| by 2**(bits-1) − 1 = {qmax}, not by 2**(bits-1): the range is symmetric."
        elif torch.equal(got, torch.floor(x / (amax / qmax)).long()):
            hint = "use round, not floor (or int(), which truncates toward zero)."
        elif torch.equal(got, torch.trunc(x / (amax / qmax)).long()):
            hint = "use round, not int()/trunc, which truncates toward zero."
        elif int(got.max()) > qmax or int(got.min()) < -qmax:
            hint = f"codes must stay within ±{qmax} for {bits} bits: clamp them."
        else:
            wrong = int((got != truth).sum())
            hint = (
                f"{wrong} of {x.numel()} codes differ at {bits} bits; scale = max|x| / {qmax}, "
                "codes = round(x / scale)."
            )
        return _verdict(False, "", hint + f" (trial {trial + 1}, bits={bits})")
    return _verdict(
        True, f"your codes match effdl.compress.quant.quantize on {trials} tensors (2..{1 + trials} bits).", ""
    )


# ----------------------------------------------------------------------------------------------------------
# Range regularization (chapter 05)

R2_WEIGHT = ((0.4, -1.5), (0.9, -0.2))  # the 2×2 weight of exercise 1


def check_range_penalties(
    linf: float | None,
    margin: float | None,
    *,
    weight: Sequence[Sequence[float]] = R2_WEIGHT,
    M: float = 0.5,
    tol: float = 1e-3,
) -> bool:
    """Exercise: the L∞ penalty ``max|W|`` and the margin penalty ``Σ relu(|W| − |M|)² + |M|`` of ``weight`` by
    hand (strength λ = 1). Compared with :class:`~effdl.compress.range_reg.LInfRegularizer` and
    :class:`~effdl.compress.range_reg.MarginRegularizer` (margin fixed at ``M``); common slips get a hint."""
    from effdl.compress.range_reg import LInfRegularizer, MarginRegularizer

    if _missing(linf) or _missing(margin):
        return False
    try:
        got_linf, got_margin = float(linf), float(margin)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _verdict(False, "", f"give two numbers, got linf={linf!r}, margin={margin!r}")
    w = torch.tensor(weight, dtype=torch.float64)
    layer = nn.Linear(w.shape[1], w.shape[0], bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(w)
    want_linf = LInfRegularizer(layer, strength=1.0)(layer).item()
    want_margin = MarginRegularizer(layer, strength=1.0, init=float(M))(layer).item()
    ok_linf = abs(got_linf - want_linf) <= tol
    ok_margin = abs(got_margin - want_margin) <= tol
    if ok_linf and ok_margin:
        return _verdict(True, f"L∞ = max|W| = {want_linf:g}; margin = {want_margin:g} (λ = 1, M = {M:g}).", "")
    if not ok_linf:
        linf_slips = {
            "take the largest absolute value, not the largest signed value": w.max().item(),
            "that is the L1 norm (the sum of |w|); L∞ is the single largest |w|": w.abs().sum().item(),
            "that is the range max − min; the L∞ penalty is max|w|": (w.max() - w.min()).item(),
        }
        for hint, value in linf_slips.items():
            if abs(got_linf - value) <= tol:
                return _verdict(False, "", f"L∞: {hint}.")
        return _verdict(False, "", f"L∞ = {got_linf:g} is not right: which weight has the largest |w|?")
    over = (w.abs() - M).clamp(min=0)
    margin_slips = {
        "you left out the + |M| term that makes the margin itself shrink": over.pow(2).sum().item(),
        "square each excess relu(|w| − M) before summing": over.sum().item() + M,
        "use |w|: negative weights beyond −M are outliers too": (w - M).clamp(min=0).pow(2).sum().item() + M,
    }
    for hint, value in margin_slips.items():
        if abs(got_margin - value) <= tol:
            return _verdict(False, "", f"L∞ is right; margin: {hint}.")
    return _verdict(
        False, "", f"L∞ is right; margin = {got_margin:g} is not: list relu(|w| − {M:g}) for every weight first."
    )


def check_soft_max_min(
    fn: Callable[[torch.Tensor, float], tuple[torch.Tensor, torch.Tensor]] | None,
    *,
    trials: int = 12,
    seed: int = 0,
    rtol: float = 1e-4,
) -> bool:
    """Exercise: ``fn(w, alpha) -> (smax, smin)``, the soft maximum ``Σ w_i e^{α w_i} / Σ e^{α w_j}`` and soft
    minimum (the same with ``−α``) over all entries of ``w``. Compared with
    :meth:`~effdl.compress.range_reg.SoftMinMaxRegularizer.soft_max_min` on random tensors, including large
    ``alpha`` where a naive ``exp`` overflows; the log-sum-exp "soft max" and swapped outputs get a hint."""
    from effdl.compress.range_reg import SoftMinMaxRegularizer

    if _missing(fn):
        return False
    if not callable(fn):
        raise TypeError(f"fn must be a function (w, alpha) -> (smax, smin), got {fn!r}")
    gen = torch.Generator().manual_seed(seed)
    for trial in range(trials):
        shape = [(5,), (3, 4), (2, 3, 3)][trial % 3]
        w = torch.randn(*shape, generator=gen) * [0.1, 1.0][trial % 2]
        alpha = [0.0, 1.0, 10.0, 100.0, 500.0, 2000.0][trial % 6]
        want = [v.item() for v in SoftMinMaxRegularizer.soft_max_min(w, torch.tensor(alpha))]
        try:
            out = fn(w.clone(), alpha)
            got = [float(v.item() if isinstance(v, torch.Tensor) else v) for v in out]
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {err}")
        if len(got) != 2:
            return _verdict(False, "", f"return two numbers (smax, smin), got {len(got)}")

        def close(a: float, b: float) -> bool:
            return abs(a - b) <= rtol * max(1.0, abs(b))

        if close(got[0], want[0]) and close(got[1], want[1]):
            continue
        where = f"(trial {trial + 1}: {tuple(shape)} weights, alpha = {alpha:g})"
        if any(v != v or v in (float("inf"), float("-inf")) for v in got):
            return _verdict(
                False, "", f"you returned {got} {where}: e^(α·w) overflows; subtract the max first (torch.softmax does)"
            )
        if close(got[0], want[1]) and close(got[1], want[0]):
            return _verdict(False, "", f"smax and smin are swapped {where}")
        flat = w.flatten().double()
        if alpha > 0:
            lse = (torch.logsumexp(alpha * flat, 0) / alpha).item(), (-torch.logsumexp(-alpha * flat, 0) / alpha).item()
            if close(got[0], lse[0]) and close(got[1], lse[1]):
                return _verdict(
                    False,
                    "",
                    "that is the log-sum-exp soft max (1/α)·log Σ e^(α·w); R² uses the softmax-weighted average "
                    f"Σ w_i·softmax(α·w)_i {where}",
                )
        return _verdict(
            False, "", f"you returned ({got[0]:.6f}, {got[1]:.6f}), expected ({want[0]:.6f}, {want[1]:.6f}) {where}"
        )
    return _verdict(True, f"your soft max and min match soft_max_min on {trials} tensors, α from 0 to 2000.", "")


def check_transformer_params(
    answer: int | float | None,
    *,
    vocab_size: int = 98,
    width: int = 64,
    depth: int = 2,
    context: int = 64,
    mlp_ratio: int = 4,
) -> bool:
    """Exercise: the number of parameters of a ``TinyTransformer`` (tied token embedding / LM head, learned
    position embedding, ``depth`` pre-norm blocks with biases, final LayerNorm) counted by hand; the truth is
    :meth:`effdl.core.models.TinyTransformer.param_count_formula`."""
    from effdl.core.models import TinyTransformer

    if _missing(answer):
        return False
    truth = TinyTransformer.param_count_formula(vocab_size, width, depth, context, mlp_ratio)
    d, r = width, mlp_ratio
    good = f"{truth:,} parameters, of which {depth * ((4 + 2 * r) * d * d + (9 + r) * d):,} in the blocks."
    if answer == truth:
        return _verdict(True, good, "")
    slips = {
        truth + vocab_size * d: "the LM head shares its weight with the token embedding (tied): count it once.",
        truth - context * d: "the learned position embedding has context × width parameters too.",
        truth - depth * (9 + r) * d - 2 * d: "biases and LayerNorms count too (each LayerNorm has 2·width).",
        truth - 2 * d: "the final LayerNorm (2·width) is missing.",
        truth - depth * 4 * d: "each block has two LayerNorms of 2·width parameters each.",
    }
    hint = slips.get(int(answer), "")
    if not hint:
        hint = (
            f"you said {answer:,}. Per block: qkv (d → 3d) and the attention output (d → d) with biases, the MLP "
            f"(d → {r}d → d) with biases, two LayerNorms; plus the embeddings (vocab·d + context·d) and a final "
            "LayerNorm."
        )
    return _verdict(False, "", hint)


def check_unigram_entropy(answer: float | None, *, text: str = "abracadabra", tol: float = 1e-3) -> bool:
    """Exercise: the unigram entropy of ``text`` in bits per character, ``−Σ p(c) log2 p(c)`` over its characters'
    frequencies: the loss of the best model that ignores context. The truth is
    :func:`effdl.core.data.unigram_entropy_bits` of the encoded text."""
    import math

    from effdl.core.data import encode, unigram_entropy_bits

    if _missing(answer):
        return False
    truth = unigram_entropy_bits(encode(text))
    got = float(answer)  # type: ignore[arg-type]
    if abs(got - truth) <= tol:
        return _verdict(True, f"{truth:.4f} bits/char for {text!r}.", "")
    if abs(got - truth * math.log(2)) <= tol:
        return _verdict(False, "", "that is in nats (natural log): use log2 for bits.")
    if abs(got - math.log2(len(set(text)))) <= tol:
        return _verdict(False, "", "that assumes every character is equally likely; weight log2 p(c) by p(c).")
    return _verdict(False, "", f"you said {got:.4f}; count each character, p(c) = count / {len(text)}.")


# ----------------------------------------------------------------------------------------------------------
# LZSS for multi-byte data (chapter 09)

# (kind, length, offset) of the tokens the reader decodes by hand: S = 1 byte, the symbols are letters
LZSS_DECODE_TOKENS: tuple[tuple[str, ...] | tuple[str, int, int], ...] = (
    ("literal", "a"),
    ("literal", "b"),
    ("match", 5, 2),
    ("literal", "c"),
    ("match", 4, 4),
)


def _decode_by_hand(tokens: Sequence[tuple]) -> tuple[str, str]:
    """(the right decoding, the one a reader gets who copies each match from its source once, without overlap)."""
    out, once = "", ""
    for t in tokens:
        if t[0] == "literal":
            out, once = out + t[1], once + t[1]
        else:
            _, length, offset = t
            for _ in range(length):
                out += out[-offset]
            src = once[len(once) - offset :][:length]
            once += src
    return out, once


def check_lzss_decode(answer: str | bytes | None, *, tokens: Sequence[tuple] = LZSS_DECODE_TOKENS) -> bool:
    """Exercise: decode an LZSS token list by hand (S = 1: every symbol is one letter). ``tokens``: ``("literal",
    letter)`` or ``("match", length, offset)``. The checker compresses your answer with the codec (greedy parse,
    W = 255) and accepts it when the codec emits exactly these tokens."""
    if _missing(answer):
        return False
    from effdl.hardware import lzss

    text = answer.decode("latin-1") if isinstance(answer, bytes) else str(answer)
    right, once = _decode_by_hand(tokens)
    want = [(t[0], 1, 0) if t[0] == "literal" else (t[0], int(t[1]), int(t[2])) for t in tokens]
    blob = lzss.compress(text.encode("latin-1", "replace"), symbol_size=1, window=255, chunk=4096, backend="reference")
    got = [(t.kind, t.length, t.offset) for t in lzss.parse(blob)]
    if got == want:
        return _verdict(True, f"{text!r}: the codec encodes it as exactly these {len(want)} tokens.", "")
    if text == once:
        hint = (
            "a match copies one symbol at a time, so when its length is larger than its offset it re-reads what it "
            "has just written: (length 5, offset 2) after 'ab' gives 'ababa'."
        )
    elif len(text) != len(right):
        hint = (
            f"the output has {len(right)} symbols ({len(text)} in yours): a literal adds one, a match adds "
            "`length` symbols copied from `offset` symbols back."
        )
    else:
        hint = "the length is right; check each match's source: it starts `offset` symbols before the match."
    return _verdict(False, "", hint)


def lzss_exercise_input() -> bytes:
    """The blob-size exercise's input (:func:`check_lzss_blob_size`): a noisy uint16 staircase, 600 values (1,200
    bytes), and one odd byte."""
    import numpy as np

    rng = np.random.default_rng(9)
    steps = np.repeat(rng.integers(0, 40, 40), rng.integers(5, 25, 40))[:600]
    return np.concatenate([(steps + 1000).astype("<u2").view(np.uint8), np.array([7], np.uint8)]).tobytes()


def check_lzss_blob_size(
    answer: int | None, *, data: bytes | None = None, symbol_size: int = 2, window: int = 64, chunk: int = 512
) -> bool:
    """Exercise: the size in bytes of the blob of ``data`` (default: the notebook's 1,201-byte staircase) with the
    given S, W and C, computed from its token counts per chunk and the layout in
    :mod:`effdl.hardware.lzss.format`. The checker compresses ``data`` and compares with ``len(blob)``."""
    if _missing(answer):
        return False
    from effdl.hardware import lzss
    from effdl.hardware.lzss.format import chunk_stats

    raw = lzss_exercise_input() if data is None else bytes(data)
    blob = lzss.compress(raw, symbol_size=symbol_size, window=window, chunk=chunk)
    truth = len(blob)
    st = chunk_stats(blob)
    k, tail = len(st["symbols"]), len(raw) % symbol_size
    tokens = st["matches"] + st["literals"]
    hints = {
        truth - 8 * k: f"you left out the two tables: 4 + 4 bytes per chunk ({k} chunks).",
        truth - 4: "you left out the CRC32 at the end (4 bytes).",
        truth - 20: "you left out the 20-byte header.",
        truth - tail: f"you left out the raw tail ({tail} byte(s) that do not fill a symbol).",
        truth - int(st["flag_bytes"].sum()) + int(tokens.sum()): "a flag is one bit, not one byte: ceil(tokens / 8).",
        truth - int(st["flag_bytes"].sum()) + -(-int(tokens.sum()) // 8): "flag bytes are rounded up per chunk.",
        truth - int(st["literals"].sum()) * (symbol_size - 1): f"a literal is S = {symbol_size} bytes, not one.",
        truth + 2 * int(st["matches"].sum()): "a match is 2 bytes (length and offset), whatever S is.",
    }
    hint = hints.get(int(answer), "") if int(answer) != truth else ""
    return _verdict(
        int(answer) == truth,
        f"{truth:,} bytes = 20 (header) + {8 * k} (tables) + {int(st['flag_bytes'].sum())} (flags) + "
        f"{int(st['data_bytes'].sum()):,} (data) + {tail} (tail) + 4 (CRC).",
        f"you said {int(answer):,}. "
        + (
            hint
            or "add: header 20, tables 8 per chunk, flag bytes ceil(tokens/8) per chunk, S bytes per literal, "
            "2 per match, the tail and the CRC (4)."
        ),
    )


# ----------------------------------------------------------------------------------------------------------
# eDRAM and reversible networks (chapter 08)


def check_refresh_count(answer: int | None, *, lifetime_us: float = 11.0, retention_us: float = 3.35) -> bool:
    """Exercise: how many times must an eDRAM tensor that stays on chip ``lifetime_us`` µs be refreshed when the
    cells hold their charge ``retention_us`` µs? The simulator's per-tensor rule (:mod:`effdl.hardware.edram`,
    ``refresh="tensor"``): one refresh just before each retention period runs out, none for the last one, so
    ``ceil(t / R) − 1``. (Periodic bank refresh, the simulator's default, refreshes whole banks instead.)"""
    import math

    if _missing(answer):
        return False
    for name, v in (("lifetime_us", lifetime_us), ("retention_us", retention_us)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    periods = lifetime_us / retention_us
    truth = max(0, math.ceil(periods - 1e-9) - 1)
    if answer == truth:
        return _verdict(
            True,
            f"{truth} refreshes: the data lives {periods:.2f} retention periods; it is refreshed at the end of "
            f"each full one it outlives ({lifetime_us:g} µs / {retention_us:g} µs, rounded up, minus 1).",
            "",
        )
    if answer == math.ceil(periods - 1e-9):
        hint = "that counts the last period too: after the last read the data may fade, no refresh needed."
    elif answer == math.floor(periods) - 1:
        hint = "a partial period at the end still needs the refresh before it: round the periods up, not down."
    else:
        hint = f"divide the lifetime by the retention time ({periods:.2f} periods), round up, subtract one."
    return _verdict(False, "", f"you said {answer}; " + hint)


def check_coupling_inverse(fn: Callable[[nn.Module, torch.Tensor], torch.Tensor] | None, *, trials: int = 3) -> bool:
    """Exercise: implement the inverse of an additive coupling, ``fn(block, y) -> x``, using only ``block.f``,
    ``block.g`` and tensor arithmetic (``block`` is an :class:`effdl.hardware.reversible.AdditiveCoupling`:
    ``y1 = x1 + F(x2)``, ``y2 = x2 + G(y1)``, halves along dim 1). The checker runs random blocks in eval mode and
    accepts ``fn`` when ``block(fn(block, y))`` gives back ``y`` and ``fn`` rebuilds ``x`` to 1e-5."""
    if _missing(fn):
        return False
    if not callable(fn):
        raise TypeError(f"fn must be a callable (block, y) -> x, got {type(fn).__name__}")
    from effdl.hardware.reversible import AdditiveCoupling, residual_function

    gen = torch.Generator().manual_seed(8)
    for trial in range(trials):
        torch.manual_seed(100 + trial)
        c = 2 * (trial + 1)
        block = AdditiveCoupling(residual_function(c), residual_function(c)).eval()
        x = torch.randn(2, 2 * c, 5, 5, generator=gen)
        with torch.no_grad():
            y = block(x)
            got = fn(block, y.clone())
        if not isinstance(got, torch.Tensor) or got.shape != x.shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            return _verdict(False, "", f"fn must return a tensor of x's shape {tuple(x.shape)}, got {shape}.")
        err = float((got - x).norm() / x.norm())
        if err <= 1e-5:
            continue
        y1, y2 = y.chunk(2, dim=1)
        with torch.no_grad():
            x2_first_f = y2 - block.f(y1)  # the common slip: F and G swapped
        hint = "undo the last step first: x2 = y2 − G(y1), then x1 = y1 − F(x2), and concatenate (x1, x2)."
        if torch.allclose(got.chunk(2, dim=1)[1], x2_first_f, atol=1e-5):
            hint = "x2 comes from y2 with G, not F: y2 = x2 + G(y1), so x2 = y2 − G(y1)."
        elif torch.allclose(got, torch.cat((x.chunk(2, dim=1)[1], x.chunk(2, dim=1)[0]), dim=1), atol=1e-5):
            hint = "the halves are right but in the wrong order: return cat((x1, x2), dim=1)."
        return _verdict(False, "", f"relative error {err:.2g} on a block of {2 * c} channels; " + hint)
    return _verdict(True, f"exact to 1e-5 on {trials} random blocks: the coupling is invertible by construction.", "")
