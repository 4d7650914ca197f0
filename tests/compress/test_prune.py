import importlib.util
import itertools
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn.utils import prune as tprune

import effdl
from effdl.compress import prune as P
from effdl.core.footprint import tensor_bits

ROOT = Path(__file__).resolve().parents[2]


def small_cnn(seed: int = 0) -> nn.Module:
    return effdl.build("smallcnn", None, in_shape=(1, 8, 8), num_classes=3, channels=(4, 6), hidden=8, seed=seed)


def tiny_data(n: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g)


# ------------------------------------------------------------------------------------------------------
# Unstructured


def test_prunable_lists_conv_and_linear_in_order():
    model = small_cnn()
    assert list(P.prunable(model)) == ["features.0", "features.4", "classifier.1", "classifier.3"]
    assert list(P.prunable(model, exclude_last=True)) == ["features.0", "features.4", "classifier.1"]


def test_layerwise_masks_match_torch_prune():
    model, ref = small_cnn(), small_cnn()
    P.magnitude_prune_(model, 0.3, scope="layer")
    for name, m in P.prunable(ref).items():
        tprune.l1_unstructured(m, "weight", amount=0.3)
        mine = P.prunable(model)[name]
        assert torch.equal(mine.weight_mask, m.weight_mask), name
        assert torch.equal(mine.weight, m.weight)
        assert torch.equal(mine.weight_orig, m.weight_orig)  # the original weights are kept, as torch does


def test_global_masks_match_torch_and_hit_the_sparsity_exactly():
    model, ref = small_cnn(), small_cnn()
    P.magnitude_prune_(model, 0.8)
    tprune.global_unstructured([(m, "weight") for m in P.prunable(ref).values()], tprune.L1Unstructured, amount=0.8)
    for name, m in P.prunable(ref).items():
        assert torch.equal(P.prunable(model)[name].weight_mask, m.weight_mask), name
    layers = P.prunable(model)
    n = sum(m.weight.numel() for m in layers.values())
    zeros = sum(int((m.weight == 0).sum()) for m in layers.values())
    assert zeros == round(0.8 * n)
    assert P.total_sparsity(model) == round(0.8 * n) / n
    # one threshold: every kept weight is at least as large as every pruned one
    kept = torch.cat([m.weight_orig[m.weight_mask.bool()].abs() for m in layers.values()])
    gone = torch.cat([m.weight_orig[~m.weight_mask.bool()].abs() for m in layers.values()])
    assert kept.min() >= gone.max()


def test_pruning_again_replaces_masks_and_can_go_back():
    model = small_cnn()
    original = {n: m.weight.detach().clone() for n, m in P.prunable(model).items()}
    P.magnitude_prune_(model, 0.9)
    P.magnitude_prune_(model, 0.5)
    layers = P.prunable(model)
    n = sum(m.weight.numel() for m in layers.values())
    assert sum(int((m.weight_mask == 0).sum()) for m in layers.values()) == round(0.5 * n)
    P.magnitude_prune_(model, 0.0)
    for name, m in P.prunable(model).items():
        assert torch.equal(m.weight, original[name])


def test_per_layer_sparsities_and_layer_sparsity():
    model = small_cnn()
    P.magnitude_prune_(model, sparsities={"features.4": 0.5, "classifier.1": 0.25})
    got = P.layer_sparsity(model)
    assert got == {"features.0": 0.0, "features.4": 0.5, "classifier.1": 0.25, "classifier.3": 0.0}
    assert P.layer_sparsity(model, layers=["features.4"]) == {"features.4": 0.5}


def test_make_permanent_folds_masks_in():
    model = small_cnn()
    x, _ = tiny_data(4)
    P.magnitude_prune_(model, 0.6)
    model.eval()
    before = model(x)
    assert P.has_masks(model)
    P.make_permanent_(model)
    assert not P.has_masks(model)
    assert not any(name.endswith(("_orig", "_mask")) for name, _ in model.named_parameters())
    assert not any(name.endswith("_mask") for name, _ in model.named_buffers())
    torch.testing.assert_close(model(x), before)
    assert P.layer_sparsity(model)["classifier.1"] > 0.5


