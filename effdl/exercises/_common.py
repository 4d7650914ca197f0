"""What every checker shares: the "fill in your answer" and ✅/❌ verdict lines, the treatment of an unfinished
template (a function that still raises ``NotImplementedError`` or returns ``None``), and the strict mode in which the
solutions version of a notebook runs.

Strict mode (environment variable ``EFFDL_SOLUTIONS=1``, set by ``effdl run --solutions``): a checker that would
answer "not yet" raises :class:`ExerciseNotSolved` instead, so the notebook fails where a reference solution is wrong.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

STRICT_ENV = "EFFDL_SOLUTIONS"

F = TypeVar("F", bound=Callable[..., bool])


class ExerciseNotSolved(AssertionError):
    """A checker answered "not yet" while the notebook ran in solutions mode."""


class _Unfinished(BaseException):
    """Raised by :func:`_attempt` when the student's function is still the template. A ``BaseException`` so that the
    checkers' own ``except Exception`` (which turns a crash of the student's code into a hint) lets it through."""


def strict() -> bool:
    """Whether checkers run in solutions mode (``EFFDL_SOLUTIONS`` set to anything but ``""``/``0``)."""
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


def _missing(answer: object) -> bool:
    if answer is None or answer is Ellipsis:
        print("✏️  not yet — fill in your answer (replace None) and run the cell again")
        if strict():
            raise ExerciseNotSolved("no answer given (None) in solutions mode")
        return True
    return False


def _number(answer: object) -> float | None:
    """``answer`` as a float, or ``None`` when it is not a number (a bool is not one)."""
    if isinstance(answer, bool):
        return None
    try:
        return float(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _verdict(ok: bool, good: str, hint: str) -> bool:
    print(("✅ " + good) if ok else ("❌ not yet — " + hint))
    if not ok and strict():
        raise ExerciseNotSolved(hint)
    return ok


def _attempt(fn: Callable[..., Any], *args: Any) -> Any:
    """Call the student's ``fn``; an unfinished template (``NotImplementedError``, or ``None`` returned) stops the
    checker with "not yet" instead of a traceback from inside it."""
    try:
        out = fn(*args)
    except NotImplementedError:
        raise _Unfinished("raises NotImplementedError") from None
    if out is None:
        raise _Unfinished("returns None")
    return out


def checker(fn: F) -> F:
    """Decorator of every ``check_*``: an unfinished template answers "not yet" (or raises in strict mode)."""

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> bool:
        try:
            return fn(*args, **kwargs)
        except _Unfinished as why:
            print(f"✏️  not yet — your function still {why}: complete it and run the cell again")
            if strict():
                raise ExerciseNotSolved(f"the function still {why} in solutions mode") from None
            return False

    return wrapped  # type: ignore[return-value]
