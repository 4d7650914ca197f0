"""Pruning: remove weights (unstructured) or whole channels (structured) and measure what it buys.

Unstructured magnitude pruning (Han et al. 2015) is built on ``torch.nn.utils.prune``: a pruned layer keeps its
original weights in ``weight_orig`` and a 0/1 ``weight_mask`` buffer, the forward pass uses ``orig * mask``, and
the mask stays removable until :func:`make_permanent_` folds it in. A masked model is no faster than the dense one
(the same dense kernels run on zeros); its gain is storage in a sparse format (see :func:`storage_bits`).

- :func:`prunable`, :func:`magnitude_prune_` (global or layer-wise), :func:`make_permanent_`,
  :func:`layer_sparsity`, :func:`total_sparsity`, :func:`has_masks`, :func:`storage_bits`;
- gradual pruning with the cubic schedule of Zhu & Gupta 2017: :func:`agp_sparsity`, :func:`gradual_prune`;
- per-layer sensitivity: :func:`sensitivity_scan` and :func:`allocate_sparsity`;
- structured pruning (Li et al. 2017; BN scale: Liu et al. 2017) that physically removes channels and returns a
  smaller dense model: :func:`prune_channels` for chain-shaped networks (any ``torch.fx``-traceable model whose
  pruned layers feed one consumer through BN/activations/pooling/flatten), and :func:`prune_channels_graph`, which
  hands arbitrary graphs (residual additions, concatenations) to the ``torch-pruning`` library's dependency graph.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize, prune

from effdl.core.footprint import STORAGES, effective_weights, model_bits
from effdl.core.train import Data, History, as_loader, evaluate, fit

__all__ = [
    "CRITERIA",
    "SCOPES",
    "PruningHistory",
    "agp_sparsity",
    "allocate_sparsity",
    "copy_model",
    "gradual_prune",
    "has_masks",
    "layer_sparsity",
    "magnitude_prune_",
    "make_permanent_",
    "prunable",
    "prune_channels",
    "prune_channels_graph",
    "sensitivity_scan",
    "storage_bits",
    "total_sparsity",
]

SCOPES = ("global", "layer")
CRITERIA = ("l1", "l2", "bn")
DEFAULT_SCAN = (0.0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95)


# ----------------------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------------------


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _fraction(name: str, value: object) -> float:
    """A number in [0, 1): a sparsity or a fraction of channels (1 would remove everything)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1), got {value!r}")
    if not (math.isfinite(value) and 0.0 <= value < 1.0):
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return float(value)


def _choice(name: str, value: object, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}")
    return value  # type: ignore[return-value]


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:  # type: ignore[operator]
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return int(value)


# ----------------------------------------------------------------------------------------------------
# Unstructured magnitude pruning
# ----------------------------------------------------------------------------------------------------


def prunable(model: nn.Module, *, exclude_last: bool = False) -> dict[str, nn.Module]:
    """The layers pruning works on: every ``nn.Conv2d`` and ``nn.Linear``, by module name, in module order.

    ``exclude_last=True`` leaves out the last of them (the classifier's output layer in the workbench's models:
    small, and the most sensitive). Biases and BatchNorm parameters are never pruned: they are few and cheap.
    """
    _check_model(model)
    layers = {name: m for name, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)}
    if exclude_last and layers:
        layers.pop(next(reversed(layers)))
    return layers


def _select(model: nn.Module, layers: Iterable[str] | None, *, arg: str = "layers") -> dict[str, nn.Module]:
    """Resolve layer names (``None`` -> all of :func:`prunable`) with a clear error for unknown ones."""
    available = prunable(model)
    if layers is None:
        return available
    if isinstance(layers, str):
        raise TypeError(f"{arg} must be a list of layer names such as ['features.0'], got the string {layers!r}")
    names = list(layers)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(
            f"{arg} must name Conv2d/Linear layers of the model, got {unknown}; prunable: {list(available)}"
        )
    return {n: available[n] for n in names}


def _check_plain_weights(chosen: Mapping[str, nn.Module], fn: str) -> None:
    """``torch.nn.utils.prune`` cannot mask a weight that is computed by a parametrization (a fake quantizer of
    ``quant.quantize_weights_``/``prepare_qat_``): say so and how to order the steps, instead of torch's TypeError."""
    wrapped = [n for n, m in chosen.items() if parametrize.is_parametrized(m, "weight")]
    if wrapped:
        raise ValueError(
            f"{fn} cannot prune layers whose weight carries a parametrization (a fake quantizer?): {wrapped}; "
            "prune first and quantize after, or fold the quantizers into plain weights with "
            "effdl.compress.quant.remove_quantization_(model, keep=True)"
        )


