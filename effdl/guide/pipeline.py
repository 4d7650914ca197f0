"""One model through a chain of compression steps, every stage measured end to end.

A pipeline is a list of steps (``"prune:0.9"``, ``"qat:4"``, …, see :data:`STEP_KINDS`). Each step transforms a
copy of the model and, where the technique trains, fine-tunes it for the same number of epochs (equal compute per
step). Weights that a step set to zero stay zero through every later fine-tuning (masks are re-applied after each
optimizer step), and quantized weights stay on their grid, so the last stage is exactly what the file stores.

After every step the stage is measured: bytes on disk (the real :func:`effdl.guide.packfile.pack` file, with and
without the LZSS codec), validation and test accuracy of the model *decoded from that file*, CPU latency (median
and IQR), BOPs and an energy estimate (:func:`energy_uj`).
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

from effdl.compress import distill as D
from effdl.compress import lowrank, palettize, prune, quant
from effdl.compress import range_reg as R2
from effdl.core import footprint as F
from effdl.core.models import MLP, SmallCNN
from effdl.core.train import Data, evaluate, fit
from effdl.guide import packfile

__all__ = [
    "DRAM_PJ_PER_BYTE",
    "FP32_MAC_PJ",
    "INT8_MAC_PJ",
    "STEP_KINDS",
    "Stage",
    "Step",
    "energy_uj",
    "parse_step",
    "run_pipeline",
]

# step kind -> (what its value means, allowed range, whether it fine-tunes)
STEP_KINDS: dict[str, tuple[str, str, bool]] = {
    "prune": ("fraction of Conv2d/Linear weights zeroed (global magnitude)", "(0, 1)", True),
    "channels": ("fraction of output channels removed per layer (L1 filter norm)", "(0, 1)", True),
    "lowrank": ("energy kept by the SVD of every Linear layer but the last", "(0, 1]", True),
    "distill": ("width of the student relative to the model (SmallCNN/MLP)", "(0, 1)", True),
    "r2": ("fine-tune with the margin range regularizer (R², ch. 05) of this strength", "(0, 1]", True),
    "ptq": ("weight bits, per-tensor uniform grid, 8-bit activations, no training", "2..8", False),
    "qat": ("weight bits, per-tensor LSQ grid learned while fine-tuning, 8-bit activations", "2..8", True),
    "palette": ("weight bits: a 2**b-entry k-means palette per weight (weight sharing), no training", "1..8", False),
    "sbs": ("λ of SBS's BOPs cost (ch. 06): searched per-layer bits and channels, then fine-tuned", "(0, 100]", True),
}

# Horowitz (ISSCC 2014), 45 nm: fp32 multiply 3.7 pJ + add 0.9 pJ; int8 multiply 0.2 pJ + int32 add 0.03 pJ (≈ an
# 8-bit MAC); a 32-bit DRAM access 640 pJ. An integer MAC's energy is scaled by its bit operations (w_bits × a_bits
# / 64), the BOPs convention.
FP32_MAC_PJ = 4.6
INT8_MAC_PJ = 0.23
DRAM_PJ_PER_BYTE = 160.0
ACT_BITS = 8


@dataclass(frozen=True)
class Step:
    """One pipeline step: a ``kind`` of :data:`STEP_KINDS` and its ``value``."""

    kind: str
    value: float

    def __post_init__(self) -> None:
        if self.kind not in STEP_KINDS:
            raise ValueError(f"step kind must be one of {sorted(STEP_KINDS)}, got {self.kind!r}")
        v = self.value
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise TypeError(f"step value must be a number, got {v!r}")
        allowed = STEP_KINDS[self.kind][1]
        if allowed.startswith("("):
            hi = float(allowed.split(", ")[1][:-1])
            ok = 0 < v < hi if allowed.endswith(")") else 0 < v <= hi
        else:
            lo, hi = (int(s) for s in allowed.split(".."))
            ok = float(v).is_integer() and lo <= v <= hi
        if not ok:
            raise ValueError(f"{self.kind} value must be in {allowed} ({STEP_KINDS[self.kind][0]}), got {v!r}")

    @property
    def label(self) -> str:
        v = self.value
        return {
            "prune": f"prune {100 * v:.0f}%",
            "channels": f"channels −{100 * v:.0f}%",
            "lowrank": f"low-rank {100 * v:.0f}% energy",
            "distill": f"distill ×{v:g}",
            "r2": f"R² λ={v:g}",
            "ptq": f"PTQ {int(v)}-bit",
            "qat": f"QAT {int(v)}-bit",
            "palette": f"palette {int(v)}-bit",
            "sbs": f"SBS λ={v:g}",
        }[self.kind]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value:g}"


def parse_step(spec: str | Step) -> Step:
    """``"prune:0.9"`` → ``Step("prune", 0.9)`` (a :class:`Step` passes through)."""
    if isinstance(spec, Step):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"a step must be a 'kind:value' string or a Step, got {type(spec).__name__}: {spec!r}")
    if spec.count(":") != 1:
        raise ValueError(f"a step must be 'kind:value' with kind in {sorted(STEP_KINDS)}, got {spec!r}")
    kind, value = spec.split(":")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"step {spec!r}: the value after ':' must be a number") from None
    return Step(
        kind.strip(), int(number) if number.is_integer() and kind.strip() in ("ptq", "qat", "palette") else number
    )


@dataclass(frozen=True)
class Stage:
    """The model after ``steps`` (labels), measured. Bytes are real file sizes: ``file_bytes`` with the codec,
    ``packed_bytes`` without, ``fp32_bytes`` what ``torch.save`` writes for the unchanged model; ``ratio`` is the
    unchanged model's packed file over this one (1 for the first stage: the conservative denominator, a little
    smaller than ``torch.save``'s). Accuracies in [0, 1] are of the model decoded from the file; latency in ms of
    one batch of ``latency_batch`` validation inputs (median and IQR); BOPs and energy (µJ) per image."""

    pipeline: str
    steps: tuple[str, ...]
    file_bytes: int
    packed_bytes: int
    fp32_bytes: int
    ratio: float
    val_acc: float
    test_acc: float
    latency_ms: float
    latency_iqr_ms: float
    params: int
    nonzero: int
    macs: int
    bops: int
    energy_uj: float
    weight_bits: int

    @property
    def label(self) -> str:
        return " → ".join(self.steps) or "fp32"

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "label": self.label}


# ----------------------------------------------------------------------------------------------------
# Keeping zeros zero and grids on grid while fine-tuning


def _latent(module: nn.Module) -> torch.Tensor:
    """The trainable tensor behind ``module.weight`` (the float original under a fake-quantizer)."""
    from torch.nn.utils import parametrize

    if parametrize.is_parametrized(module, "weight"):
        return module.parametrizations.weight.original
    return module.weight


def _layers(model: nn.Module) -> dict[str, nn.Module]:
    return {n: m for n, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)}


def _zero_masks(model: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
    out = []
    for m in _layers(model).values():
        w = m.weight.detach()
        if bool((w == 0).any()):
            out.append((_latent(m), w != 0))
    return out


def _finetune(model: nn.Module, train: Data, val: Data | None, cfg: _Config, *, extra_loss=None) -> None:
    masks = _zero_masks(model)

    def keep_zeros(_step: int, _model: nn.Module) -> None:
        with torch.no_grad():
            for p, keep in masks:
                p.mul_(keep)

    fit(
        model,
        train,
        epochs=cfg.epochs,
        extra_loss=extra_loss,
        callback=keep_zeros if masks else None,
        **cfg.fit_kwargs(),
    )


def _bake_weights_(model: nn.Module) -> nn.Module:
    """Fold weight fake-quantizers into plain weights, keeping activation quantizers (unlike
    ``quant.remove_quantization_``): the deployed model computes on the grid it was evaluated on."""
    from torch.nn.utils import parametrize

    for m in model.modules():
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
    return model


@dataclass(frozen=True)
class _Config:
    epochs: int
    distill_epochs: int
    lr: float
    batch_size: int
    seed: int | None
    progress: bool | None

    def fit_kwargs(self) -> dict[str, object]:
        """What every training call of a step shares: Adam's rate, the batch size, the seed and the progress bar."""
        return {"lr": self.lr, "batch_size": self.batch_size, "seed": self.seed, "progress": self.progress}


