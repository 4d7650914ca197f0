"""Quantization: post-training (PTQ) and quantization-aware training (QAT) of any ``nn.Module``, real int8 inference.

The quantizer arithmetic (:class:`QParams`, the ``"full"`` / ``"restricted"`` / ``"midrise"`` grids, the observers,
:func:`calibrate`, :func:`quantize`, :func:`dequantize`, :func:`fake_quantize`) lives in
:mod:`effdl.compress.uniform` and is re-exported here, so ``quant.calibrate`` and friends keep working.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

import torch
from torch import Tensor
from torch.nn.utils import prune as torch_prune

from effdl.compress.prune import copy_model, make_permanent_
from effdl.compress.uniform import (
    GRIDS,
    MAX_BITS,
    OBSERVERS,
    QParams,
    _check_bits,
    _check_float_tensor,
    _check_grid,
    calibrate,
    code_dtype,
    dequantize,
    fake_quantize,
    quantize,
)
from effdl.core.checks import check_bool

if TYPE_CHECKING:
    from effdl.core.train import History

__all__ = [
    "GRIDS",
    "OBSERVERS",
    "QAT_METHODS",
    "ActQuantHandles",
    "LSQQuantizer",
    "QParams",
    "WeightFakeQuant",
    "calibrate",
    "code_dtype",
    "dequantize",
    "fake_quantize",
    "prepare_qat_",
    "ptq",
    "qat",
    "quantize",
    "quantize_activations_",
    "quantize_weights_",
    "quantized_model_bits",
    "remove_quantization_",
    "to_int8",
]


# ----------------------------------------------------------------------------------------------------
# Post-training quantization of any nn.Module (weights via parametrize, activations via pre-hooks)
# ----------------------------------------------------------------------------------------------------

ACT_SAMPLE_CAP = 1 << 18  # elements kept per layer for the "percentile"/"mse" activation observers


def _check_module(model: object) -> None:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")


def _check_unmasked(chosen: dict[str, torch.nn.Module], fn: str) -> None:
    """A layer pruned with ``torch.nn.utils.prune`` has no ``weight`` Parameter to parametrize (it is recomputed
    from ``weight_orig * weight_mask``): say how to fold the mask, instead of torch's error."""
    masked = [n for n, m in chosen.items() if torch_prune.is_pruned(m)]
    if masked:
        raise ValueError(
            f"{fn} cannot quantize layers that carry pruning masks: {masked}; fold them into the weights first "
            "with effdl.compress.prune.make_permanent_(model) (the zeros stay)"
        )


def _check_observer(observer: object) -> str:
    if observer not in OBSERVERS:
        raise ValueError(f"observer must be one of {', '.join(repr(o) for o in OBSERVERS)}, got {observer!r}")
    return observer  # type: ignore[return-value]


def _quant_layers(model: torch.nn.Module, layers: object) -> dict[str, torch.nn.Module]:
    """The chosen ``nn.Conv2d``/``nn.Linear`` layers by module name (default: all of them, in module order)."""
    available = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)}
    if layers is None:
        return available
    if isinstance(layers, str):
        raise TypeError(f"layers must be a list of layer names such as ['0'], got the string {layers!r}")
    names = list(layers)  # type: ignore[call-overload]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(
            f"layers must name Conv2d/Linear layers of the model, got {unknown}; available: {list(available)}"
        )
    return {n: available[n] for n in names}


class WeightFakeQuant(torch.nn.Module):
    """A ``torch.nn.utils.parametrize`` parametrization: ``forward(w) = fake_quantize(w, calibrate(w, ...))``.

    Recalibrated from the current weight on every call (per output channel, ``axis=0``, when ``per_channel``), so
    it is also usable for quantization-aware training: gradients reach the weight through the STE. ``grid``: see
    :data:`GRIDS` (symmetric only).
    """

    def __init__(
        self,
        *,
        bits: int = 8,
        per_channel: bool = True,
        symmetric: bool = True,
        observer: str = "minmax",
        grid: str = "full",
    ) -> None:
        super().__init__()
        self.bits = _check_bits(bits)
        self.per_channel = check_bool("per_channel", per_channel)
        self.symmetric = check_bool("symmetric", symmetric)
        self.observer = _check_observer(observer)
        self.grid = _check_grid(grid, self.symmetric)

    def qparams(self, w: Tensor) -> QParams:
        """The quantization parameters used for weight ``w`` (shape ``(C_out, ...)``)."""
        axis = 0 if self.per_channel else None
        return calibrate(w, bits=self.bits, symmetric=self.symmetric, axis=axis, observer=self.observer, grid=self.grid)

    def forward(self, w: Tensor) -> Tensor:
        return fake_quantize(w, self.qparams(w))

    def extra_repr(self) -> str:
        return (
            f"bits={self.bits}, per_channel={self.per_channel}, symmetric={self.symmetric}, "
            f"observer={self.observer!r}, grid={self.grid!r}"
        )


