"""Assertions on the numbers notebook 07 (train large, then compress) records in QUICK mode.

QUICK trains the grid's smallest and largest sizes, w64-d1 (60,480 parameters) and w128-d2 (417,536), for 600 steps
of 32 × 64 characters (seed 0). Measured on 2 idle CPU cores (torch 2.14, ~70 s): w64-d1 ends at 2.804 bits/char,
w128-d2 at 2.534, unigram entropy 4.520; w128-d2 reaches 2.804 after 350 steps.
"""

from __future__ import annotations

import math

import torch

from effdl import count_flops
from effdl.core.models import TinyTransformer


def _size(name: str) -> tuple[int, int]:
    width, depth = name.removeprefix("w").split("-d")
    return int(width), int(depth)


def check(rec: dict) -> None:
    names = rec["scale.sizes"].split()
    small, large = rec["scale.small"], rec["scale.large"]
    assert len(names) >= 2 and small in names and large in names and small != large
    context, batch = rec["scale.context"], rec["scale.batch_size"]
    # Bookkeeping: the parameter counts are the formula's; the FLOPs per step are measured (forward × 3).
    for name in names:
        key = name.replace("-", "_")
        width, depth = _size(name)
        assert rec[f"scale.{key}.params"] == TinyTransformer.param_count_formula(98, width, depth, context)
        model = TinyTransformer(98, width=width, depth=depth, heads=max(1, width // 32), context=context)
        fwd = count_flops(model, torch.zeros(batch, context, dtype=torch.long)).flops
        assert rec[f"scale.{key}.flops_per_step"] == 3 * fwd
        assert rec[f"scale.{key}.steps"] == rec["scale.steps"], f"{name} was stopped by the clock"
    assert rec[f"scale.{large.replace('-', '_')}.params"] > 5 * rec[f"scale.{small.replace('-', '_')}.params"]

    # Acceptance: every trained model beats the unigram entropy of the corpus (it learned something).
    # QUICK: 3.137 (w64-d1) and 2.813 (w128-d2) against 4.520.
    assert 4.0 < rec["scale.unigram_bpc"] < 5.0
    assert rec["scale.max_val_bpc"] < rec["scale.unigram_bpc"] - 0.5

    # Acceptance: the largest model reaches the smallest model's final validation loss in fewer optimizer steps.
    # QUICK: 350 steps against 600 (full run: 450 against 800).
    assert rec["scale.target_bpc"] == rec[f"scale.{small.replace('-', '_')}.val_bpc"]
    assert 0 < rec["scale.large.steps_to_target"] < rec["scale.small.steps"]
    assert rec["scale.best_at_equal_steps"] == large

    # Acceptance: at equal sparsity >= 50% and at 4-bit PTQ, the largest model's relative loss increase is smaller
    # than the smallest model's. Protocol: prune, then retrain FINETUNE_STEPS = 100 steps with the mask fixed (the
    # dense reference trains the same steps; 4-bit PTQ quantizes that reference). QUICK (seed 0), smallest vs
    # largest: 50% +0.41% vs -0.64%, 70% +2.66% vs +0.98%, 90% +22.6% vs +19.0%, 4-bit +0.56% vs +0.51%.
    # This notebook with SEED = 1 and 2 (QUICK): the largest wins at 50% and 70% for both, loses at 90% for seed 1
    # (+21.0% vs +23.1%; full run +26.0% vs +26.9%) and at 4 bits for seed 2 (+0.67% vs +0.91%): at this scale
    # those two gaps are within the seed-to-seed spread, so this asserts the default run, not a law.
    assert rec["scale.finetune_steps"] > 0
    for level in ("prune50", "prune70", "prune90", "quant4"):
        small_rel, large_rel = rec[f"scale.robust.{level}.small"], rec[f"scale.robust.{level}.large"]
        assert math.isfinite(small_rel) and math.isfinite(large_rel) and min(small_rel, large_rel) > -0.02
        assert large_rel < small_rel, f"{level}: largest {100 * large_rel:+.2f}% vs smallest {100 * small_rel:+.2f}%"
    # Retraining recovers most of what one-shot pruning costs (QUICK, 70%: one-shot +44.1% / +34.1%).
    for size in ("small", "large"):
        assert rec[f"scale.robust.prune70.{size}"] < 0.5 * rec[f"scale.oneshot.prune70.{size}"]
    assert rec["scale.robust.holds"] is True
    assert rec["scale.robust.prune90.small"] > rec["scale.robust.prune50.small"]  # more pruning, more damage

    # Train large, then compress: recorded, not asserted in QUICK, which has no mid-size model (QUICK: the best
    # heavily compressed w128-d2 within w64-d1's fp32 size, 70% pruned + 4-bit at 1,716 kbit, reaches 2.445 against
    # 2.713 for w64-d1 in fp32, so it wins).
    cap = rec["scale.headline.cap_bits"]
    assert cap == 32 * rec[f"scale.{small.replace('-', '_')}.params"]  # the small model's fp32 size, in bits
    if rec["scale.headline.large_heavy_bits"] != -1:
        assert rec["scale.headline.large_heavy_bits"] <= cap
        assert rec["scale.headline.wins"] == (
            rec["scale.headline.large_heavy_bpc"] < rec["scale.headline.small_light_bpc"]
        )
    assert rec["scale.headline.small_light_bpc"] <= rec[f"scale.{small.replace('-', '_')}.val_bpc"] + 0.01
    assert rec["scale.headline.strict_cap_bits"] < cap
