"""A training-step simulator for on-chip eDRAM: compute time, data lifetime, spills, refresh and energy (CAMEL).

Zhang et al., "CAMEL: Co-Designing AI Models and Embedded DRAMs for Efficient On-Device Learning" (HPCA 2024,
arXiv 2305.03148) keep training data in embedded DRAM, which is over 2× denser than SRAM but loses its charge
after a retention time (3.35 µs worst case at 100 °C in the paper) unless it is refreshed. A tensor written in
the forward pass and read back in the backward pass lives for most of a training step; a reversible network
rebuilds its activations in backward instead, so each stored tensor lives only for about one block's recompute
and backward, shorter than the retention time, and needs no refresh. This module measures that:

1. :func:`trace` runs one forward of any ``nn.Module`` with hooks on its leaf modules and records, per op, the
   multiply-accumulates, the GEMM shape, the elements read and written, and the tensors autograd keeps for its
   backward (measured with ``torch.autograd.graph.saved_tensors_hooks``), plus which reversible block and
   which stage of it the op sits in. Result: a :class:`Trace` (you may also write one by hand).
2. :func:`simulate` lays a training step on a timeline for an :class:`Accelerator` — forward, then backward in
   reverse order, with the ``"standard"`` schedule (every saved tensor lives from forward to backward) or the
   ``"reversible"`` one (blocks rebuild their input and recompute) — gives every stored tensor a write time and
   a last-read time, places tensors in the on-chip buffer of a :class:`Memory` (SRAM or eDRAM) or spills them
   off-chip when the live set does not fit, counts eDRAM refreshes, and prices everything with an
   :class:`Energy` table. Result: a :class:`SimResult`.
3. :func:`compare` runs the three scenarios of the notebook — standard + SRAM (same area, so half the
   capacity), standard + eDRAM with refresh, reversible + eDRAM — into a table for stacked energy bars;
   :func:`lifetimes` gives the per-tensor rows for a lifetime chart against the retention line.

Every number the model rests on is a named field of :class:`Accelerator`, :class:`Memory` or :class:`Energy`
whose docstring gives its source; change any of them with ``dataclasses.replace``. Units: seconds, bytes,
picojoules (``*_pj``), Hz.

The model, stated once (each choice is simple on purpose and the same in every scenario):

- Time. GEMM ops (``Conv2d``, ``Linear``) run on a weight-stationary ``rows × cols`` systolic array: a GEMM
  that streams ``M`` rows through a ``K × N`` weight tile takes ``ceil(K/rows)·ceil(N/cols)·M`` cycles
  (fill and drain latency ignored). The backward pass of a GEMM op runs two GEMMs of the same size: the input
  gradient (reduce over ``N``, produce ``K``) and the weight gradient (reduce over ``M``, produce ``K × N``),
  each tiled the same way. Other ops with multiply-accumulates (attention matmuls) run at full utilisation.
  Ops without any (BatchNorm, ReLU, pooling) run on a vector unit of ``vector_lanes`` lanes, one element per
  lane per cycle, with the same time in backward. Ops that only return a view of their input (Flatten,
  Identity) take no time. DRAM transfers overlap compute, so the step time is the sum of op times.
- Data. Every stored element counts ``Accelerator.value_bytes`` bytes (values, pooling indices, masks). The
  simulated buffer holds activations: each op reads its inputs and writes its output in forward (and
  recompute), and reads its output gradient and its saved tensors and writes its input gradient in backward.
  Weights live in a separate SRAM weight buffer read at every use (forward, recompute, backward) with
  their gradients written there once per backward; they are loaded from DRAM once per step and the weight
  gradients stored back once. The model input (the batch) lives in DRAM where the data set is: ops that read
  it, in forward or for a weight gradient, read it from there and it never occupies the buffer. Gradients are
  not stored tensors: each is consumed by the next backward op.
- Placement. The buffer is a compiler-managed scratchpad: the schedule is static, so each stored tensor is
  either on chip for its whole lifetime or spilled — written to DRAM when produced and read back for its
  backward (a DRAM write + read of its bytes). Tensors are placed in write order; when the live set overflows,
  the one (new or resident) whose last read is furthest in the future is spilled, until the rest fits (the
  furthest-end greedy, optimal for equal sizes; spilled bytes never grow with the capacity).
- Refresh. An eDRAM-resident tensor that stays on chip for ``t`` seconds with retention ``R`` needs
  ``ceil(t/R) − 1`` refreshes of all its bytes (one just before each retention period runs out); SRAM never.
- Reversible schedule. The backward pass walks the network in segments, last to first. A reversible block
  (by default an :class:`effdl.hardware.reversible.AdditiveCoupling`) processes its stages in reverse — for a
  coupling: G, then F, as in Gomez et al.'s Alg. 1 — and for each stage recomputes its ops in forward order
  (1× their forward MACs; this recompute also rebuilds the block's input) and then backpropagates them. A
  stage's saved tensors are written during its recompute (from the stage start when they come from outside
  it) and read in its backward. A block's output is held from the moment it is rebuilt (the end of the next
  block's backward; for the last block, its forward) to the end of the block's own backward. Plain ops before
  the first block (the stem) are recomputed from the batch in DRAM when ``recompute_stem=True`` (gradient
  checkpointing), so the schedule keeps nothing across the forward→backward turn; plain ops after a block
  (the head) or between blocks keep their saved tensors as in the standard schedule (between blocks that is
  what RevNet does at its non-reversible layers), except the tensors a block rebuilds.
"""

from __future__ import annotations

import contextlib
import copy
import heapq
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from effdl.core.checks import int_at_least, is_int, positive_int

__all__ = [
    "COMPONENTS",
    "MEMORY_KINDS",
    "SCENARIOS",
    "SCHEDULES",
    "Accelerator",
    "Block",
    "Energy",
    "Memory",
    "Op",
    "Phase",
    "SimResult",
    "Stored",
    "TensorRecord",
    "Trace",
    "compare",
    "lifetimes",
    "retention_at",
    "simulate",
    "trace",
]

SCHEDULES = ("standard", "reversible")
MEMORY_KINDS = ("sram", "edram")
COMPONENTS = ("mac", "onchip_read", "onchip_write", "refresh", "dram")

# CAMEL's worst-case eDRAM retention time: 3.35 µs at 100 °C (Zhang et al., HPCA 2024).
CAMEL_RETENTION_S = 3.35e-6
CAMEL_TEMPERATURE_C = 100.0


# ----------------------------------------------------------------------------------------------------------
# Argument checks: the argument's name, its value and the allowed range, raised at the boundary.


def _real(name: str, value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number {what}, got {value!r}")
    return float(value)


def _positive_float(name: str, value: object) -> float:
    v = _real(name, value, "> 0")
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return v


def _nonnegative_float(name: str, value: object) -> float:
    v = _real(name, value, ">= 0")
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return v


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}")
    return value  # type: ignore[return-value]


