"""The notebook series: catalogue, papermill runner, results table with provenance, and HTML book.

``effdl run`` (see :mod:`effdl.cli`) is a thin shell around :func:`run` and :func:`book`. Every notebook is executed by
papermill in a fresh kernel; the numbers it publishes with :func:`effdl.record` are read back from the executed
notebook (:func:`effdl.core.record.records_from_notebook`), so the results table is exactly what the notebooks computed.
``build/results.json`` keeps, for each chapter, its numbers and their provenance (mode, parameters, start time, commit,
versions, threads), so a file merged from several runs still says where each number came from; the book and
:func:`results_markdown` (``effdl results --markdown``, the README's results section) are written from it.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from effdl.core.record import records_from_notebook
from effdl.exercises._common import STRICT_ENV

__all__ = [
    "CATALOGUE",
    "Chapter",
    "RunResult",
    "chapters",
    "default_parameters",
    "git_commit",
    "load_results",
    "notebooks_dir",
    "parse_parameter",
    "provenance_conflicts",
    "results_markdown",
    "results_summary",
    "results_table",
    "run",
    "splice_results",
]


@dataclass(frozen=True)
class Chapter:
    """One notebook of the series. Runtimes are measured on 2 CPU cores (QUICK / full), in seconds."""

    name: str  # file stem, e.g. "00_tour"
    title: str
    topic: str
    papers: str
    quick_s: int
    full_s: int

    @property
    def number(self) -> str:
        return self.name.split("_", 1)[0]

    @property
    def short(self) -> str:
        return self.name.split("_", 1)[1]


CATALOGUE: tuple[Chapter, ...] = (
    Chapter(
        name="00_tour",
        title="A tour of efficient deep learning",
        topic="The map of the field; four models trained on real MNIST digits and compared by accuracy, size, "
        "FLOPs and latency on a Pareto plot.",
        papers="Menghani 2023 (efficient DL survey); Cheng et al. 2018 (CNN compression survey)",
        quick_s=40,
        full_s=79,
    ),
    Chapter(
        name="01_pruning",
        title="Pruning",
        topic="Magnitude pruning from scratch to torch.nn.utils.prune; layer-wise vs global; sensitivity scan; "
        "gradual pruning with fine-tuning; structured channel pruning with measured FLOPs and latency.",
        papers="Han et al. 2015; Zhu & Gupta 2017 (AGP); Li et al. 2017 (filter pruning); Cheng et al. 2018",
        quick_s=40,
        full_s=46,
    ),
    Chapter(
        name="02_lowrank",
        title="Low-rank factorization",
        topic="Singular-value spectra of trained layers; truncated SVD of Linear layers and Tucker-2 / spatial "
        "factorization of convolutions; rank and energy sliders; fine-tuning recovery.",
        papers="Denton et al. 2014; Jaderberg et al. 2014; Kim et al. 2016 (Tucker-2); Cheng et al. 2018",
        quick_s=20,
        full_s=24,
    ),
    Chapter(
        name="03_distillation",
        title="Knowledge distillation",
        topic="A large teacher teaches a small student: softened targets, temperature and weight sweeps, "
        "student alone vs distilled over several seeds, hint (feature) losses.",
        papers="Hinton et al. 2015; Romero et al. 2015 (FitNets); Cheng et al. 2018",
        quick_s=15,
        full_s=27,
    ),
    Chapter(
        name="04_quantization",
        title="Quantization",
        topic="Number formats, rounding and clipping error; observers; a live bit-width slider; PTQ of weights and "
        "activations from 8 to 2 bits; QAT with STE and LSQ; k-means palettes; real int8 size and latency.",
        papers="Jacob et al. 2018; Krishnamoorthi 2018; Esser et al. 2020 (LSQ); Han et al. 2016 (Deep Compression)",
        quick_s=25,
        full_s=51,
    ),
    Chapter(
        name="05_range_regularization",
        title="Range regularization (R²)",
        topic="L∞, margin and soft-min-max range losses added during training remove weight outliers; weight "
        "histograms; accuracy after 2/4-bit PTQ and 1/2-bit k-means against a weight-decay baseline over seeds.",
        papers="Kundu et al. 2023 (R²: Range Regularization for Model Compression and Quantization)",
        quick_s=75,
        full_s=139,
    ),
    Chapter(
        name="06_sbs",
        title="Joint pruning and mixed precision (SBS)",
        topic="BOPs by hand; pruning as 0-bit quantization; the exact single path of bit sharing; gates learned "
        "under CE + λ·log(BOPs); a λ sweep against uniform 8/4/2-bit configurations with and without 50% channel "
        "pruning at equal training, chosen on validation, matched BOPs budgets over seeds.",
        papers="Liu et al. 2021 (SBS); Esser et al. 2020 (LSQ); Wang et al. 2019 (HAQ)",
        quick_s=55,
        full_s=497,
    ),
    Chapter(
        name="07_scale_vs_compression",
        title="Train large, then compress",
        topic="Character-level TinyTransformers of several sizes on the CPython stdlib under one budget: loss vs "
        "steps, seconds and FLOPs; pruning and quantization robustness per size; loss against compressed size.",
        papers="Li et al. 2020 (Train Large, Then Compress); Kaplan et al. 2020 (scaling laws)",
        quick_s=70,
        full_s=310,
    ),
    Chapter(
        name="08_edram_camel",
        title="On-device training with eDRAM (CAMEL)",
        topic="Why training is memory-bound; SRAM vs eDRAM retention and refresh; reversible coupling, exact "
        "inverse and gradients; activation memory flat in depth; RevNet vs ResNet on digits; a lifetime, spill, "
        "refresh and energy simulator with sliders; co-designing the model so its data dies before retention.",
        papers="Zhang et al. 2024 (CAMEL); Gomez et al. 2017 (RevNet); Horowitz 2014; Genc et al. 2021 (Gemmini)",
        quick_s=35,
        full_s=37,
    ),
    Chapter(
        name="09_lzss_gpu",
        title="LZSS for multi-byte data, on CPU and GPU",
        topic="LZSS token by token; multi-byte symbols; the chunk-parallel GPULZ design with prefix sums; W/C/S "
        "sliders on real data; a benchmark against zlib, lz4, zstd and blosc2; Deep Compression's tail end to end.",
        papers="Zhang et al. 2023 (GPULZ); Storer & Szymanski 1982 (LZSS); Tian et al. 2020 (cuSZ); Han et al. 2016",
        quick_s=30,
        full_s=20,
    ),
    Chapter(
        name="10_random_smoothing",
        title="Random smoothing in kernel gradient descent",
        topic="Input noise as a smoothed kernel K_S = E K(x+ε, x'+ε') (Gaussian, Laplace, polynomial noise: closed "
        "form, spectral view, Monte Carlo); kernel gradient descent with early stopping or weight decay chosen on "
        "validation; log-log excess-risk slopes against the minimax rate n^(−2m/(2m+d)); intrinsic d against ambient "
        "D; noisy copies (data augmentation) converging to K_S.",
        papers="Ding et al. 2023 (random smoothing in kernel GD); Raskutti, Wainwright and Yu 2014 (early stopping)",
        quick_s=21,
        full_s=89,
    ),
    Chapter(
        name="11_stratified_models",
        title="Laplacian regularized stratified models with a learned graph",
        topic="One linear model per stratum tied by a graph: the Laplacian term ½ tr(ΘᵀLΘ); learning the graph "
        "jointly with −λ₁ log det(μI + L) and a W₀ prior, the prox step on W and why the log-det stops a collapse; "
        "separate vs common vs fixed vs learned graph on imbalanced synthetic strata over 3 seeds, choices on "
        "validation; the learned graph drawn; monotone MAPG; a λ₂ slider; diabetes by sex × age bin.",
        papers="Tuck, Barratt & Boyd 2021 (LRSM); Cheng, Zhang, Agrawal & Boyd 2023 (learned graph); Li & Lin 2015 "
        "(monotone APG)",
        quick_s=25,
        full_s=20,
    ),
    Chapter(
        name="12_flad_bandits",
        title="Few-shot learning with auxiliary data: FLAD bandits",
        topic="A few-shot digits target and K aligned / noisy / adversarial auxiliary datasets; the gradient-alignment "
        "reward (cosine of last-layer gradients, cost independent of K); EXP3-FLAD (exploration floor ε_t, uniform "
        "while t ≤ K ln K) and UCB1-FLAD written by hand; EXP3 vs UCB1 vs uniform vs greedy vs target-only at equal "
        "steps over 3 seeds, stopping on validation, aligned mass ÷ uniform share; a step slider over the mixtures; "
        "time per step for K = 10 … 200.",
        papers="Albalak, Raffel & Wang 2023 (FLAD); Auer et al. 2002 (EXP3); Auer, Cesa-Bianchi & Fischer 2002 (UCB1)",
        quick_s=18,
        full_s=60,
    ),
    Chapter(
        name="13_stream_learning",
        title="Stream-efficient learning: throughput under a compute budget",
        topic="Throughput (exploited / arrived) as a first-class metric next to accuracy: arrivals r against a "
        "budget c, drop / sample / FIFO-queue policies; online SGD against reservoir replay (Algorithm R) on a "
        "rotating digits stream; mean accuracy over the stream against c and against throughput over 3 seeds (budget "
        "slider); power-law learning curves and compute to target; FCFS / proportional / adaptive / oracle "
        "schedulers sharing capacity among tasks with deadlines, over 5 task sets.",
        papers="Ghunaim et al. 2023 (real-time OCL); Prabhu et al. 2023 (budgeted CL); Hammoud et al. 2023 "
        "(online evaluation); Vitter 1985 (reservoir sampling)",
        quick_s=35,
        full_s=50,
    ),
    Chapter(
        name="14_practitioner_guide",
        title="The practitioner's guide: one model through every technique",
        topic="The capstone: one CNN on MNIST through pruning, channel pruning, low rank, distillation, R², PTQ/QAT on "
        "2^b-level grids, palettes and SBS, alone and combined, each stage stored in a real packed file (bitmask, "
        "palettes, bit-packed indices, LZSS) and decoded before it is evaluated; bytes on disk, accuracy (chosen on "
        "validation), CPU latency, BOPs and energy; the global Pareto front, the decision guide under a declared "
        "accuracy constraint, prune → quantize against quantize → prune over seeds; analyze and compress on your "
        "own model (resnet18, an MLP).",
        papers="Han et al. 2016 (Deep Compression); Horowitz 2014; Blalock et al. 2020; Gholami et al. 2021; "
        "Hoefler et al. 2021",
        quick_s=57,
        full_s=193,
    ),
)


def repo_root() -> Path:
    """The checkout effdl runs from (an editable install); notebooks and benchmarks live there."""
    return Path(__file__).resolve().parents[1]


def notebooks_dir() -> Path:
    path = repo_root() / "notebooks"
    if not path.is_dir():
        raise FileNotFoundError(
            f"no notebooks/ folder next to the effdl package ({path}); the series runs from a git checkout "
            "installed with `pip install -e .`"
        )
    return path


def chapters(names: Iterable[str] | None = None) -> list[Chapter]:
    """Resolve names to chapters: "00_tour", "00", "tour" or "0" all pick the tour; ``None`` → all, in order."""
    if names is None:
        return list(CATALOGUE)
    picked: list[Chapter] = []
    for raw in names:
        if not isinstance(raw, str):
            raise TypeError(f"notebook names must be strings, got {raw!r}")
        key = raw.strip().removesuffix(".ipynb").lower()
        found = [c for c in CATALOGUE if key in (c.name, c.short) or (key.isdigit() and int(key) == int(c.number))]
        if not found:
            known = ", ".join(c.name for c in CATALOGUE)
            raise ValueError(f"unknown notebook {raw!r}; choose from: {known}")
        picked += [c for c in found if c not in picked]
    return picked


def parse_parameter(value: str) -> Any:
    """Turn a ``-p KEY VALUE`` string into a Python value: numbers, True/False/None, lists; otherwise the string."""
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def default_parameters(notebook: str | os.PathLike) -> dict[str, Any]:
    """The literal values assigned in a notebook's ``parameters``-tagged cell, e.g. ``{"QUICK": False, "SEED": 0}``.

    Read with ``ast`` (no kernel is started); an assignment whose value is not a literal (``EPOCHS = 2 if QUICK else
    10``) is left out. A notebook without a parameters cell gives ``{}``.
    """
    import nbformat

    if not isinstance(notebook, str | os.PathLike):
        raise TypeError(f"notebook must be a path, got {type(notebook).__name__}")
    nb = nbformat.read(os.fspath(notebook), as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        return {}
    defaults: dict[str, Any] = {}
    for node in ast.parse(cell.source).body:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            # `CHANNELS, DEPTH = 32, 4` names two parameters; pair the names with the values when both are tuples.
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple | ast.List):
                pairs = list(zip(target.elts, node.value.elts, strict=False))
            else:
                pairs = [(target, node.value)]
            for name, value in pairs:
                if not isinstance(name, ast.Name):
                    continue
                try:
                    defaults[name.id] = ast.literal_eval(value)
                except ValueError:
                    continue
    return defaults


def git_commit(root: str | os.PathLike | None = None) -> str:
    """``git rev-parse HEAD`` of the checkout at ``root`` (default: effdl's own), with ``-dirty`` appended when the
    work tree has uncommitted changes (untracked files included); ``"unknown"`` without git or outside a repository."""
    folder = Path(repo_root() if root is None else root)
    # Only the checkout itself: git would otherwise climb to any repository above, e.g. around a site-packages.
    if not (folder / ".git").exists():
        return "unknown"
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=30, check=False
        )
        if head.returncode != 0 or not head.stdout.strip():
            return "unknown"
        status = subprocess.run(
            ["git", "status", "--porcelain"], cwd=folder, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):  # no git executable, or it hung
        return "unknown"
    commit = head.stdout.strip()
    return commit + "-dirty" if status.returncode != 0 or status.stdout.strip() else commit


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _environment() -> dict[str, Any]:
    """The provenance fields shared by every chapter of one run (the kernels run this same interpreter)."""
    from effdl import __version__

    return {
        "commit": git_commit(),
        "effdl": __version__,
        "torch": _version("torch"),
        "python": platform.python_version(),
    }


@dataclass
class RunResult:
    """The outcome of executing one chapter."""

    chapter: Chapter
    output: Path
    ok: bool
    seconds: float
    records: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    # Where the numbers came from: mode, parameters, started, commit, versions, threads... (see `run`).
    provenance: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["chapter"] = self.chapter.name
        d["output"] = str(self.output)
        return d


def _kernel_env(threads: int, *, solutions: bool = False) -> dict[str, str]:
    env = {
        "EFFDL_PROGRESS": "0",  # tqdm bars would only clutter the saved notebook
        # Solutions mode: a checker that would answer "not yet" raises, so a wrong reference solution fails the run.
        STRICT_ENV: "1" if solutions else "0",
        # Share the cores between notebooks running side by side instead of oversubscribing them.
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # silences a debugger warning in every kernel
    }
    # ipykernel's kernelspec starts "python" from PATH: make that the interpreter effdl runs in.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    return env


def kernel_encryption() -> bool:
    """True when this Jupyter stack can encrypt kernel traffic with CurveZMQ (jupyter_client ≥ 8.9 has the
    ``KernelManager.transport_encryption`` setting). ``effdl run`` and ``effdl lab`` then ask for ``"auto"``
    (encrypted where the kernelspec supports it, plain TCP otherwise): without it ipykernel ≥ 7.3 warns at every
    kernel start that the kernel runs over TCP without encryption."""
    from jupyter_client import KernelManager

    return "transport_encryption" in KernelManager.class_trait_names()


def _kernel_config() -> dict[str, Any]:
    """papermill keyword arguments for the kernel manager (see :func:`kernel_encryption`)."""
    from traitlets.config import Config

    return {"config": Config({"KernelManager": {"transport_encryption": "auto"}})} if kernel_encryption() else {}


def _execute(
    name: str,
    src: str,
    dst: str,
    parameters: dict[str, Any],
    threads: int,
    timeout: int,
    solutions: bool = False,
    cwd: str | None = None,
) -> dict:
    """Worker: execute one notebook with papermill (runs in a child process or a Dask task, see
    :mod:`effdl.distributed`): the student version, or with ``solutions`` the source version with every checker
    strict. The kernel starts in ``cwd`` (default: the notebook's folder)."""
    os.environ.update(_kernel_env(threads, solutions=solutions))
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from effdl.course import student_version

    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    start = time.perf_counter()
    error = None

    def execute() -> None:
        pm.execute_notebook(
            src if solutions else student_version(src),
            dst,
            parameters=parameters,
            cwd=cwd or str(Path(src).parent),
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=timeout,
            **_kernel_config(),
        )

    try:
        try:
            execute()
        except RuntimeError as err:
            # jupyter_client picks the kernel's five ports at random and binds them later: two kernels starting at
            # once (notebooks side by side, pytest-xdist) can collide ("Address already in use"), and the kernel
            # dies before its first reply. Nothing has run yet then, so one fresh start is safe.
            if "Kernel died before replying to kernel_info" not in str(err):
                raise
            execute()
    except PapermillExecutionError as err:
        source = "\n".join("    " + line for line in (err.source or "").splitlines())
        error = f"cell {err.exec_count} failed with {err.ename}: {err.evalue}\n{source}"
    except Exception as err:  # a kernel that died, a missing file: report, don't hide the other notebooks
        error = f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=3)}"
    seconds = time.perf_counter() - start
    records = records_from_notebook(dst) if Path(dst).exists() else {}
    return {"name": name, "started": started, "seconds": seconds, "error": error, "records": records}