# ----------------------------------------------------------------------------------------------------
# The steps


def _student(model: nn.Module, width: float) -> nn.Module:
    def scale(c: int) -> int:
        return max(1, round(c * width))

    if isinstance(model, SmallCNN):
        return SmallCNN(model.in_shape, model.num_classes, [scale(c) for c in model.channels], scale(model.hidden))
    if isinstance(model, MLP):
        return MLP(model.in_shape, model.num_classes, [scale(h) for h in model.hidden])
    raise ValueError(
        f"the distill step builds a narrower SmallCNN or MLP; got {type(model).__name__}: distil into your own "
        "student with effdl.compress.distill.distill and continue the pipeline from it"
    )


def _palettize_nonzeros_(model: nn.Module, bits: int, seed: int | None) -> None:
    """Deep Compression's weight sharing: k-means over each weight's non-zeros only, so pruned zeros stay free."""
    with torch.no_grad():
        for m in _layers(model).values():
            w = m.weight
            nz = w != 0
            if int(nz.sum()) == 0:
                continue
            centroids, labels = palettize.kmeans_1d(w[nz], 2**bits, seed=seed)
            w[nz] = centroids[labels].to(w.dtype)


Bits = dict[str, tuple[int, int]]  # layer name -> (weight bits, activation bits)


