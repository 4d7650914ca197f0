"""The series and parameter sweeps on a Dask cluster: ``effdl run --dask [ADDR]`` and ``effdl sweep``.

Dask does the scheduling; this module only turns chapters (or the cells of a parameter grid) into tasks. Each task
executes one notebook with papermill on a worker through the serial runner's own :func:`effdl.series._execute`, in a
temporary folder there, and sends the executed notebook back, so the client writes ``out/NAME.ipynb`` and
``out/results.json`` exactly as a serial run does (timings aside), whether the workers share its disk or not. The
client sends the notebook itself; a worker needs only effdl installed, at the client's version and source (checked
on every worker before anything runs). Dask is imported lazily: ``import effdl`` works without it.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import hashlib
import itertools
import json
import logging
import math
import multiprocessing
import os
import platform
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from effdl import series

__all__ = [
    "INSTALL_HINT",
    "ClusterError",
    "SweepCell",
    "check_grid",
    "check_workers",
    "connect",
    "identity",
    "is_address",
    "parse_grid",
    "run",
    "source_hash",
    "summarize",
    "sweep",
]

INSTALL_HINT = 'pip install "dask[distributed]"'


class ClusterError(RuntimeError):
    """The Dask cluster cannot be used: Dask missing, scheduler unreachable, no workers, or a worker's effdl differs."""


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as err:
        raise ClusterError(f"running on Dask needs dask.distributed, which is not installed: {INSTALL_HINT}") from err
    return distributed


def is_address(text: str) -> bool:
    """True for a scheduler address (``tcp://host:8786``, ``host:8786``), False for anything else (a chapter name)."""
    return isinstance(text, str) and ("://" in text or re.fullmatch(r"[\w.\-]+:\d+", text) is not None)


def source_hash() -> str:
    """sha256 (16 hex digits) of the effdl package's ``.py`` files, path and bytes in sorted order: two installs with
    equal hashes run the same code, even where an edited checkout kept the version number."""
    root = Path(series.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def identity() -> dict[str, str]:
    """What must agree between the client and every worker: effdl's version and source hash (and, for messages,
    the Python version). Runs on each worker through ``Client.run``."""
    import effdl

    return {"effdl": effdl.__version__, "source": source_hash(), "python": platform.python_version()}


def check_workers(client: Mapping[str, str], workers: Mapping[str, Mapping[str, str]]) -> None:
    """Raise :class:`ClusterError` naming every worker whose effdl version or source hash differs from ``client``'s
    (both from :func:`identity`); ``workers`` maps worker addresses to their identities."""
    if not workers:
        raise ClusterError("the Dask cluster has no workers; start some with `dask worker ADDRESS`")
    wrong = []
    for address, ident in sorted(workers.items()):
        if ident.get("effdl") != client["effdl"]:
            wrong.append(f"{address} has effdl {ident.get('effdl')} (client: {client['effdl']})")
        elif ident.get("source") != client["source"]:
            wrong.append(f"{address} has other effdl source (hash {ident.get('source')}, client: {client['source']})")
    if wrong:
        raise ClusterError(
            "effdl differs between this client and Dask worker(s): "
            + "; ".join(wrong)
            + ". Install the same checkout on every worker machine with the README's two set-up commands "
            "(git clone … && pip install -e .), at the client's commit, then restart the workers"
        )


@contextlib.contextmanager
def connect(
    scheduler: str | None = None, *, workers: int | None = None, timeout: float = 30.0
) -> Iterator[tuple[Any, int]]:
    """A checked Dask ``Client`` and the number of its worker processes: on a new ``LocalCluster`` (``scheduler``
    None: ``workers`` processes, default the CPU count, one thread each; stopped on exit) or on the running cluster at
    ``scheduler`` (``tcp://host:8786``). Raises :class:`ClusterError` when the scheduler or a first worker cannot
    be reached within ``timeout`` seconds, or when a worker's effdl differs from this one (:func:`check_workers`)."""
    if scheduler is not None and not is_address(scheduler):
        raise ValueError(f"scheduler must be an address like tcp://host:8786, got {scheduler!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be an int ≥ 1, got {workers!r}")
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    distributed = _distributed()
    import dask

    cluster = None
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            # A notebook that kills its worker would kill every worker it is retried on (the run is deterministic):
            # no retries, the chapter fails at once with its own error. One task per worker thread at a time (no
            # queueing ahead on a worker: notebooks are long), so a dying worker takes only its own task with it.
            config = {"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.worker-saturation": 1.0}
            with dask.config.set(config):
                cluster = distributed.LocalCluster(
                    n_workers=workers or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # a free port: never collide with another cluster's 8787
                    silence_logs=logging.ERROR,
                )
            stack.callback(cluster.close)
            target: Any = cluster
        else:
            target = scheduler
        try:
            client = distributed.Client(target, timeout=f"{timeout}s")
        except (OSError, TimeoutError) as err:
            raise ClusterError(f"could not reach the Dask scheduler at {scheduler} within {timeout} s: {err}") from err
        stack.callback(client.close)
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError) as err:
            raise ClusterError(f"no Dask worker joined the scheduler at {scheduler} within {timeout} s") from err
        check_workers(identity(), client.run(identity))
        yield client, len(client.nthreads())


