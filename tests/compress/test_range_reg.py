import copy
import math
import statistics

import pytest
import torch
from torch import nn

import effdl
from effdl.compress.range_reg import (
    DEFAULT_PTQ,
    PTQ_GRIDS,
    LInfRegularizer,
    MarginRegularizer,
    R2Comparison,
    SoftMinMaxRegularizer,
    alpha_balance,
    compare_regularizers,
    ptq_metric,
    range_ratio,
    soft_range_slope,
)


def _linear(weight: list[list[float]]) -> nn.Linear:
    w = torch.tensor(weight)
    lin = nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        lin.weight.copy_(w)
    return lin


W = [[0.5, -1.0], [2.0, 0.25]]  # |w| = 0.5, 1, 2, 0.25


def test_linf_value_hand_computed():
    lin = _linear(W)
    assert LInfRegularizer(lin, strength=0.1)(lin).item() == pytest.approx(0.1 * 2.0)


def test_linf_sums_layers_and_gradient_hits_only_the_max():
    model = nn.Sequential(_linear(W), nn.ReLU(), _linear([[0.0, -3.0]]))
    reg = LInfRegularizer(model, strength=0.5)
    assert reg.layers == ["0", "2"]
    loss = reg(model)
    assert loss.item() == pytest.approx(0.5 * (2.0 + 3.0))
    loss.backward()
    assert torch.equal(model[0].weight.grad, torch.tensor([[0.0, 0.0], [0.5, 0.0]]))
    assert torch.equal(model[2].weight.grad, torch.tensor([[0.0, -0.5]]))
    assert list(reg.parameters()) == []


def test_margin_value_hand_computed():
    lin = _linear(W)
    # M = 1: relu(|w| - 1) = [0, 0, 1, 0] -> sum of squares 1, plus |M| = 1 -> 2
    assert MarginRegularizer(lin, strength=0.1, init=1.0)(lin).item() == pytest.approx(0.1 * 2.0)
    # M = 0.5: relu = [0, 0.5, 1.5, 0] -> 0.25 + 2.25 = 2.5, plus 0.5 -> 3
    assert MarginRegularizer(lin, strength=0.1, init=0.5)(lin).item() == pytest.approx(0.1 * 3.0)
    # init="max": M = max|w| = 2, squared term 0 -> 2
    reg = MarginRegularizer(lin, strength=1.0)
    assert reg.margins[0].item() == pytest.approx(2.0)
    assert reg(lin).item() == pytest.approx(2.0)


def test_margin_negative_margin_uses_abs():
    lin = _linear(W)
    reg = MarginRegularizer(lin, strength=1.0, init=1.0)
    with torch.no_grad():
        reg.margins[0].fill_(-1.0)
    assert reg(lin).item() == pytest.approx(2.0)


def test_margin_gradients_to_weights_and_margin():
    lin = _linear(W)
    reg = MarginRegularizer(lin, strength=0.1, init=0.5)
    reg(lin).backward()
    # d/dw relu(|w| - M)^2 = 2 relu(|w| - M) sign(w): w=-1 -> -1, w=2 -> 3
    assert torch.allclose(lin.weight.grad, 0.1 * torch.tensor([[0.0, -1.0], [3.0, 0.0]]))
    # d/dM = -2 (0.5 + 1.5) + 1 = -3
    assert reg.margins[0].grad.item() == pytest.approx(0.1 * -3.0)


def test_softminmax_value_hand_computed():
    lin = _linear([[0.0, 1.0]])
    reg = SoftMinMaxRegularizer(lin, strength=1.0, alpha_init=1.0)
    # smax = e / (1 + e), smin = e^-1 / (1 + e^-1) = 1 / (1 + e); difference = (e - 1)/(e + 1) = tanh(1/2)
    smax, smin = reg.soft_max_min(lin.weight, reg.alphas[0])
    assert smax.item() == pytest.approx(math.e / (1 + math.e))
    assert smin.item() == pytest.approx(1 / (1 + math.e))
    assert reg(lin).item() == pytest.approx(math.tanh(0.5) + math.exp(-1.0))
    # alpha = 0: both are the mean, penalty = e^0 = 1
    assert SoftMinMaxRegularizer(lin, strength=0.3, alpha_init=0.0)(lin).item() == pytest.approx(0.3)


