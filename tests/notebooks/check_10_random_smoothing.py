"""Assertions on the numbers notebook 10 (random smoothing in kernel gradient descent) records.

``check``: QUICK mode (two rate studies, (m, d) = (1, 1) and (2, 2), n = 100..800 with 4 repetitions; the D = 10
study likewise; 1, 4 and 16 noisy copies), run on seeds 0, 1 and 2. ``check_full``: full mode, seed 0 (three rate
studies (1, 1), (2, 1), (2, 2), n = 100..1600 with 8 repetitions; 1..64 copies), the issue's acceptance figures.
Every threshold is the prose's claim with the tolerance stated beside it; the measured values are in the comments.
"""

from __future__ import annotations

import math

FAMILIES = ("gaussian", "laplace", "polynomial")


def _common(rec: dict) -> None:
    """What holds in every mode."""
    # Section 1: the Gaussian closed form equals the spectral quadrature (both exact to ~1e-12), and the height of the
    # smoothed Gaussian profile is sqrt(h²/(h² + 2σ²)) with h = 0.1, σ = 0.07 (the pictures' kernel and noise).
    assert rec["smoothing.mc.closed_form_vs_quadrature"] <= 1e-10, rec["smoothing.mc.closed_form_vs_quadrature"]
    assert math.isclose(rec["smoothing.kernel.peak_gaussian"], math.sqrt(0.01 / (0.01 + 2 * 0.07**2)), rel_tol=1e-9)
    # Issue 17: Monte Carlo and the exact K_S agree to <= 2% on the grid, for every noise. 200,000 draws in both
    # modes; measured max 0.41% / 0.39% / 0.34% (seed 0), and at most 0.66% over seeds 0..5 in a side study.
    assert rec["smoothing.mc.samples"] == 200_000
    for f in FAMILIES:
        assert rec[f"smoothing.mc.max_rel_error_{f}"] <= 0.02, (f, rec[f"smoothing.mc.max_rel_error_{f}"])
    # Section 2: the literal update and the eigen path are the same iteration (round-off only; measured 8e-15).
    assert rec["smoothing.path.loop_vs_eigen"] <= 1e-10, rec["smoothing.path.loop_vs_eigen"]
    assert rec["smoothing.path.oracle_risk"] <= min(rec["smoothing.path.early_risk"], rec["smoothing.path.decay_risk"])
    # Section 3: 3 families × 7 noise scales, and smoothing chosen on validation beats the unsmoothed narrow kernel
    # on test for every family ("cuts the test risk by ..."; measured 1.53x..1.97x over seeds 0-2, QUICK).
    assert rec["smoothing.sweep.settings"] == 21
    for f in FAMILIES:
        assert rec[f"smoothing.sweep.gain_{f}"] > 1.0, (f, rec[f"smoothing.sweep.gain_{f}"])
    # Section 5: the measured slope of the d = 2 surface in R^10 is nearer the d = 2 theory than the D = 10 one.
    assert rec["smoothing.ambient.dim"] == 10 and math.isclose(rec["smoothing.ambient.theory_dim"], -4 / 14)
    assert rec["smoothing.ambient.closer_to_d"] is True
    # Section 6: more noisy copies, closer to K_S (Gram error and prediction gap fall at every step of M), at a rate
    # near 1/sqrt(M): the Gram error's log-log slope within 0.25 of -0.5 (QUICK seeds 0-2: -0.41, -0.50, -0.46).
    assert rec["smoothing.aug.decreasing"] is True
    assert abs(rec["smoothing.aug.gram_slope"] + 0.5) <= 0.25, rec["smoothing.aug.gram_slope"]


