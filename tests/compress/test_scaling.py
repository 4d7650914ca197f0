"""Train large, then compress: tiny transformers on tiny corpora, exact values where the math allows."""

from __future__ import annotations

import copy
import math
import re

import pytest
import torch
from torch import nn

from effdl.compress import quant, scaling
from effdl.compress.prune import magnitude_prune_
from effdl.core.data import VOCAB_SIZE, CharDataset, encode
from effdl.core.footprint import count_flops, model_bits
from effdl.core.models import TinyTransformer


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models gain nothing from intra-op threads, and pytest-xdist already runs one worker per core: two torch
    threads per worker oversubscribe the cores, and OpenMP's spinning then makes these steps ~10x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _corpus(text: str, context: int = 8) -> CharDataset:
    return CharDataset(encode(text), context=context)


@pytest.fixture(scope="module")
def abc() -> tuple[CharDataset, CharDataset]:
    """A corpus a tiny model can learn in a few dozen steps: 'abc' repeated (1.585 bits/char without context)."""
    return _corpus("abc" * 400), _corpus("abc" * 100)


def _lm(width: int = 16, depth: int = 1, context: int = 8, seed: int = 0) -> TinyTransformer:
    torch.manual_seed(seed)
    return TinyTransformer(VOCAB_SIZE, width=width, depth=depth, heads=2, context=context)


class _Uniform(nn.Module):
    """Predicts every character with the same probability: exactly log2(V) bits per character."""

    def __init__(self, vocab: int = VOCAB_SIZE) -> None:
        super().__init__()
        self.vocab = vocab
        self.bias = nn.Parameter(torch.zeros(vocab))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return torch.zeros(*idx.shape, self.vocab) + 0 * self.bias


# ----------------------------------------------------------------------------------------------- windows, bits
def test_unigram_entropy_bits_is_exact() -> None:
    assert scaling.unigram_entropy_bits(encode("aab")) == pytest.approx(-(2 / 3) * math.log2(2 / 3) + math.log2(3) / 3)
    assert scaling.unigram_entropy_bits(_corpus("abcd" * 10)) == pytest.approx(2.0)


def test_lm_windows_are_seeded_shifted_pairs() -> None:
    data = _corpus("".join(chr(97 + i % 26) for i in range(500)), context=6)
    x, y = scaling.lm_windows(data, n=20, seed=3)
    assert x.shape == y.shape == (20, 6) and x.dtype == torch.int64
    assert torch.equal(x[:, 1:], y[:, :-1])
    assert torch.equal((y - x) % 26, torch.ones_like(x))  # the next letter of the alphabet
    again = scaling.lm_windows(data, n=20, seed=3)
    assert torch.equal(x, again[0]) and torch.equal(y, again[1])
    assert not torch.equal(x, scaling.lm_windows(data, n=20, seed=4)[0])
    x4, _ = scaling.lm_windows(data.tokens, n=5, context=4, seed=0)
    assert x4.shape == (5, 4)


def test_evaluate_lm_is_in_bits_and_paired() -> None:
    data = _corpus("hello world " * 30)
    assert scaling.evaluate_lm(_Uniform(), data, batches=2, batch_size=4) == pytest.approx(math.log2(VOCAB_SIZE))
    lm = _lm()
    windows = scaling.lm_windows(data, n=8, seed=0)
    by_windows = scaling.evaluate_lm(lm, windows, batch_size=3)
    assert scaling.evaluate_lm(lm, data, batches=2, batch_size=4, seed=0) == pytest.approx(by_windows)
    x, y = windows
    nats = nn.functional.cross_entropy(lm(x).reshape(-1, VOCAB_SIZE), y.reshape(-1)).item()
    assert by_windows == pytest.approx(nats / math.log(2), rel=1e-5)
    lm.train()
    scaling.evaluate_lm(lm, windows)
    assert lm.training  # the flag is restored


