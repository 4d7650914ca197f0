"""The SBS search, its configuration, and the compressed model it leads to.

:func:`search` wraps every Conv2d/Linear layer of a copy of the model with an :class:`SBSWeight` parametrization
and an :class:`SBSAct` input quantizer, trains weights, ranges and gate thresholds with ``effdl.fit`` under
``CE + λ·log(BOPs)``, and reads the gates into an :class:`SBSConfig`. :func:`finalize` builds the compressed model
from a configuration; :func:`report` measures it.

BOPs follow ``effdl.core.footprint.count_bops``: per example, ``Σ MACs × b_w × b_a`` over the modules that do
multiply-accumulates (everything not configured stays at 32 × 32). A layer's MACs scale with its kept output
channels and with the kept channels of the layer feeding it, so a configuration's BOPs are known exactly before the
channels are removed (and :func:`report` measures them again on the built model).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize

from effdl.compress.prune import (
    _chains,
    _set_module,
    _sliced_bn,
    _sliced_conv,
    _sliced_linear,
    copy_model,
    make_permanent_,
    prunable,
)
from effdl.compress.quant import LSQQuantizer, prepare_qat_
from effdl.compress.sbs.quantizer import (
    DEFAULT_CANDIDATES,
    SBSAct,
    SBSWeight,
    _act_hook,
    _expected_bits,
    _int,
    check_candidates,
)
from effdl.core.footprint import count_bops, count_flops, model_bits, quantized_bits, tensor_bits
from effdl.core.train import Data, as_loader, evaluate, fit, resolve_device

__all__ = [
    "FIXED_BITS",
    "LayerChoice",
    "SBSConfig",
    "SBSReport",
    "finalize",
    "report",
    "search",
    "size_bits",
    "uniform_config",
]

FIXED_BITS = 8  # first and last layers: the paper keeps them at 8 bits (they are small and the most sensitive)


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _number(name: str, value: object, *, positive: bool) -> float:
    allowed = "a number > 0" if positive else "a number >= 0"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be {allowed}, got {value!r}")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return float(value)


def _first_batch(data: Data | Tensor, batch_size: int = 128) -> Tensor:
    """The inputs of the first batch of ``data`` (a tensor of inputs is taken as it is)."""
    if isinstance(data, Tensor):
        x = data
    else:
        batch = next(iter(as_loader(data, batch_size=batch_size, shuffle=False, name="data")))
        x = batch[0] if isinstance(batch, tuple | list) else batch
    if x.dim() < 1 or x.shape[0] < 1:  # an empty batch would size every layer (and the BOPs) from nothing
        raise ValueError(f"data must hold at least one example, got a batch of shape {tuple(x.shape)}")
    return x


# ----------------------------------------------------------------------------------------------------
# Layers, configurations, BOPs
# ----------------------------------------------------------------------------------------------------


@dataclass
class _Layer:
    """What the cost needs about one Conv2d/Linear layer. ``producer``: the pruned layer whose kept channels
    shrink this layer's input (``producer_channels`` of them in the original); ``follows``: for a depthwise conv,
    the pruned layer whose channels it carries (its outputs shrink with them)."""

    name: str
    out_channels: int
    macs: int
    fixed: bool
    prunable: bool = False
    producer: str | None = None
    producer_channels: int = 1
    follows: str | None = None


def _analyze(model: nn.Module, example: Tensor, group_size: int | None) -> tuple[dict[str, _Layer], int]:
    """Per-layer MACs (one example) and channel links; plus the MACs outside the Conv2d/Linear layers."""
    convlin = prunable(model)
    if not convlin:
        raise ValueError("model must contain at least one nn.Conv2d or nn.Linear layer, got none")
    counts = count_flops(model, example)
    names = list(convlin)
    fixed = {names[0], names[-1]}
    layers: dict[str, _Layer] = {}
    for name, m in convlin.items():
        out = m.out_channels if isinstance(m, nn.Conv2d) else m.out_features
        layers[name] = _Layer(name, out, counts.by_module.get(name, 0) // 2, name in fixed)
    other = sum(f // 2 for n, f in counts.by_module.items() if n not in layers)
    chains = _chains(model)[0] if group_size is not None else {}  # tracing is only needed to prune
    for name, chain in chains.items():
        if name in fixed:
            continue
        layer = layers[name]
        if layer.out_channels % group_size:  # type: ignore[operator]
            divisors = [d for d in range(1, layer.out_channels + 1) if layer.out_channels % d == 0]
            raise ValueError(
                f"group_size must divide the output channels of every pruned layer: {name!r} has "
                f"{layer.out_channels}, got group_size={group_size}; allowed for it: {divisors} (or None: no pruning)"
            )
        layer.prunable = True
        for target, role in chain.steps:
            if role == "in":
                layers[target].producer, layers[target].producer_channels = name, layer.out_channels
            elif role == "dw":
                layers[target].follows = name
    return layers, other


def _fraction(layer: _Layer, kept: dict[str, int]) -> tuple[int, int]:
    """(numerator, denominator) of the MAC fraction a layer keeps under ``kept`` (layer -> kept channels)."""
    num, den = 1, 1
    own = layer.name if layer.prunable else layer.follows
    if own is not None:
        num, den = num * kept[own], den * layer.out_channels
    if layer.producer is not None:
        num, den = num * kept[layer.producer], den * layer.producer_channels
    return num, den


def _table(rows: list[dict[str, object]]) -> list[str]:
    """Text table of per-layer rows: bits, channels kept / original, MBOPs per example."""
    lines = [f"{'layer':<16}{'w':>3}{'a':>3}{'channels':>12}{'MBOPs':>10}"]
    for r in rows:
        kept = f"{r['channels']}/{r['out_channels']}"
        fix = " (fixed)" if r["fixed"] else ""
        lines.append(f"{r['name']:<16}{r['w_bits']:>3}{r['a_bits']:>3}{kept:>12}{r['bops'] / 1e6:>10.3f}{fix}")  # type: ignore[operator]
    return lines


@dataclass(frozen=True)
class LayerChoice:
    """One layer's configuration. ``kept``: indices of the output channels kept (of ``out_channels``);
    ``macs``: MACs per example in the original model; ``bops``: bit operations per example under this
    configuration (pruned inputs and outputs, ``w_bits × a_bits``)."""

    name: str
    w_bits: int
    a_bits: int
    kept: tuple[int, ...]
    out_channels: int
    macs: int
    bops: int
    fixed: bool

    @property
    def channels(self) -> int:
        """Output channels kept."""
        return len(self.kept)


@dataclass(frozen=True)
class SBSConfig:
    """A per-layer configuration (bits and kept channels) and its cost. ``bops``/``fp32_bops``: bit operations
    per example of the configured / original fp32 model; ``fp32_bits``: size of the original model in bits;
    ``input_shape``: one example's shape; ``state_dict``: the float weights the search trained (``None`` for
    :func:`uniform_config`), which :func:`finalize` starts from."""

    layers: dict[str, LayerChoice]
    bops: int
    fp32_bops: int
    fp32_bits: int
    input_shape: tuple[int, ...]
    group_size: int | None
    state_dict: dict[str, Tensor] | None = field(default=None, repr=False, compare=False)

    @property
    def reduction(self) -> float:
        """fp32 BOPs / configured BOPs (×)."""
        return self.fp32_bops / self.bops

    def bits_table(self) -> dict[str, tuple[int, int]]:
        """``{layer: (w_bits, a_bits)}``, the ``bits`` argument of ``effdl.count_bops``."""
        return {n: (c.w_bits, c.a_bits) for n, c in self.layers.items()}

    def rows(self) -> list[dict[str, object]]:
        """One dict per layer: name, w_bits, a_bits, channels, out_channels, macs, bops, fixed."""
        keys = ("name", "w_bits", "a_bits", "channels", "out_channels", "macs", "bops", "fixed")
        return [{k: getattr(c, k) for k in keys} for c in self.layers.values()]

    def __str__(self) -> str:
        lines = _table(self.rows())
        lines.append(f"total {self.bops / 1e6:.3f} MBOPs, {self.reduction:.1f}× fewer than fp32")
        return "\n".join(lines)


def _config(
    model: nn.Module,
    example: Tensor,
    layers: dict[str, _Layer],
    other_macs: int,
    w_bits: dict[str, int],
    a_bits: dict[str, int],
    kept: dict[str, tuple[int, ...]],
    group_size: int | None,
    state_dict: dict[str, Tensor] | None = None,
) -> SBSConfig:
    counts = {n: len(k) for n, k in kept.items()}
    choices: dict[str, LayerChoice] = {}
    for name, layer in layers.items():
        num, den = _fraction(layer, counts)
        own = kept.get(name) or (kept[layer.follows] if layer.follows else tuple(range(layer.out_channels)))
        bops = layer.macs * num // den * w_bits[name] * a_bits[name]  # MACs are products of channel counts: exact
        choices[name] = LayerChoice(
            name, w_bits[name], a_bits[name], own, layer.out_channels, layer.macs, bops, layer.fixed
        )
    total = sum(c.bops for c in choices.values()) + other_macs * 32 * 32
    return SBSConfig(
        layers=choices,
        bops=total,
        fp32_bops=count_bops(model, example),
        fp32_bits=model_bits(model),
        input_shape=tuple(example.shape[1:]),
        group_size=group_size,
        state_dict=state_dict,
    )


def uniform_config(
    model: nn.Module,
    data: Data | Tensor,
    *,
    bits: int,
    act_bits: int | None = None,
    prune: float = 0.0,
    group_size: int | None = None,
) -> SBSConfig:
    """A uniform baseline in :class:`SBSConfig` form: every layer but the first and last at ``bits`` (weights)
    and ``act_bits`` (activations, default ``bits``), and, with ``prune`` in [0, 1), that fraction of each
    prunable layer's channel groups removed (lowest L1 norm first; ``group_size`` default 1). ``data``: a batch of
    inputs ``(N, ...)`` or any data ``effdl.fit`` takes (its first example sets the input shape)."""
    _check_model(model)
    bits = _int("bits", bits, 1, 16)
    act_bits = bits if act_bits is None else _int("act_bits", act_bits, 2, 16)
    prune = _number("prune", prune, positive=False)
    if prune >= 1:
        raise ValueError(f"prune must be a fraction in [0, 1), got {prune}")
    if group_size is not None:
        group_size = _int("group_size", group_size, 1)
    elif prune > 0:
        group_size = 1
    example = _first_batch(data)[:1]
    net = make_permanent_(copy_model(model)).eval()
    layers, other = _analyze(net, example.to(_device(net)), group_size)
    kept: dict[str, tuple[int, ...]] = {}
    for name, layer in layers.items():
        if layer.prunable:
            w = net.get_submodule(name).weight.detach()
            norms = w.abs().reshape(layer.out_channels // group_size, -1).sum(1)  # type: ignore[operator]
            n_keep = max(1, len(norms) - round(prune * len(norms)))
            groups = torch.sort(torch.sort(norms, descending=True, stable=True).indices[:n_keep]).values
            kept[name] = tuple(int(g) * group_size + i for g in groups for i in range(group_size))  # type: ignore[operator]
    w_bits = {n: FIXED_BITS if layer.fixed else bits for n, layer in layers.items()}
    a_bits = {n: FIXED_BITS if layer.fixed else act_bits for n, layer in layers.items()}
    return _config(net, example.to(_device(net)), layers, other, w_bits, a_bits, kept, group_size)


def _device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


# ----------------------------------------------------------------------------------------------------
# Search
# ----------------------------------------------------------------------------------------------------


def _expected_bops(layers: dict[str, _Layer], wq: dict[str, SBSWeight], aq: dict[str, SBSAct], other: int) -> Tensor:
    """Differentiable BOPs per example from the gates of the last forward pass (exact value, surrogate grads)."""
    keep = {n: q.keep for n, q in wq.items()}
    total: Tensor | float = float(other * 32 * 32)
    for name, layer in layers.items():
        frac: Tensor | float = 1.0
        own = name if layer.prunable else layer.follows
        if own is not None:
            frac = frac * keep[own]
        if layer.producer is not None:
            frac = frac * keep[layer.producer]
        total = total + layer.macs * frac * wq[name].bits * aq[name].bits
    return torch.as_tensor(total)


def search(
    model: nn.Module,
    data: Data,
    *,
    bops_target: float | None = None,
    lam: float | None = None,
    candidates: Sequence[int] = DEFAULT_CANDIDATES,
    group_size: int | None = 4,
    epochs: int = 1,
    lr: float = 1e-3,
    gate_lr: float = 0.05,
    tau: float = 0.5,
    batch_size: int = 128,
    max_steps: int | None = None,
    seed: int | None = 0,
    device: str | torch.device | None = None,
    progress: bool | None = None,
) -> SBSConfig:
    """Search per-layer bits (weights and activations) and kept channel groups of ``model`` on ``data``.

    Trains a copy (``model`` is untouched) with ``effdl.fit`` on ``CE + λ·log(BOPs)`` (``lam`` = λ ≥ 0), or, with
    ``bops_target`` (BOPs per example), on ``CE + λ·max(0, log(BOPs / target))`` (λ default 1): no pressure once
    under budget. Weights, ranges and BatchNorm learn at ``lr``; gate thresholds at ``gate_lr`` (Adam).
    ``candidates``: doubling bit-widths (activations use those ≥ 2); ``group_size``: output channels per pruning
    gate (must divide every pruned layer's channels; ``None`` = quantization only); ``tau``: the surrogate
    sigmoid's temperature (log units). The first and last Conv2d/Linear layers stay at 8/8 bits, unpruned.
    Returns the :class:`SBSConfig` the gates select, with the searched float weights in ``state_dict``.
    """
    _check_model(model)
    cands = check_candidates(candidates)
    act_cands = tuple(b for b in cands if b >= 2)  # the LSQ activation quantizer of finalize needs ≥ 2 bits
    if bops_target is None and lam is None:
        raise ValueError("search needs a cost: give lam (λ >= 0, e.g. 0.1) or bops_target (BOPs per example > 0)")
    lam = 1.0 if lam is None else _number("lam", lam, positive=False)
    target = None if bops_target is None else _number("bops_target", bops_target, positive=True)
    if group_size is not None:
        group_size = _int("group_size", group_size, 1)
    gate_lr = _number("gate_lr", gate_lr, positive=True)
    tau = _number("tau", tau, positive=True)
    dev = resolve_device(device)

    net = make_permanent_(copy_model(model)).to(dev)
    x0 = _first_batch(data, batch_size).to(dev)
    layers, other = _analyze(net.eval(), x0[:1], group_size)
    wq: dict[str, SBSWeight] = {}
    aq: dict[str, SBSAct] = {}
    hooks = []
    for name, layer in layers.items():
        m = net.get_submodule(name)
        fixed = (FIXED_BITS,)
        wq[name] = SBSWeight(
            m.weight, fixed if layer.fixed else cands, group_size=group_size if layer.prunable else None, tau=tau
        ).to(dev)
        parametrize.register_parametrization(m, "weight", wq[name])
        m.sbs_act = aq[name] = SBSAct(fixed if layer.fixed else act_cands, tau=tau).to(dev)
        hooks.append(m.register_forward_pre_hook(_act_hook))
    with torch.no_grad():  # ranges and thresholds of the activations from one batch, before the optimizer exists
        net(x0)

    thresholds = [p for n, p in net.named_parameters() if n.rsplit(".", 1)[-1] in ("alpha", "alpha_prune")]
    ids = {id(p) for p in thresholds}
    rest = [p for p in net.parameters() if id(p) not in ids]

    def optimizer(_groups: object) -> torch.optim.Optimizer:  # thresholds move in log units: their own rate
        return torch.optim.Adam([{"params": rest}, {"params": thresholds, "lr": gate_lr}], lr=lr)

    def cost(_net: nn.Module) -> Tensor:
        log_b = torch.log(_expected_bops(layers, wq, aq, other)).to(dev)
        return lam * (log_b if target is None else F.relu(log_b - math.log(target)))

    fit(
        net, data, epochs=epochs, lr=lr, optimizer=optimizer, extra_loss=cost, batch_size=batch_size,
        max_steps=max_steps, seed=seed, device=dev, progress=progress,
    )  # fmt: skip

    w_bits, a_bits, kept = {}, {}, {}
    with torch.no_grad():
        for name, layer in layers.items():
            m, q = net.get_submodule(name), wq[name]
            w = m.parametrizations.weight.original
            w_bits[name] = round(float(_expected_bits(q.candidates, q.quant_gates(w))))
            a_bits[name] = aq[name].chosen_bits()
            if layer.prunable:
                on = q.group_gates(w) > 0.5
                kept[name] = tuple(int(g) * group_size + i for g in on.nonzero().flatten() for i in range(group_size))  # type: ignore[operator]
    for h in hooks:
        h.remove()
    for name in layers:
        m = net.get_submodule(name)
        parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)  # the float weights
        del m.sbs_act
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    net.eval()
    return _config(net, x0[:1], layers, other, w_bits, a_bits, kept, group_size, state)


# ----------------------------------------------------------------------------------------------------
# The compressed model
# ----------------------------------------------------------------------------------------------------


def _remove_channels(model: nn.Module, kept: dict[str, tuple[int, ...]]) -> nn.Module:
    """Slice the given producers to their kept output channels, with the BatchNorms, depthwise convs and
    consumer inputs that follow them (``effdl.compress.prune``'s chain tracing and slicing; in place)."""
    chains = _chains(model)[0]
    out_idx: dict[str, Tensor] = {}
    in_idx: dict[str, Tensor] = {}
    dw: set[str] = set()
    for name, idx in kept.items():
        keep = torch.tensor(idx, dtype=torch.long, device=_device(model))
        chain = chains[name]
        out_idx[name] = keep
        for target, role in chain.steps:
            if role in ("bn", "dw"):
                out_idx[target] = keep
                if role == "dw":
                    dw.add(target)
            else:  # after a flatten, channel c is the block of features [c*block, (c+1)*block)
                base = torch.arange(chain.block, device=keep.device)
                in_idx[target] = (keep[:, None] * chain.block + base).reshape(-1)
    for name in {*out_idx, *in_idx}:
        m = model.get_submodule(name)
        if isinstance(m, nn.Conv2d):
            new: nn.Module = _sliced_conv(m, out_idx.get(name), in_idx.get(name), name in dw)
        elif isinstance(m, nn.Linear):
            new = _sliced_linear(m, out_idx.get(name), in_idx.get(name))
        else:
            new = _sliced_bn(m, out_idx[name])  # type: ignore[arg-type]
        _set_module(model, name, new)
    return model


def _check_config(model: nn.Module, config: object) -> SBSConfig:
    if not isinstance(config, SBSConfig):
        raise TypeError(f"config must be an SBSConfig (from search or uniform_config), got {type(config).__name__}")
    layers = prunable(model)
    if list(layers) != list(config.layers):
        raise ValueError(f"config must describe this model's layers {list(layers)}, got {list(config.layers)}")
    return config


def finalize(
    model: nn.Module,
    config: SBSConfig,
    data: Data,
    *,
    epochs: int = 1,
    lr: float = 1e-3,
    use_search_weights: bool = True,
    batch_size: int = 128,
    max_steps: int | None = None,
    seed: int | None = 0,
    device: str | torch.device | None = None,
    progress: bool | None = None,
) -> nn.Module:
    """Build the compressed model of ``config`` from a copy of ``model`` and fine-tune it on ``data``.

    Starts from the searched float weights (``config.state_dict``, when ``use_search_weights``), physically
    removes the pruned channels (and the matching BatchNorm features and consumer inputs), then quantizes every
    Conv2d/Linear with ``effdl.compress.quant.prepare_qat_``: weights at ``w_bits`` (LSQ, 2^b levels, one step per
    output channel; STE for 1 bit), inputs at ``a_bits`` (LSQ). Fine-tunes ``epochs`` epochs with ``effdl.fit``
    (``epochs=0``: none) and returns the model in eval mode, its fake-quantizers in place.
    """
    _check_model(model)
    config = _check_config(model, config)
    epochs = _int("epochs", epochs, 0)
    if not isinstance(use_search_weights, bool):
        raise TypeError(f"use_search_weights must be a bool, got {use_search_weights!r}")
    dev = resolve_device(device)
    out = make_permanent_(copy_model(model))
    if use_search_weights and config.state_dict is not None:
        out.load_state_dict(config.state_dict)
    pruned = {n: c.kept for n, c in config.layers.items() if c.channels < c.out_channels and not c.fixed}
    out = _remove_channels(out.to(dev), pruned)
    groups: dict[tuple[int, int], list[str]] = {}
    for name, c in config.layers.items():
        groups.setdefault((c.w_bits, c.a_bits), []).append(name)
    for (wb, ab), names in groups.items():
        prepare_qat_(out, bits=wb, method="lsq" if wb >= 2 else "ste", act_bits=ab, layers=names)
    out.eval()
    with torch.no_grad():  # activation steps from one real batch before the optimizer sees them
        out(_first_batch(data, batch_size).to(dev))
    if epochs:
        fit(
            out,
            data,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            max_steps=max_steps,
            seed=seed,
            device=dev,
            progress=progress,
        )
    return out.eval()


@dataclass(frozen=True)
class SBSReport:
    """A finalized model measured: ``bops`` (``count_bops`` with the configuration's bits, per example),
    ``size_bits`` (weights as ``w_bits`` codes + one fp32 scale per output channel, the rest fp32),
    ``accuracy`` (fraction in [0, 1] on the data given), and the fp32 references."""

    rows: list[dict[str, object]]
    bops: int
    fp32_bops: int
    size_bits: int
    fp32_bits: int
    accuracy: float

    @property
    def bops_reduction(self) -> float:
        return self.fp32_bops / self.bops

    @property
    def compression(self) -> float:
        return self.fp32_bits / self.size_bits

    def as_dict(self) -> dict[str, object]:
        return {
            "bops": self.bops, "fp32_bops": self.fp32_bops, "bops_reduction": self.bops_reduction,
            "size_bits": self.size_bits, "fp32_bits": self.fp32_bits, "compression": self.compression,
            "accuracy": self.accuracy, "layers": self.rows,
        }  # fmt: skip

    def __str__(self) -> str:
        lines = _table(self.rows)
        lines.append(
            f"{self.bops / 1e6:.3f} MBOPs ({self.bops_reduction:.1f}× fewer than fp32), "
            f"{self.size_bits / 8e3:.1f} kB ({self.compression:.1f}× smaller), accuracy {100 * self.accuracy:.2f}%"
        )
        return "\n".join(lines)


def size_bits(model: nn.Module, config: SBSConfig) -> int:
    """Storage of a finalized model in bits: ``model_bits`` with each Conv2d/Linear weight stored as ``w_bits``
    codes plus one fp32 scale per output channel (``footprint.quantized_bits``) instead of its fp32 values and its
    quantizer's own steps; activation steps count as the fp32 scalars they are. ``model`` is not changed."""
    _check_model(model)
    # effective (quantized) weights, biases, quantizer steps, BatchNorm statistics: fp32. A quantizer's
    # "initialized" flag is bookkeeping, not shipped.
    total = model_bits(model, include_buffers=False)
    for m in model.modules():
        if not isinstance(m, LSQQuantizer):
            total += sum(b.numel() * 32 for b in m._buffers.values() if b is not None)
    for name, c in _check_config(model, config).layers.items():
        layer = model.get_submodule(name)
        w = layer.weight.detach()
        steps = 0
        if parametrize.is_parametrized(layer, "weight"):
            steps = sum(
                p.numel() * 32
                for p in layer.parametrizations.weight.parameters()
                if p is not layer.parametrizations.weight.original
            )
        total += quantized_bits(w, bits=c.w_bits, per_channel=True) - tensor_bits(w) - steps
    return total


def report(model: nn.Module, config: SBSConfig, data: Data, *, batch_size: int = 1000) -> SBSReport:
    """Measure a model from :func:`finalize`: BOPs with ``count_bops`` (one example of ``config.input_shape``,
    the configuration's bit table), size (:func:`size_bits`) and accuracy on ``data`` (``effdl.evaluate``)."""
    _check_model(model)
    if not isinstance(config, SBSConfig):
        raise TypeError(f"config must be an SBSConfig, got {type(config).__name__}")
    example = torch.zeros(1, *config.input_shape, device=_device(model))
    return SBSReport(
        rows=config.rows(),
        bops=count_bops(model, example, config.bits_table()),
        fp32_bops=config.fp32_bops,
        size_bits=size_bits(model, config),
        fp32_bits=config.fp32_bits,
        accuracy=evaluate(model, data, batch_size=batch_size).accuracy,
    )