def check(rec: dict) -> None:
    _common(rec)
    assert rec["smoothing.rate.settings"] == 2 and rec["smoothing.rate.reps"] == 4
    assert rec["smoothing.rate.n_max"] == 800 and rec["smoothing.aug.copies_max"] == 16
    # Section 2, QUICK (1,000 test points): each validation choice within 3x of the best risk on either path.
    # Measured early/decay ÷ best: seed 0 1.01/1.01, seed 1 1.00/1.13, seed 2 2.00/1.82 (a noisy validation pick).
    for k in ("early_risk", "decay_risk"):
        assert rec[f"smoothing.path.{k}"] <= 3.0 * rec["smoothing.path.oracle_risk"], (k, rec[f"smoothing.path.{k}"])
    # Section 4, QUICK: 4 sizes up to 800 and 4 repetitions give a noisy slope (one repetition's slope scatters by
    # ±0.2..0.7), so the claim here is only "negative and within ±0.3 of theory", about twice the largest gap
    # measured. Slopes (theory -0.667 for both): m1d1 -0.708 / -0.778 / -0.666, m2d2 -0.638 / -0.591 / -0.812
    # (seeds 0/1/2; gaps -0.04 / -0.11 / +0.00 and +0.03 / +0.08 / -0.14).
    for key in ("m1d1", "m2d2"):
        slope, gap = rec[f"smoothing.rate.{key}_slope"], rec[f"smoothing.rate.{key}_gap"]
        assert slope < 0 and abs(gap) <= 0.3, (key, slope, gap)
    # Section 5, QUICK: the curved surface in R^10 (its own points) within ±0.3 of the d = 2 theory and of the
    # square's slope. Measured slope -0.790 / -0.701 / -0.698 (gap -0.12 / -0.03 / -0.03), against the square
    # -0.15 / -0.11 / +0.11.
    assert abs(rec["smoothing.ambient.gap"]) <= 0.3, rec["smoothing.ambient.gap"]
    assert abs(rec["smoothing.ambient.slope_vs_flat"]) <= 0.3, rec["smoothing.ambient.slope_vs_flat"]
    # The square's points bent into R^10 (paired with the square): within ±0.3 of the square's slope. Measured
    # +0.026 / -0.024 / -0.015 (seeds 0/1/2).
    assert abs(rec["smoothing.ambient.paired_vs_flat"]) <= 0.3, rec["smoothing.ambient.paired_vs_flat"]


def check_full(rec: dict) -> None:
    _common(rec)
    assert rec["smoothing.rate.settings"] == 3 and rec["smoothing.rate.reps"] == 8
    assert rec["smoothing.rate.n_max"] == 1600 and rec["smoothing.rate.n_points"] == 5
    assert rec["smoothing.aug.copies_max"] == 64
    # Section 2 (seed 0): both validation choices within 1.5x of the best risk on either path (measured
    # 0.002892 and 0.002908 against 0.002882: 1.00x and 1.01x).
    for k in ("early_risk", "decay_risk"):
        assert rec[f"smoothing.path.{k}"] <= 1.5 * rec["smoothing.path.oracle_risk"], (k, rec[f"smoothing.path.{k}"])
    # Issue 17: the log-log slope of the excess risk against n within ±0.15 of -2m/(2m + d) for at least two (m, d)
    # settings — here all three, and the mean risk falls at every n. Measured (seed 0): m1d1 -0.737 (gap -0.070),
    # m2d1 -0.896 (-0.096), m2d2 -0.762 (-0.095): all steeper than theory, as the package's author noted.
    for key, theory in (("m1d1", -2 / 3), ("m2d1", -4 / 5), ("m2d2", -2 / 3)):
        assert math.isclose(rec[f"smoothing.rate.{key}_theory"], theory)
        assert abs(rec[f"smoothing.rate.{key}_gap"]) <= 0.15, (key, rec[f"smoothing.rate.{key}_slope"])
        assert rec[f"smoothing.rate.{key}_decreasing"] is True, key
    # Issue 17: the rate depends on d, not D. (a) The d = 2 surface in R^10 with its own points: within ±0.15 of the
    # d = 2 theory (the same tolerance as the other studies). (b) The square's own latent points bent into R^10
    # (common random numbers, the geometry's effect alone): within ±0.15 of the square's slope. (c) The two
    # independent studies (own points against the square): each slope carries its own sampling noise, so their
    # difference gets √2 × 0.15 ≈ 0.21. Measured (seed 0): (a) -0.608, gap +0.058; (b) -0.753, +0.009
    # from the square's -0.762; (c) +0.154 (just over the single-study 0.15: the one acceptance figure that needs the
    # paired design to meet the tolerance).
    assert abs(rec["smoothing.ambient.gap"]) <= 0.15, rec["smoothing.ambient.slope"]
    assert abs(rec["smoothing.ambient.paired_vs_flat"]) <= 0.15, rec["smoothing.ambient.paired_vs_flat"]
    assert abs(rec["smoothing.ambient.slope_vs_flat"]) <= 0.15 * math.sqrt(2), rec["smoothing.ambient.slope_vs_flat"]
    # Section 6 with up to 64 copies: the prediction gap falls below 10% (measured 20.6% at M = 1 to 4.4% at
    # M = 64; Gram error 0.863 to 0.131, log-log slope -0.45).
    assert rec["smoothing.aug.rel_gap_last"] <= 0.10, rec["smoothing.aug.rel_gap_last"]
