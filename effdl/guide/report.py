"""Bring your own model: :func:`analyze` measures any ``nn.Module`` on one example input, offline, and says what
to compress first.

No data set and no labels: sensitivities are *proxies*, the relative change of the model's output on the example
input when one layer alone is pruned or quantized. They rank layers (compress the insensitive, large ones first);
they do not predict accuracy. Check any choice on real validation data before shipping it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils import prune as torch_prune

from effdl.compress.prune import copy_model, make_permanent_, prunable, prune_channels_graph
from effdl.compress.quant import WeightFakeQuant, quantized_model_bits, to_int8
from effdl.core.footprint import (
    Latency,
    compare_latency,
    count_bops,
    count_flops,
    count_params,
    model_bits,
    serialized_bytes,
)
from effdl.core.train import progress_enabled

__all__ = ["ModelReport", "analyze"]

MIN_BITS, MAX_BITS = 2, 8
_ROUNDS = 3  # interleaved latency rounds (effdl.core.footprint.compare_latency): fp32, pruned and int8 alike


# ----------------------------------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------------------------------


def _size(n_bytes: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes:.0f} B"


def _count(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6)):
        if n >= scale:
            return f"{n / scale:.4g} {unit}"
    return f"{n:,.0f}"


def _times(ratio: float, better: str, worse: str, digits: int = 2) -> str:
    """``before / after`` in words: ``2.00× smaller`` or, below 1, ``2.00× larger``."""
    if ratio <= 0 or not math.isfinite(ratio):
        return f"{ratio:.{digits}f}× {better}"
    return f"{ratio:.{digits}f}× {better}" if ratio >= 1 else f"{1 / ratio:.{digits}f}× {worse}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


@dataclass(frozen=True)
class ModelReport:
    """What :func:`analyze` measured. Sizes in bytes, latency in ms per batch of ``batch_size``, ratios as
    ``before / after`` (above 1 = smaller or faster).

    - footprint: ``params``, ``fp32_bytes`` (the ``torch.save(state_dict)`` file, masks folded in),
      ``flops``/``macs`` (one forward pass on the example input), ``bops_32``/``bops_8`` (weights and activations at
      32/32 and 8/8 bits), ``latency`` (median and IQR);
    - ``layers``: one row per Conv2d/Linear (see :func:`analyze`);
    - structured pruning: ``pruned_params``, ``pruned_macs``, ``pruned_latency``, ``pruned_speedup``; all ``None``
      with the reason in ``pruned_note`` when it could not be done;
    - int8 (real kernels, ``nn.Linear`` only): ``int8_bytes`` (serialized file), ``int8_latency``,
      ``int8_speedup``, ``int8_note``; computed sizes (formula, not a file) with every Conv2d/Linear weight stored
      as codes plus one fp32 scale per output channel: ``computed_fp32_bytes``, ``computed_int8_bytes`` and
      ``computed_lowbit_bytes`` (at ``settings["bits"]``); ``linear_share``: the ``nn.Linear`` layers' share of the
      Conv2d/Linear parameters (what ``to_int8`` converts).
    """

    model: str
    input_shapes: list[list[int]]
    batch_size: int
    settings: dict[str, Any]
    params: int
    fp32_bytes: int
    flops: int
    macs: int
    bops_32: int
    bops_8: int
    latency: Latency
    layers: list[dict[str, Any]]
    pruned_params: int | None
    pruned_macs: int | None
    pruned_latency: Latency | None
    pruned_speedup: float | None
    pruned_note: str | None
    int8_bytes: int | None
    int8_latency: Latency | None
    int8_speedup: float | None
    int8_note: str | None
    computed_fp32_bytes: int
    computed_int8_bytes: int
    computed_lowbit_bytes: int
    linear_share: float

    # -- views --------------------------------------------------------------------------------------

    def ranked(self, key: str = "prune_output_change") -> list[dict[str, Any]]:
        """The layer rows sorted by ``key`` ascending (least sensitive first); ties keep module order."""
        if not self.layers or key not in self.layers[0]:
            allowed = sorted(self.layers[0]) if self.layers else []
            raise ValueError(f"key must be a column of layers, one of {allowed}, got {key!r}")
        return sorted(self.layers, key=lambda r: r[key])

    def as_dict(self) -> dict[str, Any]:
        """Flat, JSON-friendly view (latencies as ``*_latency_ms`` medians and ``*_latency_iqr_ms``)."""

        def lat(prefix: str, value: Latency | None) -> dict[str, float | None]:
            return {
                f"{prefix}latency_ms": None if value is None else value.median_ms,
                f"{prefix}latency_iqr_ms": None if value is None else value.iqr_ms,
            }

        return {
            "model": self.model,
            "input_shapes": [list(s) for s in self.input_shapes],
            "batch_size": self.batch_size,
            "settings": dict(self.settings),
            "params": self.params,
            "fp32_bytes": self.fp32_bytes,
            "flops": self.flops,
            "macs": self.macs,
            "bops_32": self.bops_32,
            "bops_8": self.bops_8,
            **lat("", self.latency),
            "latency_threads": self.latency.threads,
            "layers": [dict(r) for r in self.layers],
            "pruned_params": self.pruned_params,
            "pruned_macs": self.pruned_macs,
            **lat("pruned_", self.pruned_latency),
            "pruned_speedup": self.pruned_speedup,
            "pruned_note": self.pruned_note,
            "int8_bytes": self.int8_bytes,
            **lat("int8_", self.int8_latency),
            "int8_speedup": self.int8_speedup,
            "int8_note": self.int8_note,
            "computed_fp32_bytes": self.computed_fp32_bytes,
            "computed_int8_bytes": self.computed_int8_bytes,
            "computed_lowbit_bytes": self.computed_lowbit_bytes,
            "linear_share": self.linear_share,
        }

    def summary(self) -> str:
        """A few lines of text: footprint, structured pruning, int8, the least and most sensitive layers."""
        s = self.settings
        lines = [
            f"{self.model}: {self.params:,} params, {_size(self.fp32_bytes)} fp32 file, {_count(self.macs)} MACs "
            f"per batch of {self.batch_size}, latency {self.latency}",
            f"BOPs: {self.bops_32:.3g} at 32/32 bits, {self.bops_8:.3g} at 8/8 bits",
        ]
        if self.pruned_params is None:
            lines.append(f"structured pruning ({s['channel_fraction']:.0%} channels): not done: {self.pruned_note}")
        else:
            lines.append(
                f"structured pruning ({s['channel_fraction']:.0%} channels): {self.pruned_params:,} params "
                f"({self.params / max(self.pruned_params, 1):.2f}× fewer), {_count(self.pruned_macs)} MACs, "
                f"{_times(self.pruned_speedup, 'faster', 'slower')}"
            )
        if self.int8_bytes is None:
            lines.append(f"int8 kernels (nn.Linear): not done: {self.int8_note}")
        else:
            lines.append(
                f"int8 kernels (nn.Linear, {self.linear_share:.0%} of the layer weights): "
                f"file {_size(self.int8_bytes)} ({_times(self.fp32_bytes / self.int8_bytes, 'smaller', 'larger')}), "
                f"{_times(self.int8_speedup, 'faster', 'slower')}"
            )
        lines.append(
            f"computed size, all Conv2d/Linear weights quantized: {_size(self.computed_int8_bytes)} at 8 bits "
            f"({self.computed_fp32_bytes / self.computed_int8_bytes:.2f}× smaller than fp32), "
            f"{_size(self.computed_lowbit_bytes)} at {s['bits']} bits"
        )
        if self.layers:
            by_prune = self.ranked("prune_output_change")
            lines.append(
                f"pruning {s['sparsity']:.0%} of one layer: least sensitive {by_prune[0]['name']} "
                f"({by_prune[0]['prune_output_change']:.3g}), most sensitive {by_prune[-1]['name']} "
                f"({by_prune[-1]['prune_output_change']:.3g}) relative output change"
            )
            by_quant = self.ranked("quant_output_change")
            lines.append(
                f"{s['bits']}-bit weights in one layer: least sensitive {by_quant[0]['name']} "
                f"({by_quant[0]['quant_output_change']:.3g}), most sensitive {by_quant[-1]['name']} "
                f"({by_quant[-1]['quant_output_change']:.3g}) relative output change"
            )
        return "\n".join(lines)

    def candidates(self) -> list[str]:
        """Plain-English recommendations, each computed from this report's numbers (proxies: confirm on data)."""
        s = self.settings
        out: list[str] = []
        if self.layers:
            # weights removed per unit of output change: a big, insensitive layer first
            best = max(self.layers, key=lambda r: r["params_share"] / (r["prune_output_change"] + 1e-12))
            rank = "the" if best["prune_rank"] == 1 else f"the {_ordinal(best['prune_rank'])}"
            out.append(
                f"{best['name']} holds {best['params_share']:.0%} of the weights and is {rank} least sensitive of "
                f"{len(self.layers)} layers to {s['sparsity']:.0%} pruning ({best['prune_output_change']:.2%} "
                "output change): prune it first"
            )
            worst = self.ranked("prune_output_change")[-1]
            if worst["name"] != best["name"]:
                out.append(
                    f"{worst['name']} is the most sensitive to pruning ({worst['prune_output_change']:.2%} output "
                    f"change for {worst['params_share']:.0%} of the weights): prune it last or not at all"
                )
            by_quant = self.ranked("quant_output_change")
            q_worst = by_quant[-1]
            out.append(
                f"{s['bits']}-bit weights: {q_worst['name']} changes the output most "
                f"({q_worst['quant_output_change']:.2%}, {by_quant[0]['name']} least: "
                f"{by_quant[0]['quant_output_change']:.2%}): keep {q_worst['name']} at 8 bits"
            )
        if self.pruned_params is not None and self.pruned_macs is not None and self.pruned_speedup is not None:
            out.append(
                f"structured pruning of {s['channel_fraction']:.0%} channels: "
                f"{self.params / max(self.pruned_params, 1):.1f}× fewer parameters, "
                f"{self.macs / max(self.pruned_macs, 1):.1f}× fewer MACs, "
                f"{_times(self.pruned_speedup, 'faster', 'slower', 1)} (batch {self.batch_size}); fine-tune afterwards"
            )
        else:
            out.append(f"structured pruning was not possible here: {self.pruned_note}")
        out.append(
            f"int8 weights (computed size): {self.computed_fp32_bytes / self.computed_int8_bytes:.1f}× smaller; "
            f"{s['bits']}-bit: {self.computed_fp32_bytes / self.computed_lowbit_bytes:.1f}× smaller"
        )
        if self.int8_bytes is not None and self.int8_speedup is not None:
            out.append(
                f"int8 kernels (to_int8, nn.Linear = {self.linear_share:.0%} of the layer weights): file "
                f"{_times(self.fp32_bytes / self.int8_bytes, 'smaller', 'larger')}, "
                f"{_times(self.int8_speedup, 'faster', 'slower')}"
            )
        else:
            out.append(f"int8 kernels were not possible here: {self.int8_note}")
        return out


