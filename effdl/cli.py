"""The ``effdl`` command: ``list | run | sweep | student | solutions | book | results | lab | bench``."""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from effdl import series
from effdl.distributed import ClusterError, is_address


def _cmd_list(args: argparse.Namespace) -> int:
    for c in series.CATALOGUE:
        print(f"{c.name:<28} {c.title}")
        print(f"{'':<28} {c.topic}")
        print(f"{'':<28} papers: {c.papers} · ~{c.quick_s} s quick, ~{c.full_s} s full")
    return 0


def _print_result(res: series.RunResult) -> None:
    if res.ok:
        print(f"✓ {res.chapter.name}  {res.seconds:.0f} s  ({len(res.records)} results)", flush=True)
    else:
        print(f"✗ {res.chapter.name}  failed after {res.seconds:.0f} s: {res.error}", flush=True)
        print(f"  the executed notebook, with the error in place: {res.output}", flush=True)


def _dask_option(args: argparse.Namespace, positional: str) -> None:
    """``--dask`` takes an optional address, so ``--dask 00_tour`` swallows a chapter name: give it back."""
    value = getattr(args, "dask", None)
    if value and not is_address(value):
        names = getattr(args, positional)
        if isinstance(names, list):
            names.insert(0, value)
        elif names is None:
            setattr(args, positional, value)
        else:
            raise ValueError(f"--dask takes a scheduler address like tcp://host:8786, got {value!r}")
        args.dask = ""