def test_softminmax_is_stable_for_large_alpha():
    lin = _linear(W)
    reg = SoftMinMaxRegularizer(lin, strength=1.0, alpha_init=1000.0)
    value = reg(lin)
    assert torch.isfinite(value)
    assert value.item() == pytest.approx(2.0 - (-1.0), abs=1e-6)  # hard max - min, e^-1000 = 0


def test_softminmax_gradients_to_weights_and_alpha():
    lin = _linear([[0.0, 1.0]])
    reg = SoftMinMaxRegularizer(lin, strength=1.0, alpha_init=1.0)
    reg(lin).backward()
    assert lin.weight.grad is not None and lin.weight.grad.abs().sum() > 0
    # d/dalpha [tanh(alpha/2) + e^-alpha] at 1 = (1 - tanh(1/2)^2)/2 - e^-1
    expected = (1 - math.tanh(0.5) ** 2) / 2 - math.exp(-1.0)
    assert reg.alphas[0].grad.item() == pytest.approx(expected)


def test_softminmax_alpha_gradient_is_the_two_variances_minus_exp():
    # dR/dalpha = lambda (Var_p(w) + Var_q(w) - e^-alpha), p = softmax(alpha w), q = softmax(-alpha w): the range
    # term pulls alpha down (its derivative is >= 0), e^-alpha pushes it up.
    w = torch.tensor([[0.3, -0.1, 0.05, -0.25, 0.2]])
    lin = _linear(w.tolist())
    for alpha in (1.0, 5.0, 30.0):
        reg = SoftMinMaxRegularizer(lin, strength=0.5, alpha_init=alpha)
        reg(lin).backward()
        p, q = torch.softmax(alpha * w.flatten(), 0), torch.softmax(-alpha * w.flatten(), 0)
        var_p = (p * w.flatten() ** 2).sum() - (p * w.flatten()).sum() ** 2
        var_q = (q * w.flatten() ** 2).sum() - (q * w.flatten()).sum() ** 2
        expected = 0.5 * (var_p + var_q - math.exp(-alpha))
        assert reg.alphas[0].grad.item() == pytest.approx(expected.item(), rel=1e-4, abs=1e-9)
    assert var_p + var_q > 0


def test_history_records_each_training_forward_only():
    model = nn.Sequential(_linear(W), nn.ReLU(), _linear([[0.0, -3.0]]))
    smm = SoftMinMaxRegularizer(model, strength=1.0, alpha_init=2.0)
    margin = MarginRegularizer(model, strength=1.0)
    linf = LInfRegularizer(model)
    for reg in (smm, margin, linf):
        reg(model)
        reg(model)
        with torch.no_grad():
            reg(model)  # an inspection, not a training step
        reg.eval()
        reg(model)
        reg.train()
    assert torch.equal(smm.history, torch.full((2, 2), 2.0))
    assert torch.equal(margin.history, torch.tensor([[2.0, 3.0], [2.0, 3.0]]))  # |M| per layer, init max|W|
    assert linf.history.shape == (0, 2)
    with torch.no_grad():
        margin.margins[0].fill_(-1.5)
    margin(model)
    assert margin.history[-1].tolist() == [1.5, 3.0]
    smm.clear_history()
    assert smm.history.shape == (0, 2)


@pytest.mark.parametrize(
    "make",
    [
        lambda m: SoftMinMaxRegularizer(m, strength=1.0, alpha_init=1.0),
        lambda m: MarginRegularizer(m, strength=1.0, init=0.5),
    ],
    ids=["alpha", "margin"],
)
def test_learned_values_move_during_a_short_training_with_weight_decay_on(make):
    # fit puts alpha / margins in their own group without weight decay: they move by their own gradient, and the
    # history shows it step by step. Weights of order 1: the range term's pull dominates e^-alpha at alpha = 1.
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 8, generator=g)
    y = (x[:, :3].sum(1) > 0).long()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(4.0)
    reg = make(model)
    start = [v.item() for v in reg._learned()]
    effdl.fit(
        model,
        (x, y),
        epochs=2,
        lr=0.05,
        optimizer="sgd",
        weight_decay=5e-4,
        batch_size=32,
        extra_loss=reg,
        seed=0,
        progress=False,
    )
    hist = reg.history
    assert hist.shape == (16, 2)  # 2 epochs x 8 batches, 2 layers
    assert hist[0].tolist() == pytest.approx(start)
    moved = (hist[-1] - hist[0]).abs()
    assert (moved > 0.05).all(), moved  # measurably, in every layer


