"""Train large, then compress (Li et al., ICML 2020): model size against training budget and compressibility.

Li et al. found that, for Transformers trained under a fixed compute budget, *larger* models reach a given loss in fewer
optimizer steps (often in less wall-clock time too), and that larger models lose less to pruning and quantization, so
a heavily compressed large model beats a lightly compressed small one at the same size. This module reproduces the
study at laptop scale with the workbench's character language model (:class:`effdl.core.models.TinyTransformer` on the
``pycode`` corpus) and the workbench's own compression (:mod:`effdl.compress.prune`, :mod:`effdl.compress.quant`).

- Metric: validation loss in **bits per character** (cross-entropy / ln 2) on a fixed, seeded set of windows of the
  validation split (files never seen in training), the same windows for every model, so comparisons are paired:
  :func:`lm_windows`, :func:`evaluate_lm`. The baseline to beat is the corpus' unigram entropy
  (:func:`unigram_entropy_bits`, re-exported from :mod:`effdl.core.data`).
- Training: :func:`train_lm` (AdamW, linear warm-up then a *constant* learning rate, so a run stopped early is the
  same as a run given a smaller budget) under a budget of steps and/or wall-clock seconds, logging an
  :class:`LMCurve` (step, training seconds, cumulative training FLOPs, train and validation bits/char).
  :func:`scale_grid` trains a list of sizes on the same batches.
- FLOPs: measured, not assumed: ``count_flops`` (``torch.utils.flop_counter``) on one forward pass of a training
  batch, times 3 for forward + backward (the backward pass costs about twice the forward). Kaplan et al. 2020's
  formula ``6 · N · tokens`` (N = non-embedding parameters) is logged next to it: the measured count is larger
  because it includes the LM head (``2 · vocab · width`` per token) and attention's ``q·kᵀ`` and ``att·v``.
- Compression: :func:`compress_curve` prunes (magnitude, one-shot, no fine-tuning) and/or quantizes (symmetric,
  per-output-channel post-training quantization of the weights) copies of a trained model and measures bits/char
  against the compressed size (:func:`compressed_model_bits`).
- Acceptance helpers: :func:`steps_to_reach` (and :func:`to_reach` on any axis), :func:`loss_at` (the loss of a run
  at a budget), :func:`best_at_budget` (the compute-optimal size), :func:`size_loss_frontier`,
  :func:`best_under`, :func:`large_vs_small`.

**Which weights are compressed.** :func:`compressible_layers`: every ``nn.Linear`` whose weight is not shared with an
``nn.Embedding``, i.e. for the TinyTransformer the blocks' attention and MLP matrices (the non-embedding parameters of
Kaplan et al.). The token embedding, which the LM head shares (tied weights), the position embedding, the biases and
the LayerNorms stay in fp32 and are counted at 32 bits. Quantizing a tied weight through one of its two users would
make the embedding lookup and the output layer disagree, and pruning rows of an embedding deletes characters; keeping
them exact is the simple, defensible choice, and it is counted honestly (it favours small models, whose embeddings
are a larger share of their size).

**Sizes** (:func:`compressed_model_bits`): ``effdl.model_bits`` of the model with each compressed weight's fp32 cost
replaced by its stored cost: a pruned weight in a sparse format (``"bitmask"`` by default: one presence bit per entry
plus the non-zero values; see ``effdl.core.footprint.tensor_bits``), a quantized weight as ``bits``-bit codes plus one
fp32 scale per output channel (``effdl.core.footprint.quantized_bits``, as ``quant.quantized_model_bits``), both
together as a sparse tensor of ``bits``-bit values plus the scales.
"""

from __future__ import annotations

import bisect
import copy
import functools
import math
import numbers
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from effdl.compress.prune import magnitude_prune_, make_permanent_
from effdl.compress.quant import quantize_weights_, quantized_model_bits
from effdl.core.checks import int_at_least, is_int
from effdl.core.data import VOCAB_SIZE, CharDataset, unigram_entropy_bits
from effdl.core.footprint import (
    STORAGES,
    count_flops,
    effective_weights,
    model_bits,
    pareto_front,
    tensor_bits,
    weight_aliases,
)
from effdl.core.models import TinyTransformer
from effdl.core.train import progress_enabled, resolve_device, seed_everything

__all__ = [
    "AXES",
    "METHODS",
    "LMCurve",
    "ScaleGrid",
    "best_at_budget",
    "best_under",
    "compress_curve",
    "compressed_model_bits",
    "compressible_layers",
    "evaluate_lm",
    "large_vs_small",
    "lm_windows",
    "loss_at",
    "scale_grid",
    "size_loss_frontier",
    "steps_to_reach",
    "to_reach",
    "train_lm",
    "unigram_entropy_bits",
]