# ------------------------------------------------------------------------------------------------------ training
def test_train_lm_learns_and_logs_every_axis(abc: tuple[CharDataset, CharDataset]) -> None:
    train, val = abc
    lm = _lm()
    curve = scaling.train_lm(
        lm, train, val, steps=60, batch_size=8, lr=1e-2, warmup=5, eval_every=20, eval_batches=2, progress=False
    )
    assert curve.step == [0, 20, 40, 60] and curve.steps == 60 and curve.stopped_by == "steps"
    fwd = count_flops(lm, torch.zeros(8, 8, dtype=torch.long)).flops
    assert curve.flops_per_step == 3 * fwd and curve.flops == [s * 3 * fwd for s in curve.step]
    assert curve.flops_per_step_kaplan == 6 * lm.num_params(non_embedding=True) * 8 * 8
    assert curve.tokens_per_step == 64 and curve.params == lm.num_params()
    assert curve.seconds[0] == 0.0 and curve.seconds == sorted(curve.seconds)
    assert math.isnan(curve.train_bpc[0]) and all(v > 0 for v in curve.train_bpc[1:])
    assert curve.val_bpc[0] > 5  # about log2(98) at init
    assert curve.final_bpc < 0.5 * math.log2(3)  # 'abc' is predictable from one character of context
    assert not lm.training
    rows = curve.rows()
    assert len(rows) == 4 and rows[-1]["step"] == 60 and rows[-1]["val_bpc"] == curve.final_bpc


def test_train_lm_same_seed_same_run_and_the_clock_budget(abc: tuple[CharDataset, CharDataset]) -> None:
    train, val = abc
    runs = [
        scaling.train_lm(_lm(), train, val, steps=10, batch_size=4, eval_every=5, eval_batches=1, progress=False)
        for _ in range(2)
    ]
    assert runs[0].val_bpc == runs[1].val_bpc and runs[0].train_bpc[1:] == runs[1].train_bpc[1:]
    other = scaling.train_lm(_lm(), train, val, steps=10, batch_size=4, eval_every=5, eval_batches=1, seed=1)
    assert other.val_bpc[-1] != runs[0].val_bpc[-1]
    timed = scaling.train_lm(_lm(), train, val, steps=1000, seconds=1e-9, batch_size=4, eval_batches=1)
    assert timed.stopped_by == "seconds" and timed.step == [0, 1]  # one step, then the clock says stop
    no_val = scaling.train_lm(_lm(), train, None, steps=3, batch_size=4, eval_every=2, progress=False)
    assert no_val.step == [0, 2, 3] and all(math.isnan(v) for v in no_val.val_bpc)


def test_train_lm_flops_budget_is_the_prefix_of_a_longer_run(abc: tuple[CharDataset, CharDataset]) -> None:
    """A FLOP budget stops after floor(flops / flops_per_step) steps; with the constant learning rate that run is,
    weight for weight, the first steps of a longer run (what notebook 07's equal-compute comparison relies on)."""
    train, val = abc
    kw = {"batch_size": 4, "eval_every": 5, "eval_batches": 1, "progress": False}
    fps = 3 * count_flops(_lm(), torch.zeros(4, 8, dtype=torch.long)).flops
    short_lm = _lm()
    short = scaling.train_lm(short_lm, train, val, flops=7.5 * fps, **kw)
    assert short.stopped_by == "flops" and short.step == [0, 5, 7] and short.flops[-1] == 7 * fps
    kept: dict[int, dict[str, torch.Tensor]] = {}
    long_lm = _lm()
    scaling.train_lm(
        long_lm, train, val, steps=12, callback=lambda step, m: kept.update({step: copy.deepcopy(m.state_dict())}), **kw
    )
    for key, value in short_lm.state_dict().items():
        torch.testing.assert_close(value, kept[7][key], rtol=0, atol=0)
    # Whichever budget binds first ends the run; a tie goes to the step budget.
    assert scaling.train_lm(_lm(), train, val, steps=3, flops=7.5 * fps, **kw).stopped_by == "steps"
    assert scaling.train_lm(_lm(), train, val, steps=7, flops=7.5 * fps, **kw).stopped_by == "steps"
    assert scaling.train_lm(_lm(), train, val, steps=9, flops=7.5 * fps, **kw).steps == 7
    with pytest.raises(ValueError, match="is less than one training step of this model"):
        scaling.train_lm(_lm(), train, val, flops=0.5 * fps, **kw)
    with pytest.raises(ValueError, match="give at least one budget: steps"):
        scaling.train_lm(_lm(), train, val, **kw)
    with pytest.raises(ValueError, match="flops must be None or a number > 0, got -1"):
        scaling.train_lm(_lm(), train, val, flops=-1, **kw)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"steps": 0}, ValueError, "steps must be an int >= 1, got 0"),
        ({"steps": 2.5}, TypeError, "steps must be an int >= 1, got 2.5"),
        ({"seconds": 0}, ValueError, "seconds must be None or a number > 0, got 0"),
        ({"lr": -1e-3}, ValueError, "lr must be a number > 0, got -0.001"),
        ({"batch_size": 0}, ValueError, "batch_size must be an int >= 1, got 0"),
        ({"eval_every": 0}, ValueError, "eval_every must be an int >= 1, got 0"),
        ({"grad_clip": 0}, ValueError, "grad_clip must be None or a number > 0, got 0"),
        ({"weight_decay": -1}, ValueError, "weight_decay must be a number >= 0, got -1"),
        ({"seed": -1}, ValueError, "seed must be None or an int >= 0, got -1"),
        ({"device": "tpu"}, ValueError, "device must be like 'cpu'"),
    ],
)
def test_train_lm_validates_its_arguments(abc, kwargs: dict, error: type[Exception], message: str) -> None:
    train, val = abc
    args = {"steps": 2} | kwargs
    with pytest.raises(error, match=re.escape(message)):
        scaling.train_lm(_lm(), train, val, **args)


