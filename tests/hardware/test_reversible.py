"""Reversible networks: exact inverse, memory-saving gradients = autograd's, flat activation memory, BFP/noise."""

from __future__ import annotations

import copy
import functools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import effdl
from effdl.core.footprint import saved_activation_bytes
from effdl.core.models import ImageClassifier
from effdl.hardware.reversible import (
    AdditiveCoupling,
    PlainResNet,
    ReversibleSequence,
    RevNet,
    bfp_round,
    read_noise,
    reconstruction_error,
    residual_function,
)


def stack(depth: int, channels: int = 8, *, memory_saving: bool = True, seed: int = 0, **kw) -> ReversibleSequence:
    torch.manual_seed(seed)
    half = channels // 2
    blocks = [AdditiveCoupling(residual_function(half), residual_function(half)) for _ in range(depth)]
    return ReversibleSequence(blocks, memory_saving=memory_saving, **kw)


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).detach().norm() / b.detach().norm())


def max_rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest absolute difference, relative to the largest entry of the reference ``b``."""
    return float((a - b).abs().max() / b.abs().max())


def small_revnet(depth: int = 3, **kw) -> RevNet:
    torch.manual_seed(0)
    return RevNet((1, 8, 8), 10, channels=16, depth=depth, **kw)


# ----------------------------------------------------------------------------------------------------------
# The coupling and its inverse


def test_coupling_computes_the_documented_formula_and_inverts_it() -> None:
    torch.manual_seed(0)
    f, g = nn.Conv2d(3, 3, 3, padding=1), nn.Conv2d(3, 3, 1)
    block = AdditiveCoupling(f, g)
    x = torch.randn(2, 6, 5, 5)
    y = block(x)
    x1, x2 = x[:, :3], x[:, 3:]
    y1 = x1 + f(x2)
    assert torch.equal(y, torch.cat((y1, x2 + g(y1)), dim=1))
    assert rel_err(block.inverse(y), x) < 1e-6
    # works on any (N, C, ...) layout, e.g. token features (N, C)
    lin = AdditiveCoupling(nn.Linear(2, 2), nn.Linear(2, 2))
    v = torch.randn(7, 4)
    assert rel_err(lin.inverse(lin(v)), v) < 1e-6


@pytest.mark.parametrize("train", [True, False])
def test_deep_stack_inverse_reconstructs_to_1e5(train: bool) -> None:
    seq = stack(8, channels=16)
    with torch.no_grad():  # non-trivial running statistics and BN affine parameters
        for m in seq.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    seq.train(train)
    x = torch.randn(8, 16, 7, 7, generator=torch.Generator().manual_seed(1))
    before = [b.clone() for b in seq.buffers()]
    assert reconstruction_error(seq, x) <= 1e-5  # 8 blocks, fp32: about 2e-7
    assert all(torch.equal(a, b) for a, b in zip(before, seq.buffers(), strict=True))
    with torch.no_grad():
        y = seq(x)  # in training mode this updates the running statistics once
    after_forward = [b.clone() for b in seq.buffers()]
    x_hat = seq.inverse(y)  # differentiable, and BN normalizes with the forward's batch statistics
    assert rel_err(x_hat, x) <= 1e-5
    assert all(torch.equal(a, b) for a, b in zip(after_forward, seq.buffers(), strict=True)), "inverse moved stats"


# ----------------------------------------------------------------------------------------------------------
# The memory-saving backward


def _loss_and_grads(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    x = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    return loss.detach(), [x.grad, *(p.grad for p in model.parameters())]


def test_memory_saving_gradients_equal_plain_autograd() -> None:
    saving = small_revnet(depth=4)
    plain = copy.deepcopy(saving)
    plain.features.blocks.memory_saving = False
    x = torch.randn(8, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    y = torch.arange(8) % 10
    loss_s, grads_s = _loss_and_grads(saving, x, y)
    loss_p, grads_p = _loss_and_grads(plain, x, y)
    assert torch.allclose(loss_s, loss_p, rtol=1e-6, atol=0)
    assert len(grads_s) == 1 + len(list(saving.parameters()))
    for a, b in zip(grads_s, grads_p, strict=True):
        assert a is not None and b is not None and b.abs().max() > 0
        assert max_rel_diff(a, b) <= 1e-4
    # BatchNorm running statistics were updated exactly once per forward, as plain autograd does
    for (name, a), b in zip(saving.named_buffers(), plain.buffers(), strict=True):
        assert torch.allclose(a.float(), b.float(), rtol=1e-5, atol=1e-6), name
    nbt = [b for n, b in saving.named_buffers() if n.endswith("num_batches_tracked")]
    assert nbt and all(int(b) == 1 for b in nbt)


def test_memory_saving_fit_step_matches_plain_fit_step() -> None:
    saving = small_revnet(depth=2)
    plain = copy.deepcopy(saving)
    plain.features.blocks.memory_saving = False
    gen = torch.Generator().manual_seed(3)
    data = (torch.randn(32, 1, 8, 8, generator=gen), torch.randint(0, 10, (32,), generator=gen))
    for model in (saving, plain):
        effdl.fit(model, data, epochs=1, batch_size=16, lr=1e-2, optimizer="sgd", seed=0, progress=False)
    for (name, a), b in zip(saving.named_parameters(), plain.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-6), name


def test_shared_and_frozen_parameters_get_the_right_gradients() -> None:
    torch.manual_seed(0)
    f, g = residual_function(2), residual_function(2)
    g[2].weight.requires_grad_(False)  # a frozen conv inside G
    blocks = [AdditiveCoupling(f, g), AdditiveCoupling(f, g)]  # the same F and G in both blocks: grads add up
    saving = ReversibleSequence(blocks)
    plain = copy.deepcopy(saving)
    plain.memory_saving = False
    x = torch.randn(3, 4, 5, 5)
    w = torch.randn(3, 4, 5, 5)
    for model in (saving, plain):
        (model(x) * w).sum().backward()
    for (name, a), b in zip(saving.named_parameters(), plain.parameters(), strict=True):
        if not a.requires_grad:
            assert a.grad is None and b.grad is None, name
        else:
            assert max_rel_diff(a.grad, b.grad) <= 1e-4, name


def test_eval_mode_and_inference_agree_with_plain_autograd() -> None:
    saving = stack(3, channels=8).eval()  # BN on running statistics, e.g. fine-tuning with frozen stats
    plain = copy.deepcopy(saving)
    plain.memory_saving = False
    x = torch.randn(2, 8, 4, 4)
    with torch.no_grad():
        ref = plain(x)
        assert torch.equal(saving(x), ref)  # no graph needed: the plain loop, nothing kept
    xs, xp = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out = saving(xs)
    assert type(out.grad_fn).__name__ == "_ReversibleFunctionBackward"
    assert torch.allclose(out, ref, rtol=0, atol=1e-6)
    out.pow(2).sum().backward()
    plain(xp).pow(2).sum().backward()
    assert max_rel_diff(xs.grad, xp.grad) <= 1e-4


def test_dropout_is_rejected_on_the_memory_saving_path_in_training_only() -> None:
    torch.manual_seed(0)
    f = nn.Sequential(nn.Conv2d(2, 2, 1), nn.Dropout(0.5))
    seq = ReversibleSequence([AdditiveCoupling(f, nn.Conv2d(2, 2, 1))])
    x = torch.randn(2, 4, 3, 3)
    with pytest.raises(ValueError, match="dropout is not reproduced"):
        seq(x)
    seq.eval()
    seq(x).sum().backward()  # eval: dropout is the identity
    seq.train()
    seq.memory_saving = False
    seq(x).sum().backward()  # plain autograd handles dropout


# ----------------------------------------------------------------------------------------------------------
# Activation memory


def _revnet_bytes(n: int, c: int, side: int, c_in: int = 1, in_side: int = 8) -> int:
    """What RevNet((c_in, in_side, in_side), channels=c, stem_stride=2) keeps for backward, by hand (fp32):
    the batch (stem conv), the stem conv's output (BN), the stem ReLU's output, the stack's output (only it),
    the head ReLU's output and the pooled features (side×side grid), plus BN's batch mean and 1/std (c each)
    for the two BNs outside the stack."""
    act = n * c * side * side * 4
    return n * c_in * in_side * in_side * 4 + 5 * act + 2 * 2 * c * 4


def test_activation_memory_is_flat_in_depth_and_3x_below_the_standard_net() -> None:
    x = torch.randn(8, 1, 8, 8)
    rev = {d: saved_activation_bytes(small_revnet(d), x) for d in (1, 2, 4, 8)}
    assert set(rev.values()) == {_revnet_bytes(8, 16, 4)}  # 43,264 bytes at every depth
    torch.manual_seed(0)
    plain = {d: saved_activation_bytes(PlainResNet((1, 8, 8), channels=16, depth=d), x) for d in (1, 2, 8)}
    unsaved = {d: saved_activation_bytes(small_revnet(d, memory_saving=False), x) for d in (1, 2, 8)}
    assert plain[8] >= 3 * rev[8]  # 150,656 bytes: 3.5×
    assert unsaved[8] >= 3 * rev[8]  # 199,936 bytes: 4.6×
    # The standard nets grow linearly. PlainResNet, per unit of depth: two residual functions, each keeping its
    # BN input and ReLU output (8·8·4·4·4 bytes each) and BN's batch mean and 1/std (2·8·4 bytes).
    half = 8 * 8 * 4 * 4 * 4
    assert plain[2] - plain[1] == (plain[8] - plain[1]) // 7 == 2 * (2 * half + 2 * 8 * 4) == 16_512
    # The same couplings under plain autograd, per block: its output (read by the next BN), y1, two ReLU outputs.
    assert unsaved[2] - unsaved[1] == (unsaved[8] - unsaved[1]) // 7 == 2 * half + 3 * half + 2 * (2 * 8 * 4)


def test_memory_saving_flag_switches_what_is_kept() -> None:
    seq = stack(4, channels=8)
    x = torch.randn(2, 8, 3, 3)
    kept = saved_activation_bytes(seq, x)
    assert kept == 2 * 8 * 3 * 3 * 4  # the output alone; the input is not kept, it is rebuilt
    seq.memory_saving = False
    assert saved_activation_bytes(seq, x) > 4 * kept


# ----------------------------------------------------------------------------------------------------------
# Stored-tensor models


def test_bfp_round_exact_values() -> None:
    x = torch.tensor([1.0, 0.3, -0.7, 0.01, 0.0, 0.0, 0.0, 0.0, 3.0, -0.26])
    out = bfp_round(x, mantissa_bits=4, group_size=4)
    # group 1: max 1.0 -> exponent 1, step 2**(1-4) = 1/8; group 2: all zero; group 3 (short): max 3 -> step 1/4
    expected = torch.tensor([1.0, 0.25, -0.75, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0, -0.25])
    assert torch.equal(out, expected)
    assert out.dtype == x.dtype and out.shape == x.shape
    # a value that would round up to 2**bits is capped: 0.999 with step 1/2 -> q = 1 (2**1 - 1), not 2
    assert torch.equal(bfp_round(torch.tensor([0.999]), mantissa_bits=1, group_size=1), torch.tensor([0.5]))
    # half to even: 0.3125 / (1/16) = 5 exactly; 0.28125 / (1/16) = 4.5 -> 4
    assert torch.equal(
        bfp_round(torch.tensor([0.5, 0.28125]), mantissa_bits=4, group_size=2), torch.tensor([0.5, 0.25])
    )
    # shape kept for N-D input, groups run in row-major order
    y = torch.randn(3, 4, 5)
    out = bfp_round(y, mantissa_bits=8, group_size=5)
    assert out.shape == y.shape
    step = torch.ldexp(torch.ones(12, 1), torch.frexp(y.view(12, 5).abs().amax(1, keepdim=True))[1] - 8)
    assert ((out - y).view(12, 5).abs() <= step / 2).all()
    assert torch.equal(bfp_round(out, mantissa_bits=8, group_size=5), out)  # idempotent


def test_read_noise_exact_and_seeded() -> None:
    x = torch.arange(6.0).view(2, 3)
    noisy = read_noise(x, sigma=0.5, seed=7)
    expected = x + 0.5 * torch.randn((2, 3), generator=torch.Generator().manual_seed(7))
    assert torch.equal(noisy, expected)
    assert torch.equal(read_noise(x, sigma=0.5, seed=7), noisy)
    assert not torch.equal(read_noise(x, sigma=0.5, seed=8), noisy)
    assert torch.equal(read_noise(x, sigma=0, seed=None), x)
    big = read_noise(torch.zeros(100_000), sigma=0.1, seed=0)
    assert abs(float(big.std()) - 0.1) < 0.002


def test_store_is_applied_to_the_kept_output_and_grows_reconstruction_error() -> None:
    store = functools.partial(bfp_round, mantissa_bits=6, group_size=16)
    seq = stack(4, channels=8, store=store)
    x = torch.randn(4, 8, 5, 5, requires_grad=True)
    out = seq(x)
    with torch.no_grad():
        plain = stack(4, channels=8)(x)
    assert torch.equal(out.detach(), store(plain))
    out.sum().backward()  # straight through the rounding
    assert x.grad is not None and torch.isfinite(x.grad).all()
    exact = reconstruction_error(seq, x.detach())
    coarse = reconstruction_error(seq, x.detach(), store=store)
    noisy = reconstruction_error(seq, x.detach(), store=functools.partial(read_noise, sigma=1e-2, seed=0))
    assert exact < 1e-6 < coarse and exact < 1e-6 < noisy


# ----------------------------------------------------------------------------------------------------------
# Models


def test_models_shapes_parameter_counts_and_fit() -> None:
    rev, plain = RevNet(), PlainResNet()
    assert isinstance(rev, ImageClassifier) and isinstance(plain, ImageClassifier)
    c, d = 64, 4
    h = c // 2
    per_fn = 9 * h * h + 2 * h  # BN (2·h) + conv3×3 without bias
    grid = 4 * 4
    rev_count = (9 * c + 2 * c) + 2 * d * per_fn + (2 * c + c * grid * 10 + 10)
    plain_count = (9 * h + 2 * h) + 2 * d * per_fn + (2 * h + h * grid * 10 + 10)
    assert effdl.count_params(rev) == rev_count == 85_322
    assert effdl.count_params(plain) == plain_count == 79_786
    x = torch.randn(3, 1, 28, 28)
    assert rev(x).shape == plain(x).shape == (3, 10)
    assert torch.equal(rev(x), rev.classifier(rev.features(x)))
    # tiny inputs: the head's grid is capped at the feature map
    tiny = RevNet((3, 8, 8), 5, channels=4, depth=1, stem_stride=4)
    assert tiny(torch.randn(2, 3, 8, 8)).shape == (2, 5)
    fp = effdl.footprint(small_revnet(), torch.randn(1, 1, 8, 8))
    assert fp.params == effdl.count_params(small_revnet()) and fp.macs > 0


# ----------------------------------------------------------------------------------------------------------
# Bad input


def test_bad_input_raises_clear_errors() -> None:
    block = AdditiveCoupling(nn.Identity(), nn.Identity())
    with pytest.raises(ValueError, match=r"even x\.shape\[1\]; got shape \(2, 3, 4\)"):
        block(torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match="even"):
        block.inverse(torch.randn(2, 5))
    with pytest.raises(TypeError, match=r"x must be a torch\.Tensor, got list"):
        block([1.0, 2.0])
    with pytest.raises(ValueError, match=r"F must map a half of shape \(2, 2\) to the same shape, got \(2, 3\)"):
        AdditiveCoupling(nn.Linear(2, 3), nn.Identity())(torch.randn(2, 4))
    with pytest.raises(TypeError, match=r"f must be a torch\.nn\.Module, got builtin_function_or_method"):
        AdditiveCoupling(torch.relu, nn.Identity())
    with pytest.raises(ValueError, match="non-empty sequence of AdditiveCoupling, got an empty one"):
        ReversibleSequence([])
    with pytest.raises(TypeError, match="non-empty sequence of AdditiveCoupling, got AdditiveCoupling"):
        ReversibleSequence(block)
    assert len(ReversibleSequence(nn.ModuleList([block, block])).blocks) == 2
    with pytest.raises(TypeError, match="AdditiveCoupling modules, got Linear"):
        ReversibleSequence([nn.Linear(2, 2)])
    with pytest.raises(TypeError, match="memory_saving must be a bool"):
        ReversibleSequence([block], memory_saving=1)
    with pytest.raises(TypeError, match="store must be None or a callable"):
        ReversibleSequence([block], store=3)
    with pytest.raises(ValueError, match="depth must be an int >= 1, got 0"):
        RevNet(depth=0)
    with pytest.raises(ValueError, match=r"channels must be an even int >= 2 .*, got 3"):
        RevNet(channels=3)
    with pytest.raises(ValueError, match=r"channels must be an even int >= 2 .*, got 0"):
        PlainResNet(channels=0)
    with pytest.raises(TypeError, match=r"channels must be an even int >= 2 \(split into two halves\), got 16\.0"):
        RevNet(channels=16.0)
    with pytest.raises(ValueError, match="in_shape must be"):
        RevNet(in_shape=(28, 28))
    with pytest.raises(ValueError, match="num_classes must be an int >= 2"):
        PlainResNet(num_classes=1)
    with pytest.raises(ValueError, match="stem_stride must be an int >= 1"):
        RevNet(stem_stride=0)
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 1, 28, 28\)"):
        RevNet()(torch.randn(2, 1, 8, 8))
    with pytest.raises(TypeError, match="stack must be a ReversibleSequence"):
        reconstruction_error(block, torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"mantissa_bits must be an int in 1\.\.23"):
        bfp_round(torch.randn(4), mantissa_bits=24, group_size=2)
    with pytest.raises(ValueError, match="group_size must be an int >= 1, got 0"):
        bfp_round(torch.randn(4), mantissa_bits=4, group_size=0)
    with pytest.raises(TypeError, match="floating-point"):
        bfp_round(torch.arange(4), mantissa_bits=4, group_size=2)
    with pytest.raises(ValueError, match="finite"):
        bfp_round(torch.tensor([1.0, float("inf")]), mantissa_bits=4, group_size=2)
    with pytest.raises(ValueError, match="sigma must be a finite number >= 0, got -1"):
        read_noise(torch.zeros(2), sigma=-1)
    with pytest.raises(TypeError, match="seed must be an int or None"):
        read_noise(torch.zeros(2), sigma=1.0, seed=1.5)
