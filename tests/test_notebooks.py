"""Notebook regression: papermill executes every notebook with QUICK=True and its recorded numbers are asserted.

The QUICK run executes the *solutions* version (``effdl run --solutions``): every exercise checker must pass, or the
chapter fails. The *student* version (solutions cleared) runs too, and every checker in it must answer "not yet".

Each chapter NN_name has a module tests/notebooks/check_NN_name.py with ``check(records)``; a chapter without one
fails, so "it ran" is never the only assertion. Two slow sets are deselected by default (see pyproject.toml):

- ``pytest -m full``: chapters whose check module also defines ``check_full(records)`` run in full mode (QUICK=False,
  seed 0, as the README's results) and that function asserts the README's figures within stated tolerances;
- ``pytest -m seeds``: every chapter in QUICK mode on seeds 1 and 2 with the same ``check`` as seed 0, so no claim
  holds for the default seed only.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from effdl import series

CHECKS_DIR = Path(__file__).parent / "notebooks"


def _module(chapter: str):
    path = CHECKS_DIR / f"check_{chapter}.py"
    spec = importlib.util.spec_from_file_location(f"check_{chapter}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check(chapter: str):
    return _module(chapter).check


def _threads() -> int:
    # Under pytest-xdist the workers share the cores: give each kernel its share instead of all of them.
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return max(1, (os.cpu_count() or 1) // workers)


def _run(chapter: str, out: Path, *, quick: bool, seed: int | None = None, solutions: bool = True) -> dict:
    parameters = None if seed is None else {"SEED": seed}
    (res,) = series.run(
        [chapter], quick=quick, parameters=parameters, jobs=1, threads=_threads(), out=out, solutions=solutions
    )
    assert res.ok, f"{chapter} failed: {res.error}"
    assert res.records, f"{chapter} recorded nothing"
    return res.records


FULL_CHAPTERS = [c.name for c in series.CATALOGUE if hasattr(_module(c.name), "check_full")]


def test_every_chapter_has_checks():
    have = {p.stem.removeprefix("check_") for p in CHECKS_DIR.glob("check_*.py")}
    assert have == {c.name for c in series.CATALOGUE}


@pytest.mark.notebook
@pytest.mark.parametrize("chapter", [c.name for c in series.CATALOGUE])
def test_notebook_quick_run(chapter, tmp_path):
    check = _check(chapter)
    check(_run(chapter, tmp_path, quick=True))


@pytest.mark.notebook
@pytest.mark.parametrize("chapter", [c.name for c in series.CATALOGUE])
def test_student_version_runs_and_every_checker_answers_not_yet(chapter, tmp_path):
    """Solutions cleared, the notebook still runs to the end (same records), and each cell that calls a checker
    prints "not yet" instead of a verdict or a traceback."""
    import nbformat

    records = _run(chapter, tmp_path, quick=True, solutions=False)
    _check(chapter)(records)
    nb = nbformat.read(str(tmp_path / f"{chapter}.ipynb"), as_version=4)
    checked = [c for c in nb.cells if c.cell_type == "code" and "exercises.check_" in c.source]
    assert checked, f"{chapter}: no checker cell"
    for cell in checked:
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        assert "not yet" in text and "✅" not in text, f"{chapter}: a checker in the student version said {text!r}"


@pytest.mark.full
@pytest.mark.parametrize("chapter", FULL_CHAPTERS)
def test_notebook_full_run(chapter, tmp_path):
    """Full mode, seed 0: the figures the README quotes, within the tolerances check_full states."""
    check_full = _module(chapter).check_full
    check_full(_run(chapter, tmp_path, quick=False, seed=0))


@pytest.mark.seeds
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("chapter", [c.name for c in series.CATALOGUE])
def test_notebook_other_seeds(chapter, seed, tmp_path):
    """The QUICK checks hold beyond the default seed: a claim that flips with the seed is not a finding."""
    check = _check(chapter)
    check(_run(chapter, tmp_path, quick=True, seed=seed))
