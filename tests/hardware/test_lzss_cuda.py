"""The ``cuda`` backend (numba-cuda kernels): blobs byte-identical to the reference, round trips, and a decoder that
rejects mutated blobs with LZSSFormatError only.

On a machine with a CUDA GPU the kernel tests run here, at full size as well. Without one (CI) they run in numba's
CUDA simulator, which has to be switched on before ``numba.cuda`` is first imported: ``test_kernels_in_the_cuda_
simulator`` runs this file in a subprocess with ``NUMBA_ENABLE_CUDASIM=1`` (small inputs: every simulated thread is
a Python thread), so the rest of the suite's numba, the ``cpu`` backend's, is neither slowed down nor changed.
"""

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from test_lzss_fuzz import _bases, _match_fields, _mutate

from effdl.hardware import lzss
from effdl.hardware.lzss import LZSSFormatError
from effdl.hardware.lzss.data import lorenzo_codes, random_walk_codes, sample_field

SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
GPU = not SIMULATED and torch.cuda.is_available()
if SIMULATED:
    # the simulator's block manager busy-waits on its Python threads at every barrier: handing the GIL over every
    # 50 µs instead of 5 ms makes these tests 3-10× faster (this process only: it runs just this file)
    sys.setswitchinterval(5e-5)
FUZZ_BLOBS = 1000
ROOT = Path(__file__).resolve().parents[2]
kernels = pytest.mark.skipif(
    not (SIMULATED or GPU),
    reason="no CUDA device: run under numba's CUDA simulator by test_kernels_in_the_cuda_simulator",
)
full = pytest.mark.skipif(not GPU, reason="full-size inputs need a CUDA device (the simulator is too slow)")


def _symbols_to_bytes(sym: np.ndarray, symbol_size: int) -> bytes:
    return sym.astype({1: "<u1", 2: "<u2", 4: "<u4"}[symbol_size]).tobytes()


def _mixed(symbol_size: int) -> tuple[bytes, int]:
    """(data, chunk bytes): a coded chunk (noise repeated 142 symbols later — only W ≥ 142 finds it —, a zero run, a
    period-7 pattern), then a partial, stored chunk of noise, then a tail of S − 1 bytes."""
    rng = np.random.default_rng(symbol_size)
    top = 1 << (8 * symbol_size)
    noise = rng.integers(0, top, 30)
    first = np.concatenate([noise, np.zeros(40), np.tile(rng.integers(0, top, 7), 6), rng.integers(0, top, 30), noise])
    sym = np.concatenate([first, np.zeros(192 - first.size), rng.integers(0, top, 60)])
    tail = bytes(rng.integers(0, 256, symbol_size - 1, dtype=np.uint8))
    return _symbols_to_bytes(sym, symbol_size) + tail, 192 * symbol_size


def _check(data: bytes | np.ndarray, **kw) -> bytes:
    """The cuda blob, after checking it equals the reference's and both decoders restore the input."""
    blob = lzss.compress(data, backend="cuda", **kw)
    assert blob == lzss.compress(data, backend="reference", **kw)
    raw = data if isinstance(data, bytes) else np.asarray(data).tobytes()
    assert lzss.decompress(blob, backend="cuda") == raw
    return blob


# ----------------------------------------------------------------------------------------------------
# Byte-identical blobs and round trips (small: the simulator runs them in CI)
# ----------------------------------------------------------------------------------------------------


@kernels
@pytest.mark.parametrize("window", [1, 64, 255])
@pytest.mark.parametrize("symbol_size", [1, 2, 4])
def test_blobs_equal_the_reference(symbol_size, window):
    data, chunk = _mixed(symbol_size)
    blob = _check(data, symbol_size=symbol_size, window=window, chunk=chunk)
    stats = lzss.format.chunk_stats(blob)
    assert lzss.read_header(blob).chunks == 2 and list(stats["stored"]) == [False, True]  # coded, then stored
    assert list(stats["symbols"]) == [192, 60] and lzss.read_header(blob).tail == symbol_size - 1
    if window >= 142:  # the noise's repeat is a match only within reach
        assert any(t.kind == "match" and t.offset == 142 for t in lzss.parse(blob))


