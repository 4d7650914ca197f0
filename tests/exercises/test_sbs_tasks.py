"""Checkers of chapter 06 (SBS): BOPs of one layer, the single path, the BOPs ceiling, the λ slider's task."""

import dataclasses
from types import SimpleNamespace

import pytest
import torch

import effdl
from effdl import exercises
from effdl.compress import sbs
from effdl.exercises import ExerciseNotSolved


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv("EFFDL_SOLUTIONS", raising=False)


@pytest.fixture(scope="module")
def config() -> sbs.SBSConfig:
    model = effdl.build("smallcnn", None, in_shape=(1, 8, 8), num_classes=3, channels=(4, 8, 8), hidden=8, seed=0)
    return sbs.uniform_config(model, torch.randn(8, 1, 8, 8), bits=4, prune=0.5)


def test_check_bops_right_slips_and_none(capsys):
    assert exercises.check_bops(5_419_008) is True
    assert "✅" in capsys.readouterr().out
    assert exercises.check_bops(5_419_008.3) is True
    capsys.readouterr()
    slips = {
        7 * 7 * 64 * 32 * 9 * 4 * 2: "pruned to 24",
        7 * 7 * 64 * 24 * 9 * 32 * 32: "fp32",
        7 * 7 * 64 * 24 * 9 * (4 + 2): "multiply the bit-widths",
        7 * 7 * 64 * 24 * 4 * 2: "3×3 kernel",
        7 * 7 * 64 * 24 * 9: "those are the MACs",
        1234: "count the MACs",
    }
    for answer, hint in slips.items():
        assert exercises.check_bops(answer) is False
        out = capsys.readouterr().out
        assert "not yet" in out and hint in out, (answer, out)
    assert exercises.check_bops(None) is False
    assert "not yet" in capsys.readouterr().out
    assert exercises.check_bops("many") is False
    assert "give a number" in capsys.readouterr().out


def _literal(z, candidates):
    """The formula as written: ε_bj = D(z − z_b(j−1), 1/(2^bj − 1)), round half up."""
    s = 1 / (2 ** candidates[0] - 1)
    parts = [s * torch.floor(z / s + 0.5)]
    zq = parts[0]
    for b in candidates[1:]:
        s = 1 / (2**b - 1)
        parts.append(s * torch.floor((z - zq) / s + 0.5))
        zq = zq + parts[-1]
    return parts


def test_check_decompose_reference_passes_broken_variants_get_hints(capsys):
    assert exercises.check_decompose(sbs.decompose) is True
    assert "✅" in capsys.readouterr().out
    assert exercises.check_decompose(_literal) is True
    capsys.readouterr()

    def from_z(z, c):  # every residual from z itself
        return [sbs.discretize(z, sbs.step_size(b)) for b in c]

    def wrong_step(z, c):  # ε_bj with the previous bit-width's step
        parts = [sbs.discretize(z, sbs.step_size(c[0]))]
        for prev in c[:-1]:
            parts.append(sbs.discretize(z - sum(parts), sbs.step_size(prev)))
        return parts

    def too_few(z, c):
        return sbs.decompose(z, c)[:-1]

    def crashes(z, c):
        raise RuntimeError("shape mismatch\nlong traceback text")

    def unfinished(z, c):
        raise NotImplementedError

    cases = {
        from_z: "not from z itself",
        wrong_step: "uses the step of 2 bits",
        too_few: "one part per candidate",
        crashes: "raised RuntimeError: shape mismatch (trial 1",
        unfinished: "still raises NotImplementedError",
        (lambda z, c: None): "still returns None",
        (lambda z, c: [p + 0.01 for p in sbs.decompose(z, c)]): "differs from the reference",
    }
    for fn, hint in cases.items():
        assert exercises.check_decompose(fn) is False
        out = capsys.readouterr().out
        assert "not yet" in out and hint in out, out
        assert "long traceback" not in out
    assert exercises.check_decompose(None) is False
    assert "not yet" in capsys.readouterr().out


def test_check_bops_ceiling(config, capsys):
    fixed = sum(c.bops for c in config.layers.values() if c.fixed)
    assert config.bops == sum(c.bops for c in config.layers.values())  # smallcnn: nothing outside its layers
    want = config.fp32_bops / fixed
    assert exercises.check_bops_ceiling(want, config) is True
    assert "✅" in capsys.readouterr().out
    assert exercises.check_bops_ceiling(want * 1.005, config) is True  # within 1%
    capsys.readouterr()
    assert exercises.check_bops_ceiling(config.reduction, config) is False
    assert "this configuration's own reduction" in capsys.readouterr().out
    assert exercises.check_bops_ceiling(fixed, config) is False
    assert "those are BOPs" in capsys.readouterr().out
    assert exercises.check_bops_ceiling(want * 1.1, config) is False
    assert "is not right" in capsys.readouterr().out
    assert exercises.check_bops_ceiling(None, config) is False
    assert "not yet" in capsys.readouterr().out

    # 20,000 BOPs outside the configured layers (pooling at 32 × 32 bits): they belong in the floor
    rest = dataclasses.replace(config, bops=config.bops + 20_000)
    assert exercises.check_bops_ceiling(config.fp32_bops / (fixed + 20_000), rest) is True
    capsys.readouterr()
    assert exercises.check_bops_ceiling(config.fp32_bops / fixed, rest) is False
    assert "fixed layers alone" in capsys.readouterr().out


