import json
import math
import sys

import pytest
import torch
from torch import nn

from effdl.core.footprint import serialized_bytes
from effdl.guide import ModelReport, analyze
from effdl.guide import report as analyze_module

FAST = {"latency_repeats": 1, "progress": False}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: on a shared 2-core machine two threads per forward pass slow down 3-4× under load."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


# ----------------------------------------------------------------------------------------------------
# A tiny model whose sensitivities are computable by hand
# ----------------------------------------------------------------------------------------------------


def _tiny() -> nn.Sequential:
    """x -> diag(1, 2, 3, 4) x -> [1, 2, 3, 4] · (.); on x = I_4 the output is [1, 4, 9, 16]."""
    model = nn.Sequential(nn.Linear(4, 4, bias=False), nn.Linear(4, 1, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.diag(torch.tensor([1.0, 2.0, 3.0, 4.0])))
        model[1].weight.copy_(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))
    return model


@pytest.fixture(scope="module")
def tiny_report() -> ModelReport:
    return analyze(_tiny(), torch.eye(4), sparsity=0.5, bits=4, **FAST)


def test_tiny_model_sensitivities_by_hand(tiny_report):
    first, last = tiny_report.layers
    # layer 0 is 75 % zeros: pruning 50 % of it removes only zeros
    assert first["prune_output_change"] == 0.0 and first["prune_weight_error"] == 0.0
    # layer 1 loses its weights 1 and 2: the output [1, 4, 9, 16] loses 1 and 4
    assert last["prune_output_change"] == pytest.approx(math.sqrt(17 / 354))
    assert last["prune_weight_error"] == pytest.approx(math.sqrt(5 / 30))
    # 4 bits, per output channel, full grid: step max|w| / 8, the maximum saturates to 7/8 of itself
    assert first["quant_output_change"] == pytest.approx(1 / 8)  # every row scaled by 7/8
    assert first["quant_weight_error"] == pytest.approx(1 / 8)
    assert last["quant_weight_error"] == pytest.approx(0.5 / math.sqrt(30))  # [1, 2, 3, 4] -> [1, 2, 3, 3.5]
    assert last["quant_output_change"] == pytest.approx(2 / math.sqrt(354))  # 16 -> 14
    assert (first["prune_rank"], last["prune_rank"]) == (1, 2)
    assert (first["quant_rank"], last["quant_rank"]) == (2, 1)


def test_tiny_model_footprint_and_table(tiny_report):
    r = tiny_report
    assert r.params == 20 and r.macs == 4 * (16 + 4) and r.flops == 2 * r.macs
    assert r.bops_32 == r.macs * 32 * 32 and r.bops_8 == r.macs * 8 * 8
    assert [row["name"] for row in r.layers] == ["0", "1"]
    assert [row["shape"] for row in r.layers] == [[4, 4], [1, 4]]
    assert [row["params_share"] for row in r.layers] == [0.8, 0.2]
    assert [row["macs_share"] for row in r.layers] == [0.8, 0.2]
    assert r.batch_size == 4 and r.input_shapes == [[4, 4]]
    assert r.linear_share == pytest.approx(1.0)
    # computed sizes: 20 fp32 weights vs 20 codes + one fp32 scale per output channel (4 + 1 channels)
    assert r.computed_fp32_bytes == 80
    assert r.computed_int8_bytes == (20 * 8 + 5 * 32) // 8
    assert r.computed_lowbit_bytes == (20 * 4 + 5 * 32) // 8
    assert r.int8_bytes is not None and r.int8_note is None
    assert r.pruned_params is not None and r.pruned_params < r.params and r.pruned_note is None


