"""How big and how costly a model is: parameters, non-zeros, storage bits, FLOPs/MACs, BOPs, latency,
and the Pareto front of a sweep.

Every function takes any ``torch.nn.Module``. Models modified by ``torch.nn.utils.prune`` (``weight_orig``
+ ``weight_mask``) and ``torch.nn.utils.parametrize`` (``parametrizations.weight.original``) are measured
through their *effective* weights: a pruned weight is one logical tensor (``orig * mask``), not two, and
masks are never counted because they are not shipped.

Units: sizes in bits (ints) unless the name says bytes or MB; FLOPs as ``torch.utils.flop_counter``
counts them; latency in milliseconds.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.prune import BasePruningMethod
from torch.utils.flop_counter import FlopCounterMode, flop_registry

__all__ = [
    "FlopCount",
    "Footprint",
    "Latency",
    "codebook_bits",
    "compare_latency",
    "count_bops",
    "count_flops",
    "count_nonzero",
    "count_params",
    "effective_weights",
    "footprint",
    "measure_latency",
    "model_bits",
    "pareto_front",
    "quantized_bits",
    "saved_activation_bytes",
    "serialized_bytes",
    "sparsity",
    "tensor_bits",
    "weight_aliases",
]

STORAGES = ("dense", "bitmask", "csr")
_MAX_BITS = 64
_MAX_CODEBOOK_BITS = 16  # 2**bits codebook entries: beyond 65,536 centroids "weight sharing" stops sharing


# ----------------------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------------------


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _check_tensor(t: object, name: str = "t") -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    return t


def _check_bits(value: object, name: str = "bits", hi: int = _MAX_BITS) -> int:
    # bool is an int subclass; True as a bit-width is always a mistake
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= hi:
        raise ValueError(f"{name} must be an int in 1..{hi}, got {value!r}")
    return value


def _check_storage(storage: object) -> str:
    if storage not in STORAGES:
        allowed = ", ".join(repr(s) for s in STORAGES)
        raise ValueError(f"storage must be one of {allowed}, got {storage!r}")
    return storage  # type: ignore[return-value]


def _as_args(inputs: object) -> tuple[torch.Tensor, ...]:
    """Normalise ``inputs`` (a Tensor or a tuple/list of Tensors) into the arguments of ``model(*args)``."""
    if isinstance(inputs, torch.Tensor):
        return (inputs,)
    if isinstance(inputs, (tuple, list)) and len(inputs) > 0 and all(isinstance(x, torch.Tensor) for x in inputs):
        return tuple(inputs)
    raise TypeError(f"inputs must be a Tensor or a non-empty tuple of Tensors, got {type(inputs).__name__}")


def _training_flags(model: nn.Module) -> dict[nn.Module, bool]:
    # per module, because a model may deliberately keep some submodules in a different mode
    return {m: m.training for m in model.modules()}


def _restore_training(flags: dict[nn.Module, bool]) -> None:
    for m, training in flags.items():
        m.training = training


# ----------------------------------------------------------------------------------------------------
# Parameters and sparsity
# ----------------------------------------------------------------------------------------------------


def _pruning_hooks(module: nn.Module) -> dict[str, BasePruningMethod]:
    """Tensor name -> the torch.nn.utils.prune hook that recomputes it (a PruningContainer if iterated)."""
    return {
        h._tensor_name: h
        for h in module._forward_pre_hooks.values()
        if isinstance(h, BasePruningMethod) and h._tensor_name is not None
    }


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def effective_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """Logical parameter name -> effective tensor (detached), the weights the model actually computes with.

    - plain parameter ``fc.weight``: the parameter itself;
    - pruned (``torch.nn.utils.prune``): ``fc.weight`` = ``weight_orig * weight_mask``, recomputed now (so
      it is never stale); the mask is not a weight;
    - parametrized (``torch.nn.utils.parametrize``): ``fc.weight`` = the parametrization's output;
      parameters that the parametrization modules hold themselves (e.g. a learned scale) are listed under
      their own names (``fc.parametrizations.weight.0.scale``) because they are shipped too.

    Shared/tied parameters appear once, under the first name met in ``model.named_modules()`` order,
    deduplicated by the identity of the underlying ``nn.Parameter`` as ``model.parameters()`` does.
    """
    return _effective(model)[0]


def weight_aliases(model: nn.Module) -> dict[str, str]:
    """Every logical parameter name -> the name :func:`effective_weights` lists it under.

    The identity for most names; a tied parameter's later names map to its first one (e.g. a language model's
    ``lm_head.weight`` -> ``embed.weight``), so storage formulas can find a layer's weight and count it once.
    """
    return _effective(model)[1]


def _effective(model: nn.Module) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    _check_model(model)
    owner: dict[int, str] = {}
    out: dict[str, torch.Tensor] = {}
    aliases: dict[str, str] = {}

    def add(name: str, keys: Sequence[torch.Tensor], value: torch.Tensor) -> None:
        ids = [id(k) for k in keys]
        first = next((owner[i] for i in ids if i in owner), None)
        if first is not None:
            aliases[name] = first
            return
        owner.update(dict.fromkeys(ids, name))
        aliases[name] = name
        out[name] = value.detach()

    with torch.no_grad():
        for prefix, module in model.named_modules():
            # A ParametrizationList's originals are storage for the owner's effective tensor (added below)
            if isinstance(module, parametrize.ParametrizationList):
                continue
            hooks = _pruning_hooks(module)
            for pname, p in module._parameters.items():
                if p is None:
                    continue
                if pname.endswith("_orig") and pname[: -len("_orig")] in hooks:
                    logical = pname[: -len("_orig")]
                    add(_join(prefix, logical), [p], hooks[logical].apply_mask(module))
                else:
                    add(_join(prefix, pname), [p], p)
            if parametrize.is_parametrized(module):
                for pname, plist in module.parametrizations.items():
                    originals = [p for p in plist._parameters.values() if p is not None]
                    if originals:  # a parametrized *buffer* is not a parameter
                        add(_join(prefix, pname), originals, getattr(module, pname))
    return out, aliases


def count_params(model: nn.Module) -> int:
    """Number of logical parameters (entries of the effective weights; masks and buffers excluded)."""
    return sum(t.numel() for t in effective_weights(model).values())


def count_nonzero(model: nn.Module) -> int:
    """Number of non-zero entries of the effective weights (a pruned entry is zero)."""
    return sum(int(torch.count_nonzero(t)) for t in effective_weights(model).values())


def sparsity(model: nn.Module) -> float:
    """Fraction of zero logical parameters, ``1 - nonzero / params`` in [0, 1]; 0.0 without parameters."""
    weights = effective_weights(model)
    total = sum(t.numel() for t in weights.values())
    if total == 0:
        return 0.0
    nonzero = sum(int(torch.count_nonzero(t)) for t in weights.values())
    return 1.0 - nonzero / total


# ----------------------------------------------------------------------------------------------------
# Storage cost
# ----------------------------------------------------------------------------------------------------


def tensor_bits(t: torch.Tensor, *, storage: str = "dense", value_bits: int = 32, index_bits: int = 32) -> int:
    """Bits needed to store tensor ``t`` (any shape) in a given format. With n = numel, z = non-zeros:

    - ``"dense"``:   ``n * value_bits``
    - ``"bitmask"``: ``n + z * value_bits`` (one presence bit per entry, then the non-zero values)
    - ``"csr"``:     ``z * (value_bits + index_bits) + (rows + 1) * index_bits`` with ``t`` viewed as 2-D
      (rows = ``t.shape[0]``, columns = product of the rest; a 0-D or 1-D tensor is one row): a value and
      a column index per non-zero plus the row-pointer array.
    """
    _check_tensor(t)
    storage = _check_storage(storage)
    _check_bits(value_bits, "value_bits")
    _check_bits(index_bits, "index_bits")
    n = t.numel()
    if storage == "dense":
        return n * value_bits
    nnz = int(torch.count_nonzero(t))
    if storage == "bitmask":
        return n + nnz * value_bits
    rows = t.shape[0] if t.dim() >= 2 else 1
    return nnz * (value_bits + index_bits) + (rows + 1) * index_bits


def quantized_bits(
    t: torch.Tensor,
    *,
    bits: int,
    per_channel: bool = False,
    scale_bits: int = 32,
    zero_point: bool = False,
    zero_point_bits: int = 32,
    storage: str = "dense",
    index_bits: int = 32,
) -> int:
    """Bits to store ``t`` quantized to ``bits``-bit integer codes.

    ``tensor_bits(t, storage=storage, value_bits=bits, index_bits=index_bits) + g * (scale_bits + zp)``
    where g = 1 (per tensor) or ``t.shape[0]`` (per output channel, ``per_channel=True``) and
    zp = ``zero_point_bits`` for affine (``zero_point=True``) quantization, 0 for symmetric. Zeros are
    counted on ``t`` as given, so pass the quantized (or pruned) tensor when ``storage`` is sparse.
    """
    _check_tensor(t)
    _check_bits(bits)
    _check_bits(scale_bits, "scale_bits")
    _check_bits(zero_point_bits, "zero_point_bits")
    if per_channel and t.dim() == 0:
        raise ValueError("per_channel=True needs a tensor with at least 1 dimension (channels = dim 0), got a 0-D one")
    groups = t.shape[0] if per_channel else 1
    per_group = scale_bits + (zero_point_bits if zero_point else 0)
    return tensor_bits(t, storage=storage, value_bits=bits, index_bits=index_bits) + groups * per_group


def codebook_bits(t: torch.Tensor, *, bits: int, codebook_value_bits: int = 32) -> int:
    """Bits for k-means weight sharing (Han et al., Deep Compression):
    ``numel * bits + 2**bits * codebook_value_bits``.

    Every entry stores a ``bits``-bit index into a shared codebook of ``2**bits`` full-precision
    centroids; ``bits`` is limited to 1..16.
    """
    _check_tensor(t)
    _check_bits(bits, hi=_MAX_CODEBOOK_BITS)
    _check_bits(codebook_value_bits, "codebook_value_bits")
    return t.numel() * bits + (2**bits) * codebook_value_bits


def _mask_ids(model: nn.Module) -> set[int]:
    """ids of the pruning-mask buffers: they are not shipped, the sparse format replaces them."""
    skip: set[int] = set()
    for module in model.modules():
        for name in _pruning_hooks(module):
            mask = module._buffers.get(name + "_mask")
            if mask is not None:
                skip.add(id(mask))
    return skip


def _lookup_by_prefix(table: dict[str, object], name: str) -> object | None:
    """The entry for ``name``, else for its closest enclosing module ("a.b.weight" -> "a.b" -> "a" -> "")."""
    while True:
        if name in table:
            return table[name]
        if not name:
            return None
        name = name.rpartition(".")[0]


def model_bits(
    model: nn.Module,
    *,
    storage: str = "dense",
    bits: int | dict[str, int] = 32,
    index_bits: int = 32,
    include_buffers: bool = True,
) -> int:
    """Storage cost of the whole model in bits: ``sum(tensor_bits(w, storage=..., value_bits=b_w))`` over the
    effective weights, plus ``numel * 32`` per buffer (BatchNorm running stats) when ``include_buffers``.

    ``bits`` is one value bit-width for every weight, or a dict mapping parameter names (``"fc.weight"``)
    or module names (``"features"``, covering everything inside) to bit-widths; the most specific name
    wins and weights not named stay at 32. Pruning masks are excluded: a deployed model ships the sparse
    format, not the mask. Scales/zero-points are not included; ``quantized_bits`` adds them per tensor.
    """
    _check_model(model)
    storage = _check_storage(storage)
    _check_bits(index_bits, "index_bits")
    weights = effective_weights(model)
    if isinstance(bits, dict):
        known = set(weights) | {name for name, _ in model.named_modules(remove_duplicate=False)}
        unknown = sorted(k for k in bits if k not in known)
        if unknown:
            raise ValueError(
                f"bits keys must be parameter or module names of the model, got unknown {unknown}; "
                f"known parameters: {sorted(weights)[:8]}{' …' if len(weights) > 8 else ''}"
            )
        for k, v in bits.items():
            _check_bits(v, f"bits[{k!r}]")
        table: dict[str, object] = dict(bits)
    else:
        _check_bits(bits)
        table = {"": bits}
    total = 0
    for name, w in weights.items():
        b = _lookup_by_prefix(table, name)
        total += tensor_bits(w, storage=storage, value_bits=32 if b is None else int(b), index_bits=index_bits)
    if include_buffers:
        skip = _mask_ids(model)
        # named_buffers dedupes shared buffers; 32 bits each, like the fp32 weights they sit next to
        total += sum(b.numel() * 32 for _, b in model.named_buffers() if id(b) not in skip)
    return total


def serialized_bytes(model: nn.Module) -> int:
    """Actual size in bytes of ``torch.save(model.state_dict())`` (written to memory, not disk).

    The honest number to show next to the formulas: it includes pickle overhead, buffers and, for a model
    pruned with ``torch.nn.utils.prune``, both ``weight_orig`` and ``weight_mask`` (dense), since that is
    what PyTorch writes.
    """
    _check_model(model)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


# ----------------------------------------------------------------------------------------------------
# Compute
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlopCount:
    """FLOPs of one forward pass.

    ``by_module`` maps module names (``"features.0"``) to the FLOPs done in that module itself: each leaf
    module's FLOPs, plus, for a container doing functional math in its own ``forward`` (e.g. attention's
    ``q @ k.T``), the FLOPs not inside any of its children (``""`` is the root). A parametrization's FLOPs
    go to the layer that owns it. Modules without FLOPs are omitted; the values sum to ``flops``.
    """

    flops: int
    macs: int
    by_module: dict[str, int] = field(default_factory=dict)


def _owner(fqn: str) -> str:
    """Fold a parametrization's modules ("fc.parametrizations.weight.0") into their layer ("fc")."""
    parts = fqn.split(".")
    if "parametrizations" in parts:
        return ".".join(parts[: parts.index("parametrizations")])
    return fqn