@pytest.mark.parametrize("cls", [LInfRegularizer, MarginRegularizer, SoftMinMaxRegularizer])
def test_zero_strength_gives_zero(cls):
    lin = _linear(W)
    assert cls(lin, strength=0)(lin).item() == 0.0


def test_forward_reads_the_model_passed_in():
    a, b = _linear(W), _linear([[0.0, 7.0], [1.0, 1.0]])
    reg = LInfRegularizer(a, strength=1.0)
    assert reg(b).item() == pytest.approx(7.0)


def test_layers_selection():
    model = nn.Sequential(_linear(W), nn.ReLU(), _linear([[0.0, -3.0]]))
    assert LInfRegularizer(model, strength=1.0, layers=["2"])(model).item() == pytest.approx(3.0)
    assert MarginRegularizer(model, layers=["0", "2"]).layers == ["0", "2"]


def test_range_ratio_known_tensor():
    lin = _linear([[0.0, 1.0], [2.0, 3.0]])
    # mean 1.5, unbiased var = (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3; max|w| = 3
    assert range_ratio(lin) == {"": pytest.approx(3 / math.sqrt(5 / 3))}
    model = nn.Sequential(lin, nn.ReLU(), _linear([[1.0, -1.0]]))
    r = range_ratio(model, layers=["2"])
    assert r == {"2": pytest.approx(1 / math.sqrt(2))}  # unbiased std of [1, -1] = sqrt(2)


def _max_ratio(model: nn.Module) -> float:
    return max(range_ratio(model).values())


@pytest.mark.parametrize(
    "make",
    [
        lambda m: LInfRegularizer(m, strength=0.05),
        lambda m: MarginRegularizer(m, strength=0.05),
        lambda m: SoftMinMaxRegularizer(m, strength=0.05),
    ],
    ids=["linf", "margin", "softminmax"],
)
def test_training_with_regularizer_shrinks_range(make):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(512, 16, generator=g)
    y = (x[:, :4].sum(1) > 0).long()

    def run(reg_factory):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 2))
        reg = reg_factory(model) if reg_factory else None
        effdl.fit(model, (x, y), epochs=10, lr=1e-2, batch_size=64, extra_loss=reg, seed=0, progress=False)
        return _max_ratio(model)

    plain, regularized = run(None), run(make)
    assert regularized < plain


def test_bad_inputs():
    lin = _linear(W)
    with pytest.raises(ValueError, match=r"^strength must be >= 0, got -1$"):
        LInfRegularizer(lin, strength=-1)
    with pytest.raises(ValueError, match="strength"):
        MarginRegularizer(lin, strength=float("nan"))
    with pytest.raises(ValueError, match=r"unknown layer 'nope'.*available: \['0', '2'\]"):
        SoftMinMaxRegularizer(nn.Sequential(lin, nn.ReLU(), _linear([[1.0, 1.0]])), layers=["nope"])
    with pytest.raises(ValueError, match="available"):
        range_ratio(lin, layers=["nope"])
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module, got str"):
        LInfRegularizer("model")
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        range_ratio(42)
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        LInfRegularizer(lin)(None)
    with pytest.raises(ValueError, match="init"):
        MarginRegularizer(lin, init=-1.0)
    with pytest.raises(ValueError, match="alpha_init"):
        SoftMinMaxRegularizer(lin, alpha_init=float("inf"))
    with pytest.raises(ValueError, match=r"Conv2d or nn\.Linear"):
        LInfRegularizer(nn.ReLU())
    with pytest.raises(TypeError, match="layers must be None, a layer name or a list of layer names, got 3"):
        MarginRegularizer(lin, layers=3)
    with pytest.raises(ValueError, match=r"w must hold finite values only \(no NaN/inf\)"):
        soft_range_slope(torch.tensor([float("nan"), 1.0]), 1.0)
    with pytest.raises(ValueError, match="need a finite stop"):
        alpha_balance(torch.randn(8), stop=float("inf"))
    with pytest.raises(ValueError, match=r"at most 1,000,000 grid points"):
        alpha_balance(torch.randn(8), step=1e-9, stop=100.0)
    reg = LInfRegularizer(nn.Sequential(lin, nn.ReLU(), _linear([[1.0, 1.0]])), layers=["2"])
    with pytest.raises(ValueError, match="missing from the model passed to forward"):
        reg(nn.Sequential(lin))


