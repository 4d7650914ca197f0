"""Assertions on the numbers notebook 03 (distillation) records in QUICK mode."""

from __future__ import annotations

import torch

from effdl import build, count_flops, count_params


def check(rec: dict) -> None:
    # A real teacher and a much smaller student, built as the notebook says.
    # Teacher after 3 QUICK epochs: 96.3 / 96.5 / 97.2% on seeds 0 / 1 / 2; 95% catches one that did not train.
    assert rec["distill.teacher.accuracy"] >= 95.0, f"teacher only {rec['distill.teacher.accuracy']:.1f}%"
    assert rec["distill.teacher.params"] == count_params(build("smallcnn", "mnist5k"))
    student = build("mlp", "mnist5k", hidden=(16,))
    assert rec["distill.student.params"] == count_params(student)
    assert rec["distill.student.macs"] == count_flops(student, torch.zeros(1, 1, 28, 28)).macs
    # The prose prints the MAC ratio (about 90x); the architecture fixes it, so this only guards the model definitions.
    assert rec["distill.student.macs"] * 50 < rec["distill.teacher.macs"]
    # The student learns something on its own: the comparison is against a working baseline (chance is 10%).
    assert rec["distill.student_alone.accuracy"] >= 75.0

    # Acceptance, on the mean over seeds (QUICK runs the same seeds as full: SEED, SEED+1, SEED+2).
    assert rec["distill.seeds"] >= 3, f"the gain must be a mean over seeds, got {rec['distill.seeds']} seed(s)"
    gain = rec["distill.gain_points"]
    # Measured mean gain over 3 student seeds (QUICK: teacher 3 epochs, 500 digits, 40 epochs, T=4, alpha=0.9):
    # +2.37 / +1.80 / +1.87 points with SEED = 0 / 1 / 2 (std over the 3 seeds 0.15 / 1.31 / 0.40; single-seed gains
    # from +0.4 to +3.0). Claim: distillation adds at least 1 point on average. The tolerance, about 0.8 point below
    # the smallest measured mean, is the standard error of a 3-seed mean at the largest measured spread
    # (1.31 / sqrt(3) = 0.76); a single-seed gain is not asserted, since one seed gave only +0.4.
    assert gain >= 1.0, f"mean gain of distillation {gain:+.2f} points over {rec['distill.seeds']} seeds, need >= +1.0"
    # The sweep ran over its temperatures and weights.
    assert rec["distill.sweep.size"] >= 2
    # Distillation never touches the teacher.
    assert rec["distill.teacher.unchanged"] is True
