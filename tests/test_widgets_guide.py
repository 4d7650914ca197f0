"""The capstone's figures, decision-guide explorer and exercise checkers, on hand-made stages (no training)."""

import pytest

from effdl import exercises
from effdl.guide import Stage, decide, inspect, pack
from effdl.guide.pipeline import energy_uj
from effdl.viz.guide import file_breakdown, ordering_bars, pipeline_pareto
from effdl.widgets.guide import guide_explorer


def stage(steps, file_bytes, val, test, latency=1.0, energy=10.0, bits=32):
    return Stage("p", tuple(steps), file_bytes, file_bytes + 100, 1000, 1000 / file_bytes, val, test, latency, 0.02,
                 100, 50, 1000, 1000 * bits * bits, energy, bits)  # fmt: skip


STAGES = [
    stage((), 1000, 0.96, 0.95, latency=2.0, energy=20.0),
    stage(("prune 90%",), 120, 0.955, 0.95, latency=2.0, energy=8.0),
    stage(("prune 90%", "palette 4-bit"), 40, 0.945, 0.94, latency=2.0, energy=6.0),
    stage(("channels −50%",), 500, 0.93, 0.93, latency=1.0, energy=9.0),
    stage(("QAT 4-bit",), 150, 0.958, 0.957, latency=1.9, energy=3.0, bits=4),
]


def test_pipeline_pareto_draws_families_front_and_star():
    fig = pipeline_pareto(STAGES, chosen=STAGES[2])
    names = [t.name for t in fig.data]
    assert names[:4] == ["fp32", "prune", "prune → palette", "channels"]
    assert names[-3:] == ["Pareto front (validation)", "chosen", "accuracy constraint"]
    front = fig.data[-3]
    assert list(front.x) == [40, 120, 150, 1000]  # sorted by bytes; channels −50% is dominated
    assert list(fig.data[-2].x) == [40] and fig.layout.xaxis.type == "log" and list(fig.data[-1].y) == []
    assert list(pipeline_pareto(STAGES, floor=0.94).data[-1].y) == [94.0, 94.0]
    assert pipeline_pareto(STAGES, x="latency_ms").layout.xaxis.type == "linear"
    with pytest.raises(ValueError, match="x must be one of"):
        pipeline_pareto(STAGES, x="params")
    with pytest.raises(ValueError, match="empty"):
        pipeline_pareto([])


def test_file_breakdown_and_ordering_bars():
    import torch

    state = {f"w{i}": torch.randn(10 * (i + 1), 4) for i in range(10)}
    fig = file_breakdown(inspect(pack(state, codec="none")), top=3)
    assert [t.name for t in fig.data] == ["raw", "others"]
    assert list(fig.data[0].x) == [400 * 4, 360 * 4, 320 * 4] and fig.data[1].x[0] == sum(
        40 * (i + 1) * 4 for i in range(7)
    )

    from types import SimpleNamespace

    study = SimpleNamespace(sparsity=0.9, bits=4, seeds=(0, 1), prune_first=STAGES[1:3], quant_first=STAGES[3:5])
    bars = ordering_bars(study)
    assert list(bars.data[0].x) == ["prune → quantize", "quantize → prune"]
    assert bars.data[0].y[0] == pytest.approx(94.5)


def test_guide_explorer_follows_goal_and_slider():
    box = guide_explorer(STAGES, goal="disk", max_drop=0.02)
    assert "effdl-main-control" in box.slider._dom_classes
    assert box.choice().stage.label == "prune 90% → palette 4-bit" and "palette" in box.readout.value
    box.slider.value = 0.005
    assert box.choice().stage.label == "prune 90%"
    assert list(box.figure.data[-2].x) == [120] and box.figure.data[-1].y[0] == pytest.approx(95.5)
    box.goal.value = "energy"
    assert box.choice().stage.label == "QAT 4-bit" and box.figure.layout.xaxis.title.text.startswith("energy")
    box.goal.value = "latency"  # channels −50% is fastest but 3 points below: not within 0.5 points
    # 1.9 ms ± 0.02/2 against 2.0 ms ± 0.02/2: the interquartile ranges do not overlap
    assert box.choice().stage.label == "QAT 4-bit" and box.choice().clear
    with pytest.raises(ValueError, match="goal must be one of"):
        guide_explorer(STAGES, goal="speed")
    with pytest.raises(ValueError, match=r"multiple of 0\.005"):
        guide_explorer(STAGES, max_drop=0.013)


def test_decide_latency_needs_a_gain_beyond_the_iqr():
    a = decide(STAGES, max_drop=0.05, goals=("latency",))[0]
    assert a.stage.label == "channels −50%" and a.clear and a.gain == pytest.approx(2.0)
    assert "for CPU latency: channels −50% — 2.0× less than fp32" in a.text


def test_guide_checkers(capsys):
    box = guide_explorer(STAGES, goal="disk", max_drop=0.02)
    assert exercises.check_guide_choice("prune 90% → palette 4-bit", box, goal="disk", max_drop=0.02)
    assert not exercises.check_guide_choice("channels −50%", box, goal="disk", max_drop=0.02)
    assert "loses more than" in capsys.readouterr().out
    assert not exercises.check_guide_choice("prune 90%", box, goal="disk", max_drop=0.02)
    assert "another stage does better" in capsys.readouterr().out
    assert not exercises.check_guide_choice(None, box, goal="disk", max_drop=0.02)
    # packed bytes: mask 125 + palette 16 × 4 + 100 four-bit indices (50)
    assert exercises.check_packed_bytes(239, numel=1000, nnz=100, distinct=16)
    assert not exercises.check_packed_bytes(125 * 8 + 64 + 50, numel=1000, nnz=100, distinct=16)
    assert "one bit per element" in capsys.readouterr().out
    assert not exercises.check_packed_bytes(125 + 64 + 500, numel=1000, nnz=100, distinct=16)
    assert "non-zeros get an index" in capsys.readouterr().out
    with pytest.raises(ValueError):
        exercises.check_packed_bytes(1, numel=10, nnz=20, distinct=2)
    want = energy_uj({"l": 10**6}, {"l": (4, 8)}, 500)
    assert want == pytest.approx((10**6 * 0.23 * 32 / 64 + 500 * 160) / 1e6)
    assert exercises.check_energy(want, macs=10**6, w_bits=4, a_bits=8, file_bytes=500)
    assert not exercises.check_energy(want * 1e6, macs=10**6, w_bits=4, a_bits=8, file_bytes=500)
    assert "pJ" in capsys.readouterr().out
    assert not exercises.check_energy(500 * 160 / 1e6, macs=10**6, w_bits=4, a_bits=8, file_bytes=500)
    assert "arithmetic" in capsys.readouterr().out