def test_train_lm_rejects_bad_data(abc) -> None:
    train, _ = abc
    with pytest.raises(TypeError, match=r"train must be a CharDataset .* or a 1-D integer tensor"):
        scaling.train_lm(_lm(), [1, 2, 3], steps=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="context must be given when train is a tensor"):
        scaling.train_lm(_lm(), train.tokens, steps=1)
    with pytest.raises(ValueError, match="too few for one window of context=8"):
        scaling.train_lm(_lm(), _corpus("abc"), steps=1)
    with pytest.raises(TypeError, match="val given as a tuple must be"):
        scaling.train_lm(_lm(), train, (torch.zeros(2, 8),), steps=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=re.escape("model must be a torch.nn.Module")):
        scaling.train_lm("model", train, steps=1)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------- the grid
def test_scale_grid_trains_every_size_on_the_same_batches(abc) -> None:
    train, val = abc
    configs = [{"width": 8, "depth": 1, "heads": 2}, {"width": 16, "depth": 2, "name": "big", "lr": 5e-3}]
    seen: list[tuple[str, int]] = []
    grid = scaling.scale_grid(
        configs, train, val, steps=12, batch_size=4, eval_every=6, eval_batches=1, eval_batch_size=16, progress=False,
        callback=lambda name, step, model: seen.append((name, step)),
    )  # fmt: skip
    assert seen == [("w8-d1", s) for s in range(1, 13)] + [("big", s) for s in range(1, 13)]
    assert grid.names == ["w8-d1", "big"]
    small, big = grid.models["w8-d1"], grid.models["big"]
    assert isinstance(big, TinyTransformer) and (big.width, big.depth, big.heads, big.context) == (16, 2, 1, 8)
    assert small.heads == 2 and grid.configs["big"]["lr"] == 5e-3 and grid.configs["w8-d1"]["lr"] == 2e-3
    summary = {r["name"]: r for r in grid.summary()}
    assert summary["big"]["params"] == TinyTransformer.param_count_formula(VOCAB_SIZE, 16, 2, 8)
    assert summary["big"]["steps"] == 12 and summary["big"]["stopped_by"] == "steps"
    assert summary["big"]["flops_per_step"] > summary["w8-d1"]["flops_per_step"]
    assert len(grid.rows()) == 2 * 3
    # Same seed, same config: the same model (initialization and batches are seeded).
    again = scaling.scale_grid(configs[:1], train, val, steps=12, batch_size=4, eval_every=6, eval_batches=1)
    assert again.curves["w8-d1"].val_bpc != []
    for p, q in zip(again.models["w8-d1"].parameters(), small.parameters(), strict=True):
        torch.testing.assert_close(p, q)


def test_scale_grid_equal_flops_gives_larger_models_fewer_steps(abc) -> None:
    train, val = abc
    configs = [{"width": 8, "depth": 1, "heads": 2}, {"width": 16, "depth": 2, "heads": 2}]
    fps = {
        c["width"]: 3 * count_flops(_lm(c["width"], c["depth"]), torch.zeros(4, 8, dtype=torch.long)).flops
        for c in configs
    }
    budget = 12 * fps[8]
    grid = scaling.scale_grid(configs, train, val, flops=budget, batch_size=4, eval_every=6, eval_batches=1)
    summary = {r["name"]: r for r in grid.summary()}
    assert summary["w8-d1"]["steps"] == 12 and summary["w16-d2"]["steps"] == budget // fps[16] < 12
    for r in summary.values():
        assert r["stopped_by"] == "flops" and budget - r["flops_per_step"] < r["flops"] <= budget