def _reset_mask_(module: nn.Module, name: str = "weight") -> None:
    """Undo pruning of ``module.<name>`` and restore the kept original values (the Parameter object stays the
    same, so an optimizer built earlier still updates it). Does nothing for a tensor that is not pruned."""
    mask = getattr(module, name + "_mask", None)
    if isinstance(mask, torch.Tensor) and hasattr(module, name + "_orig"):
        mask.fill_(1)  # prune.remove folds orig * mask in: with an all-ones mask that is orig itself
        prune.remove(module, name)


def magnitude_prune_(
    model: nn.Module,
    sparsity: float | None = None,
    *,
    scope: str = "global",
    layers: Iterable[str] | None = None,
    sparsities: Mapping[str, float] | None = None,
) -> nn.Module:
    """Zero the smallest-magnitude weights of ``model``'s Conv2d/Linear layers in place, with removable masks.

    - ``scope="global"``: one threshold for all selected layers together (``prune.global_unstructured``):
      exactly ``round(sparsity * n)`` of their ``n`` weights are masked, wherever they are.
    - ``scope="layer"``: every selected layer loses ``round(sparsity * n_layer)`` of its own weights
      (``prune.l1_unstructured``).
    - ``sparsities={"features.0": 0.5, ...}``: per-layer sparsities (e.g. from :func:`allocate_sparsity`); give
      either this or ``sparsity``; ``scope`` and ``layers`` are then not used.

    ``layers``: module names (default: all of :func:`prunable`). Masks are *replaced*, not compounded: a layer
    that is already pruned is first restored to its kept original weights, so calling this again with a lower
    sparsity brings weights back (a slider can move both ways). Returns ``model``.
    """
    _check_model(model)
    scope = _choice("scope", scope, SCOPES)
    with torch.no_grad():  # torch sets weight = orig * mask: computed without grad it stays a deep-copyable leaf
        return _magnitude_prune(model, sparsity, scope=scope, layers=layers, sparsities=sparsities)


def _magnitude_prune(
    model: nn.Module,
    sparsity: float | None,
    *,
    scope: str,
    layers: Iterable[str] | None,
    sparsities: Mapping[str, float] | None,
) -> nn.Module:
    if sparsities is not None:
        if sparsity is not None:
            raise ValueError(f"give either sparsity or sparsities, not both (got sparsity={sparsity})")
        if not isinstance(sparsities, Mapping):
            raise TypeError(f"sparsities must be a dict of layer name -> sparsity, got {type(sparsities).__name__}")
        chosen = _select(model, sparsities.keys(), arg="sparsities keys")
        _check_plain_weights(chosen, "magnitude_prune_")
        amounts = {n: _fraction(f"sparsities[{n!r}]", v) for n, v in sparsities.items()}
        for n, m in chosen.items():
            _reset_mask_(m)
            prune.l1_unstructured(m, "weight", amount=amounts[n])
        return model
    if sparsity is None:
        raise ValueError("sparsity must be given (a number in [0, 1)), or sparsities as a dict")
    s = _fraction("sparsity", sparsity)
    chosen = _select(model, layers)
    _check_plain_weights(chosen, "magnitude_prune_")
    for m in chosen.values():
        _reset_mask_(m)
    if not chosen:
        return model
    if scope == "global":
        prune.global_unstructured(
            [(m, "weight") for m in chosen.values()], pruning_method=prune.L1Unstructured, amount=s
        )
    else:
        for m in chosen.values():
            prune.l1_unstructured(m, "weight", amount=s)
    return model


def _refresh_masked_(model: nn.Module) -> nn.Module:
    """Recompute every pruned tensor (``orig * mask``) without autograd history, in place.

    After a forward pass in grad mode a pruned module's ``weight`` attribute is a non-leaf tensor, which
    ``copy.deepcopy`` refuses (pytorch/pytorch#103001); the pre-hooks recompute it on the next forward anyway.
    """
    with torch.no_grad():
        for module in model.modules():
            for hook in module._forward_pre_hooks.values():
                if isinstance(hook, prune.BasePruningMethod):
                    setattr(module, hook._tensor_name, hook.apply_mask(module))
    return model


def copy_model(model: nn.Module) -> nn.Module:
    """``copy.deepcopy`` that also works on a pruned model that has just run a training step."""
    return copy.deepcopy(_refresh_masked_(model))


def make_permanent_(model: nn.Module) -> nn.Module:
    """Fold every ``torch.nn.utils.prune`` mask into its weight (``prune.remove``), in place: the zeros stay,
    the ``*_orig``/``*_mask`` tensors and forward pre-hooks go. Returns ``model`` (now a plain dense model)."""
    _check_model(model)
    for module in model.modules():
        hooks = [h for h in module._forward_pre_hooks.values() if isinstance(h, prune.BasePruningMethod)]
        for hook in hooks:
            prune.remove(module, hook._tensor_name)
    return model


