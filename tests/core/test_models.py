"""Tests for effdl.core.models: shapes, exact parameter and FLOP counts, validation, tracing, learning."""

from __future__ import annotations

import math
import re

import pytest
import torch
import torch.fx
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from effdl.core.models import (
    MLP,
    MODELS,
    DepthwiseSeparable,
    ImageClassifier,
    MobileNetV1,
    ResNet20,
    SmallCNN,
    TinyTransformer,
    build,
)

DATASETS = {
    "mnist5k": ((1, 28, 28), 10),
    "digits": ((1, 8, 8), 10),
    "mnist": ((1, 28, 28), 10),
    "fashion_mnist": ((1, 28, 28), 10),
    "cifar10": ((3, 32, 32), 10),
}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------------------------------------
# Image models: shapes


@pytest.mark.parametrize("dataset", list(DATASETS))
@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_builds_for_every_dataset(name: str, dataset: str) -> None:
    in_shape, num_classes = DATASETS[dataset]
    model = build(name, dataset, **({"width": 0.25} if name in ("mobilenetv1", "resnet20") else {}))
    assert isinstance(model, ImageClassifier)
    assert model.in_shape == in_shape and model.num_classes == num_classes
    assert isinstance(model.features, nn.Sequential) and isinstance(model.classifier, nn.Sequential)
    x = torch.randn(3, *in_shape)
    logits = model(x)
    assert logits.shape == (3, num_classes)
    assert torch.equal(logits, model.classifier(model.features(x)))


@pytest.mark.parametrize("width", [0.25, 0.5, 1.0])
@pytest.mark.parametrize("name", ["mobilenetv1", "resnet20"])
@pytest.mark.parametrize("dataset", ["digits", "mnist5k", "cifar10"])
def test_width_multipliers(name: str, dataset: str, width: float) -> None:
    model = build(name, dataset, width=width, num_classes=7).eval()
    assert model(torch.randn(2, *DATASETS[dataset][0])).shape == (2, 7)


def test_mobilenet_channel_plan_and_strides() -> None:
    # the paper's plan at width 0.25 is 8, 16, 32, 32, 64, 64, 128×6, 256, 256 (multiples of 8, at least 8)
    model = MobileNetV1((1, 28, 28), 10, width=0.25)
    blocks = [m for m in model.features if isinstance(m, DepthwiseSeparable)]
    assert [b.pw.out_channels for b in blocks] == [16, 32, 32, 64, 64, *[128] * 6, 256, 256]
    assert model.features.stem[0].out_channels == 8
    assert all(b.dw.groups == b.dw.in_channels == b.dw.out_channels for b in blocks)
    assert MobileNetV1(width=0.1).features.stem[0].out_channels == 8  # never below 8
    # 28×28: stem at stride 1, then 28 -> 14 -> 7 -> 4 -> 2
    assert model.strides == (1, 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1)
    assert model.features(torch.randn(1, 1, 28, 28)).shape == (1, 256, 2, 2)
    # 8×8: only the last two stride-2 blocks downsample, 8 -> 4 -> 2
    assert MobileNetV1((1, 8, 8), width=0.25).features(torch.randn(1, 1, 8, 8)).shape == (1, 256, 2, 2)
    # 224×224: the paper's layout, all five stride-2 layers, 7×7 at the end
    big = MobileNetV1((3, 224, 224), 10, width=0.25, depth=13)
    assert big.strides[0] == 2 and big.features(torch.randn(1, 3, 224, 224)).shape == (1, 256, 7, 7)


def test_mobilenet_depth_truncates() -> None:
    model = MobileNetV1((1, 28, 28), 10, width=0.5, depth=5)
    assert len(model.features) == 1 + 5 and model.depth == 5
    assert model.features(torch.randn(1, 1, 28, 28)).shape == (1, 128, 4, 4)  # 28 -> 14 -> 7 -> 4
    assert model.classifier[-1].in_features == 128
    assert len(MobileNetV1().features) == 14