def test_storage_bits_reuse_footprint():
    model = nn.Sequential(nn.Linear(10, 4, bias=False))
    P.magnitude_prune_(model, 0.75)
    w = model[0].weight
    assert P.storage_bits(model) == {
        "dense": tensor_bits(w),
        "bitmask": tensor_bits(w, storage="bitmask"),
        "csr": tensor_bits(w, storage="csr"),
    }
    assert P.storage_bits(model)["bitmask"] == 40 + 10 * 32  # 40 presence bits, 10 kept 32-bit values
    assert P.storage_bits(model)["csr"] == 10 * 64 + 5 * 32  # value + column index each, 4 + 1 row pointers


@pytest.mark.parametrize("bad", [1.0, 1.2, -0.1, float("nan")])
def test_bad_sparsity_raises(bad):
    with pytest.raises(ValueError, match=r"sparsity must be in \[0, 1\)"):
        P.magnitude_prune_(small_cnn(), bad)


def test_bad_arguments_raise_clear_errors():
    model = small_cnn()
    with pytest.raises(ValueError, match="scope must be one of 'global', 'layer', got 'net'"):
        P.magnitude_prune_(model, 0.5, scope="net")
    with pytest.raises(ValueError, match=r"layers must name Conv2d/Linear layers .* \['features.1'\]"):
        P.magnitude_prune_(model, 0.5, layers=["features.1"])
    with pytest.raises(ValueError, match="either sparsity or sparsities"):
        P.magnitude_prune_(model, 0.5, sparsities={"features.0": 0.5})
    with pytest.raises(ValueError, match=r"sparsities\['features.0'\] must be in \[0, 1\), got 2"):
        P.magnitude_prune_(model, sparsities={"features.0": 2})
    with pytest.raises(TypeError, match="sparsity must be a number"):
        P.magnitude_prune_(model, "0.5")
    with pytest.raises(ValueError, match="criterion must be one of 'l1', 'l2', 'bn', got 'l3'"):
        P.prune_channels(model, 0.5, criterion="l3")
    with pytest.raises(ValueError, match=r"amount must be in \[0, 1\), got 1.0"):
        P.prune_channels(model, 1.0)
    with pytest.raises(ValueError, match="cannot be channel-pruned: it produces the model's output"):
        P.prune_channels(model, 0.5, layers=["classifier.3"])


# ------------------------------------------------------------------------------------------------------
# Gradual pruning


def test_agp_schedule_values():
    assert P.agp_sparsity(0, final=0.8, end=10) == 0.0
    assert P.agp_sparsity(10, final=0.8, end=10) == 0.8
    assert P.agp_sparsity(20, final=0.8, end=10) == 0.8
    assert P.agp_sparsity(5, final=0.8, end=10) == pytest.approx(0.8 * (1 - 0.5**3))
    assert P.agp_sparsity(3, final=0.9, initial=0.1, start=5, end=15) == 0.1
    assert P.agp_sparsity(10, final=0.9, initial=0.1, start=5, end=15) == pytest.approx(0.9 - 0.8 * 0.125)
    steps = [P.agp_sparsity(t, final=0.9, end=100) for t in range(101)]
    assert all(b >= a for a, b in itertools.pairwise(steps))  # never un-prunes
    with pytest.raises(ValueError, match="end must be > start"):
        P.agp_sparsity(1, final=0.5, start=5, end=5)
    with pytest.raises(ValueError, match=r"final must be in \[0, 1\)"):
        P.agp_sparsity(1, final=1.0, end=5)


def test_gradual_prune_reaches_final_sparsity_with_monotone_masks():
    model = small_cnn()
    data = tiny_data(128)
    seen: list[torch.Tensor] = []

    def watch(step, net):  # the pruned set only grows
        mask = torch.cat([m.weight_mask.flatten() for m in P.prunable(net).values()])
        if seen:
            assert bool(((seen[-1] == 0) <= (mask == 0)).all())
        seen.append(mask.clone())

    hist = P.gradual_prune(
        model, data, final_sparsity=0.7, epochs=3, prune_every=2, lr=1e-3, batch_size=32, val=data, callback=watch
    )
    assert isinstance(hist, P.PruningHistory)
    assert hist.steps == 12 and hist.end == 9
    assert hist.schedule[0] == (0, 0.0) and hist.schedule[-1] == (9, 0.7)
    assert len(hist.sparsity) == 3 and hist.sparsity[-1] == pytest.approx(0.7, abs=1e-3)
    assert len(hist.val_accuracy) == 3
    assert sum(P.layer_sparsity(model).values()) > 0
    n = sum(m.weight.numel() for m in P.prunable(model).values())
    assert sum(int((m.weight_mask == 0).sum()) for m in P.prunable(model).values()) == round(0.7 * n)