EDGE = {
    "empty": b"",
    "one byte": b"\x07",
    "three bytes": b"\x01\x02\x03",
    "random bytes (a stored stream)": bytes(np.random.default_rng(1).integers(0, 256, 90, dtype=np.uint8)),
    "zeros (matches of 255 and the chunk's end)": b"",  # 300 symbols of zeros, made per S in the test
    "runs": np.repeat(np.random.default_rng(2).integers(0, 3, 40, dtype=np.uint8), 5).tobytes(),
}


@kernels
@pytest.mark.parametrize("case", EDGE)
@pytest.mark.parametrize("symbol_size", [1, 2, 4])
def test_edge_cases_equal_the_reference(case, symbol_size):
    zeros = case == "zeros (matches of 255 and the chunk's end)"
    data = bytes(300 * symbol_size) if zeros else EDGE[case]
    blob = _check(data, symbol_size=symbol_size, window=64, chunk=(300 if zeros else 24) * symbol_size)
    if zeros:  # one chunk of 300 symbols: a literal, a match capped at 255, the rest up to the chunk's end
        assert [(t.kind, t.length) for t in lzss.parse(blob)] == [("literal", 1), ("match", 255), ("match", 44)]


@kernels
@pytest.mark.parametrize("element_size", [2, 4])
def test_shuffle_filter_equals_the_reference(element_size):
    codes = np.sort(np.random.default_rng(3).integers(0, 3000, 61)).astype(np.int32).tobytes()[:-1]  # a tail too
    blob = _check(codes, shuffle=element_size, symbol_size=1, window=32, chunk=64)
    assert lzss.read_header(blob).shuffle == element_size


@kernels
def test_block_sizes_change_nothing(monkeypatch):
    from effdl.hardware.lzss import cuda_backend

    data, chunk = _mixed(2)
    expected = lzss.compress(data, symbol_size=2, window=255, chunk=chunk, backend="reference")
    for threads in ({"encode": 1, "scan": 1, "compact": 1, "decode": 1}, {"encode": 5, "scan": 3, "compact": 7}):
        monkeypatch.setitem(cuda_backend.THREADS, "encode", threads["encode"])
        monkeypatch.setitem(cuda_backend.THREADS, "scan", threads["scan"])
        monkeypatch.setitem(cuda_backend.THREADS, "compact", threads["compact"])
        monkeypatch.setitem(cuda_backend.THREADS, "decode", threads.get("decode", 3))
        assert lzss.compress(data, symbol_size=2, window=255, chunk=chunk, backend="cuda") == expected
        assert lzss.decompress(expected, backend="cuda") == data


@kernels
def test_device_scan_over_several_levels(monkeypatch):
    """Many chunks: the prefix sum needs block totals of block totals."""
    from effdl.hardware.lzss import cuda_backend

    for kernel, threads in (("scan", 1), ("encode", 2), ("compact", 1), ("decode", 1)):
        monkeypatch.setitem(cuda_backend.THREADS, kernel, threads)  # scan: 4 values a block, so 40 chunks: 3 levels
    rng = np.random.default_rng(4)
    # 6-byte chunks of S = 2: zeros code to 5 bytes (a literal, a match of 2), noise is stored
    parts = [bytes(6) if i % 3 else bytes(rng.integers(0, 256, 6, dtype=np.uint8)) for i in range(40)]
    blob = _check(b"".join(parts), symbol_size=2, window=4, chunk=6)
    assert list(lzss.format.chunk_stats(blob)["stored"]) == [i % 3 == 0 for i in range(40)]
    _check(bytes(range(40)), symbol_size=1, window=4, chunk=1)  # every chunk stored: a stored stream