def test_resnet20_structure() -> None:
    model = ResNet20((3, 32, 32), 10)
    assert [len(getattr(model.features, f"stage{i}")) for i in (1, 2, 3)] == [3, 3, 3]
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(convs) + 1 == 20  # 19 3×3 convs + the Linear = ResNet-20
    assert model.features(torch.randn(1, 3, 32, 32)).shape == (1, 64, 8, 8)
    assert ResNet20((1, 8, 8), width=0.5).features(torch.randn(1, 1, 8, 8)).shape == (1, 32, 2, 2)
    assert len(ResNet20(blocks_per_stage=5).features.stage2) == 5  # ResNet-32


# ----------------------------------------------------------------------------------------------------------
# Exact parameter counts


def test_mlp_param_count() -> None:
    # Linear(784, 256) + Linear(256, 128) + Linear(128, 10), each weights + biases
    expected = (784 * 256 + 256) + (256 * 128 + 128) + (128 * 10 + 10)
    assert expected == 235_146
    assert n_params(MLP()) == expected
    assert n_params(MLP(hidden=())) == 784 * 10 + 10  # logistic regression


def test_smallcnn_param_count() -> None:
    # conv 1->16 (no bias) + BN(16), conv 16->32 + BN(32), 28 -> 14 -> 7 so flat = 32·7·7,
    # Linear(1568, 64), Linear(64, 10)
    expected = (1 * 16 * 9 + 2 * 16) + (16 * 32 * 9 + 2 * 32) + (32 * 7 * 7 * 64 + 64) + (64 * 10 + 10)
    assert expected == 105_914
    assert n_params(SmallCNN()) == expected


def resnet_param_formula(c_in: int, c: int, n: int, num_classes: int) -> int:
    """3×3 convs without bias + BN (2 params per channel) + 1×1 projections at stages 2 and 3 + Linear."""

    def conv_bn(a: int, b: int, k: int = 3) -> int:
        return a * b * k * k + 2 * b

    total = conv_bn(c_in, c)  # stem
    for a, b in [(c, c), (c, 2 * c), (2 * c, 4 * c)]:
        total += conv_bn(a, b) + conv_bn(b, b) + (conv_bn(a, b, 1) if a != b else 0)  # first block
        total += (n - 1) * 2 * conv_bn(b, b)
    return total + 4 * c * num_classes + num_classes


def test_resnet20_param_count() -> None:
    expected = resnet_param_formula(3, 16, 3, 10)
    assert expected == 272_474  # the paper's 0.27M (option A: 269,722) + 2,752 for the two projections
    assert n_params(ResNet20((3, 32, 32), 10)) == expected
    assert 260_000 <= expected <= 280_000
    assert n_params(ResNet20((1, 28, 28), 10, width=0.5)) == resnet_param_formula(1, 8, 3, 10)


# ----------------------------------------------------------------------------------------------------------
# Validation