def has_masks(model: nn.Module) -> bool:
    """True if any module carries a ``torch.nn.utils.prune`` mask or a ``torch.nn.utils.parametrize``
    parametrization, i.e. the model is not a plain dense model."""
    _check_model(model)
    return any(prune.is_pruned(m) or parametrize.is_parametrized(m) for m in model.modules())


def _zeros(model: nn.Module, chosen: Mapping[str, nn.Module]) -> dict[str, tuple[int, int]]:
    """Layer name -> (zero entries, entries) of its effective weight (``orig * mask`` when pruned)."""
    weights = effective_weights(model)
    out = {}
    for name, m in chosen.items():
        w = weights.get(f"{name}.weight" if name else "weight")
        if w is None:  # a weight shared with an earlier layer is listed under that layer's name
            w = m.weight.detach()
        out[name] = (w.numel() - int(torch.count_nonzero(w)), w.numel())
    return out


def layer_sparsity(model: nn.Module, *, layers: Iterable[str] | None = None) -> dict[str, float]:
    """Fraction of zero entries (in [0, 1]) of each layer's effective weight, by module name
    (default: all of :func:`prunable`). Works with and without masks."""
    return {n: z / max(t, 1) for n, (z, t) in _zeros(model, _select(model, layers)).items()}


def total_sparsity(model: nn.Module, *, layers: Iterable[str] | None = None) -> float:
    """Fraction of zero weights (in [0, 1]) over the selected Conv2d/Linear layers together (default: all of
    :func:`prunable`): the number global pruning controls (``footprint.sparsity`` also counts biases and BN)."""
    counts = _zeros(model, _select(model, layers)).values()
    return sum(z for z, _ in counts) / max(sum(t for _, t in counts), 1)


def storage_bits(model: nn.Module, *, index_bits: int = 32) -> dict[str, int]:
    """``effdl.core.footprint.model_bits`` of the model in each storage format: ``{"dense": …, "bitmask": …,
    "csr": …}`` (bits; 32-bit values; buffers at 32 bits; masks are never counted)."""
    return {s: model_bits(model, storage=s, index_bits=index_bits) for s in STORAGES}


# ----------------------------------------------------------------------------------------------------
# Gradual pruning (Zhu & Gupta 2017)
# ----------------------------------------------------------------------------------------------------


