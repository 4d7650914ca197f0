"""What the measured stages say: the global Pareto front, the prune/quantize ordering study, a decision guide, and
:func:`compress` — the pipeline chosen for a user's model, data and goal.

Every choice here is made on validation accuracy; test accuracy is carried along to be reported, never to choose.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from torch import nn

from effdl.core import footprint as F
from effdl.core.train import Data
from effdl.guide import packfile
from effdl.guide.pipeline import Stage, Step, parse_step, run_pipeline

__all__ = [
    "DEFAULT_CANDIDATES",
    "GOALS",
    "Advice",
    "Compressed",
    "OrderingStudy",
    "compress",
    "decide",
    "distinct_stages",
    "ordering_study",
    "pareto",
    "run_pipelines",
]

# goal -> (Stage attribute to minimize, what it means)
GOALS: dict[str, tuple[str, str]] = {
    "disk": ("file_bytes", "bytes on disk"),
    "latency": ("latency_ms", "CPU latency"),
    "energy": ("energy_uj", "energy per image"),
}

# The candidates compress() tries: one per family and the combinations Deep Compression and this series suggest.
DEFAULT_CANDIDATES: tuple[tuple[str, ...], ...] = (
    ("qat:8",),
    ("qat:4",),
    ("prune:0.9",),
    ("channels:0.5", "qat:8"),
    ("prune:0.9", "qat:4"),
    ("prune:0.9", "palette:4"),
    ("prune:0.95", "palette:3"),
)


def distinct_stages(stages: Sequence[Stage]) -> list[Stage]:
    """Stages with distinct step lists (every pipeline repeats the fp32 start), first kept, in order."""
    seen: set[tuple[str, ...]] = set()
    out = []
    for s in stages:
        if s.steps not in seen:
            seen.add(s.steps)
            out.append(s)
    return out


def pareto(stages: Sequence[Stage], *, x: str = "file_bytes", accuracy: str = "val_acc") -> list[Stage]:
    """The stages on the front of smaller ``x`` (a :class:`Stage` field such as ``"file_bytes"``, ``"latency_ms"``,
    ``"energy_uj"``) and higher ``accuracy`` (``"val_acc"`` to choose, ``"test_acc"`` to describe), sorted by ``x``."""
    if x not in Stage.__dataclass_fields__ or accuracy not in ("val_acc", "test_acc"):
        raise ValueError(f"x must be a Stage field and accuracy 'val_acc' or 'test_acc', got {x!r}, {accuracy!r}")
    _check_stages(stages)
    pts = distinct_stages(stages)
    idx = F.pareto_front([(float(getattr(s, x)), float(getattr(s, accuracy))) for s in pts])
    return [pts[i] for i in idx]


@dataclass(frozen=True)
class Advice:
    """The best stage for one goal among those within ``max_drop`` of the reference's validation accuracy."""

    goal: str
    stage: Stage
    reference: Stage
    max_drop: float
    gain: float  # reference metric ÷ chosen metric (× better)

    @property
    def clear(self) -> bool:
        """Whether the gain is beyond measurement noise: sizes and energy are exact; for latency the interquartile
        ranges of the chosen stage and of the reference must not overlap."""
        if self.goal != "latency":
            return self.gain > 1
        s, r = self.stage, self.reference
        return s.latency_ms + s.latency_iqr_ms / 2 < r.latency_ms - r.latency_iqr_ms / 2

    @property
    def text(self) -> str:
        what = GOALS[self.goal][1]
        if not self.clear:
            return f"for {what}: nothing within {100 * self.max_drop:g} points beats fp32 beyond noise"
        return (
            f"for {what}: {self.stage.label} — {self.gain:.1f}× less than fp32, test accuracy "
            f"{100 * self.stage.test_acc:.1f} % (fp32 {100 * self.reference.test_acc:.1f} %; chosen on validation "
            f"within {100 * self.max_drop:g} points)"
        )


def _check_stages(stages: object) -> None:
    if isinstance(stages, str | bytes) or not isinstance(stages, Sequence):
        raise TypeError(
            f"stages must be a list of Stage (from run_pipeline/run_pipelines), got {type(stages).__name__}"
        )
    wrong = [type(s).__name__ for s in stages if not isinstance(s, Stage)]
    if wrong:
        raise TypeError(f"stages must hold only Stage objects, got {wrong[0]}")