# ----------------------------------------------------------------------------------------------------------
# compare_regularizers


def _toy_data(n: int = 256, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    y = (x[:, :3].sum(1) > 0).long()
    return x, y


def _toy_model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))


TOY_VARIANTS = {"baseline": None, "linf": lambda m: LInfRegularizer(m, strength=0.05)}
TOY_RECIPE = {"epochs": 3, "lr": 0.05, "batch_size": 32, "progress": False}


def test_compare_regularizers_tidy_rows_val_and_test():
    train, val, test = _toy_data(), _toy_data(96, seed=2), _toy_data(128, seed=1)
    variants = TOY_VARIANTS | {"smm": lambda m: SoftMinMaxRegularizer(m, strength=0.05, alpha_init=3.0)}
    ptq = ["ptq2_full_channel", "ptq2_affine_tensor"]
    res = compare_regularizers(
        _toy_model, train, test, val=val, variants=variants, seeds=[0, 3], ptq=ptq, kmeans_bits=(1,), **TOY_RECIPE
    )
    assert res.variants == ["baseline", "linf", "smm"] and res.seeds == [0, 3] and res.layers == ["0", "2"]
    assert res.metrics == ["fp", "ptq2_full_channel", "ptq2_affine_tensor", "kmeans1"]
    assert res.splits == ["val", "test"]
    assert [(r["variant"], r["seed"]) for r in res.rows] == [
        (v, s) for s in (0, 3) for v in ("baseline", "linf", "smm")
    ]
    for row in res.rows:
        keys = {f"{s}.{m}" for s in ("val", "test") for m in res.metrics}
        assert set(row) == {"variant", "seed", "range_ratio", "seconds", *keys}
        assert all(0 <= row[k] <= 100 for k in keys)
    # val and test are separate measurements: the float model's accuracy is evaluated on each
    model = res.models["linf"]
    assert res.rows[1]["val.fp"] == pytest.approx(100 * effdl.evaluate(model, val).accuracy)
    assert res.rows[1]["test.fp"] == pytest.approx(100 * effdl.evaluate(model, test).accuracy)
    assert res.values("linf", "fp", "val") == [res.rows[1]["val.fp"], res.rows[4]["val.fp"]]
    assert res.values("linf", "fp") == [res.rows[1]["test.fp"], res.rows[4]["test.fp"]]  # test by default
    # the summary is the mean over seeds; std the sample std
    summary = {s["variant"]: s for s in res.summary("val")}
    assert summary["linf"]["runs"] == 2
    assert summary["linf"]["fp"] == pytest.approx((res.rows[1]["val.fp"] + res.rows[4]["val.fp"]) / 2)
    a, b = res.values("smm", "kmeans1")
    assert res.std("smm", "kmeans1") == pytest.approx(abs(a - b) / math.sqrt(2))
    # histories: alpha per step for each seed (256 / 32 = 8 steps per epoch, 3 epochs), none for L∞'s
    assert set(res.histories) == {"linf", "smm"}
    assert [h.shape for h in res.histories["smm"]] == [(24, 2), (24, 2)]
    assert res.histories["smm"][0][0].tolist() == [3.0, 3.0]
    assert res.histories["linf"][0].shape == (0, 2)
    # weights and per-layer ratios of the first seed, consistent with the recorded mean ratio
    assert set(res.weights) == {"baseline", "linf", "smm"} and set(res.weights["linf"]) == {"0", "2"}
    assert torch.equal(res.models["linf"][0].weight.detach(), res.weights["linf"]["0"])
    assert not res.models["linf"].training
    ratios = res.layer_ratios["baseline"]
    assert res.rows[0]["range_ratio"] == pytest.approx(sum(ratios.values()) / 2)
    w = res.weights["baseline"]["2"]
    assert ratios["2"] == pytest.approx((w.abs().max() / w.std()).item())
    with pytest.raises(ValueError, match="metric must be one of"):
        res.mean("linf", "ptq8_full_channel")
    with pytest.raises(ValueError, match="variant must be one of"):
        res.values("margin", "fp")
    with pytest.raises(ValueError, match="leave split=None"):
        res.values("linf", "range_ratio", "val")
    with pytest.raises(ValueError, match="split must be one of"):
        res.values("linf", "fp", "train")


