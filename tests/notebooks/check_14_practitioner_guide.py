"""Assertions on the numbers notebook 14 (the practitioner's guide: one model through every technique) records.

``check``: QUICK mode, SEED = 0 (reference trained 3 epochs, 7 single techniques and 4 combinations with one
fine-tuning epoch per step, accuracy constraint 4 points, ordering study over 2 seeds). ``check_full``: full mode,
seed 0 (8 epochs, 14 single techniques and 9 combinations, 2 fine-tuning epochs per step, constraint 2 points,
3 seeds), the issue's acceptance figures (issue 20), within the stated tolerances.
"""

from __future__ import annotations


def _common(rec: dict, *, min_ratio: float, max_drop_points: float) -> None:
    # The packed fp32 reference is its raw values plus a header: within 2 % below torch.save's file, never above.
    assert 0.98 * rec["guide.reference.fp32_bytes"] <= rec["guide.reference.packed_bytes"]
    assert rec["guide.reference.packed_bytes"] <= rec["guide.reference.fp32_bytes"]
    # Acceptance: the end-to-end compression factor (bytes of the real file vs the fp32 file) and the test accuracy
    # drop of the pipeline the decision guide picks for disk (chosen on validation within MAX_DROP).
    assert rec["guide.disk.ratio"] >= min_ratio, rec["guide.disk.ratio"]
    assert 100 * rec["guide.disk.test_drop"] <= max_drop_points, rec["guide.disk.test_drop"]
    assert 100 * rec["guide.disk.val_drop"] <= 100 * rec["guide.energy.max_drop"] + 1e-9  # the declared constraint
    # "Techniques multiply": the best pipeline within the constraint is at least twice as small as the best single
    # technique (measured 79× vs 15× QUICK).
    assert rec["guide.best.ratio"] >= 2 * rec["guide.best_alone.ratio"], rec
    assert "→" in rec["guide.best.label"], rec["guide.best.label"]  # a combination, not one technique
    # "the LZSS codec takes a further x % off that file": at least 5 % (measured 13 % QUICK).
    assert rec["guide.best.lzss_gain"] >= 1.05, rec["guide.best.lzss_gain"]
    # Energy: the winner spends at least 10× less per image than fp32 (measured 32× QUICK); the estimate is computed
    # from bytes and MACs, not timed.
    assert rec["guide.energy.gain"] >= 10, rec["guide.energy.gain"]
    # Ordering study: both orders end at the same sparsity and bits. Unless prune → quantize is ahead on every seed,
    # the prose says the order is not the lever (either order recovers what the other loses): then the mean
    # difference is within 1 point.
    for k in ("prune_first", "quant_first"):
        assert 0.85 <= rec[f"guide.order.{k}"] <= 1.0, rec[f"guide.order.{k}"]
    if rec["guide.order.diff_min"] <= 0:
        assert abs(rec["guide.order.diff_mean"]) <= 0.01, rec["guide.order.diff_mean"]
    # Bring your own model: resnet18 (random weights, offline): every Conv2d/Linear reported; half the channels
    # leave at most 35 % of the MACs (≈ (1/2)² plus the stem; measured 27 %); int8 storage is 4× smaller.
    assert rec["guide.resnet.params"] == 11_689_512 and rec["guide.resnet.layers"] == 21
    assert rec["guide.resnet.pruned_macs"] <= 0.35 * rec["guide.resnet.macs"], rec
    assert rec["guide.resnet.pruned_params"] <= 0.3 * rec["guide.resnet.params"], rec
    assert rec["guide.resnet.fp32_bytes"] / rec["guide.resnet.computed_int8_bytes"] >= 3.9, rec
    # compress() on the MLP keeps its contract (validation drop within MAX_DROP) and shrinks the file ≥ 10×
    # (measured 27.9× QUICK).
    assert rec["guide.compress.val_drop"] <= rec["guide.energy.max_drop"] + 1e-9, rec["guide.compress.val_drop"]
    assert rec["guide.compress.ratio"] >= 10, rec["guide.compress.ratio"]
    assert rec["guide.compress.bytes"] < rec["guide.reference.fp32_bytes"]


def check(rec: dict) -> None:
    assert rec["guide.energy.max_drop"] == 0.04 and rec["guide.order.seeds"] == 2
    # Measured QUICK seed 0: validation 93.6 %, test 93.5 %; ± 2 points.
    assert abs(rec["guide.reference.val"] - 0.936) <= 0.02 and abs(rec["guide.reference.test"] - 0.935) <= 0.02, rec
    # Acceptance (QUICK): ≥ 10× smaller on disk with at most 4 points of test accuracy lost. Measured 78.4× (channels
    # −50% → prune 90% → palette 4-bit), −1.9 points.
    _common(rec, min_ratio=10, max_drop_points=4)


def check_full(rec: dict) -> None:
    assert rec["guide.energy.max_drop"] == 0.02 and rec["guide.order.seeds"] == 3
    assert rec["guide.best.stages"] >= 30
    # Acceptance (full): ≥ 20× smaller on disk with at most 2 points of test accuracy lost (Deep Compression: 35–49×).
    # Measured: 81.4× (distill ×0.5 → prune 90% → palette 4-bit, 5,216 bytes), −0.7 points (96.6 → 95.9 %).
    _common(rec, min_ratio=20, max_drop_points=2)
    assert rec["guide.reference.test"] >= 0.95, rec["guide.reference.test"]
    # Ordering study: the verdict is printed as measured, and it depends on the machine (floating-point paths of the
    # CPU's kernels change the fine-tuned weights): one machine measured prune → quantize ahead on every seed (+0.4
    # to +0.8 points, mean +0.6; the run behind the README), another the order flipping (−0.2 to +0.5, mean +0.1),
    # within the 1-point bound _common asserts for the "order is not the lever" branch. The winner is not stable
    # across machines, so none is asserted.
    # The latency statement of the takeaways (full run only; a timing, so not asserted in QUICK CI runs): when the
    # guide finds a gain beyond noise, it comes from removing work (channels or a narrower student).
    if rec["guide.latency.clear"]:
        assert "channels" in rec["guide.latency.label"] or "distill" in rec["guide.latency.label"], rec