# ------------------------------------------------------------------------------------------------------
# Sensitivity


def test_sensitivity_scan_leaves_the_model_alone():
    model = small_cnn()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    scan = P.sensitivity_scan(model, tiny_data(), sparsities=(0.0, 0.5, 0.9), layers=["features.0", "classifier.1"])
    assert list(scan) == ["features.0", "classifier.1"]
    assert [s for s, _ in scan["features.0"]] == [0.0, 0.5, 0.9]
    assert all(0.0 <= a <= 1.0 for curve in scan.values() for _, a in curve)
    assert scan["features.0"][0][1] == scan["classifier.1"][0][1] == effdl.evaluate(model, tiny_data()).accuracy
    assert not P.has_masks(model)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_allocate_sparsity_favours_robust_layers_and_hits_the_target():
    model = nn.Sequential(nn.Linear(10, 10), nn.Linear(10, 30))  # 100 and 300 weights
    scan = {
        "0": [(0.0, 0.9), (0.5, 0.7), (0.9, 0.2)],  # sensitive
        "1": [(0.0, 0.9), (0.5, 0.9), (0.9, 0.88)],  # robust
    }
    alloc = P.allocate_sparsity(scan, target=0.6, model=model)
    assert (100 * alloc["0"] + 300 * alloc["1"]) / 400 == pytest.approx(0.6, abs=1e-9)
    assert alloc["1"] > alloc["0"]
    # equal drop tau on both (linear between scanned points): s0 = 0.5 tau / 0.2, s1 = 0.5 + 0.4 tau / 0.02, and
    # 100 s0 + 300 s1 = 240 gives tau = 0.0144: the robust layer takes 0.788, the sensitive one only 0.036
    assert alloc["0"] == pytest.approx(0.036, abs=1e-6) and alloc["1"] == pytest.approx(0.788, abs=1e-6)
    high = P.allocate_sparsity(scan, target=0.85, model=model)
    # the robust layer stops at its largest scanned sparsity, the sensitive one takes the rest: 70 of 100
    assert high["1"] == pytest.approx(0.9, abs=1e-6) and high["0"] == pytest.approx(0.7, abs=1e-6)
    P.magnitude_prune_(model, sparsities=high)  # the allocation feeds magnitude_prune_ directly
    with pytest.raises(ValueError, match=r"target must be at most 0\.9000"):
        P.allocate_sparsity(scan, target=0.95, model=model)
    with pytest.raises(ValueError, match=r"target must be in \[0, 1\)"):
        P.allocate_sparsity(scan, target=1.5, model=model)


# ------------------------------------------------------------------------------------------------------
# Structured


def _zero_channels_(model: nn.Module, layers: dict[str, list[int]]) -> None:
    """Make channels exactly dead: zero filter rows, and a zero BN scale and shift (or a zero bias) after them."""
    mods = dict(model.named_modules())
    with torch.no_grad():
        for name, idx in layers.items():
            m = mods[name]
            m.weight[idx] = 0
            if m.bias is not None:
                m.bias[idx] = 0
            parent, _, child = name.rpartition(".")
            nxt = mods[f"{parent}.{int(child) + 1}"]
            if isinstance(nxt, nn.BatchNorm2d):
                nxt.weight[idx] = 0
                nxt.bias[idx] = 0


@pytest.mark.parametrize("criterion", ["l1", "l2", "bn"])
def test_removing_dead_channels_keeps_outputs(criterion):
    model = small_cnn(seed=1)
    x, y = tiny_data(32)
    effdl.fit(model, (x, y), epochs=1, batch_size=16, progress=False)  # non-trivial BN statistics
    _zero_channels_(model, {"features.0": [0, 2], "features.4": [1, 3, 4], "classifier.1": [0, 5, 6, 7]})
    model.eval()
    pruned = P.prune_channels(model, 0.5, criterion=criterion)
    assert pruned.features[0].out_channels == 2 and pruned.features[1].num_features == 2
    assert pruned.features[4].in_channels == 2 and pruned.features[4].out_channels == 3
    assert pruned.classifier[1].in_features == 3 * 2 * 2 and pruned.classifier[1].out_features == 4
    assert pruned.classifier[3].in_features == 4 and pruned.classifier[3].out_features == 3
    torch.testing.assert_close(pruned(x), model(x), atol=1e-5, rtol=1e-5)
    assert not P.has_masks(pruned)
    assert not any(m._forward_pre_hooks or m._forward_hooks for m in pruned.modules())