@pytest.mark.parametrize(
    ("configs", "error", "message"),
    [
        ([], TypeError, "configs must be a non-empty list of dicts"),
        ([{"width": 16}], ValueError, "configs[0] must have 'width' and 'depth'"),
        ([{"width": 16, "depth": 1, "dropout": 0.1}], ValueError, "configs[0] must have 'width' and 'depth'"),
        ([{"width": 0, "depth": 1}], ValueError, "configs[0]['width'] must be an int >= 1, got 0"),
        ([{"width": 16, "depth": 1}] * 2, ValueError, "configs[1] repeats the name 'w16-d1'"),
        ([{"width": 18, "depth": 1, "heads": 4}], ValueError, "width must be divisible by heads"),
        ([{"width": 16, "depth": 1, "lr": 0}], ValueError, "configs[0]['lr'] must be a number > 0, got 0"),
    ],
)
def test_scale_grid_rejects_bad_configs(abc, configs, error: type[Exception], message: str) -> None:
    train, val = abc
    with pytest.raises(error, match=re.escape(message)):
        scaling.scale_grid(configs, train, val, steps=1)


# ------------------------------------------------------------------------------------------- reading the curves
def _curve(name: str, vals: list[float], flops_per_step: int = 10) -> scaling.LMCurve:
    steps = [0, 10, 20, 30][: len(vals)]
    return scaling.LMCurve(
        name=name,
        step=steps,
        seconds=[s * 0.5 for s in steps],
        flops=[s * flops_per_step for s in steps],
        train_bpc=[math.nan] * len(vals),
        val_bpc=vals,
        flops_per_step=flops_per_step,
    )


def test_to_reach_loss_at_and_the_compute_optimal_choice() -> None:
    small = _curve("small", [6.0, 4.0, 3.5, 3.2], flops_per_step=10)
    big = _curve("big", [6.0, 3.4, 3.0, 2.9], flops_per_step=40)
    assert scaling.steps_to_reach(big, small.final_bpc) == 20
    assert scaling.steps_to_reach(small, small.final_bpc) == 30
    assert scaling.steps_to_reach(small, 1.0) is None
    assert scaling.to_reach(big, 3.4, x="seconds") == 5.0 and scaling.to_reach(big, 3.4, x="flops") == 400
    assert scaling.loss_at(small, 250, x="flops") == 3.5  # the last evaluation at or before the budget
    assert scaling.loss_at(small, 301, x="flops") is None  # beyond the run
    curves = {"small": small, "big": big}
    assert scaling.best_at_budget(curves, 300, x="flops") == ("small", 3.2)  # big has only done 7 steps
    assert scaling.best_at_budget(curves, 400, x="flops") == ("big", 3.4)
    assert scaling.best_at_budget(curves, 20, x="step") == ("big", 3.0)
    assert scaling.best_at_budget(curves, 10**6) is None
    with pytest.raises(ValueError, match="x must be one of 'step', 'seconds', 'flops', got 'time'"):
        scaling.loss_at(small, 1, x="time")
    with pytest.raises(TypeError, match="curve must be an LMCurve"):
        scaling.steps_to_reach({"val_bpc": [1.0]}, 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"target must be a number \(bits/char\), got '3\.4'"):
        scaling.to_reach(big, "3.4")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"target must be a finite number \(bits/char\), got nan"):
        scaling.steps_to_reach(big, math.nan)
    with pytest.raises(ValueError, match="budget must be a number >= 0, got nan"):
        scaling.loss_at(small, math.nan)
    with pytest.raises(ValueError, match="budget must be a number >= 0, got -1"):
        scaling.best_at_budget(curves, -1)