LN2 = math.log(2.0)
AXES = ("step", "seconds", "flops")  # the x axes a training curve is logged against
METHODS = ("none", "prune", "quant", "prune+quant")  # compress_curve's row kinds
DEFAULT_SPARSITIES = (0.0, 0.5, 0.7, 0.9)
DEFAULT_BITS = (8, 6, 4)

TokenData = CharDataset | Tensor | tuple[Tensor, Tensor]


# ----------------------------------------------------------------------------------------------------------
# Argument checks: the argument's name, the value and what is allowed


def _int(name: str, value: object, *, low: int = 1) -> int:
    return int_at_least(name, value, low)


def _positive(name: str, value: object, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    what = "None or a number > 0" if allow_none else "a number > 0"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {what}, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be {what}, got {value}")
    return float(value)


def _nonneg(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number >= 0, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a number >= 0, got {value}")
    return float(value)


def _seed(seed: object) -> int | None:
    if seed is None:
        return None
    if not is_int(seed) or seed < 0:  # type: ignore[operator]
        raise ValueError(f"seed must be None or an int >= 0, got {seed!r}")
    return int(seed)  # type: ignore[call-overload]


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _tokens(name: str, data: object, context: int | None) -> tuple[Tensor, int]:
    """A 1-D int64 token stream and the window length (``context``, else the CharDataset's)."""
    if isinstance(data, CharDataset):
        tokens, ctx = data.tokens, data.context if context is None else context
    elif isinstance(data, Tensor) and data.dim() == 1 and not data.is_floating_point():
        if context is None:
            raise ValueError(f"context must be given when {name} is a tensor of token ids")
        tokens, ctx = data, context
    else:
        raise TypeError(
            f"{name} must be a CharDataset (effdl.load('pycode')) or a 1-D integer tensor of token ids, "
            f"got {type(data).__name__}"
        )
    ctx = _int("context", ctx)
    if len(tokens) < ctx + 1:
        raise ValueError(f"{name} has {len(tokens)} tokens: too few for one window of context={ctx} (+1 target)")
    return tokens.long(), ctx


def _context_of(model: nn.Module) -> int | None:
    ctx = getattr(model, "context", None)
    return int(ctx) if is_int(ctx) else None


def _model_device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _logits(model: nn.Module, x: Tensor) -> Tensor:
    out = model(x)
    return out[0] if isinstance(out, tuple | list) else out


def _bar(total: int | None, desc: str, progress: bool | None) -> Any:
    from tqdm.auto import tqdm  # imported here: tqdm.auto probes for Jupyter, which is slow at module import

    return tqdm(total=total, desc=desc, unit="step", disable=not progress_enabled(progress), leave=False)


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
# Training under a budget of steps and of seconds


@dataclass
class LMCurve:
    """What :func:`train_lm` logged, one entry per evaluation (step 0 included).

    ``step``: optimizer steps done; ``seconds``: training wall-clock seconds (evaluations excluded); ``flops``:
    cumulative training FLOPs (measured, ``flops_per_step`` × step); ``train_bpc``: mean training loss (bits/char)
    over the steps since the previous entry (NaN at step 0); ``val_bpc``: validation bits/char.
    ``flops_per_step_kaplan``: ``6 · N · tokens_per_step`` with N the non-embedding parameters (Kaplan et al.).
    ``stopped_by``: ``"steps"`` or ``"seconds"``, whichever budget ended the run.
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
    steps: int,
    seconds: float | None = None,
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
    """Train a next-character model in place for ``steps`` optimizer steps or ``seconds`` of training, whichever
    comes first, and return its :class:`LMCurve`.

    Args:
        model: maps ``(B, T)`` ids to ``(B, T, vocab)`` logits (or a tuple starting with them), e.g. a TinyTransformer.
        train: a CharDataset or a 1-D id tensor; each step draws ``batch_size`` random windows of ``context``
            characters (default: the dataset's, capped at the model's ``context``) from a generator seeded with
            ``seed``: the same seed gives every model the same batches.
        val: evaluated (bits/char, :func:`evaluate_lm`) at step 0, every ``eval_every`` steps and at the end, on
            ``eval_batches × eval_batch_size`` windows drawn once with ``seed`` (or on the ``(x, y)`` windows given).
            ``None``: no evaluation (``val_bpc`` is NaN).
        steps: the step budget (int >= 1). ``seconds``: the wall-clock budget (> 0, or None for none), training time
            only: evaluations pause the clock. A run stopped by the clock logs ``stopped_by="seconds"``.
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
    steps = _int("steps", steps)
    seconds = _positive("seconds", seconds, allow_none=True)
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

    def log(step: int, clock: float, train_sum: float, n: int) -> None:
        curve.step.append(step)
        curve.seconds.append(clock)
        curve.flops.append(step * curve.flops_per_step)
        curve.train_bpc.append(train_sum / n / LN2 if n else float("nan"))
        curve.val_bpc.append(val_bpc())

    bar = _bar(steps, f"train {name or type(model).__name__}", progress)
    clock, step, train_sum, n = 0.0, 0, 0.0, 0
    try:
        log(0, 0.0, 0.0, 0)
        model.train()
        while step < steps:
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
            if step % eval_every == 0 or step == steps:
                log(step, clock, train_sum, n)
                train_sum, n = 0.0, 0
                model.train()
        if curve.step[-1] != step:  # stopped by the clock between two evaluations
            log(step, clock, train_sum, n)
    finally:
        bar.close()
    model.eval()
    return curve


@dataclass
class ScaleGrid:
    """What :func:`scale_grid` returns: per model name, its ``configs`` (width, depth, heads, lr), trained
    ``models`` and :class:`LMCurve` ``curves``, in the order given."""

    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: dict[str, nn.Module] = field(default_factory=dict)
    curves: dict[str, LMCurve] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(self.curves)

    def rows(self) -> list[dict[str, Any]]:
        """Every logged point of every model (tidy: one dict per model and evaluation)."""
        return [r for c in self.curves.values() for r in c.rows()]

    def summary(self) -> list[dict[str, Any]]:
        """One dict per model: its config, parameter counts, FLOPs per step (measured and Kaplan's 6·N·tokens),
        steps done, training seconds, total FLOPs, the final validation bits/char and which budget stopped it."""
        out = []
        for name, c in self.curves.items():
            cfg = self.configs[name]
            out.append(
                {
                    "name": name,
                    "width": cfg["width"],
                    "depth": cfg["depth"],
                    "heads": cfg["heads"],
                    "lr": cfg["lr"],
                    "params": c.params,
                    "non_embedding_params": c.non_embedding_params,
                    "flops_per_step": c.flops_per_step,
                    "flops_per_step_kaplan": c.flops_per_step_kaplan,
                    "steps": c.steps,
                    "seconds": c.train_seconds,
                    "flops": c.flops[-1] if c.flops else 0,
                    "steps_per_second": c.steps / c.train_seconds if c.train_seconds > 0 else float("nan"),
                    "val_bpc": c.final_bpc,
                    "stopped_by": c.stopped_by,
                }
            )
        return out


_CONFIG_KEYS = {"width", "depth", "heads", "name", "lr", "mlp_ratio"}


def _configs(configs: object, lr: float) -> dict[str, dict[str, Any]]:
    if isinstance(configs, Mapping | str) or not isinstance(configs, Sequence) or not configs:
        raise TypeError(
            "configs must be a non-empty list of dicts such as [{'width': 64, 'depth': 1}, {'width': 128, 'depth': 2}]"
            f", got {configs!r}"
        )
    out: dict[str, dict[str, Any]] = {}
    for i, cfg in enumerate(configs):
        if not isinstance(cfg, Mapping):
            raise TypeError(f"configs[{i}] must be a dict with 'width' and 'depth', got {cfg!r}")
        unknown = sorted(set(cfg) - _CONFIG_KEYS)
        if unknown or "width" not in cfg or "depth" not in cfg:
            raise ValueError(
                f"configs[{i}] must have 'width' and 'depth' (optional: heads, name, lr, mlp_ratio), got {cfg!r}"
            )
        width = _int(f"configs[{i}]['width']", cfg["width"])
        depth = _int(f"configs[{i}]['depth']", cfg["depth"])
        heads = _int(f"configs[{i}]['heads']", cfg.get("heads", max(1, width // 32)))
        name = cfg.get("name", f"w{width}-d{depth}")
        if not isinstance(name, str) or not name:
            raise TypeError(f"configs[{i}]['name'] must be a non-empty str, got {name!r}")
        if name in out:
            raise ValueError(f"configs[{i}] repeats the name {name!r}; give each config a distinct 'name'")
        out[name] = {
            "width": width,
            "depth": depth,
            "heads": heads,
            "mlp_ratio": _int(f"configs[{i}]['mlp_ratio']", cfg.get("mlp_ratio", 4)),
            "lr": _positive(f"configs[{i}]['lr']", cfg.get("lr", lr)),
        }
    return out


def scale_grid(
    configs: Sequence[Mapping[str, Any]],
    train: CharDataset,
    val: CharDataset | tuple[Tensor, Tensor],
    *,
    steps: int,
    seconds: float | None = None,
    context: int | None = None,
    vocab_size: int = VOCAB_SIZE,
    batch_size: int = 32,
    lr: float = 2e-3,
    eval_every: int = 50,
    eval_batches: int = 8,
    eval_batch_size: int = 64,
    seed: int | None = 0,
    device: str | torch.device | None = None,
    progress: bool | None = None,
    callback: Callable[[str, int, nn.Module], None] | None = None,
    **train_kwargs: Any,
) -> ScaleGrid:
    """Build and train one :class:`~effdl.core.models.TinyTransformer` per config under the same budget.

    ``configs``: dicts with ``width`` and ``depth`` and optionally ``heads`` (default ``max(1, width // 32)``),
    ``mlp_ratio`` (4), ``lr`` (default the ``lr`` argument) and ``name`` (default ``"w{width}-d{depth}"``).
    Every model is initialized from ``seed``, sees the same batches in the same order and is evaluated on the same
    validation windows (drawn once from ``val``), so the comparison is paired. Budget: ``steps`` and ``seconds``
    per model, whichever ends first (see :func:`train_lm`, which gets the remaining keyword arguments, e.g.
    ``warmup``). ``context``: window length (default ``train.context``). ``callback(name, step, model)`` runs after
    every optimizer step of every model. Returns a :class:`ScaleGrid`.
    """
    lr_default = _positive("lr", lr)
    table = _configs(configs, lr_default)  # type: ignore[arg-type]
    if not isinstance(train, CharDataset):
        raise TypeError(f"train must be a CharDataset (effdl.load('pycode')), got {type(train).__name__}")
    ctx = _int("context", train.context if context is None else context)
    seed = _seed(seed)
    windows = _windows_arg("val", val)
    if windows is None:
        windows = lm_windows(
            val, n=_int("eval_batches", eval_batches) * _int("eval_batch_size", eval_batch_size), context=ctx, seed=seed
        )
    grid = ScaleGrid()
    for name, cfg in table.items():
        try:
            with torch.random.fork_rng(devices=[], enabled=seed is not None):
                if seed is not None:
                    torch.manual_seed(seed)
                model = TinyTransformer(
                    vocab_size,
                    width=cfg["width"],
                    depth=cfg["depth"],
                    heads=cfg["heads"],
                    context=ctx,
                    mlp_ratio=cfg["mlp_ratio"],
                )
        except (TypeError, ValueError) as err:
            raise ValueError(f"config {name!r} is not a valid TinyTransformer: {err}") from err
        curve = train_lm(
            model,
            train,
            windows,
            steps=steps,
            seconds=seconds,
            batch_size=batch_size,
            context=ctx,
            lr=cfg["lr"],
            eval_every=eval_every,
            eval_batch_size=eval_batch_size,
            seed=seed,
            device=device,
            progress=progress,
            name=name,
            callback=None if callback is None else functools.partial(callback, name),
            **train_kwargs,
        )
        grid.configs[name] = cfg
        grid.models[name] = model
        grid.curves[name] = curve
    return grid


# ----------------------------------------------------------------------------------------------------------
# Reading the curves


def _axis(x: object) -> str:
    if x not in AXES:
        raise ValueError(f"x must be one of {', '.join(repr(a) for a in AXES)}, got {x!r}")
    return x  # type: ignore[return-value]


def _curve(curve: object) -> LMCurve:
    if not isinstance(curve, LMCurve):
        raise TypeError(f"curve must be an LMCurve (from train_lm or scale_grid), got {type(curve).__name__}")
    if not curve.step:
        raise ValueError(f"curve {curve.name!r} is empty: nothing was logged")
    return curve


def to_reach(curve: LMCurve, target: float, *, x: str = "step") -> float | None:
    """The first logged ``x`` (``"step"``, ``"seconds"`` or ``"flops"``) at which the validation bits/char is
    ``<= target``; None if the run never got there. Resolution: the evaluation interval."""
    curve, x = _curve(curve), _axis(x)
    target = float(target)
    for xv, v in zip(getattr(curve, x), curve.val_bpc, strict=True):
        if v <= target:
            return xv
    return None


def steps_to_reach(curve: LMCurve, target: float) -> int | None:
    """Optimizer steps a run needed to get its validation bits/char down to ``target`` (None: never)."""
    out = to_reach(curve, target, x="step")
    return None if out is None else int(out)


def loss_at(curve: LMCurve, budget: float, *, x: str = "flops") -> float | None:
    """Validation bits/char of the run at a budget of ``budget`` on axis ``x``: the last evaluation at or before it
    (with the constant learning rate of :func:`train_lm`, what a run given exactly that budget would have reached,
    up to the evaluation interval). None if the run did not get that far (its budget ended earlier)."""
    curve, x = _curve(curve), _axis(x)
    xs = getattr(curve, x)
    if float(budget) > xs[-1]:
        return None
    i = bisect.bisect_right(xs, float(budget)) - 1
    return curve.val_bpc[i] if i >= 0 else None


def best_at_budget(curves: Mapping[str, LMCurve], budget: float, *, x: str = "flops") -> tuple[str, float] | None:
    """The compute-optimal choice: the model name with the lowest :func:`loss_at` ``budget`` (among runs that got
    that far), and that loss; None if none did."""
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError("curves must be a non-empty dict of name -> LMCurve (ScaleGrid.curves)")
    best: tuple[str, float] | None = None
    for name, c in curves.items():
        v = loss_at(c, budget, x=x)
        if v is not None and (best is None or v < best[1]):
            best = (name, v)
    return best


# ----------------------------------------------------------------------------------------------------------
# Compression


def compressible_layers(model: nn.Module) -> list[str]:
    """Names of the ``nn.Linear`` layers that :func:`compress_curve` prunes and quantizes: all of them except
    those whose weight is an ``nn.Embedding``'s weight (a tied LM head), in module order."""
    _check_model(model)
    emb = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    out = []
    for name, m in model.named_modules():
        if isinstance(m, nn.Linear):
            if hasattr(m, "parametrizations"):  # quantized: the stored parameter is the parametrization's original
                w = m.parametrizations.weight.original
            else:  # pruned: the parameter is weight_orig (weight is recomputed from it and the mask)
                w = getattr(m, "weight_orig", m.weight)
            if id(w) not in emb:
                out.append(name)
    return out


def _layers(model: nn.Module, layers: Sequence[str] | None) -> list[str]:
    allowed = compressible_layers(model)
    if layers is None:
        return allowed
    if isinstance(layers, str):
        raise TypeError(f"layers must be a list of layer names such as ['blocks.0.mlp.fc'], got the string {layers!r}")
    names = list(layers)
    linear = {n for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    unknown = [n for n in names if n not in linear]
    if unknown:
        raise ValueError(f"layers must name nn.Linear layers of the model, got {unknown}; compressible: {allowed}")
    return names


def compressed_model_bits(
    model: nn.Module,
    *,
    layers: Sequence[str] | None = None,
    bits: int | None = None,
    storage: str = "dense",
    per_channel: bool = True,
) -> int:
    """Storage cost in bits of ``model`` (as it is now: pruned and/or quantized) when the ``layers``' weights
    (default :func:`compressible_layers`) are stored compressed and everything else in fp32.

    Each chosen weight ``w`` (its effective value: ``orig * mask`` if pruned, the quantized value if quantized)
    costs ``tensor_bits(w, storage=storage)`` at 32-bit values (``bits=None``) or
    ``quantized_bits(w, bits=bits, per_channel=per_channel, storage=storage)`` (``bits``-bit codes plus one fp32
    scale per output channel or per tensor). ``storage``: ``"dense"`` (quantization alone; equals
    ``quant.quantized_model_bits``), ``"bitmask"`` or ``"csr"`` (pruned weights; zeros cost only the format's
    overhead). The rest is ``effdl.model_bits``: fp32 weights, buffers at 32 bits, pruning masks never counted.
    """
    _check_model(model)
    if storage not in STORAGES:
        raise ValueError(f"storage must be one of {', '.join(repr(s) for s in STORAGES)}, got {storage!r}")
    if bits is not None and (not is_int(bits) or not 1 <= bits <= 16):
        raise ValueError(f"bits must be None (fp32 values) or an int in 1..16, got {bits!r}")
    if not isinstance(per_channel, bool):
        raise TypeError(f"per_channel must be a bool, got {per_channel!r}")
    names = _layers(model, layers)
    if bits is not None:
        return quantized_model_bits(model, bits=bits, per_channel=per_channel, layers=names, storage=storage)
    weights, aliases = effective_weights(model), weight_aliases(model)
    total = model_bits(model)
    for key in dict.fromkeys(aliases[f"{n}.weight"] for n in names):  # a tied weight is stored once
        w = weights[key]
        total += tensor_bits(w, storage=storage) - tensor_bits(w)
    return total


def _fractions(name: str, values: object) -> list[float]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of numbers in [0, 1), got {values!r}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (math.isfinite(v) and 0.0 <= v < 1.0):
            raise ValueError(f"{name} entries must be numbers in [0, 1), got {v!r}")
        out.append(float(v))
    return out


def _bit_list(name: str, values: object) -> list[int]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of ints in 1..16, got {values!r}")
    out = []
    for v in values:
        if not is_int(v) or not 1 <= v <= 16:
            raise ValueError(f"{name} entries must be ints in 1..16, got {v!r}")
        out.append(int(v))
    return out


def _label(sparsity: float, bits: int | None) -> str:
    parts = []
    if sparsity > 0:
        parts.append(f"{round(100 * sparsity)}% pruned")
    if bits is not None:
        parts.append(f"{bits}-bit")
    return " + ".join(parts) or "fp32"


def compress_curve(
    model: nn.Module,
    val: TokenData,
    *,
    sparsities: Sequence[float] = DEFAULT_SPARSITIES,
    bits: Sequence[int] = DEFAULT_BITS,
    combined: bool | Sequence[tuple[float, int]] = True,
    layers: Sequence[str] | None = None,
    scope: str = "layer",
    storage: str = "bitmask",
    per_channel: bool = True,
    eval_batches: int = 8,
    eval_batch_size: int = 64,
    seed: int | None = 0,
    finetune_steps: int = 0,
    train: CharDataset | Tensor | None = None,
    finetune_lr: float = 1e-3,
    finetune_batch_size: int = 32,
    name: str = "",
    progress: bool | None = None,
) -> list[dict[str, Any]]:
    """Validation bits/char against compressed size for one trained model: a list of rows (dicts).

    Variants, each on a copy of ``model`` (which is never modified), one-shot when ``finetune_steps=0``:

    - ``"none"``: the fp32 model (always the first row: the reference);
    - ``"prune"``: magnitude pruning (``prune.magnitude_prune_``; ``scope="layer"``: every layer loses the same
      fraction, ``"global"``: one threshold) at each non-zero entry of ``sparsities``, stored in ``storage``;
    - ``"quant"``: post-training quantization of the weights (``quant.quantize_weights_``: symmetric, min-max, one
      scale per output channel if ``per_channel``) at each of ``bits``, dense codes;
    - ``"prune+quant"``: pruned (then made permanent) and quantized; ``combined=True`` tries every non-zero sparsity
      with every bit-width, a list of ``(sparsity, bits)`` pairs only those, ``False`` none.

    Only ``layers`` (default :func:`compressible_layers`: the blocks' Linear layers, not the tied embedding) are
    compressed. Rows: ``name``, ``method``, ``label``, ``sparsity``, ``bits`` (32 when not quantized),
    ``size_bits`` (:func:`compressed_model_bits`), ``ratio`` (fp32 size / size), ``val_bpc`` (:func:`evaluate_lm`
    on the same ``eval_batches × eval_batch_size`` windows for every variant, drawn with ``seed``, or on the
    ``(x, y)`` windows given), ``rel_increase`` (``val_bpc / fp32 val_bpc − 1``) and ``finetune_steps``.

    Prune, then fine-tune: with ``finetune_steps > 0`` every pruned model trains that many more steps on ``train``
    with its mask fixed (:func:`train_lm`: AdamW at ``finetune_lr``, no weight decay, ``finetune_batch_size``
    windows per step, batches drawn with ``seed``) before it is evaluated or quantized. So that the comparison stays
    fair, the dense reference gets the same extra steps on the same batches, and the ``"quant"`` rows quantize that
    fine-tuned dense model: every row has seen exactly ``finetune_steps`` more batches than ``model``.
    Quantization itself stays post-training (no quantization-aware steps).
    """
    _check_model(model)
    levels = [s for s in _fractions("sparsities", sparsities) if s > 0]
    widths = _bit_list("bits", bits)
    if scope not in ("global", "layer"):
        raise ValueError(f"scope must be 'global' or 'layer', got {scope!r}")
    if storage not in STORAGES:
        raise ValueError(f"storage must be one of {', '.join(repr(s) for s in STORAGES)}, got {storage!r}")
    if not isinstance(per_channel, bool):
        raise TypeError(f"per_channel must be a bool, got {per_channel!r}")
    if combined is True:
        pairs = [(s, b) for s in levels for b in widths]
    elif combined is False:
        pairs = []
    elif isinstance(combined, Sequence) and not isinstance(combined, str):
        pairs = []
        for i, pair in enumerate(combined):
            if not (isinstance(pair, Sequence) and len(pair) == 2):
                raise TypeError(f"combined[{i}] must be a (sparsity, bits) pair, got {pair!r}")
            s = _fractions(f"combined[{i}] sparsity", [pair[0]])[0]
            if s == 0:
                raise ValueError(f"combined[{i}] sparsity must be > 0 (0 is plain quantization), got {pair[0]!r}")
            pairs.append((s, _bit_list(f"combined[{i}] bits", [pair[1]])[0]))
    else:
        raise TypeError(f"combined must be True, False or a list of (sparsity, bits) pairs, got {combined!r}")
    names = _layers(model, layers)
    if not names:
        raise ValueError("model has no nn.Linear layer to compress (besides a tied embedding)")
    finetune_steps = _int("finetune_steps", finetune_steps, low=0)
    if finetune_steps and train is None:
        raise ValueError("finetune_steps > 0 needs the training data: pass train=<CharDataset or 1-D id tensor>")
    finetune_lr = _positive("finetune_lr", finetune_lr)  # type: ignore[assignment]
    finetune_batch_size = _int("finetune_batch_size", finetune_batch_size)
    windows = _windows_arg("val", val)
    if windows is None:
        ctx = None
        if isinstance(val, CharDataset):
            limit = _context_of(model)
            ctx = min(val.context, limit) if limit is not None else val.context
        windows = lm_windows(
            val, n=_int("eval_batches", eval_batches) * _int("eval_batch_size", eval_batch_size), context=ctx, seed=seed
        )  # type: ignore[arg-type]
    eval_batch_size = _int("eval_batch_size", eval_batch_size)

    variants: list[tuple[str, float, int | None]] = [("none", 0.0, None)]
    variants += [("prune", s, None) for s in levels]
    variants += [("quant", 0.0, b) for b in widths]
    variants += [("prune+quant", s, b) for s, b in pairs]
    fp32_bits = compressed_model_bits(model, layers=names)
    rows: list[dict[str, Any]] = []
    # every starting point a variant needs: dense, each pruning level, and any level only a combined pair uses
    tuned = list(dict.fromkeys([0.0, *levels, *(s for s, _ in pairs)])) if finetune_steps else []
    bar = _bar(len(variants) + len(tuned), f"compress {name or type(model).__name__}", progress)

    def finetuned(sparsity: float) -> nn.Module:
        # Each starting point is pruned (or not) and fine-tuned once, then shared by its quantized variants.
        work = copy.deepcopy(model)
        if sparsity > 0:
            magnitude_prune_(work, sparsity, scope=scope, layers=names)
        train_lm(
            work,
            train,  # type: ignore[arg-type]
            steps=finetune_steps,
            batch_size=finetune_batch_size,
            lr=finetune_lr,
            warmup=0,
            weight_decay=0.0,
            seed=seed,
            progress=False,
            name=f"{name} {_label(sparsity, None)}",
        )
        with torch.no_grad():  # pruned weights still hold the last step's graph, which deepcopy refuses: recompute
            for m in work.modules():
                if hasattr(m, "weight_orig") and hasattr(m, "weight_mask"):
                    m.weight = m.weight_orig * m.weight_mask
        work.eval()
        bar.update(1)
        return work

    try:
        start = {s: finetuned(s) for s in tuned}
        for method, s, b in variants:
            if finetune_steps:
                work = copy.deepcopy(start[s]) if b is not None else start[s]
                if s > 0 and b is not None:
                    make_permanent_(work)
            else:
                work = copy.deepcopy(model) if method != "none" else model
                if s > 0:
                    magnitude_prune_(work, s, scope=scope, layers=names)
                    if b is not None:
                        make_permanent_(work)  # bake the zeros in: quantization parametrizes the plain weight
            if b is not None:
                quantize_weights_(work, bits=b, per_channel=per_channel, layers=names)
            size = compressed_model_bits(
                work, layers=names, bits=b, storage=storage if s > 0 else "dense", per_channel=per_channel
            )
            bpc = evaluate_lm(work, windows, batch_size=eval_batch_size)
            rows.append(
                {
                    "name": name,
                    "method": method,
                    "label": _label(s, b),
                    "sparsity": s,
                    "bits": 32 if b is None else b,
                    "size_bits": size,
                    "ratio": fp32_bits / size,
                    "val_bpc": bpc,
                    "finetune_steps": finetune_steps,
                }
            )
            bar.update(1)
    finally:
        bar.close()
    base = rows[0]["val_bpc"]
    for r in rows:
        r["rel_increase"] = r["val_bpc"] / base - 1.0
    return rows


# ----------------------------------------------------------------------------------------------------------
# Size against loss: frontier, best point under a cap, large-and-compressed against small


def _rows(rows: object, keys: Sequence[str] = ("size_bits", "val_bpc")) -> list[Mapping[str, Any]]:
    if isinstance(rows, Mapping | str) or not isinstance(rows, Sequence):
        raise TypeError(f"rows must be a list of dicts (compress_curve rows), got {type(rows).__name__}")
    for i, r in enumerate(rows):
        if not isinstance(r, Mapping) or any(k not in r for k in keys):
            raise ValueError(f"rows[{i}] must be a dict with {list(keys)}, got {r!r}")
    return list(rows)


def size_loss_frontier(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The Pareto-optimal rows of (``size_bits``, ``val_bpc``), both minimized (``effdl.pareto_front``), sorted by
    size: for every size, the lowest loss any model/compression reached at that size or below."""
    table = _rows(rows)
    if not table:
        return []
    keep = pareto_front([(float(r["size_bits"]), float(r["val_bpc"])) for r in table], maximize=(False, False))
    return [dict(table[i]) for i in keep]


def best_under(
    rows: Sequence[Mapping[str, Any]],
    max_bits: float | None = None,
    *,
    where: Callable[[Mapping[str, Any]], bool] | None = None,
) -> dict[str, Any] | None:
    """The row with the lowest ``val_bpc`` among those with ``size_bits <= max_bits`` (None: any size) that pass
    ``where(row)``; ties go to the smaller size. None if no row qualifies."""
    table = _rows(rows)
    cap = _positive("max_bits", max_bits, allow_none=True)
    if where is not None and not callable(where):
        raise TypeError(f"where must be None or a function row -> bool, got {type(where).__name__}")
    ok = [r for r in table if (cap is None or r["size_bits"] <= cap) and (where is None or where(r))]
    if not ok:
        return None
    return dict(min(ok, key=lambda r: (float(r["val_bpc"]), float(r["size_bits"]))))


def _is_heavy(row: Mapping[str, Any], heavy_sparsity: float, heavy_bits: int) -> bool:
    return float(row["sparsity"]) >= heavy_sparsity or int(row["bits"]) <= heavy_bits


def large_vs_small(
    rows: Sequence[Mapping[str, Any]],
    *,
    small: str,
    params: Mapping[str, int],
    heavy_sparsity: float = 0.7,
    heavy_bits: int = 4,
    max_bits: float | None = None,
) -> dict[str, Any]:
    """Li et al.'s headline test on :func:`compress_curve` rows of several models.

    - *small, lightly compressed*: the rows of model ``small`` that are **not** heavy (sparsity below
      ``heavy_sparsity`` and more than ``heavy_bits`` bits, the fp32 model included); the best is the lowest loss;
    - *large, heavily compressed*: the heavy rows (sparsity >= ``heavy_sparsity`` or <= ``heavy_bits`` bits) of
      every model with more parameters than ``small`` (``params``: name -> parameter count), whose size is at most
      ``max_bits`` (default: the size of ``small``'s fp32 row, "no larger than the small model"); the best is the
      lowest loss.

    Returns ``{"small_light": row, "large_heavy": row or None, "max_bits": cap, "wins": bool, "margin_bpc": float}``
    where ``wins`` says the large heavy point has the lower loss and ``margin_bpc`` = small's − large's loss (NaN
    when no large heavy point fits under the cap).
    """
    table = _rows(rows, ("name", "size_bits", "val_bpc", "sparsity", "bits", "method"))
    if not isinstance(params, Mapping) or small not in params:
        raise ValueError(f"params must be a dict of model name -> parameter count that includes small={small!r}")
    heavy_sparsity = _fractions("heavy_sparsity", [heavy_sparsity])[0]
    heavy_bits = _int("heavy_bits", heavy_bits)
    mine = [r for r in table if r["name"] == small]
    if not mine:
        raise ValueError(f"no rows for small={small!r}; models in rows: {sorted({r['name'] for r in table})}")
    light = [r for r in mine if not _is_heavy(r, heavy_sparsity, heavy_bits)]
    if not light:
        raise ValueError(f"model {small!r} has no lightly compressed row (fp32, or sparsity < {heavy_sparsity})")
    small_light = best_under(light)
    assert small_light is not None
    if max_bits is None:
        fp32 = [r for r in mine if r["method"] == "none"]
        cap = float(fp32[0]["size_bits"]) if fp32 else max(float(r["size_bits"]) for r in light)
    else:
        cap = float(_positive("max_bits", max_bits))  # type: ignore[arg-type]
    bigger = {n for n, p in params.items() if p > params[small]}
    large_heavy = best_under(
        [r for r in table if r["name"] in bigger], cap, where=lambda r: _is_heavy(r, heavy_sparsity, heavy_bits)
    )
    margin = float("nan") if large_heavy is None else small_light["val_bpc"] - large_heavy["val_bpc"]
    return {
        "small_light": small_light,
        "large_heavy": large_heavy,
        "max_bits": cap,
        "wins": large_heavy is not None and large_heavy["val_bpc"] < small_light["val_bpc"],
        "margin_bpc": margin,
    }