def _check_max_drop(max_drop: object) -> None:
    if not isinstance(max_drop, int | float) or isinstance(max_drop, bool) or not 0 <= max_drop < 1:
        raise ValueError(f"max_drop must be a fraction in [0, 1), got {max_drop!r}")


def decide(stages: Sequence[Stage], *, max_drop: float = 0.02, goals: Sequence[str] = tuple(GOALS)) -> list[Advice]:
    """Per goal of :data:`GOALS`, the stage that minimizes it among those whose validation accuracy is at most
    ``max_drop`` (a fraction) below the unchanged model's (the stage with no steps). Ties: fewer steps, then
    higher validation accuracy."""
    _check_max_drop(max_drop)
    _check_stages(stages)
    pts = distinct_stages(stages)
    refs = [s for s in pts if not s.steps]
    if not refs:
        raise ValueError("stages must include the unchanged model (a stage with no steps) as the reference")
    ref = refs[0]
    ok = [s for s in pts if s.val_acc >= ref.val_acc - max_drop - 1e-12]
    out = []
    for goal in goals:
        if goal not in GOALS:
            raise ValueError(f"goals entries must be in {sorted(GOALS)}, got {goal!r}")
        key = GOALS[goal][0]
        best = min(ok, key=lambda s: (getattr(s, key), len(s.steps), -s.val_acc))
        out.append(Advice(goal, best, ref, float(max_drop), getattr(ref, key) / getattr(best, key)))
    return out


@dataclass(frozen=True)
class OrderingStudy:
    """Prune → quantize against quantize → prune at equal sparsity, bits and fine-tuning, one row per seed."""

    sparsity: float
    bits: int
    seeds: tuple[int, ...]
    prune_first: list[Stage] = field(repr=False)
    quant_first: list[Stage] = field(repr=False)

    def _acc(self, rows: list[Stage], which: str) -> tuple[float, float]:
        values = [getattr(s, which) for s in rows]
        return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0

    def summary(self, which: str = "test_acc") -> dict[str, tuple[float, float]]:
        """``{"prune → quantize": (mean, std), "quantize → prune": (mean, std)}`` of ``which`` over seeds."""
        return {
            "prune → quantize": self._acc(self.prune_first, which),
            "quantize → prune": self._acc(self.quant_first, which),
        }

    @property
    def differences(self) -> list[float]:
        """Test accuracy, prune-first minus quantize-first, per seed (same seed = same trained model)."""
        return [a.test_acc - b.test_acc for a, b in zip(self.prune_first, self.quant_first, strict=True)]


def ordering_study(
    trained: Callable[[int], nn.Module],
    train: Data,
    val: Data,
    test: Data,
    *,
    sparsity: float = 0.9,
    bits: int = 4,
    seeds: Sequence[int] = (0, 1, 2),
    epochs: int = 1,
    codec: str = "lzss",
    latency_repeats: int = 5,
    progress: bool | None = None,
) -> OrderingStudy:
    """For each seed, ``trained(seed)`` (a trained model) goes through ``prune → qat`` and ``qat → prune`` (both: two
    fine-tuning steps of ``epochs``, the same sparsity and ``bits``-bit per-tensor grid, the same seed)."""
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    a, b = parse_step(f"prune:{sparsity}"), parse_step(f"qat:{bits}")
    first, second = [], []
    for seed in seeds:
        model = trained(seed)
        for order, out in (((a, b), first), ((b, a), second)):
            stages, _ = run_pipeline(
                model, order, train, val, test, epochs=epochs, codec=codec, seed=seed,
                latency_repeats=latency_repeats, progress=progress,
            )  # fmt: skip
            out.append(stages[-1])
    return OrderingStudy(float(sparsity), int(bits), tuple(seeds), first, second)


