"""`effdl bench latency`: inference latency of the workbench's models, as ratios to the MLP measured in the same run.

Each model is timed with `effdl.measure_latency` (warm-up, then the median and interquartile range of many timed
forward passes). Ratios against a baseline measured in the same process are what carry over between machines; the
absolute milliseconds describe only this one.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch

import effdl

MODELS = {
    "MLP": ("mlp", {}),
    "SmallCNN": ("smallcnn", {}),
    "MobileNetV1 (w=0.5, 7 blocks)": ("mobilenetv1", {"width": 0.5, "depth": 7}),
    "ResNet20 (w=0.5)": ("resnet20", {"width": 0.5}),
}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="effdl bench latency", description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="mnist5k", help="input shape to build for (default mnist5k)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's current setting)")
    p.add_argument("--device", default="cpu")
    args = p.parse_args(None if argv is None else list(argv))
    if args.batch < 1:
        raise ValueError(f"--batch must be ≥ 1, got {args.batch}")

    shape = effdl.info(args.dataset).input_shape
    x = torch.randn(args.batch, *shape)
    rows = []
    for label, (name, cfg) in MODELS.items():
        model = effdl.build(name, args.dataset, seed=0, **cfg)
        lat = effdl.measure_latency(
            model, x, warmup=args.warmup, repeats=args.repeats, threads=args.threads, device=args.device
        )
        macs = effdl.count_flops(model, x[:1]).macs
        rows.append((label, lat, macs))

    base = rows[0][1].median_ms
    first = rows[0][1]
    print(f"latency per batch of {args.batch} on {first.device}, {first.threads} threads, {args.repeats} repeats")
    print(f"{'model':32s} {'median ms':>10s} {'IQR ms':>8s} {'× MLP':>7s} {'MACs/sample':>12s} {'GMAC/s':>7s}")
    for label, lat, macs in rows:
        gmacs = macs * args.batch / (lat.median_ms / 1e3) / 1e9
        print(
            f"{label:32s} {lat.median_ms:10.3f} {lat.iqr_ms:8.3f} {lat.median_ms / base:7.2f} {macs:12,d} {gmacs:7.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