def test_prune_channels_returns_a_smaller_copy_and_leaves_the_original():
    model = small_cnn()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    pruned = P.prune_channels(model, 0.5)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    x = torch.randn(2, 1, 8, 8)
    assert effdl.count_flops(pruned, x[:1]).flops * 2 <= effdl.count_flops(model, x[:1]).flops
    assert pruned(x).shape == (2, 3)
    # only the chosen layer shrinks; a masked model is folded first
    P.magnitude_prune_(model, 0.5)
    one = P.prune_channels(model, 0.25, layers=["features.4"])
    assert one.features[0].out_channels == 4 and one.features[4].out_channels == 6 - 2
    assert not P.has_masks(one)


def test_prune_channels_mobilenet_depthwise_follows():
    model = effdl.build("mobilenetv1", None, in_shape=(1, 16, 16), num_classes=4, width=0.25, depth=3, seed=0)
    model.eval()
    pruned = P.prune_channels(model, 0.5, criterion="bn")
    block = pruned.features.block1
    assert pruned.features.stem[0].out_channels == 4  # 8 channels at width 0.25
    assert block.dw.in_channels == block.dw.out_channels == block.dw.groups == 4
    assert block.pw.in_channels == 4
    x = torch.randn(2, 1, 16, 16)
    assert pruned(x).shape == (2, 4)


def test_prune_channels_graph_with_torch_pruning_on_resnet20():
    pytest.importorskip("torch_pruning")
    model = effdl.build("resnet20", None, in_shape=(1, 8, 8), num_classes=5, width=0.5, seed=0).eval()
    x = torch.randn(2, 1, 8, 8)
    pruned = P.prune_channels_graph(model, x[:1], 0.5)
    assert pruned is not model and model.features.stem[0].out_channels == 8
    assert pruned.features.stem[0].out_channels == 4
    assert pruned(x).shape == (2, 5)  # the output layer keeps its classes
    assert effdl.count_params(pruned) < 0.4 * effdl.count_params(model)
    assert not P.has_masks(pruned)
    assert not any(m._forward_pre_hooks or m._forward_hooks for m in pruned.modules())
    with pytest.raises(ValueError, match="criterion must be one of"):
        P.prune_channels_graph(model, x[:1], 0.5, criterion="taylor")


def test_pruning_a_fake_quantized_layer_says_to_prune_first():
    from effdl.compress.quant import prepare_qat_, remove_quantization_

    model = prepare_qat_(small_cnn(), bits=4)
    with pytest.raises(ValueError, match=r"magnitude_prune_ cannot prune.*parametrization.*prune first"):
        P.magnitude_prune_(model, 0.5)
    with pytest.raises(ValueError, match=r"magnitude_prune_ cannot prune"):
        P.magnitude_prune_(model, sparsities={next(iter(P.prunable(model))): 0.5})
    if importlib.util.find_spec("torch_pruning") is not None:
        with pytest.raises(ValueError, match=r"prune_channels_graph cannot prune.*remove_quantization_"):
            P.prune_channels_graph(model, torch.zeros(1, 1, 8, 8), 0.5)
    P.magnitude_prune_(remove_quantization_(model, keep=True), 0.5)  # folded: prunes
    assert P.total_sparsity(model) == pytest.approx(0.5, abs=0.01)


