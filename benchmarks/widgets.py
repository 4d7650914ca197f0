"""`effdl bench widgets`: how live each chapter's main widget feels, measured in a real JupyterLab in headless Chromium.

For every chapter (or those named), the notebook runs in QUICK mode in JupyterLab, then its main control (class
``effdl-main-control``) gets one-step key presses, as a reader would press them, and each is timed from the key press
to the end of the figure's redraw. Prints the median and 90th percentile per chapter with the load average beside
them; ``--json`` writes them too. ``--from build/widget_latency.json`` prints the table the browser tests wrote.
Nothing here is asserted: the target (median ≤ 150 ms, p90 ≤ 250 ms on 2 cores) is read off the table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def table(rows: dict[str, dict]) -> str:
    lines = [f"{'chapter':<28} {'median ms':>10} {'p90 ms':>8} {'moves':>6} {'load (1 min)':>13}  target"]
    for name, r in rows.items():
        ok = "✓" if r["median_ms"] <= 150 and r["p90_ms"] <= 250 else "✗"
        load = r.get("load", float("nan"))
        lines.append(f"{name:<28} {r['median_ms']:>10.0f} {r['p90_ms']:>8.0f} {r['moves']:>6} {load:>13.2f}  {ok}")
    return "\n".join(lines)


def _shutdown_kernels(server) -> None:
    import urllib.request

    base = f"http://127.0.0.1:{server.port}/api/kernels"
    auth = {"Authorization": f"token {server.token}"}
    with urllib.request.urlopen(urllib.request.Request(base, headers=auth), timeout=10) as r:
        kernels = json.load(r)
    for k in kernels:
        urllib.request.urlopen(urllib.request.Request(f"{base}/{k['id']}", method="DELETE", headers=auth), timeout=30)


def measure(names: Sequence[str] | None, moves: int) -> dict[str, dict]:
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from labdriver import (
        CHROMIUM,
        CHROMIUM_FLAGS,
        LabServer,
        latency_summary,
        measure_main_control,
        open_and_run_all,
        prepare_notebooks,
    )
    from playwright.sync_api import sync_playwright

    from effdl import series

    todo = series.chapters(names or None)
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        root = work / "notebooks"
        prepare_notebooks([series.notebooks_dir() / f"{c.name}.ipynb" for c in todo], root)
        with LabServer(root, work) as server, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS[1:])
            for c in todo:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                try:
                    print(f"▶ {c.name}: running in JupyterLab …", flush=True)
                    open_and_run_all(page, server, f"{c.name}.ipynb")
                    times = measure_main_control(page, moves=moves)
                    rows[c.name] = {**latency_summary(times), "load": os.getloadavg()[0], "times_ms": times}
                    print(
                        f"  median {rows[c.name]['median_ms']:.0f} ms, p90 {rows[c.name]['p90_ms']:.0f} ms", flush=True
                    )
                finally:
                    page.close()
                    _shutdown_kernels(server)  # free the cores for the next chapter
            browser.close()
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="effdl bench widgets", description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="chapters (default all)")
    p.add_argument("--moves", type=int, default=24, help="key presses per chapter (default 24)")
    p.add_argument("--json", default=None, metavar="PATH", help="also write the numbers as JSON")
    p.add_argument("--from", dest="source", default=None, metavar="PATH", help="print a table written earlier")
    args = p.parse_args(None if argv is None else list(argv))
    if args.moves < 1:
        raise ValueError(f"--moves must be ≥ 1, got {args.moves}")
    source = Path(args.source) if args.source else None
    rows = json.loads(source.read_text(encoding="utf-8")) if source else measure(args.names, args.moves)
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
