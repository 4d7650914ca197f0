import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from effdl.compress.distill import DistillationLoss, HintProjection, distill, kd_loss, soften


def blobs(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    centers = torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    return centers[y] + 0.8 * torch.randn(n, 2, generator=g), y


def tiny_teacher():
    torch.manual_seed(0)
    # BatchNorm: running statistics would change if the teacher ran in training mode.
    return nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def tiny_student():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3))


def all_hooks(*models):
    return sum(len(m._forward_hooks) for model in models for m in model.modules())


# soften and kd_loss: exact values -------------------------------------------------------------------------


def test_soften_by_hand():
    # logits (2, 0) at T = 2 -> softmax(1, 0) = (e, 1) / (e + 1)
    p = soften(torch.tensor([2.0, 0.0]), 2.0)
    assert p.tolist() == pytest.approx([0.7310585786300049, 0.2689414213699951], abs=1e-7)
    x = torch.randn(4, 5)
    assert torch.allclose(soften(x, 1.0), torch.softmax(x, -1))
    # A higher temperature flattens: the top probability shrinks toward 1/C.
    assert soften(x, 10.0).max(-1).values.lt(soften(x, 1.0).max(-1).values).all()


def test_kd_loss_equals_the_hand_computed_value():
    # One example, 2 classes, T = 2, alpha = 0.5, label 0.
    # teacher (2, 0)/T = (1, 0) -> p_t = (0.7310586, 0.2689414); student (0, 0) -> p_s = (0.5, 0.5)
    # KL(p_t || p_s) = 0.7310586·ln(0.7310586/0.5) + 0.2689414·ln(0.2689414/0.5) = 0.1109441
    # CE(s, 0) = ln 2 = 0.6931472
    # loss = 0.5 · 2² · 0.1109441 + 0.5 · 0.6931472 = 0.2218881 + 0.3465736 = 0.5684617
    s, t, y = torch.tensor([[0.0, 0.0]]), torch.tensor([[2.0, 0.0]]), torch.tensor([0])
    assert kd_loss(s, t, y, T=2.0, alpha=0.5).item() == pytest.approx(0.5684617336234273, abs=1e-6)
    # The soft term alone, and its average over a batch (batchmean): two copies give the same value.
    assert kd_loss(s, t, y, T=2.0, alpha=1.0).item() == pytest.approx(4 * 0.11094407167172735, abs=1e-6)
    assert kd_loss(s.repeat(2, 1), t.repeat(2, 1), y.repeat(2), T=2.0, alpha=0.5).item() == pytest.approx(
        0.5684617336234273, abs=1e-6
    )


def test_t_squared_factor_value_and_gradient():
    torch.manual_seed(0)
    s, t, y = torch.randn(8, 10), torch.randn(8, 10), torch.randint(0, 10, (8,))
    for T in (1.0, 3.0, 7.0):
        kl = F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean")
        assert kd_loss(s, t, y, T=T, alpha=1.0).item() == pytest.approx(T * T * kl.item(), rel=1e-5)
    # Hinton et al. 2015, Sec. 2.1: at high T with zero-mean logits, d(soft)/dz ≈ (z − v) / (C · T²) per example;
    # the T² factor makes the gradient (z − v) / (N · C), the same at every temperature.
    s, t = s - s.mean(-1, keepdim=True), t - t.mean(-1, keepdim=True)
    expected = (s - t) / (8 * 10)
    grads = []
    for T in (50.0, 200.0):
        z = s.clone().requires_grad_()
        kd_loss(z, t, y, T=T, alpha=1.0).backward()
        grads.append(z.grad)
        assert torch.allclose(z.grad, expected, atol=0.02 * expected.abs().max().item())  # within 2%
    assert grads[0].norm().item() == pytest.approx(grads[1].norm().item(), rel=0.05)


def test_alpha_zero_is_plain_cross_entropy_and_identical_logits_give_zero_kl():
    torch.manual_seed(0)
    s, t, y = torch.randn(6, 4), torch.randn(6, 4), torch.randint(0, 4, (6,))
    assert kd_loss(s, t, y, T=4.0, alpha=0.0).item() == F.cross_entropy(s, y).item()
    assert kd_loss(s, s, y, T=4.0, alpha=1.0).item() == pytest.approx(0.0, abs=1e-6)
    assert kd_loss(s, s, y, T=4.0, alpha=0.9).item() == pytest.approx(0.1 * F.cross_entropy(s, y).item(), rel=1e-5)


def test_teacher_logits_get_no_gradient():
    s = torch.randn(3, 4, requires_grad=True)
    t = torch.randn(3, 4, requires_grad=True)
    kd_loss(s, t, torch.tensor([0, 1, 2]), T=2.0, alpha=0.5).backward()
    assert s.grad is not None and t.grad is None