def _uniform_bits(model: nn.Module, bits: int) -> Bits:
    return {n: (bits, ACT_BITS) for n in _layers(model)}


def _bits_of(model: nn.Module) -> Bits:
    """Per layer, the bits of its weight quantizer and of its input quantizer (32 where there is none)."""
    out = {}
    for n, m in _layers(model).items():
        from torch.nn.utils import parametrize

        w = [p.bits for p in m.parametrizations["weight"]] if parametrize.is_parametrized(m, "weight") else [32]
        a = getattr(getattr(m, "input_quantizer", None), "bits", 32)
        out[n] = (int(w[0]), int(a))
    return out


def _attach_weight_lsq_(model: nn.Module, bits: Bits) -> None:
    """An LSQ weight quantizer on every Conv2d/Linear at its layer's bits (per tensor, what ``quant.prepare_qat_``
    inserts), leaving any activation quantizer in place, so fine-tuning keeps the weights on their grid."""
    from torch.nn.utils import parametrize

    for n, m in _layers(model).items():
        if bits.get(n, (32, 32))[0] >= 32:  # a layer left in fp32 stays fp32
            continue
        w = m.weight.detach()
        lsq = quant.LSQQuantizer(bits[n][0], signed=True).init_from(w)
        parametrize.register_parametrization(m, "weight", lsq)


def _apply(
    step: Step, model: nn.Module, wbits: Bits | None, train: Data, val: Data | None, cfg: _Config
) -> tuple[nn.Module, int | None]:
    """The model after ``step`` (a new object or ``model`` changed) and its weight bit width afterwards."""
    kind, v = step.kind, step.value
    if kind == "prune":
        masks = _zero_masks(model)  # zeros of an earlier step must stay zero: prune among the rest
        prune.magnitude_prune_(model, v)
        prune.make_permanent_(model)
        with torch.no_grad():
            for p, keep in masks:
                p.mul_(keep)
        if wbits is not None:  # already quantized: fine-tune on the same grid (quantize → prune)
            _attach_weight_lsq_(model, wbits)
        _finetune(model, train, val, cfg)
        return _bake_weights_(model), wbits
    if kind == "sbs":
        from effdl.compress import sbs

        config = sbs.search(
            model, train, lam=float(v), epochs=cfg.epochs, **cfg.fit_kwargs(),
        )  # fmt: skip
        built = sbs.finalize(
            model, config, train, epochs=cfg.epochs, **cfg.fit_kwargs(),
        )  # fmt: skip
        bits_of = _bits_of(built)  # before baking: the quantizers say the bits
        return _bake_weights_(built), bits_of
    if kind == "channels":
        model = prune.prune_channels(model, v)
        _finetune(model, train, val, cfg)
        return model, None
    if kind == "lowrank":
        names = [n for n, m in _layers(model).items() if isinstance(m, nn.Linear)][:-1]
        if not names:
            raise ValueError("the lowrank step factorizes Linear layers but the last; the model has none")
        lowrank.factorize_(model, energy=float(v), layers=names)
        _finetune(model, train, val, cfg)
        return model, None
    if kind == "distill":
        student = _student(model, float(v))
        D.distill(model, student, train, epochs=cfg.distill_epochs, **cfg.fit_kwargs())
        return student, None
    if kind == "r2":
        reg = R2.MarginRegularizer(model, strength=float(v))
        _finetune(model, train, val, cfg, extra_loss=reg)
        return model, None
    bits = int(v)
    if kind == "ptq":
        q = quant.ptq(model, train, weight_bits=bits, act_bits=ACT_BITS, per_channel=False)
        return _bake_weights_(q), _uniform_bits(q, bits)
    if kind == "qat":
        quant.prepare_qat_(model, bits=bits, method="lsq", per_channel=False, act_bits=ACT_BITS)
        _finetune(model, train, val, cfg)
        return _bake_weights_(model), _uniform_bits(model, bits)
    _palettize_nonzeros_(model, bits, cfg.seed)
    return model, None  # a palette is looked up into fp32 weights: compute stays fp32