def _cmd_run(args: argparse.Namespace) -> int:
    _dask_option(args, "names")
    params = {key: series.parse_parameter(value) for key, value in args.parameter or []}
    todo = series.chapters(args.names or None)
    mode = "QUICK" if args.quick else "full"
    kind = "solutions (every checker must pass)" if args.solutions else "student version"
    where = (
        ""
        if args.dask is None
        else f" as Dask tasks on {args.dask}"
        if args.dask
        else " as Dask tasks on a LocalCluster"
    )
    print(
        f"effdl run: {len(todo)} notebook(s), {mode} mode, {kind}, "
        f"{'one per worker thread' if args.dask else args.jobs or os.cpu_count()} at a time"
        f"{where} → {args.out}/"
    )
    for c in todo:
        print(f"▶ {c.name}", flush=True)
    common = {
        "quick": args.quick,
        "parameters": params,
        "threads": args.threads,
        "out": args.out,
        "solutions": args.solutions,
        "on_result": _print_result,
    }
    if args.dask is not None:
        from effdl import distributed

        results = distributed.run(args.names or None, scheduler=args.dask or None, workers=args.jobs, **common)
    else:
        results = series.run(args.names or None, jobs=args.jobs, **common)
    if not args.no_book:
        from effdl.book import build_book

        print(f"HTML book: {build_book(args.out)}")
    print()
    print(series.results_table(results))
    failed = [r.chapter.name for r in results if not r.ok]
    if failed:
        print(f"\n{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from effdl import distributed

    _dask_option(args, "chapter")
    if args.chapter is None:
        raise ValueError("name the chapter to sweep, e.g. effdl sweep 02_lowrank -p SEED 0,1")
    grid = distributed.parse_grid(args.parameter or [])
    chapter = distributed.check_grid(args.chapter, grid)  # fail before the banner, not after
    cells = math.prod(len(v) for v in grid.values())
    where = "local processes" if args.dask is None else f"Dask at {args.dask}" if args.dask else "a Dask LocalCluster"
    shape = " × ".join(f"{k} {v}" for k, v in grid.items())
    print(f"effdl sweep: {chapter.name}, {shape} = {cells} run(s), {'QUICK' if args.quick else 'full'} mode, {where}")

    def progress(cell: distributed.SweepCell) -> None:
        label = " ".join(f"{k}={v!r}" for k, v in cell.parameters.items())
        if cell.ok:
            print(f"✓ {label}  {cell.seconds:.0f} s  ({len(cell.records)} results)", flush=True)
        else:
            print(f"✗ {label}  failed after {cell.seconds:.0f} s: {cell.error}", flush=True)

    dask: bool | str = False if args.dask is None else args.dask or True
    result = distributed.sweep(
        args.chapter,
        grid,
        quick=args.quick,
        dask=dask,
        workers=args.jobs,
        threads=args.threads,
        out=args.out,
        on_cell=progress,
    )
    folder = Path(result[0].output).parent
    print(f"\n{(folder / 'summary.md').read_text(encoding='utf-8')}")
    print(f"wrote {folder}/sweep.json, summary.md and summary.csv")
    failed = [c for c in result if not c.ok]
    if failed:
        print(f"\n{len(failed)} of {len(result)} run(s) failed", file=sys.stderr)
        return 1
    return 0


def _cmd_version(args: argparse.Namespace) -> int:
    from effdl import course

    todo = series.chapters(args.names or None)
    paths = course.write_version(args.out, args.command, [series.notebooks_dir() / f"{c.name}.ipynb" for c in todo])
    what = "solutions cleared" if args.command == "student" else "with the reference solutions"
    print(f"wrote {len(paths)} notebook(s), {what}, outputs cleared → {args.out}/")
    return 0


def _cmd_book(args: argparse.Namespace) -> int:
    from effdl.book import build_book

    print(f"HTML book: {build_book(args.out)} (open it in a browser; it needs no network)")
    return 0


def _cmd_results(args: argparse.Namespace) -> int:
    results = series.load_results(args.source)
    if args.into and not args.markdown:
        raise ValueError("--into needs --markdown")
    if args.markdown:
        # Refusals (quick mode, mixed runs, failures) are ValueErrors: main() prints them as one line, exit code 2.
        block = series.results_markdown(results, allow_mixed=args.allow_mixed)
        if args.into:
            path = Path(args.into)
            path.write_text(series.splice_results(path.read_text(encoding="utf-8"), block), encoding="utf-8")
            print(f"wrote the results section of {path} from {args.source}")
        else:
            print(block, end="")
    else:
        print(series.results_summary(results))
    return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_command(
    *, port: int | None = None, token: str | None = None, browser: bool = True, root: str | Path | None = None
) -> list[str]:
    """The JupyterLab command line: bound to 127.0.0.1 with a token, never an open server, serving ``root``
    (default: the series' notebooks/); kernel traffic encrypted where supported (:func:`series.kernel_encryption`)."""
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port or _free_port()}",
        f"--IdentityProvider.token={token or secrets.token_urlsafe(24)}",
        f"--ServerApp.root_dir={root if root is not None else series.notebooks_dir()}",
    ]
    if series.kernel_encryption():
        cmd.append("--KernelManager.transport_encryption=auto")
    if not browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers often run as root; Jupyter refuses without this flag
    return cmd


def _cmd_lab(args: argparse.Namespace) -> int:
    cmd = lab_command(port=args.port, browser=not args.no_browser)
    print("Starting JupyterLab on 127.0.0.1 (token-protected); stop it with Ctrl-C.")
    return subprocess.call(cmd)


def benchmarks_dir() -> Path:
    return series.repo_root() / "benchmarks"


def available_benchmarks() -> list[str]:
    folder = benchmarks_dir()
    return sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith("_")) if folder.is_dir() else []