def test_choose_on_val_and_gain_on_test():
    res = R2Comparison(variants=["baseline", "a", "b"], seeds=[0, 1], layers=["0"], metrics=["fp", "q"])
    res.splits = ["val", "test"]
    table = {  # (variant, seed): (val.fp, val.q, test.fp, test.q)
        ("baseline", 0): (90, 40, 91, 30),
        ("baseline", 1): (92, 50, 90, 35),
        ("a", 0): (91, 70, 90, 60),
        ("a", 1): (91, 60, 89, 50),
        ("b", 0): (89, 80, 92, 40),  # best on val, worse on test: choose() must not look at test
        ("b", 1): (90, 60, 91, 45),
    }
    for s in (0, 1):
        for v in res.variants:
            vf, vq, tf, tq = table[(v, s)]
            res.rows.append(
                {
                    "variant": v,
                    "seed": s,
                    "range_ratio": 3.0,
                    "seconds": 1.0,
                    "val.fp": vf,
                    "val.q": vq,
                    "test.fp": tf,
                    "test.q": tq,
                }
            )
    assert res.choose(["a", "b"], ["q"]) == ("b", "q")  # val means: a 65, b 70
    assert res.choose(["a", "b"], ["q"], split="test") == ("a", "q")
    assert res.choose(["baseline"], ["fp", "q"]) == ("baseline", "fp")
    assert res.choose(["a", "b"], ["fp"]) == ("a", "fp")  # tie 91 / 89.5 -> a; ties go to the first
    gain = res.gain("b", "q")
    assert gain.per_seed == [10, 10] and gain.split == "test" and gain.baseline_metric == "q"
    assert (gain.mean, gain.std, gain.min_seed) == (10, 0, 10)
    gain = res.gain("a", "q", baseline_metric="fp")
    assert gain.per_seed == [60 - 91, 50 - 90] and gain.min_seed == -40
    assert gain.std == pytest.approx(statistics.stdev([-31, -40]))
    assert math.isnan(R2Comparison(["x"], [0], [], ["fp"], rows=[{"variant": "x", "test.fp": 1.0}]).std("x", "fp"))
    with pytest.raises(ValueError, match="split must be one of"):
        R2Comparison(["x"], [0], [], ["fp"]).choose(split="val")
    with pytest.raises(ValueError, match="accuracy metrics"):
        res.choose(["a"], ["range_ratio"])
    with pytest.raises(ValueError, match="must not be empty"):
        res.choose([], ["q"])


def test_ptq_metric_names():
    assert ptq_metric(2) == "ptq2_full_channel"
    assert ptq_metric(4, "affine", per_channel=False) == "ptq4_affine_tensor"
    assert DEFAULT_PTQ[1:5] == tuple(ptq_metric(2, g) for g in PTQ_GRIDS)
    with pytest.raises(ValueError, match="grid one of"):
        ptq_metric(2, "ternary")
    with pytest.raises(ValueError, match=r"bits in 1\.\.16"):
        ptq_metric(17)
    with pytest.raises(TypeError, match=r"bits must be an int in 1\.\.16, got '2'"):
        ptq_metric("2")
    with pytest.raises(TypeError, match="per_channel must be a bool, got 'no'"):
        ptq_metric(2, per_channel="no")