def test_all_equal_magnitudes_give_exact_weight_errors():
    w = torch.tensor([[1.0, -1.0, 1.0, -1.0], [-1.0, 1.0, -1.0, 1.0]])
    model = nn.Sequential(nn.Linear(4, 2, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(w)
    for bits in (2, 4, 8):
        (row,) = analyze(model, torch.eye(4), sparsity=0.25, bits=bits, **FAST).layers
        # any 2 of 8 equal magnitudes go: sqrt(2/8); on x = I the output is W^T itself
        assert row["prune_weight_error"] == pytest.approx(0.5)
        assert row["prune_output_change"] == pytest.approx(0.5)
        # the positive half saturates one step (1 / 2**(bits-1)) below +1
        assert row["quant_weight_error"] == pytest.approx(math.sqrt(0.5) / 2 ** (bits - 1))
        assert row["quant_output_change"] == pytest.approx(row["quant_weight_error"])


def test_report_views(tiny_report):
    d = tiny_report.as_dict()
    json.dumps(d, allow_nan=False)
    assert d["params"] == 20 and len(d["layers"]) == 2 and d["latency_ms"] > 0
    assert d["settings"] == {"sparsity": 0.5, "channel_fraction": 0.5, "bits": 4, "latency_repeats": 1, "seed": 0}
    text = tiny_report.summary()
    assert text.startswith("Sequential: 20 params, ") and len(text.splitlines()) <= 8
    ratio = tiny_report.int8_bytes / tiny_report.fp32_bytes  # int8 packing overhead outweighs 20 weights
    assert ratio > 1 and f"({ratio:.2f}× larger)" in text
    tips = tiny_report.candidates()
    # layer 0 holds 80 % of the weights and pruning it changes nothing: the first target
    assert tips[0].startswith("0 holds 80% of the weights and is the least sensitive of 2 layers to 50% pruning")
    assert any(t.startswith(f"1 is the most sensitive to pruning ({math.sqrt(17 / 354):.2%} output") for t in tips)
    assert any(t.startswith("4-bit weights: 0 changes the output most (12.50%") for t in tips)
    assert any("int8 weights (computed size): 2.0× smaller; 4-bit: 2.7× smaller" in t for t in tips)
    assert [r["name"] for r in tiny_report.ranked("quant_output_change")] == ["1", "0"]
    with pytest.raises(ValueError, match="key must be a column of layers"):
        tiny_report.ranked("nope")


def test_same_seed_same_numbers_with_a_stochastic_forward():
    class Noisy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = _tiny()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.body(x) + torch.randn(x.shape[0], 1)

    model = Noisy()
    a = analyze(model, torch.eye(4), seed=3, **FAST)
    b = analyze(model, torch.eye(4), seed=3, **FAST)
    cols = ("prune_output_change", "quant_output_change")
    assert [[r[c] for c in cols] for r in a.layers] == [[r[c] for c in cols] for r in b.layers]
    assert a.layers[0]["prune_output_change"] == 0.0  # the same noise in both passes: only the weights differ
    unseeded = analyze(model, torch.eye(4), seed=None, **FAST)
    assert unseeded.layers[0]["prune_output_change"] > 0.0


def test_missing_steps_become_notes(monkeypatch):
    conv_only = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 1))
    monkeypatch.setitem(sys.modules, "torch_pruning", None)  # as if torch-pruning were not installed
    r = analyze(conv_only, torch.randn(2, 3, 6, 6), **FAST)
    assert r.pruned_params is None and r.pruned_speedup is None and "torch-pruning" in r.pruned_note
    assert r.int8_bytes is None and r.int8_latency is None and "nn.Linear" in r.int8_note
    assert r.linear_share == 0.0 and len(r.layers) == 2
    tips = r.candidates()
    assert any(t.startswith("structured pruning was not possible here: structured pruning failed") for t in tips)
    assert any(t.startswith("int8 kernels were not possible here") for t in tips)
    json.dumps(r.as_dict(), allow_nan=False)
    assert "not done" in r.summary()

    def broken(*args, **kwargs):
        raise RuntimeError("cannot trace this graph")

    monkeypatch.setattr(analyze_module, "prune_channels_graph", broken)
    r = analyze(_tiny(), torch.eye(4), **FAST)
    assert (
        r.pruned_params is None and r.pruned_note == "structured pruning failed: RuntimeError: cannot trace this graph"
    )


def test_tuple_input_and_dict_output():
    class TwoIn(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(3, 2), nn.Linear(5, 2)

        def forward(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
            return {"logits": self.a(x) + self.b(y), "index": torch.zeros(1, dtype=torch.long)}

    torch.manual_seed(0)
    r = analyze(TwoIn(), (torch.randn(2, 3), torch.randn(2, 5)), **FAST)
    assert r.input_shapes == [[2, 3], [2, 5]] and [row["name"] for row in r.layers] == ["a", "b"]
    assert all(row["prune_output_change"] > 0 for row in r.layers)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"model": "not a model"}, TypeError, "model must be a torch.nn.Module"),
        ({"example_input": [torch.eye(4)]}, TypeError, "example_input must be a Tensor"),
        ({"example_input": ()}, TypeError, "example_input must be a Tensor"),
        ({"example_input": (torch.eye(4), 1)}, TypeError, "example_input must be a Tensor"),
        ({"sparsity": 0.0}, ValueError, r"sparsity must be in \(0, 1\), got 0.0"),
        ({"sparsity": 1}, ValueError, r"sparsity must be in \(0, 1\)"),
        ({"sparsity": "half"}, TypeError, "sparsity must be a number"),
        ({"channel_fraction": 1.5}, ValueError, r"channel_fraction must be in \(0, 1\), got 1.5"),
        ({"channel_fraction": float("nan")}, ValueError, "channel_fraction must be in"),
        ({"bits": 1}, ValueError, r"bits must be an int in 2..8, got 1"),
        ({"bits": 9}, ValueError, "bits must be an int in 2..8"),
        ({"bits": 4.0}, ValueError, "bits must be an int in 2..8"),
        ({"bits": True}, ValueError, "bits must be an int in 2..8"),
        ({"latency_repeats": 0}, ValueError, "latency_repeats must be an int >= 1"),
        ({"seed": "0"}, TypeError, "seed must be an int or None"),
        ({"progress": "no"}, TypeError, "progress must be a bool or None"),
    ],
)
def test_bad_inputs_name_the_argument(kwargs, error, match):
    call = {"model": _tiny(), "example_input": torch.eye(4), **kwargs}
    with pytest.raises(error, match=match):
        analyze(call.pop("model"), call.pop("example_input"), **call)