# ---------------------------------------------------------------------------------------------------- compression
def test_compressible_layers_leave_the_tied_embedding_alone() -> None:
    lm = _lm(depth=2)
    names = scaling.compressible_layers(lm)
    assert names == [f"blocks.{i}.{n}" for i in range(2) for n in ("attn.qkv", "attn.proj", "mlp.fc", "mlp.proj")]
    assert "lm_head" not in names
    magnitude_prune_(lm, 0.5, layers=["lm_head", *names])  # a pruned tied head is still the embedding's weight
    assert scaling.compressible_layers(lm) == names
    mlp = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert scaling.compressible_layers(mlp) == ["0", "2"]


def test_compressed_model_bits_formulas() -> None:
    lm = _lm(width=8, context=4)
    names = scaling.compressible_layers(lm)
    assert scaling.compressed_model_bits(lm) == model_bits(lm)
    for bits in (8, 4):
        q = quant.quantize_weights_(_lm(width=8, context=4), bits=bits, layers=names)
        assert scaling.compressed_model_bits(q, bits=bits) == quant.quantized_model_bits(lm, bits=bits, layers=names)
    pruned = magnitude_prune_(_lm(width=8, context=4), 0.75, scope="layer", layers=names)
    weights = [dict(pruned.named_modules())[n].weight for n in names]
    n_all = sum(w.numel() for w in weights)
    nnz = sum(int(torch.count_nonzero(w)) for w in weights)
    assert nnz == sum(w.numel() - round(0.75 * w.numel()) for w in weights)
    # bitmask: one presence bit per entry + 32 bits per kept value, instead of 32 bits per entry
    expected = model_bits(lm) - 32 * n_all + n_all + 32 * nnz
    assert scaling.compressed_model_bits(pruned, storage="bitmask") == expected
    rows = sum(w.shape[0] for w in weights)
    expected_q = model_bits(lm) - 32 * n_all + n_all + 4 * nnz + 32 * rows  # 4-bit values and one scale per row
    assert scaling.compressed_model_bits(pruned, storage="bitmask", bits=4) == expected_q
    with pytest.raises(ValueError, match="storage must be one of 'dense', 'bitmask', 'csr', got 'coo'"):
        scaling.compressed_model_bits(lm, storage="coo")
    with pytest.raises(ValueError, match=r"bits must be None .* or an int in 1\.\.16, got 0"):
        scaling.compressed_model_bits(lm, bits=0)
    with pytest.raises(ValueError, match=re.escape("layers must name nn.Linear layers")):
        scaling.compressed_model_bits(lm, layers=["ln_f"])


def test_compress_curve_rows(abc) -> None:
    train, val = abc
    lm = _lm()
    scaling.train_lm(lm, train, steps=30, batch_size=8, lr=1e-2, progress=False)
    before = {k: v.clone() for k, v in lm.state_dict().items()}
    rows = scaling.compress_curve(lm, val, eval_batches=1, eval_batch_size=16, name="tiny", progress=False)
    assert [r["method"] for r in rows] == ["none"] + ["prune"] * 3 + ["quant"] * 3 + ["prune+quant"] * 9
    assert rows[0]["label"] == "fp32" and rows[0]["rel_increase"] == 0.0 and rows[0]["ratio"] == 1.0
    assert rows[0]["size_bits"] == model_bits(lm) and all(r["name"] == "tiny" for r in rows)
    by_label = {r["label"]: r for r in rows}
    assert by_label["90% pruned + 4-bit"]["sparsity"] == 0.9 and by_label["90% pruned + 4-bit"]["bits"] == 4
    assert abs(by_label["8-bit"]["val_bpc"] - rows[0]["val_bpc"]) < 0.05  # 8 bits: almost no change
    prune_sizes = [by_label[f"{p}% pruned"]["size_bits"] for p in (50, 70, 90)]
    assert rows[0]["size_bits"] > prune_sizes[0] > prune_sizes[1] > prune_sizes[2]
    quant_sizes = [by_label[f"{b}-bit"]["size_bits"] for b in (8, 6, 4)]
    assert quant_sizes == sorted(quant_sizes, reverse=True)
    for r in rows:
        assert r["ratio"] == pytest.approx(rows[0]["size_bits"] / r["size_bits"])
        assert r["rel_increase"] == pytest.approx(r["val_bpc"] / rows[0]["val_bpc"] - 1)
    for k, v in lm.state_dict().items():  # the model itself is never modified
        assert torch.equal(v, before[k])
    few = scaling.compress_curve(lm, val, sparsities=(0.5,), bits=(4,), combined=[(0.5, 4)], eval_batches=1)
    assert [r["label"] for r in few] == ["fp32", "50% pruned", "4-bit", "50% pruned + 4-bit"]
    with pytest.raises(ValueError, match=r"sparsities entries must be numbers in \[0, 1\), got 1.0"):
        scaling.compress_curve(lm, val, sparsities=(1.0,))
    with pytest.raises(ValueError, match=re.escape("bits entries must be ints in 1..16, got 0")):
        scaling.compress_curve(lm, val, bits=(0,))
    with pytest.raises(ValueError, match="combined\\[0\\] sparsity must be > 0"):
        scaling.compress_curve(lm, val, combined=[(0.0, 4)])
    with pytest.raises(ValueError, match="scope must be 'global' or 'layer', got 'row'"):
        scaling.compress_curve(lm, val, scope="row")


