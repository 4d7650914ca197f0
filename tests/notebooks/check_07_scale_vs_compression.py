"""Assertions on the numbers notebook 07 (train large, then compress) records.

QUICK trains the grid's smallest and largest sizes, w64-d1 (60,480 parameters) and w128-d2 (417,536), on the same
training compute: 600 steps of w64-d1 (32 × 64 characters), i.e. 469 GFLOP, of which w128-d2 affords 87 steps.
The largest is also trained 600 steps for the second view (equal steps). ``check`` runs on seeds 0, 1 and 2
(``pytest -m seeds``) and asserts what held on all three, with a tolerance below the smallest value seen;
``check_full`` asserts the README's full-mode figures (seed 0; see its docstring and comments). QUICK, measured with
torch 2.14 on CPU, seeds 0 / 1 / 2:

- equal compute, final bits/char: w64-d1 2.804 / 2.781 / 2.800, w128-d2 3.381 / 3.369 / 3.375 (small ahead by
  0.577 / 0.588 / 0.575); equal steps: w128-d2 2.534 / 2.505 / 2.541, reaching w64-d1's final loss in 350 / 350 / 400
  of 600 steps;
- relative loss increase at equal compute (pruned + 100 retraining steps; 4-bit PTQ), w64-d1 vs w128-d2, in %:
  50%: +0.41 / +0.71 / +0.34 vs +1.31 / +1.26 / +0.76; 70%: +2.66 / +3.14 / +2.50 vs +2.38 / +2.39 / +1.93;
  90%: +22.6 / +20.9 / +20.8 vs +5.36 / +5.32 / +5.31; 4-bit: +0.70 / +0.96 / +0.62 vs +0.17 / −0.04 / +0.03;
- within w64-d1's fp32 size, equal compute: w64-d1 (fp32 or 8-bit) 2.713 / 2.694 / 2.722 against w128-d2 70% pruned
  + 4-bit 3.175 / 3.178 / 3.178 (small wins); equal steps: w128-d2 70% pruned + 4-bit 2.446 / 2.444 / 2.447 (large
  wins by 0.27 / 0.25 / 0.27).
"""

from __future__ import annotations

import math

import torch

from effdl import count_flops
from effdl.core.models import TinyTransformer


def _size(name: str) -> tuple[int, int]:
    width, depth = name.removeprefix("w").split("-d")
    return int(width), int(depth)


def _key(name: str) -> str:
    return name.replace("-", "_")