def _cmd_bench(args: argparse.Namespace) -> int:
    names = available_benchmarks()
    if args.name not in names:
        raise ValueError(f"unknown benchmark {args.name!r}; choose from: {', '.join(names) or '(none found)'}")
    spec = importlib.util.spec_from_file_location(f"effdl_bench_{args.name}", benchmarks_dir() / f"{args.name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return int(module.main(args.args) or 0)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="effdl", description="effdl — a workbench for efficient deep learning.")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="the notebook catalogue").set_defaults(func=_cmd_list)

    r = sub.add_parser("run", help="execute notebooks with papermill, build the HTML book, print the results")
    r.add_argument("names", nargs="*", help="notebooks to run (e.g. 00_tour, 00 or tour); default all")
    r.add_argument("--quick", action="store_true", help="QUICK=True: small sizes, about a minute per notebook")
    r.add_argument(
        "-p", "--parameter", nargs=2, action="append", metavar=("KEY", "VALUE"), help="a papermill parameter"
    )
    r.add_argument("-j", "--jobs", type=int, default=None, help="notebooks in parallel (default: CPU count)")
    r.add_argument("--threads", type=int, default=None, help="torch threads per kernel (default: CPU count // jobs)")
    r.add_argument(
        "--dask",
        nargs="?",
        const="",
        default=None,
        metavar="SCHEDULER",
        help="run each notebook as a Dask task: on the cluster at SCHEDULER (tcp://host:8786), or without it on a "
        "LocalCluster of --jobs processes; needs " + '`pip install "dask[distributed]"`',
    )
    r.add_argument("--out", default="build", help="output folder (default: build)")
    r.add_argument("--no-book", action="store_true", help="skip the HTML book")
    r.add_argument(
        "--solutions",
        action="store_true",
        help="run the reference solutions; a checker that answers 'not yet' fails the notebook (default: the student "
        "version, whose checkers answer 'not yet')",
    )
    r.set_defaults(func=_cmd_run)

    sw = sub.add_parser("sweep", help="one chapter over a parameter grid, in parallel, with a mean ± std summary")
    sw.add_argument("chapter", nargs="?", help="the chapter (e.g. 02_lowrank, 02 or lowrank)")
    sw.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUES"),
        help="a notebook parameter and its comma-separated values, e.g. -p SEED 0,1,2 -p BITS 2,4",
    )
    sw.add_argument("--quick", action="store_true", help="QUICK=True in every run")
    sw.add_argument(
        "--dask",
        nargs="?",
        const="",
        default=None,
        metavar="SCHEDULER",
        help="run the cells as Dask tasks: on the cluster at SCHEDULER, or without it on a LocalCluster",
    )
    sw.add_argument("-j", "--jobs", type=int, default=None, help="runs in parallel (default: CPU count)")
    sw.add_argument("--threads", type=int, default=None, help="torch threads per kernel")
    sw.add_argument("--out", default=None, help="output folder (default: build/sweep-CHAPTER)")
    sw.set_defaults(func=_cmd_sweep)

    for kind, what in (("student", "solutions cleared (nbgrader stubs)"), ("solutions", "with reference solutions")):
        v = sub.add_parser(kind, help=f"write the {kind} version of the notebooks, {what}, for distribution")
        v.add_argument("out", help="output folder")
        v.add_argument("names", nargs="*", help="notebooks (e.g. 01 or pruning); default all")
        v.set_defaults(func=_cmd_version)

    b = sub.add_parser("book", help="the offline HTML book (Sphinx) from the executed notebooks in --out")
    b.add_argument("--out", default="build")
    b.set_defaults(func=_cmd_book)

    res = sub.add_parser("results", help="the recorded numbers and their provenance, from build/results.json")
    res.add_argument(
        "--from", dest="source", default="build/results.json", metavar="PATH", help="default: build/results.json"
    )
    res.add_argument(
        "--markdown",
        action="store_true",
        help="print the README's results section; refused for quick-mode, failed or mixed results",
    )
    res.add_argument(
        "--allow-mixed",
        action="store_true",
        help="with --markdown: print quick-mode, failed or mixed-run results anyway, each chapter with its provenance",
    )
    res.add_argument(
        "--into",
        metavar="FILE",
        default=None,
        help="with --markdown: replace the part of FILE (e.g. README.md) between the effdl results markers",
    )
    res.set_defaults(func=_cmd_results)

    lab = sub.add_parser("lab", help="JupyterLab on notebooks/, on 127.0.0.1 with a token")
    lab.add_argument("--port", type=int, default=None)
    lab.add_argument("--no-browser", action="store_true")
    lab.set_defaults(func=_cmd_lab)

    bench = sub.add_parser("bench", help="run a benchmark from benchmarks/ (e.g. effdl bench latency)")
    bench.add_argument("name")
    bench.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the benchmark")
    bench.set_defaults(func=_cmd_bench)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError, ClusterError) as err:
        # Bad input gets one clear line, not a traceback.
        print(f"effdl: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