def test_compress_curve_prune_then_finetune(abc) -> None:
    """finetune_steps: every row, the dense reference included, trains the same extra steps on the same batches."""
    train, val = abc
    lm = _lm()
    scaling.train_lm(lm, train, steps=30, batch_size=8, lr=1e-2, progress=False)
    before = {k: v.clone() for k, v in lm.state_dict().items()}
    kw = {"sparsities": (0.7,), "bits": (4,), "combined": [(0.7, 4)], "eval_batches": 1, "eval_batch_size": 16}
    one_shot = scaling.compress_curve(lm, val, **kw, progress=False)
    tuned = scaling.compress_curve(lm, val, **kw, finetune_steps=15, train=train, finetune_lr=1e-2, progress=False)
    assert [r["label"] for r in tuned] == ["fp32", "70% pruned", "4-bit", "70% pruned + 4-bit"]
    assert {r["finetune_steps"] for r in one_shot} == {0} and {r["finetune_steps"] for r in tuned} == {15}
    # The dense reference is the model trained 15 more steps, exactly as train_lm does it on its own.
    ref = copy.deepcopy(lm)
    scaling.train_lm(ref, train, steps=15, batch_size=32, lr=1e-2, warmup=0, weight_decay=0.0, progress=False)
    assert tuned[0]["val_bpc"] == pytest.approx(scaling.evaluate_lm(ref, val, batches=1, batch_size=16), abs=1e-6)
    # Fine-tuning recovers part of what one-shot pruning lost; the zeros stay zeros, so the pruned size is unchanged
    # (quantizing may round a few more weights to zero, so the pruned + 4-bit size can only shrink).
    assert tuned[1]["val_bpc"] < one_shot[1]["val_bpc"]
    assert tuned[1]["size_bits"] == one_shot[1]["size_bits"] and tuned[3]["size_bits"] <= tuned[1]["size_bits"]
    for k, v in lm.state_dict().items():  # the model itself is never modified
        assert torch.equal(v, before[k])
    # a combined pair may use a sparsity the prune-only rows do not: it gets its own fine-tuned start
    pair_only = scaling.compress_curve(
        lm, val, sparsities=(0.5,), bits=(4,), combined=[(0.8, 4)], finetune_steps=3, train=train, eval_batches=1
    )
    assert [r["label"] for r in pair_only] == ["fp32", "50% pruned", "4-bit", "80% pruned + 4-bit"]
    with pytest.raises(ValueError, match="finetune_steps > 0 needs the training data"):
        scaling.compress_curve(lm, val, finetune_steps=5)
    with pytest.raises(ValueError, match="finetune_steps must be"):
        scaling.compress_curve(lm, val, finetune_steps=-1, train=train)


# ------------------------------------------------------------------------------------------ frontier and headline
ROWS = [
    # the small model: fp32, lightly and heavily compressed
    {"name": "s", "method": "none", "sparsity": 0.0, "bits": 32, "size_bits": 1000, "val_bpc": 3.00},
    {"name": "s", "method": "quant", "sparsity": 0.0, "bits": 8, "size_bits": 400, "val_bpc": 3.01},
    {"name": "s", "method": "quant", "sparsity": 0.0, "bits": 4, "size_bits": 250, "val_bpc": 3.20},
    # a large model: too big uncompressed, good when heavily compressed
    {"name": "L", "method": "none", "sparsity": 0.0, "bits": 32, "size_bits": 4000, "val_bpc": 2.50},
    {"name": "L", "method": "quant", "sparsity": 0.0, "bits": 8, "size_bits": 1100, "val_bpc": 2.50},
    {"name": "L", "method": "quant", "sparsity": 0.0, "bits": 4, "size_bits": 600, "val_bpc": 2.60},
    {"name": "L", "method": "prune+quant", "sparsity": 0.9, "bits": 4, "size_bits": 300, "val_bpc": 3.50},
]


