"""Training and evaluation: ``seed_everything``, ``fit``, ``evaluate``.

One small, explicit loop that every chapter reuses. Techniques plug in through arguments instead of copies of the loop:
``loss`` replaces the task loss (distillation), ``extra_loss`` adds a regularizer (range regularization, SBS budget),
``callback`` runs after every step (gradual pruning schedules).
"""

from __future__ import annotations

import inspect
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

__all__ = [
    "EvalResult",
    "History",
    "as_loader",
    "evaluate",
    "fit",
    "progress_enabled",
    "resolve_device",
    "seed_everything",
    "tensor_pair",
]

LossFn = Callable[..., torch.Tensor]  # loss(outputs, targets) or loss(outputs, targets, inputs)
Data = DataLoader | Dataset | tuple[torch.Tensor, torch.Tensor]

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = (None, "cosine")


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators so that the same seed gives the same run on one machine."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether to show progress bars: ``progress`` if given, else on unless ``EFFDL_PROGRESS=0``.

    The series runner sets ``EFFDL_PROGRESS=0`` for papermill runs, where bars would only clutter the saved notebook.
    """
    if progress is not None:
        return bool(progress)
    return os.environ.get("EFFDL_PROGRESS", "1") not in ("0", "false", "False", "")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` → CPU; a CUDA device that is not there raises a clear error instead of failing inside torch."""
    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be like 'cpu', 'cuda' or 'cuda:0', got {device!r}") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for, but torch sees no CUDA device here; use device='cpu'")
    return dev


@dataclass
class EvalResult:
    """Accuracy as a fraction in [0, 1] (top-1; per token for sequence outputs) and mean loss over ``n`` targets."""

    accuracy: float
    loss: float
    n: int

    def __str__(self) -> str:
        return f"accuracy {100 * self.accuracy:.2f}%  loss {self.loss:.4f}  (n={self.n})"


@dataclass
class History:
    """What :func:`fit` did, one entry per epoch (``step_loss`` has one entry per optimizer step)."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # wall-clock seconds since the start of fit, per epoch end
    step_loss: list[float] = field(default_factory=list)
    steps: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def final(self) -> dict[str, float]:
        """The last epoch's numbers (NaN where not measured)."""
        last = {"train_loss": self.train_loss, "train_accuracy": self.train_accuracy}
        last |= {"val_loss": self.val_loss, "val_accuracy": self.val_accuracy}
        return {k: (v[-1] if v else float("nan")) for k, v in last.items()}


def default_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy for (N, C) logits with (N,) targets, or (B, T, V) logits with (B, T) targets."""
    return F.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1))


def _wants_inputs(loss: Callable) -> bool:
    """True when ``loss`` takes a third positional argument: the input batch (e.g. for a teacher's predictions)."""
    try:
        params = inspect.signature(loss).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature take (outputs, targets)
        return False
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 3


def tensor_pair(data: object, name: str = "data") -> object:
    """An ``(inputs, targets)`` tuple of tensors as a ``TensorDataset`` (their first dimensions must agree: a
    ``ValueError`` naming ``name`` otherwise, not torch's bare assertion); anything else is returned as it is."""
    if isinstance(data, tuple) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        inputs, targets = data
        if inputs.dim() == 0 or targets.dim() == 0 or len(inputs) != len(targets):
            raise ValueError(
                f"{name}'s inputs and targets must have the same length (first dimension), got shapes "
                f"{tuple(inputs.shape)} and {tuple(targets.shape)}"
            )
        return TensorDataset(inputs, targets)
    return data


def as_loader(
    data: Data, *, batch_size: int = 128, shuffle: bool = False, seed: int | None = None, name: str = "data"
) -> Iterable:
    """``data`` as an iterable of batches: a DataLoader as given; a Dataset or (inputs, targets) tuple batched
    (shuffled with a generator seeded by ``seed`` when ``shuffle``). ``name`` is the argument named in errors."""
    if isinstance(data, DataLoader):
        return data
    data = tensor_pair(data, name)
    if isinstance(data, Dataset):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        gen = torch.Generator().manual_seed(seed) if (shuffle and seed is not None) else None
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=gen)
    raise TypeError(
        f"{name} must be a DataLoader, a Dataset or an (inputs, targets) tuple of tensors, got {type(data).__name__}"
    )


