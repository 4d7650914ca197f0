"""Character language models in bits per character: seeded validation windows, evaluation, and training under a
budget of steps, seconds and/or training FLOPs (:class:`LMCurve`, :func:`train_lm`)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from effdl.compress.scaling._checks import (
    _bar,
    _check_model,
    _context_of,
    _int,
    _logits,
    _model_device,
    _nonneg,
    _positive,
    _seed,
    _tokens,
)
from effdl.core.data import CharDataset
from effdl.core.footprint import count_flops
from effdl.core.models import TinyTransformer
from effdl.core.train import resolve_device, seed_everything

LN2 = math.log(2.0)
AXES = ("step", "seconds", "flops")  # the x axes a training curve is logged against

TokenData = CharDataset | Tensor | tuple[Tensor, Tensor]


# ----------------------------------------------------------------------------------------------------------
# Windows and evaluation in bits per character


def _gather(tokens: Tensor, starts: Tensor, context: int) -> tuple[Tensor, Tensor]:
    idx = starts[:, None] + torch.arange(context + 1)[None, :]  # (n, context + 1)
    chunk = tokens[idx]
    return chunk[:, :-1], chunk[:, 1:]


def lm_windows(
    data: CharDataset | Tensor, *, n: int = 512, context: int | None = None, seed: int | None = 0
) -> tuple[Tensor, Tensor]:
    """``n`` random windows of a token stream: ``(x, y)``, two int64 ``(n, context)`` tensors, ``y`` = ``x`` shifted
    left by one character. Window starts are drawn uniformly (with replacement) by a generator seeded with ``seed``:
    the same seed gives the same windows, so every model is scored on the same characters. ``data``: a
    :class:`~effdl.core.data.CharDataset` (``context`` defaults to its own) or a 1-D tensor of ids (give ``context``).
    """
    n = _int("n", n)
    tokens, ctx = _tokens("data", data, context)
    gen = torch.Generator()
    seed = _seed(seed)
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(seed)
    starts = torch.randint(0, len(tokens) - ctx, (n,), generator=gen)
    return _gather(tokens, starts, ctx)


def _windows_arg(name: str, data: object) -> tuple[Tensor, Tensor] | None:
    if isinstance(data, tuple):
        if not (len(data) == 2 and all(isinstance(t, Tensor) for t in data) and data[0].shape == data[1].shape):
            raise TypeError(f"{name} given as a tuple must be (x, y): two int64 tensors of the same shape (n, T)")
        if data[0].dim() != 2 or data[0].shape[0] == 0:
            raise ValueError(f"{name} windows must have shape (n, T) with n >= 1, got {tuple(data[0].shape)}")
        return data[0].long(), data[1].long()
    return None


@torch.inference_mode()
def evaluate_lm(
    model: nn.Module,
    data: TokenData,
    *,
    batches: int = 8,
    batch_size: int = 64,
    context: int | None = None,
    seed: int | None = 0,
    device: str | torch.device | None = None,
) -> float:
    """Mean next-character cross-entropy of ``model`` on ``data``, in **bits per character** (nats / ln 2).

    ``model`` maps ``(B, T)`` token ids to ``(B, T, vocab)`` logits (or a tuple whose first item is the logits).
    ``data``: windows from :func:`lm_windows` as ``(x, y)`` (all of them are used, ``batch_size`` at a time), or a
    CharDataset / 1-D id tensor from which ``batches × batch_size`` windows of ``context`` characters (default: the
    dataset's, capped at the model's ``context`` attribute) are drawn with ``seed`` — the same windows for every model
    given the same seed. Every position of every window counts, the first (with no context) included. The model's
    training flag is restored.
    """
    _check_model(model)
    batches, batch_size = _int("batches", batches), _int("batch_size", batch_size)
    windows = _windows_arg("data", data)
    if windows is None:
        ctx = context
        if ctx is None and isinstance(data, CharDataset):
            limit = _context_of(model)
            ctx = min(data.context, limit) if limit is not None else data.context
        windows = lm_windows(data, n=batches * batch_size, context=ctx, seed=seed)  # type: ignore[arg-type]
    x_all, y_all = windows
    dev = resolve_device(device) if device is not None else _model_device(model)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        for i in range(0, len(x_all), batch_size):
            x, y = x_all[i : i + batch_size].to(dev), y_all[i : i + batch_size].to(dev)
            logits = _logits(model, x)
            if logits.shape[:2] != y.shape:
                raise ValueError(f"model returned logits of shape {tuple(logits.shape)} for inputs {tuple(x.shape)}")
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum"))
            count += y.numel()
    finally:
        model.train(was_training)
    return total / count / LN2


# ----------------------------------------------------------------------------------------------------------
# Training under a budget of steps, seconds and/or FLOPs


@dataclass
class LMCurve:
    """What :func:`train_lm` logged, one entry per evaluation (step 0 included).

    ``step``: optimizer steps done; ``seconds``: training wall-clock seconds (evaluations excluded); ``flops``:
    cumulative training FLOPs (measured, ``flops_per_step`` × step); ``train_bpc``: mean training loss (bits/char)
    over the steps since the previous entry (NaN at step 0); ``val_bpc``: validation bits/char.
    ``flops_per_step_kaplan``: ``6 · N · tokens_per_step`` with N the non-embedding parameters (Kaplan et al.).
    ``stopped_by``: ``"steps"``, ``"seconds"`` or ``"flops"``, whichever budget ended the run.
    """

    name: str = ""
    step: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    flops: list[int] = field(default_factory=list)
    train_bpc: list[float] = field(default_factory=list)
    val_bpc: list[float] = field(default_factory=list)
    params: int = 0
    non_embedding_params: int = 0
    tokens_per_step: int = 0
    flops_per_step: int = 0
    flops_per_step_kaplan: int = 0
    stopped_by: str = "steps"

    @property
    def steps(self) -> int:
        """Optimizer steps done."""
        return self.step[-1] if self.step else 0

    @property
    def final_bpc(self) -> float:
        """Validation bits/char at the end of the run."""
        return self.val_bpc[-1] if self.val_bpc else float("nan")

    @property
    def train_seconds(self) -> float:
        """Training wall-clock seconds of the whole run (evaluations excluded)."""
        return self.seconds[-1] if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def rows(self) -> list[dict[str, Any]]:
        """A tidy table: one dict per logged point with ``name``, ``step``, ``seconds``, ``flops``, ``train_bpc``,
        ``val_bpc`` and ``params``."""
        return [
            {
                "name": self.name,
                "step": s,
                "seconds": t,
                "flops": f,
                "train_bpc": tr,
                "val_bpc": v,
                "params": self.params,
            }
            for s, t, f, tr, v in zip(self.step, self.seconds, self.flops, self.train_bpc, self.val_bpc, strict=True)
        ]


def _non_embedding_params(model: nn.Module) -> int:
    if isinstance(model, TinyTransformer):
        return model.num_params(non_embedding=True)
    emb = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    return sum(p.numel() for p in model.parameters() if id(p) not in emb)


def train_lm(
    model: nn.Module,
    train: CharDataset | Tensor,
    val: TokenData | None = None,
    *,
    steps: int | None = None,
    seconds: float | None = None,
    flops: float | None = None,
    batch_size: int = 32,
    context: int | None = None,
    lr: float = 2e-3,
    warmup: int = 20,
    weight_decay: float = 0.0,
    grad_clip: float | None = 1.0,
    eval_every: int = 50,
    eval_batches: int = 8,
    eval_batch_size: int = 64,
    seed: int | None = 0,
    device: str | torch.device | None = None,
    progress: bool | None = None,
    name: str = "",
    callback: Callable[[int, nn.Module], None] | None = None,
) -> LMCurve:
    """Train a next-character model in place for ``steps`` optimizer steps, ``seconds`` of training or ``flops``
    training FLOPs, whichever budget ends first, and return its :class:`LMCurve`.

    Args:
        model: maps ``(B, T)`` ids to ``(B, T, vocab)`` logits (or a tuple starting with them), e.g. a TinyTransformer.
        train: a CharDataset or a 1-D id tensor; each step draws ``batch_size`` random windows of ``context``
            characters (default: the dataset's, capped at the model's ``context``) from a generator seeded with
            ``seed``: the same seed gives every model the same batches.
        val: evaluated (bits/char, :func:`evaluate_lm`) at step 0, every ``eval_every`` steps and at the end, on
            ``eval_batches × eval_batch_size`` windows drawn once with ``seed`` (or on the ``(x, y)`` windows given).
            ``None``: no evaluation (``val_bpc`` is NaN).
        steps: the step budget (int >= 1, or None for none). ``seconds``: the wall-clock budget (> 0, or None),
            training time only: evaluations pause the clock. ``flops``: the training-compute budget (> 0, or None):
            the run does the most steps whose measured FLOPs fit, ``floor(flops / flops_per_step)`` (at least one
            must). At least one budget must be given; ``stopped_by`` names the one that ended the run. Several sizes
            given the same ``flops`` have had the same training compute.
        lr: AdamW's learning rate after a linear warm-up of ``warmup`` steps, then constant (no decay: a run cut by
            either budget is the run that budget would have given). ``weight_decay`` >= 0 (decoupled, on every
            parameter); ``grad_clip``: clip the global gradient norm (None: no clipping).
        seed: seeds all generators (``seed_everything``) and the batch sampler; None leaves them alone.
        device: "cpu" (default) or "cuda"; the model is moved there. ``progress``: a tqdm bar (default on, off when
            ``EFFDL_PROGRESS=0``). ``name``: stored in the curve and shown on the bar.
        callback: ``callback(step, model)`` after every optimizer step (``step`` counts from 1), e.g. to keep a
            snapshot of the weights; its time is not counted as training time.

    FLOPs per step are measured once with ``effdl.count_flops`` on one training batch (forward) × 3.
    """
    _check_model(model)
    steps = None if steps is None else _int("steps", steps)
    seconds = _positive("seconds", seconds, allow_none=True)
    flops = _positive("flops", flops, allow_none=True)
    if steps is None and seconds is None and flops is None:
        raise ValueError("give at least one budget: steps (int >= 1), seconds (> 0) or flops (> 0); all are None")
    batch_size = _int("batch_size", batch_size)
    lr = _positive("lr", lr)  # type: ignore[assignment]
    warmup = _int("warmup", warmup, low=0)
    weight_decay = _nonneg("weight_decay", weight_decay)
    grad_clip = _positive("grad_clip", grad_clip, allow_none=True)
    eval_every = _int("eval_every", eval_every)
    eval_batches, eval_batch_size = _int("eval_batches", eval_batches), _int("eval_batch_size", eval_batch_size)
    seed = _seed(seed)
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be None or a function (step, model), got {type(callback).__name__}")
    if context is None and isinstance(train, CharDataset):
        limit = _context_of(model)
        context = min(train.context, limit) if limit is not None else train.context
    tokens, ctx = _tokens("train", train, context)
    windows = None
    if val is not None:
        windows = _windows_arg("val", val)
        if windows is None:
            windows = lm_windows(val, n=eval_batches * eval_batch_size, context=ctx, seed=seed)  # type: ignore[arg-type]
    dev = resolve_device(device)
    if seed is not None:
        seed_everything(seed)
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(seed)

    model.to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.99), weight_decay=weight_decay)

    def lr_at(step: int) -> float:  # step counts from 1
        return lr * min(1.0, step / warmup) if warmup else lr

    def batch() -> tuple[Tensor, Tensor]:
        starts = torch.randint(0, len(tokens) - ctx, (batch_size,), generator=gen)
        x, y = _gather(tokens, starts, ctx)
        return x.to(dev), y.to(dev)

    def val_bpc() -> float:
        if windows is None:
            return float("nan")
        return evaluate_lm(model, windows, batch_size=eval_batch_size, device=dev)

    x0 = torch.zeros(batch_size, ctx, dtype=torch.long, device=dev)  # FLOPs do not depend on the ids
    try:
        fwd = count_flops(model, x0).flops
    except Exception as err:  # the model's own error, with what it was given
        raise ValueError(f"model could not run on a batch of token ids of shape {tuple(x0.shape)}: {err}") from err
    curve = LMCurve(
        name=name,
        params=sum(p.numel() for p in model.parameters()),
        non_embedding_params=_non_embedding_params(model),
        tokens_per_step=batch_size * ctx,
        flops_per_step=3 * fwd,
    )
    curve.flops_per_step_kaplan = 6 * curve.non_embedding_params * curve.tokens_per_step
    limits = {"steps": steps} if steps is not None else {}
    if flops is not None:
        limits["flops"] = int(flops // curve.flops_per_step)
        if limits["flops"] < 1:
            raise ValueError(
                f"flops={flops:.4g} is less than one training step of this model ({curve.flops_per_step:,} FLOPs)"
            )
    # the step budget that binds (a tie goes to "steps"); no step or FLOP budget: only the clock ends the run
    bound = min(limits, key=lambda k: (limits[k], k != "steps")) if limits else None
    max_steps = limits[bound] if bound is not None else None
    if bound is not None:
        curve.stopped_by = bound

    def log(step: int, clock: float, train_sum: float, n: int) -> None:
        curve.step.append(step)
        curve.seconds.append(clock)
        curve.flops.append(step * curve.flops_per_step)
        curve.train_bpc.append(train_sum / n / LN2 if n else float("nan"))
        curve.val_bpc.append(val_bpc())

    bar = _bar(max_steps, f"train {name or type(model).__name__}", progress)
    clock, step, train_sum, n = 0.0, 0, 0.0, 0
    try:
        log(0, 0.0, 0.0, 0)
        model.train()
        while max_steps is None or step < max_steps:
            if seconds is not None and clock >= seconds:
                curve.stopped_by = "seconds"
                break
            t0 = time.perf_counter()
            x, y = batch()
            for group in opt.param_groups:
                group["lr"] = lr_at(step + 1)
            logits = _logits(model, x)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {loss.item()} at step {step + 1}; lower lr (now {lr})")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip is not None:
                nn.utils.clip_grad_norm_(params, grad_clip)
            opt.step()
            value = loss.item()  # synchronizes, so the clock below measures the finished step
            clock += time.perf_counter() - t0
            step += 1
            train_sum, n = train_sum + value, n + 1
            bar.update(1)
            bar.set_postfix(bpc=f"{value / LN2:.3f}")
            if callback is not None:
                callback(step, model)
            if step % eval_every == 0 or step == max_steps:
                log(step, clock, train_sum, n)
                train_sum, n = 0.0, 0
                model.train()
        if curve.step[-1] != step:  # stopped by the clock between two evaluations
            log(step, clock, train_sum, n)
    finally:
        bar.close()
    model.eval()
    return curve