def _check_type(name: str, value: object, cls: type) -> None:
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be a {cls.__name__}, got {type(value).__name__}")


# ----------------------------------------------------------------------------------------------------------
# Hardware assumptions


def retention_at(
    temperature_c: float,
    *,
    reference_s: float = CAMEL_RETENTION_S,
    reference_c: float = CAMEL_TEMPERATURE_C,
    halving_c: float = 10.0,
) -> float:
    """eDRAM retention time in seconds at ``temperature_c`` (°C): ``reference_s · 2**((reference_c − T) / halving_c)``.

    The curve passes through CAMEL's worst case, 3.35 µs at 100 °C. Retention is set by the leakage of the
    storage node, which grows exponentially with temperature (Arrhenius), so retention falls exponentially; the
    default rate, halving every 10 °C, is the DRAM rule of thumb behind JEDEC's doubled refresh rate above
    85 °C and close to the measurements of Liu et al. (ISCA 2013) on commodity DRAM. It is an assumption for
    gain-cell eDRAM, calibrated at the one point the paper gives: pass your own ``halving_c`` to explore.
    """
    t = _real("temperature_c", temperature_c, "(°C)")
    if not math.isfinite(t):
        raise ValueError(f"temperature_c must be a finite number (°C), got {temperature_c}")
    ref = _positive_float("reference_s", reference_s)
    ref_c = _real("reference_c", reference_c, "(°C)")
    halving = _positive_float("halving_c", halving_c)
    return ref * 2.0 ** ((ref_c - t) / halving)


