"""Several sizes under one budget: :func:`scale_grid` trains a TinyTransformer per config on the same batches, and the
curves are read at a budget of steps, seconds or FLOPs (:func:`to_reach`, :func:`loss_at`, :func:`best_at_budget`)."""

from __future__ import annotations

import bisect
import functools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from effdl.compress.scaling._checks import _int, _nonneg, _positive, _seed
from effdl.compress.scaling.lm import AXES, LMCurve, _windows_arg, lm_windows, train_lm
from effdl.core.data import VOCAB_SIZE, CharDataset
from effdl.core.models import TinyTransformer


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
    steps: int | None = None,
    seconds: float | None = None,
    flops: float | None = None,
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
    validation windows (drawn once from ``val``), so the comparison is paired. Budget per model: ``steps``,
    ``seconds`` and/or ``flops``, whichever ends first (see :func:`train_lm`, which gets the remaining keyword
    arguments, e.g. ``warmup``). ``flops`` is the fair budget across sizes: every model gets the same training
    compute (measured FLOPs), so a larger model does fewer steps. ``context``: window length (default
    ``train.context``). ``callback(name, step, model)`` runs after every optimizer step of every model. Returns a
    :class:`ScaleGrid`.
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
            flops=flops,
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
    # float("1.5") would accept a string and NaN would silently never be reached
    if isinstance(target, bool) or not isinstance(target, numbers.Real):
        raise TypeError(f"target must be a number (bits/char), got {target!r}")
    if not math.isfinite(target):
        raise ValueError(f"target must be a finite number (bits/char), got {target}")
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
    budget = _nonneg("budget", budget)  # NaN compares False everywhere and would return the last loss
    xs = getattr(curve, x)
    if budget > xs[-1]:
        return None
    i = bisect.bisect_right(xs, budget) - 1
    return curve.val_bpc[i] if i >= 0 else None


def best_at_budget(curves: Mapping[str, LMCurve], budget: float, *, x: str = "flops") -> tuple[str, float] | None:
    """The compute-optimal choice: the model name with the lowest :func:`loss_at` ``budget`` (among runs that got
    that far), and that loss; None if none did."""
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError("curves must be a non-empty dict of name -> LMCurve (ScaleGrid.curves)")
    budget = _nonneg("budget", budget)
    best: tuple[str, float] | None = None
    for name, c in curves.items():
        v = loss_at(c, budget, x=x)
        if v is not None and (best is None or v < best[1]):
            best = (name, v)
    return best
