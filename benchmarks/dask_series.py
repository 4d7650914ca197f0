"""`effdl bench dask_series`: wall time of QUICK chapters run serially against the same chapters as Dask tasks on a
LocalCluster (effdl.distributed), with the ratio. Recorded, not asserted.

Both sides give every kernel the same torch threads (`--threads`, default 1), so they differ only in how many
notebooks run at once: one (serial, `effdl run -j 1`) or one per worker (`--workers`, default 2). The Dask time
includes starting and stopping the cluster, as `effdl run --dask` pays it. Each side runs `--repeats` times,
interleaved; the median and the range are shown. The records of both sides are compared (measured timings aside).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from effdl import distributed, series

# Records that are wall-clock measurements differ between any two runs; every other one must be equal.
TIMING = re.compile(r"latency|seconds|_ms\b|_s\b|speedup|per_s|throughput_mbs|time", re.IGNORECASE)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="effdl bench dask_series", description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="chapters (default: the whole series)")
    p.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes (default 2)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per kernel, both sides (default 1)")
    p.add_argument("--repeats", type=int, default=1)
    args = p.parse_args(None if argv is None else list(argv))
    if args.repeats < 1 or args.workers < 1 or args.threads < 1:
        given = f"{args.repeats}, {args.workers}, {args.threads}"
        raise ValueError(f"--repeats, --workers and --threads must be ≥ 1, got {given}")
    todo = [c.name for c in series.chapters(args.names or None)]
    # Worker processes and kernels import effdl from this checkout, whatever the caller's PYTHONPATH.
    root = str(series.repo_root())
    os.environ["PYTHONPATH"] = os.pathsep.join(x for x in (root, os.environ.get("PYTHONPATH")) if x)

    times: dict[str, list[float]] = {"serial": [], "dask": []}
    records: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="effdl-bench-") as tmp:
        for i in range(args.repeats):
            for side in times:
                out = Path(tmp) / f"{side}-{i}"
                start = time.perf_counter()
                if side == "serial":
                    res = series.run(todo, quick=True, jobs=1, threads=args.threads, out=out)
                else:
                    res = distributed.run(todo, workers=args.workers, quick=True, threads=args.threads, out=out)
                times[side].append(time.perf_counter() - start)
                failed = [r.chapter.name for r in res if not r.ok]
                if failed:
                    raise RuntimeError(f"{side} run failed for {', '.join(failed)}")
                records[side] = [r.records for r in res]

    differ = [
        f"{name}:{key}"
        for name, a, b in zip(todo, records["serial"], records["dask"], strict=True)
        for key in a.keys() | b.keys()
        if a.get(key) != b.get(key) and not TIMING.search(key)
    ]
    print(
        f"QUICK chapters {', '.join(todo)}: {os.cpu_count()} CPU cores, {args.threads} torch thread(s) per kernel, "
        f"{args.repeats} repeat(s)"
    )
    print(f"{'run':34s} {'median s':>9s} {'min s':>7s} {'max s':>7s} {'× serial':>9s}")
    base = statistics.median(times["serial"])
    labels = {"serial": "serial (effdl run -j 1)", "dask": f"Dask LocalCluster, {args.workers} workers"}
    for side, ts in times.items():
        med = statistics.median(ts)
        print(f"{labels[side]:34s} {med:9.1f} {min(ts):7.1f} {max(ts):7.1f} {med / base:9.2f}")
    print(f"speed-up of Dask over serial: {base / statistics.median(times['dask']):.2f}×")
    print("records: equal (timings aside)" if not differ else f"records differ: {', '.join(differ)}")
    return 0 if not differ else 1


if __name__ == "__main__":
    raise SystemExit(main())
