"""simulate(): the timeline of one training step, lifetimes, placement, refresh (per tensor and per bank), energy."""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

from effdl.hardware.edram._hardware import (
    COMPONENTS,
    REFRESH_MODELS,
    SCHEDULES,
    Accelerator,
    Energy,
    Memory,
    _check_type,
    _choice,
)
from effdl.hardware.edram._trace import Op, Stored, Trace

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
    ``"spilled"``), the eDRAM ``refreshes`` of its own bytes under the per-tensor model, and the eDRAM ``banks``
    its addresses fall in (empty when spilled or on SRAM)."""

    name: str
    bytes: int
    write_s: float
    last_read_s: float
    lifetime_s: float
    onchip_s: float
    where: str
    refreshes: int
    banks: tuple[int, ...] = ()


@dataclass(frozen=True)
class SimResult:
    """One simulated training step. Energies in picojoules, times in seconds, sizes in bytes.

    ``energy_pj`` maps each of :data:`COMPONENTS` to its energy: ``mac`` (array MACs), ``onchip_read`` and
    ``onchip_write`` (activation buffer and weight buffer), ``refresh`` (eDRAM), ``dram`` (off-chip: the
    batch, the weights and their gradients, spills). ``dram_bytes`` is all off-chip traffic, ``spill_bytes``
    the bytes spilled (each written out and read back once), ``peak_live_bytes`` the most stored bytes alive at
    once (what a buffer would need to hold everything) and ``peak_onchip_bytes`` the most that were actually on
    chip.

    Refresh, both models counted (see the module doc); ``refresh_model`` says which one ``energy_pj["refresh"]``
    and ``refreshes`` use. ``tensor_refreshes`` / ``tensor_refresh_bytes``: refreshes of single tensors and the
    bytes they rewrite; ``bank_refreshes`` / ``bank_refresh_bytes``: refreshes of whole banks (one per bank
    holding live data per controller tick) and the bytes they rewrite; ``tensor_refresh_pj`` / ``bank_refresh_pj``
    their energies; ``refresh_ticks`` the controller's ticks in the step (0 when it is off).
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
    refresh_model: str = "bank"
    tensor_refreshes: int = 0
    tensor_refresh_bytes: int = 0
    bank_refreshes: int = 0
    bank_refresh_bytes: int = 0
    refresh_ticks: int = 0
    tensor_refresh_pj: float = 0.0
    bank_refresh_pj: float = 0.0

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
        """One flat row: schedule, memory, capacity, energy per component and total (µJ), traffic, refreshes (the
        model's count, then both models' counts and energies in µJ), peak live bytes, step time and longest
        lifetime (µs)."""
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
            refresh_model=self.refresh_model,
            tensor_refreshes=self.tensor_refreshes,
            bank_refreshes=self.bank_refreshes,
            tensor_refresh_uj=self.tensor_refresh_pj * 1e-6,
            bank_refresh_uj=self.bank_refresh_pj * 1e-6,
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
    refresh: str = "bank",
) -> SimResult:
    """Simulate one training step of ``tr`` (from :func:`trace`) and return a :class:`SimResult`.

    ``schedule``: ``"standard"`` (saved tensors live from forward to backward) or ``"reversible"`` (blocks
    rebuild and recompute, see the module doc; ``recompute_stem`` also recomputes the plain ops before the
    first block from the batch). ``accelerator``, ``memory``, ``energy`` default to :class:`Accelerator`,
    :class:`Memory` (eDRAM) and :class:`Energy` with their documented defaults. Pure Python over the trace:
    a few dozen ops take about a millisecond.

    ``refresh``: the refresh model the energy uses, ``"bank"`` (default) or ``"tensor"``; both counts are
    reported either way. The default is the periodic bank refresh because that is what eDRAM hardware does
    (a refresh controller rewrites whole banks on a timer, it does not track tensors); the per-tensor count is
    the lower bound an ideal tensor-aware controller would reach. Both give 0 when every on-chip tensor dies
    within the retention time, so CAMEL's refresh-free comparison is the same under either.
    """
    _check_type("tr", tr, Trace)
    _choice("schedule", schedule, SCHEDULES)
    _choice("refresh", refresh, REFRESH_MODELS)
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
    edram = mem.kind == "edram"
    onchip = [0 if spilled[j] else records[j][3] - records[j][2] for j in range(len(records))]
    per_tensor = [
        max(0, math.ceil(onchip[j] / retention_cycles - 1e-9) - 1) if edram and onchip[j] > 0 else 0
        for j in range(len(records))
    ]
    banks_of = _bank_addresses(records, size, spilled, order, mem.bank_bytes) if edram else {}
    # periodic bank refresh: ticks at k·R (k = 1, 2, ...) inside the step, only when some tensor needs one; a bank is
    # refreshed at a tick when a tensor in it was written before the tick and is read after it
    controller_on = any(per_tensor)
    ticks = max(0, math.ceil(total_cycles / retention_cycles - 1e-9) - 1) if controller_on else 0
    refreshed: set[tuple[int, int]] = set()
    if controller_on:
        for j, banks in banks_of.items():
            write, last = records[j][2], records[j][3]
            first_k = math.floor(write / retention_cycles + 1e-9) + 1
            last_k = math.ceil(last / retention_cycles - 1e-9) - 1
            refreshed.update((k, b) for k in range(first_k, last_k + 1) for b in banks)
    bank_size = (
        [min(mem.bank_bytes, mem.capacity_bytes - b * mem.bank_bytes) for b in range(mem.banks)] if edram else []
    )
    bank_refreshes = len(refreshed)
    bank_refresh_bytes = sum(bank_size[b] for _, b in refreshed)
    tensors = []
    n_refresh = tensor_refresh_bytes = spill_bytes = 0
    for j, (name, _elems, write, last, _storage) in enumerate(records):
        n_refresh += per_tensor[j]
        tensor_refresh_bytes += per_tensor[j] * size[j]
        if spilled[j]:
            spill_bytes += size[j]
        tensors.append(
            TensorRecord(
                name,
                size[j],
                write / hz,
                last / hz,
                (last - write) / hz,
                onchip[j] / hz,
                "spilled" if spilled[j] else "onchip",
                per_tensor[j],
                banks_of.get(j, ()),
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
        "refresh": (bank_refresh_bytes if refresh == "bank" else tensor_refresh_bytes) * en.edram_refresh_pj_per_byte,
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
        refreshes=bank_refreshes if refresh == "bank" else n_refresh,
        peak_live_bytes=peak_live,
        peak_onchip_bytes=peak_onchip,
        refresh_model=refresh,
        tensor_refreshes=n_refresh,
        tensor_refresh_bytes=tensor_refresh_bytes,
        bank_refreshes=bank_refreshes,
        bank_refresh_bytes=bank_refresh_bytes,
        refresh_ticks=ticks,
        tensor_refresh_pj=tensor_refresh_bytes * en.edram_refresh_pj_per_byte,
        bank_refresh_pj=bank_refresh_bytes * en.edram_refresh_pj_per_byte,
    )


def _bank_addresses(
    records: list[tuple[str, int, int, int, str]], size: list[int], spilled: list[bool], order: list[int], bank: int
) -> dict[int, tuple[int, ...]]:
    """The banks each on-chip record occupies: in write order (releases at or before a write first), a record
    takes the lowest free byte addresses, split over holes when one is too small, and frees them after its last
    read. The placement has already kept the on-chip live set within the capacity, so this always fits."""
    free: list[list[int]] = [[0, 1 << 62]]  # [start, end) intervals, sorted by start
    held: dict[int, list[tuple[int, int]]] = {}
    releases: list[tuple[int, int]] = []
    out: dict[int, tuple[int, ...]] = {}
    for j in order:
        if spilled[j]:
            continue
        write, last = records[j][2], records[j][3]
        while releases and releases[0][0] <= write:
            _, k = heapq.heappop(releases)
            for a, b in held.pop(k):
                free.append([a, b])
            free.sort()
            merged: list[list[int]] = []
            for a, b in free:
                if merged and merged[-1][1] == a:
                    merged[-1][1] = b
                else:
                    merged.append([a, b])
            free = merged
        need, pieces = size[j], []
        while need > 0:
            a, b = free[0]
            take = min(need, b - a)
            pieces.append((a, a + take))
            need -= take
            if a + take == b:
                free.pop(0)
            else:
                free[0][0] = a + take
        held[j] = pieces
        heapq.heappush(releases, (last, j))
        out[j] = tuple(sorted({k for a, b in pieces for k in range(a // bank, (b - 1) // bank + 1)}))
    return out
