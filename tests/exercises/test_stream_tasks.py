"""Checkers of chapter 13 (stream learning): throughput, reservoir sampling, the power law, the budget task, FCFS."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from effdl.exercises import ExerciseNotSolved
from effdl.exercises.stream import (
    HAND_TASKS,
    check_compute_to_target,
    check_inclusion_probability,
    check_power_law_fit,
    check_reservoir,
    check_scheduled_tasks,
    check_stream_budget,
    check_throughput,
    hand_tasks,
)
from effdl.learning.stream import PowerLaw, fit_power_law


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv("EFFDL_SOLUTIONS", raising=False)


def test_check_throughput(capsys):
    assert check_throughput(0.25, 64, 16) is True
    assert "0.250" in capsys.readouterr().out
    assert check_throughput(0.4, 10, 4, policy="sample") is True
    assert check_throughput(1.0, 4, 10) is True  # more budget than arrivals: everything is used
    capsys.readouterr()
    slips = {"inverted": 4.0, "percentage": 25, "samples per unit": 16, "dropped share": 0.75, "off": 0.5}
    for hint, wrong in slips.items():
        assert check_throughput(wrong, 64, 16) is False
        assert hint in capsys.readouterr().out, hint
    assert check_throughput("a quarter", 64, 16) is False
    assert "number" in capsys.readouterr().out
    assert check_throughput(None, 64, 16) is False
    assert "not yet" in capsys.readouterr().out


def test_check_inclusion_probability(capsys):
    assert check_inclusion_probability(0.25, 5, 20) is True
    assert check_inclusion_probability(1.0, 50, 20) is True  # the buffer holds everything
    capsys.readouterr()
    slips = {"inverted": 4.0, "all B slots": 0.05, "chance to enter": 5 / 21, "[0, 1]": -0.1, "uniform sample": 0.5}
    for hint, wrong in slips.items():
        assert check_inclusion_probability(wrong, 5, 20) is False
        assert hint in capsys.readouterr().out, hint
    assert check_inclusion_probability([0.25], 5, 20) is False


def algorithm_r(stream, capacity, rng):
    buf = []
    for k, item in enumerate(stream):
        if k < capacity:
            buf.append(item)
        else:
            j = rng.integers(0, k + 1)
            if j < capacity:
                buf[j] = item
    return buf


def test_check_reservoir(capsys):
    assert check_reservoir(algorithm_r) is True
    assert "0.25" in capsys.readouterr().out

    def fixed_prob(stream, capacity, rng):  # replaces with B/n, not B/(k+1): late items too often
        buf = list(stream[:capacity])
        for item in stream[capacity:]:
            if rng.random() < capacity / len(stream):
                buf[rng.integers(capacity)] = item
        return buf

    def never_replace(stream, capacity, rng):
        return list(stream[:capacity])

    slips = {
        "last items": lambda s, c, rng: list(s[-c:]),
        "too often": fixed_prob,
        "early items": never_replace,
        "distinct": lambda s, c, rng: list(s) if len(s) <= c else [s[0]] * c,
        "fewer items than slots": lambda s, c, rng: list(s[:1]),
    }
    for hint, fn in slips.items():
        assert check_reservoir(fn) is False
        assert hint in capsys.readouterr().out, hint
    assert check_reservoir(lambda s, c, rng: 1 / 0) is False
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert check_reservoir(None) is False

    def unfinished(s, c, rng):
        raise NotImplementedError

    assert check_reservoir(unfinished) is False
    assert "NotImplementedError" in capsys.readouterr().out


def test_check_compute_to_target(capsys):
    a, b, c = 2.0, 0.5, 0.1
    assert check_compute_to_target(100.0, a, b, c, 0.3) is True  # (2 / 0.2)^2
    capsys.readouterr()
    slips = {"offset c": (a / 0.3) ** 2, "exponent": 10**0.5, "inverted": 0.01, "is off": 50.0}
    for hint, wrong in slips.items():
        assert check_compute_to_target(wrong, a, b, c, 0.3) is False
        assert hint in capsys.readouterr().out, hint
    assert check_compute_to_target(math.inf, a, b, c, 0.05) is True
    assert check_compute_to_target(1e6, a, b, c, 0.05) is False
    assert "never" in capsys.readouterr().out
    assert check_compute_to_target("lots", a, b, c, 0.3) is False


def test_check_power_law_fit(capsys):
    law = PowerLaw(2.0, 0.5, 0.3)
    s = np.geomspace(1, 200, 12)
    loss = law(s) * np.exp(0.01 * np.random.default_rng(0).standard_normal(12))
    assert check_power_law_fit((2.0, 0.5, 0.3), s, loss) is True
    ref = fit_power_law(s, loss)
    assert check_power_law_fit(ref, s, loss) is True
    capsys.readouterr()
    no_offset = np.polyfit(np.log(s), np.log(loss), 1)
    assert check_power_law_fit((math.exp(no_offset[1]), -no_offset[0], 0.0), s, loss) is False
    assert "c = 0" in capsys.readouterr().out
    assert check_power_law_fit((2.0, 0.5, 0.9), s, loss) is False
    assert "smallest loss" in capsys.readouterr().out
    assert check_power_law_fit((1.0, 0.5, 0.3), s, loss) is False
    assert "squared log error" in capsys.readouterr().out
    assert check_power_law_fit("abc", s, loss) is False


def test_check_stream_budget(capsys):
    table = {
        ("sgd", 64.0, 4.0): (0.45, 0.01, 0.0625, 800.0),
        ("sgd", 64.0, 16.0): (0.62, 0.01, 0.25, 3200.0),
        ("sgd", 64.0, 32.0): (0.70, 0.01, 0.5, 6400.0),
        ("sgd", 64.0, 64.0): (0.79, 0.01, 1.0, 12800.0),
        ("sgd", 32.0, 4.0): (0.55, 0.01, 0.125, 800.0),
    }
    explorer = SimpleNamespace(table=table)
    assert check_stream_budget(32, explorer, 0.7, 64) is True
    assert "0.700" in capsys.readouterr().out
    assert check_stream_budget(64, explorer, 0.7, 64) is False
    assert "smaller budget" in capsys.readouterr().out
    assert check_stream_budget(16, explorer, 0.7, 64) is False
    assert "more compute" in capsys.readouterr().out
    assert check_stream_budget(8, explorer, 0.7, 64) is False
    assert "slider's budgets" in capsys.readouterr().out
    assert check_stream_budget("lots", explorer, 0.7, 64) is False
    assert check_stream_budget(math.inf, explorer, 0.9, 64) is True
    assert check_stream_budget(math.inf, explorer, 0.7, 64) is False
    assert check_stream_budget(4, explorer, 0.5, 32) is True
    assert check_stream_budget(None, explorer, 0.7, 64) is False
    with pytest.raises(ValueError, match="rate must be one of"):
        check_stream_budget(4, explorer, 0.5, 10)


def test_check_scheduled_tasks(capsys):
    assert [(t.arrival, t.deadline, round(t.required, 9)) for t in hand_tasks()] == list(HAND_TASKS)
    assert check_scheduled_tasks([2]) is True
    assert check_scheduled_tasks({1, 2, 3}, "oracle") is True
    assert check_scheduled_tasks([], "proportional") is True
    capsys.readouterr()
    assert check_scheduled_tasks([1, 2, 3]) is False
    assert "deadline-aware" in capsys.readouterr().out
    assert check_scheduled_tasks([0, 2]) is False
    assert "window" in capsys.readouterr().out  # task 0 needs 6 units in 5 steps
    assert check_scheduled_tasks([2, 3]) is False
    assert "trace" in capsys.readouterr().out
    assert check_scheduled_tasks([]) is False
    assert check_scheduled_tasks([7]) is False
    assert "0..3" in capsys.readouterr().out
    assert check_scheduled_tasks(2) is False
    assert "as a list" in capsys.readouterr().out


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("EFFDL_SOLUTIONS", "1")
    with pytest.raises(ExerciseNotSolved):
        check_throughput(0.5, 64, 16)