def test_bad_inputs_raise_clear_errors():
    s, y = torch.zeros(2, 3), torch.tensor([0, 1])
    with pytest.raises(ValueError, match=r"T \(temperature\) must be a finite number > 0, got 0"):
        kd_loss(s, s, y, T=0)
    with pytest.raises(ValueError, match="got -1"):
        soften(s, -1.0)
    with pytest.raises(ValueError, match=r"alpha .* must be in \[0, 1\], got 1.5"):
        kd_loss(s, s, y, alpha=1.5)
    with pytest.raises(ValueError, match=r"must be in \[0, 1\], got -0.1"):
        DistillationLoss(tiny_teacher(), alpha=-0.1)
    with pytest.raises(ValueError, match="same shape"):
        kd_loss(s, torch.zeros(2, 4), y)
    with pytest.raises(ValueError, match=r"targets must have shape \(2,\)"):
        kd_loss(s, s, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="only when alpha == 1"):
        kd_loss(s, s, None, alpha=0.5)
    with pytest.raises(TypeError, match="T"):
        kd_loss(s, s, y, T="4")
    with pytest.raises(TypeError, match=r"targets must be integer class indices \(int64\), got dtype torch\.float32"):
        kd_loss(s, s, y.float())
    with pytest.raises(ValueError, match=r"targets must be class indices in 0\.\.2, got \[3\]"):
        kd_loss(s, s, torch.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"targets must be class indices in 0\.\.2, got \[-2\]"):
        kd_loss(s, s, torch.tensor([-2, 1]))
    assert torch.isfinite(kd_loss(s, s, torch.tensor([-100, 1]), alpha=0.0))  # cross_entropy's ignore_index
    with pytest.raises(ValueError, match="student_logits must hold at least one example"):
        kd_loss(torch.zeros(0, 3), torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match=r"student_shape must hold positive ints, got \(-1,\)"):
        HintProjection((-1,), (3,))
    with pytest.raises(TypeError, match="teacher_shape must be a non-empty tuple of ints"):
        HintProjection((4,), "abc")
    with pytest.raises(TypeError, match="eval_ce must be a bool, got 'no'"):
        DistillationLoss(tiny_teacher(), eval_ce="no")
    with pytest.raises(TypeError, match="cache_teacher must be a bool"):
        DistillationLoss(tiny_teacher(), cache_teacher=1)
    x, yy = blobs(8)
    teacher, student = tiny_teacher(), tiny_student()
    with pytest.raises(ValueError, match=r"hint layer 'features\.9' is not a module of the student.*'0', '1', '2'"):
        distill(teacher, student, (x, yy), hint=("features.9", "2"), progress=False)
    with pytest.raises(ValueError, match="hint layer 'nope' is not a module of the teacher"):
        distill(teacher, student, (x, yy), hint=("1", "nope"), progress=False)
    with pytest.raises(ValueError, match="hint must be a pair"):
        distill(teacher, student, (x, yy), hint="1", progress=False)
    assert all_hooks(teacher, student) == 0  # a failed set-up leaves no hook behind


# DistillationLoss and distill -----------------------------------------------------------------------------


def test_distill_trains_the_student_and_leaves_the_teacher_alone():
    x, y = blobs()
    teacher = tiny_teacher()
    teacher.train()  # the flag must come back as it was
    before = {k: v.clone() for k, v in teacher.state_dict().items()}  # BatchNorm running stats included
    student = tiny_student()
    s_before = [p.clone() for p in student.parameters()]
    hist = distill(teacher, student, (x, y), T=2.0, alpha=0.5, epochs=3, lr=1e-2, batch_size=32, val=(x, y))
    assert hist.epoch == [1, 2, 3] and hist.steps == 9 and len(hist.val_accuracy) == 3
    assert teacher.training
    for k, v in teacher.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert all(p.grad is None for p in teacher.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(s_before, student.parameters(), strict=True))


def test_distill_matches_fit_with_the_loss():
    # distill is fit + DistillationLoss: same seed, same weights.
    from effdl.core.train import fit

    x, y = blobs()
    teacher = tiny_teacher().eval()
    a, b = tiny_student(), tiny_student()
    distill(teacher, a, (x, y), T=3.0, alpha=0.7, epochs=2, lr=1e-2, batch_size=32, seed=3)
    fit(b, (x, y), loss=DistillationLoss(teacher, T=3.0, alpha=0.7), epochs=2, lr=1e-2, batch_size=32, seed=3)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_the_loss_holds_no_teacher_parameters_but_moves_the_teacher():
    teacher = tiny_teacher()
    loss = DistillationLoss(teacher)
    assert list(loss.parameters()) == []  # fit trains a loss's parameters: the teacher's must not be among them
    loss.double()
    assert next(teacher.parameters()).dtype == torch.float64


def test_hint_projection_shapes():
    assert isinstance(HintProjection((4, 8, 8), (16, 4, 4)).proj, nn.Conv2d)
    assert HintProjection((4, 8, 8), (16, 4, 4))(torch.zeros(2, 4, 8, 8)).shape == (2, 16, 4, 4)
    assert HintProjection((4, 8, 8), (16, 8, 8))(torch.zeros(2, 4, 8, 8)).shape == (2, 16, 8, 8)
    assert HintProjection((32,), (64,))(torch.zeros(2, 32)).shape == (2, 64)
    assert HintProjection((4, 2, 2), (10,))(torch.zeros(3, 4, 2, 2)).shape == (3, 10)


