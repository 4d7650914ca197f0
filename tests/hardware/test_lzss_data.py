"""LZSS benchmark inputs (effdl.hardware.lzss.data) and the peer comparison (effdl.hardware.lzss.peers)."""

import sys
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from effdl.compress import quant
from effdl.hardware import lzss
from effdl.hardware.lzss import cpu, data, format, peers


@pytest.fixture(autouse=True)
def _quiet_csr():
    with warnings.catch_warnings():  # torch: "sparse CSR support is in beta"
        warnings.simplefilter("ignore", UserWarning)
        yield


# ----------------------------------------------------------------------------------------------------
# Data builders
# ----------------------------------------------------------------------------------------------------


def test_lorenzo_codes_by_hand():
    # span 4, rel_error 1/8 → step 2·eb = 1: q = field; predictions 0, q[0,0], q[0,0], q[0,1] + q[1,0] − q[0,0]
    field = np.array([[0.0, 1.0], [2.0, 4.0]])
    codes = data.lorenzo_codes(field, rel_error=0.125)
    assert codes.dtype == np.uint16 and codes.shape == (2, 2)
    assert (codes.astype(int) - 32768).tolist() == [[0, 1], [2, 1]]
    # a jump larger than the radius is an outlier, coded 0
    assert data.lorenzo_codes(np.array([[0.0, 1.0, 0.0]]), rel_error=1e-6).tolist() == [[32768, 0, 0]]
    # a constant field (span 0 → step 2·rel_error): q[0, 0] = 7 / 0.02 = 350 is predicted from 0, the rest exactly
    assert data.lorenzo_codes(np.full((3, 3), 7.0)).tolist() == [[32768 + 350, 32768, 32768]] + [[32768] * 3] * 2


def test_lorenzo_codes_reconstruct_within_the_error_bound():
    field = data.sample_field("topobathy")
    codes = data.lorenzo_codes(field, rel_error=1e-2).astype(np.int64) - 32768
    assert (codes != -32768).all()  # no outliers at this bound
    q = np.zeros_like(codes)  # undo the prediction row by row
    for i in range(q.shape[0]):
        for j in range(q.shape[1]):
            west = q[i, j - 1] if j else 0
            north = q[i - 1, j] if i else 0
            nw = q[i - 1, j - 1] if i and j else 0
            pred = (west + north - nw) if i and j else (west if not i else north)
            q[i, j] = codes[i, j] + pred
    eb = 1e-2 * float(field.max() - field.min())
    assert np.abs(q * 2 * eb - field).max() <= eb * (1 + 1e-9)


def test_lorenzo_codes_reject_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        data.lorenzo_codes(np.zeros(5))
    with pytest.raises(ValueError, match="rel_error"):
        data.lorenzo_codes(np.zeros((2, 2)), rel_error=0)
    with pytest.raises(ValueError, match="finite"):
        data.lorenzo_codes(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="name must be one of"):
        data.sample_field("nope")


def test_sample_fields_are_the_real_ones():
    assert data.sample_field("topobathy").shape == (91, 120)
    dem = data.sample_field("jacksboro")
    assert dem.dtype == np.int16 and dem.shape == (344, 403)


def test_random_walk_codes_are_a_seeded_walk():
    x = data.random_walk_codes(1000, max_step=3, seed=5)
    assert x.dtype == np.uint16 and x.shape == (1000,)
    assert np.array_equal(x, data.random_walk_codes(1000, max_step=3, seed=5))  # same seed, same codes
    assert not np.array_equal(x, data.random_walk_codes(1000, max_step=3, seed=6))
    steps = np.diff(np.concatenate([[32768], x.astype(np.int64)]))
    assert np.abs(steps).max() <= 3 and set(np.unique(steps)) == set(range(-3, 4))  # every step size occurs
    # the first code is 32768 + the first step of the seeded generator
    first = np.random.default_rng(5).integers(-3, 4, 1)[0]
    assert int(x[0]) == 32768 + first
    for bad in ({"n": 0}, {"n": 2.5}, {"n": 10, "max_step": 0}, {"n": 10, "max_step": True}):
        with pytest.raises(ValueError, match=r"n must|max_step must"):
            data.random_walk_codes(**bad)