def run(
    names: Iterable[str] | None = None,
    *,
    quick: bool = False,
    parameters: Mapping[str, Any] | None = None,
    jobs: int | None = None,
    threads: int | None = None,
    out: str | os.PathLike = "build",
    timeout: int = 1800,
    solutions: bool = False,
    on_result: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Execute chapters with papermill and return their results (in catalogue order).

    By default the student version runs (solutions cleared, see :mod:`effdl.course`): its checkers answer "not yet".
    With ``solutions=True`` the reference solutions run and every checker must pass, or the chapter fails.

    Args:
        names: chapters to run (see :func:`chapters`); default all.
        quick: inject ``QUICK=True`` (small sizes, < ~90 s a notebook on 2 cores).
        parameters: more papermill parameters, e.g. ``{"SEED": 1}``.
        jobs: notebooks executed side by side (default: the CPU count); the cores are shared among them.
        threads: torch/OpenMP threads per notebook kernel (default: CPU count // jobs). Pass 1 when something else
            runs beside it (e.g. pytest-xdist workers): oversubscribed cores make small models ~10× slower.
        out: folder for the executed ``NAME.ipynb`` files and ``results.json``.
        timeout: seconds a single cell may run before it is stopped.
        on_result: called with each :class:`RunResult` as it finishes (for progress output).
    """
    todo, params, out_dir, shared, jobs, threads, cpus = _prepare(names, quick, parameters, jobs, threads, out)
    src_dir = notebooks_dir()
    results: dict[str, RunResult] = {}
    # "spawn": a fresh interpreter per worker, so no torch/threads state leaks from the caller into the runs.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = {
            pool.submit(
                _execute,
                c.name,
                str(src_dir / f"{c.name}.ipynb"),
                str((out_dir / f"{c.name}.ipynb").resolve()),
                params,
                threads,
                timeout,
                solutions,
            ): c
            for c in todo
        }
        for fut in as_completed(futures):
            c = futures[fut]
            res = _result(c, out_dir, params, shared, fut.result(), threads, jobs, cpus, solutions=solutions)
            results[c.name] = res
            if on_result is not None:
                on_result(res)
    ordered = [results[c.name] for c in todo]
    _write_results_json(out_dir, ordered)
    return ordered


def _prepare(
    names: Iterable[str] | None,
    quick: bool,
    parameters: Mapping[str, Any] | None,
    jobs: int | None,
    threads: int | None,
    out: str | os.PathLike,
) -> tuple[list[Chapter], dict[str, Any], Path, dict[str, Any], int, int, int]:
    """What every runner (here, :mod:`effdl.distributed`) does before the first kernel starts: resolve the
    chapters, check ``jobs``/``threads``, build the injected parameters, create ``out`` and take the run's shared
    provenance. Returns ``(chapters, parameters, out_dir, shared, jobs, threads, cpus)``."""
    todo = chapters(names)
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"jobs must be an int ≥ 1, got {jobs!r}")
    cpus = os.cpu_count() or 1
    jobs = min(jobs or cpus, len(todo)) or 1
    if threads is None:
        threads = max(1, cpus // jobs)
    elif isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be an int ≥ 1, got {threads!r}")
    params = dict(parameters or {})
    if quick:
        params["QUICK"] = True
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Taken once, before any kernel starts: the commit and versions the whole run's numbers come from.
    shared = {"run": datetime.now(timezone.utc).isoformat(timespec="seconds"), **_environment()}
    return todo, params, out_dir, shared, jobs, threads, cpus


def _result(
    chapter: Chapter,
    out_dir: Path,
    params: Mapping[str, Any],
    shared: Mapping[str, Any],
    outcome: Mapping[str, Any],
    threads: int,
    jobs: int,
    cpus: int,
    *,
    solutions: bool = False,
    output: Path | None = None,
) -> RunResult:
    """One chapter's :class:`RunResult` from what :func:`_execute` returned."""
    return RunResult(
        chapter=chapter,
        output=output or out_dir / f"{chapter.name}.ipynb",
        ok=outcome["error"] is None,
        seconds=outcome["seconds"],
        records=outcome["records"],
        error=outcome["error"],
        provenance=_provenance(
            notebooks_dir() / f"{chapter.name}.ipynb",
            params,
            shared,
            outcome,
            threads,
            jobs,
            cpus,
            solutions=solutions,
        ),
    )


def _provenance(
    notebook: Path,
    injected: Mapping[str, Any],
    shared: Mapping[str, Any],
    outcome: Mapping[str, Any],
    threads: int,
    jobs: int,
    cpus: int,
    *,
    solutions: bool = False,
) -> dict[str, Any]:
    """One chapter's provenance: the parameters it ran with (QUICK and SEED always, from the notebook's own defaults
    when not injected), its mode, start time and duration, and the run's commit, versions and thread share."""
    try:
        defaults = default_parameters(notebook)
    except Exception:  # an unreadable notebook already failed in _execute; its provenance must not crash the run
        defaults = {}
    parameters = {k: defaults[k] for k in ("QUICK", "SEED") if k in defaults}
    parameters.update(injected)
    return {
        "mode": "quick" if parameters.get("QUICK") else "full",
        "version": "solutions" if solutions else "student",  # which exercise cells ran (effdl.course)
        "parameters": parameters,
        "started": outcome["started"],
        **shared,
        "threads": threads,  # torch/OpenMP threads of this chapter's kernel (OMP_NUM_THREADS)
        "jobs": jobs,  # notebooks executed side by side
        "cpus": cpus,
        "seconds": round(float(outcome["seconds"]), 2),
    }


def _write_results_json(out_dir: Path, results: Sequence[RunResult]) -> None:
    path = out_dir / "results.json"
    merged: dict[str, Any] = {}
    if path.exists():  # keep the numbers (and their own provenance) of chapters not re-run this time
        try:
            merged = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            merged = {}
        if not isinstance(merged, dict):
            merged = {}
    for r in results:
        merged[r.chapter.name] = r.as_dict()
    path.write_text(json.dumps(merged, indent=2, default=str), encoding="utf-8")


def _fmt(value: Any) -> str:
    """One format for every recorded value (terminal table, book, Markdown): floats to 4 significant digits, large
    numbers in full with thousands separators (``235,146``) rather than in exponent notation."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if abs(value) >= 1e4 and abs(value) < 1e15:
        return f"{value:,.0f}"
    return str(value) if isinstance(value, int) else f"{value:.4g}"


def results_table(results: Sequence[RunResult] | Mapping[str, Mapping[str, Any]]) -> str:
    """A plain-text table of every recorded number with its notebook, from :func:`run`'s results or from a loaded
    ``results.json`` (:func:`load_results`)."""
    if isinstance(results, Mapping):
        rows = [(name, k, _fmt(v)) for name, entry in _ordered(results) for k, v in entry.get("records", {}).items()]
    else:
        rows = [(r.chapter.name, k, _fmt(v)) for r in results for k, v in r.records.items()]
    if not rows:
        return "(no recorded results)"
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(("notebook", "result", "value"))]
    line = "  ".join("-" * w for w in widths)
    head = "  ".join(h.ljust(w) for h, w in zip(("notebook", "result", "value"), widths, strict=True))
    body = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join([head, line, *body])


def load_results(path: str | os.PathLike = "build/results.json") -> dict[str, dict[str, Any]]:
    """Read a ``results.json`` written by :func:`run`: ``{chapter: {"ok", "records", "provenance", ...}}``."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or path, got {type(path).__name__}")
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file} does not exist; run `effdl run` first (or pass --from PATH)")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"path {file} is not valid JSON: {err}") from err
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"path {file} is not an effdl results file (an object mapping chapter names to results)")
    return data


