"""`effdl bench flad`: wall time per FLAD training step against the number K of auxiliary datasets, as ratios.

EXP3-FLAD and UCB1-FLAD play one arm per step: G auxiliary batches and one target batch go through the model
whatever K is, and the bandit's bookkeeping is arithmetic on K floats. So the time per step should stay flat from
K = 10 to K = 200, where a method that scores every auxiliary dataset each step (e.g. a gradient per dataset)
would grow linearly. Each (strategy, K) is timed by :func:`effdl.learning.flad.step_time` (warm-up steps, then
the mean step time of each repeat); the table shows the median and IQR over repeats and the ratio to K = 10 of
the same strategy measured in the same run, which is what carries over between machines.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
import torch

from effdl.learning.flad import step_time

K_VALUES = (10, 50, 200)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="effdl bench flad", description=__doc__.splitlines()[0])
    p.add_argument("--K", type=int, nargs="+", default=list(K_VALUES), help="numbers of auxiliary datasets")
    p.add_argument("--strategies", nargs="+", default=["exp3", "ucb1"], choices=["exp3", "ucb1", "uniform", "exploit"])
    p.add_argument("--G", type=int, default=1, help="auxiliary batches per step")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=50, help="steps per timed repeat")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's current setting)")
    args = p.parse_args(None if argv is None else list(argv))  # None: the command line
    if min(args.K) < 1:
        raise ValueError(f"--K values must be ≥ 1, got {args.K}")
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    times = step_time(
        args.K, strategies=args.strategies, steps=args.steps, warmup=args.warmup, repeats=args.repeats,
        G=args.G, batch_size=args.batch,
    )  # fmt: skip
    base_k = args.K[0]
    print(
        f"FLAD step time on CPU, {torch.get_num_threads()} threads: MLP 784-64-10, batch {args.batch}, G={args.G}, "
        f"{args.repeats} repeats of {args.steps} steps; ratio to K={base_k}"
    )
    print(f"{'strategy':10s} {'K':>5s} {'median ms':>10s} {'IQR ms':>8s} {f'× K={base_k}':>8s}")
    for name in args.strategies:
        base = float(np.median(times[(name, base_k)]))
        for k in args.K:
            t = times[(name, k)] * 1e3
            q1, med, q3 = np.percentile(t, [25, 50, 75])
            print(f"{name:10s} {k:5d} {med:10.3f} {q3 - q1:8.3f} {med / (base * 1e3):8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