# ----------------------------------------------------------------------------------------------------
# torchvision resnet18 (random weights, offline)
# ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def resnet():
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None)
    model.train()
    model.layer2.eval()  # a model with mixed flags: both must come back as they were
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flags = {name: m.training for name, m in model.named_modules()}
    x = torch.randn(1, 3, 64, 64)
    report = analyze(model, x, latency_repeats=3, progress=False)
    return model, x, before, flags, report


def test_resnet18_layers(resnet):
    model, _, _, _, r = resnet
    expected = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert [row["name"] for row in r.layers] == expected and len(expected) == 21
    assert sum(row["params_share"] for row in r.layers) == pytest.approx(1.0, abs=1e-6)
    assert sum(row["macs_share"] for row in r.layers) == pytest.approx(1.0, abs=1e-6)  # resnet's MACs: conv + fc
    assert sorted(row["prune_rank"] for row in r.layers) == list(range(1, 22))
    assert all(0 < row["prune_output_change"] < math.inf for row in r.layers)
    assert all(0 < row["quant_weight_error"] < 1 for row in r.layers)
    fc = r.layers[-1]
    assert fc["type"] == "Linear" and fc["shape"] == [1000, 512] and fc["params"] == 513_000
    assert r.linear_share == pytest.approx(fc["params_share"])


def test_resnet18_footprint_pruning_and_int8(resnet):
    r = resnet[-1]
    assert r.params == 11_689_512 and r.fp32_bytes > 4 * r.params
    assert r.bops_32 == 16 * r.bops_8 and r.bops_32 == r.macs * 1024
    assert r.latency.median_ms > 0 and r.latency.repeats >= 3 and r.batch_size == 1
    assert r.pruned_params < r.params and r.pruned_macs < r.macs and r.pruned_speedup > 0
    assert r.int8_bytes < r.fp32_bytes and r.int8_speedup > 0
    assert r.computed_int8_bytes < r.computed_fp32_bytes / 3.9
    tips = r.candidates()
    assert any(f"{r.params / r.pruned_params:.1f}× fewer parameters" in t for t in tips)
    assert any(f"{r.computed_fp32_bytes / r.computed_int8_bytes:.1f}× smaller" in t for t in tips)


def test_resnet18_is_left_unchanged(resnet):
    model, _, before, flags, _ = resnet
    after = model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert {name: m.training for name, m in model.named_modules()} == flags


def test_resnet18_same_seed_same_sensitivities(resnet):
    model, x, _, _, r = resnet
    again = analyze(model, x, latency_repeats=1, progress=False)
    cols = ("prune_output_change", "quant_output_change", "quant_weight_error", "prune_rank", "quant_rank")
    assert [[row[c] for c in cols] for row in again.layers] == [[row[c] for c in cols] for row in r.layers]


def test_masked_and_fake_quantized_models_are_measured_through_their_effective_weights():
    from effdl.compress.prune import magnitude_prune_
    from effdl.compress.quant import quantize_weights_

    model = magnitude_prune_(_tiny(), 0.5, scope="layer", layers=["1"])  # layer 1 computes with [0, 0, 3, 4]
    quantize_weights_(model, bits=8, layers=["0"])
    keys = sorted(model.state_dict())
    r = analyze(model, torch.eye(4), **FAST)
    assert r.layers[1]["prune_output_change"] == 0.0  # pruning 50 % of [0, 0, 3, 4] removes only its zeros
    assert [row["params"] for row in r.layers] == [16, 4]
    # measured as it would ship: masks and fake quantizers folded into plain weights
    assert r.fp32_bytes == serialized_bytes(_tiny()) and r.computed_fp32_bytes == 80
    assert r.pruned_params == 10 and r.int8_bytes is not None  # both run on the folded copy
    assert sorted(model.state_dict()) == keys  # masks and parametrizations are still there