def _ordered(results: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, Mapping[str, Any]]]:
    """Catalogue order first, then any chapter the catalogue does not know (yet), by name."""
    known = [c.name for c in CATALOGUE if c.name in results]
    return [(name, results[name]) for name in known + sorted(set(results) - set(known))]


def _when(iso: Any) -> str:
    """``2026-11-29T10:02:03+00:00`` → ``2026-11-29 10:02 UTC``; anything unparsable is shown as it is."""
    try:
        moment = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _short(commit: Any) -> str:
    text = str(commit)
    head, dirty = text.removesuffix("-dirty"), text.endswith("-dirty")
    return (head[:12] if len(head) == 40 else head) + ("-dirty" if dirty else "")


def _seed(prov: Mapping[str, Any]) -> Any:
    return prov.get("parameters", {}).get("SEED", "?")


def _others(prov: Mapping[str, Any]) -> dict[str, Any]:
    """Injected parameters beyond QUICK and SEED (``-p EPOCHS 3``): the numbers then differ from the defaults'."""
    return {k: v for k, v in prov.get("parameters", {}).items() if k not in ("QUICK", "SEED")}


def _threads_text(prov: Mapping[str, Any]) -> str:
    threads = prov.get("threads", "?")
    return f"{threads} torch thread{'' if threads == 1 else 's'}"


