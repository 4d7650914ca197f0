"""Assertions on the numbers notebook 05 (range regularization, R²) records.

``check``: QUICK mode (one seed), run on seeds 0, 1 and 2. ``check_full``: full mode (three seeds, seed 0 first), the
figures the README quotes, within the stated tolerances.
"""

from __future__ import annotations

from effdl import build, count_params

VARIANTS = ("linf", "margin", "softminmax")
GRIDS = ("restricted", "full", "affine", "midrise", "kmeans")
GRID_METRIC = {g: f"ptq2_{g}_channel" for g in GRIDS[:4]} | {"kmeans": "kmeans2"}
METRICS = ("fp_accuracy", "ptq4_full_channel", "ptq2_full_tensor", *GRID_METRIC.values())


def _common(rec: dict) -> None:
    """What holds in every mode: the model, the split, sane accuracies, and the numbers the prose derives."""
    assert rec["r2.params"] == count_params(build("mobilenetv1", "mnist5k", width=0.5, depth=6))
    assert rec["r2.layers"] == 14  # stem + 6 × (depthwise, pointwise) + classifier
    assert (rec["r2.n_train"], rec["r2.n_val"]) == (3500, 500)  # validation carved out of the 4,000 training digits
    assert rec["r2.bits"] == 2
    assert rec["r2.baseline.fp_accuracy"] >= 90.0, f"baseline only {rec['r2.baseline.fp_accuracy']:.1f}%"
    for key in ("baseline", *VARIANTS):
        for metric in METRICS:
            assert 0.0 <= rec[f"r2.{key}.{metric}"] <= 100.0, (key, metric)
    # The 4-bit sentence only says "outliers matter when the grid gets coarse" when fp4_drop_max <= 3; measured 16.6
    # (seed 0: R² models lose 5-17 points at 4 bits on the full grid, whose top level is one step short of max|w|).

    for key in VARIANTS:
        # Every R² loss shrinks max|W| / std(W) (mean over the layers) at least 1.5× below the baseline.
        reduction = rec[f"r2.{key}.range_reduction"]
        assert reduction >= 1.5, f"{key}: range ratio only {reduction:.2f}× below the baseline"
        # Full-precision accuracy within 1 point of the baseline.
        fp_gap = rec[f"r2.{key}.fp_accuracy"] - rec["r2.baseline.fp_accuracy"]
        assert fp_gap >= -1.0, f"{key}: float accuracy {fp_gap:+.2f} points against the baseline"

    # Choices were made among the right candidates (on validation: the notebook passes split="val").
    assert rec["r2.headline.variant"] in VARIANTS
    assert rec["r2.headline.grid"] in ("restricted", "full", "affine", "midrise", "k-means")
    assert rec["r2.headline.baseline_grid"] in ("restricted", "full", "affine", "midrise", "k-means")
    for g in GRIDS:
        assert rec[f"r2.grid.{g}.chosen"] in VARIANTS

    # Section 2's sentence: at α = 100 the range term's slope is positive (pulls α down) and tiny.
    assert 0.0 < rec["r2.alpha.slope_at_init"] < 1e-3, rec["r2.alpha.slope_at_init"]
    # Section 4: "no layer's α moved by more than X" and, shown when X < 1% of α_init, "in effect a hyper-parameter".
    assert rec["r2.alpha.max_move"] < 0.01 * rec["r2.alpha.init"], rec["r2.alpha.max_move"]
    # ... while the margins are learned: their largest relative change is well away from 0.
    assert rec["r2.margin.max_rel_change"] >= 0.05, rec["r2.margin.max_rel_change"]


def check(rec: dict) -> None:
    _common(rec)
    assert rec["r2.seeds"] == 1
    # Section 6: "R²'s gain depends on the grid: from +A on one grid to B on another". Measured (seed 0): restricted
    # +50.5, full +0.9, affine -1.6, mid-rise -28.5, k-means +42.7 (spread 79 points); asserted: a spread >= 20.
    gains = [rec[f"r2.grid.{g}.gain_points"] for g in GRIDS]
    assert max(gains) - min(gains) >= 20.0, gains
    # Section 7 headline, both sides chosen on validation, 2 bits per weight on both. Measured: seed 0 soft-min-max
    # on k-means 93.0% against the baseline's best grid (affine per channel) 76.4%, +16.6 points; seed 1 the same
    # choices, 79.7% against 78.5%, +1.2 points. The prose states only the measured figure (no "R² beats" sentence),
    # and the 5-point goal is NOT met on every seed, so QUICK asserts the direction only.
    assert rec["r2.headline.gain_points"] >= 0.0, rec["r2.headline.gain_points"]


def check_full(rec: dict) -> None:
    _common(rec)
    assert rec["r2.seeds"] == 3
    # Full run of 2026-12-04 (commit fb908f0, seeds 0/1/2): soft-min-max on the 2-bit k-means palette against the
    # baseline on its best 2-bit grid (affine per channel), both chosen on validation: 90.1% vs 79.6% on test, a fair
    # gain of +10.5 ± 6.6 points, smallest seed +3.4. The goal is >= 5 points: asserted, with the measured
    # mean 5.5 points above it as the tolerance for other CPUs. Full run of 2026-12-05 (commit 539416c, same settings,
    # 1 thread per kernel, 2 kernels): 88.9% vs 69.4%, +19.5 ± 17.7, smallest seed -0.4. The prose reports the
    # smallest seed's gain as measured and claims nothing per seed: its sign is not reproducible between the two runs,
    # so only the mean (the 5-point goal) is asserted.
    assert rec["r2.headline.gain_points"] >= 5.0, rec["r2.headline.gain_points"]
    assert (rec["r2.headline.variant"], rec["r2.headline.grid"]) == ("softminmax", "k-means")
    # The grid decides: measured means restricted +35.0, full 0.0 (every model at chance on MobileNet's full 2-bit
    # grid), affine -2.6, mid-rise -30.7, k-means +45.3. Asserted: R² helps most on k-means and restricted (>= +20)
    # and hurts on mid-rise (<= -10), the spread the prose teaches.
    for g in ("kmeans", "restricted"):
        assert rec[f"r2.grid.{g}.gain_points"] >= 20.0, (g, rec[f"r2.grid.{g}.gain_points"])
    assert rec["r2.grid.midrise.gain_points"] <= -10.0, rec["r2.grid.midrise.gain_points"]