@kernels
def test_kernels_on_device_arrays_with_a_reused_workspace():
    """encode/decode as the benchmark times them: the tables and body on the device are the reference blob's."""
    from numba import cuda

    from effdl.hardware.lzss import cuda_backend, format

    data, chunk = _mixed(2)
    raw = np.frombuffer(data, np.uint8)
    m = raw.size - raw.size % 2
    box = format.unpack(lzss.compress(data, symbol_size=2, window=64, chunk=chunk, backend="reference"))
    workspace: dict = {}
    for _ in range(2):  # the second round reuses every buffer
        enc = cuda_backend.encode(cuda.to_device(raw[:m]), 2, 64, chunk, workspace=workspace)
        ends = enc.ends.copy_to_host()
        assert ends[0].tolist() == box.flag_end.tolist() and ends[1].tolist() == box.data_end.tolist()
        body = enc.body[: ends[0, -1] + ends[1, -1]].copy_to_host().tobytes()
        assert body == box.flags.tobytes() + box.data.tobytes()
        out, status = cuda_backend.decode(*cuda_backend.upload(box), box.header, workspace=workspace)
        assert not status.copy_to_host().any() and out.copy_to_host().tobytes() == data[:m]
    assert {"flags_tmp", "data_tmp", "ends", "body", "scan0", "out", "status"} <= set(workspace)


# ----------------------------------------------------------------------------------------------------
# The decoder: every check of the reference's
# ----------------------------------------------------------------------------------------------------


def _outcome(blob: bytes, backend: str) -> bytes | str:
    try:
        return lzss.decompress(blob, backend=backend)
    except LZSSFormatError:
        return "error"


@kernels
def test_mutated_blobs_decode_exactly_or_raise_format_errors():
    rng = np.random.default_rng(2025)
    bases = [(data, blob, _match_fields(blob)) for data, blob in _bases()]
    start = time.perf_counter()
    rejected = accepted = 0
    for i in range(FUZZ_BLOBS):
        data, blob, matches = bases[i % len(bases)]
        mutated = _mutate(blob, matches, rng)
        got = _outcome(mutated, "cuda")  # any other exception fails the test
        assert got == _outcome(mutated, "cpu"), f"mutation {i}: the cuda and cpu decoders disagree"
        assert got in ("error", data), f"mutation {i} decoded to other bytes"
        rejected += got == "error"
        accepted += got == data
    print(f"cuda fuzz: {FUZZ_BLOBS} blobs in {time.perf_counter() - start:.1f} s, {rejected} rejected")
    assert rejected + accepted == FUZZ_BLOBS and rejected > 0.9 * FUZZ_BLOBS


@kernels
def test_forged_tokens_raise_the_cpu_backends_messages():
    blob = bytearray(lzss.compress(b"abcabcabcabc" * 4, symbol_size=1, window=16, chunk=64, backend="reference"))
    at = next(i for i in range(29, len(blob) - 4) if blob[i] == 3)  # the first match: length, offset 3
    for index, value, message in [(at, 9, "offset out of range"), (at - 1, 1, "match length out of range")]:
        forged = bytearray(blob)
        forged[index] = value
        for backend in ("cpu", "cuda"):
            with pytest.raises(LZSSFormatError, match=message):
                lzss.decompress(bytes(forged), backend=backend)


# ----------------------------------------------------------------------------------------------------
# Dispatch
# ----------------------------------------------------------------------------------------------------


@kernels
def test_auto_picks_cuda_for_a_cuda_device(monkeypatch):
    from effdl.hardware.lzss import cuda_backend

    calls = []
    real = cuda_backend.compress
    monkeypatch.setattr(cuda_backend, "compress", lambda *a: calls.append(a[1:4]) or real(*a))
    data = b"auto picks the kernels " * 3
    blob = lzss.compress(data, symbol_size=1, window=32, chunk=64, device="cuda")
    assert calls == [(1, 32, 64)] and blob == lzss.compress(data, symbol_size=1, window=32, chunk=64, backend="cpu")
    assert lzss.compress(data, symbol_size=1, window=32, chunk=64) == blob and len(calls) == 1  # host data: cpu


def test_bad_backend_and_device_combinations_raise_value_errors():
    with pytest.raises(ValueError, match=r"backend='cuda' computes on a CUDA GPU: .* got device='cpu'"):
        lzss.compress(b"x" * 10, backend="cuda", device="cpu")
    with pytest.raises(ValueError, match="got device='mps'"):
        lzss.compress(b"x" * 10, backend="cuda", device="mps")
    with pytest.raises(ValueError, match=r"needs backend='torch' or, for a CUDA device, 'cuda'"):
        lzss.compress(b"x" * 10, backend="cpu", device="cuda")
    with pytest.raises(ValueError, match=r"backend must be one of \('auto', 'cpu', 'cuda', 'reference'\)"):
        lzss.decompress(lzss.compress(b"x"), backend="gpu")


