"""Assertions on the numbers notebook 00 (tour) records in QUICK mode."""

from __future__ import annotations

import json

import torch

from effdl import build, count_flops, count_params, model_bits

TOUR_MODELS = ("mlp", "smallcnn", "mobilenetv1", "resnet20")


def _buffer_bits(model: torch.nn.Module) -> int:
    # BatchNorm running statistics are shipped too (32-bit); num_batches_tracked is an int64 counter.
    return sum(32 * b.numel() for b in model.buffers())


def check(rec: dict) -> None:
    for m in TOUR_MODELS:
        # Every model learns MNIST digits in QUICK mode.
        assert rec[f"tour.{m}.accuracy"] >= 90.0, f"{m}: {rec[f'tour.{m}.accuracy']:.1f}% < 90%"
        # The footprint the notebook shows is what effdl.core.footprint computes outside it.
        cfg = json.loads(rec[f"tour.{m}.config"])
        name = cfg.pop("name")
        assert name == m
        model = build(name, "mnist5k", **cfg)
        assert rec[f"tour.{m}.params"] == count_params(model)
        assert rec[f"tour.{m}.bits"] == model_bits(model) == 32 * count_params(model) + _buffer_bits(model)
        assert rec[f"tour.{m}.macs"] == count_flops(model, torch.zeros(1, 1, 28, 28)).macs
        assert rec[f"tour.{m}.latency_ms"] > 0
    # The design ideas show in the numbers: weight sharing trades parameters for MACs.
    assert rec["tour.smallcnn.params"] < rec["tour.mlp.params"] < rec["tour.smallcnn.macs"]
    assert rec["tour.resnet20.params"] < rec["tour.smallcnn.params"]