def agp_sparsity(step: int, *, final: float, initial: float = 0.0, start: int = 0, end: int) -> float:
    """The automated gradual pruning schedule of Zhu & Gupta 2017 (eq. 1), sparsity at training step ``step``:

    ``s = final + (initial - final) * (1 - (step - start) / (end - start)) ** 3`` for ``start <= step <= end``,
    ``initial`` before ``start`` and ``final`` after ``end``. Prunes fast while many redundant weights remain
    and slowly as the network gets sparse. ``0 <= initial <= final < 1``, ``0 <= start < end``.
    """
    final = _fraction("final", final)
    initial = _fraction("initial", initial)
    if initial > final:
        raise ValueError(f"initial must be <= final ({final}), got {initial}")
    for name, value in (("step", step), ("start", start), ("end", end)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    if end <= start:
        raise ValueError(f"end must be > start ({start}), got {end}")
    if step <= start:
        return initial
    if step >= end:
        return final
    return final + (initial - final) * (1.0 - (step - start) / (end - start)) ** 3


@dataclass
class PruningHistory(History):
    """A :class:`~effdl.core.train.History` plus what :func:`gradual_prune` did to the masks.

    ``schedule``: ``(step, sparsity)`` at every pruning event; ``sparsity``: measured sparsity of the pruned
    layers at the end of each epoch; ``start``/``end``: the schedule's first and last step.
    """

    schedule: list[tuple[int, float]] = field(default_factory=list)
    sparsity: list[float] = field(default_factory=list)
    start: int = 0
    end: int = 0


def _masked_sparsity(chosen: Mapping[str, nn.Module]) -> float:
    masks = [getattr(m, "weight_mask", None) for m in chosen.values()]
    total = sum(m.weight.numel() for m in chosen.values())
    zeros = sum(int((mk == 0).sum()) for mk in masks if mk is not None)
    return zeros / max(total, 1)


def gradual_prune(
    model: nn.Module,
    train: Data,
    *,
    final_sparsity: float,
    epochs: int = 5,
    prune_every: int = 10,
    lr: float = 1e-3,
    val: Data | None = None,
    seed: int | None = 0,
    initial_sparsity: float = 0.0,
    ramp: float = 0.75,
    scope: str = "global",
    layers: Iterable[str] | None = None,
    **fit_kwargs: object,
) -> PruningHistory:
    """Prune gradually while training (Zhu & Gupta 2017), in place; returns a :class:`PruningHistory`.

    ``effdl.fit`` trains ``model`` for ``epochs`` on ``train``; every ``prune_every`` optimizer steps a callback
    re-applies :func:`magnitude_prune_` (``scope``, ``layers``) at :func:`agp_sparsity` of the step, ramping from
    ``initial_sparsity`` at step 0 to ``final_sparsity`` at ``end = round(ramp * total_steps)``; the remaining
    ``1 - ramp`` of the steps fine-tune at the final sparsity. Weights pruned once stay pruned (their kept
    originals are zeroed at each event, so they rank lowest), as in the paper. ``**fit_kwargs`` go to ``fit``
    (``batch_size``, ``optimizer``, ``schedule``, ``max_steps``, ``callback`` — called after ours …).
    The masks stay on the model; :func:`make_permanent_` folds them in.
    """
    _check_model(model)
    final = _fraction("final_sparsity", final_sparsity)
    initial = _fraction("initial_sparsity", initial_sparsity)
    if initial > final:
        raise ValueError(f"initial_sparsity must be <= final_sparsity ({final}), got {initial}")
    epochs = _positive_int("epochs", epochs)
    prune_every = _positive_int("prune_every", prune_every)
    if isinstance(ramp, bool) or not isinstance(ramp, numbers.Real) or not 0.0 < ramp <= 1.0:
        raise ValueError(f"ramp must be a fraction of the training steps in (0, 1], got {ramp!r}")
    scope = _choice("scope", scope, SCOPES)
    chosen = _select(model, layers)
    names = list(chosen)
    user_callback = fit_kwargs.pop("callback", None)
    if user_callback is not None and not callable(user_callback):
        raise TypeError(f"callback must be callable(step, model), got {type(user_callback).__name__}")

    # fit builds the same loader from the same arguments: it tells the schedule how many steps there will be.
    batch_size = fit_kwargs.get("batch_size", 128)
    loader = as_loader(train, batch_size=batch_size, shuffle=True, seed=seed, name="train")  # type: ignore[arg-type]
    per_epoch = len(loader)  # type: ignore[arg-type]
    total = epochs * per_epoch
    max_steps = fit_kwargs.get("max_steps")
    if isinstance(max_steps, int) and not isinstance(max_steps, bool) and max_steps >= 1:
        total = min(total, max_steps)
    end = max(1, round(ramp * total))

    events: list[tuple[int, float]] = []
    measured: list[float] = []

    def apply(step: int) -> None:
        s = agp_sparsity(step, final=final, initial=initial, start=0, end=end)
        with torch.no_grad():
            for m in chosen.values():  # keep pruned weights pruned: a zero ranks below every kept weight
                if hasattr(m, "weight_mask"):
                    m.weight_orig.mul_(m.weight_mask)
        magnitude_prune_(model, s, scope=scope, layers=names)
        events.append((step, s))

    def callback(step: int, net: nn.Module) -> None:
        if step <= end and (step % prune_every == 0 or step == end):
            apply(step)
        if step % per_epoch == 0 or step == total:
            measured.append(_masked_sparsity(chosen))
        if user_callback is not None:
            user_callback(step, net)

    apply(0)  # masks exist from the start, so the optimizer trains weight_orig through them
    hist = fit(model, train, epochs=epochs, lr=lr, val=val, seed=seed, callback=callback, **fit_kwargs)  # type: ignore[arg-type]
    if not events or events[-1][1] != final:  # a run stopped early still ends at the sparsity asked for
        apply(hist.steps)
    out = PruningHistory(**hist.as_dict(), schedule=events, sparsity=measured, start=0, end=end)
    return out


# ----------------------------------------------------------------------------------------------------
# Sensitivity
# ----------------------------------------------------------------------------------------------------


def sensitivity_scan(
    model: nn.Module,
    data: Data,
    *,
    sparsities: Sequence[float] = DEFAULT_SCAN,
    layers: Iterable[str] | None = None,
    batch_size: int = 1000,
) -> dict[str, list[tuple[float, float]]]:
    """Accuracy against sparsity for each layer pruned *alone* (layer-wise magnitude pruning, no fine-tuning).

    Returns ``{layer name: [(sparsity, accuracy), ...]}`` with accuracy in [0, 1] on ``data`` (evaluated with
    ``effdl.evaluate``), in the order of ``sparsities`` (default ``DEFAULT_SCAN``). ``model`` is not modified (each
    layer is pruned on a copy). Robust layers keep their accuracy to high sparsity; sensitive ones drop early
    (Han et al. 2015, Fig. 6).
    """
    _check_model(model)
    levels = [_fraction("sparsities entries", s) for s in sparsities]
    if not levels:
        raise ValueError("sparsities must hold at least one value in [0, 1), got an empty sequence")
    chosen = _select(model, layers)
    dense = None
    scan: dict[str, list[tuple[float, float]]] = {}
    for name in chosen:
        work = copy_model(model)
        curve = []
        for s in levels:
            if s == 0.0 and not prune.is_pruned(model):
                if dense is None:  # the unpruned model's accuracy, the same for every layer
                    dense = evaluate(model, data, batch_size=batch_size).accuracy
                curve.append((s, dense))
                continue
            magnitude_prune_(work, s, scope="layer", layers=[name])
            curve.append((s, evaluate(work, data, batch_size=batch_size).accuracy))
        scan[name] = curve
    return scan


def _drop_curve(points: Sequence[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """Sparsities and accuracy drops (vs the lowest sparsity), made non-decreasing, starting at sparsity 0."""
    pts = sorted((float(s), float(a)) for s, a in points)
    if pts[0][0] > 0.0:
        pts.insert(0, (0.0, pts[0][1]))  # nothing pruned is at least as good as the least pruned point
    base = pts[0][1]
    xs, ds, worst = [], [], 0.0
    for s, a in pts:
        worst = max(worst, base - a)  # running max: a noisy bump up never makes more sparsity look safer
        xs.append(s)
        ds.append(worst)
    return xs, ds


def _max_sparsity_within(xs: list[float], ds: list[float], tol: float) -> float:
    """Largest sparsity with (interpolated) drop + tiny tie-break slope <= tol."""
    eps = 1e-9  # makes the drop strictly increasing, so flat stretches are shared out continuously
    g = [d + eps * x for x, d in zip(xs, ds, strict=True)]
    if tol <= g[0]:
        return xs[0]
    for i in range(1, len(xs)):
        if tol < g[i]:
            return xs[i - 1] + (xs[i] - xs[i - 1]) * (tol - g[i - 1]) / (g[i] - g[i - 1])
    return xs[-1]


def allocate_sparsity(
    scan: Mapping[str, Sequence[tuple[float, float]]], *, target: float, model: nn.Module
) -> dict[str, float]:
    """Per-layer sparsities that together reach ``target`` over the scanned layers' weights, robust layers first.

    Rule (an equal accuracy-drop threshold, in the spirit of Han et al. 2015): every layer gets the largest
    sparsity at which its own scan curve has lost at most ``τ`` accuracy against its least-pruned point
    (linear interpolation between scanned points, curves made monotone), and ``τ`` is found by bisection so
    that ``sum(s_l * n_l) = target * sum(n_l)`` (``n_l``: the layer's weights in ``model``). A robust layer
    reaches high sparsity before a sensitive one loses anything. Sparsities never exceed the largest scanned
    one, so ``target`` must not either (``ValueError``). Feed the result to ``magnitude_prune_(sparsities=)``.
    """
    target = _fraction("target", target)
    if not isinstance(scan, Mapping) or not scan:
        raise ValueError("scan must be a non-empty dict as returned by sensitivity_scan")
    chosen = _select(model, scan.keys(), arg="scan keys")
    sizes = {n: m.weight.numel() for n, m in chosen.items()}
    curves = {}
    for n, pts in scan.items():
        if not pts:
            raise ValueError(f"scan[{n!r}] is empty: it needs (sparsity, accuracy) points")
        for s, _ in pts:
            _fraction(f"scan[{n!r}] sparsity", s)
        curves[n] = _drop_curve(pts)
    total = sum(sizes.values())

    def reached(tol: float) -> dict[str, float]:
        return {n: _max_sparsity_within(*curves[n], tol) for n in curves}

    def mean(alloc: Mapping[str, float]) -> float:
        return sum(alloc[n] * sizes[n] for n in alloc) / total

    most = mean({n: curves[n][0][-1] for n in curves})
    if target > most + 1e-12:
        raise ValueError(
            f"target must be at most {most:.4f}, the sparsity reached with every layer at its largest scanned "
            f"sparsity, got {target}; scan higher sparsities"
        )
    lo, hi = -1.0, 2.0  # drops are in [-1, 1]; below lo nothing is pruned, above hi everything allowed
    for _ in range(200):
        mid = (lo + hi) / 2
        if mean(reached(mid)) < target:
            lo = mid
        else:
            hi = mid
    return reached(hi)


# ----------------------------------------------------------------------------------------------------
# Structured (channel) pruning
# ----------------------------------------------------------------------------------------------------

# Modules and functions that keep channel c in channel c: a pruned channel can pass through them.
_PASS_MODULES = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardswish,
    nn.Hardtanh,
    nn.Mish,
    nn.Dropout,
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Identity,
    nn.MaxPool2d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool2d,
)
_PASS_FUNCTIONS = {
    F.relu,
    torch.relu,
    F.relu6,
    F.gelu,
    F.silu,
    torch.sigmoid,
    torch.tanh,
    F.dropout,
    F.max_pool2d,
    F.avg_pool2d,
    F.adaptive_avg_pool2d,
}


@dataclass
class _Chain:
    """Where a producer's output channels go: ``steps`` are (module name, role) with role "bn" (BatchNorm
    features), "dw" (a depthwise conv: channels in = out) or "in" (the consumer's input channels, in blocks of
    ``block`` features after a flatten)."""

    producer: str
    steps: list[tuple[str, str]]
    block: int = 1


def _trace(model: nn.Module) -> torch.fx.GraphModule:
    try:
        return torch.fx.symbolic_trace(model)
    except Exception as err:  # fx raises many types on data-dependent control flow
        raise ValueError(
            f"prune_channels traces the model with torch.fx to find which layers feed which, and tracing "
            f"{type(model).__name__} failed ({type(err).__name__}: {err}); use prune_channels_graph (torch-pruning)"
        ) from err


def _chains(model: nn.Module) -> tuple[dict[str, _Chain], dict[str, str]]:
    """Producer name -> its chain, for every Conv2d (groups=1) / Linear whose output channels can be removed;
    and, for the other Conv2d/Linear layers, why not."""
    gm = _trace(model)
    modules = dict(gm.named_modules())
    calls: dict[str, int] = {}
    for node in gm.graph.nodes:
        if node.op == "call_module":
            calls[node.target] = calls.get(node.target, 0) + 1
    chains: dict[str, _Chain] = {}
    why: dict[str, str] = {}
    for node in gm.graph.nodes:
        if node.op != "call_module":
            continue
        m = modules[node.target]
        if not isinstance(m, nn.Conv2d | nn.Linear):
            continue
        name = str(node.target)
        if isinstance(m, nn.Conv2d) and m.groups != 1:
            why[name] = "a grouped/depthwise conv's output channels are tied to its input channels"
            continue
        if calls[name] != 1:
            why[name] = "the layer is called more than once"
            continue
        chain, reason = _follow(node, name, m, modules, calls)
        if chain is None:
            why[name] = reason
        else:
            chains[name] = chain
    return chains, why


def _follow(
    node: torch.fx.Node, name: str, producer: nn.Module, modules: dict, calls: dict
) -> tuple[_Chain | None, str]:
    """Walk from a producer through channel-preserving ops to the single layer consuming its channels."""
    steps: list[tuple[str, str]] = []
    is_conv = isinstance(producer, nn.Conv2d)
    channels = producer.out_channels if is_conv else producer.out_features
    flattened = False
    while True:
        users = list(node.users)
        if len(users) != 1:
            return None, "its output feeds several operations (e.g. a residual addition): use prune_channels_graph"
        node = users[0]
        if node.op == "output":
            return None, "it produces the model's output"
        if node.op == "call_module":
            target = str(node.target)
            m = modules[target]
            if calls[target] != 1:
                return None, f"{target} is called more than once"
            if isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d) and not flattened:
                if isinstance(m, nn.BatchNorm2d) != is_conv:
                    return None, f"{target} does not match the layer's output"
                steps.append((target, "bn"))
                continue
            if isinstance(m, nn.Conv2d) and is_conv and not flattened:
                if m.groups == 1:
                    steps.append((target, "in"))
                    return _Chain(name, steps), ""
                if m.groups == m.in_channels == m.out_channels:
                    steps.append((target, "dw"))
                    continue
                return None, f"{target} is a grouped conv"
            if isinstance(m, nn.Linear):
                if is_conv and not flattened:
                    return None, f"{target} acts on the last (spatial) axis, not on channels"
                block = m.in_features // channels if flattened else 1
                if block * channels != m.in_features:
                    return None, f"{target} has {m.in_features} inputs, not a multiple of {channels} channels"
                steps.append((target, "in"))
                return _Chain(name, steps, block), ""
            if isinstance(m, nn.Flatten) and is_conv and not flattened and m.start_dim == 1:
                flattened = True
                continue
            if isinstance(m, _PASS_MODULES):
                continue
            return None, f"{target} ({type(m).__name__}) is not a channel-wise operation prune_channels knows"
        if node.op == "call_function" and node.target in _PASS_FUNCTIONS:
            continue
        if node.op == "call_function" and node.target is torch.flatten and is_conv and not flattened:
            start = node.args[1] if len(node.args) > 1 else node.kwargs.get("start_dim", 0)
            if start != 1:
                return None, "a flatten that does not start at the channel axis"
            flattened = True
            continue
        return None, f"its output reaches {node.op} {node.target}, which prune_channels cannot follow"


def _importance(model: nn.Module, chain: _Chain, criterion: str) -> torch.Tensor:
    """One score per output channel of the producer; low scores are removed first."""
    w = model.get_submodule(chain.producer).weight.detach().flatten(1)
    if criterion == "bn":
        for target, role in chain.steps:
            if role == "dw":
                break
            if role == "bn":
                bn = model.get_submodule(target)
                if bn.weight is not None:
                    return bn.weight.detach().abs()  # Liu et al. 2017: the BN scale gates the channel
    if criterion == "l2":
        return w.pow(2).sum(1).sqrt()
    return w.abs().sum(1)  # L1 (Li et al. 2017); also "bn" for a layer without a BatchNorm after it


def _set_module(root: nn.Module, name: str, new: nn.Module) -> None:
    parent, _, child = name.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, child, new)