@pytest.mark.skipif(SIMULATED or GPU, reason="needs a machine without a CUDA device and without the simulator")
def test_cuda_without_a_gpu_raises_a_clear_error():
    blob = lzss.compress(b"no gpu here " * 4)
    with pytest.raises((RuntimeError, ImportError), match=r"NUMBA_ENABLE_CUDASIM|numba-cuda"):
        lzss.compress(b"no gpu here " * 4, backend="cuda")
    with pytest.raises((RuntimeError, ImportError), match=r"NUMBA_ENABLE_CUDASIM|numba-cuda"):
        lzss.decompress(blob, backend="cuda")
    assert lzss.decompress(blob) == b"no gpu here " * 4  # auto stays on the cpu backend


@kernels
def test_benchmark_cuda_section_runs_on_a_tiny_input(capsys, tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_lzss", ROOT / "benchmarks" / "lzss.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    tiny = ["--size-mib", "0.001", "--repeats", "1", "--window", "16", "--chunk", "256"]
    path = tmp_path / "build" / "lzss_cuda.json"
    assert bench.main(["--device", "cuda", "--cuda-only", *tiny, "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "identical to the cpu backend's: yes" in out and "DIFFER" not in out
    # what notebook 09 reads back: found from a folder below the checkout, as a notebook runs in notebooks/
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    from effdl.hardware.lzss.study import gpu_benchmark

    rec = gpu_benchmark()
    assert rec is not None and rec.simulated and rec.identical and rec.window == 16 and rec.nbytes == 1048
    assert {r["S"] for r in rec.rows if r["codec"].startswith("effdl lzss cuda")} == {1, 2, 4}
    assert rec.best("end to end")[0] is not None and "simulator" in rec.markdown()  # events read 0 when simulated


# ----------------------------------------------------------------------------------------------------
# Full size (a CUDA device only)
# ----------------------------------------------------------------------------------------------------


@full
@pytest.mark.parametrize("window", [1, 64, 255])
@pytest.mark.parametrize("symbol_size", [1, 2, 4])
def test_full_size_blobs_equal_the_cpu_backend(symbol_size, window):
    dem = lorenzo_codes(sample_field("jacksboro")).reshape(-1)
    walk = random_walk_codes(300_001)
    for data in (dem, walk, dem.view(np.uint8)[:-1]):
        kw = {"symbol_size": symbol_size, "window": window, "chunk": 4096}
        blob = lzss.compress(data, backend="cuda", **kw)
        assert blob == lzss.compress(data, backend="cpu", **kw)
        assert lzss.decompress(blob, backend="cuda") == np.asarray(data).tobytes()


@full
def test_cuda_tensors_stay_on_the_gpu_and_give_the_cpu_blob():
    dem = lorenzo_codes(sample_field("jacksboro"))
    on_gpu = torch.from_numpy(dem).cuda()
    for shuffle in (False, True):
        blob = lzss.compress(on_gpu, shuffle=shuffle)  # auto: the cuda backend
        assert blob == lzss.compress(dem, shuffle=shuffle, backend="cpu")
        assert lzss.decompress(blob, backend="cuda") == dem.tobytes()


# ----------------------------------------------------------------------------------------------------
# The simulator run (CI)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.skipif(SIMULATED or GPU, reason="runs the tests above in-process instead")
@pytest.mark.skipif(
    importlib.util.find_spec("numba.cuda") is None, reason="numba without its CUDA target: pip install numba-cuda"
)
def test_kernels_in_the_cuda_simulator():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT"))}
    env["NUMBA_ENABLE_CUDASIM"] = "1"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-rfE", __file__]
    start = time.perf_counter()
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    tail = (run.stdout + run.stderr)[-6000:]
    print(f"simulator run: {time.perf_counter() - start:.0f} s\n{tail}")
    assert run.returncode == 0, tail
    assert " passed" in tail and "skipped" in tail  # the GPU-only ones and this one skip there