def _has_weight_fq(layer: torch.nn.Module) -> bool:
    from torch.nn.utils import parametrize

    return parametrize.is_parametrized(layer, "weight") and any(
        isinstance(p, WeightFakeQuant | LSQQuantizer) for p in layer.parametrizations["weight"]
    )


def quantize_weights_(
    model: torch.nn.Module,
    *,
    bits: int = 8,
    per_channel: bool = True,
    symmetric: bool = True,
    observer: str = "minmax",
    layers: list[str] | None = None,
    grid: str = "full",
) -> torch.nn.Module:
    """Fake-quantize the ``weight`` of every chosen ``nn.Conv2d``/``nn.Linear`` of ``model``, in place.

    Registers a :class:`WeightFakeQuant` parametrization (``torch.nn.utils.parametrize``), so ``layer.weight`` is
    the quantized weight on every access and ``layer.parametrizations.weight.original`` the float one.
    ``layers``: module names (default: all Conv2d/Linear layers). ``bits`` in 1..16; ``per_channel`` = one scale per
    output channel; ``grid`` (symmetric): ``"full"`` (all ``2**bits`` codes, default), ``"restricted"`` or
    ``"midrise"`` (see :mod:`effdl.compress.uniform`). A layer already weight-quantized raises ``ValueError``
    (call :func:`remove_quantization_` first). Returns ``model``.
    """
    from torch.nn.utils import parametrize

    _check_module(model)
    fq = WeightFakeQuant(bits=bits, per_channel=per_channel, symmetric=symmetric, observer=observer, grid=grid)
    chosen = _quant_layers(model, layers)
    done = [n for n, m in chosen.items() if _has_weight_fq(m)]
    if done:
        raise ValueError(f"layers {done} are already weight-quantized; call remove_quantization_ first")
    _check_unmasked(chosen, "quantize_weights_")
    for layer in chosen.values():
        cfg = WeightFakeQuant(
            bits=fq.bits, per_channel=fq.per_channel, symmetric=fq.symmetric, observer=fq.observer, grid=fq.grid
        )
        parametrize.register_parametrization(layer, "weight", cfg)
    return model


class _ActFakeQuant:
    """Forward pre-hook fake-quantizing a layer's first input with fixed (calibrated) QParams."""

    def __init__(self, qp: QParams) -> None:
        self.qp = qp

    def __call__(self, module: torch.nn.Module, args: tuple) -> tuple:
        return (fake_quantize(args[0], self.qp), *args[1:])


class ActQuantHandles:
    """What :func:`quantize_activations_` returns: ``qparams`` (layer name -> input :class:`QParams`) and
    ``remove()``, which removes every hook it installed (idempotent)."""

    def __init__(self, qparams: dict[str, QParams], handles: list) -> None:
        self.qparams = qparams
        self._handles = handles

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def __len__(self) -> int:
        return len(self._handles)


