"""Knowledge distillation: a trained *teacher* teaches a smaller *student* (Hinton et al. 2015; FitNets hints).

The student learns from the teacher's *softened* output distribution ``softmax(teacher_logits / T)``: at a
temperature ``T > 1`` the small probabilities the teacher gives to the wrong classes ("this 7 looks a bit like a 1")
become visible, and they carry far more information per example than a one-hot label — Hinton's "dark knowledge".

Convention for the weight ``alpha`` (used everywhere in effdl)::

    loss = alpha · T² · KL(softmax(t / T) ‖ softmax(s / T))  +  (1 − alpha) · CE(s, y)

``alpha`` is the weight of the *soft* (teacher) term: ``alpha = 0`` is plain cross-entropy on the labels, ``alpha = 1``
learns from the teacher alone. The ``T²`` factor keeps the soft term's gradients (which scale as ``1/T²``) on the
same scale as the hard term's when ``T`` changes, so ``alpha`` means the same thing at every temperature.

- :func:`soften` — softened probabilities; :func:`kd_loss` — the loss above on logits.
- :class:`DistillationLoss` — an ``nn.Module`` loss ``(student_logits, targets, inputs)`` that runs the frozen teacher
  (eval mode, no gradients) on the inputs, with an optional FitNets *hint* term: a learned projection maps a student
  layer's output to a teacher layer's shape and is trained with the student to match it (mean squared error).
- :func:`distill` — the training loop: :func:`effdl.core.train.fit` with a :class:`DistillationLoss`.
"""

from __future__ import annotations

import hashlib
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from effdl.core.checks import check_bool, is_int
from effdl.core.train import Data, History, fit

__all__ = ["DistillationLoss", "HintProjection", "distill", "kd_loss", "soften"]


# ----------------------------------------------------------------------------------------------------------
# Argument checks


def _check_T(T: object) -> float:
    if isinstance(T, bool) or not isinstance(T, numbers.Real):
        raise TypeError(f"T (temperature) must be a number > 0, got {T!r}")
    if not (math.isfinite(T) and T > 0):
        raise ValueError(f"T (temperature) must be a finite number > 0, got {T}")
    return float(T)


def _check_alpha(alpha: object) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"alpha must be a number in [0, 1], got {alpha!r}")
    if not 0.0 <= alpha <= 1.0:  # NaN fails this too
        raise ValueError(f"alpha (weight of the soft teacher term) must be in [0, 1], got {alpha}")
    return float(alpha)


