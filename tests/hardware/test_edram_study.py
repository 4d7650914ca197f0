"""Chapter 08's co-design study (edram.codesign_study) on hand-made simulator rows."""

from __future__ import annotations

import pytest

from effdl.hardware import edram


def _row(c: int, d: int, s: int, b: int, rev: float, sram: float, refreshes: int = 0) -> dict:
    return {
        "config": f"c{c} d{d} s{s} b{b}",
        "rev_uj_per_sample": rev,
        "sram_uj_per_sample": sram,
        "rev_refreshes": refreshes,
        "energy_ratio": sram / rev,
    }


SIM = {
    (4, 1, 4, 1): _row(4, 1, 4, 1, rev=1.0, sram=3.0),
    (4, 1, 4, 2): _row(4, 1, 4, 2, rev=0.8, sram=2.0),
    (8, 1, 4, 1): _row(8, 1, 4, 1, rev=2.0, sram=5.0, refreshes=3),
    (8, 1, 4, 2): _row(8, 1, 4, 2, rev=1.5, sram=4.0, refreshes=3),
}
SCORES = {
    (4, 1, 4): {"val_accuracy": 90.0, "test_accuracy": 89.0},
    (8, 1, 4): {"val_accuracy": 95.0, "test_accuracy": 94.0},
}


def test_codesign_study_chooses_the_lowest_energy_point_meeting_the_constraint() -> None:
    st = edram.codesign_study(SIM, SCORES, baseline_arch=(8, 1, 4), baseline_accuracy=(96.0, 95.5), min_accuracy=94.0,
                              kinds={(8, 1, 4): "RevNet of section 4"})  # fmt: skip
    assert st.base_batch == 2 and st.baseline["energy_uj_per_sample"] == 4.0
    assert st.baseline["config"] == "PlainResNet c8 d1 s4 b2" and st.baseline["val_accuracy"] == 96.0
    assert st.constraint_met and st.chosen["config"] == "c8 d1 s4 b2" and st.n_meet == 2
    assert st.saving == pytest.approx(4.0 / 1.5) and st.network_factor == pytest.approx(1.0)
    assert st.saving == pytest.approx(st.network_factor * st.chosen["same_net_ratio"])
    assert st.saving_tensor_refresh > 0  # the chosen configuration re-simulated with per-tensor refresh
    assert [p["kind"] for p in st.points][:3] == ["swept RevNet, reversible + eDRAM"] * 2 + [
        "RevNet of section 4, reversible + eDRAM"
    ]
    assert [p["refresh_free"] for p in st.points] == [True, True, False, False]
    assert st.everything[-1] is st.baseline
    # the front (lowest energy, highest validation accuracy): c4 b2 (cheapest), c8 b2, and the baseline (most accurate)
    assert st.front == ["c4 d1 s4 b2", "c8 d1 s4 b2", "PlainResNet c8 d1 s4 b2"]


def test_codesign_study_reports_the_most_accurate_point_when_nothing_qualifies() -> None:
    st = edram.codesign_study(SIM, SCORES, baseline_arch=(8, 1, 4), baseline_accuracy=(99.0, 99.0), min_accuracy=97.0)
    assert not st.constraint_met and st.n_meet == 0
    assert st.chosen["config"] == "c8 d1 s4 b2"  # the most accurate, then the lowest energy


def test_codesign_study_validates_its_inputs() -> None:
    with pytest.raises(ValueError, match="sim is empty"):
        edram.codesign_study({}, SCORES, baseline_arch=(8, 1, 4), baseline_accuracy=(1, 1), min_accuracy=0)
    with pytest.raises(ValueError, match="scores has no accuracy"):
        edram.codesign_study(SIM, {}, baseline_arch=(8, 1, 4), baseline_accuracy=(1, 1), min_accuracy=0)
    with pytest.raises(ValueError, match="was not simulated"):
        edram.codesign_study(SIM, SCORES, baseline_arch=(16, 1, 4), baseline_accuracy=(1, 1), min_accuracy=0)
    with pytest.raises(TypeError, match="min_accuracy must be a number"):
        edram.codesign_study(SIM, SCORES, baseline_arch=(8, 1, 4), baseline_accuracy=(1, 1), min_accuracy=None)
