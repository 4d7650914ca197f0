import itertools
import math

import numpy as np
import pytest
import torch

from effdl import guide
from effdl.core import data, models
from effdl.core.holdout import train_val_split
from effdl.core.train import fit
from effdl.guide import pipeline as PL


@pytest.fixture(scope="module")
def digits():
    train, test = data.load("digits")
    train, val = train_val_split(train, 200, seed=0)
    return train, val, test


@pytest.fixture(scope="module")
def trained(digits):
    torch.set_num_threads(1)
    m = models.build("smallcnn", "digits", seed=0, channels=(8, 16), hidden=32)
    fit(m, digits[0], epochs=4, lr=3e-3, seed=0, progress=False)
    return m


def _run(trained, digits, steps, **kw):
    kw.setdefault("latency_repeats", 2)
    kw.setdefault("latency_batch", 4)
    return PL.run_pipeline(trained, steps, *digits, progress=False, **kw)


def test_steps_parse_and_validate():
    assert PL.parse_step("prune:0.9") == PL.Step("prune", 0.9)
    assert PL.parse_step("qat:4") == PL.Step("qat", 4)
    assert PL.parse_step("qat:4").label == "QAT 4-bit"
    for bad, match in [
        ("prune:1.5", r"prune value must be in \(0, 1\)"),
        ("qat:9", "qat value must be in 2..8"),
        ("qat:4.5", "qat value must be in 2..8"),
        ("shrink:0.5", "step kind must be one of"),
        ("prune", "kind:value"),
        ("prune:x", "must be a number"),
    ]:
        with pytest.raises(ValueError, match=match):
            PL.parse_step(bad)
    with pytest.raises(TypeError, match="a step must be a 'kind:value' string or a Step, got int"):
        PL.parse_step(5)


def test_quantization_comes_last(trained, digits):
    with pytest.raises(ValueError, match="quantize last"):
        _run(trained, digits, ["qat:4", "channels:0.5"])
    with pytest.raises(ValueError, match="palette must be the last step"):
        _run(trained, digits, ["palette:4", "prune:0.5"])


def test_prune_then_quantize_stages_are_measured_on_the_decoded_file(trained, digits):
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    stages, decoded = _run(trained, digits, ["prune:0.8", "qat:4"])
    assert all(torch.equal(before[k], v) for k, v in trained.state_dict().items())  # the model is untouched
    assert [s.steps for s in stages] == [(), ("prune 80%",), ("prune 80%", "QAT 4-bit")]
    fp32, pruned, final = stages
    # the reference is torch.save's file: the packed fp32 model saves the pickle's overhead, not the weights' bytes
    assert 4 * fp32.params <= fp32.packed_bytes <= fp32.fp32_bytes and fp32.weight_bits == 32
    assert fp32.ratio == 1 and final.ratio == fp32.file_bytes / final.file_bytes
    w = {n: m.weight for n, m in decoded[-1].named_modules() if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)}
    # the zeros of the prune step survive QAT's fine-tuning, and every weight sits on a 2**4-level grid
    total = sum(t.numel() for t in w.values())
    zeros = sum(int((t == 0).sum()) for t in w.values())
    assert zeros / total >= 0.8 - 1e-6
    assert all(torch.unique(t).numel() <= 16 for t in w.values())
    assert final.weight_bits == 4 and final.bops == pytest.approx(fp32.bops * 4 * 8 / 1024, rel=0.05)
    # 808 of 3,682 weights left: a third of the file; 4-bit indices then replace their 32-bit values (the biases,
    # BatchNorm and header of this tiny model stay)
    assert pruned.file_bytes < fp32.file_bytes / 3 and final.file_bytes < pruned.file_bytes * 0.6
    assert final.file_bytes <= final.packed_bytes
    assert final.energy_uj < fp32.energy_uj / 5
    assert final.val_acc > 0.7 and not math.isnan(final.test_acc)
    # the reported accuracy is the decoded model's
    assert guide.pack(decoded[-1], codec="none").__len__() == final.packed_bytes


def test_same_seed_same_stages(trained, digits):
    a, _ = _run(trained, digits, ["prune:0.5"])
    b, _ = _run(trained, digits, ["prune:0.5"])
    assert (a[-1].file_bytes, a[-1].val_acc, a[-1].test_acc) == (b[-1].file_bytes, b[-1].val_acc, b[-1].test_acc)


@pytest.mark.parametrize(
    "steps",
    [["channels:0.5", "ptq:8"], ["lowrank:0.9"], ["distill:0.5"], ["r2:0.01", "palette:3"], ["sbs:0.1", "prune:0.5"]],
)
def test_every_step_kind_runs_and_shrinks_or_keeps_the_file(trained, digits, steps):
    stages, _ = _run(trained, digits, steps, distill_epochs=1)
    assert len(stages) == len(steps) + 1
    if steps[0] != "r2:0.01":
        assert stages[-1].file_bytes < stages[0].file_bytes
    if steps[-1] == "palette:3":
        assert stages[-1].file_bytes < stages[0].file_bytes / 5
    if steps[0] == "sbs:0.1":  # searched bits per layer: at most 8, and the BOPs fall with them
        assert stages[1].weight_bits <= 8 and stages[1].bops <= stages[0].bops / 16
        assert stages[2].bops <= stages[1].bops and stages[2].nonzero < stages[1].nonzero