def quantize_activations_(
    model: torch.nn.Module,
    calib_data: object,
    *,
    bits: int = 8,
    symmetric: bool = False,
    observer: str = "minmax",
    layers: list[str] | None = None,
    num_batches: int = 4,
    grid: str = "full",
) -> ActQuantHandles:
    """Fake-quantize the *input* of every chosen ``nn.Conv2d``/``nn.Linear`` of ``model`` (in place, via hooks).

    Calibration: runs ``model`` (in eval mode, no grad; training mode restored afterwards) on the first
    ``num_batches`` batches of ``calib_data`` (a DataLoader, a Dataset of ``(x, y)`` or an ``(x, y)`` tuple of
    tensors; only ``x`` is used) and records each layer's input with forward pre-hooks: the running min/max for
    ``"minmax"``, or a strided sample of at most ``ACT_SAMPLE_CAP`` elements per batch fed to :func:`calibrate` for
    ``"percentile"``/``"mse"``. One per-tensor :class:`QParams` per layer (affine by default, since post-ReLU inputs
    are non-negative). Then installs forward pre-hooks that fake-quantize each layer's input. Note that the first
    layer's input (e.g. the image) is quantized too. Returns an :class:`ActQuantHandles`; its ``remove()`` restores
    float activations. A layer whose input is already quantized raises ``ValueError``.
    """
    from effdl.core.train import as_loader

    _check_module(model)
    bits = _check_bits(bits)
    symmetric = check_bool("symmetric", symmetric)
    grid = _check_grid(grid, symmetric)
    observer = _check_observer(observer)
    if isinstance(num_batches, bool) or not isinstance(num_batches, numbers.Integral) or num_batches < 1:
        raise ValueError(f"num_batches must be an int >= 1, got {num_batches!r}")
    chosen = _quant_layers(model, layers)
    done = [n for n, m in chosen.items() if any(isinstance(h, _ActFakeQuant) for h in m._forward_pre_hooks.values())]
    if done:
        raise ValueError(f"layers {done} already have quantized inputs; call remove_quantization_ first")
    loader = as_loader(calib_data, name="calib_data")
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")

    lo: dict[str, Tensor] = {}
    hi: dict[str, Tensor] = {}
    samples: dict[str, list[Tensor]] = {n: [] for n in chosen}

    def recorder(name: str):
        def hook(module: torch.nn.Module, args: tuple) -> None:
            x = args[0].detach().float().reshape(-1)
            if observer == "minmax":
                mn, mx = x.min().cpu(), x.max().cpu()
                lo[name] = torch.minimum(lo[name], mn) if name in lo else mn
                hi[name] = torch.maximum(hi[name], mx) if name in hi else mx
            else:
                step = max(1, -(-x.numel() // ACT_SAMPLE_CAP))
                samples[name].append(x[::step].cpu())

        return hook

    handles = [m.register_forward_pre_hook(recorder(n)) for n, m in chosen.items()]
    was_training = model.training
    model.eval()
    seen = 0
    try:
        with torch.no_grad():
            for batch in loader:
                x = batch[0] if isinstance(batch, tuple | list) else batch
                model(x.to(device))
                seen += 1
                if seen >= num_batches:
                    break
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    if seen == 0:
        raise ValueError("calib_data must yield at least one batch, got none")
    qparams: dict[str, QParams] = {}
    for name in chosen:
        if observer == "minmax":
            if name not in lo:
                raise ValueError(f"layer {name!r} was not called during calibration; leave it out of layers")
            qparams[name] = calibrate(torch.stack([lo[name], hi[name]]), bits=bits, symmetric=symmetric, grid=grid)
        else:
            if not samples[name]:
                raise ValueError(f"layer {name!r} was not called during calibration; leave it out of layers")
            qparams[name] = calibrate(
                torch.cat(samples[name]), bits=bits, symmetric=symmetric, observer=observer, grid=grid
            )
    hooks = [m.register_forward_pre_hook(_ActFakeQuant(qparams[n])) for n, m in chosen.items()]
    return ActQuantHandles(qparams, hooks)


def remove_quantization_(model: torch.nn.Module, *, keep: bool = True) -> torch.nn.Module:
    """Undo :func:`quantize_weights_`, :func:`quantize_activations_` and :func:`prepare_qat_` on ``model``, in place.

    Weight parametrizations are removed with ``parametrize.remove_parametrizations(..., leave_parametrized=keep)``:
    ``keep=True`` bakes the quantized weight into a plain parameter, ``keep=False`` restores the float weight
    exactly (other parametrizations stacked on the same weight are removed too). Activation hooks are removed.
    """
    from torch.nn.utils import parametrize

    _check_module(model)
    check_bool("keep", keep)
    for m in model.modules():
        if _has_weight_fq(m):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=keep)
        for key in [k for k, h in m._forward_pre_hooks.items() if isinstance(h, _ActFakeQuant | _ActLSQHook)]:
            del m._forward_pre_hooks[key]
            m._forward_pre_hooks_with_kwargs.pop(key, None)
        if isinstance(getattr(m, "input_quantizer", None), LSQQuantizer):
            del m.input_quantizer
    return model


def ptq(
    model: torch.nn.Module,
    calib_data: object,
    *,
    weight_bits: int = 8,
    act_bits: int | None = 8,
    per_channel: bool = True,
    observer: str = "minmax",
    num_batches: int = 4,
    grid: str = "full",
) -> torch.nn.Module:
    """Post-training quantization: a quantized *deep copy* of ``model`` (``model`` itself is untouched).

    Weights: :func:`quantize_weights_` (symmetric on ``grid``, ``weight_bits``, per output channel if
    ``per_channel``).
    Activations (unless ``act_bits`` is None): :func:`quantize_activations_` (affine, ``act_bits``), calibrated
    on ``calib_data`` with the weights already quantized. Undo on the copy with :func:`remove_quantization_`.
    """
    import copy

    _check_module(model)
    _check_bits(weight_bits)
    if act_bits is not None:
        _check_bits(act_bits)
    q = copy.deepcopy(model)
    quantize_weights_(q, bits=weight_bits, per_channel=per_channel, observer=observer, grid=grid)
    if act_bits is not None:
        quantize_activations_(q, calib_data, bits=act_bits, observer=observer, num_batches=num_batches)
    return q


# ----------------------------------------------------------------------------------------------------
# Quantization-aware training: STE (recalibrated ranges) and LSQ (learned step size)
# ----------------------------------------------------------------------------------------------------

QAT_METHODS = ("ste", "lsq")


def _grad_scale(x: Tensor, g: float) -> Tensor:
    """Value ``x``, gradient ``g * dL/dx`` (LSQ's step-size gradient scaling)."""
    return (x - x * g).detach() + x * g


def _round_ste(x: Tensor) -> Tensor:
    """Value ``round(x)``, gradient 1 (straight-through)."""
    return (torch.round(x) - x).detach() + x


def _lsq_range(bits: int, signed: bool) -> tuple[int, int]:
    """LSQ's integer range: the full signed ``-2**(b-1)..2**(b-1)-1`` or the unsigned ``0..2**b-1``."""
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)