def _sdpa_flop(
    query_shape: Sequence[int],
    key_shape: Sequence[int],
    value_shape: Sequence[int],
    *args: object,
    **kwargs: object,
) -> int:
    """FLOPs of attention: Q @ K^T then softmax(.) @ V, 2 per MAC (softmax and scaling not counted)."""
    *batch, s_q, d_qk = query_shape
    s_k, d_v = key_shape[-2], value_shape[-1]
    return 2 * math.prod(batch) * s_q * s_k * (d_qk + d_v)


def _extra_flop_formulas() -> dict[object, object]:
    """Formulas for kernels torch's FLOP registry misses: the CPU flash-attention kernel that
    ``F.scaled_dot_product_attention`` dispatches to on CPU (torch would count it as 0 FLOPs)."""
    extra: dict[object, object] = {}
    cpu_sdpa = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    if cpu_sdpa is not None and cpu_sdpa not in flop_registry:
        extra[cpu_sdpa] = _sdpa_flop
    return extra


def count_flops(model: nn.Module, inputs: torch.Tensor | tuple[torch.Tensor, ...]) -> FlopCount:
    """FLOPs and MACs of one forward pass ``model(*inputs)``, counted by
    ``torch.utils.flop_counter.FlopCounterMode``.

    Runs once under ``torch.no_grad()`` in eval mode (training flags restored afterwards), on the device
    the model and inputs are already on. FLOPs are as torch counts them: 2 per multiply-accumulate for
    matmul/linear/conv/attention; elementwise ops (bias adds, activations, normalisation, pooling, softmax)
    are NOT counted. Two gaps of torch's counter are filled: attention's CPU kernel gets the same formula
    torch uses on GPU, and PyTorch's fused transformer fast path is switched off while counting.
    ``macs = flops // 2``. Errors raised by the model on these inputs propagate unchanged.
    """
    _check_model(model)
    args = _as_args(inputs)
    flags = _training_flags(model)
    # nn.MultiheadAttention / TransformerEncoderLayer take a fused "fast path" in eval + no_grad whose kernel
    # FlopCounterMode cannot see (a transformer layer would count 0 FLOPs), so count the unfused path.
    mha = getattr(torch.backends, "mha", None)
    fastpath = mha.get_fastpath_enabled() if mha is not None else None
    model.eval()
    try:
        if mha is not None:
            mha.set_fastpath_enabled(False)
        with (
            torch.no_grad(),
            FlopCounterMode(display=False, custom_mapping=_extra_flop_formulas()) as counter,
        ):
            model(*args)
    finally:
        _restore_training(flags)
        if mha is not None:
            mha.set_fastpath_enabled(fastpath)
    total = int(counter.get_total_flops())

    # Keys are ModuleTracker names: the root module's class name ("Sequential"), then "<RootClass>.<fqn>"
    # ("Sequential.0", "Net.features.0"), plus "Global". A module not registered under the root is keyed
    # by its bare class name; its FLOPs are inside the root's count, so skipping it leaves them there.
    root = type(model).__name__
    inclusive: dict[str, int] = {}
    for key, per_op in counter.get_flop_counts().items():
        if key == root:
            fqn = ""
        elif key.startswith(root + "."):
            fqn = key[len(root) + 1 :]
        else:
            continue
        inclusive[fqn] = sum(int(v) for v in per_op.values())

    # Inclusive counts nest (a running parent counts its children's ops too). Subtract each count from the
    # nearest *recorded* ancestor (a forward may call a grandchild directly) so the breakdown sums up.
    inner = dict.fromkeys(inclusive, 0)
    for fqn, flops in inclusive.items():
        parent = fqn
        while parent:
            parent = parent.rpartition(".")[0]
            if parent in inclusive:
                inner[parent] += flops
                break
    own: dict[str, int] = {}
    for fqn, flops in inclusive.items():
        owner = _owner(fqn)
        own[owner] = own.get(owner, 0) + max(flops - inner[fqn], 0)
    by_module = {name: v for name, v in own.items() if v > 0}
    return FlopCount(flops=total, macs=total // 2, by_module=by_module)


def _bop_bits(bits: object, model: nn.Module) -> dict[str, tuple[int, int]]:
    """Validate ``bits`` for count_bops and turn it into module name -> (weight bits, activation bits)."""
    if not isinstance(bits, dict):
        b = _check_bits(bits)
        return {"": (b, b)}
    known = {name for name, _ in model.named_modules(remove_duplicate=False)}
    unknown = sorted(k for k in bits if k not in known)
    if unknown:
        raise ValueError(f"bits keys must be module names of the model, got unknown {unknown}")
    table: dict[str, tuple[int, int]] = {}
    for k, v in bits.items():
        if isinstance(v, tuple):
            if len(v) != 2:
                raise ValueError(f"bits[{k!r}] must be an int or a (w_bits, a_bits) pair, got {v!r}")
            table[k] = (_check_bits(v[0], f"bits[{k!r}][0]"), _check_bits(v[1], f"bits[{k!r}][1]"))
        else:
            b = _check_bits(v, f"bits[{k!r}]")
            table[k] = (b, b)
    return table


def count_bops(
    model: nn.Module,
    inputs: torch.Tensor | tuple[torch.Tensor, ...],
    bits: int | dict[str, int | tuple[int, int]] = 32,
) -> int:
    """Bit operations of one forward pass (Baskin et al. / SBS convention):
    ``sum(MACs_m * w_bits_m * a_bits_m)`` over the modules m of ``count_flops(...).by_module``.

    ``bits`` is one int (weights and activations alike) or a dict from module names to an int or a
    ``(w_bits, a_bits)`` pair; a name also covers the modules inside it (the most specific wins); modules
    not covered stay at 32/32.
    """
    _check_model(model)
    table = _bop_bits(bits, model)
    return _bops(count_flops(model, inputs), table)


def _bops(counts: FlopCount, table: dict[str, tuple[int, int]]) -> int:
    total = 0
    for name, flops in counts.by_module.items():
        wa = _lookup_by_prefix(table, name)  # type: ignore[arg-type]
        w_bits, a_bits = (32, 32) if wa is None else wa  # type: ignore[misc]
        total += (flops // 2) * w_bits * a_bits
    return total


# ----------------------------------------------------------------------------------------------------
# Latency
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    """Wall-clock time of one forward pass in ms, over ``repeats`` timed runs after ``warmup`` untimed."""

    median_ms: float
    iqr_ms: float
    q1_ms: float
    q3_ms: float
    mean_ms: float
    repeats: int
    warmup: int
    batch_size: int
    threads: int
    device: str
    samples_ms: list[float] = field(default_factory=list, repr=False)

    def __str__(self) -> str:
        return (
            f"{self.median_ms:.3g} ms ± {self.iqr_ms:.2g} (IQR), batch {self.batch_size}, "
            f"{self.threads} thread{'s' * (self.threads != 1)}, {self.device}"
        )


def _model_device(model: nn.Module) -> torch.device:
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("cpu")


def measure_latency(
    model: nn.Module,
    inputs: torch.Tensor | tuple[torch.Tensor, ...],
    *,
    warmup: int = 10,
    repeats: int = 50,
    threads: int | None = None,
    device: str | torch.device | None = None,
    min_time_s: float = 0.0,
) -> Latency:
    """Time ``model(*inputs)`` in eval mode under ``torch.inference_mode()``.

    ``warmup`` untimed runs (allocator, caches, lazy init), then at least ``repeats`` runs timed one by one
    with ``time.perf_counter`` (CUDA is synchronised around each run), continuing until the timed runs add
    up to ``min_time_s`` seconds. ``threads`` sets ``torch.set_num_threads`` for the measurement only.
    ``device`` moves the model there for the measurement and back afterwards (default: where the model
    already is); inputs follow. Training flags and the thread count are restored. Report the median and
    IQR, not the mean: timings have a long right tail.
    """
    _check_model(model)
    args = _as_args(inputs)
    for name, value, lo in (("warmup", warmup, 0), ("repeats", repeats, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {value!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be None or an int >= 1, got {threads!r}")
    if not isinstance(min_time_s, (int, float)) or not math.isfinite(min_time_s) or min_time_s < 0:
        raise ValueError(f"min_time_s must be a finite number >= 0, got {min_time_s!r}")

    home = _model_device(model)
    target = torch.device(device) if device is not None else home
    on_cuda = target.type == "cuda"

    def sync() -> None:
        if on_cuda:
            torch.cuda.synchronize(target)

    flags = _training_flags(model)
    old_threads = torch.get_num_threads()
    samples: list[float] = []
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        if target != home:
            model.to(target)
        args = tuple(a.to(target) for a in args)
        model.eval()
        with torch.inference_mode():
            for _ in range(warmup):
                model(*args)
            sync()
            elapsed = 0.0
            while len(samples) < repeats or elapsed < min_time_s:
                start = time.perf_counter()
                model(*args)
                sync()
                dt = time.perf_counter() - start
                elapsed += dt
                samples.append(dt * 1e3)
        used_threads = torch.get_num_threads()
    finally:
        _restore_training(flags)
        if target != home:
            model.to(home)
        torch.set_num_threads(old_threads)

    q1, median, q3 = (float(q) for q in np.percentile(samples, [25, 50, 75]))
    first = args[0]
    return Latency(
        median_ms=median,
        iqr_ms=q3 - q1,
        q1_ms=q1,
        q3_ms=q3,
        mean_ms=float(np.mean(samples)),
        repeats=len(samples),
        warmup=warmup,
        batch_size=int(first.shape[0]) if first.dim() >= 1 else 1,
        threads=used_threads,
        device=str(target),
        samples_ms=samples,
    )


def compare_latency(
    models: Mapping[str, nn.Module],
    inputs: torch.Tensor | tuple[torch.Tensor, ...],
    *,
    rounds: int = 3,
    warmup: int = 10,
    repeats: int = 30,
    threads: int | None = None,
    device: str | torch.device | None = None,
) -> dict[str, Latency]:
    """Time several models against each other: ``rounds`` interleaved rounds of :func:`measure_latency`.

    A burst of background load then hits every model alike instead of whichever happened to be timed at that
    moment; each model keeps the round with the lowest median (the least disturbed one). Use it for ratios
    (pruned / dense), which is what carries over between machines. Returns ``{name: Latency}`` in input order.
    """
    if not isinstance(models, Mapping) or not models:
        raise TypeError("models must be a non-empty mapping of name -> nn.Module")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be an int >= 1, got {rounds!r}")
    best: dict[str, Latency] = {}
    for _ in range(rounds):
        for name, model in models.items():
            lat = measure_latency(model, inputs, warmup=warmup, repeats=repeats, threads=threads, device=device)
            if name not in best or lat.median_ms < best[name].median_ms:
                best[name] = lat
    return {name: best[name] for name in models}


# ----------------------------------------------------------------------------------------------------
# Everything at once
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Footprint:
    """A model's footprint: parameters, non-zeros, storage (bits; MB = bits/8/1e6), compute, latency."""

    params: int
    nonzero: int
    sparsity: float
    bits: int
    size_mb: float
    flops: int
    macs: int
    bops: int | None
    latency: Latency | None

    def as_dict(self) -> dict[str, float | int | None]:
        """Flat, JSON-friendly view; latency becomes ``latency_ms`` (median) and ``latency_iqr_ms``."""
        return {
            "params": self.params,
            "nonzero": self.nonzero,
            "sparsity": self.sparsity,
            "bits": self.bits,
            "size_mb": self.size_mb,
            "flops": self.flops,
            "macs": self.macs,
            "bops": self.bops,
            "latency_ms": None if self.latency is None else self.latency.median_ms,
            "latency_iqr_ms": None if self.latency is None else self.latency.iqr_ms,
        }


def footprint(
    model: nn.Module,
    inputs: torch.Tensor | tuple[torch.Tensor, ...],
    *,
    storage: str = "dense",
    bits: int | dict[str, int] = 32,
    index_bits: int = 32,
    bops_bits: int | dict[str, int | tuple[int, int]] | None = None,
    latency: bool = False,
    **latency_kwargs: object,
) -> Footprint:
    """Measure everything: ``count_params``, ``count_nonzero``, ``sparsity``,
    ``model_bits(storage=, bits=, index_bits=)``, ``count_flops`` and, if ``latency``,
    ``measure_latency(model, inputs, **latency_kwargs)``.

    BOPs use ``bops_bits`` if given (see ``count_bops``); otherwise ``bits`` when it is an int or a dict
    keyed only by module names (weights and activations at the same width); otherwise ``bops`` is None,
    because parameter-level bit-widths say nothing about the activations.
    """
    _check_model(model)
    if latency_kwargs and not latency:
        raise ValueError(f"latency options {sorted(latency_kwargs)} were given but latency=False")
    weights = effective_weights(model)
    params = sum(t.numel() for t in weights.values())
    nonzero = sum(int(torch.count_nonzero(t)) for t in weights.values())
    total_bits = model_bits(model, storage=storage, bits=bits, index_bits=index_bits)
    if bops_bits is None:
        modules = {name for name, _ in model.named_modules(remove_duplicate=False)}
        if not isinstance(bits, dict) or all(k in modules for k in bits):
            bops_bits = bits  # type: ignore[assignment]
    table = None if bops_bits is None else _bop_bits(bops_bits, model)
    counts = count_flops(model, inputs)
    bops = None if table is None else _bops(counts, table)
    lat = measure_latency(model, inputs, **latency_kwargs) if latency else None  # type: ignore[arg-type]
    return Footprint(
        params=params,
        nonzero=nonzero,
        sparsity=0.0 if params == 0 else 1.0 - nonzero / params,
        bits=total_bits,
        size_mb=total_bits / 8 / 1e6,
        flops=counts.flops,
        macs=counts.macs,
        bops=bops,
        latency=lat,
    )


# ----------------------------------------------------------------------------------------------------
# Pareto front
# ----------------------------------------------------------------------------------------------------


def pareto_front(points: Sequence[Sequence[float]], *, maximize: Sequence[bool] = (False, True)) -> list[int]:
    """Indices of the non-dominated points, sorted by their first coordinate (then by index).

    ``points``: n points of d >= 2 coordinates each, e.g. ``(size, accuracy)``; ``maximize[i]`` says
    whether coordinate i is better high (default: smaller size, higher accuracy). A point dominates
    another if it is at least as good in every coordinate and strictly better in one. Of exact duplicates
    only the first index is kept.
    """
    flags = [bool(m) for m in maximize]
    if len(flags) < 2:
        raise ValueError(f"maximize must have at least 2 entries (one per coordinate), got {len(flags)}")
    rows = list(points)
    if not rows:
        return []
    for i, p in enumerate(rows):
        if not hasattr(p, "__len__"):
            raise TypeError(f"points must be sequences of numbers, got point {i}: {p!r}")
        if len(p) != len(flags):
            raise ValueError(
                f"points must all have len(maximize) = {len(flags)} coordinates, but point {i} has {len(p)}: {p!r}"
            )
    try:
        a = np.asarray(rows, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"points must be sequences of numbers: {err}") from None
    if np.isnan(a).any():
        bad = int(np.argwhere(np.isnan(a))[0, 0])
        raise ValueError(f"points must not contain NaN, got point {bad}: {rows[bad]!r}")
    cost = np.where(flags, -a, a)  # turn every coordinate into "smaller is better"
    keep = []
    for i in range(len(cost)):
        no_worse = (cost <= cost[i]).all(axis=1)
        better = (cost < cost[i]).any(axis=1)
        dominated = (no_worse & better).any()
        duplicate = (cost[:i] == cost[i]).all(axis=1).any()
        if not dominated and not duplicate:
            keep.append(i)
    return sorted(keep, key=lambda i: (a[i, 0], i))


# ----------------------------------------------------------------------------------------------------
# Activation memory
# ----------------------------------------------------------------------------------------------------


def saved_activation_bytes(
    model: nn.Module,
    inputs: torch.Tensor | tuple[torch.Tensor, ...],
    *,
    include_parameters: bool = False,
) -> int:
    """Bytes of the tensors autograd keeps for backward after one training forward ``model(*inputs)``.

    Runs the forward in train mode with gradients enabled under ``torch.autograd.graph.saved_tensors_hooks`` and
    adds up every *storage* a saved tensor lives in, once: a tensor saved by several ops (a conv's input that is
    also the ReLU's output) or a view of another saved tensor (one half of a ``chunk``) keeps a single storage
    alive, so it is counted once, at the storage's full size. That is the activation memory a training step
    holds between forward and backward, for this batch (it grows linearly with the batch size).

    Tensors whose storage is one of the model's parameters or buffers (a conv's weight, saved to compute the
    input's gradient) are model state, not activations: excluded unless ``include_parameters=True``. The
    batch itself is counted, at its own size (a slice of a bigger tensor is copied first), when a layer saves it
    (the first conv does, for its weight gradient). Nothing is
    backpropagated; training flags, buffers (BatchNorm running statistics) and the CPU random state are left as
    they were.
    """
    _check_model(model)
    # A copy of the batch: a slice such as ``x[:16]`` shares the whole of ``x``'s storage, which a layer saving its
    # input would otherwise count in full.
    args = tuple(a.clone() for a in _as_args(inputs))
    if not isinstance(include_parameters, bool):
        raise TypeError(f"include_parameters must be a bool, got {include_parameters!r}")

    def storage_key(t: torch.Tensor) -> tuple[str, int]:
        return str(t.device), t.untyped_storage().data_ptr()

    state = [*model.parameters(), *model.buffers()]
    state_keys = {storage_key(t) for t in state if t.layout == torch.strided}
    seen: dict[tuple[str, int], int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        if t.layout == torch.strided:
            key = storage_key(t)
            if include_parameters or key not in state_keys:
                seen[key] = t.untyped_storage().nbytes()
        else:  # sparse or other layouts have no single storage: count the tensor's own elements
            seen[("tensor", id(t))] = t.numel() * t.element_size()
        return t

    flags = _training_flags(model)
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    try:
        model.train()
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                out = model(*args)
            del out  # frees the graph and with it everything counted above
    finally:
        _restore_training(flags)
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
    return sum(seen.values())