def test_wrong_input_shape_message() -> None:
    model = MLP()
    expected = "MLP expects input of shape (N, 1, 28, 28), got (2, 3, 32, 32)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        model(torch.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match=re.escape("got (1, 28, 28)")):
        model(torch.randn(1, 28, 28))  # a single sample without the batch dim is rejected too
    with pytest.raises(ValueError, match=re.escape("ResNet20 expects input of shape (N, 3, 32, 32)")):
        ResNet20()(torch.randn(2, 1, 28, 28))


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: MLP(in_shape=(1, 28)), ValueError, "in_shape must be (C, H, W) with positive ints"),
        (lambda: MLP(in_shape=(1, 0, 28)), ValueError, "in_shape must be (C, H, W)"),
        (lambda: MLP(num_classes=1), ValueError, "num_classes must be an int >= 2, got 1"),
        (lambda: MLP(hidden=(256, 0)), ValueError, "hidden entries must be positive ints"),
        (lambda: MLP(hidden=128), TypeError, "hidden must be a sequence of positive ints"),
        (lambda: MLP(dropout=1.0), ValueError, "dropout must be in [0, 1), got 1.0"),
        (lambda: MLP(dropout=-0.1), ValueError, "dropout must be in [0, 1)"),
        (lambda: SmallCNN(channels=()), ValueError, "channels must hold at least one positive int"),
        (lambda: SmallCNN(hidden=0), ValueError, "hidden must be a positive int (>= 1), got 0"),
        (lambda: MobileNetV1(width=-1), ValueError, "width must be > 0, got -1"),
        (lambda: MobileNetV1(depth=0), ValueError, "depth must be an int in 1..13"),
        (lambda: MobileNetV1(depth=14), ValueError, "depth must be an int in 1..13"),
        (lambda: ResNet20(width=0), ValueError, "width must be > 0, got 0"),
        (lambda: ResNet20(blocks_per_stage=0), ValueError, "blocks_per_stage must be a positive int"),
    ],
)
def test_bad_constructor_args(make, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        make()


def test_build_overrides_and_errors() -> None:
    model = build("smallcnn", "digits", num_classes=3, channels=(8,))
    assert model.in_shape == (1, 8, 8) and model.num_classes == 3 and model.channels == (8,)
    assert build("MLP", None, in_shape=(2, 4, 4), num_classes=5).in_shape == (2, 4, 4)
    with pytest.raises(ValueError, match="unknown model 'vgg'; choose one of mlp, smallcnn, mobilenetv1, resnet20"):
        build("vgg")
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'; choose one of mnist5k, digits"):
        build("mlp", "imagenet")
    with pytest.raises(ValueError, match="give both in_shape"):
        build("mlp", None, num_classes=10)


def test_build_seed_is_reproducible_and_leaves_global_rng_alone() -> None:
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = build("smallcnn", seed=0), build("smallcnn", seed=0)
    assert torch.equal(torch.rand(1), before)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    c = build("smallcnn", seed=1)
    assert not torch.equal(a.features[0].weight, c.features[0].weight)


# ----------------------------------------------------------------------------------------------------------
# Tooling: FLOP counting, fx tracing, backward


def test_flop_counter_exact_for_mlp_and_smallcnn() -> None:
    n = 2
    with FlopCounterMode(display=False) as fc:
        MLP()(torch.randn(n, 1, 28, 28))
    assert fc.get_total_flops() == 2 * n * (784 * 256 + 256 * 128 + 128 * 10)  # 2 FLOPs per multiply-add
    with FlopCounterMode(display=False) as fc:
        SmallCNN()(torch.randn(n, 1, 28, 28))
    macs = 16 * 28 * 28 * 1 * 9 + 32 * 14 * 14 * 16 * 9 + 1568 * 64 + 64 * 10
    assert fc.get_total_flops() == 2 * n * macs


@pytest.mark.parametrize("name", list(MODELS))
def test_flop_counter_runs(name: str) -> None:
    model = build(name, "cifar10", **({"width": 0.25} if name in ("mobilenetv1", "resnet20") else {}))
    with FlopCounterMode(display=False) as fc:
        model(torch.randn(1, 3, 32, 32))
    assert fc.get_total_flops() > 0


@pytest.mark.parametrize("name", list(MODELS))
def test_fx_symbolic_trace(name: str) -> None:
    model = build(name, "digits").eval()
    traced = torch.fx.symbolic_trace(model)
    x = torch.randn(4, 1, 8, 8)
    torch.testing.assert_close(traced(x), model(x))
    assert any(node.op == "call_module" for node in traced.graph.nodes)


@pytest.mark.parametrize("name", list(MODELS))
def test_backward(name: str) -> None:
    model = build(name, "digits", **({"width": 0.25} if name in ("mobilenetv1", "resnet20") else {}))
    loss = nn.functional.cross_entropy(model(torch.randn(4, 1, 8, 8)), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


# ----------------------------------------------------------------------------------------------------------
# It can learn


def _separable_problem(seed: int, n: int = 256, classes: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Each class is a fixed random ±1 image plus Gaussian noise: linearly separable by construction."""
    g = torch.Generator().manual_seed(0)
    templates = torch.randn(classes, 1, 8, 8, generator=g).sign()
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (n,), generator=g)
    return templates[y] + 0.8 * torch.randn(n, 1, 8, 8, generator=g), y


@pytest.mark.parametrize("name", ["mlp", "smallcnn"])
def test_models_learn_a_separable_problem(name: str) -> None:
    torch.manual_seed(0)
    x_train, y_train = _separable_problem(seed=1)
    x_test, y_test = _separable_problem(seed=2)
    model = build(name, "digits", num_classes=4, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for step in range(100):
        batch = torch.arange(step * 32, step * 32 + 32) % len(x_train)
        loss = nn.functional.cross_entropy(model(x_train[batch]), y_train[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    assert accuracy > 0.9  # chance is 0.25


# ----------------------------------------------------------------------------------------------------------
# TinyTransformer


@pytest.fixture
def lm() -> TinyTransformer:
    torch.manual_seed(0)
    return TinyTransformer(50, width=32, depth=2, heads=4, context=16).eval()


def test_transformer_shapes_and_loss_at_init(lm: TinyTransformer) -> None:
    idx = torch.randint(0, 50, (3, 16))
    assert lm(idx).shape == (3, 16, 50)
    targets = torch.randint(0, 50, (3, 16))  # independent of idx: tied weights favour repeating the input
    logits, loss = lm(idx, targets)
    assert logits.shape == (3, 16, 50) and loss.shape == ()
    assert abs(loss.item() - math.log(50)) < 0.5
    assert lm(idx[:, :5]).shape == (3, 5, 50)  # shorter sequences are fine
    loss.backward()
    assert lm.tok_emb.weight.grad is not None


def test_transformer_is_causal(lm: TinyTransformer) -> None:
    idx = torch.randint(0, 50, (2, 16))
    t = 6
    perturbed = idx.clone()
    perturbed[:, t + 1 :] = torch.randint(0, 50, (2, 16 - t - 1))
    assert not torch.equal(perturbed, idx)
    a, b = lm(idx), lm(perturbed)
    torch.testing.assert_close(a[:, : t + 1], b[:, : t + 1], rtol=0, atol=1e-6)
    assert not torch.allclose(a[:, t + 1 :], b[:, t + 1 :])


@pytest.mark.parametrize(
    ("vocab", "width", "depth", "context", "ratio"),
    [(50, 32, 2, 16, 4), (65, 128, 2, 128, 4), (3, 8, 1, 5, 2)],
)
def test_transformer_param_count_formula(vocab: int, width: int, depth: int, context: int, ratio: int) -> None:
    model = TinyTransformer(vocab, width=width, depth=depth, heads=2, context=context, mlp_ratio=ratio)
    expected = TinyTransformer.param_count_formula(vocab, width, depth, context, ratio)
    assert model.num_params() == sum(p.numel() for p in model.parameters()) == expected
    assert model.num_params(non_embedding=True) == expected - vocab * width - context * width


def test_transformer_weights_are_tied(lm: TinyTransformer) -> None:
    assert lm.lm_head.weight is lm.tok_emb.weight


def test_transformer_validation(lm: TinyTransformer) -> None:
    with pytest.raises(ValueError, match=re.escape("sequence length must be <= context=16, got T=17")):
        lm(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(TypeError, match="idx must be an integer"):
        lm(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="width must be divisible by heads, got width=30 and heads=4"):
        TinyTransformer(10, width=30, heads=4)
    for kwargs, message in [
        ({"context": 0}, "context must be a positive int (>= 1), got 0"),
        ({"context": -3}, "context must be a positive int (>= 1), got -3"),
        ({"depth": 0}, "depth must be a positive int (>= 1), got 0"),
        ({"heads": -2}, "heads must be a positive int (>= 1), got -2"),
        ({"dropout": 1.5}, "dropout must be in [0, 1), got 1.5"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            TinyTransformer(10, **kwargs)
    with pytest.raises(ValueError, match="vocab_size must be an int >= 2, got 1"):
        TinyTransformer(1)


def test_transformer_generate_is_seeded(lm: TinyTransformer) -> None:
    prompt = torch.zeros(2, 3, dtype=torch.long)
    out = lm.generate(prompt, 20, seed=0, top_k=5)  # 23 tokens > context 16: the prompt window is cropped
    assert out.shape == (2, 23) and torch.equal(out[:, :3], prompt)
    assert torch.equal(out, lm.generate(prompt, 20, seed=0, top_k=5))
    assert int(out.max()) < 50


def test_transformer_flops_and_fx(lm: TinyTransformer) -> None:
    idx = torch.randint(0, 50, (2, 16))
    with FlopCounterMode(display=False) as fc:
        lm(idx)
    assert fc.get_total_flops() > 0
    traced = torch.fx.symbolic_trace(lm, concrete_args={"targets": None})  # trace the logits-only path
    torch.testing.assert_close(traced(idx), lm(idx))
