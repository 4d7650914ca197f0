"""Assertions on the numbers notebook 02 (low-rank factorization) records in QUICK mode."""

from __future__ import annotations

import json

from torch import nn

from effdl import build
from effdl.compress.lowrank import factorized_params


def _close(a: float, b: float, tol: float = 1e-6) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


def check(rec: dict) -> None:
    dense = rec["lowrank.dense.accuracy"]
    assert dense >= 90.0, f"the MLP should learn MNIST digits in QUICK mode, got {dense:.1f}%"

    # MLP: the hidden Linear layers (model.features) hold >= 3x fewer parameters after factorization...
    ranks = json.loads(rec["lowrank.mlp.ranks"])
    mlp = build("mlp", "mnist5k")
    layers = dict(mlp.named_modules())
    assert set(ranks) == {f"features.{n}" for n, m in mlp.features.named_children() if isinstance(m, nn.Linear)}
    before = sum(layers[name].weight.numel() + layers[name].bias.numel() for name in ranks)
    after = sum(factorized_params(layers[name], r) for name, r in ranks.items())
    ratio = rec["lowrank.mlp.param_ratio"]
    assert _close(ratio, before / after), f"recorded param ratio {ratio} != {before}/{after} from the recorded ranks"
    assert ratio >= 3.0, f"hidden layers only {ratio:.2f}x smaller, need >= 3x"
    assert rec["lowrank.mlp.flops_ratio"] > 2.0  # a Linear's MACs shrink with its weights
    # ... and cost at most 2 accuracy points after fine-tuning.
    assert _close(rec["lowrank.mlp.drop_points"], dense - rec["lowrank.mlp.accuracy"])
    assert _close(rec["lowrank.mlp.drop_points_before_ft"], dense - rec["lowrank.mlp.accuracy_before_ft"])
    assert rec["lowrank.mlp.drop_points"] <= 2.0, f"drop after fine-tuning {rec['lowrank.mlp.drop_points']:.2f} > 2"
    assert 0.0 <= rec["lowrank.mlp.dense_ft_accuracy"] <= 100.0

    # Fine-tuning recovery: truncating to the smallest rank hurts, and fine-tuning never makes things much worse.
    sweep_ranks = json.loads(rec["lowrank.sweep.ranks"])
    before_ft = json.loads(rec["lowrank.sweep.before_ft"])
    after_ft = json.loads(rec["lowrank.sweep.after_ft"])
    assert len(sweep_ranks) == len(before_ft) == len(after_ft) >= 2
    assert before_ft[0] < dense - 5.0, f"rank {sweep_ranks[0]} should visibly hurt before fine-tuning: {before_ft[0]}"
    assert after_ft[0] > before_ft[0] + 5.0, "fine-tuning should recover a heavily truncated model"
    assert all(a >= b - 1.0 for a, b in zip(after_ft, before_ft, strict=True))

    # Conv: Tucker-2 of the SmallCNN's second convolution, at the recorded ranks.
    r_in, r_out = json.loads(rec["lowrank.conv.ranks"])
    conv = dict(build("smallcnn", "mnist5k").named_modules())["features.4"]
    expected = conv.weight.numel() / factorized_params(conv, (r_in, r_out), method="tucker2")
    assert _close(rec["lowrank.conv.param_ratio"], expected)
    assert rec["lowrank.conv.param_ratio"] >= 3.0
    assert rec["lowrank.conv.flops_ratio"] > 1.5, "features.4 dominates the SmallCNN's FLOPs"
    assert rec["lowrank.conv.latency_speedup"] > 0
    assert rec["lowrank.conv.dense_accuracy"] >= 90.0
    assert rec["lowrank.conv.drop_points"] <= 3.0
    spatial = factorized_params(conv, rec["lowrank.spatial.rank"], method="spatial")
    assert _close(rec["lowrank.spatial.param_ratio"], conv.weight.numel() / spatial)
    assert rec["lowrank.spatial.flops_ratio"] > 1.5
    assert rec["lowrank.spatial.drop_points"] <= 3.0