def test_repeat_distance_by_hand():
    x = np.array([1, 2, 1, 2, 3, 1, 2], dtype=np.uint16)
    # strings of 2: 12 21 12 23 31 12 → 12 recurs 2 back, then 3 back; the others are new
    assert data.repeat_distance(x).tolist() == [0, 0, 2, 0, 0, 3]
    assert data.repeat_distance(x, length=1).tolist() == [0, 0, 2, 2, 0, 3, 3]
    assert data.repeat_distance(x, length=3).tolist() == [0, 0, 0, 0, 0]
    assert data.repeat_distance(x[:1], length=2).size == 0
    with pytest.raises(ValueError, match="1-D"):
        data.repeat_distance(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="length must"):
        data.repeat_distance(x, length=0)


def test_random_walk_repeats_lie_beyond_the_lzss_window():
    # the property notebook 09 teaches: most 2-code strings recur, but far fewer within 255 codes than within 64 KB
    d = data.repeat_distance(data.random_walk_codes(1 << 15, seed=0))
    near, far = ((d > 0) & (d <= 255)).mean(), ((d > 0) & (d <= 32767)).mean()
    assert far > 0.7 and near < 0.5 * far, (near, far)


def _tiny() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 3))


def test_model_weights_in_fp32_and_bf16():
    m = _tiny()
    fp32 = data.model_weights(m)
    expected = torch.cat([p.detach().reshape(-1) for p in m.parameters()])
    assert fp32.dtype == np.float32 and np.array_equal(fp32, expected.numpy())
    bf16 = data.model_weights(m, dtype=torch.bfloat16)
    assert bf16.dtype == np.uint16
    assert np.array_equal(bf16, expected.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16))
    with pytest.raises(ValueError, match="dtype"):
        data.model_weights(m, dtype=torch.int8)


def test_int8_codes_are_the_quantizers():
    m = _tiny()
    codes = data.int8_weight_codes(m)
    w = m[2].weight.detach()
    tail = quant.quantize(w, quant.calibrate(w, bits=8, axis=0)).reshape(-1).numpy()
    assert codes.dtype == np.int8 and codes.size == 18 + 24
    assert np.array_equal(codes[18:], tail)


def test_csr_indices_and_streams_by_hand():
    m = nn.Sequential(nn.Linear(6, 3))
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([[0, 1.0, 0, 0, 2, 3], [0, 0, 0, 0, 0, 0], [-1, 0, 0, 4, 0, 0.5]]))
    assert data.csr_indices(m, sparsity=None).tolist() == [1, 4, 5, 0, 3, 5]
    assert data.csr_indices(m, sparsity=13 / 18).tolist() == [1, 4, 5, 0, 3]  # the 12 zeros and the 0.5 go
    s = data.csr_streams(m)
    assert s["column indices (int32)"].tolist() == [1, 4, 5, 0, 3, 5]
    assert s["column gaps (uint16)"].tolist() == [1, 3, 1, 0, 3, 2]  # a row's first column, then differences
    assert s["row pointers (int32)"].tolist() == [0, 3, 3, 6]
    # the full 8-bit grid: per-row step max|w| / 128, codes −128..127, so max|w| itself lands on 127
    assert s["values (int8 codes)"].tolist() == [43, 85, 127, -32, 127, 16]
    assert s["scales (fp32)"].dtype == np.float32 and s["scales (fp32)"].size == 3
    with pytest.raises(ValueError, match="bits"):
        data.csr_streams(m, bits=9)


