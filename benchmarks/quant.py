"""`effdl bench quant`: fp32 vs real int8 (`effdl.compress.quant.to_int8`) latency and size, as ratios.

Rows: the fp32 model; the same model with simulated (fake-quant) int8 weights and activations, which computes in
float and so is never faster; and the real int8 model, whose Linear layers run int8 kernels with int32 accumulation.
Latency comes from `effdl.compare_latency` (interleaved rounds, each keeping its least disturbed median, IQR
shown); sizes are the bytes of `torch.save(state_dict)`. Ratios are against fp32 measured in the same run, which is
what carries over between machines. Top-1 agreement of int8 with fake-quant int8 and with fp32 is measured on
random inputs of the model's shape (use the notebook for accuracy on real data).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch

import effdl
from effdl.compress.quant import ptq, to_int8


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="effdl bench quant", description=__doc__.splitlines()[0])
    p.add_argument("--hidden", default="1024,1024", help="MLP hidden widths, comma-separated (default 1024,1024)")
    p.add_argument("--dataset", default="mnist5k", help="input shape to build for (default mnist5k)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's current setting)")
    args = p.parse_args(None if argv is None else list(argv))  # None: the command line
    try:
        hidden = tuple(int(h) for h in args.hidden.split(","))
    except ValueError:
        raise ValueError(f"--hidden must be comma-separated ints such as 1024,1024, got {args.hidden!r}") from None
    if args.batch < 1:
        raise ValueError(f"--batch must be ≥ 1, got {args.batch}")

    shape = effdl.info(args.dataset).input_shape
    x = torch.randn(args.batch, *shape, generator=torch.Generator().manual_seed(0))
    fp32 = effdl.build("mlp", args.dataset, seed=0, hidden=hidden).eval()
    fake = ptq(fp32, (x, torch.zeros(len(x), dtype=torch.long)), weight_bits=8, act_bits=8).eval()
    int8 = to_int8(fp32)
    models = {"fp32": fp32, "fake-quant int8": fake, "real int8": int8}
    lat = effdl.compare_latency(
        models, x, rounds=args.rounds, warmup=args.warmup, repeats=args.repeats, threads=args.threads
    )
    with torch.no_grad():
        top1 = {name: m(x).argmax(1) for name, m in models.items()}
    size = {name: effdl.serialized_bytes(m) for name, m in models.items()}

    first = lat["fp32"]
    widths = [m.in_features for m in fp32.modules() if isinstance(m, torch.nn.Linear)] + [
        effdl.info(args.dataset).num_classes
    ]
    print(
        f"MLP {'-'.join(map(str, widths))}: latency per batch of {args.batch} on {first.device}, "
        f"{first.threads} threads, best of {args.rounds} rounds × {first.repeats} repeats"
    )
    print(f"{'variant':18s} {'median ms':>10s} {'IQR ms':>8s} {'speed-up':>9s} {'bytes':>11s} {'size × fp32':>12s}")
    for name in models:
        speedup = first.median_ms / lat[name].median_ms
        print(
            f"{name:18s} {lat[name].median_ms:10.3f} {lat[name].iqr_ms:8.3f} {speedup:8.2f}× "
            f"{size[name]:11,d} {size[name] / size['fp32']:12.3f}"
        )
    agree_fake = (top1["real int8"] == top1["fake-quant int8"]).float().mean().item()
    agree_fp = (top1["real int8"] == top1["fp32"]).float().mean().item()
    print(f"top-1 agreement of real int8 with fake-quant int8: {agree_fake:.1%}, with fp32: {agree_fp:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
