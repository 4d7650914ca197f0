"""Chapters and sweeps as Dask tasks (effdl.distributed) on a 2-worker LocalCluster, on tiny fixture notebooks, and
two real QUICK chapters against a serial run."""

import json
import os
import re
import subprocess
import sys

import pytest
from test_series import _notebook  # the fixture-notebook writer (tests/ is on sys.path, as for test_lzss_cuda)

import effdl
from effdl import cli, distributed, series

pytest.importorskip("distributed")
pytestmark = pytest.mark.xdist_group("dask")  # one cluster at a time: each test starts 2 worker processes

# Worker processes and their kernels must import this checkout's effdl, as the client does.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(series.repo_root()), os.environ.get("PYTHONPATH")) if p)


# Measured wall-clock numbers differ between any two runs, serial or not; everything else must be equal.
TIMING = re.compile(r"latency|seconds|_ms\b|_s\b|speedup|per_s|throughput_mbs|time", re.IGNORECASE)


@pytest.fixture
def fixture_series(tmp_path, monkeypatch):
    src = tmp_path / "notebooks"
    src.mkdir()
    record = "import effdl\neffdl.record('{0}.seed', SEED)\neffdl.record('{0}.score', SEED * 10 + BITS)"
    _notebook(src / "90_good.ipynb", record.format("good"), params="QUICK = False\nSEED = 0\nBITS = 8")
    _notebook(src / "91_other.ipynb", record.format("other"), params="QUICK = False\nSEED = 0\nBITS = 4")
    # The kernel's parent is the Dask worker process: killing it is a worker dying mid-task, deterministically.
    _notebook(src / "92_killer.ipynb", "import os, signal\nos.kill(os.getppid(), 9)")
    chapters = tuple(
        series.Chapter(name, name, "a fixture", "none", 1, 1) for name in ("90_good", "91_other", "92_killer")
    )
    monkeypatch.setattr(series, "CATALOGUE", chapters)
    monkeypatch.setattr(series, "notebooks_dir", lambda: src)
    return tmp_path


def _strip(entry):
    """A results.json entry without what differs between runs of equal numbers: times, places, concurrency."""
    entry = {k: v for k, v in entry.items() if k not in ("seconds", "output")}
    prov = entry["provenance"]
    entry["provenance"] = {k: v for k, v in prov.items() if k not in ("run", "started", "seconds", "jobs", "cpus")}
    return entry


def test_chapters_on_dask_write_the_serial_results_json(fixture_series):
    seen = []
    dask_out, serial_out = fixture_series / "dask", fixture_series / "serial"
    got = distributed.run(
        ["90", "91"], workers=2, quick=True, parameters={"SEED": 3}, threads=1, out=dask_out, on_result=seen.append
    )
    want = series.run(["90", "91"], quick=True, parameters={"SEED": 3}, jobs=2, threads=1, out=serial_out)
    assert sorted(r.chapter.name for r in seen) == ["90_good", "91_other"]
    assert (
        [r.records for r in got]
        == [r.records for r in want]
        == [
            {"good.seed": 3, "good.score": 38},
            {"other.seed": 3, "other.score": 34},
        ]
    )
    assert all(r.ok for r in got) and got[0].provenance["jobs"] == 2
    dask_json = json.loads((dask_out / "results.json").read_text())
    serial_json = json.loads((serial_out / "results.json").read_text())
    assert {k: _strip(v) for k, v in dask_json.items()} == {k: _strip(v) for k, v in serial_json.items()}
    assert series.records_from_notebook(dask_out / "90_good.ipynb") == got[0].records


def test_a_killed_worker_fails_its_chapter_and_keeps_the_others(fixture_series, capsys):
    out = fixture_series / "build"
    # `--dask` before the names: its optional address must not swallow the first chapter
    argv = ["run", "--dask", "90", "92", "--jobs", "2", "--threads", "1", "--no-book", "--out", str(out)]
    assert cli.main(argv) == 1
    printed = capsys.readouterr()
    assert "as Dask tasks on a LocalCluster" in printed.out and "✓ 90_good" in printed.out
    assert "✗ 92_killer  failed after" in printed.out and "1 notebook(s) failed: 92_killer" in printed.err
    good, killer = (series.load_results(out / "results.json")[name] for name in ("90_good", "92_killer"))
    assert good["ok"] and good["records"] == {"good.seed": 0, "good.score": 8}
    assert "the worker running 92_killer died" in killer["error"] and "KilledWorker" in killer["error"]
    saved = json.loads((out / "results.json").read_text())
    assert saved["90_good"]["ok"] is True and saved["92_killer"]["ok"] is False
    assert not (out / "92_killer.ipynb").exists()


