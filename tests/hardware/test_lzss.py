"""LZSS codec: round trips, byte-identical backends, the documented parse, argument checks, ratios."""

import zlib

import matplotlib.cbook
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from effdl.hardware import lzss
from effdl.hardware.lzss import Token, cpu, format, reference
from effdl.hardware.lzss.data import lorenzo_codes

BACKENDS = ("reference", "cpu", "torch")
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _all_backends(data, **kw) -> bytes:
    """The blob, after checking every backend emits the same one and both decoders restore the input."""
    blobs = {b: lzss.compress(data, backend=b, **kw) for b in BACKENDS}
    assert blobs["reference"] == blobs["cpu"] == blobs["torch"], {b: len(x) for b, x in blobs.items()}
    raw = data if isinstance(data, bytes) else np.asarray(data).tobytes()
    for b in ("reference", "cpu"):
        assert lzss.decompress(blobs["cpu"], backend=b) == raw
    return blobs["cpu"]


# ----------------------------------------------------------------------------------------------------
# Round trips and identical blobs
# ----------------------------------------------------------------------------------------------------

_rng = np.random.default_rng(0)
EDGE_CASES = {
    "empty": b"",
    "one byte": b"\x07",
    "shorter than a symbol": b"\x01\x02\x03",
    "not a multiple of S or C": bytes(_rng.integers(0, 4, 1001, dtype=np.uint8)),
    "all-zero chunks": bytes(777),
    "highly repetitive": b"effdl!" * 170,
    "random bytes": bytes(_rng.integers(0, 256, 700, dtype=np.uint8)),
    "random then zeros then random": bytes(_rng.integers(0, 256, 300, dtype=np.uint8)) + bytes(300) + b"\x07\xf0" * 77,
    "runs": np.repeat(_rng.integers(0, 3, 200, dtype=np.uint8), _rng.integers(1, 9, 200)).tobytes(),
}