def test_compare_regularizers_grids_are_the_quantizers_own():
    # Each PTQ metric is exactly quantize_weights_ with that grid on a copy of the trained model.
    from effdl.compress.quant import quantize_weights_

    train, test = _toy_data(), _toy_data(128, seed=1)
    ptq = [ptq_metric(2, g) for g in PTQ_GRIDS]
    res = compare_regularizers(
        _toy_model, train, test, variants={"baseline": None}, ptq=ptq, kmeans_bits=(), **TOY_RECIPE
    )
    model = res.models["baseline"]
    for grid, kw in [
        ("full", {}),
        ("restricted", {"grid": "restricted"}),
        ("affine", {"symmetric": False}),
        ("midrise", {"grid": "midrise"}),
    ]:
        q = quantize_weights_(copy.deepcopy(model), bits=2, per_channel=True, **kw)
        assert res.rows[0][f"test.ptq2_{grid}_channel"] == pytest.approx(100 * effdl.evaluate(q, test).accuracy)


def test_compare_regularizers_is_reproducible_and_the_regularizer_shrinks_the_range():
    train, test = _toy_data(), _toy_data(128, seed=1)
    kw = {"variants": TOY_VARIANTS, "ptq": ["ptq2_full_tensor"], "kmeans_bits": (), **TOY_RECIPE}
    a = compare_regularizers(_toy_model, train, test, layers=["0"], **kw)
    b = compare_regularizers(_toy_model, train, test, layers=["0"], **kw)
    drop = ("seconds",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in a.rows] == [
        {k: v for k, v in r.items() if k not in drop} for r in b.rows
    ]
    assert a.metrics == ["fp", "ptq2_full_tensor"] and a.layers == ["0"] and a.splits == ["test"]
    assert a.mean("linf", "range_ratio") < a.mean("baseline", "range_ratio")
    # the baseline row is exactly a plain fit of the same model with the same recipe
    plain = _toy_model(0)
    effdl.fit(plain, train, epochs=3, lr=0.05, batch_size=32, optimizer="sgd", weight_decay=5e-4, schedule="cosine")
    assert a.rows[0]["test.fp"] == pytest.approx(100 * effdl.evaluate(plain, test).accuracy)
    assert torch.equal(a.weights["baseline"]["0"], plain[0].weight.detach())


def test_compare_regularizers_bad_inputs():
    data = _toy_data(32)
    ok = {"variants": TOY_VARIANTS, **TOY_RECIPE}
    with pytest.raises(TypeError, match="make_model must be a callable"):
        compare_regularizers("mlp", data, data, **ok)
    with pytest.raises(ValueError, match="variants must be a non-empty mapping"):
        compare_regularizers(_toy_model, data, data, **(ok | {"variants": {}}))
    with pytest.raises(TypeError, match=r"variants\['x'\] must be a callable"):
        compare_regularizers(_toy_model, data, data, **(ok | {"variants": {"x": 3}}))
    with pytest.raises(ValueError, match="seeds must be ints >= 0"):
        compare_regularizers(_toy_model, data, data, seeds=[0, -1], **ok)
    with pytest.raises(ValueError, match="seeds has duplicates"):
        compare_regularizers(_toy_model, data, data, seeds=[1, 1], **ok)
    with pytest.raises(ValueError, match=r"ptq must be names .*got 'ptq0_full_channel'"):
        compare_regularizers(_toy_model, data, data, ptq=["ptq0_full_channel"], **ok)
    with pytest.raises(ValueError, match="ptq must be names"):
        compare_regularizers(_toy_model, data, data, ptq=["ptq2_channel"], **ok)
    with pytest.raises(TypeError, match="ptq must be a sequence of names"):
        compare_regularizers(_toy_model, data, data, ptq="ptq2_full_channel", **ok)
    with pytest.raises(ValueError, match="ptq has duplicates"):
        compare_regularizers(_toy_model, data, data, ptq=["ptq2_full_channel"] * 2, **ok)
    with pytest.raises(ValueError, match=r"kmeans_bits must hold ints in 1\.\.8"):
        compare_regularizers(_toy_model, data, data, kmeans_bits=[9], **ok)
    with pytest.raises(ValueError, match="unknown layer 'nope'"):
        compare_regularizers(_toy_model, data, data, layers=["nope"], **ok)
    with pytest.raises(TypeError, match="layers must be None, a layer name or a list of layer names, got 3"):
        compare_regularizers(_toy_model, data, data, layers=3, **ok)
    with pytest.raises(TypeError, match=r"variants\['bad'\]\(model\) must return a callable regularizer"):
        compare_regularizers(_toy_model, data, data, **(ok | {"variants": {"bad": lambda m: 1.0}}))
