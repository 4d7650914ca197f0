import random

import numpy as np
import pytest
import torch
from torch import nn

from effdl.compress import prune, quant
from effdl.core import models
from effdl.core.footprint import serialized_bytes
from effdl.guide import packfile as P


def _equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]) for k in a)


def test_bit_packing_round_trips_every_width():
    rng = np.random.default_rng(0)
    for bits in range(1, 17):
        codes = rng.integers(0, 2**bits, size=37)
        buf = P._pack_codes(codes, bits)
        assert len(buf) == (37 * bits + 7) // 8
        assert np.array_equal(P._unpack_codes(buf, 37, bits), codes)


def test_index_bits():
    assert [P._index_bits(k) for k in (1, 2, 3, 4, 5, 16, 17)] == [0, 1, 2, 2, 3, 4, 5]


@pytest.mark.parametrize("codec", P.CODECS)
def test_a_model_round_trips_exactly(codec):
    m = models.build("smallcnn", seed=0)
    blob = P.pack(m, codec=codec)
    assert _equal(P.unpack(blob), m.state_dict())
    # dense random fp32 weights have no structure to exploit: the file is the raw bytes plus a small header
    assert len(blob) <= serialized_bytes(m) + 2048


def test_each_encoding_is_chosen_where_it_is_smallest_and_sizes_are_exact():
    g = torch.Generator().manual_seed(0)
    dense = torch.randn(64, 64, generator=g)
    palette = torch.tensor([-0.5, 0.25, 1.0, 2.0])[torch.randint(0, 4, (64, 64), generator=g)]
    sparse = dense * (torch.rand(64, 64, generator=g) < 0.05)
    sparse_pal = palette * (torch.rand(64, 64, generator=g) < 0.1)
    # 8 arbitrary values per row (no grid): a palette per row; a 16-level integer grid per row: a step per row
    rows = torch.gather(torch.randn(64, 8, generator=g), 1, torch.randint(0, 8, (64, 64), generator=g))
    grid = torch.randint(-8, 8, (64, 64), generator=g).float() * torch.rand(64, 1, generator=g)
    state = {
        "dense": dense, "palette": palette, "sparse": sparse, "sparse_pal": sparse_pal, "rows": rows, "grid": grid,
    }  # fmt: skip
    blob = P.pack(state, codec="none")
    info = {t.name: t for t in P.inspect(blob)}
    assert {k: v.encoding for k, v in info.items()} == {
        "dense": "raw",
        "palette": "palette",
        "sparse": "sparse-raw",
        "sparse_pal": "sparse-palette",
        "rows": "row-palette",
        "grid": "row-scale",
    }
    assert info["palette"].nbytes == 4 * 4 + 4096 * 2 // 8  # 4 fp32 values + 2-bit indices
    assert info["rows"].nbytes == 64 * 8 * 4 + 4096 * 3 // 8  # 8 fp32 values per row + 3-bit indices
    levels = int(info["grid"].palette)
    assert 15 <= levels <= 16 and info["grid"].nbytes == 64 * 4 + 4 + 4096 * 4 // 8  # a step per row, offset, codes
    nnz = int((sparse_pal != 0).sum())
    assert info["sparse_pal"].nnz == nnz
    assert info["sparse_pal"].nbytes == 4096 // 8 + 4 * 4 + (nnz * 2 + 7) // 8
    assert _equal(P.unpack(blob), state)
    # encoded_size: the chosen encoding's bytes are the file's; every other applicable encoding is no smaller
    for name, t in state.items():
        assert P.encoded_size(t) == P.encoded_size(t, info[name].encoding) == info[name].nbytes
        assert P.encoded_size(t, "raw") == t.numel() * 4
        assert P.encoded_size(t, "palette") >= info[name].nbytes - 1  # bit-exact choice; bytes round per stream
    assert P.encoded_size(sparse_pal, "sparse-raw") == 4096 // 8 + nnz * 4