class LSQQuantizer(torch.nn.Module):
    """Learned step size quantization (LSQ, Esser et al. 2020): ``x_hat = round(clamp(x / s, qmin, qmax)) * s``.

    The step size ``s`` is an ``nn.Parameter`` (shape ``()`` per-tensor or ``(C,)`` per channel along ``axis``)
    trained with the network. Gradients (round passes straight through):

    - ``d x_hat / d x`` = 1 inside ``[qmin*s, qmax*s]``, 0 outside (as in :func:`fake_quantize`);
    - ``d x_hat / d s`` = ``round(x/s) - x/s`` inside, ``qmin`` below, ``qmax`` above, multiplied by the gradient
      scale ``g = 1 / sqrt(N * qmax)`` (``N`` = elements per step size) that keeps step and weight updates balanced.

    ``signed=True`` uses the full signed range ``-2**(b-1)..2**(b-1)-1`` (all ``2**b`` codes, as in the paper;
    :class:`QParams` grid ``"full"``) for weights; ``signed=False`` the unsigned ``0..2**b-1`` (non-negative
    activations, e.g. after ReLU). ``bits`` in 2..16 (one bit has no grid with a zero level). The step is set from
    data by :meth:`init_from` (MSE-optimal clipping, :func:`calibrate`), or lazily from the first batch seen in
    training mode.
    """

    def __init__(self, bits: int = 4, *, signed: bool = True, axis: int | None = None, channels: int = 1) -> None:
        super().__init__()
        bits = _check_bits(bits)
        if bits < 2:
            raise ValueError(f"bits must be an int in 2..{MAX_BITS} for LSQ, got {bits}")
        self.bits = bits
        self.signed = check_bool("signed", signed)
        if axis is not None and (isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or axis < 0):
            raise ValueError(f"axis must be None or a non-negative int, got {axis!r}")
        if isinstance(channels, bool) or not isinstance(channels, numbers.Integral) or channels < 1:
            raise ValueError(f"channels must be an int >= 1, got {channels!r}")
        self.axis = axis
        self.qmin, self.qmax = _lsq_range(bits, self.signed)
        self.scale = torch.nn.Parameter(torch.ones(() if axis is None else (int(channels),)))
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def init_from(self, x: Tensor) -> LSQQuantizer:
        """Set the step size from ``x`` with the MSE-optimal clipping range of :func:`calibrate`; returns self."""
        x = _check_float_tensor("x", x).detach()
        if self.axis is not None and (x.ndim <= self.axis or x.shape[self.axis] != self.scale.numel()):
            raise ValueError(f"x of shape {tuple(x.shape)} has no {self.scale.numel()} channels on axis {self.axis}")
        qp = calibrate(x, bits=self.bits, symmetric=self.signed, axis=self.axis, observer="mse", grid="full")
        if self.signed:
            scale = qp.scale
        else:  # unsigned grid from 0: cover [0, max] of the non-negative input
            hi = qp.clip_range[1].clamp(min=0.0)
            scale = torch.where(hi > 0, hi / self.qmax, torch.ones_like(hi))
        self.scale.copy_(scale.reshape(self.scale.shape).to(self.scale.dtype))
        self.initialized.fill_(True)
        return self

    def qparams(self) -> QParams:
        """The current grid as :class:`QParams` (``symmetric`` for signed; unsigned: affine with zero point 0)."""
        s = self.scale.detach().abs().clamp(min=torch.finfo(torch.float32).tiny).float()
        return QParams(s, torch.zeros_like(s), self.bits, self.signed, self.axis)

    def forward(self, x: Tensor) -> Tensor:
        if not bool(self.initialized):
            self.init_from(x)
        n = x.numel() if self.axis is None else x.numel() // max(1, x.shape[self.axis])
        g = 1.0 / math.sqrt(max(1, n) * self.qmax)
        s = _grad_scale(self.scale, g).abs() + torch.finfo(x.dtype).tiny  # a step can never reach 0
        if self.axis is not None:
            shape = [1] * x.ndim
            shape[self.axis] = s.numel()
            s = s.reshape(shape)
        return _round_ste(torch.clamp(x / s, self.qmin, self.qmax)) * s

    def extra_repr(self) -> str:
        return f"bits={self.bits}, signed={self.signed}, axis={self.axis}"