def _task(
    name: str, notebook: str, parameters: dict[str, Any], threads: int, timeout: int, solutions: bool
) -> dict[str, Any]:
    """One task: execute ``notebook`` (its JSON text) on this worker, return the outcome and the executed notebook."""
    with tempfile.TemporaryDirectory(prefix="effdl-") as tmp:
        src, dst = Path(tmp) / f"{name}.ipynb", Path(tmp) / f"{name}.executed.ipynb"
        src.write_text(notebook, encoding="utf-8")
        try:  # the worker's own notebooks/: what a notebook reads relative to its folder is found as in a serial run
            cwd = str(series.notebooks_dir())
        except FileNotFoundError:  # effdl installed from a wheel: no checkout beside it
            cwd = tmp
        # _execute sets the kernel's environment in this worker's os.environ; tasks of one run or sweep all set the
        # same values, so worker threads running two of them at once do not disagree.
        outcome = series._execute(name, str(src), str(dst), parameters, threads, timeout, solutions, cwd=cwd)
        outcome["notebook"] = dst.read_text(encoding="utf-8") if dst.exists() else None
    return outcome


@dataclass(frozen=True)
class _Job:
    key: str  # output file stem: the chapter's name, or the chapter plus a sweep cell's parameters
    chapter: series.Chapter
    parameters: dict[str, Any]


def _failure(job: _Job, err: BaseException, started: str, seconds: float) -> dict[str, Any]:
    """The outcome of a task that never returned: its worker died (killed, out of memory, crashed) or vanished."""
    kind = type(err).__name__
    if kind in ("KilledWorker", "BrokenProcessPool"):
        text = f"the worker running {job.key} died (killed, out of memory or crashed) before it finished ({kind})"
    else:
        text = f"{kind}: {err}"
    return {"name": job.key, "started": started, "seconds": seconds, "error": text, "records": {}, "notebook": None}


def _execute_all(
    jobs: Sequence[_Job], client: Any | None, processes: int, threads: int, timeout: int, solutions: bool
) -> Iterator[tuple[_Job, dict[str, Any]]]:
    """Run every job on the Dask ``client`` (or, without one, in ``processes`` local processes) and yield
    ``(job, outcome)`` as each finishes; a task whose worker died yields an error outcome, the others go on."""
    texts = {c.name: (series.notebooks_dir() / f"{c.name}.ipynb").read_text(encoding="utf-8") for c in _chapters(jobs)}
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if client is not None:
            distributed = _distributed()
            token = uuid.uuid4().hex[:8]
            submit = lambda job: client.submit(  # noqa: E731
                _task, *_args(job, texts, threads, timeout, solutions), key=f"effdl-{job.key}-{token}", pure=False
            )
            as_completed: Callable[[Any], Any] = distributed.as_completed
        else:
            from concurrent.futures import as_completed

            # "spawn": a fresh interpreter per process, as in series.run.
            ctx = multiprocessing.get_context("spawn")
            pool = stack.enter_context(ProcessPoolExecutor(max_workers=processes, mp_context=ctx))
            submit = lambda job: pool.submit(_task, *_args(job, texts, threads, timeout, solutions))  # noqa: E731
        futures = {submit(job): job for job in jobs}
        for future in as_completed(list(futures)):
            job = futures[future]
            try:
                outcome = future.result()
            except Exception as err:  # distributed's KilledWorker, concurrent's BrokenProcessPool: keep the others
                outcome = _failure(job, err, started, time.perf_counter() - start)
            yield job, outcome