@dataclass(frozen=True)
class Accelerator:
    """The compute engine: a ``rows × cols`` weight-stationary systolic array and a vector unit.

    - ``rows``, ``cols`` = 16, 16: the default mesh of Gemmini (Genc et al., DAC 2021; ucb-bar/gemmini
      ``Configs.scala``), an open edge accelerator of the kind CAMEL targets. ``rows·cols`` MACs per cycle peak.
    - ``clock_hz`` = 1 GHz: an assumption, a typical clock for such an accelerator in a recent node. Every
      time in the simulation scales as ``1 / clock_hz``.
    - ``value_bytes`` = 2: bf16/fp16 training data (activations, weights, gradients).
    - ``vector_lanes`` = ``cols`` when ``None``: elementwise ops (BatchNorm, ReLU, pooling) process one element
      per lane per cycle, one lane per array column (Gemmini applies activations at the array's output row).
    """

    rows: int = 16
    cols: int = 16
    clock_hz: float = 1e9
    value_bytes: int = 2
    vector_lanes: int | None = None

    def __post_init__(self) -> None:
        positive_int("rows", self.rows)
        positive_int("cols", self.cols)
        _positive_float("clock_hz", self.clock_hz)
        positive_int("value_bytes", self.value_bytes)
        if self.vector_lanes is not None:
            positive_int("vector_lanes", self.vector_lanes)

    @property
    def macs_per_cycle(self) -> int:
        """Peak multiply-accumulates per cycle, ``rows · cols``."""
        return self.rows * self.cols

    @property
    def lanes(self) -> int:
        """Vector-unit lanes (``vector_lanes``, or ``cols`` when that is ``None``)."""
        return self.vector_lanes if self.vector_lanes is not None else self.cols

    def gemm_cycles(self, m: int, k: int, n: int) -> int:
        """Cycles of a GEMM streaming ``m`` rows through a ``k × n`` weight tile: ``ceil(k/rows)·ceil(n/cols)·m``."""
        return -(-k // self.rows) * -(-n // self.cols) * m


@dataclass(frozen=True)
class Memory:
    """The on-chip activation buffer: SRAM, or eDRAM of the same area.

    - ``kind``: ``"sram"`` or ``"edram"``.
    - ``area_bytes`` = 128 KiB: the buffer's area, expressed as the SRAM capacity that fits in it — Gemmini's
      default scratchpad (``sp_capacity``). An SRAM buffer holds ``area_bytes``; an eDRAM buffer of the same
      area holds ``area_bytes · density``.
    - ``density`` = 2.0: eDRAM bits per SRAM bit in the same area. CAMEL: eDRAM brings "more than 2×" storage
      density over SRAM; 2.0 is the conservative end.
    - ``retention_s`` = 3.35 µs: CAMEL's worst-case eDRAM retention at 100 °C; :func:`retention_at` gives
      other temperatures. Ignored for SRAM.
    """

    kind: str = "edram"
    area_bytes: int = 128 * 1024
    density: float = 2.0
    retention_s: float = CAMEL_RETENTION_S

    def __post_init__(self) -> None:
        _choice("kind", self.kind, MEMORY_KINDS)
        positive_int("area_bytes", self.area_bytes)
        _positive_float("density", self.density)
        _positive_float("retention_s", self.retention_s)
        if self.capacity_bytes < 1:
            raise ValueError(
                f"area_bytes · density must give a capacity of at least 1 byte, got {self.area_bytes} · {self.density}"
            )

    @property
    def capacity_bytes(self) -> int:
        """Bytes the buffer holds: ``area_bytes`` for SRAM, ``floor(area_bytes · density)`` for eDRAM."""
        return self.area_bytes if self.kind == "sram" else int(self.area_bytes * self.density)


@dataclass(frozen=True)
class Energy:
    """Energy per operation, picojoules. Defaults: Horowitz, "Computing's energy problem (and what we can do
    about it)", ISSCC 2014, 45 nm at 0.9 V, as tabulated there and in Han et al. (NeurIPS 2015).

    - ``mac_pj`` = 1.5: one fp16 multiply (1.1 pJ) plus one fp16 add (0.4 pJ).
    - ``sram_read_pj_per_byte`` = ``sram_write_pj_per_byte`` = 2.5: a 64-bit access to a 32 KB SRAM costs
      20 pJ; the buffer is assumed banked in 32 KB banks, so an access costs one bank's. Horowitz gives one
      figure per access, used for reads and writes alike. Also the price of the weight buffer.
    - ``edram_read_pj_per_byte`` = ``edram_write_pj_per_byte`` = 2.5: the same as SRAM. CAMEL reports a lower
      access cost for eDRAM; without a published figure we credit it none (conservative for eDRAM).
    - ``edram_refresh_pj_per_byte`` = 5.0: a refresh reads a row and writes it back, so one eDRAM read plus one
      write per byte.
    - ``dram_read_pj_per_byte`` = ``dram_write_pj_per_byte`` = 160: a 32-bit DRAM access costs 640 pJ
      (1.3–2.6 nJ per 64 bits in Horowitz's table; Han et al. quote 640 pJ per 32 bits).

    Elementwise (vector) arithmetic is not priced: an fp16 add is 0.4 pJ against the 5 pJ of moving its two
    bytes in and out of the buffer, which is counted.
    """

    mac_pj: float = 1.5
    sram_read_pj_per_byte: float = 2.5
    sram_write_pj_per_byte: float = 2.5
    edram_read_pj_per_byte: float = 2.5
    edram_write_pj_per_byte: float = 2.5
    edram_refresh_pj_per_byte: float = 5.0
    dram_read_pj_per_byte: float = 160.0
    dram_write_pj_per_byte: float = 160.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            _nonnegative_float(name, value)


# ----------------------------------------------------------------------------------------------------------
# The trace: ops, stored tensors, reversible blocks


@dataclass(frozen=True)
class Op:
    """One leaf-module call of the forward pass. Sizes in elements (bytes = elements · ``value_bytes``).

    - ``macs``: forward multiply-accumulates. ``gemm``: ``(M, K, N)`` of one group when the op is a GEMM
      (``M`` rows streamed through a ``K × N`` weight tile; ``macs = groups·M·K·N``), else ``None``.
    - ``vector_elems``: elements the vector unit processes when ``macs == 0`` (0 for views: no time).
    - ``in_elems`` / ``out_elems``: activation elements read / written in forward, from / to the buffer.
      ``input_elems``: elements of the model input read (from DRAM) in forward.
    - ``weight_elems``: parameter elements read at each use.
    - ``saved_elems``: elements of stored tensors its backward reads; ``saved_input_elems``: those that are the
      model input (read from DRAM).
    - ``block``: the reversible block it belongs to, ``stage``: the unit of recompute-then-backward inside it
      (a coupling's ``f`` or ``g``; the block itself otherwise). Both ``None`` for plain ops.
    """

    name: str
    kind: str = "op"
    macs: int = 0
    gemm: tuple[int, int, int] | None = None
    groups: int = 1
    vector_elems: int = 0
    in_elems: int = 0
    input_elems: int = 0
    out_elems: int = 0
    weight_elems: int = 0
    saved_elems: int = 0
    saved_input_elems: int = 0
    block: str | None = None
    stage: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty str, got {self.name!r}")
        for name in ("macs", "vector_elems", "in_elems", "input_elems", "out_elems", "weight_elems",
                     "saved_elems", "saved_input_elems"):  # fmt: skip
            int_at_least(name, getattr(self, name), 0)
        positive_int("groups", self.groups)
        if self.gemm is not None:
            if not (isinstance(self.gemm, tuple) and len(self.gemm) == 3):
                raise TypeError(f"gemm must be None or a tuple (M, K, N) of positive ints, got {self.gemm!r}")
            for name, v in zip(("gemm M", "gemm K", "gemm N"), self.gemm, strict=True):
                positive_int(name, v)
        if self.stage is not None and self.block is None:
            raise ValueError(f"op {self.name!r} has stage {self.stage!r} but no block")


@dataclass(frozen=True)
class Stored:
    """A tensor kept for backward, as the ops of one group (a reversible stage or a run of plain ops) save it.

    ``elems``: its elements (several views of one storage saved by the group count once). ``storage``: the
    memory it lives in; records of one storage from different groups overlap there. ``producer``: the op whose
    forward writes it, or ``None`` when no traced op does (an addition inside a block's own code): then it is
    written right before its first reader. ``readers``: the ops whose backward reads it.
    """

    name: str
    elems: int
    storage: str
    producer: int | None
    readers: tuple[int, ...]

    def __post_init__(self) -> None:
        positive_int("elems", self.elems)
        if not self.readers:
            raise ValueError(f"stored tensor {self.name!r} needs at least one reader")


@dataclass(frozen=True)
class Block:
    """A reversible block: ops ``first..last`` (inclusive), its ``stages`` in forward order, the storage of
    its input and output, and the output's elements."""

    name: str
    first: int
    last: int
    stages: tuple[str, ...]
    input_storage: str | None
    output_storage: str | None
    out_elems: int


@dataclass(frozen=True)
class Trace:
    """What :func:`simulate` needs: the ops in forward order, the stored tensors, the reversible blocks.

    ``storage_elems``: elements of each storage that any op saves (the union of the saved views; defaults to
    the largest record's ``elems``). ``param_elems``: the model's parameter elements (loaded from DRAM once per
    step, gradients stored once). ``batch``: the batch size traced. Build it by hand for toy examples.
    """

    ops: tuple[Op, ...]
    stored: tuple[Stored, ...] = ()
    blocks: tuple[Block, ...] = ()
    storage_elems: dict[str, int] = field(default_factory=dict)
    param_elems: int = 0
    batch: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", tuple(self.ops))
        object.__setattr__(self, "stored", tuple(self.stored))
        object.__setattr__(self, "blocks", tuple(self.blocks))
        if not self.ops:
            raise ValueError("ops must hold at least one Op")
        for op in self.ops:
            _check_type("ops entries", op, Op)
        n = len(self.ops)
        for s in self.stored:
            _check_type("stored entries", s, Stored)
            if s.producer is not None and not 0 <= s.producer < n:
                raise ValueError(f"stored tensor {s.name!r}: producer must be None or in 0..{n - 1}, got {s.producer}")
            bad = [r for r in s.readers if not (is_int(r) and 0 <= r < n)]
            if bad:
                raise ValueError(f"stored tensor {s.name!r}: readers must be op indices in 0..{n - 1}, got {bad}")
        for b in self.blocks:
            _check_type("blocks entries", b, Block)
            if not 0 <= b.first <= b.last < n:
                raise ValueError(f"block {b.name!r}: need 0 <= first <= last < {n}, got {b.first}..{b.last}")
        units = {}
        for s in self.stored:
            units[s.storage] = max(units.get(s.storage, 0), s.elems)
        for storage, elems in self.storage_elems.items():  # the union of a storage's views covers each view
            units[storage] = max(units.get(storage, 0), int_at_least("storage_elems values", elems, 0))
        object.__setattr__(self, "storage_elems", units)
        int_at_least("param_elems", self.param_elems, 0)
        positive_int("batch", self.batch)

    @property
    def macs(self) -> int:
        """Forward multiply-accumulates of the whole model."""
        return sum(op.macs for op in self.ops)


# ----------------------------------------------------------------------------------------------------------
# trace(): one forward with hooks on the leaf modules


def _default_reversible() -> Callable[[nn.Module], bool]:
    try:  # imported here: edram must not depend on reversible at import time
        from effdl.hardware.reversible import AdditiveCoupling
    except ImportError:  # pragma: no cover - reversible.py ships with the package
        return lambda m: False
    return lambda m: isinstance(m, AdditiveCoupling)


def _stages_of(block: nn.Module) -> list[nn.Module]:
    """The recompute-then-backward units of a block: a coupling's F and G (in that forward order), else itself."""
    try:
        from effdl.hardware.reversible import AdditiveCoupling
    except ImportError:  # pragma: no cover
        return [block]
    if isinstance(block, AdditiveCoupling):
        return [block.f, block.g]
    return [block]


def _tensors(obj: object) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    return []


def _skey(t: torch.Tensor) -> str:
    return f"{t.device}:{t.untyped_storage().data_ptr()}"


def _view(t: torch.Tensor) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    return t.storage_offset(), tuple(t.shape), tuple(t.stride())


def _gemm_shape(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> tuple[tuple[int, int, int], int] | None:
    """``((M, K, N), groups)`` for Conv/Linear layers: ``M`` output positions, ``K`` reduction, ``N`` outputs."""
    if isinstance(module, nn.Linear):
        return (out.numel() // module.out_features, module.in_features, module.out_features), 1
    if isinstance(module, nn.modules.conv._ConvNd) and not isinstance(module, nn.modules.conv._ConvTransposeNd):
        g = module.groups
        k = (module.in_channels // g) * math.prod(module.kernel_size)
        m = out.numel() // module.out_channels
        return (m, k, module.out_channels // g), g
    return None


# Leaf modules with no multiply-accumulates: FlopCounterMode is skipped for them (it costs ~1 ms a call).
_NO_MACS = (
    nn.modules.batchnorm._NormBase,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.GELU,
    nn.SiLU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Softmax,
    nn.modules.pooling._MaxPoolNd,
    nn.modules.pooling._AvgPoolNd,
    nn.modules.pooling._AdaptiveAvgPoolNd,
    nn.modules.pooling._AdaptiveMaxPoolNd,
    nn.Flatten,
    nn.Unflatten,
    nn.Identity,
    nn.modules.dropout._DropoutNd,
)


def trace(
    model: nn.Module,
    input_shape: Sequence[int],
    *,
    batch: int = 1,
    reversible: Callable[[nn.Module], bool] | None = None,
) -> Trace:
    """Trace one training forward of ``model`` on a ``(batch, *input_shape)`` float batch.

    Hooks on every leaf module record an :class:`Op` per call, in execution order. Each call is re-run once on
    a copy of its inputs under ``saved_tensors_hooks``, so what is recorded is what plain autograd would keep
    for that op (parameters and buffers excluded) — also for ops that a memory-saving autograd Function runs
    without a graph. MACs come from the layer's shape for ``Conv*d``/``Linear`` (equal to ``FlopCounterMode``'s
    FLOPs / 2) and from ``FlopCounterMode`` for other modules that may multiply (attention). Saved tensors are
    matched to the module's inputs and outputs by storage (a view the op saves of its input counts as the
    whole input view it was given); a tensor made by no leaf module (a block's own addition) has no producer.
    Runs single-threaded (the tensors are small); about 1 ms per op.

    ``reversible(module) -> bool`` marks the reversible blocks (outermost match wins); default: instances of
    :class:`effdl.hardware.reversible.AdditiveCoupling`. The model is deep-copied and run in train mode, so
    ``model`` itself (weights, BatchNorm statistics, mode) and the random state are left untouched.
    Elementwise work done in non-leaf ``forward`` code (additions, ``cat``, ``chunk``) is not traced.
    """
    _check_type("model", model, nn.Module)
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence) or not input_shape:
        raise TypeError(
            f"input_shape must be a non-empty sequence of positive ints such as (1, 28, 28), got {input_shape!r}"
        )
    shape = tuple(positive_int("input_shape entries", s) for s in input_shape)
    n = positive_int("batch", batch)
    if reversible is None:
        reversible = _default_reversible()
    elif not callable(reversible):
        raise TypeError(f"reversible must be None or a callable (nn.Module) -> bool, got {type(reversible).__name__}")

    marked = {name for name, m in model.named_modules() if reversible(m)}  # asked of the caller's modules
    net = copy.deepcopy(model).train()
    names = {m: name for name, m in net.named_modules()}
    state = {_skey(t) for t in [*net.parameters(), *net.buffers()]}
    blocks_found = [m for m in net.modules() if names[m] in marked]
    block_of: dict[nn.Module, nn.Module] = {}
    stage_of: dict[nn.Module, nn.Module] = {}
    for b in blocks_found:
        if b in block_of:  # nested in an outer block: the outer one wins
            continue
        for stage in _stages_of(b):
            for m in stage.modules():
                stage_of[m] = stage
        for m in b.modules():
            block_of[m] = b
    outer_blocks = [b for b in blocks_found if block_of.get(b) is b]

    gen = torch.Generator().manual_seed(0)
    x = torch.randn((n, *shape), generator=gen)
    input_key = _skey(x)
    keep: list[torch.Tensor] = [x]  # every traced tensor stays alive so storages are never reused
    calls: dict[str, int] = {}
    raw_ops: list[dict] = []
    producer: dict[str, int] = {}
    block_calls: list[dict] = []
    open_blocks: dict[int, dict] = {}
    busy = [False]

    def unique(name: str) -> str:
        calls[name] = calls.get(name, 0) + 1
        return name if calls[name] == 1 else f"{name}#{calls[name]}"

    def leaf_hook(module: nn.Module, args: tuple, kwargs: dict, output: object) -> None:
        if busy[0]:
            return
        ins = _tensors(args) + _tensors(kwargs)
        outs = _tensors(output)
        keep.extend(ins)
        keep.extend(outs)
        index = len(raw_ops)
        # re-run on copies: what would plain autograd save, and how many FLOPs
        with torch.enable_grad():  # the model may run this op under no_grad (a memory-saving Function)
            fed = [t.detach().clone().requires_grad_(True) if t.is_floating_point() else t.detach() for t in ins]
            fed = [t.clone() if t.requires_grad else t for t in fed]  # non-leaf, so in-place ops are allowed
        fed_of = {_skey(f): t for f, t in zip(fed, ins, strict=True)}
        saved: list[torch.Tensor] = []

        def pack(t: torch.Tensor) -> torch.Tensor:
            saved.append(t)
            return t

        it = iter(fed)
        new_args = _replace_tensors(args, it)
        new_kwargs = _replace_tensors(kwargs, it)
        busy[0] = True
        try:
            gemm = _gemm_shape(module, ins[0], outs[0]) if ins and outs else None
            counter = FlopCounterMode(display=False) if gemm is None and not isinstance(module, _NO_MACS) else None
            with (
                torch.random.fork_rng(devices=[]),
                torch.enable_grad(),
                counter if counter is not None else contextlib.nullcontext(),
                torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t),
            ):
                rerun = module(*new_args, **new_kwargs)
        finally:
            busy[0] = False
        rerun_of = {_skey(r): o for r, o in zip(_tensors(rerun), outs, strict=False)}
        if gemm is not None:
            (m, k, nn_), groups = gemm
            macs = groups * m * k * nn_
        else:
            macs = counter.get_total_flops() // 2 if counter is not None else 0
        views: list[tuple[str, tuple, int]] = []  # (storage, view, numel)
        for t in saved:
            if t.layout != torch.strided:
                continue
            k = _skey(t)
            if k in state:
                continue
            if k in fed_of:
                orig = fed_of[k]
            elif k in rerun_of:
                orig = rerun_of[k]
            else:  # op-internal (BatchNorm statistics, pooling indices): a storage of its own
                keep.append(t)
                views.append((f"{names[module]}:{index}:internal:{k}", (0, (t.numel(),), (1,)), t.numel()))
                continue
            views.append((_skey(orig), _view(orig), orig.numel()))
        for o in outs:
            producer.setdefault(_skey(o), index)
        in_keys = {_skey(t) for t in ins}
        alias = bool(outs) and all(_skey(o) in in_keys for o in outs) and not views and macs == 0
        block = block_of.get(module)
        stage = stage_of.get(module) if block is not None else None
        raw_ops.append(
            dict(
                name=unique(names[module] or type(module).__name__),
                kind=type(module).__name__,
                macs=int(macs),
                gemm=gemm,
                ins=[(_skey(t), t.numel()) for t in ins if t.is_floating_point()],
                out_elems=0 if alias else sum(o.numel() for o in outs),
                weight_elems=sum(p.numel() for p in module.parameters(recurse=False)),
                views=views,
                alias=alias,
                block=block,
                stage=stage if stage is not None else block,
            )
        )

    def block_pre(module: nn.Module, args: tuple, kwargs: dict) -> None:
        if busy[0]:
            return
        ins = _tensors(args) + _tensors(kwargs)
        open_blocks[id(module)] = dict(module=module, first=len(raw_ops), input=_skey(ins[0]) if ins else None)

    def block_post(module: nn.Module, args: tuple, kwargs: dict, output: object) -> None:
        if busy[0]:
            return
        info = open_blocks.pop(id(module))
        outs = _tensors(output)
        keep.extend(outs)
        info.update(last=len(raw_ops) - 1, output=_skey(outs[0]) if outs else None,
                    out_elems=outs[0].numel() if outs else 0)  # fmt: skip
        if info["last"] >= info["first"]:
            block_calls.append(info)

    handles = []
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # tiny tensors: extra threads only add contention
        for m in net.modules():
            if not any(True for _ in m.children()):
                handles.append(m.register_forward_hook(leaf_hook, with_kwargs=True))
        for b in outer_blocks:
            handles.append(b.register_forward_pre_hook(block_pre, with_kwargs=True))
            handles.append(b.register_forward_hook(block_post, with_kwargs=True))
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            net(x)
        for h in handles:
            h.remove()
        if not raw_ops:
            raise ValueError(f"{type(model).__name__} ran no leaf module on a {(n, *shape)} input: nothing to trace")
        return _build_trace(raw_ops, block_calls, producer, input_key, names, net, n)
    finally:
        torch.set_num_threads(threads)
        for h in handles:
            h.remove()


def _replace_tensors(obj: object, it) -> object:
    if isinstance(obj, torch.Tensor):
        return next(it)
    if isinstance(obj, tuple):
        return tuple(_replace_tensors(o, it) for o in obj)
    if isinstance(obj, list):
        return [_replace_tensors(o, it) for o in obj]
    if isinstance(obj, dict):
        return {k: _replace_tensors(v, it) for k, v in obj.items()}
    return obj


def _build_trace(raw_ops, block_calls, producer, input_key, names, net, batch) -> Trace:
    # block names: the module path, "#k" for the k-th call of the same module
    block_name: dict[int, str] = {}  # first op -> name
    seen: dict[str, int] = {}
    for info in block_calls:
        base = names[info["module"]] or type(info["module"]).__name__
        seen[base] = seen.get(base, 0) + 1
        block_name[info["first"]] = base if seen[base] == 1 else f"{base}#{seen[base]}"
    op_block: list[str | None] = [None] * len(raw_ops)
    op_stage: list[str | None] = [None] * len(raw_ops)
    blocks: list[Block] = []
    for info in block_calls:
        bname = block_name[info["first"]]
        stages: list[str] = []
        for i in range(info["first"], info["last"] + 1):
            sm = raw_ops[i]["stage"]
            base = names[info["module"]]
            rel = names[sm][len(base) + 1 :] if base else names[sm]
            sname = bname if sm is info["module"] else f"{bname}.{rel}"
            op_block[i], op_stage[i] = bname, sname
            if sname not in stages:
                stages.append(sname)
        blocks.append(
            Block(bname, info["first"], info["last"], tuple(stages), info["input"], info["output"], info["out_elems"])
        )

    # groups: a reversible stage, or a maximal run of plain ops
    group: list[str] = []
    run = 0
    for i in range(len(raw_ops)):
        if op_stage[i] is not None:
            group.append(op_stage[i])  # type: ignore[arg-type]
        else:
            if i > 0 and op_stage[i - 1] is not None:
                run += 1
            group.append(f"plain{run}")

    # union of saved views per (storage, group) and per storage: one view -> its numel; several -> a mask
    views_of: dict[tuple[str, str], set] = {}
    all_views: dict[str, set] = {}
    readers: dict[tuple[str, str], list[int]] = {}
    saved_elems = [0] * len(raw_ops)
    saved_input = [0] * len(raw_ops)
    for i, r in enumerate(raw_ops):
        for storage, view, numel in r["views"]:
            if storage == input_key:
                saved_input[i] += numel
                continue
            saved_elems[i] += numel
            views_of.setdefault((storage, group[i]), set()).add((view, numel))
            all_views.setdefault(storage, set()).add((view, numel))
            rs = readers.setdefault((storage, group[i]), [])
            if i not in rs:
                rs.append(i)

    def union(views: set) -> int:
        if len(views) == 1:
            return next(iter(views))[1]
        size = max(off + sum((n - 1) * st for n, st in zip(shape, stride, strict=True)) + 1
                   for (off, shape, stride), _ in views)  # fmt: skip
        mask = torch.zeros(size, dtype=torch.bool)
        for (off, shape, stride), numel in views:
            if numel:
                mask.as_strided(shape, stride, off).fill_(True)
        return int(mask.sum())

    short: dict[str, str] = {}  # readable storage ids, in order of first appearance
    for storage in [*all_views, *(k for b in blocks for k in (b.input_storage, b.output_storage) if k is not None)]:
        short.setdefault(storage, f"t{len(short)}")
    stored = []
    for (storage, g), rs in readers.items():
        elems = union(views_of[(storage, g)])
        if elems == 0:
            continue
        p = producer.get(storage)
        if p is None and ":internal:" in storage:
            p = rs[0]
        first = raw_ops[rs[0]]["name"]
        stored.append(Stored(f"{short[storage]}@{first}", elems, short[storage], p, tuple(rs)))

    ops = []
    for i, r in enumerate(raw_ops):
        in_elems = sum(k for s, k in r["ins"] if s != input_key)
        input_elems = sum(k for s, k in r["ins"] if s == input_key)
        gemm, groups = r["gemm"] if r["gemm"] is not None else (None, 1)
        alias = r["alias"]
        ops.append(
            Op(
                name=r["name"],
                kind=r["kind"],
                macs=r["macs"],
                gemm=gemm if r["macs"] else None,
                groups=groups,
                vector_elems=0 if alias or r["macs"] else max(in_elems + input_elems, r["out_elems"]),
                in_elems=0 if alias else in_elems,
                input_elems=0 if alias else input_elems,
                out_elems=r["out_elems"],
                weight_elems=r["weight_elems"],
                saved_elems=saved_elems[i],
                saved_input_elems=saved_input[i],
                block=op_block[i],
                stage=op_stage[i],
            )
        )
    blocks = [
        replace(
            b,
            input_storage=short.get(b.input_storage) if b.input_storage is not None else None,
            output_storage=short.get(b.output_storage) if b.output_storage is not None else None,
        )
        for b in blocks
    ]
    storage_elems = {short[s]: union(v) for s, v in all_views.items()}
    params = sum(p.numel() for p in net.parameters())
    return Trace(tuple(ops), tuple(stored), tuple(blocks), storage_elems, params, batch)


# ----------------------------------------------------------------------------------------------------------
# simulate(): timeline, lifetimes, placement, refresh, energy


@dataclass(frozen=True)
class Phase:
    """One op's run on the timeline: ``kind`` is ``"forward"``, ``"recompute"`` or ``"backward"``; seconds."""

    op: int
    name: str
    kind: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class TensorRecord:
    """A stored tensor in one simulation: bytes, write and last-read times (s), ``lifetime_s`` between them,
    ``onchip_s`` spent in the buffer (its lifetime, or 0 when spilled), ``where`` it lives (``"onchip"`` or
    ``"spilled"``) and the eDRAM ``refreshes`` of its bytes."""

    name: str
    bytes: int
    write_s: float
    last_read_s: float
    lifetime_s: float
    onchip_s: float
    where: str
    refreshes: int


@dataclass(frozen=True)
class SimResult:
    """One simulated training step. Energies in picojoules, times in seconds, sizes in bytes.

    ``energy_pj`` maps each of :data:`COMPONENTS` to its energy: ``mac`` (array MACs), ``onchip_read`` and
    ``onchip_write`` (activation buffer and weight buffer), ``refresh`` (eDRAM), ``dram`` (off-chip: the
    batch, the weights and their gradients, spills). ``dram_bytes`` is all off-chip traffic, ``spill_bytes``
    the bytes spilled (each written out and read back once), ``refreshes`` the total count of tensor
    refreshes, ``peak_live_bytes`` the most stored bytes alive at once (what a buffer would need to hold
    everything) and ``peak_onchip_bytes`` the most that were actually on chip.
    """

    schedule: str
    memory: Memory
    accelerator: Accelerator
    step_time_s: float
    macs: int
    timeline: tuple[Phase, ...]
    tensors: tuple[TensorRecord, ...]
    energy_pj: dict[str, float]
    dram_bytes: int
    spill_bytes: int
    refreshes: int
    peak_live_bytes: int
    peak_onchip_bytes: int

    @property
    def total_pj(self) -> float:
        """Total energy of the step, picojoules."""
        return sum(self.energy_pj.values())

    @property
    def retention_s(self) -> float:
        """The buffer's retention time (meaningful for eDRAM)."""
        return self.memory.retention_s

    @property
    def max_lifetime_s(self) -> float:
        """The longest lifetime of any stored tensor (0 when none)."""
        return max((t.lifetime_s for t in self.tensors), default=0.0)

    @property
    def spilled(self) -> int:
        """How many stored tensors were spilled (at write or later)."""
        return sum(t.where == "spilled" for t in self.tensors)

    def summary(self) -> dict[str, float | int | str]:
        """One flat row: schedule, memory, capacity, energy per component and total (µJ), traffic, refreshes,
        peak live bytes, step time and longest lifetime (µs)."""
        row: dict[str, float | int | str] = {
            "schedule": self.schedule,
            "memory": self.memory.kind,
            "capacity_bytes": self.memory.capacity_bytes,
        }
        for c in COMPONENTS:
            row[f"{c}_uj"] = self.energy_pj[c] * 1e-6
        row.update(
            total_uj=self.total_pj * 1e-6,
            dram_bytes=self.dram_bytes,
            spill_bytes=self.spill_bytes,
            spilled=self.spilled,
            refreshes=self.refreshes,
            peak_live_bytes=self.peak_live_bytes,
            step_time_us=self.step_time_s * 1e6,
            max_lifetime_us=self.max_lifetime_s * 1e6,
        )
        return row


def _op_cycles(op: Op, acc: Accelerator) -> tuple[int, int]:
    """(forward, backward) cycles of one op under the documented mapping."""
    if op.macs == 0:
        c = -(-op.vector_elems // acc.lanes)
        return c, c
    if op.gemm is not None:
        m, k, n = op.gemm
        fwd = op.groups * acc.gemm_cycles(m, k, n)
        # input gradient dX = dY·Wᵀ (reduce over N) and weight gradient dW = Xᵀ·dY (reduce over M)
        bwd = op.groups * (acc.gemm_cycles(m, n, k) + acc.gemm_cycles(k, m, n))
        return fwd, bwd
    fwd = -(-op.macs // acc.macs_per_cycle)
    return fwd, 2 * fwd


def _segments(tr: Trace) -> list[tuple[str | None, list[int]]]:
    """Consecutive runs of ops with the same block (``None`` for plain ops), in forward order."""
    out: list[tuple[str | None, list[int]]] = []
    for i, op in enumerate(tr.ops):
        if out and out[-1][0] == op.block:
            out[-1][1].append(i)
        else:
            out.append((op.block, [i]))
    return out


def simulate(
    tr: Trace,
    *,
    schedule: str = "standard",
    accelerator: Accelerator | None = None,
    memory: Memory | None = None,
    energy: Energy | None = None,
    recompute_stem: bool = True,
) -> SimResult:
    """Simulate one training step of ``tr`` (from :func:`trace`) and return a :class:`SimResult`.

    ``schedule``: ``"standard"`` (saved tensors live from forward to backward) or ``"reversible"`` (blocks
    rebuild and recompute, see the module doc; ``recompute_stem`` also recomputes the plain ops before the
    first block from the batch). ``accelerator``, ``memory``, ``energy`` default to :class:`Accelerator`,
    :class:`Memory` (eDRAM) and :class:`Energy` with their documented defaults. Pure Python over the trace:
    a few dozen ops take about a millisecond.
    """
    _check_type("tr", tr, Trace)
    _choice("schedule", schedule, SCHEDULES)
    acc = Accelerator() if accelerator is None else accelerator
    mem = Memory() if memory is None else memory
    en = Energy() if energy is None else energy
    _check_type("accelerator", acc, Accelerator)
    _check_type("memory", mem, Memory)
    _check_type("energy", en, Energy)
    if not isinstance(recompute_stem, bool):
        raise TypeError(f"recompute_stem must be a bool, got {recompute_stem!r}")

    ops = tr.ops
    n = len(ops)
    cycles = [_op_cycles(op, acc) for op in ops]
    phases: list[tuple[int, str, int, int]] = []
    fwd_start, fwd_end, rec_end, bwd_end = [0] * n, [0] * n, [0] * n, [0] * n
    t = 0
    for i in range(n):  # forward
        fwd_start[i] = t
        t += cycles[i][0]
        fwd_end[i] = t
        phases.append((i, "forward", fwd_start[i], t))

    def recompute(i: int) -> None:
        nonlocal t
        start = t
        t += cycles[i][0]
        rec_end[i] = t
        phases.append((i, "recompute", start, t))

    def backward(i: int) -> None:
        nonlocal t
        start = t
        t += cycles[i][1]
        bwd_end[i] = t
        phases.append((i, "backward", start, t))

    segments = _segments(tr)
    blocks = {b.name: b for b in tr.blocks}
    stage_start: dict[str, int] = {}
    block_end: dict[str, int] = {}
    prefix: set[int] = set()
    prefix_start = 0
    if schedule == "reversible" and recompute_stem and len(segments) > 1 and segments[0][0] is None:
        prefix = set(segments[0][1])
    for name, idx in reversed(segments):
        if schedule == "reversible" and name is not None:
            order = blocks[name].stages if name in blocks else tuple(dict.fromkeys(ops[i].stage or name for i in idx))
            for stage in reversed(order):
                mine = [i for i in idx if (ops[i].stage or name) == stage]
                stage_start[stage] = t
                for i in mine:
                    recompute(i)
                for i in reversed(mine):
                    backward(i)
            block_end[name] = t
        elif prefix and idx[0] in prefix:
            prefix_start = t
            for i in idx:
                recompute(i)
            for i in reversed(idx):
                backward(i)
        else:
            for i in reversed(idx):
                backward(i)
    total_cycles = t

    # stored tensors: (name, elements, write, last read, storage), times in cycles
    vb = acc.value_bytes
    records: list[tuple[str, int, int, int, str]] = []  # name, elems, write, last, storage
    if schedule == "standard":
        by_storage: dict[str, list[Stored]] = {}
        for s in tr.stored:
            by_storage.setdefault(s.storage, []).append(s)
        for storage, group in by_storage.items():
            readers = sorted({r for s in group for r in s.readers})
            producer = next((s.producer for s in group if s.producer is not None), None)
            write = fwd_end[producer] if producer is not None else min(fwd_start[r] for r in readers)
            last = max(bwd_end[r] for r in readers)
            records.append((group[0].name, tr.storage_elems[storage], write, last, storage))
    else:
        rebuilt = {b.input_storage: b.name for b in tr.blocks if b.input_storage is not None}
        raw: list[tuple[str, int, int, int, str]] = []
        for s in tr.stored:
            first = ops[s.readers[0]]
            p = s.producer
            if first.block is not None and first.block in block_end:
                stage = first.stage or first.block
                same = p is not None and (ops[p].stage or ops[p].block) == stage and ops[p].block == first.block
                write = rec_end[p] if same else stage_start[stage]  # type: ignore[index]
            elif s.readers[0] in prefix:
                write = rec_end[p] if p is not None and p in prefix else prefix_start
            else:
                write = fwd_end[p] if p is not None else min(fwd_start[r] for r in s.readers)
                # a block input that the block rebuilds before this group's backward needs it
                rebuilt_at = block_end.get(rebuilt.get(s.storage, ""))
                if rebuilt_at is not None and rebuilt_at <= min(bwd_end[r] for r in s.readers):
                    write = rebuilt_at
            raw.append((s.name, s.elems, write, max(bwd_end[r] for r in s.readers), s.storage))
        for b in tr.blocks:
            if b.out_elems == 0 or b.name not in block_end:
                continue
            nxt = rebuilt.get(b.output_storage) if b.output_storage is not None else None
            write = block_end[nxt] if nxt is not None and nxt != b.name and nxt in block_end else fwd_end[b.last]
            raw.append((f"{b.name}:output", b.out_elems, write, block_end[b.name], b.output_storage or b.name))
        # records of one storage that overlap in time share that memory: merge them (the larger covers the other)
        by_storage2: dict[str, list[tuple[str, int, int, int, str]]] = {}
        for r in raw:
            by_storage2.setdefault(r[4], []).append(r)
        for group2 in by_storage2.values():
            group2.sort(key=lambda r: (r[2], r[3]))
            cur = list(group2[0])
            for r in group2[1:]:
                if r[2] < cur[3]:
                    cur[1], cur[3] = max(cur[1], r[1]), max(cur[3], r[3])
                else:
                    records.append(tuple(cur))  # type: ignore[arg-type]
                    cur = list(r)
            records.append(tuple(cur))  # type: ignore[arg-type]

    # placement, decided for whole lifetimes (a compiler-managed scratchpad): in write order, when the live set
    # overflows, the tensor read furthest in the future (new or resident) is spilled for its whole lifetime
    capacity = mem.capacity_bytes
    order = sorted(range(len(records)), key=lambda j: (records[j][2], j))
    size = [records[j][1] * vb for j in range(len(records))]
    spilled = [False] * len(records)
    live: dict[int, None] = {}
    releases: list[tuple[int, int]] = []
    live_bytes = 0
    for j in order:
        write, last = records[j][2], records[j][3]
        while releases and releases[0][0] <= write:
            _, k = heapq.heappop(releases)
            if k in live:
                del live[k]
                live_bytes -= size[k]
        live[j] = None
        live_bytes += size[j]
        heapq.heappush(releases, (last, j))
        while live_bytes > capacity:
            victim = max(live, key=lambda k: (records[k][3], size[k], k))
            del live[victim]
            live_bytes -= size[victim]
            spilled[victim] = True

    def peak(keep: list[int]) -> int:
        events = sorted([(records[j][2], 1, size[j]) for j in keep] + [(records[j][3], 0, -size[j]) for j in keep])
        now = top = 0
        for _, _, delta in events:  # releases (0) sort before writes (1) at equal times
            now += delta
            top = max(top, now)
        return top

    peak_live = peak(list(range(len(records))))  # every stored tensor on chip: what a buffer would need
    peak_onchip = peak([j for j in range(len(records)) if not spilled[j]])

    retention_cycles = mem.retention_s * acc.clock_hz
    hz = acc.clock_hz
    tensors = []
    n_refresh = refresh_bytes = spill_bytes = 0
    for j, (name, _elems, write, last, _storage) in enumerate(records):
        onchip = 0 if spilled[j] else last - write
        refreshes = 0
        if mem.kind == "edram" and onchip > 0:
            refreshes = max(0, math.ceil(onchip / retention_cycles - 1e-9) - 1)
        n_refresh += refreshes
        refresh_bytes += refreshes * size[j]
        if spilled[j]:
            spill_bytes += size[j]
        tensors.append(
            TensorRecord(
                name,
                size[j],
                write / hz,
                last / hz,
                (last - write) / hz,
                onchip / hz,
                "spilled" if spilled[j] else "onchip",
                refreshes,
            )
        )

    # energy
    macs = act_read = act_write = w_read = w_write = dram_in = 0
    for i, kind, _, _ in phases:
        op = ops[i]
        if kind == "backward":
            macs += 2 * op.macs
            act_read += op.out_elems + op.saved_elems
            act_write += op.in_elems
            dram_in += op.saved_input_elems
            w_read += op.weight_elems
            w_write += op.weight_elems
        else:
            macs += op.macs
            act_read += op.in_elems
            act_write += op.out_elems
            dram_in += op.input_elems
            w_read += op.weight_elems
    rd, wr = (
        (en.sram_read_pj_per_byte, en.sram_write_pj_per_byte)
        if mem.kind == "sram"
        else (en.edram_read_pj_per_byte, en.edram_write_pj_per_byte)
    )
    param_bytes = tr.param_elems * vb
    dram_read_bytes = dram_in * vb + param_bytes + spill_bytes
    dram_write_bytes = param_bytes + spill_bytes
    energy_pj = {
        "mac": macs * en.mac_pj,
        "onchip_read": act_read * vb * rd + w_read * vb * en.sram_read_pj_per_byte,
        "onchip_write": act_write * vb * wr + w_write * vb * en.sram_write_pj_per_byte,
        "refresh": refresh_bytes * en.edram_refresh_pj_per_byte,
        "dram": dram_read_bytes * en.dram_read_pj_per_byte + dram_write_bytes * en.dram_write_pj_per_byte,
    }
    timeline = tuple(Phase(i, ops[i].name, kind, a / hz, b / hz) for i, kind, a, b in phases)
    return SimResult(
        schedule=schedule,
        memory=mem,
        accelerator=acc,
        step_time_s=total_cycles / hz,
        macs=macs,
        timeline=timeline,
        tensors=tuple(tensors),
        energy_pj=energy_pj,
        dram_bytes=dram_read_bytes + dram_write_bytes,
        spill_bytes=spill_bytes,
        refreshes=n_refresh,
        peak_live_bytes=peak_live,
        peak_onchip_bytes=peak_onchip,
    )


# ----------------------------------------------------------------------------------------------------------
# The notebook's views: three scenarios, lifetimes


SCENARIOS = (
    ("standard + SRAM", "standard", "sram"),
    ("standard + eDRAM", "standard", "edram"),
    ("reversible + eDRAM", "reversible", "edram"),
)


def compare(
    model: nn.Module | Trace,
    input_shape: Sequence[int] | None = None,
    *,
    batch: int = 1,
    standard: nn.Module | Trace | None = None,
    accelerator: Accelerator | None = None,
    memory: Memory | None = None,
    energy: Energy | None = None,
    recompute_stem: bool = True,
) -> list[dict[str, float | int | str]]:
    """The three scenarios of CAMEL's comparison, one row each (see :meth:`SimResult.summary`), in this order:

    1. ``"standard + SRAM"``: the standard schedule on an SRAM buffer of ``memory.area_bytes`` (same area as the
       eDRAM, so ``1 / density`` of its capacity: more spills);
    2. ``"standard + eDRAM"``: the standard schedule on the eDRAM buffer, refreshing long-lived tensors;
    3. ``"reversible + eDRAM"``: the reversible schedule on the eDRAM buffer.

    ``model`` is the reversible network (an ``nn.Module`` traced on ``(batch, *input_shape)``, or a
    :class:`Trace`); ``standard`` its standard counterpart for rows 1–2 (default: ``model`` itself under the
    standard schedule). Pass Traces to re-simulate without re-tracing (what a slider should do). Rows add
    ``scenario``; energy columns are ``<component>_uj`` and ``total_uj``.
    """
    mem = Memory() if memory is None else memory
    _check_type("memory", mem, Memory)

    def as_trace(m: object, name: str) -> Trace:
        if isinstance(m, Trace):
            return m
        if isinstance(m, nn.Module):
            if input_shape is None:
                raise ValueError(f"input_shape is needed to trace {name} (an nn.Module), e.g. (1, 28, 28)")
            return trace(m, input_shape, batch=batch)
        raise TypeError(f"{name} must be an nn.Module or a Trace, got {type(m).__name__}")

    rev = as_trace(model, "model")
    std = rev if standard is None else as_trace(standard, "standard")
    rows = []
    for scenario, schedule, kind in SCENARIOS:
        res = simulate(
            std if schedule == "standard" else rev,
            schedule=schedule,
            accelerator=accelerator,
            memory=replace(mem, kind=kind),
            energy=energy,
            recompute_stem=recompute_stem,
        )
        rows.append({"scenario": scenario, **res.summary()})
    return rows


def lifetimes(result: SimResult) -> list[dict[str, float | int | str | bool]]:
    """One row per stored tensor of ``result``, in write order, for a lifetime chart against the retention line:
    ``name``, ``bytes``, ``write_us``, ``last_read_us``, ``lifetime_us``, ``onchip_us``, ``where``,
    ``refreshes``, ``retention_us`` and ``exceeds_retention`` (lifetime longer than the retention time)."""
    _check_type("result", result, SimResult)
    r_us = result.retention_s * 1e6
    rows = []
    for t in sorted(result.tensors, key=lambda t: (t.write_s, t.name)):
        rows.append(
            {
                "name": t.name,
                "bytes": t.bytes,
                "write_us": t.write_s * 1e6,
                "last_read_us": t.last_read_s * 1e6,
                "lifetime_us": t.lifetime_s * 1e6,
                "onchip_us": t.onchip_s * 1e6,
                "where": t.where,
                "refreshes": t.refreshes,
                "retention_us": r_us,
                "exceeds_retention": t.lifetime_s > result.retention_s,
            }
        )
    return rows