# ----------------------------------------------------------------------------------------------------
# Measuring a stage


def energy_uj(macs_by_module: dict[str, int], bits: dict[str, tuple[int, int]], file_bytes: int) -> float:
    """Energy of one inference (batch 1) in µJ: every MAC priced by its bit widths (fp32: :data:`FP32_MAC_PJ`;
    integer ``w × a`` bits: :data:`INT8_MAC_PJ` × w·a/64) plus reading the stored file once from DRAM
    (:data:`DRAM_PJ_PER_BYTE` per byte). Decoding the file and activations' traffic are not priced."""

    def count(v: object) -> bool:  # an int (numpy's too), not a bool
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= 0

    if not count(file_bytes):
        raise ValueError(f"file_bytes must be an int >= 0, got {file_bytes!r}")
    for name, wa in bits.items():
        if not (isinstance(wa, tuple | list) and len(wa) == 2 and all(count(b) and 1 <= b <= 32 for b in wa)):
            raise ValueError(f"bits[{name!r}] must be (weight bits, activation bits), ints in 1..32, got {wa!r}")
    total = 0.0
    for name, macs in macs_by_module.items():
        if not count(macs):
            raise ValueError(f"macs_by_module[{name!r}] must be an int >= 0, got {macs!r}")
        w, a = bits.get(name, (32, 32))
        total += macs * (FP32_MAC_PJ if (w, a) == (32, 32) else INT8_MAC_PJ * w * a / 64)
    return (total + file_bytes * DRAM_PJ_PER_BYTE) / 1e6