def _sliced_conv(m: nn.Conv2d, out_idx: torch.Tensor | None, in_idx: torch.Tensor | None, dw: bool) -> nn.Conv2d:
    w = m.weight.detach()
    b = m.bias.detach() if m.bias is not None else None
    if out_idx is not None:
        w = w[out_idx]
        b = b[out_idx] if b is not None else None
    if in_idx is not None and not dw:
        w = w[:, in_idx]
    out_ch = w.shape[0]
    in_ch = out_ch if dw else w.shape[1] * m.groups
    new = nn.Conv2d(
        in_ch,
        out_ch,
        m.kernel_size,  # type: ignore[arg-type]
        stride=m.stride,  # type: ignore[arg-type]
        padding=m.padding,  # type: ignore[arg-type]
        dilation=m.dilation,  # type: ignore[arg-type]
        groups=out_ch if dw else m.groups,
        bias=b is not None,
        padding_mode=m.padding_mode,
        device=w.device,
        dtype=w.dtype,
    )
    with torch.no_grad():
        new.weight.copy_(w)
        if b is not None:
            new.bias.copy_(b)
    return new.train(m.training)


def _sliced_linear(m: nn.Linear, out_idx: torch.Tensor | None, in_idx: torch.Tensor | None) -> nn.Linear:
    w = m.weight.detach()
    b = m.bias.detach() if m.bias is not None else None
    if out_idx is not None:
        w = w[out_idx]
        b = b[out_idx] if b is not None else None
    if in_idx is not None:
        w = w[:, in_idx]
    new = nn.Linear(w.shape[1], w.shape[0], bias=b is not None, device=w.device, dtype=w.dtype)
    with torch.no_grad():
        new.weight.copy_(w)
        if b is not None:
            new.bias.copy_(b)
    return new.train(m.training)


