"""The papermill runner, the results table and the HTML book, on tiny fixture notebooks."""

import json
import platform
import shutil
import subprocess
from datetime import datetime, timedelta

import nbformat
import pytest

import effdl
from effdl import series
from effdl.core.record import MIME_TYPE, records_from_notebook


def _notebook(path, *cells, params="QUICK = False\nSEED = 0"):
    """A fixture notebook at ``path``: a title, a papermill ``parameters`` cell holding ``params``, then ``cells``."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(params)
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
    assert {r.provenance["version"] for r in results} == {"student"}
    good, bad = results
    assert {r.chapter.name for r in seen} == {"90_good", "91_bad"}
    assert good.ok and good.records == {"good.quick": True, "good.seed": 7, "good.progress": "0"}
    assert records_from_notebook(out / "90_good.ipynb") == good.records
    assert not bad.ok
    assert "RuntimeError: boom in cell" in bad.error and "raise RuntimeError" in bad.error
    saved = json.loads((out / "results.json").read_text())
    assert saved["90_good"]["records"]["good.seed"] == 7 and saved["91_bad"]["ok"] is False

    prov = saved["90_good"]["provenance"]
    assert prov == good.provenance
    assert prov["mode"] == "quick" and prov["parameters"] == {"QUICK": True, "SEED": 7}
    started = datetime.fromisoformat(prov["started"])
    assert started.utcoffset() == timedelta(0) and abs(datetime.now(started.tzinfo) - started) < timedelta(hours=1)
    assert isinstance(prov["commit"], str) and (prov["commit"] == "unknown" or len(prov["commit"]) >= 40)
    assert prov["effdl"] == effdl.__version__ and prov["python"] == platform.python_version()
    assert isinstance(prov["torch"], str) and prov["torch"][0].isdigit()
    assert isinstance(prov["threads"], int) and prov["threads"] >= 1 and prov["jobs"] == 2
    assert isinstance(prov["seconds"], float) and 0 < prov["seconds"] <= good.seconds + 0.01
    # one run: both chapters share its start and commit, each keeps its own start time
    assert saved["91_bad"]["provenance"]["run"] == prov["run"] <= prov["started"]

    table = series.results_table(results)
    assert "90_good" in table and "good.seed" in table and "7" in table


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


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_run_rejects_bad_threads(fixture_series, threads):
    with pytest.raises(ValueError, match="threads must be an int ≥ 1"):
        series.run(threads=threads, out=fixture_series / "build")


def test_kernels_start_without_the_unencrypted_tcp_warning(fixture_series, capfd):
    # ipykernel ≥ 7.3 warns on stderr at every start of a kernel whose transport is not encrypted; run() asks the
    # kernel manager for CurveZMQ encryption where the kernelspec supports it, so `effdl run` prints no such warning
    (good,) = series.run(["90_good"], quick=True, jobs=1, out=fixture_series / "build")
    assert good.ok
    # SEED not injected: provenance records the notebook's own default, which is what the kernel used
    assert good.records["good.seed"] == 0 and good.provenance["parameters"] == {"QUICK": True, "SEED": 0}
    assert "without encryption" not in capfd.readouterr().err


# ---- provenance, merging, the book and the Markdown results, on hand-made files (no kernel) ----------------------

RUN = "2026-11-29T10:00:00+00:00"


def _prov(*, commit="a" * 40, mode="full", seed=0, run=RUN, **extra):
    prov = {
        "run": run,
        "mode": mode,
        "parameters": {"QUICK": mode == "quick", "SEED": seed},
        "started": run,
        "commit": commit,
        "effdl": "0.1.0",
        "torch": "2.5.1",
        "python": "3.11.9",
        "threads": 1,
        "jobs": 2,
        "cpus": 2,
        "seconds": 12.5,
    }
    return {**prov, **extra}


def test_default_parameters_reads_the_tagged_cell_literals(tmp_path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("QUICK = False\nSEED = 5\nCHANNELS, DEPTH = 32, 4\nEPOCHS = 2 if QUICK else 9")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_code_cell("SEED = 1"), params]
    nbformat.write(nb, tmp_path / "x.ipynb")
    # the untagged cell's SEED = 1 is not a parameter; the computed EPOCHS is left out
    assert series.default_parameters(tmp_path / "x.ipynb") == {"QUICK": False, "SEED": 5, "CHANNELS": 32, "DEPTH": 4}
    with pytest.raises(TypeError, match="notebook must be a path"):
        series.default_parameters(3)


def test_provenance_fills_seed_and_quick_from_the_notebook_defaults(tmp_path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("QUICK = False\nSEED = 3")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params]
    nbformat.write(nb, tmp_path / "x.ipynb")
    outcome = {"started": RUN, "seconds": 1.234}
    prov = series._provenance(tmp_path / "x.ipynb", {"EPOCHS": 1}, {"commit": "c"}, outcome, 2, 1, 4)
    assert prov["parameters"] == {"QUICK": False, "SEED": 3, "EPOCHS": 1} and prov["mode"] == "full"
    assert (prov["threads"], prov["jobs"], prov["cpus"], prov["seconds"], prov["commit"]) == (2, 1, 4, 1.23, "c")
    injected = series._provenance(tmp_path / "x.ipynb", {"QUICK": True, "SEED": 8}, {}, outcome, 1, 1, 1)
    assert injected["parameters"] == {"QUICK": True, "SEED": 8} and injected["mode"] == "quick"
    missing = series._provenance(tmp_path / "nope.ipynb", {}, {}, outcome, 1, 1, 1)  # never crashes the run
    assert missing["parameters"] == {} and missing["mode"] == "full"


def test_commit_is_unknown_outside_git_and_without_git(tmp_path, monkeypatch):
    assert series.git_commit(tmp_path) == "unknown"  # no repository here
    monkeypatch.setattr(series, "repo_root", lambda: tmp_path)
    assert series._environment()["commit"] == "unknown"

    (tmp_path / ".git").mkdir()

    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(series.subprocess, "run", no_git)
    assert series.git_commit(tmp_path) == "unknown"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git executable")
def test_commit_is_the_head_and_marks_a_dirty_tree(tmp_path):
    def git(*args):
        cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args]
        return subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    (tmp_path / "a.txt").write_text("1")
    git("add", "a.txt")
    git("commit", "-qm", "one")
    head = git("rev-parse", "HEAD")
    assert series.git_commit(tmp_path) == head and len(head) == 40
    (tmp_path / "a.txt").write_text("2")
    assert series.git_commit(tmp_path) == head + "-dirty"


def test_a_later_run_keeps_the_other_chapters_and_their_own_provenance(tmp_path):
    tour, pruning = series.chapters(["00", "01"])
    first = [
        series.RunResult(tour, tmp_path / "00_tour.ipynb", True, 1.0, {"tour.a": 1}, provenance=_prov()),
        series.RunResult(pruning, tmp_path / "01_pruning.ipynb", True, 1.0, {"pruning.a": 2}, provenance=_prov()),
    ]
    series._write_results_json(tmp_path, first)
    later = _prov(commit="b" * 40, mode="quick", run="2026-12-01T08:00:00+00:00")
    series._write_results_json(
        tmp_path, [series.RunResult(pruning, tmp_path / "01_pruning.ipynb", True, 1.0, {"pruning.a": 3}, None, later)]
    )
    saved = series.load_results(tmp_path / "results.json")
    assert saved["00_tour"]["provenance"] == _prov() and saved["00_tour"]["records"] == {"tour.a": 1}
    assert saved["01_pruning"]["provenance"] == later and saved["01_pruning"]["records"] == {"pruning.a": 3}
    conflicts = series.provenance_conflicts(saved)
    assert any(c.startswith("commits differ: aaaaaaaaaaaa (00_tour); bbbbbbbbbbbb (01_pruning)") for c in conflicts)
    assert any(c.startswith("modes differ: full (00_tour); quick (01_pruning)") for c in conflicts)


def test_conflicts_are_empty_only_for_one_run():
    one = {"00_tour": {"provenance": _prov()}, "01_pruning": {"provenance": _prov(started="2026-11-29T10:03:00")}}
    assert series.provenance_conflicts(one) == []
    assert series.provenance_conflicts({**one, "02_lowrank": {"records": {}}}) == [
        "no provenance recorded for 02_lowrank (written by an older effdl, or by hand)"
    ]
    reseeded = {**one, "02_lowrank": {"provenance": _prov(seed=1)}}
    assert "seeds differ: 0 (00_tour, 01_pruning); 1 (02_lowrank)" in series.provenance_conflicts(reseeded)
    with pytest.raises(TypeError, match="results must be a mapping"):
        series.provenance_conflicts([])


def _executed(path, key, value):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("effdl.record(...)")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={MIME_TYPE: {"key": key, "value": value}, "text/plain": key})
    ]
    nb.cells = [cell]
    nbformat.write(nb, path)


@pytest.fixture
def two_chapter_book(tmp_path, monkeypatch):
    from effdl import book

    chapters = (series.Chapter("90_good", "Good", "t", "p", 1, 1), series.Chapter("91_more", "More", "t", "p", 1, 1))
    monkeypatch.setattr(series, "CATALOGUE", chapters)
    monkeypatch.setattr(book, "CATALOGUE", chapters)
    _executed(tmp_path / "90_good.ipynb", "good.acc", 0.91234)
    _executed(tmp_path / "91_more.ipynb", "more.params", 235146)
    return tmp_path


def test_book_names_one_run_only_when_results_come_from_one(two_chapter_book):
    from effdl import book

    entry = {"ok": True, "seconds": 12.5}
    one = {c: {**entry, "provenance": _prov()} for c in ("90_good", "91_more")}
    (two_chapter_book / "results.json").write_text(json.dumps(one))
    site = book.build_book(two_chapter_book).parent
    index = (site / "index.html").read_text()
    assert "Every number in this book was computed in one run (full mode · seed 0 · 2026-11-29 10:00 UTC · " in index
    assert "QUICK-mode" not in index
    chapter = (site / "90_good.html").read_text()
    assert "commit aaaaaaaaaaaa · effdl 0.1.0 · torch 2.5.1 · Python 3.11.9 · 1 torch thread" in chapter
    results = (site / "results.html").read_text()
    assert ">0.9123<" in results and ">235,146<" in results

    mixed = {
        "90_good": {**entry, "provenance": _prov()},
        "91_more": {**entry, "provenance": _prov(commit="b" * 40 + "-dirty", mode="quick", seed=2, run="2026-12-01")},
    }
    text = book._origin(mixed)
    assert "computed in one run" not in text and "do not all come from one run" in text
    assert "commits differ: aaaaaaaaaaaa (90_good); bbbbbbbbbbbb-dirty (91_more)" in text


def test_values_are_formatted_one_way():
    assert [series._fmt(v) for v in (0.912345, 235146, 235146.4, 7, True, 1e-5, "x")] == [
        "0.9123",
        "235,146",
        "235,146",
        "7",
        "True",
        "1e-05",
        "x",
    ]


def test_markdown_results_from_one_full_run():
    results = {
        "01_pruning": {
            "ok": True,
            "records": {"pruning.accuracy": 0.97912, "pruning.note": "a|b"},
            "provenance": _prov(),
        },
        "00_tour": {"ok": True, "records": {"tour.mlp.params": 235146}, "provenance": _prov()},
    }
    lines = series.results_markdown(results).splitlines()
    assert lines[0] == (
        "From one `effdl run` started 2026-11-29 10:00 UTC: full mode, seed 0, commit `aaaaaaaaaaaa`, torch 2.5.1, "
        "Python 3.11.9, effdl 0.1.0, 1 torch thread per notebook (2 notebook(s) at a time on 2 CPU cores). "
        "Generated by `effdl results --markdown` from that run's `results.json`."
    )
    assert lines[1:] == [
        "",
        "**00 · tour**",  # catalogue order, whatever the file's order
        "",
        "| Result | Value |",
        "|---|---:|",
        "| `tour.mlp.params` | 235,146 |",
        "",
        "**01 · pruning**",
        "",
        "| Result | Value |",
        "|---|---:|",
        "| `pruning.accuracy` | 0.9791 |",
        "| `pruning.note` | a\\|b |",
    ]


@pytest.mark.parametrize(
    ("second", "reason"),
    [
        (_prov(mode="quick"), "quick-mode results (00_tour, 01_pruning)"),
        (_prov(commit="b" * 40), "commits differ"),
        (_prov(mode="quick", run="2026-12-01T00:00:00+00:00"), "modes differ: full (00_tour); quick (01_pruning)"),
        (None, "no provenance recorded for 01_pruning"),
    ],
)
def test_markdown_refuses_quick_or_mixed_results_unless_allowed(second, reason):
    first = _prov(mode="quick") if reason.startswith("quick") else _prov()
    results = {"00_tour": {"ok": True, "records": {"tour.a": 1.0}, "provenance": first}}
    results["01_pruning"] = {"ok": True, "records": {"pruning.a": 2.0}, **({"provenance": second} if second else {})}
    with pytest.raises(ValueError, match="refusing to write README results") as err:
        series.results_markdown(results)
    assert reason in str(err.value)
    text = series.results_markdown(results, allow_mixed=True)
    assert text.startswith("Mixed results, not from one full run (") and reason in text.splitlines()[0]
    assert "**00 · tour** — " in text and "**01 · pruning** — " in text  # each chapter names its own run


def test_markdown_refuses_failed_chapters_and_bad_input():
    results = {"00_tour": {"ok": False, "records": {}, "provenance": _prov()}}
    with pytest.raises(ValueError, match=r"chapters that failed \(00_tour\) have incomplete numbers"):
        series.results_markdown(results)
    assert "**00 · tour** — full mode" in series.results_markdown(results, allow_mixed=True)
    with pytest.raises(ValueError, match="results holds no chapters"):
        series.results_markdown({})
    with pytest.raises(TypeError, match="results must be a mapping"):
        series.results_markdown([("00_tour", {})])


def test_a_kernel_that_dies_at_start_is_started_once_more(tmp_path, monkeypatch):
    # Two kernels starting at once can collide on a random port and die before their first reply: _execute starts
    # such a notebook once more; any other failure, or a second death, is reported, not retried.
    import papermill

    calls = []

    def flaky(src, dst, **kwargs):
        calls.append(dst)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        nbformat.write(src if isinstance(src, nbformat.NotebookNode) else nbformat.read(src, as_version=4), dst)

    src = series.notebooks_dir() / "00_tour.ipynb"
    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    out = series._execute("00_tour", str(src), str(tmp_path / "a.ipynb"), {}, 1, 60)
    assert out["error"] is None and len(calls) == 2

    def dead(src, dst, **kwargs):
        calls.append(dst)
        raise RuntimeError("Kernel died before replying to kernel_info")

    calls.clear()
    monkeypatch.setattr(papermill, "execute_notebook", dead)
    out = series._execute("00_tour", str(src), str(tmp_path / "b.ipynb"), {}, 1, 60)
    assert len(calls) == 2 and "Kernel died" in out["error"]

    def other(src, dst, **kwargs):
        calls.append(dst)
        raise RuntimeError("something else")

    calls.clear()
    monkeypatch.setattr(papermill, "execute_notebook", other)
    out = series._execute("00_tour", str(src), str(tmp_path / "c.ipynb"), {}, 1, 60)
    assert len(calls) == 1 and "something else" in out["error"]
