"""The shared argument checks: exact messages, bools rejected, NumPy integers accepted."""

from __future__ import annotations

import numpy as np
import pytest

from effdl.core.checks import int_at_least, is_int, positive_int


def test_is_int() -> None:
    assert is_int(3) and is_int(np.int64(3)) and is_int(-1)
    assert not is_int(True) and not is_int(3.0) and not is_int("3") and not is_int(None)


def test_int_at_least() -> None:
    assert int_at_least("steps", np.int32(0), 0) == 0 and type(int_at_least("steps", np.int32(5), 0)) is int
    with pytest.raises(ValueError, match=r"^steps must be an int >= 1, got 0$"):
        int_at_least("steps", 0, 1)
    with pytest.raises(TypeError, match=r"^steps must be an int >= 0, got 2\.5$"):
        int_at_least("steps", 2.5, 0)
    with pytest.raises(TypeError, match=r"^steps must be an int >= 0, got False$"):
        int_at_least("steps", False, 0)


def test_positive_int() -> None:
    assert positive_int("depth", 4) == 4
    with pytest.raises(ValueError, match=r"^depth must be a positive int \(>= 1\), got 0$"):
        positive_int("depth", 0)
    with pytest.raises(TypeError, match=r"^depth must be a positive int, got '4'$"):
        positive_int("depth", "4")
