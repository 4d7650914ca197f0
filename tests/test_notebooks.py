"""Notebook regression: papermill executes every notebook with QUICK=True and its recorded numbers are asserted.

Each chapter NN_name has a module tests/notebooks/check_NN_name.py with ``check(records)``; a chapter without one
fails, so "it ran" is never the only assertion.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from effdl import series

CHECKS_DIR = Path(__file__).parent / "notebooks"


def _check(chapter: str):
    path = CHECKS_DIR / f"check_{chapter}.py"
    spec = importlib.util.spec_from_file_location(f"check_{chapter}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.check


def test_every_chapter_has_checks():
    have = {p.stem.removeprefix("check_") for p in CHECKS_DIR.glob("check_*.py")}
    assert have == {c.name for c in series.CATALOGUE}


@pytest.mark.notebook
@pytest.mark.parametrize("chapter", [c.name for c in series.CATALOGUE])
def test_notebook_quick_run(chapter, tmp_path):
    check = _check(chapter)
    # Under pytest-xdist the workers share the cores: give each kernel its share instead of all of them.
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    threads = max(1, (os.cpu_count() or 1) // workers)
    (res,) = series.run([chapter], quick=True, jobs=1, threads=threads, out=tmp_path)
    assert res.ok, f"{chapter} failed: {res.error}"
    assert res.records, f"{chapter} recorded nothing"
    check(res.records)
