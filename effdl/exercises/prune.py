"""Checkers for pruning (chapter 01): magnitude pruning, CSR storage."""

from __future__ import annotations

import random
from collections.abc import Callable

import torch

from effdl.exercises._common import _attempt, _missing, _verdict, checker

__all__ = ["check_csr_bits", "check_magnitude_prune"]


@checker
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
            got = _attempt(fn, w.clone(), s)
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


@checker
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