class _ActLSQHook:
    """Forward pre-hook running the layer's ``input_quantizer`` submodule on its first input."""

    def __call__(self, module: torch.nn.Module, args: tuple) -> tuple:
        return (module.input_quantizer(args[0]), *args[1:])


def prepare_qat_(
    model: torch.nn.Module,
    *,
    bits: int = 4,
    method: str = "lsq",
    per_channel: bool = True,
    act_bits: int | None = None,
    observer: str = "minmax",
    layers: list[str] | None = None,
    grid: str = "full",
) -> torch.nn.Module:
    """Insert trainable fake-quantizers into ``model`` (in place) for quantization-aware training; returns it.

    ``method="ste"``: a :class:`WeightFakeQuant` parametrization that recalibrates each weight's range with
    ``observer`` on every forward and passes gradients straight through (``"minmax"`` by default: ``"mse"`` searches
    100 clipping ratios per layer per step, about 100× the cost). ``method="lsq"``: an
    :class:`LSQQuantizer` parametrization whose step sizes are initialized from the weights (MSE clipping) and
    then learned. ``act_bits``: also quantize each chosen layer's input with an LSQ quantizer (a submodule
    ``layer.input_quantizer`` called by a forward pre-hook; unsigned when its first batch is non-negative), for
    either method. Train with any loop (e.g. ``effdl.fit``); undo with :func:`remove_quantization_`.
    """
    from torch.nn.utils import parametrize

    _check_module(model)
    bits = _check_bits(bits)
    if method not in QAT_METHODS:
        raise ValueError(f"method must be one of {', '.join(repr(m) for m in QAT_METHODS)}, got {method!r}")
    per_channel = check_bool("per_channel", per_channel)
    observer = _check_observer(observer)
    if act_bits is not None:
        act_bits = _check_bits(act_bits)
        if act_bits < 2:
            raise ValueError(f"act_bits must be None or an int in 2..{MAX_BITS}, got {act_bits}")
    grid = _check_grid(grid, True)
    if method == "lsq" and grid != "full":
        raise ValueError(f"grid must be 'full' for method='lsq' (LSQ learns a full-range step), got {grid!r}")
    if method == "lsq" and bits < 2:
        raise ValueError(f"bits must be an int in 2..{MAX_BITS} for method='lsq', got {bits}")
    chosen = _quant_layers(model, layers)
    done = [n for n, m in chosen.items() if _has_weight_fq(m) or hasattr(m, "input_quantizer")]
    if done:
        raise ValueError(f"layers {done} are already quantized; call remove_quantization_ first")
    _check_unmasked(chosen, "prepare_qat_")
    for layer in chosen.values():
        if method == "ste":
            wq: torch.nn.Module = WeightFakeQuant(bits=bits, per_channel=per_channel, observer=observer, grid=grid)
        else:
            w = layer.weight.detach()
            wq = LSQQuantizer(bits, signed=True, axis=0 if per_channel else None, channels=w.shape[0]).init_from(w)
            wq.to(w.device)
        parametrize.register_parametrization(layer, "weight", wq)
        if act_bits is not None:
            layer.input_quantizer = _LazyActLSQ(act_bits).to(layer.weight.device)
            layer.register_forward_pre_hook(_ActLSQHook())
    return model


