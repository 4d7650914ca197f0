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
   :func:`lifetimes` gives the per-tensor rows for a lifetime chart against the retention line;
   :func:`codesign_study` puts simulated and trained configurations on the energy–accuracy plane and chooses
   under a declared accuracy constraint.

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
- Refresh, two models (``simulate(refresh=...)``; SRAM never refreshes). ``"bank"`` (the default, how an
  eDRAM macro does it): the buffer is split into banks of ``Memory.bank_bytes``; each on-chip tensor takes the
  lowest free addresses when it is written (split over holes when needed) and frees them after its last read;
  a refresh controller ticks at ``R, 2R, …`` from the step's start and at every tick refreshes every bank
  that holds live data (all its rows, ``bank_bytes``), whoever's data it is. The controller runs only when
  some on-chip tensor outlives ``R`` — the schedule is static, so the compiler knows — and is off otherwise:
  CAMEL's refresh-free eDRAM. ``"tensor"`` (the idealised bound): a tensor on chip for ``t`` seconds needs
  ``ceil(t/R) − 1`` refreshes of its own bytes (one just before each retention period runs out). Both counts
  are in every :class:`SimResult`; the energy uses the one asked for.
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

from effdl.hardware.edram._hardware import (
    CAMEL_RETENTION_S,
    CAMEL_TEMPERATURE_C,
    COMPONENTS,
    MEMORY_KINDS,
    REFRESH_MODELS,
    SCHEDULES,
    Accelerator,
    Energy,
    Memory,
    retention_at,
)
from effdl.hardware.edram._sim import Phase, SimResult, TensorRecord, simulate
from effdl.hardware.edram._study import CodesignStudy, codesign_study
from effdl.hardware.edram._trace import Block, Op, Stored, Trace, trace
from effdl.hardware.edram._views import SCENARIOS, codesign_energy, compare, lifetimes, lowest_energy_meeting

__all__ = [
    "CAMEL_RETENTION_S",
    "CAMEL_TEMPERATURE_C",
    "COMPONENTS",
    "MEMORY_KINDS",
    "REFRESH_MODELS",
    "SCENARIOS",
    "SCHEDULES",
    "Accelerator",
    "Block",
    "CodesignStudy",
    "Energy",
    "Memory",
    "Op",
    "Phase",
    "SimResult",
    "Stored",
    "TensorRecord",
    "Trace",
    "codesign_energy",
    "codesign_study",
    "compare",
    "lifetimes",
    "lowest_energy_meeting",
    "retention_at",
    "simulate",
    "trace",
]