# ----------------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------------


def _open_fraction(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in (0, 1), got {value!r}")
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return float(value)


def _inputs(example_input: object) -> tuple[Tensor, ...]:
    if isinstance(example_input, Tensor):
        return (example_input,)
    if isinstance(example_input, tuple) and example_input and all(isinstance(t, Tensor) for t in example_input):
        return example_input
    raise TypeError(
        f"example_input must be a Tensor or a non-empty tuple of Tensors, got {type(example_input).__name__}"
    )


def _validate(
    model: object, sparsity: object, channel_fraction: object, bits: object, repeats: object, seed: object
) -> tuple[float, float, int, int]:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    s = _open_fraction("sparsity", sparsity)
    c = _open_fraction("channel_fraction", channel_fraction)
    if isinstance(bits, bool) or not isinstance(bits, int) or not MIN_BITS <= bits <= MAX_BITS:
        raise ValueError(f"bits must be an int in {MIN_BITS}..{MAX_BITS}, got {bits!r}")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"latency_repeats must be an int >= 1, got {repeats!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"seed must be an int or None, got {seed!r}")
    return s, c, bits, repeats


# ----------------------------------------------------------------------------------------------------
# Sensitivity proxies
# ----------------------------------------------------------------------------------------------------


def _flat(out: object) -> Tensor:
    """Every floating tensor in a model's output (tensor, tuple/list, dict), as one fp64 vector."""
    parts: list[Tensor] = []

    def walk(o: object) -> None:
        if isinstance(o, Tensor):
            if o.is_complex():
                o = torch.view_as_real(o)
            if o.is_floating_point():
                parts.append(o.detach().reshape(-1).to(torch.float64))
        elif isinstance(o, Mapping):
            for v in o.values():
                walk(v)
        elif isinstance(o, (tuple, list)):
            for v in o:
                walk(v)

    walk(out)
    if not parts:
        raise ValueError(f"the model's output must contain a floating-point tensor, got {type(out).__name__}")
    return torch.cat(parts) if len(parts) > 1 else parts[0]


def _relative(new: Tensor, ref: Tensor) -> float:
    """``||new - ref|| / ||ref||`` (L2); 0 when both are 0, inf when only ``ref`` is 0."""
    diff = float(torch.linalg.vector_norm(new - ref))
    norm = float(torch.linalg.vector_norm(ref))
    if norm == 0.0:
        return 0.0 if diff == 0.0 else math.inf
    return diff / norm


def _plain_copy(model: nn.Module) -> nn.Module:
    """A deep copy in eval mode whose Conv2d/Linear weights are plain parameters: pruning masks and
    parametrizations (e.g. fake quantizers) are folded into the weights the model computes with."""
    work = make_permanent_(copy_model(model))
    for m in work.modules():
        if parametrize.is_parametrized(m):
            for tensor_name in list(m.parametrizations.keys()):
                parametrize.remove_parametrizations(m, tensor_name, leave_parametrized=True)
    return work.eval()


def _run(model: nn.Module, args: tuple[Tensor, ...], seed: int | None) -> Tensor:
    """One forward pass under ``no_grad``; with a seed, the RNG is re-seeded (in a fork: the caller's RNG state
    is untouched), so a model that samples in its forward pass draws the same noise every time."""
    if seed is None:
        with torch.no_grad():
            return _flat(model(*args))
    devices = [a.device for a in args if a.device.type == "cuda"]
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        torch.manual_seed(seed)
        return _flat(model(*args))


def _pruned(w: Tensor, sparsity: float) -> Tensor:
    """``w`` with its ``round(sparsity * numel)`` smallest magnitudes zeroed (``torch.nn.utils.prune``'s L1 rule)."""
    mask = torch_prune.L1Unstructured(amount=sparsity).compute_mask(w, default_mask=torch.ones_like(w))
    return w * mask


def _sensitivities(
    work: nn.Module, args: tuple[Tensor, ...], *, sparsity: float, bits: int, seed: int | None, progress: bool | None
) -> dict[str, dict[str, float]]:
    """Per layer of ``work`` (changed and restored in place): output change when that layer alone is pruned or
    quantized, and the weight-domain relative errors."""
    from tqdm.auto import tqdm  # imported here: tqdm.auto probes for Jupyter, which is slow at import time

    ref = _run(work, args, seed)
    quantizer = WeightFakeQuant(bits=bits)  # = quantize_weights_(bits=bits): symmetric, per channel, min-max
    layers = prunable(work)
    rows: dict[str, dict[str, float]] = {}
    for name, layer in tqdm(layers.items(), desc="layers", unit="layer", disable=not progress_enabled(progress)):
        weight = layer.weight
        original = weight.detach().clone()
        row: dict[str, float] = {}
        with torch.no_grad():
            for kind, changed in (("prune", _pruned(original, sparsity)), ("quant", quantizer(original))):
                weight.copy_(changed)
                try:
                    row[f"{kind}_output_change"] = _relative(_run(work, args, seed), ref)
                finally:
                    weight.copy_(original)
                row[f"{kind}_weight_error"] = _relative(changed, original)
        rows[name] = row
    return rows


# ----------------------------------------------------------------------------------------------------
# analyze
# ----------------------------------------------------------------------------------------------------


def _layer_rows(
    work: nn.Module, by_module: Mapping[str, int], macs: int, sens: Mapping[str, Mapping[str, float]]
) -> list[dict[str, Any]]:
    work_layers = prunable(work)
    sizes = {n: sum(p.numel() for p in m.parameters(recurse=False)) for n, m in work_layers.items()}
    total = sum(sizes.values())
    rows: list[dict[str, Any]] = []
    for name, m in work_layers.items():
        layer_macs = by_module.get(name, 0) // 2
        rows.append(
            {
                "name": name,
                "type": type(m).__name__,
                "shape": [int(d) for d in m.weight.shape],
                "params": sizes[name],
                "params_share": sizes[name] / total if total else 0.0,
                "macs": layer_macs,
                "macs_share": layer_macs / macs if macs else 0.0,
                **sens[name],
            }
        )
    for key in ("prune_output_change", "quant_output_change"):
        order = sorted(range(len(rows)), key=lambda i: rows[i][key])
        for rank, i in enumerate(order, start=1):
            rows[i][key.split("_")[0] + "_rank"] = rank
    return rows


def _attempt(what: str, fn: Callable[[], Any]) -> tuple[Any, str | None]:
    """``fn()`` or, if it raises, ``None`` with the reason (a report never crashes on an optional step)."""
    try:
        return fn(), None
    except Exception as err:  # any failure of an optional step becomes the report's note
        return None, f"{what} failed: {type(err).__name__}: {err}"


def analyze(
    model: nn.Module,
    example_input: Tensor | tuple[Tensor, ...],
    *,
    sparsity: float = 0.5,
    channel_fraction: float = 0.5,
    bits: int = 4,
    latency_repeats: int = 20,
    seed: int | None = 0,
    progress: bool | None = None,
) -> ModelReport:
    """Measure ``model`` on ``example_input`` (a batch it accepts: ``model(*example_input)``) and return a
    :class:`ModelReport`. No training data, no labels, no download; ``model`` is left unchanged (weights,
    buffers and training flags).

    1. Footprint: parameters, bytes of the fp32 ``state_dict`` file, FLOPs/MACs, BOPs at 32/32 and 8/8 bits,
       CPU latency (median and IQR of ``latency_repeats`` runs, batch = the example's).
    2. Every Conv2d/Linear layer, in module order: ``name``, ``type``, weight ``shape``, ``params`` (weight + bias)
       and ``params_share`` (of all Conv2d/Linear parameters; sums to 1), ``macs`` and ``macs_share`` (of the
       model's MACs), and sensitivity proxies on the example input, each for that layer *alone*:
       ``prune_output_change`` = ``||f'(x) - f(x)|| / ||f(x)||`` with ``sparsity`` of its weights zeroed by
       magnitude, ``quant_output_change`` the same with its weights fake-quantized to ``bits`` bits (symmetric,
       per output channel, as ``quantize_weights_``), ``prune_weight_error`` / ``quant_weight_error`` =
       ``||w' - w|| / ||w||``, and ``prune_rank`` / ``quant_rank`` (1 = least sensitive: compress first). The
       output is every floating tensor the model returns, flattened together.
    3. Structured pruning of ``channel_fraction`` of the channels (``prune_channels_graph``, torch-pruning):
       params, MACs, latency and speed-up.
    4. Real int8 kernels for ``nn.Linear`` (``to_int8``): file bytes and speed-up; and computed sizes with every
       Conv2d/Linear weight at 8 and at ``bits`` bits (``quantized_model_bits``).

    The fp32, pruned and int8 models are timed in the same call, interleaved (``compare_latency``, 3 rounds). A
    step that cannot be done (torch-pruning missing, a graph it cannot trace, no ``nn.Linear``) leaves its numbers
    ``None`` and says why in ``pruned_note`` / ``int8_note``. ``seed`` re-seeds the RNG before every forward pass
    of the sensitivity proxies (inside ``torch.random.fork_rng``), so a model that samples in its forward pass is
    compared on the same noise; same seed, same numbers. ``progress``: a tqdm bar over the layers (default on unless
    ``EFFDL_PROGRESS=0``). Raises ``TypeError``/``ValueError`` naming the argument for bad inputs.

    Everything is measured in eval mode on one deep copy whose pruning masks and parametrizations (e.g. fake
    quantizers) are folded into plain weights, i.e. the model as it would ship; memory for about three copies of
    the model (plain, pruned, int8) is needed.
    """
    sparsity, channel_fraction, bits, latency_repeats = _validate(
        model, sparsity, channel_fraction, bits, latency_repeats, seed
    )
    args = _inputs(example_input)
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool or None, got {progress!r}")

    # Everything below runs on one plain copy (masks and parametrizations folded in): the model as it would ship.
    # The caller's model is only read, by the copy.
    work = _plain_copy(model)
    counts = count_flops(work, args)
    bops_32 = count_bops(work, args, 32)
    bops_8 = count_bops(work, args, 8)
    sens = _sensitivities(work, args, sparsity=sparsity, bits=bits, seed=seed, progress=progress)
    rows = _layer_rows(work, counts.by_module, counts.macs, sens)
    linear_share = sum(r["params_share"] for r in rows if r["type"] == "Linear")

    pruned, pruned_note = _attempt("structured pruning", lambda: prune_channels_graph(work, args, channel_fraction))
    int8, int8_note = _attempt("int8 conversion", lambda: to_int8(work))
    pruned_macs = None
    if pruned is not None:
        pruned_counts, note = _attempt("counting the pruned model", lambda: count_flops(pruned, args))
        if pruned_counts is None:
            pruned, pruned_note = None, note
        else:
            pruned_macs = pruned_counts.macs
    if int8 is not None:

        def probe() -> bool:
            with torch.inference_mode():  # as measure_latency runs it
                int8(*args)
            return True

        ran, note = _attempt("running the int8 model", probe)
        if not ran:
            int8, int8_note = None, note

    timed: dict[str, nn.Module] = {"fp32": work}
    if pruned is not None:
        timed["pruned"] = pruned
    if int8 is not None:
        timed["int8"] = int8
    warmup = min(5, latency_repeats)
    lat = compare_latency(timed, args, rounds=_ROUNDS, warmup=warmup, repeats=latency_repeats)
    base = lat["fp32"]
    pruned_lat, int8_lat = lat.get("pruned"), lat.get("int8")

    return ModelReport(
        model=type(model).__name__,
        input_shapes=[list(a.shape) for a in args],
        batch_size=base.batch_size,
        settings={
            "sparsity": sparsity,
            "channel_fraction": channel_fraction,
            "bits": bits,
            "latency_repeats": latency_repeats,
            "seed": seed,
        },
        params=count_params(work),
        fp32_bytes=serialized_bytes(work),
        flops=counts.flops,
        macs=counts.macs,
        bops_32=bops_32,
        bops_8=bops_8,
        latency=base,
        layers=rows,
        pruned_params=None if pruned is None else count_params(pruned),
        pruned_macs=pruned_macs,
        pruned_latency=pruned_lat,
        pruned_speedup=None if pruned_lat is None else _ratio(base.median_ms, pruned_lat.median_ms),
        pruned_note=pruned_note,
        int8_bytes=None if int8 is None else serialized_bytes(int8),
        int8_latency=int8_lat,
        int8_speedup=None if int8_lat is None else _ratio(base.median_ms, int8_lat.median_ms),
        int8_note=int8_note,
        computed_fp32_bytes=model_bits(work) // 8,
        computed_int8_bytes=quantized_model_bits(work, bits=8) // 8,
        computed_lowbit_bytes=quantized_model_bits(work, bits=bits) // 8,
        linear_share=linear_share,
    )