@pytest.mark.parametrize("case", EDGE_CASES)
@pytest.mark.parametrize(("symbol_size", "chunk"), [(1, 64), (2, 130), (4, 256)])
def test_edge_cases_round_trip_identically(case, symbol_size, chunk):
    data = EDGE_CASES[case]
    blob = _all_backends(data, symbol_size=symbol_size, window=37, chunk=chunk)
    h = lzss.read_header(blob)
    assert (h.symbol_size, h.window, h.chunk, h.length) == (symbol_size, 37, chunk, len(data))
    if h.chunks == 0:  # a stored stream: nothing was coded, the input follows the header verbatim
        assert blob == h.to_bytes() + data + zlib.crc32(data).to_bytes(4, "little") and lzss.parse(blob) == []
        assert h.shuffle == 0 and h.tail == len(data)
    else:
        assert h.chunks == -(-(len(data) - len(data) % symbol_size) // chunk)
        assert any(t.kind != "stored" for t in lzss.parse(blob))  # else it would be a stored stream


def test_trailing_bytes_are_stored_raw_before_the_crc():
    blob = lzss.compress(b"\x00" * 16 + b"xyz", symbol_size=4, window=8, chunk=8)
    assert lzss.read_header(blob).chunks == 2
    assert blob[-7:-4] == b"xyz"
    assert int.from_bytes(blob[-4:], "little") == zlib.crc32(b"\x00" * 16 + b"xyz")


def test_all_zero_data_compresses_to_one_literal_and_long_matches_per_chunk():
    tokens = lzss.parse(lzss.compress(bytes(2048), symbol_size=1, window=128, chunk=1024))
    # per chunk: literal, then matches of 255 at offset 1 (1 + 4·255 = 1021), then one of 3
    per_chunk = [(t.kind, t.length, t.offset) for t in tokens if t.chunk == 0]
    assert per_chunk == [("literal", 1, 0)] + [("match", 255, 1)] * 4 + [("match", 3, 1)]
    assert next(t.symbol for t in tokens if t.chunk == 1) == 1024


# ----------------------------------------------------------------------------------------------------
# Stored chunks: incompressible chunks are kept raw (0 flag bytes), so the ratio never falls far below 1
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("symbol_size", [1, 2, 4])
def test_random_bytes_are_a_stored_stream_and_cost_only_header_and_crc(symbol_size):
    data = bytes(np.random.default_rng(symbol_size).integers(0, 256, 5000, dtype=np.uint8))
    for shuffle in (False, 2, 8):  # the filter does not make noise compressible: the stream records E = 0
        blob = _all_backends(data, symbol_size=symbol_size, window=255, chunk=512, shuffle=shuffle)
        h = lzss.read_header(blob)
        assert (h.chunks, h.shuffle, h.symbol_size, h.window, h.chunk) == (0, 0, symbol_size, 255, 512)
        assert len(blob) == 20 + len(data) + 4 and blob[20:-4] == data  # every chunk would be stored: no tables
        assert lzss.parse(blob) == [] and not format.chunk_stats(blob)["stored"].size
        assert [r["field"] for r in format.layout(blob)][-2:] == ["stored stream (the input)", "CRC32"]


def test_int8_codes_of_uniform_weights_cost_less_than_lz4():
    import lz4.frame

    # per-channel 8-bit codes of freshly initialized (uniform) weights: ~8 bits of entropy, nothing for LZ to find
    w = torch.empty(256, 1024).uniform_(-1, 1, generator=torch.Generator().manual_seed(0))
    codes = torch.round(w / w.abs().amax(1, keepdim=True) * 127).to(torch.int8).numpy()
    blob = _all_backends(codes)
    assert lzss.read_header(blob).chunks == 0 and len(blob) == codes.nbytes + 24
    assert len(blob) <= len(lz4.frame.compress(codes.tobytes()))


def test_stored_and_coded_chunks_mix_and_parse_in_order():
    rng = np.random.default_rng(1)
    data = (
        bytes(rng.integers(0, 256, 256, dtype=np.uint8)) + bytes(256) + bytes(rng.integers(0, 256, 100, dtype=np.uint8))
    )
    blob = _all_backends(data, symbol_size=2, window=64, chunk=256)
    tokens = lzss.parse(blob)
    assert tokens[0] == Token(0, 0, "stored", 128, 0)
    assert [t.kind for t in tokens if t.chunk == 1] == ["literal", "match"]  # 128 zero symbols: 1 + 127
    assert tokens[-1] == Token(2, 256, "stored", 50, 0)
    flag_end = np.frombuffer(blob[20:32], "<u4")
    data_end = np.frombuffer(blob[32:44], "<u4")
    assert list(flag_end) == [0, 1, 1] and list(np.diff(data_end, prepend=0)) == [256, 4, 100]


def test_a_tie_between_coded_and_raw_size_stores():
    # "aaaa" (S = 1): literal + match of 3 = 1 flag byte + 3 data bytes = 4 = raw → stored; "aaaaa": 4 < 5 → coded
    for backend in BACKENDS:
        # 14 literals + 2 matches of 3 = 2 flag bytes + 18 data bytes = 20 = raw → stored; the zeros are coded
        tokens = lzss.parse(
            lzss.compress(b"abcdefghijklmnabcghi" + bytes(20), symbol_size=1, chunk=20, backend=backend)
        )
        assert tokens == [Token(0, 0, "stored", 20, 0), Token(1, 20, "literal", 1, 0), Token(1, 21, "match", 19, 1)]
        tokens = lzss.parse(lzss.compress(b"aaaaa", symbol_size=1, backend=backend))
        assert tokens == [Token(0, 0, "literal", 1, 0), Token(0, 1, "match", 4, 1)]
        # the only chunk ties: no chunk is coded, so the blob is a stored stream
        assert lzss.read_header(lzss.compress(b"aaaa", symbol_size=1, backend=backend)).chunks == 0
    assert format.should_store(1, 3, 4) and not format.should_store(1, 3, 5)
    assert format.should_store_stream(0) and not format.should_store_stream(1)


def test_int16_dem_is_never_bigger_than_raw_plus_the_container():
    dem = _sample("jacksboro_fault_dem.npz", "elevation")
    for s in (1, 2, 4):
        blob = lzss.compress(dem, symbol_size=s)
        k = lzss.read_header(blob).chunks
        assert len(blob) <= 20 + 8 * k + dem.nbytes + 4


def _sample(name: str, key: str) -> np.ndarray:
    return matplotlib.cbook.get_sample_data(name)[key]


@pytest.mark.parametrize("symbol_size", [1, 2, 4, "auto"])
def test_real_float32_field_round_trips_identically(symbol_size):
    topo = _sample("topobathy.npz", "topo")  # float32 (91, 120) elevation
    assert topo.dtype == np.float32
    _all_backends(topo, symbol_size=symbol_size)


@pytest.mark.parametrize("symbol_size", [1, 2, 4])
def test_real_int16_dem_round_trips_identically(symbol_size):
    dem = _sample("jacksboro_fault_dem.npz", "elevation")  # int16 (344, 403)
    assert dem.dtype == np.int16
    _all_backends(dem[:64], symbol_size=symbol_size, window=200, chunk=4096)  # the reference is slow: a slice
    full = lzss.compress(dem, symbol_size=symbol_size, backend="cpu")  # 136 chunks: the threaded path
    assert full == lzss.compress(dem, symbol_size=symbol_size, backend="torch")
    assert lzss.decompress(full) == dem.tobytes()


def test_threaded_cpu_path_matches_the_torch_blob(monkeypatch):
    data = np.repeat(np.arange(40000, dtype=np.uint16) % 251, 3)
    expected = lzss.compress(data, symbol_size=2, chunk=512, backend="torch")
    monkeypatch.setattr(cpu, "_threads", lambda: 4)  # 469 chunks in 16 groups on 4 pool threads
    threaded = lzss.compress(data, symbol_size=2, chunk=512, backend="cpu")
    assert threaded == expected
    assert lzss.decompress(threaded, backend="cpu") == data.tobytes()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.lists(st.integers(0, 2), max_size=400).map(bytes),  # a tiny alphabet: many overlapping matches
        st.tuples(st.binary(min_size=1, max_size=12), st.integers(1, 60)).map(lambda t: t[0] * t[1]),
    ),
    symbol_size=st.sampled_from([1, 2, 4]),
    window=st.integers(1, 255),
    chunk_symbols=st.integers(1, 80),
    shuffle=st.sampled_from([False, False, 2, 4, 8]),
)
def test_property_any_bytes_round_trip_identically(data, symbol_size, window, chunk_symbols, shuffle):
    _all_backends(data, symbol_size=symbol_size, window=window, chunk=chunk_symbols * symbol_size, shuffle=shuffle)


