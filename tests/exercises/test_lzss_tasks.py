"""LZSS checkers (chapter 09): the explorer's "Try it" (smallest chunk within 1% of the best ratio) on fake explorer
data and on the real widget, and the blob-size and decode exercises."""

from types import SimpleNamespace

import numpy as np
import pytest

from effdl import exercises, widgets


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv("EFFDL_SOLUTIONS", raising=False)


def _explorer() -> SimpleNamespace:
    ratios = {256: 1.50, 512: 1.70, 1024: 1.78, 2048: 1.795, 4096: 1.80, 8192: 1.805}
    calls = []

    def ratio(w, c, s):
        calls.append((w, c, s))
        return ratios[c] if (w, s) == (128, 2) else 9.9  # another W or S must not count

    return SimpleNamespace(start=(128, 2048, 2), chunks=list(ratios), ratio=ratio, calls=calls)


def test_smallest_chunk_right_wrong_and_none(capsys):
    ex = _explorer()
    assert exercises.check_lzss_smallest_chunk(2048, ex) is True  # 1.795 ≥ 0.99 × 1.805; 1024's 1.78 is not
    assert "✅" in capsys.readouterr().out
    assert all((w, s) == (128, 2) for w, _, s in ex.calls)
    assert exercises.check_lzss_smallest_chunk(1024, ex) is False
    assert "move C up" in capsys.readouterr().out
    assert exercises.check_lzss_smallest_chunk(8192, ex) is False
    assert "the smallest, not the best" in capsys.readouterr().out
    assert exercises.check_lzss_smallest_chunk(3000, ex) is False
    assert "one of the slider's values" in capsys.readouterr().out
    assert exercises.check_lzss_smallest_chunk(None, ex) is False
    assert "not yet" in capsys.readouterr().out


def test_smallest_chunk_strict_mode_raises_on_a_wrong_answer(monkeypatch):
    monkeypatch.setenv("EFFDL_SOLUTIONS", "1")
    with pytest.raises(exercises.ExerciseNotSolved):
        exercises.check_lzss_smallest_chunk(1024, _explorer())


def test_smallest_chunk_on_the_real_widget(capsys):
    rng = np.random.default_rng(0)
    codes = (32768 + np.repeat(rng.integers(-3, 4, 3000), rng.integers(1, 6, 3000))).astype(np.uint16)
    box = widgets.lzss_explorer(codes, window=32, chunk=1024, symbol_size=2, chunks=(256, 1024, 4096))
    assert box.start == (32, 1024, 2) and box.chunks == [256, 1024, 4096]
    assert (32, 1024, 2) in box.results  # the starting setting, compressed at start-up
    best = max(box.ratio(32, c, 2) for c in box.chunks)
    truth = min(c for c in box.chunks if box.ratio(32, c, 2) >= 0.99 * best)
    assert exercises.check_lzss_smallest_chunk(truth, box) is True
    box.slider.value = 64  # a move is recorded too
    assert (64, 1024, 2) in box.results


def test_blob_size_and_decode(capsys):
    from effdl.hardware import lzss

    blob = lzss.compress(exercises.lzss_exercise_input(), symbol_size=2, window=64, chunk=512)
    assert exercises.check_lzss_blob_size(len(blob)) is True
    assert exercises.check_lzss_blob_size(len(blob) - 4) is False
    assert "CRC32" in capsys.readouterr().out
    assert exercises.check_lzss_decode("abababacabac") is True
    assert exercises.check_lzss_decode("abababacabab") is False
    assert "not yet" in capsys.readouterr().out
    assert exercises.check_lzss_decode(None) is False