def _explorer(config) -> SimpleNamespace:
    base = dict(method="sbs", seed=0, config=config, fp32_bops=1000, size_bits=10, fp32_bits=320, seconds=0.0)
    rows = {  # λ: (BOPs, validation, test)
        0.0: (400, 0.96, 0.95),
        1.0: (200, 0.955, 0.93),
        2.0: (100, 0.951, 0.90),  # the answer for fp32 validation 0.96: fewest BOPs within one point
        4.0: (50, 0.93, 0.95),  # the choice by test accuracy (would be outside on validation)
        8.0: (20, 0.80, 0.80),
    }
    pts = {
        lam: sbs.SBSPoint(label=f"SBS λ={lam:g}", bops=b, val_accuracy=v, test_accuracy=t, lam=lam, **base)
        for lam, (b, v, t) in rows.items()
    }
    return SimpleNamespace(points=pts)


def test_check_sbs_lambda_right_wrong_none(config, capsys):
    ex = _explorer(config)
    assert exercises.check_sbs_lambda(2.0, ex, 0.96) is True
    assert "✅" in capsys.readouterr().out
    assert exercises.check_sbs_lambda(2, ex, 0.96) is True
    capsys.readouterr()
    hints = {
        4.0: "choice by test accuracy",
        0.0: "most accurate",
        8.0: "below the limit 95.00%",
        1.0: "another λ that does has fewer BOPs",
        3.0: "give one of the slider's λ",
        "none": "at least one λ keeps",
    }
    for answer, hint in hints.items():
        assert exercises.check_sbs_lambda(answer, ex, 0.96) is False
        out = capsys.readouterr().out
        assert "not yet" in out and hint in out, (answer, out)
    assert exercises.check_sbs_lambda(None, ex, 0.96) is False
    assert "fill in your answer" in capsys.readouterr().out
    # a wider allowance moves the answer
    assert exercises.check_sbs_lambda(4.0, ex, 0.96, max_drop=0.05) is True
    capsys.readouterr()
    # nothing within one point of an fp32 control at 99%: "none" is right, and _missing does not fire on it
    assert exercises.check_sbs_lambda(" None ", ex, 0.99) is True
    assert "✅" in capsys.readouterr().out
    assert exercises.check_sbs_lambda(0.0, ex, 0.99) is False
    capsys.readouterr()


def test_the_truth_is_most_compressed_within_on_the_real_widget(config):
    from effdl import widgets

    ex = _explorer(config)
    box = widgets.lam_explorer(list(ex.points.values()))
    want = sbs.most_compressed_within(list(box.points.values()), 0.96, 0.01)
    assert want.lam == 2.0 and exercises.check_sbs_lambda(want.lam, box, 0.96) is True


def test_strict_mode_raises(monkeypatch, config):
    monkeypatch.setenv("EFFDL_SOLUTIONS", "1")
    assert exercises.check_bops(5_419_008) is True
    with pytest.raises(ExerciseNotSolved):
        exercises.check_bops(7 * 7 * 64 * 32 * 9 * 4 * 2)
    with pytest.raises(ExerciseNotSolved):
        exercises.check_bops(None)
    with pytest.raises(ExerciseNotSolved):
        exercises.check_decompose(lambda z, c: [sbs.discretize(z, sbs.step_size(b)) for b in c])
    with pytest.raises(ExerciseNotSolved):
        exercises.check_bops_ceiling(config.reduction, config)
    with pytest.raises(ExerciseNotSolved):
        exercises.check_sbs_lambda(0.0, _explorer(config), 0.96)
    assert exercises.check_sbs_lambda(2.0, _explorer(config), 0.96) is True


def test_checkers_are_exported_and_documented():
    from effdl.exercises import sbs as mod

    for name in ("check_bops", "check_decompose", "check_bops_ceiling", "check_sbs_lambda"):
        assert name in mod.__all__ and name in exercises.__all__
        assert "Exercise" in getattr(mod, name).__doc__ or "Try it" in getattr(mod, name).__doc__