def _measure(
    name: str,
    labels: tuple[str, ...],
    model: nn.Module,
    wbits: Bits | None,
    data: tuple[Data, Data | None],
    example: torch.Tensor,
    fp32_bytes: int,
    ref_bytes: int | None,
    codec: str,
    latency_repeats: int,
) -> tuple[Stage, nn.Module]:
    plain = packfile.pack(model, codec="none")
    blob = packfile.pack(model, codec=codec)
    decoded = packfile.load_packed(blob, model)
    val, test = data
    counts = F.count_flops(decoded, example[:1])
    layer_bits = dict(wbits or {})
    macs = {n: f // 2 for n, f in counts.by_module.items() if n in _layers(decoded)}
    other = counts.macs - sum(macs.values())
    # CPU latency with real kernels: int8 (quantize_dynamic: Linear layers) where the weights are on an 8-bit-or-
    # smaller grid, else the decoded model as it is. Fake-quantizers would time the simulation, not a deployment.
    top = max((w for w, _ in layer_bits.values()), default=32)
    runnable = quant.to_int8(decoded) if top <= 8 else decoded
    lat = F.measure_latency(runnable, example, warmup=3, repeats=latency_repeats)
    weights = F.effective_weights(decoded)
    stage = Stage(
        pipeline=name,
        steps=labels,
        file_bytes=len(blob),
        packed_bytes=len(plain),
        fp32_bytes=fp32_bytes,
        ratio=(ref_bytes or len(blob)) / len(blob),
        val_acc=evaluate(decoded, val).accuracy,
        test_acc=math.nan if test is None else evaluate(decoded, test).accuracy,
        latency_ms=lat.median_ms,
        latency_iqr_ms=lat.iqr_ms,
        params=sum(w.numel() for w in weights.values()),
        nonzero=sum(int(torch.count_nonzero(w)) for w in weights.values()),
        macs=counts.macs,
        bops=F.count_bops(decoded, example[:1], layer_bits) if layer_bits else counts.macs * 32 * 32,
        energy_uj=energy_uj({**macs, "": other}, layer_bits, len(blob)),
        weight_bits=top,
    )
    return stage, decoded


def run_pipeline(
    model: nn.Module,
    steps: Sequence[str | Step],
    train: Data,
    val: Data,
    test: Data | None = None,
    *,
    name: str | None = None,
    epochs: int = 1,
    distill_epochs: int = 3,
    lr: float = 1e-3,
    batch_size: int = 128,
    codec: str = "lzss",
    latency_batch: int = 32,
    latency_repeats: int = 20,
    seed: int | None = 0,
    progress: bool | None = None,
    on_stage: Callable[[Stage], None] | None = None,
) -> tuple[list[Stage], list[nn.Module]]:
    """Apply ``steps`` in order to a copy of the trained ``model`` (untouched) and measure every stage.

    ``train`` fine-tunes (``epochs`` per training step, Adam at ``lr``; a distilled student is trained from scratch
    for ``distill_epochs``) and calibrates PTQ; ``val`` and ``test``
    are evaluated on the model decoded from each stage's file (choose on ``val``, report ``test``; without ``test``
    its accuracy is NaN). Returns the
    stages — the first is the unchanged model, ``steps = ()`` — and each stage's model as decoded from its file.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(steps, str | Step):  # a string would be read one character at a time
        raise TypeError(f"steps must be a list of steps, e.g. ['prune:0.9', 'qat:4'], got {steps!r}")
    parsed = [parse_step(s) for s in steps]
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an int ≥ 1, got {epochs!r}")
    if codec not in packfile.CODECS:
        raise ValueError(f"codec must be one of {packfile.CODECS}, got {codec!r}")
    _check_order(parsed)
    if isinstance(distill_epochs, bool) or not isinstance(distill_epochs, int) or distill_epochs < 1:
        raise ValueError(f"distill_epochs must be an int ≥ 1, got {distill_epochs!r}")
    cfg = _Config(epochs, distill_epochs, lr, batch_size, seed, progress)
    if isinstance(latency_batch, bool) or not isinstance(latency_batch, int) or latency_batch < 1:
        raise ValueError(f"latency_batch must be an int ≥ 1, got {latency_batch!r}")
    example = _example(val, latency_batch)
    label = name or " → ".join(s.label for s in parsed) or "fp32"
    current = copy.deepcopy(model).eval()
    fp32_bytes = F.serialized_bytes(current)
    stages: list[Stage] = []
    labels: tuple[str, ...] = ()
    wbits: Bits | None = None
    stage, decoded = _measure(
        label, labels, current, None, (val, test), example, fp32_bytes, None, codec, latency_repeats
    )
    ref_bytes = stage.file_bytes  # the denominator of every ratio: the unchanged model's own packed fp32 file
    stages.append(stage)
    models = [decoded]
    if on_stage:
        on_stage(stage)
    for step in parsed:
        current, wbits = _apply(step, current, wbits, train, val, cfg)
        labels = (*labels, step.label)
        current.eval()
        stage, decoded = _measure(
            label, labels, current, wbits, (val, test), example, fp32_bytes, ref_bytes, codec, latency_repeats
        )
        stages.append(stage)
        models.append(decoded)
        if on_stage:
            on_stage(stage)
    return stages, models


def _check_order(steps: list[Step]) -> None:
    """Quantization comes last: after ``ptq``/``qat`` only ``prune`` (it fine-tunes on the same grid) may follow,
    after ``palette`` nothing (fine-tuning would move the shared values)."""
    for i, s in enumerate(steps):
        later = steps[i + 1 :]
        if s.kind == "palette" and later:
            raise ValueError(
                f"palette must be the last step (fine-tuning would leave the palette), got {later[0]} after it"
            )
        if s.kind in ("ptq", "qat", "sbs"):
            bad = [t for t in later if t.kind not in ("prune", "palette")]
            if bad:
                raise ValueError(
                    f"step {bad[0]} after {s} would leave the quantization grid; quantize last "
                    "(prune may follow: it fine-tunes on the same grid)"
                )


def _example(data: Data, n: int) -> torch.Tensor:
    from effdl.core.train import as_loader

    x, _ = next(iter(as_loader(data, batch_size=n, shuffle=False, seed=None, name="val")))
    return x
