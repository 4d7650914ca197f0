"""Chapter 08's new checker: the first temperature at which the reversible schedule refreshes (edram explorer)."""

from __future__ import annotations

import math
import types

import pytest

from effdl import exercises
from effdl.exercises import ExerciseNotSolved


def _rows(std: int, rev: int) -> list[dict]:
    return [
        {"scenario": "standard + SRAM", "refreshes": 0},
        {"scenario": "standard + eDRAM", "refreshes": std},
        {"scenario": "reversible + eDRAM", "refreshes": rev},
    ]


START = (128, 4, 16)
# standard refreshes from 60 °C on, reversible from 110 °C on; another setting (a smaller array) from 90 °C
RESULTS = {(float(t), *START): (_rows(int(t >= 60), int(t >= 110)), {}, 1.0) for t in range(0, 151, 5)}
RESULTS[(90.0, 128, 4, 8)] = (_rows(1, 1), {}, 1.0)
EXPLORER = types.SimpleNamespace(results=RESULTS, start=START)  # what widgets.edram_explorer exposes


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.delenv("EFFDL_SOLUTIONS", raising=False)


def test_first_refresh_temperature(capsys) -> None:
    assert exercises.check_first_refresh_temperature(110, EXPLORER)
    assert "✅ 110 °C" in capsys.readouterr().out
    assert not exercises.check_first_refresh_temperature(60, EXPLORER)
    assert "standard schedule" in capsys.readouterr().out
    assert not exercises.check_first_refresh_temperature(105, EXPLORER)
    assert "still needs no refresh" in capsys.readouterr().out
    assert not exercises.check_first_refresh_temperature(130, EXPLORER)
    assert "lower temperature" in capsys.readouterr().out
    assert not exercises.check_first_refresh_temperature(None, EXPLORER)
    assert "not yet" in capsys.readouterr().out


def test_never_refreshing_wants_inf(capsys) -> None:
    cool = types.SimpleNamespace(results={(float(t), *START): (_rows(0, 0), {}, 1.0) for t in (0, 5)}, start=START)
    assert exercises.check_first_refresh_temperature(math.inf, cool)
    assert not exercises.check_first_refresh_temperature(5, cool)
    assert "answer math.inf" in capsys.readouterr().out


def test_strict_mode_and_bad_explorer(monkeypatch) -> None:
    monkeypatch.setenv("EFFDL_SOLUTIONS", "1")
    with pytest.raises(ExerciseNotSolved):
        exercises.check_first_refresh_temperature(105, EXPLORER)
    with pytest.raises(TypeError, match="edram_explorer"):
        exercises.check_first_refresh_temperature(1, {"results": RESULTS})