def _outputs(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = model(x)
    # Models that also return a loss or features (e.g. (logits, loss)) put the logits first.
    return out[0] if isinstance(out, tuple | list) else out


def _check_first_batch(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Run the first forward pass with errors a reader can act on, instead of a shape error from inside torch."""
    try:
        out = _outputs(model, x)
    except ValueError:
        raise  # the workbench's models already say what shape they expect
    except RuntimeError as err:
        raise ValueError(
            f"the model could not run on a batch of inputs of shape {tuple(x.shape)}: {err}. "
            "Check that the model was built for this dataset's input shape."
        ) from err
    if out.dim() >= 2 and y.dtype == torch.long and y.numel() and int(y.max()) >= out.shape[-1]:
        raise ValueError(
            f"targets go up to {int(y.max())} but the model outputs {out.shape[-1]} classes; "
            "build the model with num_classes matching the dataset"
        )
    return out


def _make_optimizer(
    optimizer: str | torch.optim.Optimizer | Callable,
    params: list[torch.nn.Parameter] | list[dict],
    *,
    lr: float,
    weight_decay: float,
    momentum: float,
) -> torch.optim.Optimizer:
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if isinstance(optimizer, str):
        if optimizer == "adam":
            return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
        if optimizer == "adamw":
            return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
        if optimizer == "sgd":
            return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
        allowed = ", ".join(OPTIMIZERS)
        raise ValueError(f"optimizer must be one of {allowed} or a torch.optim.Optimizer, got {optimizer!r}")
    if callable(optimizer):
        return optimizer(params)
    raise TypeError(f"optimizer must be a name, an Optimizer or a callable(params), got {type(optimizer).__name__}")


def fit(
    model: nn.Module,
    train: Data,
    *,
    epochs: int = 1,
    lr: float = 1e-3,
    optimizer: str | torch.optim.Optimizer | Callable = "adam",
    loss: LossFn | None = None,
    extra_loss: Callable[[nn.Module], torch.Tensor] | None = None,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    schedule: str | None = None,
    batch_size: int = 128,
    val: Data | None = None,
    max_steps: int | None = None,
    callback: Callable[[int, nn.Module], None] | None = None,
    seed: int | None = 0,
    device: str | torch.device | None = None,
    progress: bool | None = None,
) -> History:
    """Train ``model`` in place on ``train`` and return a :class:`History`.

    Args:
        model: any module mapping an input batch to outputs (logits (N, C) or (B, T, V); a tuple whose first item
            is the logits also works).
        train: a DataLoader, a Dataset of (input, target) pairs, or an (inputs, targets) tuple of tensors.
        epochs: passes over ``train`` (int ≥ 1); ``max_steps`` stops earlier after that many optimizer steps.
        lr: learning rate (> 0). ``optimizer``: "adam" (default), "adamw", "sgd" (with ``momentum``), an Optimizer,
            or a callable ``params -> Optimizer``. ``schedule="cosine"`` anneals the rate to 0 over the run.
        loss: ``loss(outputs, targets) -> scalar``, or ``loss(outputs, targets, inputs)`` when the loss needs the
            batch itself (distillation runs the teacher on it); default cross-entropy. If it is an ``nn.Module``
            with parameters (a learned projection), those are trained too (when the optimizer is given by name).
        extra_loss: ``extra_loss(model) -> scalar`` added to every step's loss (a regularizer). If it is an
            ``nn.Module`` with parameters, those are trained too, in their own optimizer parameter group with
            ``weight_decay=0`` (a regularizer's hardness or margin is not a weight to shrink). A callable
            ``optimizer`` receives the parameter groups (a list of dicts, as every ``torch.optim`` optimizer takes).
        val: evaluated after every epoch when given.
        callback: ``callback(step, model)`` after every optimizer step (``step`` counts from 1).
        seed: seeds all generators (and the shuffling of a Dataset given as ``train``); ``None`` leaves them alone.
        device: "cpu" (default) or "cuda"; the model is moved there.
        progress: a tqdm bar; default on, off when ``EFFDL_PROGRESS=0`` (the series runner sets it).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epochs must be an int ≥ 1, got {epochs!r}")
    if not isinstance(lr, int | float) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if not isinstance(weight_decay, int | float) or weight_decay < 0:
        raise ValueError(f"weight_decay must be ≥ 0, got {weight_decay!r}")
    if max_steps is not None and (not isinstance(max_steps, int) or max_steps < 1):
        raise ValueError(f"max_steps must be None or an int ≥ 1, got {max_steps!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    if extra_loss is not None and not callable(extra_loss):
        raise TypeError(f"extra_loss must be callable(model) -> scalar tensor, got {type(extra_loss).__name__}")
    if seed is not None:
        seed_everything(seed)
    dev = resolve_device(device)
    loader = as_loader(train, batch_size=batch_size, shuffle=True, seed=seed, name="train")
    loss_fn = loss or default_loss
    loss_takes_inputs = _wants_inputs(loss_fn)

    model.to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    if isinstance(loss, nn.Module):  # a learned projection (distillation hints): trained like the model's weights
        loss.to(dev)
        seen = {id(p) for p in params}
        params += [p for p in loss.parameters() if p.requires_grad and id(p) not in seen]
    groups: list[dict] = [{"params": params}]
    if isinstance(extra_loss, nn.Module):
        # A regularizer's own parameters (R²'s hardness α, margins) are not weights: no weight decay pulls them to 0.
        extra_loss.to(dev)
        seen = {id(p) for p in params}
        own = [p for p in extra_loss.parameters() if p.requires_grad and id(p) not in seen]
        if own:
            groups.append({"params": own, "weight_decay": 0.0})
    opt = _make_optimizer(optimizer, groups, lr=lr, weight_decay=weight_decay, momentum=momentum)

    steps_per_epoch = len(loader) if hasattr(loader, "__len__") else None
    total = epochs * steps_per_epoch if steps_per_epoch is not None else None
    if max_steps is not None:
        total = min(total, max_steps) if total is not None else max_steps
    sched = None
    if schedule == "cosine":
        if total is None:
            raise ValueError("schedule='cosine' needs a sized loader or max_steps")
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, total))

    from tqdm.auto import tqdm  # imported here: tqdm.auto probes for Jupyter, which is slow at module import

    bar = tqdm(total=total, desc=f"fit {type(model).__name__}", unit="step", disable=not progress_enabled(progress))
    hist = History()
    start = time.perf_counter()
    step = 0
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            sum_loss, correct, count = 0.0, 0, 0
            for x, y in loader:
                x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
                out = _check_first_batch(model, x, y) if step == 0 else _outputs(model, x)
                task = loss_fn(out, y, x) if loss_takes_inputs else loss_fn(out, y)
                total_loss = task + extra_loss(model) if extra_loss is not None else task
                if not torch.isfinite(total_loss):
                    raise FloatingPointError(
                        f"loss became {total_loss.item()} at step {step + 1}; lower lr (now {lr}) or check the data"
                    )
                opt.zero_grad(set_to_none=True)
                total_loss.backward()
                opt.step()
                if sched is not None:
                    sched.step()
                step += 1
                n = y.numel()
                sum_loss += task.item() * n
                count += n
                if out.dim() >= 2 and y.dtype == torch.long:
                    correct += (out.detach().argmax(-1) == y).sum().item()
                hist.step_loss.append(task.item())
                bar.update(1)
                bar.set_postfix(epoch=epoch, loss=f"{task.item():.3f}")
                if callback is not None:
                    callback(step, model)
                if max_steps is not None and step >= max_steps:
                    break
            hist.epoch.append(epoch)
            hist.train_loss.append(sum_loss / max(count, 1))
            hist.train_accuracy.append(correct / max(count, 1))
            if val is not None:
                res = evaluate(model, val, device=dev, loss=loss)
                hist.val_loss.append(res.loss)
                hist.val_accuracy.append(res.accuracy)
            hist.seconds.append(time.perf_counter() - start)
            if max_steps is not None and step >= max_steps:
                break
    finally:
        bar.close()
    hist.steps = step
    model.eval()
    return hist


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    data: Data,
    *,
    loss: LossFn | None = None,
    batch_size: int = 1000,
    device: str | torch.device | None = None,
) -> EvalResult:
    """Top-1 accuracy (fraction in [0, 1]) and mean loss of ``model`` on ``data``; the training flag is restored."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    loader = as_loader(data, batch_size=batch_size, shuffle=False, seed=None, name="data")
    dev = resolve_device(device) if device is not None else _model_device(model)
    loss_fn = loss or default_loss
    loss_takes_inputs = _wants_inputs(loss_fn)
    was_training = model.training
    model.eval()
    sum_loss, correct, count = 0.0, 0, 0
    try:
        for i, (x, y) in enumerate(loader):
            x, y = x.to(dev), y.to(dev)
            out = _check_first_batch(model, x, y) if i == 0 else _outputs(model, x)
            n = y.numel()
            batch_loss = loss_fn(out, y, x) if loss_takes_inputs else loss_fn(out, y)
            sum_loss += batch_loss.item() * n
            correct += (out.argmax(-1) == y).sum().item()
            count += n
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("data is empty: nothing to evaluate")
    return EvalResult(accuracy=correct / count, loss=sum_loss / count, n=count)


def _model_device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")