def run_pipelines(
    model: nn.Module,
    pipelines: Sequence[Sequence[str | Step]],
    train: Data,
    val: Data,
    test: Data | None = None,
    *,
    progress: bool | None = None,
    keep_models: bool = False,
    **kwargs: object,
) -> list[Stage] | tuple[list[Stage], list[nn.Module]]:
    """:func:`~effdl.guide.run_pipeline` for every pipeline of ``pipelines`` on the same trained ``model`` (same
    seed and fine-tuning for each), with a progress bar over pipelines. Returns all stages, the unchanged model's
    once (first); with ``keep_models`` also each stage's decoded model. ``kwargs`` go to ``run_pipeline``."""
    from tqdm.auto import tqdm

    from effdl.core.train import progress_enabled

    if isinstance(pipelines, str) or not pipelines:
        raise ValueError("pipelines must be a non-empty list of step lists, e.g. [['prune:0.9', 'qat:4']]")
    stages: list[Stage] = []
    models: list[nn.Module] = []
    bar = tqdm(pipelines, desc="pipelines", unit="pipeline", disable=not progress_enabled(progress), leave=False)
    for steps in bar:
        if isinstance(steps, str):
            raise TypeError(f"each pipeline must be a list of steps, got the string {steps!r}")
        got, decoded = run_pipeline(model, list(steps), train, val, test, progress=False, **kwargs)  # type: ignore[arg-type]
        first = 0 if not stages else 1  # every pipeline starts from the same unchanged model
        stages += got[first:]
        models += decoded[first:] if keep_models else []
    return (stages, models) if keep_models else stages


@dataclass(frozen=True)
class Compressed:
    """What :func:`compress` chose: the decoded ``model``, its file ``blob`` (``len(blob)`` bytes on disk), the
    chosen ``stage`` and every measured stage (``stages``)."""

    model: nn.Module
    blob: bytes
    stage: Stage
    stages: list[Stage]
    target: str
    max_drop: float

    def summary(self) -> str:
        s = self.stage
        ref = self.stages[0]
        return (
            f"{s.label}: {s.file_bytes:,} bytes on disk ({s.ratio:.1f}× smaller than fp32's {s.fp32_bytes:,}), "
            f"validation accuracy {100 * s.val_acc:.1f} % (fp32 {100 * ref.val_acc:.1f} %), "
            f"latency {s.latency_ms:.3g} ms (fp32 {ref.latency_ms:.3g}), energy {s.energy_uj:.3g} µJ per image"
        )


def compress(
    model: nn.Module,
    train: Data,
    val: Data,
    *,
    target: str = "disk",
    max_drop: float = 0.02,
    candidates: Sequence[Sequence[str | Step]] = DEFAULT_CANDIDATES,
    test: Data | None = None,
    epochs: int = 1,
    codec: str = "lzss",
    latency_repeats: int = 10,
    seed: int | None = 0,
    progress: bool | None = None,
) -> Compressed:
    """Compress a trained ``model`` for ``target`` (``"disk"``, ``"latency"`` or ``"energy"``): run every candidate
    pipeline (fine-tuning on ``train``), keep the stage that minimizes the target among those whose *validation*
    accuracy is within ``max_drop`` (fraction) of the model's, and return it decoded from its file.

    ``model`` is not changed. ``test``, if given, is only evaluated and reported. If no stage meets the constraint,
    the unchanged model is returned (its stage has no steps)."""
    if not isinstance(model, nn.Module):  # checked before any pipeline runs, not after minutes of fine-tuning
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if target not in GOALS:
        raise ValueError(f"target must be one of {sorted(GOALS)}, got {target!r}")
    _check_max_drop(max_drop)
    if not candidates:
        raise ValueError("candidates must hold at least one pipeline, e.g. [('prune:0.9', 'qat:4')]")
    stages, models = run_pipelines(
        model, candidates, train, val, test, progress=progress, keep_models=True, epochs=epochs, codec=codec,
        seed=seed, latency_repeats=latency_repeats,
    )  # type: ignore[misc]  # fmt: skip
    chosen = decide(stages, max_drop=max_drop, goals=(target,))[0].stage
    decoded_model = models[stages.index(chosen)]
    return Compressed(decoded_model, packfile.pack(decoded_model, codec=codec), chosen, stages, target, float(max_drop))