def _provenance_text(prov: Mapping[str, Any] | None) -> str:
    """One line: ``full mode · seed 0 · 2026-11-29 10:02 UTC · commit 1a2b… · effdl … · torch … · 1 torch thread``."""
    if not prov:
        return "provenance not recorded"
    parts = [f"{prov.get('mode', '?')} mode", f"seed {_seed(prov)}"]
    parts += [f"{k}={v!r}" for k, v in _others(prov).items()]
    parts += [
        _when(prov.get("started", "?")),
        f"commit {_short(prov.get('commit', 'unknown'))}",
        f"effdl {prov.get('effdl', '?')}",
        f"torch {prov.get('torch', '?')}",
        f"Python {prov.get('python', '?')}",
        _threads_text(prov),
    ]
    return " · ".join(parts)


# What must be equal for chapters to count as one run: the label used in messages, and how to read the value.
_SAME_RUN: tuple[tuple[str, Callable[[Mapping[str, Any]], Any]], ...] = (
    ("runs (start times)", lambda p: _when(p.get("run", p.get("started")))),
    ("commits", lambda p: _short(p.get("commit", "unknown"))),
    ("modes", lambda p: p.get("mode")),
    ("seeds", _seed),
    ("other parameters", lambda p: json.dumps(_others(p), sort_keys=True, default=str)),
    ("effdl versions", lambda p: p.get("effdl")),
    ("torch versions", lambda p: p.get("torch")),
    ("Python versions", lambda p: p.get("python")),
    ("thread counts", lambda p: p.get("threads")),
)


