"""The course layer: student and solutions versions (nbgrader's ClearSolutions), and the runner's two modes."""

import ast

import nbformat
import pytest

from effdl import course, series

SOLVED = """answer = None  # the MACs
### BEGIN SOLUTION
answer = 784 * 256
### END SOLUTION
from effdl import exercises
exercises.check_linear_macs(answer)"""

FUNCTION = """def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION


print("double(2) =", double(2) if False else "not called")"""


def _nb(*cells: tuple[str, str, bool]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("QUICK = False\nSEED = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# fixture"), params]
    for i, (kind, source, solution) in enumerate(cells):
        cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
        if solution:
            cell.metadata["nbgrader"] = course.solution_metadata(f"ex{i}")
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def test_student_version_clears_solutions_with_nbgrader_stubs():
    nb = _nb(
        ("code", SOLVED, True),
        ("code", FUNCTION, True),
        ("markdown", "### BEGIN SOLUTION\nIt is 7.\n### END SOLUTION", True),
    )
    student = course.student_version(nb)
    top, fn, text = (c.source for c in student.cells[2:])
    assert "784 * 256" not in top and "# YOUR CODE HERE" in top and "raise" not in top  # top level: no raise
    assert "answer = None" in top and "exercises.check_linear_macs(answer)" in top
    assert "    # YOUR CODE HERE\n    raise NotImplementedError()" in fn and "2 * x" not in fn
    assert text == course.TEXT_STUB
    for cell in student.cells:
        if cell.cell_type == "code":
            ast.parse(cell.source)  # still valid Python
    solved = course.solutions_version(nb)
    assert "784 * 256" in solved.cells[2].source and "BEGIN SOLUTION" not in solved.cells[2].source
    assert nb.cells[2].source == SOLVED  # the input is not changed


def test_solution_regions_must_be_marked_and_closed():
    with pytest.raises(Exception, match="solution"):
        course.student_version(_nb(("code", SOLVED, False)))  # region in a cell without solution metadata
    with pytest.raises(ValueError, match="no end solution"):
        course.student_version(_nb(("code", "### BEGIN SOLUTION\nx = 1", True)))
    with pytest.raises(ValueError, match="kind must be one of"):
        course.version(_nb(), "teacher")


def test_every_chapter_has_a_runnable_student_version():
    for c in series.CATALOGUE:
        path = series.notebooks_dir() / f"{c.name}.ipynb"
        student = course.student_version(path)
        for cell in student.cells:
            assert "BEGIN SOLUTION" not in cell.source and "END SOLUTION" not in cell.source
            if cell.cell_type == "code" and not cell.source.lstrip().startswith(("%", "!")):
                ast.parse(cell.source)


def test_write_version_writes_both_versions(tmp_path):
    src = tmp_path / "90_x.ipynb"
    nbformat.write(_nb(("code", SOLVED, True)), src)
    (stu,) = course.write_version(tmp_path / "student", "student", [src])
    (sol,) = course.write_version(tmp_path / "solutions", "solutions", [src])
    assert "784 * 256" not in stu.read_text() and "784 * 256" in sol.read_text()
    with pytest.raises(ValueError, match="kind must be one of"):
        course.write_version(tmp_path / "x", "teacher", [src])


@pytest.fixture
def course_series(tmp_path, monkeypatch):
    src = tmp_path / "notebooks"
    src.mkdir()
    nbformat.write(
        _nb(("code", SOLVED, True), ("code", "import effdl\neffdl.record('fx.done', True)", False)),
        src / "90_right.ipynb",
    )
    wrong = SOLVED.replace("784 * 256", "784 * 256 + 256")
    nbformat.write(_nb(("code", wrong, True)), src / "91_wrong.ipynb")
    chapters = (
        series.Chapter("90_right", "Right", "a fixture", "none", 1, 1),
        series.Chapter("91_wrong", "Wrong", "a fixture with a wrong solution", "none", 1, 1),
    )
    monkeypatch.setattr(series, "CATALOGUE", chapters)
    monkeypatch.setattr(series, "notebooks_dir", lambda: src)
    return tmp_path


def test_run_executes_the_student_version_or_the_solutions_strictly(course_series):
    student = series.run(quick=True, jobs=2, out=course_series / "stu")
    assert all(r.ok for r in student) and student[0].records == {"fx.done": True}
    out = nbformat.read(str(course_series / "stu" / "90_right.ipynb"), as_version=4)
    (checker,) = [c for c in out.cells if "check_linear_macs" in c.source]
    printed = "".join(o.get("text", "") for o in checker.outputs)
    assert "not yet" in printed and student[0].provenance["version"] == "student"

    right, wrong = series.run(quick=True, jobs=2, out=course_series / "sol", solutions=True)
    assert right.ok and right.provenance["version"] == "solutions"
    assert not wrong.ok and "ExerciseNotSolved" in wrong.error