def _chapters(jobs: Sequence[_Job]) -> list[series.Chapter]:
    return list(dict.fromkeys(job.chapter for job in jobs))


def _args(job: _Job, texts: Mapping[str, str], threads: int, timeout: int, solutions: bool) -> tuple:
    return (job.key, texts[job.chapter.name], job.parameters, threads, timeout, solutions)


def _save_notebook(out_dir: Path, key: str, outcome: Mapping[str, Any]) -> Path:
    path = out_dir / f"{key}.ipynb"
    if outcome.get("notebook") is not None:
        path.write_text(outcome["notebook"], encoding="utf-8")
    else:  # the worker died: a notebook left from an earlier run must not pass for this one's
        path.unlink(missing_ok=True)
    return path


def run(
    names: Sequence[str] | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    quick: bool = False,
    parameters: Mapping[str, Any] | None = None,
    threads: int | None = None,
    out: str | os.PathLike = "build",
    timeout: int = 1800,
    solutions: bool = False,
    on_result: Callable[[series.RunResult], None] | None = None,
    connect_timeout: float = 30.0,
) -> list[series.RunResult]:
    """:func:`effdl.series.run` with every chapter a Dask task: on a new ``LocalCluster`` of ``workers`` processes
    (default: one per chapter, at most the CPU count) or on the cluster at ``scheduler``. Writes ``out/NAME.ipynb``
    and ``out/results.json`` as the serial run does; a chapter whose worker died is reported with that error and the
    others' results are kept. ``threads`` per kernel defaults to CPU count // workers locally and 1 on a cluster."""
    todo = series.chapters(names)  # an unknown name fails before any cluster starts
    cpus = os.cpu_count() or 1
    if scheduler is None and workers is None:
        workers = min(cpus, len(todo)) or 1
    if threads is None:
        threads = max(1, cpus // workers) if scheduler is None and workers else 1
    with connect(scheduler, workers=workers, timeout=connect_timeout) as (client, size):
        todo, params, out_dir, shared, jobs, threads, cpus = series._prepare(
            [c.name for c in todo], quick, parameters, size, threads, out
        )
        results: dict[str, series.RunResult] = {}
        work = [_Job(c.name, c, params) for c in todo]
        for job, outcome in _execute_all(work, client, size, threads, timeout, solutions):
            output = _save_notebook(out_dir, job.key, outcome)
            res = series._result(
                job.chapter, out_dir, params, shared, outcome, threads, jobs, cpus, solutions=solutions, output=output
            )
            results[job.chapter.name] = res
            if on_result is not None:
                on_result(res)
    ordered = [results[c.name] for c in todo]
    series._write_results_json(out_dir, ordered)
    return ordered


# ---- sweeps -------------------------------------------------------------------------------------------------------


def parse_grid(pairs: Sequence[Sequence[str]]) -> dict[str, list[Any]]:
    """``[("SEED", "0,1,2"), ("BITS", "2,4")]`` (``-p NAME v1,v2`` pairs) → ``{"SEED": [0, 1, 2], "BITS": [2, 4]}``;
    values are Python literals (int, float, True/False, None) or else strings (:func:`effdl.series.parse_parameter`)."""
    grid: dict[str, list[Any]] = {}
    for pair in pairs:
        if isinstance(pair, str) or len(pair) != 2:
            raise ValueError(f"each -p must be NAME and comma-separated VALUES, got {pair!r}")
        name, text = pair
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"-p NAME must be a Python identifier (a notebook parameter), got {name!r}")
        if name in grid:
            raise ValueError(f"-p {name} is given twice; list all its values once: -p {name} v1,v2")
        if not isinstance(text, str) or any(not part.strip() for part in text.split(",")):
            raise ValueError(f"-p {name} needs comma-separated values without empty ones, e.g. 0,1,2; got {text!r}")
        values = [series.parse_parameter(part.strip()) for part in text.split(",")]
        if len({json.dumps(v, sort_keys=True, default=str) for v in values}) != len(values):
            raise ValueError(f"-p {name} repeats a value: {text!r}")
        grid[name] = values
    if not grid:
        raise ValueError("a sweep needs at least one -p NAME v1,v2")
    return grid


