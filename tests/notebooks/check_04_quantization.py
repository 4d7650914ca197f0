"""Assertions on the numbers notebook 04 (quantization) records in QUICK mode."""

from __future__ import annotations

from effdl import build, model_bits
from effdl.compress.palettize import palettized_bits
from effdl.compress.quant import quantized_model_bits


def check(rec: dict) -> None:
    fp = rec["quant.fp32.accuracy"]
    assert fp >= 90.0, f"float SmallCNN only {fp:.1f}%"
    # The storage figures are those of the notebook's model, recomputed here from its architecture.
    model = build("smallcnn", "mnist5k")
    assert rec["quant.fp32.bits"] == model_bits(model)
    assert rec["quant.ptq.w4.bits"] == quantized_model_bits(model, bits=4) < model_bits(model) / 7

    # Acceptance: per-channel PTQ (8-bit activations) loses <= 0.5 points at 8 bits and <= 3 at 4 bits.
    # Measured in QUICK mode on seed 0: 0.0 and 0.3 points.
    assert abs(rec["quant.ptq.w8a8.drop"] - (fp - rec["quant.ptq.w8a8.accuracy"])) < 1e-9
    assert abs(rec["quant.ptq.w4a8.drop"] - (fp - rec["quant.ptq.w4a8.accuracy"])) < 1e-9
    assert rec["quant.ptq.w8a8.drop"] <= 0.5, f"int8 PTQ drop {rec['quant.ptq.w8a8.drop']:.2f}"
    assert rec["quant.ptq.w4a8.drop"] <= 3.0, f"4-bit PTQ drop {rec['quant.ptq.w4a8.drop']:.2f}"
    assert rec["quant.error.per_channel_wins"] is True

    # Acceptance: 2-bit QAT (STE or LSQ) recovers to within 5 points of fp32, and beats 2-bit PTQ.
    # Measured in QUICK mode (1 epoch): STE 94.6%, LSQ 95.6%, PTQ 79.9%, float 96.3%.
    best = max(rec["quant.qat.2bit.ste"], rec["quant.qat.2bit.lsq"])
    assert abs(rec["quant.qat.2bit.gap"] - (fp - best)) < 1e-9
    assert rec["quant.qat.2bit.gap"] <= 5.0, f"2-bit QAT is {rec['quant.qat.2bit.gap']:.2f} points below float"
    assert best > rec["quant.qat.2bit.ptq"]

    # k-means palettes: at least as accurate as a uniform grid with the same bits (QUICK: 1 and 2 bits), and the
    # recorded storage includes the codebook.
    for b in (1, 2):
        assert rec[f"quant.kmeans.{b}bit.accuracy"] >= rec[f"quant.kmeans.{b}bit.uniform_accuracy"] - 1.0
        assert rec[f"quant.kmeans.{b}bit.bits"] == palettized_bits(model, bits=b)

    # Acceptance: the real int8 model is <= 0.3x the fp32 bytes and agrees with fake-quant int8 on >= 99% of the
    # test digits. Its speed-up is recorded, not asserted (timings are noisy; effdl bench quant reports it).
    assert rec["quant.int8.size_ratio"] <= 0.3, rec["quant.int8.size_ratio"]
    assert rec["quant.int8.agreement"] >= 99.0, rec["quant.int8.agreement"]
    assert rec["quant.int8.speedup"] > 0
    assert abs(rec["quant.int8.accuracy"] - rec["quant.int8.fp32_accuracy"]) <= 1.0