def test_size_loss_frontier_and_best_under() -> None:
    front = scaling.size_loss_frontier(ROWS)
    assert [(r["name"], r["size_bits"]) for r in front] == [("s", 250), ("s", 400), ("L", 600), ("L", 1100)]
    assert scaling.best_under(ROWS, 500)["size_bits"] == 400
    assert scaling.best_under(ROWS)["val_bpc"] == 2.50 and scaling.best_under(ROWS)["size_bits"] == 1100  # tie: smaller
    assert scaling.best_under(ROWS, 100) is None
    assert scaling.best_under(ROWS, where=lambda r: r["name"] == "s")["size_bits"] == 1000
    with pytest.raises(ValueError, match=r"rows\[0\] must be a dict with"):
        scaling.size_loss_frontier([{"size_bits": 1}])


def test_large_vs_small() -> None:
    out = scaling.large_vs_small(ROWS, small="s", params={"s": 10, "L": 100})
    assert out["max_bits"] == 1000  # the small model's fp32 size
    assert out["small_light"]["size_bits"] == 1000 and out["large_heavy"]["size_bits"] == 600
    assert out["wins"] and out["margin_bpc"] == pytest.approx(0.40)
    tight = scaling.large_vs_small(ROWS, small="s", params={"s": 10, "L": 100}, max_bits=400)
    assert tight["large_heavy"]["size_bits"] == 300 and not tight["wins"]
    none = scaling.large_vs_small(ROWS, small="s", params={"s": 10, "L": 100}, max_bits=200)
    assert none["large_heavy"] is None and not none["wins"] and math.isnan(none["margin_bpc"])
    same = scaling.large_vs_small(ROWS, small="L", params={"s": 10, "L": 100})
    assert same["large_heavy"] is None  # nothing is larger than L
    with pytest.raises(ValueError, match="params must be a dict of model name"):
        scaling.large_vs_small(ROWS, small="x", params={"s": 10})


def test_train_lm_keeps_pruning_masks(abc) -> None:
    """Prune, then retrain (exercise 4 of notebook 07): the pruned weights stay zero while the rest trains."""
    train, val = abc
    lm = _lm()
    names = scaling.compressible_layers(lm)
    magnitude_prune_(lm, 0.5, scope="layer", layers=names)
    zeros = {n: dict(lm.named_modules())[n].weight_mask == 0 for n in names}
    before = scaling.evaluate_lm(lm, val, batches=1, batch_size=16)
    scaling.train_lm(lm, train, steps=20, batch_size=8, lr=1e-2, progress=False)
    for n in names:
        w = dict(lm.named_modules())[n].weight
        assert torch.all(w[zeros[n]] == 0) and torch.count_nonzero(w) == (~zeros[n]).sum()
    assert scaling.evaluate_lm(lm, val, batches=1, batch_size=16) < before


def test_relative_increase_and_compare_robustness() -> None:
    rows = [
        {"name": n, "sparsity": sp, "bits": b, "rel_increase": v}
        for n, vals in {"s": (0.0, 0.10, 0.30, 0.02), "L": (0.0, 0.05, 0.40, 0.01)}.items()
        for (sp, b), v in zip([(0.0, 32), (0.5, 32), (0.9, 32), (0.0, 4)], vals, strict=True)
    ]
    assert scaling.relative_increase(rows, "L", sparsity=0.9) == 0.40
    assert scaling.relative_increase(rows, "s", bits=4) == 0.02
    out = scaling.compare_robustness(rows, small="s", large="L", sparsities=[0.5, 0.9], bits=[4])
    assert [r["level"] for r in out] == ["50% pruned", "90% pruned", "4-bit"]
    assert [r["large_more_robust"] for r in out] == [True, False, True]
    assert out[1]["gap"] == pytest.approx(-0.10) and out[0]["small"] == 0.10 and out[0]["large"] == 0.05
    with pytest.raises(ValueError, match=re.escape("no row for name='L', sparsity=0.7, bits=32")):
        scaling.relative_increase(rows, "L", sparsity=0.7)
