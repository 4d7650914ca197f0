"""effdl.widgets.lam_explorer: the λ slider over a precomputed SBS sweep updates its figure and readout in place."""

import pytest
import torch

import effdl
from effdl import widgets
from effdl.compress import sbs


@pytest.fixture(scope="module")
def sweep() -> list[sbs.SBSPoint]:
    model = effdl.build("smallcnn", None, in_shape=(1, 8, 8), num_classes=3, channels=(4, 8, 8), hidden=8, seed=0)
    x = torch.randn(8, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    out = []
    for lam, (bits, prune, val, test) in {
        0.0: (8, 0.0, 0.95, 0.94),
        1.0: (4, 0.5, 0.93, 0.91),
        5.0: (2, 0.5, 0.70, 0.72),
    }.items():
        cfg = sbs.uniform_config(model, x, bits=bits, prune=prune)
        out.append(
            sbs.SBSPoint(
                label=f"SBS λ={lam:g}",
                method="sbs",
                seed=0,
                config=cfg,
                bops=cfg.bops,
                fp32_bops=cfg.fp32_bops,
                size_bits=cfg.fp32_bits // (2 * bits),
                fp32_bits=cfg.fp32_bits,
                val_accuracy=val,
                test_accuracy=test,
                seconds=0.0,
                lam=lam,
            )
        )
    return out


def test_lam_explorer_moves_update_figure_and_readout(sweep):
    box = widgets.lam_explorer(list(reversed(sweep)))  # order does not matter: the slider sorts λ
    assert [v for _, v in box.slider.options] == [0.0, 1.0, 5.0] and box.slider.value == 1.0  # the median λ
    assert [label for label, _ in box.slider.options] == ["0", "1", "5"]
    assert box.slider.description == "λ" and not box.slider.continuous_update
    assert "effdl-main-control" in box.slider._dom_classes
    assert box.points == {p.lam: p for p in sweep}
    assert box.table[5.0] == (sweep[2].reduction, 0.70, 0.72)
    assert box.children[0] is box.slider and box.readout is box.children[1] and box.figure is box.children[2]
    assert list(box.figure.data[0].y) == [8, 4, 4, 4, 8] and list(box.figure.data[2].y)[1] == 50.0
    assert "93.00%" in box.readout.value and "91.00%" in box.readout.value
    assert "3 of 5" in box.readout.value and f"{sweep[1].reduction:.1f}×" in box.readout.value

    box.slider.value = 0.0  # uniform 8-bit, nothing pruned
    assert list(box.figure.data[0].y) == [8, 8, 8, 8, 8] and list(box.figure.data[1].y) == [8, 8, 8, 8, 8]
    assert list(box.figure.data[2].y) == [100.0] * 5
    share = [100 * c.bops / sweep[0].config.bops for c in sweep[0].config.layers.values()]
    assert list(box.figure.data[3].y) == pytest.approx(share)
    assert "95.00%" in box.readout.value and "94.00%" in box.readout.value and "0 of 5" in box.readout.value
    assert f"{sweep[0].reduction:.1f}×" in box.figure.layout.title.text

    box.slider.value = 5.0
    assert list(box.figure.data[0].y) == [8, 2, 2, 2, 8]
    assert f"{sweep[2].compression:.1f}×" in box.readout.value and "λ = <b>5</b>" in box.readout.value


def test_lam_explorer_seeds_value_and_errors(sweep):
    import dataclasses

    other_seed = [dataclasses.replace(p, seed=1, lam=p.lam + 10) for p in sweep]
    uniform = dataclasses.replace(sweep[0], method="uniform", lam=None, bits=8, prune=0.0)
    box = widgets.lam_explorer([uniform, *sweep, *other_seed], value=5.0)  # the first SBS point's seed only
    assert sorted(box.points) == [0.0, 1.0, 5.0] and box.slider.value == 5.0
    assert list(box.figure.data[0].y) == [8, 2, 2, 2, 8]
    assert widgets.lam_explorer(sweep[:2]).slider.value == 0.0  # an even count: the lower middle λ
    with pytest.raises(ValueError, match="at least one SBS point"):
        widgets.lam_explorer([uniform])
    with pytest.raises(ValueError, match="value must be one of"):
        widgets.lam_explorer(sweep, value=2.0)