def _parameter_names(notebook: Path) -> set[str]:
    """Every name assigned in the notebook's parameters cell (literal or not)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        return set()
    names = set()
    for node in ast.walk(ast.parse(cell.source)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _cell_key(chapter: str, params: Mapping[str, Any]) -> str:
    text = "_".join(f"{k}={v}" for k, v in params.items())
    return f"{chapter}__" + re.sub(r"[^\w.=+-]", "-", text)


@dataclass
class SweepCell:
    """One cell of a sweep: its parameters and what the chapter recorded with them."""

    parameters: dict[str, Any]
    ok: bool
    error: str | None
    records: dict[str, Any]
    seconds: float
    output: Path
    provenance: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "output": str(self.output)}


def summarize(cells: Sequence[SweepCell], *, seed: str = "SEED") -> list[dict[str, Any]]:
    """Mean ± sample std over ``seed`` of every numeric record, per combination of the other swept parameters: rows
    ``{**parameters, "record", "mean", "std", "n"}`` (std 0 for one seed; failed cells and non-numbers left out)."""
    groups: dict[str, tuple[dict[str, Any], dict[str, list[float]]]] = {}
    for cell in cells:
        if not cell.ok:
            continue
        others = {k: v for k, v in cell.parameters.items() if k != seed and k != "QUICK"}
        _, values = groups.setdefault(json.dumps(others, sort_keys=True, default=str), (others, {}))
        for key, value in cell.records.items():
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                values.setdefault(key, []).append(float(value))
    rows = []
    for others, values in groups.values():
        for key, xs in values.items():
            std = statistics.stdev(xs) if len(xs) > 1 else 0.0
            rows.append({**others, "record": key, "mean": statistics.fmean(xs), "std": std, "n": len(xs)})
    return rows


def _summary_markdown(chapter: str, grid: Mapping[str, Sequence[Any]], rows: Sequence[Mapping[str, Any]]) -> str:
    names = [k for k in grid if k != "SEED"]
    seeds = grid.get("SEED")
    over = f"over SEED ∈ {{{', '.join(map(str, seeds))}}}" if seeds else "(one run per cell: no SEED swept)"
    head = ["| " + " | ".join([*names, "record", "mean ± std", "n"]) + " |", "|" + "---|" * (len(names) + 2) + "---:|"]
    body = [
        "| "
        + " | ".join([*(str(r[k]) for k in names), f"`{r['record']}`", f"{series._fmt(r['mean'])} ± {r['std']:.2g}"])
        + f" | {r['n']} |"
        for r in rows
    ]
    return "\n".join([f"Sweep of `{chapter}`: mean ± std {over}.", "", *head, *body]) + "\n"


def check_grid(chapter: str, grid: Mapping[str, Sequence[Any]]) -> series.Chapter:
    """The chapter ``chapter`` names, after checking that ``grid`` maps names its parameters cell assigns to
    non-empty value lists; ``ValueError`` naming the chapter's parameters otherwise."""
    if not isinstance(chapter, str):
        raise TypeError(f"chapter must be a str, got {type(chapter).__name__}")
    target = series.chapters([chapter])[0]  # ValueError naming the choices for an unknown chapter
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError(f"grid must be a non-empty mapping of parameter names to value lists, got {grid!r}")
    if any(isinstance(v, str) or not isinstance(v, Sequence) or not v for v in grid.values()):
        raise ValueError(f"every grid entry must be a non-empty list of values, got {dict(grid)!r}")
    known = _parameter_names(series.notebooks_dir() / f"{target.name}.ipynb")
    unknown = [k for k in grid if k not in known]
    if unknown:
        raise ValueError(
            f"{', '.join(unknown)} not set in {target.name}'s parameters cell; "
            f"its parameters: {', '.join(sorted(known))}"
        )
    return target