def test_python_source_is_the_stdlib_in_sorted_order():
    text = data.python_source(5000)
    assert len(text) == 5000 and text == data.python_source(5000)
    assert b"import" in text or b"def " in text
    with pytest.raises(ValueError, match="max_bytes"):
        data.python_source(0)


def test_benchmark_datasets_have_the_item_sizes_the_codec_sees():
    sets = data.benchmark_datasets(_tiny(), max_bytes=1024, text_bytes=800)
    dtypes = {k: v.dtype.name for k, v in sets.items()}
    assert dtypes == {
        "fp32 weights": "float32",
        "bf16 weights": "uint16",
        "int8 weights": "int8",
        "int32 CSR indices": "int32",
        "uint16 codes (topobathy)": "uint16",
        "uint16 codes (DEM)": "uint16",
        "int16 DEM": "int16",
        "Python source": "uint8",
    }
    assert all(v.nbytes <= 1024 for v in sets.values()) and sets["Python source"].nbytes == 800
    assert sets["uint16 codes (DEM)"].nbytes == 1024


# ----------------------------------------------------------------------------------------------------
# Peers and timing
# ----------------------------------------------------------------------------------------------------


def test_compare_measures_every_codec_and_round_trips():
    x = {"codes": np.repeat(np.arange(300, dtype=np.uint16) % 17, 4), "text": np.frombuffer(b"abcab" * 200, np.uint8)}
    results, notes = peers.compare(x, repeats=2, all_threads=False)
    names = [r.codec for r in results if r.dataset == "codes"]
    assert names[0] == "effdl lzss (1 thread)" and "zlib 6" in names and "lz4" in names
    assert {"zstd 1", "zstd 3", "blosc2 shuffle+zstd"} <= set(names) and not notes
    for r in results:
        assert r.round_trip is True and r.compress_mbs > 0 and r.decompress_mbs > 0
        assert r.ratio == r.raw_bytes / r.blob_bytes
    ours = results[0]
    assert ours.extra["S"] == 2 and ours.blob_bytes == len(lzss.compress(x["codes"], symbol_size=2))
    assert set(ours.as_dict()) >= {"dataset", "codec", "ratio", "compress MB/s", "decompress IQR MB/s", "S"}


def test_compare_adds_the_shuffle_rows_for_multi_byte_items():
    rng = np.random.default_rng(0)
    x = {
        "indices": np.sort(rng.integers(0, 784, 2000)).astype(np.int32),
        "bytes": rng.integers(-3, 3, 500).astype(np.int8),
    }
    results, _ = peers.compare(x, repeats=1, all_threads=False)
    by = {(r.dataset, r.codec): r for r in results}
    shuf, lz4_shuf = by[("indices", peers.SHUFFLE_CODEC)], by[("indices", "lz4+shuffle")]
    assert shuf.round_trip is True and lz4_shuf.round_trip is True
    assert shuf.extra == {"S": 1, "shuffle": 4}
    assert shuf.blob_bytes == len(lzss.compress(x["indices"], shuffle=True))
    import lz4.frame

    shuffled = format.shuffle(x["indices"].view(np.uint8), 4).tobytes()
    assert lz4_shuf.blob_bytes == len(lz4.frame.compress(shuffled))
    assert shuf.ratio > 1.15 * by[("indices", "effdl lzss (1 thread)")].ratio  # 4.15 against 3.36
    assert not any(r.codec in (peers.SHUFFLE_CODEC, "lz4+shuffle") for r in results if r.dataset == "bytes")
    plain, _ = peers.compare({"indices": x["indices"]}, repeats=1, all_threads=False, shuffled=False, peers=False)
    assert [r.codec for r in plain] == ["effdl lzss (1 thread)"]