@pytest.mark.parametrize(
    "data",
    [
        bytearray(b"abcabcabc" * 9),
        memoryview(np.arange(50, dtype=np.int16) % 7),
        np.arange(60, dtype=np.float64).reshape(6, 10)[:, ::2],  # non-contiguous: its C-order bytes
        np.array(3.5, dtype=np.float32),  # 0-d
        torch.arange(80, dtype=torch.bfloat16).reshape(8, 10).t(),
        torch.tensor([True, False] * 30),
    ],
    ids=["bytearray", "memoryview-int16", "strided-float64", "0-d", "bf16-transposed", "bool"],
)
def test_inputs_of_every_kind_decompress_to_their_bytes(data):
    if isinstance(data, torch.Tensor):
        expected = data.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
    elif isinstance(data, np.ndarray):
        expected = np.ascontiguousarray(data).tobytes()
    else:
        expected = bytes(data)
    for backend in BACKENDS:
        assert lzss.decompress(lzss.compress(data, backend=backend)) == expected


# ----------------------------------------------------------------------------------------------------
# The byte-shuffle filter (header byte 7): E-byte elements transposed into E byte planes before the LZSS stage
# ----------------------------------------------------------------------------------------------------


def test_shuffle_filter_by_hand_in_numpy_and_torch():
    raw = np.arange(11, dtype=np.uint8)
    expected = [0, 4, 1, 5, 2, 6, 3, 7, 8, 9, 10]
    assert list(format.shuffle(raw, 4)) == expected  # two 4-byte elements → 4 planes of 2; the 3-byte tail stays
    assert list(format.shuffle(raw, 2)) == [0, 2, 4, 6, 8, 1, 3, 5, 7, 9, 10]
    assert list(format.shuffle(raw, 8)) == list(raw)  # a single element: its planes are its bytes
    t = torch.from_numpy(raw.copy())
    for e in (0, 2, 4, 8):
        assert format.shuffle(t, e).tolist() == list(format.shuffle(raw, e))
        assert list(format.unshuffle(format.shuffle(raw, e), e)) == list(raw)
        assert format.unshuffle(format.shuffle(t, e), e).tolist() == list(raw)
    assert format.shuffle(raw, 0) is raw and len(format.shuffle(raw[:0], 4)) == 0