def sweep(
    chapter: str,
    grid: Mapping[str, Sequence[Any]],
    *,
    quick: bool = False,
    dask: bool | str = False,
    workers: int | None = None,
    threads: int | None = None,
    out: str | os.PathLike | None = None,
    timeout: int = 1800,
    on_cell: Callable[[SweepCell], None] | None = None,
    connect_timeout: float = 30.0,
) -> list[SweepCell]:
    """Execute one chapter on every cell of a parameter grid, in parallel, and return the cells in grid order.

    ``grid`` maps notebook parameters to values, e.g. ``{"SEED": [0, 1, 2], "BITS": [2, 4]}`` (see
    :func:`parse_grid`). Cells run in ``workers`` local processes (default: one per cell, at most the CPU count), or
    on a new ``LocalCluster`` (``dask=True``), or on the Dask cluster at ``dask="tcp://host:8786"``. Writes into
    ``out`` (default ``build/sweep-CHAPTER``) each cell's executed notebook, ``sweep.json`` (chapter, grid, and per
    cell: parameters, ok, error, records, seconds, provenance) and ``summary.md`` / ``summary.csv`` (mean ± std over
    SEED of every numeric record, per combination of the other parameters, :func:`summarize`).
    """
    target = check_grid(chapter, grid)
    if dask is not True and dask is not False and not (isinstance(dask, str) and is_address(dask)):
        raise ValueError(f"dask must be True, False or a scheduler address like tcp://host:8786, got {dask!r}")
    cells_params = [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]
    cpus = os.cpu_count() or 1
    scheduler = dask if isinstance(dask, str) else None
    if workers is None and scheduler is None:
        workers = min(cpus, len(cells_params))
    if threads is None:
        threads = max(1, cpus // workers) if scheduler is None and workers else 1
    out_dir = Path(out) if out is not None else Path("build") / f"sweep-{target.name}"

    with contextlib.ExitStack() as stack:
        client, size = None, workers or 1
        if dask is not False:
            client, size = stack.enter_context(connect(scheduler, workers=workers, timeout=connect_timeout))
        _, _, out_dir, shared, jobs, threads, cpus = series._prepare([target.name], False, None, size, threads, out_dir)
        jobs = min(size, len(cells_params))
        extra = {"QUICK": True} if quick else {}
        work = [_Job(_cell_key(target.name, p), target, {**p, **extra}) for p in cells_params]
        by_key: dict[str, SweepCell] = {}
        for job, outcome in _execute_all(work, client, size, threads, timeout, False):
            output = _save_notebook(out_dir, job.key, outcome)
            res = series._result(target, out_dir, job.parameters, shared, outcome, threads, jobs, cpus, output=output)
            params = {k: job.parameters[k] for k in grid}
            cell = SweepCell(params, res.ok, res.error, res.records, res.seconds, output, res.provenance)
            by_key[job.key] = cell
            if on_cell is not None:
                on_cell(cell)
    cells = [by_key[job.key] for job in work]
    rows = summarize(cells)
    grid_lists = {k: list(v) for k, v in grid.items()}
    document = {"chapter": target.name, "grid": grid_lists, "quick": quick, "cells": [c.as_dict() for c in cells]}
    (out_dir / "sweep.json").write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
    (out_dir / "summary.md").write_text(_summary_markdown(target.name, grid_lists, rows), encoding="utf-8")
    with (out_dir / "summary.csv").open("w", newline="", encoding="utf-8") as file:
        fields = [*(k for k in grid if k != "SEED"), "record", "mean", "std", "n"]
        writer = csv.DictWriter(file, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return cells
