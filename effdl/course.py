"""The course layer: student and solutions versions of the notebooks, with nbgrader's conventions.

The notebooks in ``notebooks/`` are the *source* version (nbgrader's term): every exercise's reference solution sits
between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in a cell whose metadata marks it ``"solution": true``.

- :func:`student_version` clears the solutions with nbgrader's own ``ClearSolutions`` preprocessor (a function body
  becomes ``raise NotImplementedError()``; at top level, where a ``raise`` would stop the notebook before the checker
  answers "not yet", the stub is the ``# YOUR CODE HERE`` comment alone) and clears every output;
- :func:`solutions_version` keeps the solutions and drops the marker lines;
- :func:`write_version` writes either for distribution (``effdl student OUT/``, ``effdl solutions OUT/``).

``effdl run`` executes the student version; ``effdl run --solutions`` executes the source with ``EFFDL_SOLUTIONS=1``,
in which every checker that would answer "not yet" raises (:mod:`effdl.exercises`), so a wrong solution fails the run.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
VERSIONS = ("student", "solutions")

Version = Literal["student", "solutions"]


def _read(notebook: str | os.PathLike | nbformat.NotebookNode) -> nbformat.NotebookNode:
    if isinstance(notebook, nbformat.NotebookNode):
        return copy.deepcopy(notebook)
    return nbformat.read(str(notebook), as_version=4)


def is_solution_cell(cell: Any) -> bool:
    """nbgrader's test: the cell's metadata says ``nbgrader.solution`` is true."""
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution", False))


def solution_metadata(grade_id: str) -> dict[str, Any]:
    """The nbgrader metadata of an answer cell (``grade_id`` unique within the notebook)."""
    return {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3, "solution": True}


def solution_cells(notebook: str | os.PathLike | nbformat.NotebookNode) -> list[tuple[int, Any]]:
    """``(index, cell)`` of every cell that holds a solution region or is marked as a solution."""
    nb = _read(notebook)
    return [(i, c) for i, c in enumerate(nb.cells) if is_solution_cell(c) or BEGIN in c.source]


def _top_level_stub(source: str) -> str:
    # nbgrader indents the stub like the BEGIN line. An unindented ``raise NotImplementedError()`` would stop the
    # notebook (and papermill) before the checker below it runs: there the stub is the comment alone, and the
    # answer keeps the ``answer = None`` the cell set before the solution region.
    lines = source.split("\n")
    return "\n".join(line for line in lines if line != "raise NotImplementedError()")


def student_version(notebook: str | os.PathLike | nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with every solution region replaced by nbgrader's stub and every output cleared.

    Raises:
        ValueError: a solution region in a cell not marked as a solution cell, or an unclosed/nested region.
    """
    from nbgrader.preprocessors import ClearOutput, ClearSolutions

    nb = _read(notebook)
    clear = ClearSolutions(code_stub={"python": CODE_STUB}, text_stub=TEXT_STUB, enforce_metadata=True)
    try:
        nb, resources = clear.preprocess(nb, {})
    except RuntimeError as err:  # nbgrader's own messages: "no end solution statement found", ...
        raise ValueError(f"solution markers: {err}") from None
    nb, _ = ClearOutput().preprocess(nb, resources)
    for cell in nb.cells:
        if cell.cell_type == "code" and is_solution_cell(cell):
            cell.source = _top_level_stub(cell.source)
    return nb


def solutions_version(notebook: str | os.PathLike | nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with its solutions in and the ``BEGIN/END SOLUTION`` marker lines removed."""
    nb = _read(notebook)
    for cell in nb.cells:
        if BEGIN in cell.source or END in cell.source:
            lines = cell.source.split("\n")
            cell.source = "\n".join(line for line in lines if BEGIN not in line and END not in line)
    return nb


def version(notebook: str | os.PathLike | nbformat.NotebookNode, kind: Version) -> nbformat.NotebookNode:
    """:func:`student_version` or :func:`solutions_version` by name."""
    if kind == "student":
        return student_version(notebook)
    if kind == "solutions":
        return solutions_version(notebook)
    raise ValueError(f"kind must be one of {VERSIONS}, got {kind!r}")


def write_version(out: str | os.PathLike, kind: Version, notebooks: Iterable[str | os.PathLike]) -> list[Path]:
    """Write the ``kind`` version of each notebook into the folder ``out`` (same file names), outputs cleared, ready
    to hand out. Returns the written paths."""
    if kind not in VERSIONS:
        raise ValueError(f"kind must be one of {VERSIONS}, got {kind!r}")
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for src in notebooks:
        nb = version(src, kind)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        path = out_dir / Path(src).name
        nbformat.write(nb, str(path))
        written.append(path)
    return written