def _bookkeeping(rec: dict) -> None:
    """Parameter counts are the formula's; FLOPs per step are measured (forward × 3); every size spent the same
    training compute (the budget, to within one step) and the smallest did exactly STEPS steps."""
    names = rec["scale.sizes"].split()
    small, large = rec["scale.small"], rec["scale.large"]
    assert len(names) >= 2 and small in names and large in names and small != large
    context, batch = rec["scale.context"], rec["scale.batch_size"]
    budget = rec["scale.flop_budget"]
    for name in names:
        width, depth = _size(name)
        assert rec[f"scale.{_key(name)}.params"] == TinyTransformer.param_count_formula(98, width, depth, context)
        model = TinyTransformer(98, width=width, depth=depth, heads=max(1, width // 32), context=context)
        fps = 3 * count_flops(model, torch.zeros(batch, context, dtype=torch.long)).flops
        assert rec[f"scale.{_key(name)}.flops_per_step"] == fps
        assert rec[f"scale.{_key(name)}.stopped_by"] == "flops", f"{name} was stopped by the clock"
        assert rec[f"scale.{_key(name)}.steps"] == budget // fps
        assert budget - fps < rec[f"scale.{_key(name)}.flops"] <= budget
        assert rec[f"scale.{_key(name)}.seconds"] > 0  # wall-clock is shown beside the FLOPs
    assert budget == rec["scale.steps"] * rec[f"scale.{_key(small)}.flops_per_step"]
    assert rec[f"scale.{_key(small)}.steps"] == rec["scale.steps"]
    assert rec[f"scale.{_key(large)}.params"] > 5 * rec[f"scale.{_key(small)}.params"]
    assert rec["scale.equal_steps.large.steps"] == rec["scale.steps"]
    # Every trained model beats the unigram entropy of the corpus (it learned something).
    assert 4.0 < rec["scale.unigram_bpc"] < 5.0
    assert rec["scale.max_val_bpc"] < rec["scale.unigram_bpc"] - 0.5
    cap = rec["scale.headline.cap_bits"]
    assert cap == 32 * rec[f"scale.{_key(small)}.params"] == rec["scale.equal_steps.headline.cap_bits"]
    assert rec["scale.headline.strict_cap_bits"] < cap
    for prefix in ("scale.headline", "scale.equal_steps.headline"):
        assert 0 < rec[f"{prefix}.large_heavy_bits"] <= cap  # a heavily compressed larger model fits the budget


def check(rec: dict) -> None:
    _bookkeeping(rec)
    small, large = rec["scale.small"], rec["scale.large"]
    assert rec["scale.finetune_steps"] > 0
    # Equal training compute (the headline run): the smallest model reaches the lowest loss, by a clear margin.
    assert rec["scale.equal_compute.best"] == small
    assert rec["scale.equal_compute.margin_bpc"] > 0.3, rec["scale.equal_compute.margin_bpc"]  # seen >= 0.575
    # Second view, equal steps: the largest model is best, and reaches the smallest's final loss in fewer steps.
    assert rec["scale.target_bpc"] == rec[f"scale.{_key(small)}.val_bpc"]
    assert rec["scale.equal_steps.best"] == large
    assert rec["scale.equal_steps.large.val_bpc"] < rec["scale.target_bpc"] - 0.15  # seen 0.26-0.28 lower
    assert 0 < rec["scale.large.steps_to_target"] <= 0.75 * rec["scale.steps"]  # seen 350-400 of 600

    # Robustness at equal compute: the largest lost relatively less at 70% and 90% and at 4 bits, and more at 50%,
    # on every seed tried (the prose states this run's levels; exercise 5 asks for the seed spread).
    levels = {"prune50": False, "prune70": True, "prune90": True, "quant4": True}  # largest more robust?
    assert rec["scale.robust.large_wins"] == "70% pruned 90% pruned 4-bit"
    for level, large_wins in levels.items():
        small_rel, large_rel = rec[f"scale.robust.{level}.small"], rec[f"scale.robust.{level}.large"]
        assert math.isfinite(small_rel) and math.isfinite(large_rel) and min(small_rel, large_rel) > -0.02
        assert (large_rel < small_rel) == large_wins, f"{level}: {100 * large_rel:+.2f}% vs {100 * small_rel:+.2f}%"
    assert rec["scale.robust.prune90.small"] - rec["scale.robust.prune90.large"] > 0.10  # seen 15.5-17.2 points
    for size in ("small", "large"):  # more pruning, more damage
        assert rec[f"scale.robust.prune90.{size}"] > rec[f"scale.robust.prune50.{size}"]
        # Retraining recovered most of what one-shot 70% pruning cost (seen: 86-97%).
        assert rec[f"scale.retrained.prune70.{size}"] < 0.25 * rec[f"scale.oneshot.prune70.{size}"]

    # Train large, then compress, within the small model's fp32 size. At equal compute the small model wins...
    assert rec["scale.headline.wins"] is False and rec["scale.headline.strict_wins"] is False
    assert rec["scale.headline.large_heavy_bpc"] - rec["scale.headline.small_light_bpc"] > 0.3  # seen 0.45-0.48
    # ... at equal steps the heavily compressed large model wins (seen by 0.25-0.27 bits/char), not at 8-bit size.
    assert rec["scale.equal_steps.headline.wins"] is True and rec["scale.equal_steps.headline.strict_wins"] is False
    steps_margin = rec["scale.equal_steps.headline.small_light_bpc"] - rec["scale.equal_steps.headline.large_heavy_bpc"]
    assert steps_margin > 0.15, steps_margin
    assert rec["scale.headline.small_light_bpc"] == rec["scale.equal_steps.headline.small_light_bpc"]  # same rows


def _near(rec: dict, key: str, value: float, tol: float) -> None:
    assert abs(rec[key] - value) <= tol, f"{key} = {rec[key]:.4f}, expected {value} ± {tol}"


def check_full(rec: dict) -> None:
    """The README's full-mode figures (seed 0: four sizes, a budget of 800 steps of w64-d1 = 625 GFLOP, 200
    retraining steps). Tolerances: ±0.03 bits/char on losses, ±0.5 points on relative increases below 5% and ±3 points
    above, ±50 steps (the evaluation interval) on steps to the target; every order the README states, exactly."""
    _bookkeeping(rec)
    assert rec["scale.quick"] is False and rec["scale.sizes"] == "w64-d1 w64-d2 w128-d1 w128-d2"
    assert rec["scale.finetune_steps"] == 200 and rec["scale.steps"] == 800
    # Equal compute (625 GFLOP each: 800 / 420 / 225 / 116 steps): the smallest is best, 0.257 ahead of w64-d2.
    assert [rec[f"scale.{k}.steps"] for k in ("w64_d1", "w64_d2", "w128_d1", "w128_d2")] == [800, 420, 225, 116]
    for key, value in (("w64_d1", 2.703), ("w64_d2", 2.961), ("w128_d1", 2.977), ("w128_d2", 3.293)):
        _near(rec, f"scale.{key}.val_bpc", value, 0.03)
    assert rec["scale.equal_compute.best"] == "w64-d1"
    _near(rec, "scale.equal_compute.margin_bpc", 0.257, 0.05)
    # Robustness at equal compute, w64-d1 vs w128-d2 (%): 50% +0.65 vs +1.71, 70% +2.75 vs +3.67, 90% +21.6 vs +7.7,
    # 4-bit +0.96 vs +0.19: the largest lost relatively less at 90% and 4 bits, more at 50% and 70%.
    for level, small_rel, large_rel in (
        ("prune50", 0.0065, 0.0171),
        ("prune70", 0.0275, 0.0367),
        ("prune90", 0.2164, 0.0769),
        ("quant4", 0.0096, 0.0019),
    ):
        for size, value in (("small", small_rel), ("large", large_rel)):
            _near(rec, f"scale.robust.{level}.{size}", value, 0.005 if value < 0.05 else 0.03)
    assert rec["scale.robust.large_wins"] == "90% pruned 4-bit"
    # Within w64-d1's fp32 size at equal compute: w64-d1 in fp32 (2.607, after the same 200 extra steps) beats the best
    # heavily compressed larger model, w128-d1 at 4 bits (2.670).
    assert rec["scale.headline.wins"] is False and rec["scale.headline.strict_wins"] is False
    assert (
        rec["scale.headline.small_light_label"] == "fp32"
        and rec["scale.headline.large_heavy_label"] == "w128-d1, 4-bit"
    )
    _near(rec, "scale.headline.small_light_bpc", 2.607, 0.03)
    _near(rec, "scale.headline.large_heavy_bpc", 2.670, 0.03)
    assert rec["scale.headline.large_heavy_bpc"] - rec["scale.headline.small_light_bpc"] > 0.02
    # Second view, equal steps (800 each, 6.9x the compute for w128-d2): it reaches w64-d1's final 2.703 in 450 steps
    # and ends at 2.431; pruned 70% and quantized to 4 bits it reaches 2.331 within w64-d1's fp32 size and wins.
    assert abs(rec["scale.large.steps_to_target"] - 450) <= 50
    assert rec["scale.equal_steps.best"] == "w128-d2"
    _near(rec, "scale.equal_steps.large.val_bpc", 2.431, 0.03)
    assert rec["scale.equal_steps.headline.wins"] is True and rec["scale.equal_steps.headline.strict_wins"] is False
    assert rec["scale.equal_steps.headline.large_heavy_label"] == "w128-d2 (800 steps), 70% pruned + 4-bit"
    _near(rec, "scale.equal_steps.headline.large_heavy_bpc", 2.331, 0.03)
    assert rec["scale.equal_steps.headline.small_light_bpc"] - rec["scale.equal_steps.headline.large_heavy_bpc"] > 0.2
