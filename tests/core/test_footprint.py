"""Tests for effdl.core.footprint: exact counts on tiny models, pruning/parametrize awareness, validation."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize, prune

from effdl.core.footprint import (
    FlopCount,
    Footprint,
    Latency,
    codebook_bits,
    count_bops,
    count_flops,
    count_nonzero,
    count_params,
    effective_weights,
    footprint,
    measure_latency,
    model_bits,
    pareto_front,
    quantized_bits,
    serialized_bytes,
    sparsity,
    tensor_bits,
)


def mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(10, 4), nn.ReLU(), nn.Linear(4, 2))


class Scale(nn.Module):
    """A parametrization: weight = factor * original (factor = 1 is the identity)."""

    def __init__(self, factor: float = 1.0) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


class LearnedScale(nn.Module):
    """A parametrization holding its own parameter, which is shipped and therefore counted."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


class Attention(nn.Module):
    """A container that also does functional math (q @ k^T) in its own forward."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.q(x) @ self.k(x).transpose(-1, -2)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Linear(6, 6), nn.Linear(6, 6))
        self.attn = Attention(6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block[1](self.block[0](x))  # grandchildren called without their parent
        return self.attn(x)


class TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(3, 5)
        self.b = nn.Linear(4, 5)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.a(x) + self.b(y)


class Tied(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(7, 3)
        self.head = nn.Linear(3, 7, bias=False)
        self.head.weight = self.embed.weight  # tied, as in GPT-2

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(idx))


# ----------------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------------


def test_linear_params_and_nonzero() -> None:
    lin = nn.Linear(784, 256)
    assert count_params(lin) == 784 * 256 + 256 == 200_960
    with torch.no_grad():
        lin.weight.zero_()
    assert count_nonzero(lin) == int(torch.count_nonzero(lin.bias))
    assert sparsity(lin) == pytest.approx(1 - count_nonzero(lin) / 200_960)


def test_effective_weights_plain_names_and_detached() -> None:
    w = effective_weights(mlp())
    assert list(w) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(not t.requires_grad for t in w.values())


def test_buffers_are_not_params() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    assert count_params(model) == 3 * 4 + 4 + 4 + 4
    assert sparsity(nn.ReLU()) == 0.0


def test_pruned_model_counts_effective_weight_once() -> None:
    torch.manual_seed(0)
    lin = nn.Linear(8, 4)
    dense_bitmask = model_bits(lin, storage="bitmask")
    assert dense_bitmask == (32 + 32 * 32) + (4 + 4 * 32)
    prune.l1_unstructured(lin, "weight", amount=0.5)
    assert set(effective_weights(lin)) == {"weight", "bias"}  # not weight_orig, not weight_mask
    assert count_params(lin) == 36
    assert count_nonzero(lin) == 16 + 4
    assert sparsity(lin) == pytest.approx(16 / 36)
    assert model_bits(lin, storage="bitmask") == (32 + 16 * 32) + (4 + 4 * 32)
    assert model_bits(lin) == 36 * 32  # the mask buffer is not shipped
    # the effective weight is recomputed from weight_orig * mask, never stale
    with torch.no_grad():
        lin.weight_orig.fill_(3.0)
    assert torch.equal(effective_weights(lin)["weight"], 3.0 * lin.weight_mask)


def test_iteratively_pruned_model() -> None:
    torch.manual_seed(0)
    lin = nn.Linear(8, 4)
    prune.l1_unstructured(lin, "weight", amount=0.5)
    prune.l1_unstructured(lin, "weight", amount=0.5)  # a PruningContainer now: 8 of the remaining 16 go
    assert count_params(lin) == 36
    assert count_nonzero(lin) == 8 + 4


def test_parametrized_model_counts_effective_weight_once() -> None:
    torch.manual_seed(0)
    lin = nn.Linear(5, 3)
    original = lin.weight.detach().clone()
    parametrize.register_parametrization(lin, "weight", Scale(2.0))
    weights = effective_weights(lin)
    assert set(weights) == {"weight", "bias"}
    assert count_params(lin) == 5 * 3 + 3
    assert torch.allclose(weights["weight"], 2.0 * original)
    assert model_bits(lin) == 18 * 32


def test_parametrization_with_its_own_parameter_is_counted() -> None:
    lin = nn.Linear(5, 3)
    parametrize.register_parametrization(lin, "weight", LearnedScale())
    assert set(effective_weights(lin)) == {"weight", "bias", "parametrizations.weight.0.scale"}
    assert count_params(lin) == 15 + 3 + 1


def test_tied_and_shared_weights_counted_once() -> None:
    assert count_params(Tied()) == 7 * 3
    assert list(effective_weights(Tied())) == ["embed.weight"]
    lin = nn.Linear(4, 4)
    assert count_params(nn.Sequential(lin, nn.ReLU(), lin)) == 20


def test_tied_parametrized_weights_counted_once() -> None:
    model = Tied()
    parametrize.register_parametrization(model.embed, "weight", Scale())
    parametrize.register_parametrization(model.head, "weight", Scale())
    assert count_params(model) == 7 * 3


# ----------------------------------------------------------------------------------------------------
# Storage bits
# ----------------------------------------------------------------------------------------------------


@pytest.fixture
def sparse3x4() -> torch.Tensor:
    t = torch.zeros(3, 4)
    t[0, 0], t[0, 3], t[1, 1], t[2, 0], t[2, 2] = 1.0, -2.0, 3.0, 0.5, 4.0
    return t


def test_tensor_bits_formats(sparse3x4: torch.Tensor) -> None:
    assert tensor_bits(sparse3x4) == 12 * 32
    assert tensor_bits(sparse3x4, storage="bitmask") == 12 + 5 * 32
    assert tensor_bits(sparse3x4, storage="csr") == 5 * (32 + 32) + 4 * 32
    assert tensor_bits(sparse3x4, storage="csr", value_bits=8, index_bits=16) == 5 * (8 + 16) + 4 * 16
    assert tensor_bits(sparse3x4, value_bits=4) == 12 * 4


def test_tensor_bits_csr_shapes() -> None:
    v = torch.tensor([0.0, 1.0, 2.0])  # 1-D: one row
    assert tensor_bits(v, storage="csr") == 2 * 64 + 2 * 32
    w = torch.ones(2, 3, 3, 3)  # conv weight: 2 rows of 27
    assert tensor_bits(w, storage="csr") == 54 * 64 + 3 * 32


def test_quantized_bits(sparse3x4: torch.Tensor) -> None:
    assert quantized_bits(sparse3x4, bits=8) == 12 * 8 + 32
    assert quantized_bits(sparse3x4, bits=8, zero_point=True) == 12 * 8 + 32 + 32
    assert quantized_bits(sparse3x4, bits=4, per_channel=True) == 12 * 4 + 3 * 32
    assert quantized_bits(sparse3x4, bits=4, per_channel=True, zero_point=True, zero_point_bits=8) == 48 + 3 * 40
    assert quantized_bits(sparse3x4, bits=8, scale_bits=16) == 12 * 8 + 16
    assert quantized_bits(sparse3x4, bits=8, storage="bitmask") == 12 + 5 * 8 + 32


def test_codebook_bits(sparse3x4: torch.Tensor) -> None:
    assert codebook_bits(sparse3x4, bits=2) == 12 * 2 + 4 * 32
    assert codebook_bits(sparse3x4, bits=4, codebook_value_bits=16) == 12 * 4 + 16 * 16


def test_model_bits_per_name_and_buffers() -> None:
    model = mlp()  # 0: 40 + 4, 2: 8 + 2
    assert model_bits(model) == 54 * 32
    assert model_bits(model, bits=8) == 54 * 8
    assert model_bits(model, bits={"0": 8}) == 44 * 8 + 10 * 32
    assert model_bits(model, bits={"0": 8, "0.weight": 2}) == 40 * 2 + 4 * 8 + 10 * 32  # most specific wins
    bn = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    buffers = (4 + 4 + 1) * 32  # running_mean, running_var, num_batches_tracked
    assert model_bits(bn) == 24 * 32 + buffers
    assert model_bits(bn, include_buffers=False) == 24 * 32


def test_serialized_bytes_grows_with_params() -> None:
    small, big = nn.Linear(10, 10), nn.Linear(100, 100)
    assert serialized_bytes(small) > 4 * count_params(small)
    assert serialized_bytes(big) > 4 * count_params(big)
    assert serialized_bytes(big) > serialized_bytes(small)


# ----------------------------------------------------------------------------------------------------
# FLOPs, MACs, BOPs
# ----------------------------------------------------------------------------------------------------


def test_linear_flops() -> None:
    n = 3
    counts = count_flops(nn.Linear(784, 256), torch.randn(n, 784))
    assert isinstance(counts, FlopCount)
    assert counts.flops == 2 * 784 * 256 * n  # the bias add is not counted by torch
    assert counts.macs == 784 * 256 * n
    assert counts.by_module == {"": counts.flops}  # the root is the only (leaf) module


def test_conv_macs() -> None:
    counts = count_flops(nn.Conv2d(3, 8, kernel_size=3, padding=1), torch.randn(1, 3, 32, 32))
    assert counts.macs == 8 * 32 * 32 * 3 * 9
    assert counts.flops == 2 * counts.macs


def test_by_module_keys_are_fqns() -> None:
    counts = count_flops(mlp(), torch.randn(5, 10))
    assert counts.by_module == {"0": 2 * 5 * 10 * 4, "2": 2 * 5 * 4 * 2}
    assert sum(counts.by_module.values()) == counts.flops


def test_by_module_containers_and_direct_grandchild_calls() -> None:
    counts = count_flops(Net(), torch.randn(2, 5, 6))
    linear = 2 * 2 * 5 * 6 * 6
    assert counts.by_module == {
        "block.0": linear,
        "block.1": linear,
        "attn.q": linear,
        "attn.k": linear,
        "attn": 2 * 2 * 5 * 6 * 5,
    }
    assert sum(counts.by_module.values()) == counts.flops


def test_by_module_folds_parametrizations_into_owner() -> None:
    model = mlp()
    parametrize.register_parametrization(model[0], "weight", Scale(2.0))
    counts = count_flops(model, torch.randn(5, 10))
    assert set(counts.by_module) == {"0", "2"}


def test_transformer_attention_is_counted() -> None:
    # eval + no_grad would take PyTorch's fused fast path, and on CPU attention runs a kernel torch's counter
    # misses; both would hide FLOPs. tokens = 2 * 5, d = 16, 2 heads of 8, feed-forward 32.
    layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
    counts = count_flops(layer, torch.randn(2, 5, 16))
    in_proj, out_proj = 2 * 10 * 16 * 48, 2 * 10 * 16 * 16
    attention = 2 * (2 * 2) * 5 * 5 * (8 + 8)  # Q @ K^T and A @ V per (batch, head)
    ffn = 2 * 10 * 16 * 32
    assert counts.by_module == {"self_attn": in_proj + attention + out_proj, "linear1": ffn, "linear2": ffn}
    assert counts.flops == in_proj + attention + out_proj + 2 * ffn
    assert torch.backends.mha.get_fastpath_enabled()  # switched back on


def test_flops_tuple_inputs_and_training_restored() -> None:
    model = TwoInputs()
    model.train()
    model.b.eval()
    counts = count_flops(model, (torch.randn(2, 3), torch.randn(2, 4)))
    assert counts.by_module == {"a": 2 * 2 * 3 * 5, "b": 2 * 2 * 4 * 5}
    assert model.training and model.a.training and not model.b.training


def test_model_error_propagates() -> None:
    with pytest.raises(RuntimeError):  # what nn.Linear raises on a shape mismatch
        count_flops(nn.Linear(4, 2), torch.randn(1, 5))

    class Picky(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise ValueError("picky wants 2-D")

    with pytest.raises(ValueError, match="picky"):
        count_flops(Picky(), torch.randn(1))
    with pytest.raises(ValueError, match="picky"):
        measure_latency(Picky(), torch.randn(1))


def test_bops() -> None:
    lin = nn.Linear(10, 4)
    macs = count_flops(lin, torch.randn(1, 10)).macs
    assert macs == 40
    assert count_bops(lin, torch.randn(1, 10), bits=8) == macs * 64
    assert count_bops(lin, torch.randn(1, 10)) == macs * 32 * 32
    model, x = mlp(), torch.randn(1, 10)
    assert count_bops(model, x, bits={"0": (4, 8)}) == 40 * 4 * 8 + 8 * 32 * 32
    assert count_bops(model, x, bits={"0": (4, 8), "2": 2}) == 40 * 4 * 8 + 8 * 2 * 2
    assert count_bops(model, x, bits={"": 8, "2": (1, 1)}) == 40 * 64 + 8


# ----------------------------------------------------------------------------------------------------
# Latency and footprint
# ----------------------------------------------------------------------------------------------------


def test_measure_latency_fields_and_restores_state() -> None:
    model = mlp()
    model.train()
    before = torch.get_num_threads()
    lat = measure_latency(model, torch.randn(16, 10), warmup=2, repeats=7, threads=1)
    assert isinstance(lat, Latency)
    assert lat.median_ms > 0 and lat.q1_ms <= lat.median_ms <= lat.q3_ms
    assert lat.iqr_ms == pytest.approx(lat.q3_ms - lat.q1_ms)
    assert lat.repeats == len(lat.samples_ms) == 7
    assert (lat.warmup, lat.batch_size, lat.threads, lat.device) == (2, 16, 1, "cpu")
    assert "batch 16, 1 thread, cpu" in str(lat) and "ms ±" in str(lat)
    assert model.training
    assert torch.get_num_threads() == before


def test_measure_latency_min_time_extends_repeats() -> None:
    lat = measure_latency(nn.Linear(4, 4), torch.randn(1, 4), warmup=0, repeats=1, min_time_s=0.005)
    assert lat.repeats >= 1 and sum(lat.samples_ms) >= 5.0


def test_footprint_pruned() -> None:
    model = mlp()
    prune.l1_unstructured(model[0], "weight", amount=0.5)
    fp = footprint(model, torch.randn(1, 10), storage="bitmask", bits=8)
    assert isinstance(fp, Footprint)
    assert (fp.params, fp.nonzero, fp.flops, fp.macs) == (54, 54 - 20, 96, 48)
    assert fp.bits == (40 + 20 * 8) + (4 + 4 * 8) + (8 + 8 * 8) + (2 + 2 * 8)
    assert fp.size_mb == pytest.approx(fp.bits / 8 / 1e6)
    assert fp.bops == 48 * 64
    assert fp.latency is None
    d = fp.as_dict()
    assert d["latency_ms"] is None and d["params"] == 54 and set(d) >= {"sparsity", "latency_iqr_ms", "bops"}


def test_footprint_with_latency_and_param_level_bits() -> None:
    fp = footprint(mlp(), torch.randn(1, 10), bits={"0.weight": 4}, latency=True, warmup=1, repeats=3)
    assert fp.bops is None  # parameter-level bit-widths say nothing about activations
    assert fp.latency is not None and fp.latency.repeats == 3
    assert fp.as_dict()["latency_ms"] == fp.latency.median_ms
    with pytest.raises(ValueError, match="latency=False"):
        footprint(mlp(), torch.randn(1, 10), repeats=3)


# ----------------------------------------------------------------------------------------------------
# Pareto front
# ----------------------------------------------------------------------------------------------------


def test_pareto_front_2d() -> None:
    points = [
        (1.0, 0.5),
        (2.0, 0.8),
        (2.0, 0.7),  # same size as 1, less accurate: dominated
        (3.0, 0.8),  # same accuracy as 1, bigger: dominated
        (2.0, 0.8),  # duplicate of 1: only the first index is kept
        (4.0, 0.9),
        (0.5, 0.1),
        (5.0, 0.85),  # dominated by 5
    ]
    assert pareto_front(points) == [6, 0, 1, 5]
    assert pareto_front(points, maximize=(True, True)) == [5, 7]  # bigger is better now: 7 is not dominated
    assert pareto_front(points, maximize=(False, False)) == [6]
    assert pareto_front([]) == []
    assert pareto_front([(1, 1)]) == [0]


def test_pareto_front_3d() -> None:
    # (size, accuracy, latency): small, accurate, fast
    points = [(1, 0.5, 10), (1, 0.5, 5), (2, 0.9, 20), (2, 0.8, 1), (3, 0.8, 30)]
    assert pareto_front(points, maximize=(False, True, False)) == [1, 2, 3]


# ----------------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------------


def test_bad_storage_and_bits(sparse3x4: torch.Tensor) -> None:
    with pytest.raises(ValueError, match=r"storage must be one of 'dense', 'bitmask', 'csr', got 'coo'"):
        tensor_bits(sparse3x4, storage="coo")
    with pytest.raises(ValueError, match=r"storage must be one of .* got 'coo'"):
        model_bits(mlp(), storage="coo")
    for bad in (0, 65, 8.0, True):
        with pytest.raises(ValueError, match=r"bits must be an int in 1\.\.64, got"):
            quantized_bits(sparse3x4, bits=bad)
    with pytest.raises(ValueError, match=r"value_bits must be an int in 1\.\.64, got 0"):
        tensor_bits(sparse3x4, value_bits=0)
    with pytest.raises(ValueError, match=r"bits must be an int in 1\.\.64, got 65"):
        model_bits(mlp(), bits=65)
    with pytest.raises(ValueError, match=r"bits\['0'\] must be an int in 1\.\.64, got 0"):
        model_bits(mlp(), bits={"0": 0})
    with pytest.raises(ValueError, match="unknown"):
        model_bits(mlp(), bits={"nope": 8})
    with pytest.raises(ValueError, match=r"bits must be an int in 1\.\.16, got 17"):
        codebook_bits(sparse3x4, bits=17)
    with pytest.raises(ValueError, match=r"bits must be an int in 1\.\.64, got 0"):
        count_bops(mlp(), torch.randn(1, 10), bits=0)
    with pytest.raises(ValueError, match="unknown"):
        count_bops(mlp(), torch.randn(1, 10), bits={"9": 8})
    with pytest.raises(ValueError, match=r"\(w_bits, a_bits\)"):
        count_bops(mlp(), torch.randn(1, 10), bits={"0": (8, 8, 8)})
    with pytest.raises(TypeError, match=r"t must be a torch\.Tensor"):
        tensor_bits([1.0, 2.0])  # type: ignore[arg-type]


def test_bad_latency_args() -> None:
    x = torch.randn(1, 10)
    with pytest.raises(ValueError, match="repeats must be an int >= 1, got 0"):
        measure_latency(mlp(), x, repeats=0)
    with pytest.raises(ValueError, match="warmup must be an int >= 0, got -1"):
        measure_latency(mlp(), x, warmup=-1)
    with pytest.raises(ValueError, match="threads"):
        measure_latency(mlp(), x, threads=0)
    with pytest.raises(ValueError, match="min_time_s"):
        measure_latency(mlp(), x, min_time_s=math.nan)


def test_bad_model_and_inputs() -> None:
    for fn in (count_params, count_nonzero, sparsity, effective_weights, model_bits, serialized_bytes):
        with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module, got str"):
            fn("resnet")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        count_flops(lambda x: x, torch.randn(1))  # type: ignore[arg-type]
    for bad in ([[1.0, 2.0]], "x", (torch.randn(1), 3), ()):
        with pytest.raises(TypeError, match="inputs must be a Tensor or a non-empty tuple of Tensors"):
            count_flops(mlp(), bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="inputs must be a Tensor"):
        measure_latency(mlp(), [[1.0] * 10])  # type: ignore[arg-type]


def test_bad_points() -> None:
    with pytest.raises(ValueError, match="point 1 has 3"):
        pareto_front([(1, 2), (1, 2, 3)])
    with pytest.raises(ValueError, match="NaN"):
        pareto_front([(1, 2), (float("nan"), 2)])
    with pytest.raises(ValueError, match="maximize must have at least 2"):
        pareto_front([(1,), (2,)], maximize=(True,))
    with pytest.raises(ValueError, match="len\\(maximize\\) = 3"):
        pareto_front([(1, 2), (3, 4)], maximize=(True, True, False))
    with pytest.raises(TypeError, match="numbers"):
        pareto_front([(1, "a"), (2, 3)])


def test_compare_latency_interleaves_rounds_and_keeps_the_best_median():
    from effdl.core.footprint import compare_latency

    models = {"small": nn.Linear(8, 2), "big": nn.Sequential(nn.Linear(8, 256), nn.Linear(256, 2))}
    lat = compare_latency(models, torch.zeros(4, 8), rounds=2, warmup=1, repeats=3)
    assert list(lat) == ["small", "big"]
    assert all(v.repeats == 3 and v.median_ms > 0 for v in lat.values())
    with pytest.raises(ValueError, match="rounds must be an int >= 1"):
        compare_latency(models, torch.zeros(4, 8), rounds=0)
    with pytest.raises(TypeError, match="non-empty mapping"):
        compare_latency({}, torch.zeros(4, 8))


def test_weight_aliases_map_tied_names_to_the_first():
    from torch import nn

    from effdl.core.footprint import effective_weights, weight_aliases

    emb, head = nn.Embedding(5, 3), nn.Linear(3, 5, bias=False)
    head.weight = emb.weight
    model = nn.ModuleDict({"emb": emb, "head": head})
    assert weight_aliases(model) == {"emb.weight": "emb.weight", "head.weight": "emb.weight"}
    assert list(effective_weights(model)) == ["emb.weight"]


# ----------------------------------------------------------------------------------------------------
# saved_activation_bytes


def test_saved_activation_bytes_exact_on_an_mlp():
    from effdl.core.footprint import saved_activation_bytes

    model = mlp()  # Linear(10, 4) -> ReLU -> Linear(4, 2)
    x = torch.randn(5, 10)
    # the first Linear keeps the batch (for its weight gradient): 5·10·4 bytes; the ReLU keeps its output,
    # which the second Linear keeps too (one storage): 5·4·4 bytes
    assert saved_activation_bytes(model, x) == 5 * 10 * 4 + 5 * 4 * 4 == 280
    # the second Linear also keeps its weight (2·4 floats) to compute the ReLU output's gradient; the first
    # does not, because nothing needs the batch's gradient
    assert saved_activation_bytes(model, x, include_parameters=True) == 280 + 2 * 4 * 4
    assert saved_activation_bytes(model, torch.randn(10, 10)) == 2 * 280  # linear in the batch
    assert saved_activation_bytes(model, x.requires_grad_(True), include_parameters=True) == 280 + 4 * 10 * 4 + 32


class _Views(nn.Module):
    """Saves x twice (x * x) and two halves of one tensor (a * b): two storages in all."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sq = x * x
        a, b = (sq + 1).chunk(2, dim=1)
        return a * b