def test_benchmark_summary_reports_the_codec_with_and_without_shuffle_against_lz4():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("bench_lzss", Path(__file__).parents[2] / "benchmarks" / "lzss.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    def r(dataset, codec, ratio):
        return peers.Result(dataset, codec, 1000, round(1000 / ratio), 10.0, 0.0, 20.0, 0.0, True)

    results = [
        r("int32", "effdl lzss (1 thread)", 1.25),
        r("int32", peers.SHUFFLE_CODEC, 4.0),
        r("int32", "zlib 6", 3.0),
        r("int32", "lz4", 2.0),
        r("int32", "lz4+shuffle", 3.125),
        r("text", "effdl lzss (1 thread)", 1.6),
        r("text", "lz4", 2.0),
    ]
    lines, out = bench.summary(results)
    assert out["int32"]["vs_lz4"] == pytest.approx(0.625) and out["int32"]["shuffle_vs_lz4"] == pytest.approx(2.0)
    assert out["int32"]["shuffle_vs_lz4_shuffle"] == pytest.approx(1.28)
    assert "shuffle_ratio" not in out["text"] and out["text"]["vs_lz4"] == pytest.approx(0.8)
    row = lines[1].split()
    assert row[:8] == ["int32", "1.250", "2.000", "0.6250×", "4.000", "2.000×", "3.125", "1.280×"]
    assert lines[2].split()[4:7] == ["—", "—", "—"]
    assert any(line.startswith("geometric mean of ratio with shuffle × lz4's") for line in lines)


def test_a_missing_peer_is_skipped_with_a_note(monkeypatch):
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import zstandard → ImportError
    monkeypatch.setitem(sys.modules, "blosc2", None)
    results, notes = peers.compare({"x": np.zeros(100, np.uint8)}, repeats=1, all_threads=False)
    assert notes == ["zstd skipped: pip install zstandard", "blosc2 skipped: pip install blosc2"]
    assert not any(r.codec.startswith(("zstd", "blosc2")) for r in results)


def test_compare_on_cuda_without_a_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="needs CUDA"):
        peers.compare({"x": np.zeros(10, np.uint8)}, device="cuda")


def test_sweep_moves_one_parameter_at_a_time():
    x = data.lorenzo_codes(data.sample_field("topobathy")).reshape(-1)
    rows = peers.sweep(x, windows=(8, 255), chunks=(256, 4096), symbol_sizes=(1, 2), repeats=1)
    assert [(r["param"], r["value"]) for r in rows] == [
        ("W", 8),
        ("W", 255),
        ("C", 256),
        ("C", 4096),
        ("S", 1),
        ("S", 2),
    ]
    ratio = {(r["param"], r["value"]): r["ratio"] for r in rows}
    assert ratio[("W", 255)] > ratio[("W", 8)] and ratio[("C", 4096)] > ratio[("C", 256)]  # GPULZ's trends
    assert ratio[("S", 2)] >= ratio[("S", 1)]
    with pytest.raises(ValueError, match="repeats"):
        peers.sweep(x, repeats=0)


def test_thread_cap_is_restored_and_validated():
    before = cpu.set_threads(1)
    try:
        assert cpu._threads() == 1
        codec = peers.lzss_codec(threads=None, symbol_size=1)
        codec.compress(np.zeros(10, np.uint8))
        assert cpu._threads() == 1  # the codec restores the caller's cap
    finally:
        cpu.set_threads(before)
    for bad in (0, True, 1.5):
        with pytest.raises(ValueError, match="n must be"):
            cpu.set_threads(bad)


def test_chunk_stats_count_tokens_without_decoding():
    blob = lzss.compress(b"abcabcabcX" * 20, symbol_size=1, chunk=64)
    st = format.chunk_stats(blob)
    tokens = lzss.parse(blob)
    for c in range(len(st["symbols"])):
        mine = [t for t in tokens if t.chunk == c]
        assert st["matches"][c] == sum(t.kind == "match" for t in mine)
        assert st["literals"][c] == sum(t.kind == "literal" for t in mine)
    assert st["symbols"].tolist() == [64, 64, 64, 8] and not st["stored"].any()
    assert format.chunk_stats(lzss.compress(b""))["symbols"].size == 0