def test_prune_channels_graph_explains_the_missing_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tp(name, *args, **kwargs):
        if name == "torch_pruning":
            raise ImportError("No module named 'torch_pruning'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tp)
    with pytest.raises(ImportError, match=r"pip install effdl\[graph\]"):
        P.prune_channels_graph(small_cnn(), torch.zeros(1, 1, 8, 8), 0.5)


# ------------------------------------------------------------------------------------------------------
# Benchmark smoke test (no timings asserted)


def test_prune_benchmark_prints_ratios(capsys):
    spec = importlib.util.spec_from_file_location("bench_prune", ROOT / "benchmarks" / "prune.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--repeats", "2", "--warmup", "0", "--batch", "4", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    dense = next(line for line in out.splitlines() if line.startswith("dense"))
    assert " 1.00 " in f"{dense} "
    assert "structured 50%" in out and "masked 90%" in out


# ------------------------------------------------------------------------------------------------------
# The chapter's figures, slider and exercise checkers (effdl.viz / widgets / exercises)


def test_pruning_figures():
    from effdl import viz

    scan = {"a": [(0.0, 0.9), (0.5, 0.8)], "b": [(0.0, 0.9), (0.5, 0.5)]}
    fig = viz.sensitivity_curves(scan)
    assert [t.name for t in fig.data] == ["a", "b"] and list(fig.data[1].y) == [90.0, 50.0]
    fig = viz.layer_sparsity_bars({"global": {"a": 0.5, "b": 0.25}, "layer-wise": {"a": 0.8, "b": 0.8}})
    assert list(fig.data[0].y) == [50.0, 25.0] and len(fig.data) == 2
    fig = viz.sparsity_tradeoff(scan["a"], current=(0.5, 0.8), sizes={"dense": 8000, "csr": 4000})
    assert list(fig.data[1].x) == [50.0] and list(fig.data[2].y) == [1.0, 0.5]
    fig = viz.relative_bars({"dense": {"macs": 10, "params": 4}, "half": {"macs": 5, "params": 1}}, baseline="dense")
    assert list(fig.data[1].y) == [0.5, 0.25]
    with pytest.raises(ValueError, match="baseline"):
        viz.relative_bars({"dense": {"macs": 1}}, baseline="x")
    hist = P.PruningHistory(epoch=[1, 2], val_accuracy=[0.5, 0.6], steps=10, schedule=[(0, 0.0), (5, 0.5)])
    fig = viz.gradual_pruning_curves(hist)
    assert list(fig.data[0].x) == [0.0, 1.0] and list(fig.data[1].y) == [50.0, 60.0]


def test_sparsity_explorer_updates_live_and_leaves_the_model():
    from effdl import widgets

    model = small_cnn()
    data = tiny_data(50)
    box = widgets.sparsity_explorer(model, data, value=0.5, max_sparsity=0.9, sweep_step=0.3)
    assert [s for s, _ in box.curve] == [0.0, 0.3, 0.6, 0.9]
    assert box.slider.value == 0.6 and list(box.figure.data[1].x) == [60.0]  # snapped to the nearest position
    bars = list(box.figure.data[2].y)
    box.slider.value = 0.9
    assert list(box.figure.data[1].x) == [90.0]
    assert list(box.figure.data[2].y) != bars  # sparse formats shrink
    assert "90%" in box.children[1].value and "CSR" in box.children[1].value
    # a move looks up what the start-up sweep computed: the same as pruning and evaluating a copy now
    fresh = P.magnitude_prune_(P.copy_model(model), 0.9)
    assert box.results[0.9][0] == effdl.evaluate(fresh, data).accuracy
    assert list(box.figure.data[1].y) == [100 * box.results[0.9][0]]
    assert not P.has_masks(model)
    with pytest.raises(ValueError, match="value must be in"):
        widgets.sparsity_explorer(model, data, value=0.99)


def test_exercise_checkers(capsys):
    from effdl import exercises

    def mine(w, s):
        k = round(s * w.numel())
        out = w.clone().flatten()
        out[w.abs().flatten().argsort()[:k]] = 0
        return out.reshape(w.shape)

    assert exercises.check_magnitude_prune(mine)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_magnitude_prune(lambda w, s: w * (w > 0))  # signs, not magnitudes
    assert "trial" in capsys.readouterr().out

    def unfinished(w, s):
        raise NotImplementedError

    assert not exercises.check_magnitude_prune(unfinished)
    assert "not yet" in capsys.readouterr().out
    assert not exercises.check_magnitude_prune(None)
    assert exercises.check_csr_bits(3277 * 64 + 129 * 32)
    assert not exercises.check_csr_bits(3277 * 64)
    assert "row-pointer" in capsys.readouterr().out
    assert exercises.check_csr_bits(5 * 12 + 3 * 4, rows=2, cols=4, nonzero=5, value_bits=8, index_bits=4)
