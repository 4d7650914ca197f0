"""Chapter 09's studies (effdl.hardware.lzss.study) on hand-made benchmark rows and tiny index arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from effdl.hardware.lzss import peers, study


def _bench() -> pd.DataFrame:
    rows = []
    for d, (ours, lz4, z6, mbs) in {"a": (2.0, 1.0, 3.0, 50.0), "b": (1.0, 2.0, 1.5, 10.0)}.items():
        for codec, ratio, speed in ((study.OURS, ours, mbs), ("lz4", lz4, 100.0), ("zlib 6", z6, 25.0)):
            rows.append(
                {
                    "dataset": d,
                    "codec": codec,
                    "raw bytes": 1000,
                    "compressed bytes": int(1000 / ratio),
                    "ratio": ratio,
                    "compress MB/s": speed,
                    "S": 2 if codec == study.OURS else np.nan,
                }
            )
    return pd.DataFrame(rows)


def test_benchmark_summary_quotients_in_dataset_order():
    s = study.benchmark_summary(_bench(), ["b", "a"])
    assert list(s.index) == ["b", "a"]
    assert s.loc["a", "ratio × lz4"] == pytest.approx(2.0) and s.loc["b", "ratio × lz4"] == pytest.approx(0.5)
    assert s.loc["a", "MB/s × zlib-6"] == pytest.approx(2.0) and s.loc["b", "MB/s × zlib-6"] == pytest.approx(0.4)
    over = study.bytes_over_raw(_bench())
    assert over["a", study.OURS] == 500 - 1000 and over["b", "lz4"] == 500 - 1000


def test_stored_streams_finds_incompressible_inputs():
    sets = {
        "noise": np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8),
        "zeros": np.zeros(2048, np.uint16),
    }
    assert study.stored_streams(sets, window=64, chunk=1024) == ["noise"]


def test_shuffle_table_and_records():
    x16 = np.arange(512, dtype=np.uint16)
    x8 = np.zeros(256, np.uint8)
    sets = {"u16": x16, "u8": x8}

    def r(d, c, ratio):
        return peers.Result(d, c, 1000, int(1000 / ratio), 1.0, 0.0, None, None, None)

    results = [r("u16", study.OURS, 2.0), r("u16", peers.SHUFFLE_CODEC, 4.0), r("u16", "lz4", 1.6)]
    results += [r("u16", "lz4+shuffle", 3.2), r("u16", "zlib 9", 5.0), r("u8", study.OURS, 1.0), r("u8", "lz4", 1.0)]
    results += [r("u8", "zstd 3", 1.25)]
    tab = study.shuffle_table(sets, results, ["u16", "u8"], window=64, chunk=1024)
    assert tab.loc["u16", "lzss + shuffle × lz4"] == pytest.approx(2.5)
    assert tab.loc["u16", "best of zlib/zstd"] == pytest.approx(5.0)
    assert np.isnan(tab.loc["u8", "lzss + shuffle"])
    rec = study.shuffle_records(tab, {"k16": "u16", "k8": "u8"})
    assert rec["k16.ratio"] == pytest.approx(4.0) and rec["k16.vs_lz4"] == pytest.approx(2.5)
    assert "k8.ratio" not in rec and "k8.lz4_shuffle_ratio" not in rec and "k8.plain_ratio" in rec


def test_symbol_plane_ratios_keys_and_validation():
    x = (np.arange(4096) % 7 + 0x3F00).astype(np.uint16)
    out = study.symbol_plane_ratios(x, window=64, chunk=1024)
    assert set(out) == {"S = 1", "S = 2", "S = 4", "high bytes", "low bytes"}
    assert out["high bytes"] > 10  # one constant plane
    with pytest.raises(ValueError, match="2-byte"):
        study.symbol_plane_ratios(x.astype(np.uint32), window=64, chunk=1024)


def test_index_transforms_exact_on_two_matrices():
    # matrix A: rows [1, 3], [], [0, 300]; matrix B: rows [5]
    col = np.array([1, 3, 0, 300, 5], np.int32)
    crow = np.array([0, 2, 2, 4, 0, 1], np.int32)
    t = study.index_transforms(col, crow)
    assert t["int16 indices"].tolist() == [1, 3, 0, 300, 5]
    assert t["uint16 gaps"].tolist() == [1, 2, 0, 300, 5]
    assert t["uint8 gaps + escape"].tolist() == [1, 2, 0, 255, 300 & 255, 300 >> 8, 5]
    # rows sorted by first column (empty first): [], [0, 300], [1, 3], [5]; then the permutation 1, 2, 0, 3
    assert t["rows sorted by first column"].view(np.uint16).tolist() == [0, 300, 1, 3, 5, 1, 2, 0, 3]
    with pytest.raises(ValueError, match="non-zeros"):
        study.index_transforms(col[:4], crow)


def test_gpu_benchmark_reads_a_record_finds_it_upwards_and_rejects_garbage(tmp_path, monkeypatch):
    import json

    from effdl.hardware.lzss.study import gpu_benchmark

    rows = [
        {"codec": "effdl lzss cuda, device time", "S": s, "ratio": 1.5, "comp_gbs": g, "dec_gbs": 2 * g, "note": ""}
        for s, g in ((1, 3.0), (2, 6.0), (4, 4.0))
    ]
    rec = {"device": "NVIDIA H200", "simulated": False, "bytes": 256 << 20, "window": 128, "chunk": 2048,
           "repeats": 3, "identical": True, "date": "2026-12-06", "rows": rows}  # fmt: skip
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "lzss_cuda.json").write_text(json.dumps(rec))
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    got = gpu_benchmark()
    assert got is not None and got.best() == (6.0, 12.0) and got.best("end to end") == (None, None)
    text = got.markdown()
    assert "NVIDIA H200" in text and "**6.00 GB/s** (meets 5)" in text and "**12.00 GB/s** (meets 10)" in text
    assert list(got.table().index.names) == ["codec", "S"]
    monkeypatch.chdir(tmp_path.parent)
    assert gpu_benchmark() is None or gpu_benchmark().path != got.path  # nothing found above tmp_path's own folder
    bad = tmp_path / "bad.json"
    bad.write_text('{"device": 1}')
    with pytest.raises(ValueError, match="not a cuda benchmark record"):
        gpu_benchmark(bad)
