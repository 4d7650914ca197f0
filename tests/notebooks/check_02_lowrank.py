"""Assertions on the numbers notebook 02 (low-rank factorization) records in QUICK mode."""

from __future__ import annotations

import json

from torch import nn

from effdl import build
from effdl.compress.lowrank import factorized_params


def _close(a: float, b: float, tol: float = 1e-6) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


def check(rec: dict) -> None:
    # QUICK: MLP 3 epochs, SmallCNN 2 epochs, fine-tuning 1 epoch. Measured values are given as seeds 0 / 1 / 2.
    dense = rec["lowrank.dense.accuracy"]
    # A working MLP to factorize (92.6 / 93.2 / 92.5); 90% catches a model that did not train.
    assert dense >= 90.0, f"the MLP should learn MNIST digits in QUICK mode, got {dense:.1f}%"

    # "Energy is a proxy": the smallest rank (of those tried) within 1 point of dense is far below the rank that keeps
    # 90% of the energy (16 vs 162 / 163 / 163 of 256). Asserted: at most half of it.
    r_ok, r90 = rec["lowrank.mlp.rank_within_1pt"], rec["lowrank.mlp.rank_energy90"]
    assert r_ok > 0 and 2 * r_ok <= r90, f"rank within 1 point {r_ok} vs rank for 90% energy {r90}"

    # MLP: the hidden Linear layers (model.features) hold >= 3x fewer parameters after factorization (fixed by the
    # ranks: 3.74x; the recorded ratio is recomputed here from the recorded ranks, outside the notebook).
    ranks = json.loads(rec["lowrank.mlp.ranks"])
    mlp = build("mlp", "mnist5k")
    layers = dict(mlp.named_modules())
    assert set(ranks) == {f"features.{n}" for n, m in mlp.features.named_children() if isinstance(m, nn.Linear)}
    before = sum(layers[name].weight.numel() + layers[name].bias.numel() for name in ranks)
    after = sum(factorized_params(layers[name], r) for name, r in ranks.items())
    ratio = rec["lowrank.mlp.param_ratio"]
    assert _close(ratio, before / after), f"recorded param ratio {ratio} != {before}/{after} from the recorded ranks"
    assert ratio >= 3.0, f"hidden layers only {ratio:.2f}x smaller, need >= 3x"
    assert rec["lowrank.mlp.flops_ratio"] >= 3.0  # a Linear's MACs shrink with its weights (3.70x)
    # After fine-tuning, against the dense model as trained: drop -0.5 / 0.1 / -0.5 points (negative = above);
    # claimed "a drop of at most about 1 point", tolerance 1 point (10 of the 1,000 test digits).
    drop = rec["lowrank.mlp.drop_points"]
    assert drop <= 1.0, f"drop after fine-tuning {drop:.2f} points > 1"
    # The fair control: the dense MLP fine-tuned the same way (same epochs, data, learning rate): it reaches
    # 93.0 / 93.6 / 93.7%, and the factorized model is -0.1 / 0.5 / 0.7 points below it. Claimed: within about
    # a point of the equally fine-tuned dense model; asserted <= 1.5 points (1 point plus the seed-to-seed spread of
    # one fine-tuning epoch).
    gap = rec["lowrank.mlp.gap_vs_dense_ft_points"]
    assert gap <= 1.5, f"factorized + fine-tuning is {gap:.2f} points below the dense model fine-tuned the same way"

    # Fine-tuning recovery at the smallest rank of the sweep (rank 4): truncation alone collapses (40.7 / 33.1 /
    # 32.5%, about 60 points below dense; asserted: > 20 points below), and fine-tuning brings back a large part
    # (69.4 / 64.0 / 77.3%, +29 / +31 / +45 points; asserted: >= +15 points).
    sweep_ranks = json.loads(rec["lowrank.sweep.ranks"])
    before_ft = json.loads(rec["lowrank.sweep.before_ft"])
    after_ft = json.loads(rec["lowrank.sweep.after_ft"])
    assert len(sweep_ranks) == len(before_ft) == len(after_ft) >= 2
    assert before_ft[0] < dense - 20.0, f"rank {sweep_ranks[0]} should collapse before fine-tuning: {before_ft[0]}"
    assert after_ft[0] >= before_ft[0] + 15.0, f"fine-tuning recovered only {after_ft[0] - before_ft[0]:.1f} points"

    # Conv: Tucker-2 of the SmallCNN's second convolution, at the recorded ranks (4.09x; 2.57x fewer model FLOPs).
    r_in, r_out = json.loads(rec["lowrank.conv.ranks"])
    conv = dict(build("smallcnn", "mnist5k").named_modules())["features.4"]
    expected = conv.weight.numel() / factorized_params(conv, (r_in, r_out), method="tucker2")
    assert _close(rec["lowrank.conv.param_ratio"], expected)
    assert rec["lowrank.conv.param_ratio"] >= 3.0
    assert rec["lowrank.conv.flops_ratio"] >= 2.5, "features.4 dominates the SmallCNN's FLOPs"
    spatial = factorized_params(conv, rec["lowrank.spatial.rank"], method="spatial")
    assert _close(rec["lowrank.spatial.param_ratio"], conv.weight.numel() / spatial)
    assert rec["lowrank.spatial.flops_ratio"] >= 2.5  # 2.54x
    # A working SmallCNN (95.1 / 95.5 / 96.5), and its fair control: the same fine-tuning applied to it
    # (96.1 / 96.6 / 97.1%). Tucker-2 and the spatial separation after fine-tuning are 0.3 / 0.8 / 0.0 and
    # 0.6 / -0.1 / 0.0 points below that control; claimed within about a point, asserted <= 1.5 as for the MLP.
    # (Latencies are recorded, not asserted: timings are noisy.)
    assert rec["lowrank.conv.dense_accuracy"] >= 90.0
    for key in ("lowrank.conv.gap_vs_dense_ft_points", "lowrank.spatial.gap_vs_dense_ft_points"):
        assert rec[key] <= 1.5, f"{key}: {rec[key]:.2f} points below the dense SmallCNN fine-tuned the same way"
