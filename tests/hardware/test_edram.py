"""CAMEL simulator: exact traces, hand-calculated timelines/lifetimes/spills/refreshes/energies, monotonicity,
the acceptance scenario, argument checks."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import pytest
import torch
from torch import nn

from effdl.hardware import edram
from effdl.hardware.edram import Accelerator, Block, Energy, Memory, Op, Stored, Trace
from effdl.hardware.reversible import AdditiveCoupling, PlainResNet, RevNet

# Round numbers for hand calculations: a 4×4 array at 1 MHz (1 cycle = 1 µs), 2-byte values, 4 vector lanes,
# and an energy table with a different price for every kind of access so each term is identifiable.
ACC = Accelerator(rows=4, cols=4, clock_hz=1e6, value_bytes=2)
EN = Energy(
    mac_pj=1.0,
    sram_read_pj_per_byte=2.0,
    sram_write_pj_per_byte=3.0,
    edram_read_pj_per_byte=4.0,
    edram_write_pj_per_byte=5.0,
    edram_refresh_pj_per_byte=7.0,
    dram_read_pj_per_byte=100.0,
    dram_write_pj_per_byte=200.0,
)
US = 1e-6


def timeline(res) -> list[tuple[str, str, float, float]]:
    """(op, phase, start µs, end µs), rounded so that hand-written integers compare exactly."""
    return [(p.name, p.kind, round(p.start_s / US, 9), round(p.end_s / US, 9)) for p in res.timeline]


def two_linear() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 8, bias=False), nn.Linear(8, 4, bias=False))


# ----------------------------------------------------------------------------------------------------------
# trace(): what one forward records


def test_trace_of_two_linear_layers_is_exact():
    tr = edram.trace(two_linear(), (4,), batch=8)
    fc1, fc2 = tr.ops
    # fc1 reads the batch (8×4) from DRAM and keeps it for its weight gradient; 8·4·8 MACs
    assert fc1 == Op("0", "Linear", macs=256, gemm=(8, 4, 8), input_elems=32, out_elems=64, weight_elems=32,
                     saved_input_elems=32)  # fmt: skip
    # fc2 keeps its input h (8×8), which fc1 wrote
    assert fc2 == Op("1", "Linear", macs=256, gemm=(8, 8, 4), in_elems=64, out_elems=32, weight_elems=32,
                     saved_elems=64)  # fmt: skip
    assert [(s.elems, s.producer, s.readers) for s in tr.stored] == [(64, 0, (1,))]
    assert tr.param_elems == 64 and tr.batch == 8 and tr.blocks == () and tr.macs == 512


def test_trace_matches_flop_counter_and_leaves_the_model_alone():
    model = RevNet(channels=8, depth=2, stem_stride=4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.eval()
    rng = torch.get_rng_state()
    tr = edram.trace(model, (1, 28, 28), batch=3)
    assert not model.training and torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad(), torch.utils.flop_counter.FlopCounterMode(display=False) as fc:
        model(x)
    assert tr.macs == fc.get_total_flops() // 2
    # two couplings, each with an F stage and a G stage, found through the default predicate
    assert [b.stages for b in tr.blocks] == [
        ("features.blocks.blocks.0.f", "features.blocks.blocks.0.g"),
        ("features.blocks.blocks.1.f", "features.blocks.blocks.1.g"),
    ]
    assert tr.blocks[0].output_storage == tr.blocks[1].input_storage  # chained: block 1 rebuilds block 0's output
    # ops inside F/G run under no_grad in the memory-saving forward, yet plain autograd's saved tensors are traced
    f_relu = next(op for op in tr.ops if op.name == "features.blocks.blocks.0.f.1")
    assert f_relu.saved_elems == 3 * 4 * 7 * 7  # the ReLU keeps its (N, C/2, 7, 7) output
    flatten = next(op for op in tr.ops if op.kind == "Flatten")
    assert (flatten.vector_elems, flatten.in_elems, flatten.out_elems) == (0, 0, 0)  # a view: free


def test_storage_shared_by_two_ops_is_stored_once_at_the_union_of_its_views():
    # RevNet's stem ReLU keeps its whole output x; block 0's F keeps the x2 half of it: one storage
    tr = edram.trace(RevNet(channels=8, depth=1, stem_stride=4), (1, 28, 28), batch=2)
    x = tr.blocks[0].input_storage
    records = [s for s in tr.stored if s.storage == x]
    assert sorted(s.elems for s in records) == [2 * 4 * 49, 2 * 8 * 49]
    assert tr.storage_elems[x] == 2 * 8 * 49
    res = edram.simulate(tr, schedule="standard", memory=Memory(area_bytes=1 << 20))
    assert sum(t.bytes for t in res.tensors) == 2 * sum(tr.storage_elems.values())


def test_user_predicate_marks_blocks_and_an_ordinary_block_is_one_stage():
    model = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.Linear(4, 4), nn.ReLU()), nn.Linear(4, 2))
    tr = edram.trace(model, (4,), batch=2, reversible=lambda m: m is model[1])
    assert [(op.block, op.stage) for op in tr.ops] == [(None, None), ("1", "1"), ("1", "1"), (None, None)]
    assert tr.blocks[0].stages == ("1",)


# ----------------------------------------------------------------------------------------------------------
# Hand calculations: the two-layer network, every number written out from the module doc's formulas


@pytest.mark.parametrize("kind", ["sram", "edram"])
def test_two_linear_layers_by_hand(kind):
    tr = edram.trace(two_linear(), (4,), batch=8)
    mem = Memory(kind=kind, area_bytes=200, density=2.0, retention_s=10 * US)
    res = edram.simulate(tr, schedule="standard", accelerator=ACC, memory=mem, energy=EN)

    # cycles on the 4×4 array: ceil(K/4)·ceil(N/4)·M
    #   fc1 fwd (M, K, N) = (8, 4, 8):  1·2·8 = 16
    #   fc2 fwd (8, 8, 4):              2·1·8 = 16
    #   fc2 bwd: dX (8, 4, 8) 1·2·8 = 16 + dW (M=K=8 streamed, reduce 8, N=4) 2·1·8 = 16  -> 32
    #   fc1 bwd: dX (8, 8, 4) 2·1·8 = 16 + dW (4 streamed, reduce 8, N=8) 2·2·4 = 16       -> 32
    assert timeline(res) == [
        ("0", "forward", 0, 16),
        ("1", "forward", 16, 32),
        ("1", "backward", 32, 64),
        ("0", "backward", 64, 96),
    ]
    assert res.step_time_s == pytest.approx(96 * US)
    assert res.macs == 256 + 256 + 2 * 512

    # h = fc1's output (64 values, 128 bytes): written when fc1 ends (16 µs), last read when fc2's backward ends
    (h,) = res.tensors
    assert (h.bytes, h.write_s / US, h.last_read_s / US) == (128, pytest.approx(16), pytest.approx(64))
    assert h.lifetime_s == pytest.approx(48 * US)
    if kind == "sram":  # 200 B of SRAM area hold 200 B: fits
        cap, where, refreshes, bank_refreshes, bank_bytes = 200, "onchip", 0, 0, 0
    else:  # eDRAM: 400 B, and 48 µs on chip with 10 µs retention: ceil(4.8) − 1 = 4 refreshes of h's 128 B.
        # Periodic bank refresh (the default): the 400 B are one bank (bank_bytes 32 KiB > capacity); the
        # controller ticks at 10, 20, …, 90 µs (9 ticks in the 96 µs step) and h is live (16, 64) at 20, 30, 40,
        # 50 and 60: 5 refreshes of the whole 400 B bank
        cap, where, refreshes, bank_refreshes, bank_bytes = 400, "onchip", 4, 5, 400
    assert (mem.capacity_bytes, h.where, h.refreshes) == (cap, where, refreshes)
    assert (res.refresh_model, res.refreshes, res.bank_refreshes, res.tensor_refreshes) == (
        "bank",
        bank_refreshes,
        bank_refreshes,
        refreshes,
    )
    assert (res.bank_refresh_bytes, res.tensor_refresh_bytes) == (bank_refreshes * bank_bytes, refreshes * 128)

    # bytes moved (2 per value)
    act_read = 2 * (64 + (32 + 64) + 64)  # fwd fc2 reads h; bwd fc2 reads dY and h; bwd fc1 reads dh
    act_write = 2 * (64 + 32 + 64)  # fwd h and y; bwd dh (no gradient for the batch)
    w_read, w_write = 2 * (32 + 32) * 2, 2 * (32 + 32)  # weights read in fwd and bwd, gradients written once
    dram_read = 2 * (32 + 32) + 2 * 64  # the batch (fwd + fc1's weight gradient) and the weights
    dram_write = 2 * 64  # the weight gradients
    rd, wr = (2.0, 3.0) if kind == "sram" else (4.0, 5.0)
    expected = {
        "mac": 1536 * 1.0,
        "onchip_read": act_read * rd + w_read * 2.0,
        "onchip_write": act_write * wr + w_write * 3.0,
        "refresh": bank_refreshes * bank_bytes * 7.0,
        "dram": dram_read * 100.0 + dram_write * 200.0,
    }
    assert res.energy_pj == pytest.approx(expected)
    assert res.total_pj == pytest.approx(sum(expected.values()))
    per_tensor = edram.simulate(tr, accelerator=ACC, memory=mem, energy=EN, refresh="tensor")
    assert per_tensor.energy_pj == pytest.approx({**expected, "refresh": refreshes * 128 * 7.0})
    assert (per_tensor.refreshes, per_tensor.bank_refreshes) == (refreshes, bank_refreshes)
    assert (res.dram_bytes, res.spill_bytes, res.peak_live_bytes) == (dram_read + dram_write, 0, 128)
    # no reversible block: the reversible schedule is the standard one
    rev = edram.simulate(tr, schedule="reversible", accelerator=ACC, memory=mem, energy=EN)
    assert rev.energy_pj == res.energy_pj and rev.timeline == res.timeline


def test_two_linear_layers_spill_when_the_buffer_is_too_small():
    tr = edram.trace(two_linear(), (4,), batch=8)
    mem = Memory(kind="sram", area_bytes=100)  # h is 128 B: it cannot fit and goes off-chip whole
    res = edram.simulate(tr, accelerator=ACC, memory=mem, energy=EN)
    (h,) = res.tensors
    assert (h.where, h.onchip_s, h.refreshes, res.spill_bytes, res.spilled) == ("spilled", 0.0, 0, 128, 1)
    # one DRAM write and one DRAM read of h on top of the batch and weight traffic
    assert res.energy_pj["dram"] == pytest.approx((256 + 128) * 100.0 + (128 + 128) * 200.0)
    assert res.dram_bytes == 256 + 128 + 2 * 128
    assert res.peak_live_bytes == 128 and res.peak_onchip_bytes == 0


def test_overflow_spills_the_tensor_read_furthest_in_the_future():
    # three vector ops a, b, c (4 elements = 1 cycle each); a's output is read last (its backward ends last)
    ops = tuple(Op(n, vector_elems=4, in_elems=4, out_elems=4, saved_elems=4) for n in "abc")
    stored = tuple(Stored(f"t{i}", 4, f"s{i}", i, (i,)) for i in range(3))
    tr = Trace(ops, stored)
    # timeline: fwd a [0,1] b [1,2] c [2,3]; bwd c [3,4] b [4,5] a [5,6]. t_i written at i+1, read until 6−i
    res = edram.simulate(tr, accelerator=ACC, memory=Memory(kind="sram", area_bytes=16), energy=EN)
    t0, t1, t2 = res.tensors
    assert [(round(t.write_s / US, 9), round(t.last_read_s / US, 9)) for t in res.tensors] == [(1, 6), (2, 5), (3, 4)]
    # 16 B hold two of the 8-byte tensors; when t2 arrives at 3 µs the live set overflows and t0, read last
    # (6 µs), is spilled for its whole lifetime: written to DRAM at 1 µs, read back at 6 µs
    assert (t0.where, t0.onchip_s, t1.where, t2.where) == ("spilled", 0.0, "onchip", "onchip")
    assert (t1.onchip_s / US, t2.onchip_s / US) == (pytest.approx(3), pytest.approx(1))
    assert (res.spill_bytes, res.spilled, res.peak_onchip_bytes, res.peak_live_bytes) == (8, 1, 16, 24)
    assert res.energy_pj["dram"] == pytest.approx(8 * 100.0 + 8 * 200.0)  # no batch, no weights: only the spill
    # eDRAM of 8 B area (16 B) with 1.5 µs retention: the same placement; t1 lives 3 µs, ceil(3/1.5) − 1 = 1
    # refresh; t2 lives 1 µs, none; the spilled t0 is never refreshed
    mem = Memory(kind="edram", area_bytes=8, density=2.0, retention_s=1.5 * US)
    res = edram.simulate(tr, accelerator=ACC, memory=mem, energy=EN, refresh="tensor")
    assert [t.refreshes for t in res.tensors] == [0, 1, 0]
    assert res.energy_pj["refresh"] == pytest.approx(1 * 8 * 7.0)
    # a buffer for all three: nothing spilled, and t0 (5 µs) is refreshed ceil(5/1.5) − 1 = 3 times
    res = edram.simulate(tr, accelerator=ACC, memory=replace(mem, area_bytes=12), energy=EN, refresh="tensor")
    assert res.spill_bytes == 0 and [t.refreshes for t in res.tensors] == [3, 1, 0]


# ----------------------------------------------------------------------------------------------------------
# Hand calculation: the reversible schedule on a stem, one coupling block (F, G) and a head


def toy_reversible() -> Trace:
    ops = (
        Op("stem", vector_elems=40, input_elems=40, out_elems=40, saved_input_elems=40),
        Op("f", macs=80, in_elems=20, out_elems=20, weight_elems=16, saved_elems=20, block="b", stage="b.f"),
        Op("g", macs=80, in_elems=20, out_elems=20, weight_elems=16, saved_elems=20, block="b", stage="b.g"),
        Op("head", vector_elems=40, in_elems=40, out_elems=4, saved_elems=40),
    )
    stored = (
        Stored("x2", 20, "x", producer=0, readers=(1,)),  # F's input: half of the stem's output x
        Stored("y1", 20, "y1", producer=None, readers=(2,)),  # G's input: made by the block's own addition
        Stored("y", 40, "y", producer=None, readers=(3,)),  # the head's input: the block's output
    )
    block = Block("b", 1, 2, ("b.f", "b.g"), input_storage="x", output_storage="y", out_elems=40)
    return Trace(ops, stored, (block,), param_elems=32)


def test_standard_schedule_of_the_toy_by_hand():
    mem = Memory(kind="edram", area_bytes=1 << 16, retention_s=16 * US)
    res = edram.simulate(
        toy_reversible(), schedule="standard", accelerator=ACC, memory=mem, energy=EN, refresh="tensor"
    )
    # cycles: stem/head 40 elements on 4 lanes = 10 (same in backward); f, g 80 MACs at 16/cycle = 5, backward 10
    assert timeline(res) == [
        ("stem", "forward", 0, 10),
        ("f", "forward", 10, 15),
        ("g", "forward", 15, 20),
        ("head", "forward", 20, 30),
        ("head", "backward", 30, 40),
        ("g", "backward", 40, 50),
        ("f", "backward", 50, 60),
        ("stem", "backward", 60, 70),
    ]
    # x: written when the stem ends (10), read by f's backward (60); y1 and y have no producer: written right
    # before their reader's forward (15, 20)
    got = {t.name: (round(t.write_s / US, 9), round(t.last_read_s / US, 9), t.refreshes) for t in res.tensors}
    # refreshes with 16 µs retention: ceil(50/16) − 1 = 3, ceil(35/16) − 1 = 2, ceil(20/16) − 1 = 1
    assert got == {"x2": (10, 60, 3), "y1": (15, 50, 2), "y": (20, 40, 1)}
    assert res.refreshes == 6
    # x is stored at its full size (storage_elems defaults to the largest record: 20 values = 40 B)
    assert res.energy_pj["refresh"] == pytest.approx((3 * 40 + 2 * 40 + 1 * 80) * 7.0)
    assert res.macs == 160 + 2 * 160


def test_reversible_schedule_of_the_toy_by_hand():
    mem = Memory(kind="edram", area_bytes=1 << 16, retention_s=16 * US)
    res = edram.simulate(
        toy_reversible(), schedule="reversible", accelerator=ACC, memory=mem, energy=EN, refresh="tensor"
    )
    # backward: the head; then the block, stage G first (recompute, backward) then F; then the stem, recomputed
    # from the batch in DRAM (recompute_stem=True) and backpropagated
    assert timeline(res) == [
        ("stem", "forward", 0, 10),
        ("f", "forward", 10, 15),
        ("g", "forward", 15, 20),
        ("head", "forward", 20, 30),
        ("head", "backward", 30, 40),
        ("g", "recompute", 40, 45),
        ("g", "backward", 45, 55),
        ("f", "recompute", 55, 60),
        ("f", "backward", 60, 70),
        ("stem", "recompute", 70, 80),
        ("stem", "backward", 80, 90),
    ]
    assert res.step_time_s == pytest.approx(90 * US)
    got = {t.name: (t.bytes, round(t.write_s / US, 9), round(t.last_read_s / US, 9), t.refreshes) for t in res.tensors}
    # x2 and y1 are rewritten when their stage's recompute starts (55, 40) and read until its backward ends;
    # the block's output y is held from its forward (20) to the end of the block's backward (70) — merged with
    # the head's record of the same storage — and is the only tensor that outlives 16 µs: ceil(50/16) − 1 = 3
    assert got == {"x2": (40, 55, 70, 0), "y1": (40, 40, 55, 0), "y": (80, 20, 70, 3)}
    assert res.refreshes == 3 and res.peak_live_bytes == 80 + 40

    # bytes (2 per value): forward + recompute (f, g, stem) + backward
    macs = 160 + 160 + 2 * 160
    act_read = 2 * ((20 + 20 + 40) + (20 + 20) + ((4 + 40) + (20 + 20) + (20 + 20) + 40))
    act_write = 2 * ((40 + 20 + 20 + 4) + (20 + 20 + 40) + (40 + 20 + 20))
    w_read, w_write = 2 * 16 * 6, 2 * 32
    dram_read = 2 * (40 + 40 + 40) + 2 * 32  # the batch: stem forward, stem recompute, stem backward; weights
    dram_write = 2 * 32
    expected = {
        "mac": macs * 1.0,
        "onchip_read": act_read * 4.0 + w_read * 2.0,
        "onchip_write": act_write * 5.0 + w_write * 3.0,
        "refresh": 3 * 80 * 7.0,
        "dram": dram_read * 100.0 + dram_write * 200.0,
    }
    assert res.energy_pj == pytest.approx(expected)
    assert res.macs == macs

    # without the stem's recompute its backward follows the block's directly, and nothing else changes here
    plain = edram.simulate(
        toy_reversible(),
        schedule="reversible",
        accelerator=ACC,
        memory=mem,
        energy=EN,
        recompute_stem=False,
        refresh="tensor",
    )
    assert timeline(plain)[-1] == ("stem", "backward", 70, 80)
    assert plain.energy_pj["dram"] == pytest.approx((dram_read - 80) * 100.0 + dram_write * 200.0)


def test_a_block_input_kept_by_the_stem_is_rebuilt_by_the_block():
    # the stem also keeps its own whole output x (a ReLU keeps its output); F keeps the x2 half of it
    base = toy_reversible()
    tr = replace(base, stored=(*base.stored, Stored("xs", 40, "x", producer=0, readers=(0,))))
    mem = Memory(kind="edram", area_bytes=1 << 16, retention_s=16 * US)

    def window(res, name):
        (t,) = [t for t in res.tensors if t.name == name]
        return t.bytes, round(t.write_s / US, 9), round(t.last_read_s / US, 9)

    # standard: one record for storage x, its full 40 values, from the stem's forward (10) to the stem's
    # backward (70)
    std = edram.simulate(tr, schedule="standard", accelerator=ACC, memory=mem, energy=EN)
    assert window(std, "x2") == (80, 10, 70) and len(std.tensors) == 3
    # reversible without the stem's recompute: the block rebuilds x when its backward ends (70); the stem's
    # backward reads it until 80
    rev = edram.simulate(tr, schedule="reversible", accelerator=ACC, memory=mem, energy=EN, recompute_stem=False)
    assert window(rev, "xs") == (80, 70, 80)
    # with the stem's recompute: rewritten when the stem is recomputed (70..80), read until its backward ends
    rev = edram.simulate(tr, schedule="reversible", accelerator=ACC, memory=mem, energy=EN)
    assert window(rev, "xs") == (80, 80, 90)
    assert window(rev, "x2") == (40, 55, 70)  # the F half, as before


# ----------------------------------------------------------------------------------------------------------
# Refresh, both models, by hand: per tensor (ceil(t/R) − 1 of its own bytes) and periodic bank refresh (every
# bank holding live data, all its rows, at every tick k·R of the controller; the controller is off when no
# on-chip tensor outlives R)


def nested_three() -> Trace:
    # vector ops a, b, c (4 elements = 1 cycle = 1 µs each); t_i (8 B) written at i+1 µs, last read at 6−i µs
    ops = tuple(Op(n, vector_elems=4, in_elems=4, out_elems=4, saved_elems=4) for n in "abc")
    return Trace(ops, tuple(Stored(f"t{i}", 4, f"s{i}", i, (i,)) for i in range(3)))


@pytest.mark.parametrize(
    ("retention_us", "tensor", "bank", "bank_bytes", "ticks"),
    [
        # R = 1.5 µs, step 6 µs: ticks at 1.5, 3, 4.5 (k·R < 6). Per tensor: t0 lives 5 µs → ceil(3.33) − 1 = 3,
        # t1 3 µs → ceil(2) − 1 = 1, t2 1 µs → 0: 4 refreshes of 8 B = 32 B. Banks: t0 [0, 8) and t1 [8, 16) share
        # bank 0 (16 B), t2 [16, 24) is bank 1 (the 8 B remainder). Bank 0 is live at 1.5 (t0), 3 and 4.5 (t0, t1):
        # 3 refreshes of 16 B; bank 1 holds t2 over (3, 4), no tick strictly inside: 0. Total 3 bank refreshes,
        # 48 B — fewer refreshes than per tensor, more bytes (whole banks, and t1 is caught at two ticks).
        (1.5, 4, 3, 48, 3),
        # R = 0.75 µs: ticks at 0.75, 1.5, …, 5.25 (7). Per tensor: t0 ceil(6.67) − 1 = 6, t1 ceil(4) − 1 = 3,
        # t2 ceil(1.33) − 1 = 1: 10 refreshes, 80 B. Banks: bank 0 at the 6 ticks in (1, 6) = 1.5 … 5.25, bank 1
        # at 3.75 (in t2's (3, 4)): 6 · 16 + 1 · 8 = 104 B in 7 bank refreshes.
        (0.75, 10, 7, 104, 7),
        # R = 5 µs: the longest lifetime is t0's 5 µs, not more: no tensor needs a refresh, so the controller is
        # off (refresh-free eDRAM) — although t0 is live at 5 µs, where a free-running controller would tick.
        (5.0, 0, 0, 0, 0),
    ],
)
def test_bank_and_tensor_refresh_on_nested_lifetimes_by_hand(retention_us, tensor, bank, bank_bytes, ticks):
    mem = Memory(kind="edram", area_bytes=12, density=2.0, retention_s=retention_us * US, bank_bytes=16)
    assert (mem.capacity_bytes, mem.banks) == (24, 2)
    res = edram.simulate(nested_three(), accelerator=ACC, memory=mem, energy=EN)
    assert [t.banks for t in res.tensors] == [(0,), (0,), (1,)]
    assert (res.tensor_refreshes, res.tensor_refresh_bytes) == (tensor, 8 * tensor)
    assert (res.bank_refreshes, res.bank_refresh_bytes, res.refresh_ticks) == (bank, bank_bytes, ticks)
    assert (res.refresh_model, res.refreshes) == ("bank", bank)
    assert res.energy_pj["refresh"] == pytest.approx(bank_bytes * 7.0)
    per_tensor = edram.simulate(nested_three(), accelerator=ACC, memory=mem, energy=EN, refresh="tensor")
    assert (per_tensor.refresh_model, per_tensor.refreshes) == ("tensor", tensor)
    assert per_tensor.energy_pj["refresh"] == pytest.approx(8 * tensor * 7.0)
    # only the refresh term differs between the models
    assert {k: v for k, v in per_tensor.energy_pj.items() if k != "refresh"} == {
        k: v for k, v in res.energy_pj.items() if k != "refresh"
    }
    row = res.summary()
    assert (row["tensor_refreshes"], row["bank_refreshes"]) == (tensor, bank)
    assert row["bank_refresh_uj"] == pytest.approx(bank_bytes * 7.0 * 1e-6)
    assert row["tensor_refresh_uj"] == pytest.approx(8 * tensor * 7.0 * 1e-6)


def test_bank_refresh_of_the_reversible_toy_reuses_freed_addresses():
    # The reversible toy (test above): y (80 B) lives (20, 70), y1 (40 B) (40, 55), x2 (40 B) (55, 70); step 90 µs.
    # Lowest free addresses in write order: y [0, 80); y1 [80, 120); at 55 y1 is freed before x2 is written, so
    # x2 takes [80, 120) again. With 64 B banks: y in banks 0 and 1, y1 and x2 in bank 1.
    # R = 16 µs: ticks at 16, 32, 48, 64, 80. y is live at 32, 48, 64 → banks 0 and 1 at each (6 refreshes); y1
    # at 48 and x2 at 64 fall in bank 1, already refreshed at those ticks. 6 bank refreshes · 64 B = 384 B.
    # Per tensor: only y outlives 16 µs, ceil(50/16) − 1 = 3 refreshes of 80 B = 240 B.
    mem = Memory(kind="edram", area_bytes=1 << 16, retention_s=16 * US, bank_bytes=64)
    res = edram.simulate(toy_reversible(), schedule="reversible", accelerator=ACC, memory=mem, energy=EN)
    assert {t.name: t.banks for t in res.tensors} == {"y": (0, 1), "y1": (1,), "x2": (1,)}
    assert (res.bank_refreshes, res.bank_refresh_bytes, res.refresh_ticks) == (6, 384, 5)
    assert (res.tensor_refreshes, res.tensor_refresh_bytes) == (3, 240)
    assert res.energy_pj["refresh"] == pytest.approx(384 * 7.0)
    # on SRAM nothing is refreshed and no bank is tracked
    sram = edram.simulate(toy_reversible(), schedule="reversible", accelerator=ACC, memory=replace(mem, kind="sram"))
    assert (sram.bank_refreshes, sram.tensor_refreshes, sram.energy_pj["refresh"]) == (0, 0, 0.0)
    assert all(t.banks == () for t in sram.tensors)


# ----------------------------------------------------------------------------------------------------------
# Co-design helpers


def test_codesign_energy_matches_compare_and_is_per_sample():
    row = edram.codesign_energy(4, 4, stem_stride=4, batch=2)
    rows = edram.compare(
        RevNet(channels=4, depth=4, stem_stride=4),
        (1, 28, 28),
        batch=2,
        standard=PlainResNet(channels=4, depth=4, stem_stride=4),
    )
    assert row["config"] == "c4 d4 s4 b2"
    for key, r in zip(("sram", "std_edram", "rev"), rows, strict=True):
        assert row[f"{key}_uj"] == pytest.approx(r["total_uj"])
        assert row[f"{key}_uj_per_sample"] == pytest.approx(r["total_uj"] / 2)
        assert row[f"{key}_bank_refreshes"] == r["bank_refreshes"]
    assert row["energy_ratio"] == pytest.approx(rows[0]["total_uj"] / rows[2]["total_uj"])


def test_lowest_energy_meeting_picks_the_cheapest_feasible_row():
    rows = [
        {"name": "a", "acc": 90.0, "e": 5.0},
        {"name": "b", "acc": 80.0, "e": 1.0},  # cheapest, infeasible at 85
        {"name": "c", "acc": 86.0, "e": 3.0},
        {"name": "d", "acc": 88.0, "e": 3.0},  # same energy as c, more accurate: wins the tie
    ]
    assert edram.lowest_energy_meeting(rows, min_accuracy=85.0, accuracy="acc", energy="e")["name"] == "d"
    assert edram.lowest_energy_meeting(rows, min_accuracy=80.0, accuracy="acc", energy="e")["name"] == "b"
    assert edram.lowest_energy_meeting(rows, min_accuracy=95.0, accuracy="acc", energy="e") is None
    with pytest.raises(ValueError, match="accuracy column 'val'"):
        edram.lowest_energy_meeting(rows, min_accuracy=85.0, accuracy="val", energy="e")


# ----------------------------------------------------------------------------------------------------------
# Retention, and monotonic sanity on a real RevNet


def test_retention_curve_passes_through_camel_and_halves_every_10_degrees():
    assert edram.retention_at(100) == pytest.approx(3.35e-6)
    assert edram.retention_at(90) == pytest.approx(6.7e-6)
    assert edram.retention_at(110) == pytest.approx(1.675e-6)
    assert edram.retention_at(85, halving_c=15.0) == pytest.approx(6.7e-6)
    temps = [25, 45, 65, 85, 105, 125]
    values = [edram.retention_at(t) for t in temps]
    assert all(a > b for a, b in itertools.pairwise(values))
    assert Memory().retention_s == edram.retention_at(100)


@pytest.fixture(scope="module")
def small_traces():
    model = RevNet(channels=8, depth=2, stem_stride=4)
    return {b: edram.trace(model, (1, 28, 28), batch=b) for b in (1, 2, 4, 8)}


def test_longer_retention_means_fewer_refreshes(small_traces):
    tr = small_traces[4]
    counts = [
        edram.simulate(tr, memory=Memory(retention_s=r * US)).refreshes for r in (0.5, 1, 2, 3.35, 5, 10, 100, 1e4)
    ]
    assert all(a >= b for a, b in itertools.pairwise(counts))
    assert counts[0] > counts[-2] and counts[-1] == 0


def test_bigger_buffer_means_fewer_spills(small_traces):
    tr = small_traces[8]
    spills = [
        edram.simulate(tr, memory=Memory(kind="sram", area_bytes=kb * 1024)).spill_bytes for kb in (1, 4, 8, 16, 32, 64)
    ]
    assert all(a >= b for a, b in itertools.pairwise(spills))
    assert spills[0] > 0 and spills[-1] == 0


@pytest.mark.parametrize("schedule", ["standard", "reversible"])
def test_bigger_batch_means_longer_lifetimes(small_traces, schedule):
    lives = [edram.simulate(small_traces[b], schedule=schedule).max_lifetime_s for b in (1, 2, 4, 8)]
    assert all(a < b for a, b in itertools.pairwise(lives))


def test_reversible_schedule_shortens_lifetimes_and_flattens_memory_in_depth():
    peak, life = {}, {}
    for depth in (2, 4, 8):
        tr = edram.trace(RevNet(channels=8, depth=depth, stem_stride=4), (1, 28, 28), batch=2)
        for schedule in ("standard", "reversible"):
            res = edram.simulate(tr, schedule=schedule)
            peak[schedule, depth] = res.peak_live_bytes
            life[schedule, depth] = res.max_lifetime_s
    assert peak["reversible", 2] == peak["reversible", 4] == peak["reversible", 8]
    assert peak["standard", 2] < peak["standard", 4] < peak["standard", 8]
    assert life["reversible", 2] == pytest.approx(life["reversible", 8])
    assert life["standard", 8] > 4 * life["reversible", 8]


# ----------------------------------------------------------------------------------------------------------
# The acceptance scenario: default assumptions, a reversible network and its standard counterpart


def test_acceptance_thin_deep_revnet_needs_no_refresh_and_halves_the_energy():
    # A thin, deep RevNet (96 couplings on 2+2 channels at 7×7) and the plain ResNet of the same depth, batch 4,
    # every hardware/energy assumption at its default. This is the regime where the default accelerator is
    # fast enough for each block's recompute+backward to fit in 3.35 µs while the standard network's
    # activations overflow the 128 KiB SRAM buffer; wider or shallower networks, or bigger batches, do not
    # meet both conditions with these defaults (see the issue note).
    shape, batch = (1, 28, 28), 4
    rev = edram.trace(RevNet(channels=4, depth=96, stem_stride=4), shape, batch=batch)
    std = edram.trace(PlainResNet(channels=4, depth=96, stem_stride=4), shape, batch=batch)
    rows = {r["scenario"]: r for r in edram.compare(rev, standard=std)}
    sram, edram_std, edram_rev = rows["standard + SRAM"], rows["standard + eDRAM"], rows["reversible + eDRAM"]
    assert edram_rev["refreshes"] == 0 and edram_rev["max_lifetime_us"] < 3.35
    assert edram_std["refreshes"] > 0 and edram_std["max_lifetime_us"] > 3.35
    assert sram["spill_bytes"] > 0 and edram_rev["spill_bytes"] == 0
    assert sram["total_uj"] >= 2 * edram_rev["total_uj"]
    assert sram["capacity_bytes"] * 2 == edram_rev["capacity_bytes"] == 256 * 1024


def test_compare_rows_and_lifetimes_are_tidy():
    model = RevNet(channels=8, depth=2, stem_stride=4)
    rows = edram.compare(model, (1, 28, 28), batch=2, standard=PlainResNet(channels=8, depth=2, stem_stride=4))
    assert [r["scenario"] for r in rows] == ["standard + SRAM", "standard + eDRAM", "reversible + eDRAM"]
    for r in rows:
        parts = sum(r[f"{c}_uj"] for c in edram.COMPONENTS)
        assert r["total_uj"] == pytest.approx(parts)
        assert all(isinstance(v, (int, float, str)) for v in r.values())
    assert rows[0]["refresh_uj"] == 0.0  # SRAM never refreshes
    res = edram.simulate(edram.trace(model, (1, 28, 28), batch=2), schedule="reversible")
    table = edram.lifetimes(res)
    assert len(table) == len(res.tensors)
    assert [r["write_us"] for r in table] == sorted(r["write_us"] for r in table)
    for r in table:
        assert r["retention_us"] == pytest.approx(3.35)
        assert r["exceeds_retention"] == (r["lifetime_us"] > 3.35)
        assert r["lifetime_us"] == pytest.approx(r["last_read_us"] - r["write_us"])


def test_simulate_is_deterministic_on_a_few_dozen_ops():
    # Widgets re-simulate on every slider move (about 1 ms a call on an idle core; timings are not asserted here).
    tr = edram.trace(RevNet(channels=16, depth=4), (1, 28, 28), batch=8)
    assert 25 <= len(tr.ops) <= 60
    for schedule in edram.SCHEDULES:
        first, again = edram.simulate(tr, schedule=schedule), edram.simulate(tr, schedule=schedule)
        assert first.summary() == again.summary() and first.energy_pj == again.energy_pj


# ----------------------------------------------------------------------------------------------------------
# Argument checks


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Memory(retention_s=0), ValueError, "retention_s"),
        (lambda: Memory(retention_s=-1e-6), ValueError, "retention_s"),
        (lambda: Memory(area_bytes=0), ValueError, "area_bytes"),
        (lambda: Memory(area_bytes=1.5), TypeError, "area_bytes"),
        (lambda: Memory(density=0), ValueError, "density"),
        (lambda: Memory(kind="flash"), ValueError, "kind must be one of 'sram', 'edram'"),
        (lambda: Memory(area_bytes=1, density=0.5), ValueError, "capacity"),
        (lambda: Energy(dram_read_pj_per_byte=-1), ValueError, "dram_read_pj_per_byte"),
        (lambda: Energy(mac_pj=math.nan), ValueError, "mac_pj"),
        (lambda: Accelerator(rows=0), ValueError, "rows"),
        (lambda: Accelerator(cols=-4), ValueError, "cols"),
        (lambda: Accelerator(clock_hz=0), ValueError, "clock_hz"),
        (lambda: Accelerator(value_bytes=0), ValueError, "value_bytes"),
        (lambda: edram.retention_at(100, halving_c=0), ValueError, "halving_c"),
        (lambda: edram.retention_at(math.inf), ValueError, "temperature_c"),
        (lambda: edram.retention_at(-1e6), ValueError, "temperature_c=-1000000.0 is .* halvings below reference_c"),
        (lambda: edram.retention_at(20, reference_c=math.inf), ValueError, "reference_c must be a finite number"),
        (lambda: edram.trace(two_linear(), (4,), batch=0), ValueError, "batch"),
        (lambda: edram.trace(two_linear(), (4,), batch=2.0), TypeError, "batch"),
        (lambda: edram.trace(two_linear(), (0,)), ValueError, "input_shape"),
        (lambda: edram.trace("model", (4,)), TypeError, "model"),
        (lambda: edram.simulate(toy_reversible(), schedule="checkpoint"), ValueError, "schedule must be one of"),
        (lambda: edram.simulate(toy_reversible(), memory="edram"), TypeError, "memory"),
        (lambda: edram.compare(two_linear()), ValueError, "input_shape"),
        (lambda: Trace(()), ValueError, "ops"),
        (lambda: Trace((Op("a"),), (Stored("s", 4, "s", 3, (0,)),)), ValueError, "producer"),
        (lambda: Op("a", macs=-1), ValueError, "macs"),
        (lambda: Memory(bank_bytes=0), ValueError, "bank_bytes"),
        (
            lambda: edram.simulate(toy_reversible(), refresh="row"),
            ValueError,
            "refresh must be one of 'bank', 'tensor'",
        ),
        (lambda: edram.compare(toy_reversible(), refresh="all"), ValueError, "refresh must be one of"),
        (lambda: edram.codesign_energy(4, 0), ValueError, "depth"),
        (
            lambda: edram.lowest_energy_meeting([], min_accuracy="high", accuracy="a", energy="e"),
            TypeError,
            "min_accuracy",
        ),
    ],
)
def test_bad_arguments_raise_naming_the_argument(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_coupling_as_the_whole_model_is_one_block():
    tr = edram.trace(AdditiveCoupling(nn.Linear(4, 4), nn.Linear(4, 4)), (8,), batch=2)
    assert [b.stages for b in tr.blocks] == [("AdditiveCoupling.f", "AdditiveCoupling.g")]
    res = edram.simulate(tr, schedule="reversible")
    assert [p.kind for p in res.timeline] == ["forward", "forward", "recompute", "backward", "recompute", "backward"]