def test_encoded_size_refuses_what_does_not_apply():
    g = torch.Generator().manual_seed(3)
    with pytest.raises(ValueError, match="encoding must be one of"):
        P.encoded_size(torch.ones(4), "huffman")
    with pytest.raises(ValueError, match="'row-scale' does not apply"):
        P.encoded_size(torch.randn(8, 8, generator=g), "row-scale")  # float weights: no grid
    with pytest.raises(ValueError, match="'sparse-raw' does not apply"):
        P.encoded_size(torch.ones(8), "sparse-raw")  # no zeros
    with pytest.raises(ValueError, match="'palette' does not apply"):
        P.encoded_size(torch.arange(8), "palette")  # integers are stored raw
    assert P.encoded_size(torch.arange(8)) == 8 * 8
    with pytest.raises(TypeError, match=r"t must be a torch\.Tensor"):
        P.encoded_size(np.ones(4))


def test_pruned_and_quantized_model_is_much_smaller_and_decodes_to_the_same_outputs():
    m = models.build("smallcnn", seed=0).eval()
    prune.magnitude_prune_(m, 0.9)
    prune.make_permanent_(m)
    quant.quantize_weights_(m, bits=4, per_channel=False)
    quant.remove_quantization_(m, keep=True)
    blob = P.pack(m, codec="lzss")
    # 10 % non-zeros at 4 bits + a 1-bit mask per weight: ≈ (0.1·4 + 1)/32 of fp32, plus biases and BatchNorm
    assert len(blob) < serialized_bytes(m) / 18
    back = P.load_packed(blob, m)
    x = torch.randn(3, 1, 28, 28)
    assert torch.equal(back(x), m(x))


def test_per_channel_quantized_weights_store_one_step_per_row():
    m = models.build("smallcnn", seed=0).eval()
    quant.prepare_qat_(m, bits=4, method="lsq", per_channel=True)
    quant.remove_quantization_(m, keep=True)
    blob = P.pack(m, codec="none")
    weights = {k: v for k, v in m.state_dict().items() if k.endswith("weight") and v.ndim > 1}
    info = {t.name: t for t in P.inspect(blob) if t.name in weights}
    for name, w in weights.items():
        rows, n = w.shape[0], w.numel()
        assert info[name].encoding == "row-scale" and info[name].bits == 4, info[name]
        assert info[name].nbytes == rows * 4 + 4 + (n * 4 + 7) // 8
        # a row palette stores each row's levels (up to 16 fp32) where row-scale stores one step
        assert P.encoded_size(w, "row-scale") < P.encoded_size(w, "row-palette")
    assert _equal(P.unpack(blob), m.state_dict())
    x = torch.randn(2, 1, 28, 28)
    assert torch.equal(P.load_packed(blob, m)(x), m(x))


@pytest.mark.parametrize("kind", ["midrise", "unused-levels", "zero-row", "negative-zero", "fp64"])
def test_row_scale_is_exact_on_other_grids(kind):
    g = torch.Generator().manual_seed(1)
    q = torch.randint(-8, 8, (8, 40), generator=g).double()
    s = torch.rand(8, 1, generator=g, dtype=torch.float64) + 0.01
    t = {
        "midrise": (q.float() + 0.5) * s.float(),  # (q + 1/2)·s = (2q + 1)·(s/2): a grid of twice the levels
        "unused-levels": (q * 4 + 3).float() * s.float(),  # codes 3 mod 4: the smallest magnitude is 1 step
        "zero-row": torch.cat([torch.zeros(1, 40), q[1:].float() * s[1:].float()]),
        "negative-zero": q.float() * -0.0 + q.float() * s.float(),
        "fp64": q * s,
    }[kind]
    blob = P.pack({"w": t}, codec="none")
    (info,) = P.inspect(blob)
    assert info.encoding == "row-scale", info
    back = P.unpack(blob)["w"]
    assert back.dtype == t.dtype and torch.equal(back, t)


def test_row_scale_is_not_used_without_a_grid():
    g = torch.Generator().manual_seed(2)
    assert P._row_grid(torch.randn(16, 30, generator=g)) is None  # float weights
    assert P._row_grid((torch.randint(-8, 8, (16, 30), generator=g) * 0.1).half()) is None  # fp16: not searched
    assert P._row_grid(torch.tensor([[1.0, float("nan")], [1.0, 2.0]])) is None
    assert P._row_grid(torch.tensor([[1.0, 2.0]])) is None  # one row: a palette serves