def _sliced_bn(m: nn.BatchNorm1d | nn.BatchNorm2d, idx: torch.Tensor) -> nn.Module:
    ref = m.weight if m.weight is not None else m.running_mean
    new = type(m)(
        len(idx),
        eps=m.eps,
        momentum=m.momentum,  # type: ignore[arg-type]
        affine=m.affine,
        track_running_stats=m.track_running_stats,
        device=ref.device if ref is not None else None,
        dtype=ref.dtype if ref is not None else None,
    )
    with torch.no_grad():
        if m.affine:
            new.weight.copy_(m.weight[idx])
            new.bias.copy_(m.bias[idx])
        if m.track_running_stats and m.running_mean is not None:
            new.running_mean.copy_(m.running_mean[idx])
            new.running_var.copy_(m.running_var[idx])
            new.num_batches_tracked.copy_(m.num_batches_tracked)
    return new.train(m.training)


def prune_channels(
    model: nn.Module,
    amount: float,
    *,
    criterion: str = "l1",
    layers: Iterable[str] | None = None,
) -> nn.Module:
    """Remove the least important ``amount`` of the output channels (Conv2d filters, Linear units) of each
    selected layer, and return a new, smaller *dense* model (a deep copy; ``model`` is untouched).

    Every selected layer loses ``round(amount * C)`` of its C output channels (at least one is kept), ranked by
    ``criterion``: ``"l1"`` (sum of |w| of the filter, Li et al. 2017), ``"l2"`` (its L2 norm) or ``"bn"`` (|γ|
    of the BatchNorm right after it, Liu et al. 2017; L1 where no BatchNorm follows). The layers that consume
    those channels shrink with it: following BatchNorms and depthwise convs lose the same channels, the next
    conv/linear loses the matching inputs (all spatial positions of a channel after a flatten).

    ``layers``: producer names (default: every Conv2d/Linear whose outputs reach exactly one consumer through
    BatchNorm, activations, pooling, dropout or flatten — in the workbench, SmallCNN and MLP layers but the last,
    every MobileNetV1 stem/pointwise conv, ResNet's first conv in each block). The model is traced with
    ``torch.fx``; layers feeding a residual addition or concatenation are not handled here: use
    :func:`prune_channels_graph`. Masks of the copy are folded in first; the result has no masks or hooks.
    Attributes such as ``SmallCNN.channels`` still describe the original.
    """
    _check_model(model)
    amount = _fraction("amount", amount)
    criterion = _choice("criterion", criterion, CRITERIA)
    out = make_permanent_(copy_model(model))
    chains, why = _chains(out)
    if layers is None:
        selected = list(chains)
    else:
        if isinstance(layers, str):
            raise TypeError(f"layers must be a list of layer names such as ['features.0'], got {layers!r}")
        selected = list(layers)
        for n in selected:
            if n not in chains:
                reason = why.get(n, "it is not a Conv2d/Linear layer of the model")
                raise ValueError(f"layers entry {n!r} cannot be channel-pruned: {reason}; prunable: {list(chains)}")
    out_idx: dict[str, torch.Tensor] = {}
    in_idx: dict[str, torch.Tensor] = {}
    dw: set[str] = set()
    for name in selected:
        chain = chains[name]
        scores = _importance(out, chain, criterion)
        c = scores.numel()
        n_keep = c - min(c - 1, round(amount * c))
        # stable sort: among equal scores the earlier channel is kept, and kept channels stay in order
        order = torch.sort(scores, descending=True, stable=True).indices[:n_keep]
        keep = torch.sort(order).values
        out_idx[name] = keep
        for target, role in chain.steps:
            if role in ("bn", "dw"):
                out_idx[target] = keep
                if role == "dw":
                    dw.add(target)
            elif chain.block == 1:
                in_idx[target] = keep
            else:  # after a flatten, channel c is the block of features [c*block, (c+1)*block)
                base = torch.arange(chain.block, device=keep.device)
                in_idx[target] = (keep[:, None] * chain.block + base).reshape(-1)
    for name in {*out_idx, *in_idx}:
        m = out.get_submodule(name)
        if isinstance(m, nn.Conv2d):
            new: nn.Module = _sliced_conv(m, out_idx.get(name), in_idx.get(name), name in dw)
        elif isinstance(m, nn.Linear):
            new = _sliced_linear(m, out_idx.get(name), in_idx.get(name))
        else:
            new = _sliced_bn(m, out_idx[name])  # type: ignore[arg-type]
        _set_module(out, name, new)
    return out