def test_saved_activation_bytes_counts_each_storage_once():
    from effdl.core.footprint import saved_activation_bytes

    x = torch.randn(3, 4, requires_grad=True)
    assert saved_activation_bytes(_Views(), x) == 3 * 4 * 4 + 3 * 4 * 4
    assert saved_activation_bytes(_Views(), x.detach()) == 0  # no gradient needed: nothing is kept


def test_saved_activation_bytes_conv_bn_and_leaves_the_model_and_rng_alone():
    from effdl.core.footprint import saved_activation_bytes

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU())
    model.eval()
    model[1].train()  # a per-module flag that must survive
    x = torch.randn(2, 1, 6, 6)
    buffers = {k: v.clone() for k, v in model.state_dict().items()}
    # conv keeps x (2·1·6·6 floats); BN keeps the conv output (2·2·4·4) and its batch mean and 1/std (2 + 2);
    # ReLU keeps its output (2·2·4·4). Measured in train mode whatever the model's flags.
    assert saved_activation_bytes(model, x) == 4 * (72 + 64 + 4 + 64)
    assert [m.training for m in model] == [False, True, False] and not model.training
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in buffers.items())  # running stats untouched
    noisy = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    batch = torch.randn(3, 4)
    rng = torch.get_rng_state()
    assert saved_activation_bytes(noisy, batch) > 3 * 4 * 4  # the batch and the dropout mask
    assert torch.equal(torch.get_rng_state(), rng)  # dropout drew its mask from a forked generator


def test_saved_activation_bytes_bad_input():
    from effdl.core.footprint import saved_activation_bytes

    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        saved_activation_bytes("mlp", torch.zeros(1, 10))
    with pytest.raises(TypeError, match="inputs must be a Tensor"):
        saved_activation_bytes(mlp(), [[1.0] * 10])
    with pytest.raises(TypeError, match="include_parameters must be a bool"):
        saved_activation_bytes(mlp(), torch.zeros(1, 10), include_parameters=1)


def test_saved_activation_bytes_counts_a_slice_of_the_batch_at_its_own_size() -> None:
    from effdl.core.footprint import saved_activation_bytes

    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    x = torch.randn(64, 12)
    assert saved_activation_bytes(model, x[:4]) == saved_activation_bytes(model, x[:4].clone()) == 4 * 12 * 4
