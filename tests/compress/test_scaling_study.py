"""Chapter 07's study steps (effdl.compress.scaling.study) and the headline verdict in words (viz.headline_verdict)."""

from __future__ import annotations

import copy

import pytest
import torch

from effdl import viz
from effdl.compress import scaling
from effdl.core.data import VOCAB_SIZE, CharDataset, encode
from effdl.core.models import TinyTransformer

ROWS = [
    {"name": "s", "method": "none", "label": "fp32", "sparsity": 0.0, "bits": 32, "size_bits": 1000, "val_bpc": 3.00},
    {"name": "s", "method": "quant", "label": "8-bit", "sparsity": 0.0, "bits": 8, "size_bits": 400, "val_bpc": 3.01},
    {"name": "s", "method": "quant", "label": "4-bit", "sparsity": 0.0, "bits": 4, "size_bits": 250, "val_bpc": 3.20},
    {"name": "L", "method": "none", "label": "fp32", "sparsity": 0.0, "bits": 32, "size_bits": 4000, "val_bpc": 2.50},
    {"name": "L", "method": "quant", "label": "4-bit", "sparsity": 0.0, "bits": 4, "size_bits": 600, "val_bpc": 2.60},
    {"name": "L", "method": "prune+quant", "label": "90% pruned + 4-bit", "sparsity": 0.9, "bits": 4,
     "size_bits": 300, "val_bpc": 3.50},
]  # fmt: skip
PARAMS = {"s": 10, "L": 100}


def test_headline_tests_use_the_fp32_and_the_8bit_caps() -> None:
    head, strict = scaling.headline_tests(ROWS, small="s", params=PARAMS)
    assert head == scaling.large_vs_small(ROWS, small="s", params=PARAMS)
    assert head["max_bits"] == 1000 and head["wins"] and head["large_heavy"]["size_bits"] == 600
    assert strict["max_bits"] == 400 and strict["large_heavy"]["size_bits"] == 300 and not strict["wins"]
    with pytest.raises(ValueError, match="no 8-bit quantized row"):
        scaling.headline_tests([r for r in ROWS if r["bits"] != 8], small="s", params=PARAMS)


def test_headline_verdict_says_who_wins() -> None:
    head, strict = scaling.headline_tests(ROWS, small="s", params=PARAMS)
    text = viz.headline_verdict(head, strict, view="**View**", small="s")
    assert text.startswith("**View**: the best heavily compressed larger model is **L, 4-bit**")
    assert "**2.600 bits/char** in 1 kbit" in text and "**the large compressed model wins** by 0.400" in text
    assert text.endswith("L, 90% pruned + 4-bit at 3.500 bits/char against 3.000 — s wins there.")
    none = scaling.large_vs_small(ROWS, small="s", params=PARAMS, max_bits=200)
    assert "no heavily compressed larger model fits within 0 kbit" in viz.headline_verdict(
        none, none, view="V", small="s"
    )
    with pytest.raises(ValueError, match="head must be a large_vs_small verdict"):
        viz.headline_verdict({}, strict, view="V", small="s")


def test_oneshot_by_stage_compresses_the_snapshot_and_the_final_model() -> None:
    torch.manual_seed(0)
    model = TinyTransformer(VOCAB_SIZE, width=16, depth=1, heads=2, context=8)
    early_state = copy.deepcopy(model.state_dict())
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))  # "trained further"
    windows = scaling.lm_windows(CharDataset(encode("abcabd" * 40), context=8), n=16, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    early, end = scaling.oneshot_by_stage({"m": model}, {"m": early_state}, windows, sparsity=0.5, bits=4)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the model is not modified
    assert set(early["m"]) == set(end["m"]) == {"fp32", "50% pruned", "4-bit"}
    assert early["m"]["fp32"] == end["m"]["fp32"] == 0.0
    snap = copy.deepcopy(model)
    snap.load_state_dict(early_state)
    rows = scaling.compress_curve(snap, windows, sparsities=[0.0, 0.5], bits=[4], combined=False, name="m")
    assert early["m"] == {r["label"]: r["rel_increase"] for r in rows}
    same, _ = scaling.oneshot_by_stage({"m": model}, {}, windows, sparsity=0.5, bits=4)  # no snapshot: final weights
    assert same == end
    with pytest.raises(TypeError, match="models must be a non-empty dict"):
        scaling.oneshot_by_stage({}, {}, windows)