SHUFFLE_CASES = {k: EDGE_CASES[k] for k in ("empty", "one byte", "shorter than a symbol", "not a multiple of S or C")}
SHUFFLE_CASES |= {
    "sorted int32 indices + 3 bytes": np.sort(_rng.integers(0, 3000, 250)).astype(np.int32).tobytes() + b"abc",
    "int16 ramp + 1 byte": np.arange(0, 3001, 7, dtype=np.int16).tobytes() + b"\x01",
    "float64 repeats": np.repeat(_rng.standard_normal(25), 4).tobytes(),
}


@pytest.mark.parametrize("case", SHUFFLE_CASES)
@pytest.mark.parametrize("element_size", [2, 4, 8])
@pytest.mark.parametrize(("symbol_size", "chunk"), [(1, 96), (2, 130)])
def test_shuffled_edge_cases_round_trip_identically(case, element_size, symbol_size, chunk):
    data = SHUFFLE_CASES[case]
    blob = _all_backends(data, shuffle=element_size, symbol_size=symbol_size, window=37, chunk=chunk)
    h = lzss.read_header(blob)
    assert int.from_bytes(blob[-4:], "little") == zlib.crc32(data)  # the CRC is of the original bytes
    if h.chunks == 0:  # nothing coded: a stored stream keeps the original bytes and no filter
        assert (h.shuffle, blob[20:-4]) == (0, data)
        return
    assert (h.shuffle, h.symbol_size, h.length) == (element_size, symbol_size, len(data))
    # the LZSS stage holds the shuffled bytes: the same blob as compressing them unfiltered, but for byte 7 and CRC
    plain = lzss.compress(format.shuffle(np.frombuffer(data, np.uint8), element_size), symbol_size=symbol_size,
                          window=37, chunk=chunk)  # fmt: skip
    assert blob[:7] + blob[8:-4] == plain[:7] + plain[8:-4] and plain[7] == 0


def test_shuffle_true_takes_the_item_size_and_auto_symbol_size_is_one():
    for dtype, e in ((np.int16, 2), (np.float32, 4), (np.int32, 4), (np.float64, 8), (np.uint64, 8)):
        x = (np.arange(500) * 37 % 1000).astype(dtype)
        blob = _all_backends(x, shuffle=True)
        assert (lzss.read_header(blob).shuffle, lzss.read_header(blob).symbol_size) == (e, 1), dtype
        assert lzss.read_header(lzss.compress(x, shuffle=True, symbol_size=2)).symbol_size == 2  # explicit S: kept
    t = torch.arange(300, dtype=torch.bfloat16)
    assert lzss.read_header(lzss.compress(t, shuffle=True, backend="torch")).shuffle == 2
    assert lzss.read_header(lzss.compress(b"abcd" * 50, shuffle=4)).shuffle == 4  # bytes input: an explicit E
    assert lzss.read_header(lzss.compress(np.zeros(9, np.int16))).shuffle == 0  # off by default
    assert lzss.shuffle_sizes("auto", 4) == (0, 4) and lzss.shuffle_sizes("auto", 1) == (0,)
    assert lzss.shuffle_sizes(False, 4) == (0,) and lzss.shuffle_sizes(8, 1) == (8,)