def provenance_conflicts(results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Why the chapters of a (merged) ``results.json`` do not come from one run, one reason a line; ``[]`` when they
    do: every chapter has provenance and all share the run, commit, mode, parameters, versions and threads."""
    if not isinstance(results, Mapping):
        raise TypeError(f"results must be a mapping of chapter names to results, got {type(results).__name__}")
    entries = _ordered(results)
    reasons = []
    missing = [name for name, entry in entries if not entry.get("provenance")]
    if missing:
        reasons.append(f"no provenance recorded for {', '.join(missing)} (written by an older effdl, or by hand)")
    known = [(name, entry["provenance"]) for name, entry in entries if entry.get("provenance")]
    for label, read in _SAME_RUN:
        groups: dict[str, list[str]] = {}
        for name, prov in known:
            groups.setdefault(str(read(prov)), []).append(name)
        if len(groups) > 1:
            listed = "; ".join(f"{value} ({', '.join(names)})" for value, names in groups.items())
            reasons.append(f"{label} differ: {listed}")
    return reasons


def _md_cell(value: Any) -> str:
    # A "|" would end the cell, a newline the row.
    return " ".join(str(value).split()).replace("|", "\\|")


def results_markdown(results: Mapping[str, Mapping[str, Any]], *, allow_mixed: bool = False) -> str:
    """The README's results section, written from a loaded ``results.json`` (:func:`load_results`).

    A header line names the run (date, mode, seed, commit, versions, threads); then each chapter is a
    ``**NN · name**`` block with a ``Result | Value`` table of exactly the numbers it recorded. Raises ``ValueError``
    for quick-mode results, failed chapters, or chapters from different runs (see :func:`provenance_conflicts`)
    unless ``allow_mixed=True``; then the header says the results are mixed and each chapter names its own run.
    """
    if not isinstance(results, Mapping):
        raise TypeError(f"results must be a mapping of chapter names to results, got {type(results).__name__}")
    if not results:
        raise ValueError("results holds no chapters; run `effdl run` first")
    entries = _ordered(results)
    conflicts = provenance_conflicts(results)
    quick = [name for name, entry in entries if entry.get("provenance", {}).get("mode") == "quick"]
    failed = [name for name, entry in entries if entry.get("ok") is False]
    refusals = []
    if quick:
        refusals.append(f"quick-mode results ({', '.join(quick)}) are small-size runs, not the README's figures")
    if failed:
        refusals.append(f"chapters that failed ({', '.join(failed)}) have incomplete numbers")
    if conflicts:
        refusals.append("the chapters do not come from one run: " + "; ".join(conflicts))
    if refusals and not allow_mixed:
        raise ValueError(
            "refusing to write README results: "
            + "; ".join(refusals)
            + ". Regenerate them with one full `effdl run`, or pass allow_mixed=True (effdl results --allow-mixed) "
            "to print them anyway, each chapter with its own provenance"
        )

    lines = []
    if not refusals:
        prov = entries[0][1]["provenance"]
        others = "".join(f", {k}={v!r}" for k, v in _others(prov).items())
        lines.append(
            f"From one `effdl run` started {_when(prov.get('run', prov.get('started')))}: {prov.get('mode')} mode, "
            f"seed {_seed(prov)}{others}, commit `{_short(prov.get('commit'))}`, torch {prov.get('torch')}, "
            f"Python {prov.get('python')}, effdl {prov.get('effdl')}, {_threads_text(prov)} per notebook"
            + (f" ({prov['jobs']} notebook(s) at a time on {prov['cpus']} CPU cores)" if "jobs" in prov else "")
            + ". Generated by `effdl results --markdown` from that run's `results.json`."
        )
    else:
        lines.append(
            "Mixed results, not from one full run (" + "; ".join(refusals) + "): each chapter below names the run "
            "its numbers come from. Generated by `effdl results --markdown --allow-mixed`."
        )
    by_name = {c.name: c for c in CATALOGUE}
    for name, entry in entries:
        chapter = by_name.get(name)
        number, short = (chapter.number, chapter.short) if chapter else [*name.split("_", 1), ""][:2]
        title = f"**{number} · {short or name}**"
        if refusals:
            title += f" — {_provenance_text(entry.get('provenance'))}"
            if entry.get("ok") is False:
                title += " · **failed**"
        lines += ["", title, ""]
        records = entry.get("records") or {}
        if not records:
            lines.append("(no recorded results)")
            continue
        lines += ["| Result | Value |", "|---|---:|"]
        lines += [f"| `{_md_cell(key)}` | {_md_cell(_fmt(value))} |" for key, value in records.items()]
    return "\n".join(lines) + "\n"


RESULTS_BEGIN = "<!-- effdl results: begin (written by `effdl results --markdown --into`; do not edit by hand) -->"
RESULTS_END = "<!-- effdl results: end -->"


def splice_results(text: str, block: str) -> str:
    """``text`` (a README) with the part between :data:`RESULTS_BEGIN` and :data:`RESULTS_END` replaced by
    ``block`` (from :func:`results_markdown`). Raises ``ValueError`` unless both markers occur once, in order."""
    if not isinstance(text, str) or not isinstance(block, str):
        raise TypeError("text and block must be str")
    if text.count(RESULTS_BEGIN) != 1 or text.count(RESULTS_END) != 1:
        raise ValueError(
            f"the file must hold the markers {RESULTS_BEGIN!r} and {RESULTS_END!r} once each, "
            f"got {text.count(RESULTS_BEGIN)} and {text.count(RESULTS_END)}"
        )
    head, rest = text.split(RESULTS_BEGIN)
    old, tail = rest.split(RESULTS_END)
    if RESULTS_END in head:
        raise ValueError("the results end marker comes before the begin marker")
    del old
    return f"{head}{RESULTS_BEGIN}\n{block.rstrip()}\n{RESULTS_END}{tail}"


def results_summary(results: Mapping[str, Mapping[str, Any]]) -> str:
    """Plain text for ``effdl results``: where the numbers come from (one run, or why not), then the table."""
    conflicts = provenance_conflicts(results)
    if not results:
        head = ["(no chapters in results.json)"]
    elif not conflicts:
        head = ["one run: " + _provenance_text(_ordered(results)[0][1]["provenance"])]
    else:
        head = ["not one run:", *(f"  - {reason}" for reason in conflicts)]
        head += [f"  {name}: {_provenance_text(entry.get('provenance'))}" for name, entry in _ordered(results)]
    return "\n".join([*head, "", results_table(results)])
