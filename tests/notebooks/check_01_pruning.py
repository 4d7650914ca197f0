"""Assertions on the numbers notebook 01 (pruning) records in QUICK mode."""

from __future__ import annotations


def check(rec: dict) -> None:
    dense = rec["pruning.dense.accuracy"]
    assert dense >= 90.0, f"dense SmallCNN: {dense:.1f}% < 90%"

    # Global unstructured pruning to 80% plus fine-tuning costs at most 1.5 points.
    assert abs(rec["pruning.global80.sparsity"] - 0.8) < 1e-3, rec["pruning.global80.sparsity"]
    assert abs(rec["pruning.global80.drop_points"] - (dense - rec["pruning.global80.accuracy"])) < 1e-9
    assert rec["pruning.global80.drop_points"] <= 1.5, f"global 80%: drop {rec['pruning.global80.drop_points']:.2f}"
    # At 80% sparsity both sparse formats store less than dense; the bitmask (1 bit per entry) beats CSR (32).
    assert rec["pruning.global80.bitmask_ratio"] > rec["pruning.global80.csr_ratio"] > 1.0
    # One threshold for all layers beats the same sparsity in every layer, before any fine-tuning.
    assert rec["pruning.global80.oneshot_accuracy"] > rec["pruning.layer80.accuracy"]

    # Gradual pruning ends exactly at its final sparsity and still classifies digits.
    assert abs(rec["pruning.agp.sparsity"] - 0.9) < 1e-3, rec["pruning.agp.sparsity"]
    assert rec["pruning.agp.accuracy"] >= 90.0

    # Structured pruning of 50% of the channels: >= 2x fewer FLOPs, a plain dense model, <= 2 points lost.
    assert rec["pruning.structured50.flops_ratio"] >= 2.0, rec["pruning.structured50.flops_ratio"]
    assert rec["pruning.structured50.params_ratio"] > 2.0
    assert rec["pruning.structured50.has_masks"] is False
    drop = rec["pruning.structured50.drop_points"]
    assert drop <= 2.0, f"50% of channels: drop {drop:.2f} points after fine-tuning"
    assert abs(drop - (dense - rec["pruning.structured50.accuracy"])) < 1e-9
    # Latency is recorded, not asserted (timings are noisy); it must at least have been measured.
    assert rec["pruning.structured50.latency_ratio"] > 0
    assert rec["pruning.masked90.latency_ratio"] > 0