def test_shuffle_auto_is_never_bigger_than_either():
    rng = np.random.default_rng(7)
    inputs = [
        np.sort(rng.integers(0, 784, 3000)).astype(np.int32),  # shuffle wins
        np.repeat(rng.integers(0, 1 << 30, 1000).astype(np.int32), 2),  # pairs: whole-value symbols match, planes not
        rng.integers(-128, 128, 2000).astype(np.int8),  # item size 1: nothing to shuffle
        _sample("topobathy.npz", "topo"),
        b"bytes are never shuffled by auto" * 20,
    ]
    picked = []
    for x in inputs:
        auto = lzss.compress(x, shuffle="auto")
        plain = lzss.compress(x)
        options = [plain] + ([lzss.compress(x, shuffle=True)] if isinstance(x, np.ndarray) and x.itemsize > 1 else [])
        assert len(auto) == min(len(b) for b in options)
        assert auto == min(options, key=len)  # ties: the first (unshuffled)
        picked.append(lzss.read_header(auto).shuffle)
        raw = x if isinstance(x, bytes) else x.tobytes()
        assert lzss.decompress(auto) == raw
    assert picked[:3] == [4, 0, 0]


@pytest.mark.parametrize(
    ("data", "kwargs", "match"),
    [
        (
            np.zeros(8, np.int32),
            {"shuffle": 1},
            r"shuffle must be False, True, 'auto' or an element size in \(2, 4, 8\), got 1",
        ),
        (np.zeros(8, np.int32), {"shuffle": 3}, "got 3"),
        (np.zeros(8, np.int32), {"shuffle": 16}, "shuffle must be"),
        (np.zeros(8, np.int32), {"shuffle": "yes"}, "got 'yes'"),
        (np.zeros(8, np.int32), {"shuffle": 4.0}, "shuffle must be"),
        (np.zeros(8, np.int32), {"shuffle": None}, "shuffle must be"),
        (b"abcdefgh", {"shuffle": True}, r"item size 1; for bytes input pass shuffle=2, 4 or 8"),
        (np.zeros(8, np.int8), {"shuffle": True}, "item size 1"),
        (np.zeros(8, np.complex128), {"shuffle": True}, "item size 16"),
        (np.zeros(8, np.int32), {"shuffle": True, "symbol_size": 4, "chunk": 6}, "multiple of symbol_size=4"),
    ],
)
def test_bad_shuffle_arguments_raise_value_errors_naming_them(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        lzss.compress(data, **kwargs)


def test_shuffle_helps_on_sorted_int32_indices_and_an_int16_field():
    import lz4.frame

    # a CSR-like column-index stream of a 256 × 784 layer pruned to 90% (a seeded random mask), and a real int16 DEM
    mask = np.random.default_rng(0).random((256, 784)) < 0.1
    csr = np.nonzero(mask)[1].astype(np.int32)
    dem = _sample("jacksboro_fault_dem.npz", "elevation")
    # measured (W = 128, C = 2048): CSR plain 1.21, + shuffle 3.52, lz4 2.01, lz4 on shuffled bytes 3.28;
    # DEM plain 0.998, + shuffle 1.82, lz4 1.05, lz4 on shuffled bytes 1.71
    for x, floor in ((csr, 3.0), (dem, 1.6)):
        raw = x.tobytes()
        ratio = len(raw) / len(lzss.compress(x, shuffle=True))
        plain = len(raw) / len(lzss.compress(x))
        lz4_ratio = len(raw) / len(lz4.frame.compress(raw))
        lz4_shuffled = len(raw) / len(lz4.frame.compress(format.shuffle(np.frombuffer(raw, np.uint8), x.itemsize)))
        assert ratio > floor and ratio > 1.4 * plain, (x.dtype, ratio, plain)
        assert ratio >= lz4_ratio and ratio >= lz4_shuffled, (x.dtype, ratio, lz4_ratio, lz4_shuffled)


# ----------------------------------------------------------------------------------------------------
# The documented parse: exact tokens
# ----------------------------------------------------------------------------------------------------


def test_tokens_of_a_small_example_are_the_greedy_parse():
    blob = lzss.compress(b"abcabcabcX", symbol_size=1, window=8, chunk=64, backend="reference")
    assert lzss.parse(blob) == [
        Token(0, 0, "literal", 1, 0),
        Token(0, 1, "literal", 1, 0),
        Token(0, 2, "literal", 1, 0),
        Token(0, 3, "match", 6, 3),  # overlapping copy: offset 3 < length 6 repeats the period
        Token(0, 9, "literal", 1, 0),
    ]
    # layout: header, 1 flag + 1 data end, flag byte 0b01000 (token 3 is the match), data a b c 6 3 X, crc
    assert blob[20:28] == (1).to_bytes(4, "little") + (6).to_bytes(4, "little")
    assert blob[28] == 0b1000 and blob[29:35] == b"abc\x06\x03X"
    assert len(blob) == 20 + 8 + 1 + 6 + 4


def test_equally_long_matches_take_the_nearest_offset():
    data = b"abXabYab" + b"Z" * 16  # at 6, "ab" occurs 3 back and 6 back (the Z run makes coding pay)
    for backend in BACKENDS:
        tokens = lzss.parse(lzss.compress(data, symbol_size=1, window=8, chunk=24, backend=backend))
        assert tokens[5] == Token(0, 6, "match", 2, 3)


def test_multi_byte_symbols_match_whole_values_with_minimum_one():
    data = np.array([7, 9, 7, 9, 9, 1000], dtype=np.int16)
    tokens = lzss.parse(lzss.compress(data, symbol_size=2, window=4, chunk=12))
    assert [(t.kind, t.length, t.offset) for t in tokens] == [
        ("literal", 1, 0),
        ("literal", 1, 0),
        ("match", 2, 2),
        ("match", 1, 1),  # one symbol is enough for S = 2
        ("literal", 1, 0),
    ]
    assert lzss.min_match(1) == 2 and lzss.min_match(2) == lzss.min_match(4) == 1


def test_matches_never_cross_a_chunk_and_stop_at_255():
    data = bytes(600)
    for t in lzss.parse(lzss.compress(data, symbol_size=1, window=255, chunk=300)):
        assert t.symbol // 300 == (t.symbol + t.length - 1) // 300 == t.chunk
        assert t.length <= 255 and t.offset <= min(255, t.symbol % 300)


def test_reference_longest_match_helper():
    sym = np.array([1, 2, 1, 2, 1, 2, 3], dtype=np.uint32)
    assert reference.longest_match(sym, 0, 8) == (0, 0)
    assert reference.longest_match(sym, 2, 8) == (4, 2)
    assert reference.longest_match(sym, 2, 1) == (0, 1)  # no match within one symbol


# ----------------------------------------------------------------------------------------------------
# symbol_size="auto"
# ----------------------------------------------------------------------------------------------------


def test_auto_symbol_size_follows_the_item_size():
    # values drawn from a pool of 100: whole-value symbols find them in the window, bytes mostly do not
    rng = np.random.default_rng(0)
    draws = rng.integers(0, 100, 3000)
    for pool, s in [
        (rng.integers(0, 1 << 16, 100).astype(np.uint16), 2),
        (rng.standard_normal(100).astype(np.float32), 4),
        (rng.standard_normal(100), 4),  # 8-byte items: two 4-byte symbols each
    ]:
        data = pool[draws]
        assert lzss.choose_symbol_size(data) == s, data.dtype
        assert lzss.read_header(lzss.compress(data)).symbol_size == s
    assert lzss.choose_symbol_size(b"abc" * 100) == 1
    assert lzss.choose_symbol_size(rng.standard_normal(300).astype(np.float32).view(np.int8)) == 1


def test_auto_falls_back_to_bytes_when_they_compress_better():
    # an odd byte period within short chunks: byte symbols match after one period, 2-byte symbols after two
    data = np.frombuffer(np.tile(np.random.default_rng(3).integers(0, 256, 101, dtype=np.uint8), 40)[:4040], np.uint16)
    one = lzss.compress(data, symbol_size=1, chunk=512)
    two = lzss.compress(data, symbol_size=2, chunk=512)
    assert len(one) < len(two)
    assert lzss.choose_symbol_size(data, chunk=512) == 1
    assert lzss.compress(data, chunk=512) == one  # a small input: the sample is the whole input
    big = np.tile(data, 10)  # larger than the sample: decided on the first AUTO_SAMPLE_CHUNKS chunks
    assert lzss.compress(big, chunk=512) == lzss.compress(big, symbol_size=1, chunk=512)


# ----------------------------------------------------------------------------------------------------
# Arguments
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"symbol_size": 3}, r"symbol_size must be 'auto' or one of \(1, 2, 4\), got 3"),
        ({"symbol_size": True}, "symbol_size"),
        ({"symbol_size": "2"}, "symbol_size"),
        ({"window": 0}, r"window must be an int in 1\.\.255 \(symbols\), got 0"),
        ({"window": 256}, "window"),
        ({"window": 2.0}, "window"),
        ({"chunk": 0}, "chunk must be an int"),
        ({"chunk": 6, "symbol_size": 4}, r"multiple of symbol_size=4, got 6"),
        ({"chunk": (1 << 24) + 4, "symbol_size": 4}, "chunk"),
        ({"chunk": 6}, "symbol size symbol_size='auto' picks"),  # float32 data: auto wants S = 4
        ({"backend": "gpu"}, r"backend must be one of \('auto', 'cpu', 'torch', 'cuda', 'reference'\), got 'gpu'"),
        ({"device": "nonsense"}, "device must be a torch device"),
        ({"device": "cuda", "backend": "cpu"}, "needs backend='torch'"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lzss.compress(np.zeros(100, np.float32), **kwargs)


def test_bad_input_types_raise_type_errors():
    for bad in ([1, 2, 3], "text", 3, np.array([object()])):
        with pytest.raises(TypeError, match="data must"):
            lzss.compress(bad)
    for bad in ("text", [1], np.zeros(3, np.int16)):
        with pytest.raises(TypeError, match="blob must"):
            lzss.decompress(bad)
    with pytest.raises(ValueError, match=r"backend must be one of \('auto', 'cpu', 'cuda', 'reference'\)"):
        lzss.decompress(lzss.compress(b"x"), backend="torch")
    for bad in (0, 3, "1", True):
        with pytest.raises(ValueError, match=r"symbol_size must be one of \(1, 2, 4\)"):
            lzss.min_match(bad)
    for shuffle in (lzss.shuffle, lzss.unshuffle):
        with pytest.raises(TypeError, match=r"raw must be a 1-D numpy array or torch tensor .*got list"):
            shuffle([1, 2, 3, 4], 2)
        with pytest.raises(TypeError, match=r"raw must be a 1-D .*got shape \(2, 4\)"):
            shuffle(np.zeros((2, 4), np.uint8), 2)
        for bad in (-2, "2", 2.0):
            with pytest.raises(ValueError, match="element_size must be an int >= 0"):
                shuffle(np.zeros(8, np.uint8), bad)


def test_without_numba_cpu_raises_and_auto_falls_back(monkeypatch):
    data = b"fall back " * 50
    expected = lzss.compress(data, backend="cpu")
    monkeypatch.setattr(cpu, "AVAILABLE", False)
    with pytest.raises(ImportError, match="backend='cpu' needs numba"):
        lzss.compress(data, backend="cpu")
    with pytest.raises(ImportError, match="numba"):
        lzss.decompress(expected, backend="cpu")
    assert lzss.compress(data) == expected  # auto → torch on the CPU
    assert lzss.decompress(expected) == data  # auto → reference


def test_header_round_trips_and_format_constants():
    h = format.Header(symbol_size=2, window=9, chunk=64, length=131, chunks=3)
    assert h.to_bytes()[:4] == b"EDLZ" and len(h.to_bytes()) == format.HEADER_SIZE == 20
    assert (h.tail, h.n_symbols, h.chunk_symbols, list(h.symbols_per_chunk())) == (1, 65, 32, [32, 32, 1])
    assert lzss.read_header(h.to_bytes() + bytes(4)) == h
    assert h.to_bytes()[4] == format.VERSION == 4 and h.to_bytes()[7] == h.shuffle == 0
    e = format.Header(symbol_size=1, window=9, chunk=64, length=131, chunks=3, shuffle=8)
    assert e.to_bytes()[7] == 8 and lzss.read_header(e.to_bytes() + bytes(4)) == e
    assert format.SHUFFLE_SIZES == lzss.SHUFFLE_SIZES == (0, 2, 4, 8)
    stream = format.Header(symbol_size=2, window=9, chunk=64, length=131, chunks=0)  # a stored stream: all raw
    assert (stream.tail, stream.n_symbols, stream.stored_stream, h.stored_stream) == (131, 0, True, False)
    assert lzss.read_header(stream.to_bytes() + bytes(4)) == stream


# ----------------------------------------------------------------------------------------------------
# Ratios (the paper's trend and the bar) on quantization codes of real fields
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "key"), [("topobathy.npz", "topo"), ("jacksboro_fault_dem.npz", "elevation")])
def test_two_byte_symbols_beat_bytes_and_lz4_on_quantization_codes(name, key):
    import lz4.frame

    codes = lorenzo_codes(_sample(name, key), rel_error=1e-2)  # uint16, as cuSZ makes them
    raw = codes.tobytes()
    ratio = {s: len(raw) / len(lzss.compress(codes, symbol_size=s)) for s in (1, 2)}
    lz4_ratio = len(raw) / len(lz4.frame.compress(raw))
    assert ratio[2] >= ratio[1] > 1
    assert ratio[2] >= lz4_ratio
    assert lzss.choose_symbol_size(codes) == 2