def test_energy_model():
    # 100 fp32 MACs and 1,000 bytes: 100 × 4.6 pJ + 1,000 × 160 pJ
    assert PL.energy_uj({"a": 100}, {}, 1000) == pytest.approx((460 + 160_000) / 1e6)
    # an int8 × int8 MAC costs 0.23 pJ, a 4 × 8-bit one half of that
    assert PL.energy_uj({"a": 100}, {"a": (8, 8)}, 0) == pytest.approx(23 / 1e6)
    assert PL.energy_uj({"a": 100}, {"a": (4, 8)}, 0) == pytest.approx(11.5 / 1e6)
    assert PL.energy_uj({"a": np.int64(100)}, {"a": [4, 8]}, np.int64(0)) == pytest.approx(11.5 / 1e6)
    for args, match in [
        (({"a": 100}, {}, -1), "file_bytes must be an int >= 0"),
        (({"a": 100}, {}, 1.5), "file_bytes must be an int >= 0"),
        (({"a": -3}, {}, 0), r"macs_by_module\['a'\] must be an int >= 0"),
        (({"a": 100}, {"a": (3,)}, 0), r"bits\['a'\] must be \(weight bits, activation bits\)"),
        (({"a": 100}, {"a": (0, 8)}, 0), r"bits\['a'\] must be"),
    ]:
        with pytest.raises(ValueError, match=match):
            PL.energy_uj(*args)


def test_decide_pareto_and_compress(trained, digits):
    train, val, test = digits
    result = guide.compress(
        trained, train, val, test=test, candidates=[("prune:0.8",), ("prune:0.8", "palette:3")], max_drop=0.05,
        latency_repeats=2, progress=False,
    )  # fmt: skip
    ref = result.stages[0]
    ok = [s for s in result.stages if s.val_acc >= ref.val_acc - 0.05]
    assert result.stage.file_bytes == min(s.file_bytes for s in ok)
    assert len(result.blob) == result.stage.file_bytes
    assert evaluate_acc(result.model, val) == pytest.approx(result.stage.val_acc)
    distinct = guide.distinct_stages(result.stages + result.stages[:2])
    assert distinct == guide.distinct_stages(result.stages) and len({s.steps for s in distinct}) == len(distinct)
    front = guide.pareto(result.stages)
    assert [s.file_bytes for s in front] == sorted(s.file_bytes for s in front)
    assert all(a.val_acc < b.val_acc for a, b in itertools.pairwise(front))
    advice = {a.goal: a for a in guide.decide(result.stages, max_drop=0.05)}
    assert advice["disk"].stage == result.stage and advice["disk"].gain == pytest.approx(
        ref.file_bytes / result.stage.file_bytes
    )
    assert "for bytes on disk" in advice["disk"].text
    with pytest.raises(ValueError, match="target must be one of"):
        guide.compress(trained, train, val, target="speed")
    with pytest.raises(ValueError, match="max_drop"):
        guide.decide(result.stages, max_drop=2)
    with pytest.raises(ValueError, match="unchanged model"):
        guide.decide(result.stages[1:])
    with pytest.raises(TypeError, match="stages must hold only Stage objects, got dict"):
        guide.decide([{"steps": ()}])
    with pytest.raises(TypeError, match="stages must be a list of Stage"):
        guide.pareto(5)


def test_bad_arguments_are_refused_before_any_pipeline_runs(trained, digits, monkeypatch):
    train, val, _ = digits
    monkeypatch.setattr(PL, "fit", lambda *a, **k: pytest.fail("a pipeline ran before the arguments were checked"))
    with pytest.raises(ValueError, match=r"max_drop must be a fraction in \[0, 1\), got -1"):
        guide.compress(trained, train, val, max_drop=-1, progress=False)
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module, got str"):
        guide.compress("model", train, val, progress=False)
    with pytest.raises(TypeError, match="steps must be a list of steps"):
        guide.run_pipeline(trained, "prune:0.5", train, val, progress=False)


def evaluate_acc(model, data_):
    from effdl.core.train import evaluate

    return evaluate(model, data_).accuracy


def test_ordering_study_is_paired_by_seed(trained, digits):
    study = guide.ordering_study(lambda seed: trained, *digits, sparsity=0.7, bits=4, seeds=(0, 1), latency_repeats=1)
    assert study.seeds == (0, 1) and len(study.differences) == 2
    s = study.summary()
    assert set(s) == {"prune → quantize", "quantize → prune"}
    assert all(0 <= m <= 1 for m, _ in s.values())
    assert study.prune_first[0].steps == ("prune 70%", "QAT 4-bit")
    assert study.quant_first[0].steps == ("QAT 4-bit", "prune 70%")


def test_distill_trains_the_student_for_distill_epochs(trained, digits, monkeypatch):
    calls = []
    real = PL.D.distill
    monkeypatch.setattr(PL.D, "distill", lambda *a, **k: calls.append(k["epochs"]) or real(*a, **k))
    _run(trained, digits, ["distill:0.5"], epochs=1, distill_epochs=2)
    assert calls == [2]