class _LazyActLSQ(LSQQuantizer):
    """Per-tensor activation LSQ whose sign is decided by the first batch (unsigned if it is non-negative)."""

    def __init__(self, bits: int) -> None:
        super().__init__(bits, signed=True, axis=None)

    @torch.no_grad()
    def init_from(self, x: Tensor) -> LSQQuantizer:
        if bool((x.detach() >= 0).all()):
            self.signed = False
            self.qmin, self.qmax = 0, 2**self.bits - 1
        return super().init_from(x)

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "signed"] = torch.tensor(self.signed)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: object) -> None:
        signed = state_dict.pop(prefix + "signed", None)
        if signed is not None:
            self.signed = bool(signed)
            self.qmin, self.qmax = _lsq_range(self.bits, self.signed)
        super()._load_from_state_dict(state_dict, prefix, *args)


def qat(
    model: torch.nn.Module,
    train: object,
    *,
    bits: int = 4,
    method: str = "lsq",
    per_channel: bool = True,
    act_bits: int | None = None,
    epochs: int = 1,
    lr: float = 1e-3,
    seed: int | None = 0,
    grid: str = "full",
    **fit_kwargs: object,
) -> tuple[torch.nn.Module, History]:
    """Quantization-aware fine-tuning of a *deep copy* of ``model``: :func:`prepare_qat_` then ``effdl.fit``.

    Returns ``(quantized_model, history)``; ``model`` is untouched. Other keyword arguments go to ``effdl.fit``
    (``batch_size``, ``val``, ``schedule``, ``max_steps``, ...). The returned model keeps its fake-quantizers
    (its weights are exactly on the ``bits`` grid when read); bake them in with
    ``remove_quantization_(m, keep=True)``.
    """
    import copy

    from effdl.core.train import fit

    _check_module(model)
    q = copy.deepcopy(model)
    prepare_qat_(q, bits=bits, method=method, per_channel=per_channel, act_bits=act_bits, grid=grid)
    if act_bits is not None:  # initialize activation steps from one real batch before the optimizer sees them
        from effdl.core.train import as_loader

        batch = next(iter(as_loader(train, name="train")))
        x = batch[0] if isinstance(batch, tuple | list) else batch
        param = next(q.parameters())
        was = q.training
        q.eval()
        with torch.no_grad():
            q(x.to(param.device))
        q.train(was)
    history = fit(q, train, epochs=epochs, lr=lr, seed=seed, **fit_kwargs)  # type: ignore[arg-type]
    return q, history


# ----------------------------------------------------------------------------------------------------
# Real int8 inference
# ----------------------------------------------------------------------------------------------------


