import json
import subprocess
import sys

import pytest

from effdl import cli, series


def test_list_shows_the_catalogue(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "00_tour" in out and "papers:" in out


def test_bad_input_is_one_clear_line(capsys):
    assert cli.main(["run", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("effdl: error: unknown notebook 'nope'") and "Traceback" not in err
    assert cli.main(["bench", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown benchmark 'nope'; choose from: " in err and "latency" in err and "Traceback" not in err
    assert cli.main(["run", "00", "-j", "0"]) == 2
    assert "jobs must be an int ≥ 1" in capsys.readouterr().err


def test_lab_is_bound_to_loopback_with_a_token():
    cmd = cli.lab_command(port=8899, browser=False)
    assert "--ServerApp.ip=127.0.0.1" in cmd and "--ServerApp.port=8899" in cmd and "--no-browser" in cmd
    token = next(a for a in cmd if a.startswith("--IdentityProvider.token="))
    assert len(token.split("=", 1)[1]) >= 24
    assert cli.lab_command(browser=False) != cli.lab_command(browser=False)  # a fresh token each time


def test_console_script_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "effdl.cli", "list"], capture_output=True, text=True, check=True)
    assert "00_tour" in out.stdout


def test_latency_benchmark_prints_ratios_against_the_mlp(capsys):
    assert cli.main(["bench", "latency", "--repeats", "2", "--warmup", "1", "--batch", "4"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("latency per batch of 4 on cpu")
    mlp = next(line for line in out if line.startswith("MLP"))
    assert mlp.split()[3] == "1.00"  # the baseline's ratio to itself
    assert sum(line.startswith(("SmallCNN", "MobileNetV1", "ResNet20")) for line in out) == 3


def test_quant_benchmark_prints_int8_ratios(capsys):
    argv = ["bench", "quant", "--hidden", "64", "--repeats", "2", "--warmup", "1", "--rounds", "1", "--batch", "8"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("MLP 784-64-10: latency per batch of 8 on cpu")
    rows = {line[:18].strip(): line[18:].split() for line in out[2:5]}
    assert rows["fp32"][2] == "1.00×" and rows["fp32"][4] == "1.000"
    assert float(rows["real int8"][4]) <= 0.35  # int8 weights: about a quarter of the bytes (plus pickle overhead)
    assert out[-1].startswith("top-1 agreement of real int8 with fake-quant int8:")


def test_quant_benchmark_rejects_bad_hidden(capsys):
    assert cli.main(["bench", "quant", "--hidden", "a,b"]) == 2
    assert "--hidden must be comma-separated ints such as 1024,1024, got 'a,b'" in capsys.readouterr().err


def test_lzss_benchmark_prints_ratios_against_lz4_and_zlib(capsys, tmp_path):
    plot = tmp_path / "lzss.html"
    assert cli.main(["bench", "lzss", "--quick", "--repeats", "1", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("effdl bench lzss: W=128, C=2048; MLP 784-32-10 trained 20 steps on mnist5k")
    datasets = ("fp32 weights", "bf16 weights", "int8 weights", "int32 CSR indices", "uint16 codes (topobathy)")
    for name in (*datasets, "uint16 codes (DEM)", "int16 DEM", "Python source"):
        assert sum(line.startswith(name) for line in lines) == 2, name  # a table row and a summary row
    assert sum(" zlib 6 " in line for line in lines) == 8 and sum(" lz4 " in line for line in lines) == 9  # + header
    start = lines.index("summary: ratios measured in this run (lzss = effdl lzss, cpu backend, 1 thread)")
    codes = next(line for line in lines[start:] if line.startswith("uint16 codes (topobathy)")).split()
    ratio, lz4, vs_lz4 = float(codes[3]), float(codes[4]), float(codes[5].rstrip("×"))
    assert ratio >= lz4 > 1 and abs(vs_lz4 - ratio / lz4) < 2e-3  # the bar on the quantization codes
    assert "geometric mean of compress MB/s × zlib-6" in out
    sweep = [line.split() for line in lines if line.split()[:1] in (["W"], ["C"], ["S"])]
    assert [(p, v) for p, v, *_ in sweep] == [("W", "32"), ("W", "255"), ("C", "512"), ("C", "4096")] + [
        ("S", s) for s in ("1", "2", "4")
    ]
    assert "plotly" in plot.read_text() and out.rstrip().splitlines()[-2] == f"plot: {plot}"


def test_lzss_benchmark_on_cuda_without_a_gpu_is_one_clear_line(capsys):
    import pytest
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the benchmark would run")
    assert cli.main(["bench", "lzss", "--quick", "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("effdl: error: --device cuda needs a CUDA GPU, and torch finds none on this machine")


def test_lab_serves_a_chosen_folder_and_encrypts_kernel_traffic_where_supported(tmp_path):
    cmd = cli.lab_command(browser=False, root=tmp_path)
    assert f"--ServerApp.root_dir={tmp_path}" in cmd
    assert f"--ServerApp.root_dir={series.notebooks_dir()}" in cli.lab_command(browser=False)
    assert ("--KernelManager.transport_encryption=auto" in cmd) == series.kernel_encryption()


def _results(tmp_path, **second):
    """A hand-made results.json: two chapters of one full run, the second's provenance changed by ``second``."""
    prov = {
        "run": "2026-11-29T10:00:00+00:00",
        "mode": "full",
        "parameters": {"QUICK": False, "SEED": 0},
        "started": "2026-11-29T10:00:02+00:00",
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "effdl": "0.1.0",
        "torch": "2.5.1",
        "python": "3.11.9",
        "threads": 2,
        "jobs": 1,
        "cpus": 2,
        "seconds": 80.0,
    }
    results = {
        "00_tour": {"ok": True, "records": {"tour.mlp.accuracy": 0.9512345, "tour.mlp.params": 235146}},
        "02_lowrank": {"ok": True, "records": {"lowrank.ratio": 3.7381, "lowrank.ranks": "48/32"}},
    }
    results["00_tour"]["provenance"] = prov
    results["02_lowrank"]["provenance"] = {**prov, **second}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results), encoding="utf-8")
    return path


def test_results_markdown_prints_the_readme_section(tmp_path, capsys):
    assert cli.main(["results", "--markdown", "--from", str(_results(tmp_path))]) == 0
    out = capsys.readouterr().out
    header, *body = out.splitlines()
    for part in (
        "2026-11-29 10:00 UTC",
        "full mode",
        "seed 0",
        "commit `0123456789ab`",
        "torch 2.5.1",
        "2 torch threads",
    ):
        assert part in header, part
    assert body == [
        "",
        "**00 · tour**",
        "",
        "| Result | Value |",
        "|---|---:|",
        "| `tour.mlp.accuracy` | 0.9512 |",
        "| `tour.mlp.params` | 235,146 |",
        "",
        "**02 · lowrank**",
        "",
        "| Result | Value |",
        "|---|---:|",
        "| `lowrank.ratio` | 3.738 |",
        "| `lowrank.ranks` | 48/32 |",
    ]


@pytest.mark.parametrize(
    ("second", "reason"),
    [
        ({"mode": "quick", "parameters": {"QUICK": True, "SEED": 0}}, "quick-mode results (02_lowrank)"),
        ({"commit": "f" * 40, "run": "2026-12-02T09:00:00+00:00"}, "commits differ: 0123456789ab (00_tour); fff"),
        ({"threads": 1}, "thread counts differ: 2 (00_tour); 1 (02_lowrank)"),
    ],
)
def test_results_markdown_refuses_quick_or_mixed_results(tmp_path, capsys, second, reason):
    path = str(_results(tmp_path, **second))
    assert cli.main(["results", "--markdown", "--from", path]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("effdl: error: refusing to write README results") and reason in captured.err
    assert "--allow-mixed" in captured.err

    assert cli.main(["results", "--markdown", "--allow-mixed", "--from", path]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Mixed results, not from one full run") and reason in out.splitlines()[0]
    assert "**02 · lowrank** — " in out and "| `lowrank.ratio` | 3.738 |" in out


def test_results_without_markdown_shows_provenance_and_table(tmp_path, capsys):
    assert cli.main(["results", "--from", str(_results(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("one run: full mode · seed 0 · 2026-11-29 10:00 UTC · commit 0123456789ab · ")
    assert "02_lowrank  lowrank.ratio      3.738" in out
    assert cli.main(["results", "--from", str(_results(tmp_path, mode="quick"))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("not one run:\n  - modes differ: full (00_tour); quick (02_lowrank)")


def test_results_from_a_missing_or_broken_file_is_one_clear_line(tmp_path, capsys):
    assert cli.main(["results", "--markdown", "--from", str(tmp_path / "nope.json")]) == 2
    assert "nope.json does not exist; run `effdl run` first" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("[1, 2]")
    assert cli.main(["results", "--from", str(tmp_path / "bad.json")]) == 2
    assert "is not an effdl results file" in capsys.readouterr().err


def test_results_markdown_into_replaces_only_the_marked_section(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# title\n\nbefore\n{series.RESULTS_BEGIN}\nstale numbers\n{series.RESULTS_END}\nafter\n", encoding="utf-8"
    )
    assert cli.main(["results", "--markdown", "--from", str(_results(tmp_path)), "--into", str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert "stale numbers" not in text and text.startswith("# title\n\nbefore\n") and text.endswith("after\n")
    block = series.results_markdown(series.load_results(_results(tmp_path)))
    assert f"{series.RESULTS_BEGIN}\n{block.rstrip()}\n{series.RESULTS_END}" in text
    # Writing it again changes nothing: the README section is a function of the results file.
    assert cli.main(["results", "--markdown", "--from", str(_results(tmp_path)), "--into", str(readme)]) == 0
    assert readme.read_text(encoding="utf-8") == text
    readme.write_text("no markers here\n", encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["results", "--markdown", "--from", str(_results(tmp_path)), "--into", str(readme)]) == 2
    assert "markers" in capsys.readouterr().err
    assert cli.main(["results", "--from", str(_results(tmp_path)), "--into", str(readme)]) == 2