def _check_weight(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number ≥ 0, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number ≥ 0, got {value}")
    return float(value)


def _check_logits(name: str, logits: object) -> Tensor:
    if not isinstance(logits, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of logits (N, C), got {type(logits).__name__}")
    if logits.dim() < 1 or logits.shape[-1] < 1 or not logits.is_floating_point():
        raise ValueError(f"{name} must be float logits of shape (..., C), got {logits.dtype} {tuple(logits.shape)}")
    return logits


def _check_shape(name: str, shape: object) -> tuple[int, ...]:
    if isinstance(shape, str | bytes) or not isinstance(shape, Sequence) or len(shape) == 0:
        raise TypeError(f"{name} must be a non-empty tuple of ints (a feature shape without the batch), got {shape!r}")
    if not all(is_int(d) and d >= 1 for d in shape):
        raise ValueError(f"{name} must hold positive ints, got {tuple(shape)}")
    return tuple(int(d) for d in shape)


def _logits_of(out: Any) -> Tensor:
    # Models that also return a loss or features (e.g. (logits, loss)) put the logits first, as fit() assumes.
    return out[0] if isinstance(out, tuple | list) else out


# ----------------------------------------------------------------------------------------------------------
# The loss


def soften(logits: Tensor, T: float = 1.0) -> Tensor:
    """Softened probabilities ``softmax(logits / T)`` over the last dimension (shape kept; ``T > 0``, default 1).

    ``T = 1`` is the ordinary softmax; larger ``T`` flattens the distribution toward uniform, smaller sharpens it.
    """
    logits = _check_logits("logits", logits)
    return torch.softmax(logits / _check_T(T), dim=-1)


def kd_loss(
    student_logits: Tensor,
    teacher_logits: Tensor,
    targets: Tensor | None,
    *,
    T: float = 4.0,
    alpha: float = 0.9,
) -> Tensor:
    """Hinton's distillation loss, a scalar averaged over the examples.

    ``alpha · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − alpha) · CE(s, y)``, with the KL divergence summed over the
    C classes and averaged over the N examples (``F.kl_div(..., reduction="batchmean")``) and the cross-entropy
    averaged over the N examples.

    Args:
        student_logits: ``(N, C)`` (or ``(..., C)``, flattened to ``(-1, C)``) raw student outputs; gradients flow.
        teacher_logits: same shape; treated as a constant target (detached).
        targets: ``(N,)`` (or ``(...)``) int64 class labels; may be ``None`` only when ``alpha == 1``.
        T: temperature > 0 (default 4) applied to both logits in the soft term only; the hard term uses ``T = 1``.
        alpha: weight of the soft term in [0, 1] (default 0.9): 0 is plain cross-entropy, 1 the teacher alone.
    """
    s = _check_logits("student_logits", student_logits)
    t = _check_logits("teacher_logits", teacher_logits)
    if s.shape != t.shape:
        raise ValueError(
            f"student_logits and teacher_logits must have the same shape, got {tuple(s.shape)} and {tuple(t.shape)}"
        )
    if s.numel() == 0:  # the batch means would be 0/0 = NaN
        raise ValueError(f"student_logits must hold at least one example, got shape {tuple(s.shape)}")
    T, alpha = _check_T(T), _check_alpha(alpha)
    s2, t2 = s.reshape(-1, s.shape[-1]), t.detach().reshape(-1, t.shape[-1]).to(s.dtype)
    soft = F.kl_div(
        F.log_softmax(s2 / T, dim=-1), F.log_softmax(t2 / T, dim=-1), reduction="batchmean", log_target=True
    )
    if targets is None:
        if alpha != 1.0:
            raise ValueError(f"targets may be None only when alpha == 1 (teacher alone), got alpha={alpha}")
        return T * T * soft
    if not isinstance(targets, Tensor):
        raise TypeError(f"targets must be a torch.Tensor of class indices, got {type(targets).__name__}")
    if targets.shape != s.shape[:-1]:
        raise ValueError(
            f"targets must have shape {tuple(s.shape[:-1])} for logits of shape {tuple(s.shape)}, "
            f"got {tuple(targets.shape)}"
        )
    if targets.is_floating_point() or targets.is_complex() or targets.dtype == torch.bool:
        raise TypeError(f"targets must be integer class indices (int64), got dtype {targets.dtype}")
    # Checked here: cross_entropy raises an IndexError on CPU and a device-side assert on CUDA. -100 is its
    # default ignore_index, a valid "no label" marker.
    n_classes = s.shape[-1]
    out_of_range = ((targets < 0) & (targets != -100)) | (targets >= n_classes)
    if bool(out_of_range.any()):
        bad = targets[out_of_range]
        raise ValueError(f"targets must be class indices in 0..{n_classes - 1}, got {bad.unique()[:5].tolist()}")
    hard = F.cross_entropy(s2, targets.reshape(-1))
    # alpha = 0 must give exactly the cross-entropy (no 0 · KL rounding noise), alpha = 1 exactly the soft term.
    if alpha == 0.0:
        return hard
    if alpha == 1.0:
        return T * T * soft
    return alpha * T * T * soft + (1.0 - alpha) * hard


# ----------------------------------------------------------------------------------------------------------
# Hints (FitNets): match an intermediate student layer to a teacher layer through a learned projection


class HintProjection(nn.Module):
    """Maps a student feature ``(N, *s_shape)`` to the teacher feature's shape ``(N, *t_shape)`` (Romero et al. 2015).

    - both maps ``(C, H, W)``: a 1×1 convolution ``C_s → C_t``, then adaptive average pooling to ``(H_t, W_t)``
      when the spatial sizes differ;
    - otherwise (vectors, or mixed): flatten, a ``Linear(prod(s_shape), prod(t_shape))``, reshape.
    """

    def __init__(self, student_shape: tuple[int, ...], teacher_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.student_shape = _check_shape("student_shape", student_shape)
        self.teacher_shape = _check_shape("teacher_shape", teacher_shape)
        self.proj: nn.Module
        if len(self.student_shape) == 3 and len(self.teacher_shape) == 3:
            self.proj = nn.Conv2d(self.student_shape[0], self.teacher_shape[0], kernel_size=1)
            self.pool = self.student_shape[1:] != self.teacher_shape[1:]
        else:
            self.proj = nn.Linear(math.prod(self.student_shape), math.prod(self.teacher_shape))
            self.pool = False

    def forward(self, x: Tensor) -> Tensor:
        if isinstance(self.proj, nn.Conv2d):
            y = self.proj(x)
            return F.adaptive_avg_pool2d(y, self.teacher_shape[1:]) if self.pool else y
        return self.proj(x.flatten(1)).reshape(x.shape[0], *self.teacher_shape)


def _find_module(model: nn.Module, name: object, *, role: str) -> nn.Module:
    if not isinstance(name, str):
        raise TypeError(f"hint layer names must be strings like 'features.3', got {name!r} for the {role}")
    modules = dict(model.named_modules())
    if name not in modules or name == "":
        names = [n for n in modules if n]
        shown = ", ".join(repr(n) for n in names[:12]) + (", …" if len(names) > 12 else "")
        raise ValueError(f"hint layer {name!r} is not a module of the {role}; its modules are: {shown}")
    return modules[name]


class DistillationLoss(nn.Module):
    """A loss for :func:`effdl.fit`: ``loss(student_logits, targets, inputs) -> scalar``.

    Runs ``teacher`` on ``inputs`` in eval mode under ``torch.no_grad()`` (its training flag is restored after every
    call, its weights never change) and returns :func:`kd_loss` (see the module docstring for ``alpha``), plus
    ``hint_weight · MSE(projection(student feature), teacher feature)`` when ``hint`` is given.

    The teacher is *not* registered as a submodule, so ``parameters()`` (what fit trains) holds only the hint
    projection; ``.to(device)`` still moves the teacher along.

    Args:
        teacher: any module mapping inputs to ``(N, C)`` logits (a tuple whose first item is the logits also works).
        T, alpha: temperature > 0 and soft-term weight in [0, 1], as in :func:`kd_loss`.
        student: the student module; needed (with ``example``) only for a hint.
        hint: ``(student_layer, teacher_layer)`` module names (as in ``named_modules()``, e.g.
            ``("features.2", "classifier.2")``), or ``None`` for no hint term.
        hint_weight: β ≥ 0, weight of the hint term (default 1).
        example: an input batch (at least one example) used once to find the two layers' output shapes and size the
            projection: a 1×1 conv for feature maps, a Linear otherwise.
        eval_ce: when called with gradients disabled (as :func:`effdl.evaluate` and fit's ``val`` do), return the
            student's plain cross-entropy without running the teacher (default ``True``): validation losses are then
            comparable with a student trained alone, and cost no teacher forward passes.
        cache_teacher: remember the teacher's logits for every input example seen (keyed by a hash of its bytes), so
            that later epochs over the same data skip the teacher ("offline" distillation: on a fixed transfer set,
            ~epochs× fewer teacher passes). Assumes the teacher is deterministic in eval mode and the inputs are not
            augmented; memory grows as (distinct examples × C) floats. Not combinable with ``hint``. Default off.

    Forward hooks capture the two layers' outputs; call :meth:`remove_hooks` when done, or use the loss as a
    context manager (``with DistillationLoss(...) as loss: fit(...)``). :func:`distill` does this for you.
    """

    def __init__(
        self,
        teacher: nn.Module,
        *,
        T: float = 4.0,
        alpha: float = 0.9,
        student: nn.Module | None = None,
        hint: tuple[str, str] | None = None,
        hint_weight: float = 1.0,
        example: Tensor | None = None,
        eval_ce: bool = True,
        cache_teacher: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(teacher, nn.Module):
            raise TypeError(f"teacher must be a torch.nn.Module, got {type(teacher).__name__}")
        self.T, self.alpha = _check_T(T), _check_alpha(alpha)
        self.hint_weight = _check_weight("hint_weight", hint_weight)
        self.eval_ce = check_bool("eval_ce", eval_ce)
        self.cache_teacher = check_bool("cache_teacher", cache_teacher)
        self._cache: dict[bytes, Tensor] = {}
        # Kept outside the module tree: fit() trains every parameter of an nn.Module loss, never the teacher's.
        self.__dict__["teacher"] = teacher
        self.hint = hint
        self.projection: HintProjection | None = None
        self._hooks: list[torch.utils.hooks.RemovableHandle] = []
        self._features: dict[str, Tensor] = {}
        if hint is None:
            return

        if self.cache_teacher:
            raise ValueError("cache_teacher=True keeps only the teacher's logits, not hint features: use one of them")
        if isinstance(hint, str) or not isinstance(hint, tuple | list) or len(hint) != 2:
            raise ValueError(f"hint must be a pair (student_layer, teacher_layer) of module names, got {hint!r}")
        if not isinstance(student, nn.Module):
            raise ValueError(f"a hint needs the student module: pass student=..., got {type(student).__name__}")
        if not isinstance(example, Tensor) or example.dim() < 1 or example.shape[0] < 1:
            raise ValueError("a hint needs example=<an input batch> (a tensor with at least one example) to size it")
        s_mod = _find_module(student, hint[0], role="student")
        t_mod = _find_module(teacher, hint[1], role="teacher")
        self.hint = (hint[0], hint[1])
        self._hooks = [
            s_mod.register_forward_hook(self._keep("student")),
            t_mod.register_forward_hook(self._keep("teacher")),
        ]
        try:
            s_shape, t_shape = self._probe(student, example)
        except Exception:
            self.remove_hooks()
            raise
        self.projection = HintProjection(s_shape, t_shape)

    # Hooks -------------------------------------------------------------------------------------------------

    def _keep(self, role: str) -> Callable[[nn.Module, Any, Any], None]:
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            self._features[role] = _logits_of(output)

        return hook

    @torch.no_grad()
    def _probe(self, student: nn.Module, example: Tensor) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Run both models once (eval mode, flags restored) to learn the hinted layers' output shapes."""
        x = example[:2]
        flags = [(m, m.training) for m in (student, self.teacher)]
        try:
            for m, _ in flags:
                m.eval()
            student(x.to(_device_of(student)))
            self.teacher(x.to(_device_of(self.teacher)))
        finally:
            for m, was in flags:
                m.train(was)
        s, t = self._features.pop("student", None), self._features.pop("teacher", None)
        if not isinstance(s, Tensor) or not isinstance(t, Tensor):
            raise ValueError(f"hint layers {self.hint} did not produce tensors on the example batch")
        return tuple(s.shape[1:]), tuple(t.shape[1:])

    def remove_hooks(self) -> None:
        """Remove the forward hooks on the student and teacher layers (safe to call twice)."""
        for h in self._hooks:
            h.remove()
        self._hooks = []
        self._features.clear()

    def __enter__(self) -> DistillationLoss:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove_hooks()

    # nn.Module plumbing ------------------------------------------------------------------------------------

    def _apply(self, fn: Callable, *args: Any, **kwargs: Any) -> DistillationLoss:
        # .to(device) / .double() must move the teacher too, although it is not a registered submodule.
        self.teacher._apply(fn, *args, **kwargs)
        return super()._apply(fn, *args, **kwargs)

    def extra_repr(self) -> str:
        hint = f", hint={self.hint}, hint_weight={self.hint_weight}" if self.hint is not None else ""
        return f"teacher={type(self.teacher).__name__}, T={self.T}, alpha={self.alpha}{hint}"

    # The loss ----------------------------------------------------------------------------------------------

    def teacher_logits(self, inputs: Tensor) -> Tensor:
        """The teacher's logits on ``inputs``, computed in eval mode without gradients (training flag restored);
        with ``cache_teacher`` only the examples not seen before go through the teacher."""
        if not self.cache_teacher:
            return self._run_teacher(inputs)
        flat = inputs.detach().reshape(inputs.shape[0], -1).cpu().contiguous().numpy()
        keys = [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in flat]
        missing = [i for i, k in enumerate(keys) if k not in self._cache]
        if missing:
            fresh = self._run_teacher(inputs[torch.tensor(missing, device=inputs.device)])
            for i, row in zip(missing, fresh, strict=True):
                self._cache[keys[i]] = row.clone()  # a copy: keeps one row, not the whole batch's storage alive
        return torch.stack([self._cache[k] for k in keys])

    def clear_cache(self) -> None:
        """Forget the cached teacher logits (e.g. after changing the teacher)."""
        self._cache.clear()

    def _run_teacher(self, inputs: Tensor) -> Tensor:
        was = self.teacher.training
        self.teacher.eval()
        try:
            with torch.no_grad():
                return _logits_of(self.teacher(inputs))
        finally:
            self.teacher.train(was)

    def forward(self, student_logits: Tensor, targets: Tensor, inputs: Tensor) -> Tensor:
        """``student_logits`` (N, C) from the student's forward pass on ``inputs``; ``targets`` (N,) labels."""
        student_feature = self._features.pop("student", None)  # captured by the student's forward just before
        if self.eval_ce and not torch.is_grad_enabled():
            self._features.clear()
            return kd_loss(student_logits, student_logits, targets, alpha=0.0)  # validated plain cross-entropy
        loss = kd_loss(student_logits, self.teacher_logits(inputs), targets, T=self.T, alpha=self.alpha)
        if self.projection is None or self.hint_weight == 0.0:
            return loss
        teacher_feature = self._features.pop("teacher", None)
        if student_feature is None or teacher_feature is None:
            raise RuntimeError(
                f"hint layers {self.hint} captured no output: were the hooks removed, or is the student's layer not "
                "on its forward path?"
            )
        return loss + self.hint_weight * F.mse_loss(self.projection(student_feature), teacher_feature.detach())


def _device_of(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


# ----------------------------------------------------------------------------------------------------------
# The training loop


def _example_batch(data: Data) -> Tensor:
    """The first input of ``data`` as a batch of one (to size a hint projection)."""
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], Tensor):
        return data[0][:1]
    if isinstance(data, DataLoader):
        x = next(iter(data))[0]
        return x[:1]
    if isinstance(data, Dataset):
        x = data[0][0]
        return x.unsqueeze(0) if isinstance(x, Tensor) else torch.as_tensor(x).unsqueeze(0)
    raise TypeError(
        f"train must be a DataLoader, a Dataset or an (inputs, targets) tuple of tensors, got {type(data).__name__}"
    )


def distill(
    teacher: nn.Module,
    student: nn.Module,
    train: Data,
    *,
    T: float = 4.0,
    alpha: float = 0.9,
    epochs: int = 1,
    lr: float = 1e-3,
    hint: tuple[str, str] | None = None,
    hint_weight: float = 1.0,
    cache_teacher: bool = False,
    val: Data | None = None,
    seed: int | None = 0,
    **fit_kwargs: Any,
) -> History:
    """Train ``student`` in place to imitate the trained ``teacher`` on ``train``; return fit's :class:`History`.

    The loss is :class:`DistillationLoss` (``alpha · T² · KL + (1 − alpha) · CE``, plus ``hint_weight`` × the hint
    MSE when ``hint=(student_layer, teacher_layer)`` is given; the hint projection is trained with the student and
    then discarded). The teacher runs in eval mode without gradients; its weights and training flag are unchanged
    afterwards, and the hint hooks are removed even if training fails. ``cache_teacher=True`` runs the teacher once
    per distinct training example instead of once per example and epoch (see :class:`DistillationLoss`).

    ``fit_kwargs`` go to :func:`effdl.fit` (``batch_size``, ``schedule``, ``optimizer``, ``weight_decay``, ``device``,
    ``progress`` …). ``val`` is evaluated after every epoch: the student's accuracy and plain cross-entropy (the
    teacher is not run there), so the History compares directly with a student trained alone by ``fit``.
    """
    if not isinstance(teacher, nn.Module):
        raise TypeError(f"teacher must be a torch.nn.Module, got {type(teacher).__name__}")
    if not isinstance(student, nn.Module):
        raise TypeError(f"student must be a torch.nn.Module, got {type(student).__name__}")
    if teacher is student:
        raise ValueError("teacher and student must be different modules")
    for bad in ("loss", "model"):
        if bad in fit_kwargs:
            raise TypeError(f"distill() sets fit's {bad!r} itself; do not pass {bad}=")
    example = _example_batch(train) if hint is not None else None
    loss = DistillationLoss(
        teacher,
        T=T,
        alpha=alpha,
        student=student,
        hint=hint,
        hint_weight=hint_weight,
        example=example,
        cache_teacher=cache_teacher,
    )
    with loss:
        return fit(student, train, epochs=epochs, lr=lr, loss=loss, val=val, seed=seed, **fit_kwargs)
