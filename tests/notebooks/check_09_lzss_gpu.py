"""Assertions on the numbers notebook 09 (LZSS for multi-byte data) records in QUICK mode.

Timings (``*_mbs``, ``vs_zlib6*``) are recorded, not asserted: they move with the machine's load. Measured in QUICK
mode on 2 busy cores (load ≈ 3.5): topobathy codes S=1 1.82, S=2 2.01, lz4 1.68; DEM codes S=1 3.40, S=2 3.83, lz4
2.49; ratio over lz4's: int8 codes 0.996, raw int16 DEM 0.83, uint16 DEM codes 2.09, int32 CSR indices 0.79;
Deep Compression tail 14.8× smaller than dense fp32.
"""

from __future__ import annotations


def check(rec: dict) -> None:
    # The paper's trend on cuSZ-style uint16 quantization codes of real fields: 2-byte symbols beat bytes ...
    assert rec["lzss.codes.ratio_s2"] >= rec["lzss.codes.ratio_s1"] > 1, (
        rec["lzss.codes.ratio_s2"],
        rec["lzss.codes.ratio_s1"],
    )
    assert rec["lzss.dem_codes.ratio_s2"] >= rec["lzss.dem_codes.ratio_s1"] > 1
    assert rec["lzss.codes.auto_symbol_size"] == 2
    # ... and the issue's bar: the codec's ratio is at least lz4's there.
    assert rec["lzss.codes.ratio_s2"] >= rec["lzss.codes.lz4_ratio"]
    assert rec["lzss.dem_codes.ratio_s2"] >= rec["lzss.dem_codes.lz4_ratio"]
    assert rec["lzss.uint16.vs_lz4"] >= 1.0
    # int8 / int16 / int32 against lz4, recorded per dataset. What holds honestly: on incompressible int8 codes and
    # raw int16 elevations stored chunks keep the codec within its table overhead of raw (lz4 ≈ 1.00 and 1.05–1.2,
    # so the codec is *below* lz4 there: 0.996 and 0.83); on int32 CSR indices it compresses, but less than lz4
    # (whose 64 kB window and unaligned 4-byte matches suit sorted indices better).
    for key in ("int8", "int16", "int32", "fp32", "bf16", "uint16", "text"):
        assert abs(rec[f"lzss.{key}.vs_lz4"] - rec[f"lzss.{key}.ratio"] / rec[f"lzss.{key}.lz4_ratio"]) < 1e-9
        assert rec[f"lzss.{key}.ratio"] >= 0.99, key  # never more than 1% above raw: stored chunks
    assert rec["lzss.int8.vs_lz4"] >= 0.99
    assert rec["lzss.int32.ratio"] > 1.1
    assert rec["lzss.random.ratio"] >= 0.99
    # Byte-identical backends and exact round trips, everywhere the notebook looked.
    assert rec["lzss.identical_blobs"] is True
    assert rec["lzss.roundtrip.ok"] is True
    # GPULZ's trade-offs: a longer window and bigger chunks raise the ratio.
    assert rec["lzss.sweep.w_trend"] is True and rec["lzss.sweep.c_trend"] is True
    # Deep Compression tail: pruning + int8 + relative indices + LZSS, end to end, without losing the model.
    assert rec["lzss.deep.ratio_vs_fp32"] >= 10, rec["lzss.deep.ratio_vs_fp32"]
    assert rec["lzss.deep.lzss_gain"] > 1.0
    dense, final = rec["lzss.deep.dense_bytes"], rec["lzss.deep.final_bytes"]
    assert abs(final * rec["lzss.deep.ratio_vs_fp32"] - dense) < 1e-6 * dense
    assert rec["lzss.deep.final_accuracy"] >= rec["lzss.deep.dense_accuracy"] - 3.0
    assert rec["lzss.deep.dense_accuracy"] >= 75.0
    # Throughput: recorded (timings are noisy), present and positive.
    assert rec["lzss.cpu.compress_mbs"] > 0 and rec["lzss.cpu.vs_zlib6_geomean"] > 0