def to_int8(model: torch.nn.Module) -> torch.nn.Module:
    """A deep copy of ``model`` whose ``nn.Linear`` layers run real int8 kernels on CPU (``model`` is untouched).

    Weights: int8, symmetric, one scale per output channel (stored packed, about a quarter of fp32's bytes).
    Activations: quantized to 8 bits on the fly per batch (dynamic quantization), accumulated in int32, output
    float32. ``nn.Conv2d`` and every other layer stay float32. Any fake-quantizers on the copy are removed first
    (the float weights are converted); pruning masks are folded in (the zeros stay). Inference only (eval mode,
    no autograd through the int8 layers).

    Why the deprecated API: this is the single place that calls ``torch.ao.quantization.quantize_dynamic``, which
    PyTorch has deprecated in favour of torchao's ``quantize_(model, Int8DynamicActivationInt8WeightConfig())``.
    Measured with torch 2.14.1 / torchao 0.18 on 2 CPU cores (784-1024-1024-10 MLP, batch 64): ``quantize_dynamic``
    runs about 3.7× faster than fp32 in eager mode; torchao gives no speed-up in eager mode and about 2.4× only under
    ``torch.compile`` (4–26 s of compilation). Swap this body for torchao when its eager path delivers the speed or
    when ``quantize_dynamic`` disappears; its deprecation warnings are silenced here because the choice is made.
    """
    import warnings

    _check_module(model)
    if not any(isinstance(m, torch.nn.Linear) for m in model.modules()):
        raise ValueError("model must contain at least one nn.Linear layer to convert to int8, got none")
    param = next(model.parameters(), None)
    if param is not None and param.device.type != "cpu":
        raise ValueError(f"model must be on the CPU for int8 kernels, got device {param.device}")
    if "qnnpack" not in torch.backends.quantized.supported_engines and (
        "fbgemm" not in torch.backends.quantized.supported_engines
    ):  # pragma: no cover - every x86/ARM wheel ships one
        raise RuntimeError("this PyTorch build has no quantized CPU engine (fbgemm or qnnpack)")
    # copy_model also copies a pruned model after a training step (plain deepcopy cannot); the masks are folded
    # in (zeros kept) because quantize_dynamic reads ``weight`` as a Parameter.
    q = make_permanent_(copy_model(model))
    remove_quantization_(q, keep=False)
    q.eval()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization.*deprecated", category=Warning)
        warnings.filterwarnings("ignore", message=r".*quantize_per_.*deprecated", category=Warning)
        warnings.filterwarnings("ignore", message=r".*deprecated.*", module=r"torch\.ao\..*")
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        return quantize_dynamic(q, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)


def quantized_model_bits(
    model: torch.nn.Module,
    *,
    bits: int,
    per_channel: bool = True,
    layers: list[str] | None = None,
    storage: str = "dense",
) -> int:
    """Storage cost in bits of ``model`` with the chosen ``nn.Conv2d``/``nn.Linear`` weights stored as ``bits``-bit
    symmetric codes plus one fp32 scale per output channel (``per_channel``) or per tensor; everything else
    (biases, BatchNorm, buffers) stays fp32. ``effdl.core.footprint.model_bits(model)`` with each chosen weight's
    fp32 cost swapped for :func:`effdl.core.footprint.quantized_bits` (a tied weight once). ``storage``:
    ``"dense"`` (every code stored), or ``"bitmask"``/``"csr"`` for a pruned model (zeros cost only the sparse
    format's overhead; see ``footprint.STORAGES``). ``model`` is not changed."""
    from effdl.core.footprint import (
        STORAGES,
        effective_weights,
        model_bits,
        quantized_bits,
        tensor_bits,
        weight_aliases,
    )

    _check_module(model)
    bits = _check_bits(bits)
    per_channel = check_bool("per_channel", per_channel)
    if storage not in STORAGES:
        raise ValueError(f"storage must be one of {', '.join(repr(s) for s in STORAGES)}, got {storage!r}")
    weights, aliases = effective_weights(model), weight_aliases(model)
    total = model_bits(model)
    # A tied weight (e.g. an LM head sharing the embedding) is stored once: count it once, under its first name.
    for key in dict.fromkeys(aliases[f"{name}.weight"] for name in _quant_layers(model, layers)):
        w = weights[key]
        total += quantized_bits(w, bits=bits, per_channel=per_channel, storage=storage) - tensor_bits(w)
    return total