def _rewrite(blob: bytes, change) -> bytes:
    """The blob with its header records changed by ``change(entries)`` and a valid CRC: reaches the decoder."""
    import struct
    import zlib

    header, payload, _, codec = P._read(blob)
    assert codec == "none"
    change(header)
    head = b"".join(P._entry_bytes(e) for e in header)
    body = struct.pack("<II", len(head), len(header)) + head + payload
    return P._PREFIX.pack(P.MAGIC, 0, len(body), zlib.crc32(body)) + body


def test_a_row_scale_code_past_its_grid_or_a_bad_offset_is_a_format_error():
    t = torch.arange(-8, 8).float().repeat(4, 1) * torch.tensor([[0.5], [0.25], [1.0], [2.0]])
    blob = P.pack({"w": t}, codec="none")
    assert P.inspect(blob)[0].encoding == "row-scale"

    def fewer_levels(h):
        h[0]["palette"] = 8

    with pytest.raises(P.PackFormatError, match="past its grid"):
        P.unpack(_rewrite(blob, fewer_levels))

    def offset_of_two_bytes(h):
        h[0]["lengths"][1] = 2
        h[0]["lengths"][2] += 2

    with pytest.raises(P.PackFormatError, match="4-byte offset"):
        P.unpack(_rewrite(blob, offset_of_two_bytes))


def test_dtypes_other_than_fp32_round_trip():
    state = {
        "h": torch.randn(10, 3).half(),
        "b": torch.randn(5).bfloat16(),
        "d": torch.randn(4, 4).double(),
        "n": torch.tensor(7),
        "i": torch.arange(6, dtype=torch.int32),
        "empty": torch.empty(0, 3),
        "scalar": torch.tensor(1.5),
    }
    assert _equal(P.unpack(P.pack(state)), state)


def test_bad_input_names_the_argument():
    m = nn.Linear(4, 2)
    with pytest.raises(ValueError, match="codec must be one of"):
        P.pack(m, codec="gzip")
    with pytest.raises(TypeError, match="model must be"):
        P.pack([1, 2])
    with pytest.raises(TypeError, match="blob must be bytes-like"):
        P.unpack("abc")
    pruned = nn.Linear(4, 2)
    torch.nn.utils.prune.l1_unstructured(pruned, "weight", amount=0.5)
    with pytest.raises(ValueError, match="make_permanent_"):
        P.pack(pruned)
    q = quant.quantize_weights_(nn.Sequential(nn.Linear(4, 2)), bits=4)
    with pytest.raises(ValueError, match="remove_quantization_"):
        P.pack(q)
    with pytest.raises(ValueError, match="dtype"):
        P.pack({"c": torch.zeros(2, dtype=torch.complex64)})


def test_load_packed_refuses_a_model_of_other_shapes():
    blob = P.pack(nn.Linear(4, 2))
    with pytest.raises(ValueError, match="does not fit model"):
        P.load_packed(blob, nn.Linear(4, 3))
    with pytest.raises(ValueError, match="missing"):
        P.load_packed(blob, nn.Sequential(nn.Linear(4, 2)))


@pytest.mark.parametrize("codec", ["none", "lzss", "zlib"])
def test_corrupt_files_raise_a_defined_error(codec):
    m = models.build("smallcnn", seed=0)
    prune.magnitude_prune_(m, 0.8)
    prune.make_permanent_(m)
    blob = P.pack(m, codec=codec)
    with pytest.raises(P.PackFormatError, match="does not start"):
        P.unpack(b"NOTAPACK" + blob[8:])
    with pytest.raises(P.PackFormatError):
        P.unpack(blob[: len(blob) // 2])
    with pytest.raises(P.PackFormatError):
        P.unpack(blob[:10])
    rnd = random.Random(0)
    for _ in range(60):
        bad = bytearray(blob)
        for _ in range(rnd.randint(1, 4)):
            bad[rnd.randrange(len(bad))] ^= 1 << rnd.randrange(8)
        if bytes(bad) == blob:
            continue
        try:
            state = P.unpack(bytes(bad))
        except P.PackFormatError:
            continue
        # a flip the CRC cannot see (only in the prefix's codec-independent fields) must still decode exactly
        assert _equal(state, m.state_dict())
