"""Checkers for the practitioner's capstone (chapter 14): a packed tensor's bytes by hand, the energy model by hand,
the decision guide's choice read off the explorer, and the compression factor of a file."""

from __future__ import annotations

import math
from typing import Any

import torch

from effdl.exercises._common import _missing, _number, _verdict, checker
from effdl.guide import packfile
from effdl.guide.pipeline import energy_uj
from effdl.guide.study import GOALS, decide

__all__ = ["check_energy", "check_guide_choice", "check_packed_bytes"]


def _sparse_palette_bytes(numel: int, nnz: int, distinct: int, itemsize: int) -> int:
    """The format's own bookkeeping: pack a tensor with these counts and read the streams' lengths."""
    dtype = {2: torch.float16, 4: torch.float32, 8: torch.float64}[itemsize]
    t = torch.zeros(numel, dtype=dtype)
    t[:nnz] = (torch.arange(nnz) % distinct + 1).to(dtype)  # ``distinct`` non-zero values, each used
    return packfile.encoded_size(t, "sparse-palette")


@checker
def check_packed_bytes(answer: float | None, *, numel: int, nnz: int, distinct: int, itemsize: int = 4) -> bool:
    """Exercise: the bytes a ``sparse-palette`` tensor takes in an effdl packed file (before the codec): a bitmask of
    ``numel`` bits, ``distinct`` palette values of ``itemsize`` bytes and ``nnz`` indices of ⌈log2 distinct⌉ bits,
    each stream rounded up to whole bytes."""
    if not (0 < nnz <= numel and 1 <= distinct <= nnz and itemsize in (2, 4, 8)):
        raise ValueError(f"need 0 < nnz <= numel, 1 <= distinct <= nnz, itemsize 2/4/8; got {numel, nnz, distinct}")
    if _missing(answer):
        return False
    got = _number(answer)
    if got is None:
        return _verdict(False, "", f"give a number of bytes, got {answer!r}")
    want = _sparse_palette_bytes(numel, nnz, distinct, itemsize)
    bits = max(1, (distinct - 1).bit_length()) if distinct > 1 else 0
    mask, pal, idx = math.ceil(numel / 8), distinct * itemsize, math.ceil(nnz * bits / 8)
    if got == want:
        return _verdict(
            True,
            f"{want:,} bytes = mask {mask:,} + palette {pal:,} + indices {idx:,} ({bits}-bit); dense fp32 would be "
            f"{numel * itemsize:,} ({numel * itemsize / want:.1f}×).",
            "",
        )
    if got == mask + pal + nnz * bits / 8 or abs(got - want) <= 2:
        return _verdict(False, "", "close: each stream is rounded up to whole bytes separately")
    if got == mask * 8 + pal + idx:
        return _verdict(False, "", "the mask is one bit per element, not one byte")
    if got == math.ceil(numel * bits / 8) + pal + mask:
        return _verdict(False, "", "only the non-zeros get an index: the mask already says where the zeros are")
    if got == mask + pal + math.ceil(nnz * math.log2(distinct) / 8):
        return _verdict(False, "", "an index takes a whole number of bits: ⌈log2 K⌉")
    return _verdict(False, "", f"{got:g} is off: add the mask (1 bit/element), the palette and the indices")


@checker
def check_energy(answer: float | None, *, macs: int, w_bits: int, a_bits: int, file_bytes: int) -> bool:
    """Exercise: the energy model's µJ per image for ``macs`` MACs at ``w_bits`` × ``a_bits`` (32 × 32 = fp32) and
    a file of ``file_bytes`` read once from DRAM (:func:`effdl.guide.energy_uj`); 1 % tolerance."""
    if _missing(answer):
        return False
    got = _number(answer)
    if got is None:
        return _verdict(False, "", f"give the energy in µJ as a number, got {answer!r}")
    bits = {} if (w_bits, a_bits) == (32, 32) else {"layer": (w_bits, a_bits)}
    want = energy_uj({"layer": macs}, bits, file_bytes)
    dram = energy_uj({}, {}, file_bytes)
    if math.isclose(got, want, rel_tol=0.01):
        return _verdict(
            True,
            f"{want:.4g} µJ, of which {dram:.4g} µJ ({100 * dram / want:.0f} %) is reading the file from DRAM.",
            "",
        )
    if math.isclose(got, want * 1e6, rel_tol=0.01):
        return _verdict(False, "", "that is in pJ: divide by 10^6 for µJ")
    if math.isclose(got, want - dram, rel_tol=0.01):
        return _verdict(False, "", "you left out reading the weights: 160 pJ per byte of the file")
    if math.isclose(got, dram, rel_tol=0.01):
        return _verdict(False, "", "you left out the arithmetic: every MAC costs energy too")
    return _verdict(False, "", f"{got:g} µJ is off: MACs × pJ per MAC (scaled by w·a/64) + bytes × 160 pJ, in µJ")


@checker
def check_guide_choice(answer: str | None, explorer: Any, *, goal: str, max_drop: float) -> bool:
    """Try it (guide_explorer): the label (``"prune 90% → palette 4-bit"``, as the readout prints it) of the stage
    the decision guide picks for ``goal`` when at most ``max_drop`` (a fraction) of validation accuracy may go."""
    if goal not in GOALS:
        raise ValueError(f"goal must be one of {sorted(GOALS)}, got {goal!r}")
    if _missing(answer):
        return False
    want = decide(explorer.stages, max_drop=max_drop, goals=(goal,))[0]
    labels = {s.label for s in explorer.stages}
    got = str(answer).strip()
    if got == want.stage.label:
        return _verdict(True, want.text, "")
    if got not in labels:
        return _verdict(False, "", f"give a stage label as the readout prints it, e.g. {want.reference.label!r}")
    other = next(s for s in explorer.stages if s.label == got)
    if other.val_acc < want.reference.val_acc - max_drop - 1e-12:
        return _verdict(False, "", f"{got} loses more than {100 * max_drop:g} points of validation accuracy")
    return _verdict(False, "", f"{got} meets the constraint, but another stage does better on {GOALS[goal][1]}")