# ----------------------------------------------------------------------------------------------------
# CUDA (skipped without a device)
# ----------------------------------------------------------------------------------------------------


@cuda
@pytest.mark.parametrize("symbol_size", [1, 2, 4])
def test_cuda_tensor_gives_the_cpu_blob(symbol_size):
    dem = _sample("jacksboro_fault_dem.npz", "elevation")
    on_gpu = torch.from_numpy(dem).cuda()
    blob = lzss.compress(on_gpu, symbol_size=symbol_size)  # auto backend → torch on the tensor's device
    assert blob == lzss.compress(dem, symbol_size=symbol_size, backend="cpu")
    assert blob == lzss.compress(dem, symbol_size=symbol_size, backend="torch", device="cuda")
    assert lzss.decompress(blob) == dem.tobytes()


@cuda
@pytest.mark.parametrize("shuffle", [True, "auto"])
def test_cuda_shuffle_gives_the_cpu_blob(shuffle):
    dem = _sample("jacksboro_fault_dem.npz", "elevation")
    blob = lzss.compress(torch.from_numpy(dem).cuda(), shuffle=shuffle)  # the filter runs on the GPU
    assert blob == lzss.compress(dem, shuffle=shuffle, backend="cpu")
    assert lzss.read_header(blob).shuffle == 2
    assert lzss.decompress(blob) == dem.tobytes()


@cuda
def test_cuda_property_style_inputs_match_cpu():
    rng = np.random.default_rng(5)
    for _ in range(20):
        s = int(rng.choice([1, 2, 4]))
        data = bytes(rng.integers(0, 3, int(rng.integers(0, 3000)), dtype=np.uint8))
        kw = {"symbol_size": s, "window": int(rng.integers(1, 256)), "chunk": s * int(rng.integers(1, 600))}
        assert lzss.compress(data, backend="torch", device="cuda", **kw) == lzss.compress(data, backend="cpu", **kw)
