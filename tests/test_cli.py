import subprocess
import sys

from effdl import cli


def test_list_shows_the_catalogue(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "00_tour" in out and "papers:" in out


def test_bad_input_is_one_clear_line(capsys):
    assert cli.main(["run", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("effdl: error: unknown notebook 'nope'") and "Traceback" not in err
    assert cli.main(["bench", "nope"]) == 2
    assert "unknown benchmark 'nope'; choose from: latency" in capsys.readouterr().err
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