def test_hint_loss_trains_a_projection_and_its_hooks_are_removed():
    x, y = blobs()
    teacher, student = tiny_teacher(), tiny_student()
    # Student hidden ReLU (4 units) -> teacher hidden ReLU (8 units): a Linear(4, 8) projection.
    loss = DistillationLoss(teacher, student=student, hint=("1", "2"), hint_weight=0.5, example=x[:1])
    assert isinstance(loss.projection, HintProjection) and isinstance(loss.projection.proj, nn.Linear)
    assert loss.projection.proj.weight.shape == (8, 4)
    assert all_hooks(teacher, student) == 2
    out = student(x[:16])
    with_hint = loss(out, y[:16], x[:16])
    plain = kd_loss(out, loss.teacher_logits(x[:16]), y[:16], T=4.0, alpha=0.9)
    assert with_hint.item() > plain.item()  # the MSE term is there
    loss.remove_hooks()
    assert all_hooks(teacher, student) == 0

    hist = distill(teacher, student, (x, y), hint=("1", "2"), hint_weight=0.5, epochs=2, lr=1e-2, batch_size=32)
    assert hist.steps == 6 and math.isfinite(hist.train_loss[-1])
    assert all_hooks(teacher, student) == 0


def test_hooks_are_removed_when_training_fails():
    x, y = blobs()
    teacher, student = tiny_teacher(), tiny_student()
    with pytest.raises(ValueError, match="lr"):
        distill(teacher, student, (x, y), hint=("1", "2"), lr=-1.0)
    assert all_hooks(teacher, student) == 0
    assert teacher.training  # restored by the shape probe too


def test_distill_argument_checks():
    x, y = blobs(8)
    teacher = tiny_teacher()
    with pytest.raises(TypeError, match="loss"):
        distill(teacher, tiny_student(), (x, y), loss=None)
    with pytest.raises(ValueError, match="different modules"):
        distill(teacher, teacher, (x, y))
    with pytest.raises(TypeError, match=r"student must be a torch\.nn\.Module"):
        distill(teacher, "mlp", (x, y))


def test_validation_reports_the_students_cross_entropy_without_running_the_teacher():
    x, y = blobs()
    teacher, student = tiny_teacher(), tiny_student()
    calls = []
    teacher.register_forward_hook(lambda m, i, o: calls.append(1))
    loss = DistillationLoss(teacher, T=2.0, alpha=0.5)
    out = student(x)
    with torch.no_grad():
        assert loss(out, y, x).item() == pytest.approx(F.cross_entropy(out, y).item())
    assert calls == []
    assert loss(out, y, x).item() != pytest.approx(F.cross_entropy(out, y).item())  # with gradients: the KD loss
    assert calls == [1]
    with torch.no_grad():
        assert DistillationLoss(teacher, eval_ce=False)(out, y, x).item() == pytest.approx(
            kd_loss(out, teacher.eval()(x), y).item()
        )
    teacher._forward_hooks.clear()
    hist = distill(teacher, student, (x, y), epochs=2, lr=1e-2, batch_size=32, val=(x, y))
    from effdl.core.train import evaluate

    res = evaluate(student, (x, y))
    assert hist.val_loss[-1] == pytest.approx(res.loss) and hist.val_accuracy[-1] == res.accuracy


def test_alpha_zero_trains_exactly_like_fit_alone():
    from effdl.core.train import fit

    x, y = blobs()
    a, b = tiny_student(), tiny_student()
    distill(tiny_teacher(), a, (x, y), alpha=0.0, epochs=2, lr=1e-2, batch_size=32, seed=5)
    fit(b, (x, y), epochs=2, lr=1e-2, batch_size=32, seed=5)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_cache_teacher_runs_the_teacher_once_per_example_with_the_same_result():
    x, y = blobs()
    teacher = tiny_teacher().eval()
    seen = []
    handle = teacher.register_forward_hook(lambda m, i, o: seen.append(i[0].shape[0]))
    a, b = tiny_student(), tiny_student()
    distill(teacher, a, (x, y), T=2.0, alpha=0.5, epochs=3, lr=1e-2, batch_size=32)
    assert sum(seen) == 3 * 96
    seen.clear()
    distill(teacher, b, (x, y), T=2.0, alpha=0.5, epochs=3, lr=1e-2, batch_size=32, cache_teacher=True)
    assert sum(seen) == 96  # the first epoch only
    handle.remove()
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-5)
    loss = DistillationLoss(teacher, cache_teacher=True)
    assert torch.equal(loss.teacher_logits(x[:5]), loss.teacher_logits(x[:5]))
    assert len(loss._cache) == 5
    loss.clear_cache()
    assert not loss._cache
    with pytest.raises(ValueError, match="cache_teacher"):
        distill(teacher, tiny_student(), (x, y), hint=("1", "2"), cache_teacher=True)