def test_a_sweep_keeps_each_cell_with_its_parameters_and_summarizes_over_seeds(fixture_series, capsys):
    from distributed import LocalCluster

    out = fixture_series / "sweep"
    # A cluster already running, reached by its address as `--dask tcp://host:8786` reaches a lab's.
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster:
        argv = ["sweep", "90_good", "-p", "SEED", "1,2", "-p", "BITS", "4", "--dask", cluster.scheduler_address]
        assert cli.main([*argv, "--threads", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"Dask at {cluster.scheduler_address}" in printed
    assert "✓ SEED=1 BITS=4" in printed and "✓ SEED=2 BITS=4" in printed and "mean ± std" in printed
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["chapter"] == "90_good" and doc["grid"] == {"SEED": [1, 2], "BITS": [4]}
    cells = doc["cells"]
    assert [c["parameters"] for c in cells] == [{"SEED": 1, "BITS": 4}, {"SEED": 2, "BITS": 4}]
    assert [c["records"]["good.score"] for c in cells] == [14, 24]
    assert all(c["ok"] and c["error"] is None and c["provenance"]["parameters"]["SEED"] in (1, 2) for c in cells)
    csv = (out / "summary.csv").read_text().splitlines()
    assert csv[0] == "BITS,record,mean,std,n" and "4,good.score,19.0,7.0710678118654755,2" in csv
    assert "| 4 | `good.score` | 19 ± 7.1 | 2 |" in (out / "summary.md").read_text()


def test_a_worker_with_other_effdl_is_refused(fixture_series, monkeypatch):
    here = distributed.identity()
    assert here["effdl"] == effdl.__version__ and len(here["source"]) == 16
    distributed.check_workers(here, {"tcp://a:1": here})
    with pytest.raises(distributed.ClusterError, match=r"tcp://b:2 has effdl 9.9 \(client: "):
        distributed.check_workers(here, {"tcp://a:1": here, "tcp://b:2": {**here, "effdl": "9.9"}})
    with pytest.raises(distributed.ClusterError, match="tcp://b:2 has other effdl source"):
        distributed.check_workers(here, {"tcp://b:2": {**here, "source": "0" * 16}})
    # On a real cluster: this client's source hash differs from what its workers compute (they run their own).
    monkeypatch.setattr(distributed, "source_hash", lambda: "f" * 16)
    with pytest.raises(distributed.ClusterError, match="differs between this client and Dask worker"):
        distributed.run(["90"], workers=1, out=fixture_series / "build")


def test_an_unreachable_scheduler_fails_within_the_timeout(fixture_series, capsys):
    with pytest.raises(distributed.ClusterError, match=r"could not reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        distributed.run(["90"], scheduler="tcp://127.0.0.1:9", out=fixture_series / "b", connect_timeout=2)
    assert cli.main(["run", "--dask", "not a host", "90"]) == 2
    assert "unknown notebook 'not a host'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([], "at least one -p"),
        ([("SEED", "")], "without empty ones"),
        ([("SEED", "0,,1")], "without empty ones"),
        ([("1SEED", "0")], "must be a Python identifier"),
        ([("SEED", "0"), ("SEED", "1")], "given twice"),
        ([("SEED", "1,1")], "repeats a value"),
        (["SEED"], "NAME and comma-separated VALUES"),
    ],
)
def test_bad_grids_are_refused(pairs, message):
    with pytest.raises(ValueError, match=message):
        distributed.parse_grid(pairs)


def test_grid_values_parse_as_literals_and_sweeps_check_names(fixture_series, capsys):
    tmp = fixture_series
    grid = distributed.parse_grid([("SEED", "0, 1"), ("LR", "0.1,1e-3"), ("AUG", "True,False"), ("DATA", "a,b")])
    assert grid == {"SEED": [0, 1], "LR": [0.1, 0.001], "AUG": [True, False], "DATA": ["a", "b"]}
    with pytest.raises(ValueError, match="LR not set in 90_good's parameters cell; its parameters: BITS, QUICK, SEED"):
        distributed.sweep("90", {"LR": [0.1]}, out=fixture_series / "s")
    assert cli.main(["sweep", "nope", "-p", "SEED", "0"]) == 2
    assert "unknown notebook 'nope'" in capsys.readouterr().err
    records = {"flag": True, "l": [1]}  # not numbers: left out of the summary
    cells = [distributed.SweepCell({"SEED": s, "B": 2}, True, None, {"x": s, **records}, 1.0, tmp) for s in (1, 3)]
    rows = distributed.summarize(cells)
    assert rows == [{"B": 2, "record": "x", "mean": 2.0, "std": pytest.approx(2**0.5), "n": 2}]


@pytest.mark.notebook
def test_two_quick_chapters_on_dask_record_what_a_serial_run_records(tmp_path):
    names = ["02_lowrank", "11_stratified_models"]
    got = distributed.run(names, workers=2, quick=True, threads=1, out=tmp_path / "dask")
    want = series.run(names, quick=True, jobs=2, threads=1, out=tmp_path / "serial")
    assert all(r.ok for r in got), [r.error for r in got]
    assert all(r.records for r in got)
    for a, b in zip(got, want, strict=True):
        assert a.records.keys() == b.records.keys()
        differ = {k: (a.records[k], b.records[k]) for k in a.records if a.records[k] != b.records[k]}
        assert not [k for k in differ if not TIMING.search(k)], differ


def test_a_sweep_without_dask_runs_in_local_processes(fixture_series):
    (cell,) = distributed.sweep("90_good", {"BITS": [5]}, quick=True, threads=1, out=fixture_series / "s")
    assert cell.ok and cell.parameters == {"BITS": 5} and cell.records == {"good.seed": 0, "good.score": 5}
    assert cell.provenance["parameters"] == {"QUICK": True, "SEED": 0, "BITS": 5} and cell.output.exists()
    assert "(one run per cell: no SEED swept)" in (fixture_series / "s" / "summary.md").read_text()


def test_without_dask_the_error_says_how_to_install_it(fixture_series, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed → ImportError
    with pytest.raises(distributed.ClusterError, match=r'pip install "dask\[distributed\]"'):
        distributed.run(["90"], out=fixture_series / "b")
    assert cli.main(["sweep", "90", "-p", "SEED", "0", "--dask"]) == 2
    assert 'needs dask.distributed, which is not installed: pip install "dask[distributed]"' in capsys.readouterr().err


def test_effdl_imports_without_loading_dask():
    code = "import sys, effdl, effdl.cli, effdl.distributed; print({'dask', 'distributed'} & set(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "set()"