def prune_channels_graph(
    model: nn.Module,
    example_inputs: torch.Tensor | tuple[torch.Tensor, ...],
    amount: float,
    *,
    criterion: str = "l1",
    ignore: Iterable[str] = (),
) -> nn.Module:
    """Channel pruning for arbitrary graphs (residual additions, concatenations) with the ``torch-pruning``
    library (Fang et al., DepGraph, CVPR 2023), which finds the layers that must lose the same channels.

    Returns a pruned deep copy (``model`` is untouched): each group of coupled layers loses ``amount`` of its
    channels, ranked by the group's mean ``"l1"``/``"l2"`` filter norm or ``"bn"`` scale. ``example_inputs`` is a
    batch the model accepts (for tracing). The last Conv2d/Linear (the output layer) and the layers named in
    ``ignore`` keep their output channels. Needs the optional dependency: ``pip install effdl[graph]``.
    """
    _check_model(model)
    amount = _fraction("amount", amount)
    criterion = _choice("criterion", criterion, CRITERIA)
    try:
        import torch_pruning as tp
    except ImportError as err:
        raise ImportError(
            "prune_channels_graph needs the torch-pruning library: pip install effdl[graph] "
            "(or pip install torch-pruning)"
        ) from err
    if isinstance(ignore, str):
        raise TypeError(f"ignore must be a list of module names, got the string {ignore!r}")
    # torch-pruning rebuilds weights as plain Parameters: a parametrized weight would fail deep inside it.
    _check_plain_weights(dict(model.named_modules()), "prune_channels_graph")
    out = make_permanent_(copy_model(model))
    names = dict(out.named_modules())
    unknown = [n for n in ignore if n not in names]
    if unknown:
        raise ValueError(f"ignore must name modules of the model, got unknown {unknown}")
    layers = prunable(out)
    ignored = [names[n] for n in ignore]
    if layers:
        ignored.append(layers[next(reversed(layers))])
    if criterion == "bn":
        importance = tp.importance.BNScaleImportance(normalizer=None)
    else:
        importance = tp.importance.MagnitudeImportance(p=1 if criterion == "l1" else 2, normalizer=None)
    pruner = tp.pruner.BasePruner(
        out, example_inputs, importance=importance, pruning_ratio=amount, ignored_layers=ignored
    )
    pruner.step()
    return out
