"""The papermill runner, the results table and the HTML book, on tiny fixture notebooks."""

import json

import nbformat
import pytest

from effdl import series
from effdl.core.record import records_from_notebook


def _notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("QUICK = False\nSEED = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# fixture"), params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def fixture_series(tmp_path, monkeypatch):
    src = tmp_path / "notebooks"
    src.mkdir()
    _notebook(
        src / "90_good.ipynb",
        "import effdl\neffdl.record('good.quick', QUICK)\neffdl.record('good.seed', SEED)",
        "import os\neffdl.record('good.progress', os.environ.get('EFFDL_PROGRESS'))",
    )
    _notebook(src / "91_bad.ipynb", "x = 1", "raise RuntimeError('boom in cell')")
    chapters = (
        series.Chapter("90_good", "Good", "a fixture", "none", 1, 1),
        series.Chapter("91_bad", "Bad", "a fixture that fails", "none", 1, 1),
    )
    monkeypatch.setattr(series, "CATALOGUE", chapters)
    monkeypatch.setattr(series, "notebooks_dir", lambda: src)
    return tmp_path


def test_run_injects_parameters_collects_records_and_reports_failures(fixture_series):
    out = fixture_series / "build"
    seen = []
    results = series.run(quick=True, parameters={"SEED": 7}, jobs=2, out=out, on_result=seen.append)
    good, bad = results
    assert {r.chapter.name for r in seen} == {"90_good", "91_bad"}
    assert good.ok and good.records == {"good.quick": True, "good.seed": 7, "good.progress": "0"}
    assert records_from_notebook(out / "90_good.ipynb") == good.records
    assert not bad.ok
    assert "RuntimeError: boom in cell" in bad.error and "raise RuntimeError" in bad.error
    saved = json.loads((out / "results.json").read_text())
    assert saved["90_good"]["records"]["good.seed"] == 7 and saved["91_bad"]["ok"] is False

    table = series.results_table(results)
    assert "90_good" in table and "good.seed" in table and "7" in table

    index = series.book(out)
    page = index.read_text()
    assert '<a href="90_good.html">Good</a>' in page and "good.quick" in page and "failed" in page
    assert (out / "90_good.html").stat().st_size > 1000


def test_chapter_names_resolve_in_every_spelling():
    assert [c.name for c in series.chapters(["00"])] == ["00_tour"]
    assert [c.name for c in series.chapters(["tour", "00_tour.ipynb", "0"])] == ["00_tour"]
    assert series.chapters() == list(series.CATALOGUE)
    with pytest.raises(ValueError, match="unknown notebook 'nope'; choose from: 00_tour"):
        series.chapters(["nope"])


def test_parameters_parse_like_python_literals():
    assert series.parse_parameter("3") == 3
    assert series.parse_parameter("0.5") == 0.5
    assert series.parse_parameter("True") is True
    assert series.parse_parameter("[1, 2]") == [1, 2]
    assert series.parse_parameter("mnist5k") == "mnist5k"


def test_book_without_a_run_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="effdl run"):
        series.book(tmp_path / "missing")


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_run_rejects_bad_threads(fixture_series, threads):
    with pytest.raises(ValueError, match="threads must be an int ≥ 1"):
        series.run(threads=threads, out=fixture_series / "build")


def test_kernels_start_without_the_unencrypted_tcp_warning(fixture_series, capfd):
    # ipykernel ≥ 7.3 warns on stderr at every start of a kernel whose transport is not encrypted; run() asks the
    # kernel manager for CurveZMQ encryption where the kernelspec supports it, so `effdl run` prints no such warning
    (good,) = series.run(["90_good"], quick=True, jobs=1, out=fixture_series / "build")
    assert good.ok
    assert "without encryption" not in capfd.readouterr().err
