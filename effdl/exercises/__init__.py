"""Checkers for the notebooks' exercises and "Try it" tasks, one module per topic: call one with your answer (or your
function) and it tells you whether it is right, with a hint when it is not. Each returns ``True``/``False`` so a
notebook cell can also assert on it; an unfinished template answers "not yet". With ``EFFDL_SOLUTIONS=1``
(``effdl run --solutions``) a "not yet" raises :class:`ExerciseNotSolved`, so the solutions version of a notebook fails
where a reference solution is wrong.

A new checker goes into its topic's module and that module's ``__all__``; this package re-exports every module's
``__all__`` (``from effdl import exercises; exercises.check_...``).
"""

from effdl.exercises import (
    core,
    distill,
    edram,
    flad,
    guide,
    lowrank,
    lrsm,
    lzss,
    prune,
    quant,
    range_reg,
    sbs,
    scaling,
    smoothing,
    stream,
)
from effdl.exercises._common import STRICT_ENV, ExerciseNotSolved, checker, strict
from effdl.exercises.core import *  # noqa: F403
from effdl.exercises.distill import *  # noqa: F403
from effdl.exercises.edram import *  # noqa: F403
from effdl.exercises.flad import *  # noqa: F403
from effdl.exercises.guide import *  # noqa: F403
from effdl.exercises.lowrank import *  # noqa: F403
from effdl.exercises.lrsm import *  # noqa: F403
from effdl.exercises.lzss import *  # noqa: F403
from effdl.exercises.prune import *  # noqa: F403
from effdl.exercises.quant import *  # noqa: F403
from effdl.exercises.range_reg import *  # noqa: F403
from effdl.exercises.sbs import *  # noqa: F403
from effdl.exercises.scaling import *  # noqa: F403
from effdl.exercises.smoothing import *  # noqa: F403
from effdl.exercises.stream import *  # noqa: F403

_TOPICS = (
    core,
    prune,
    lowrank,
    distill,
    quant,
    range_reg,
    sbs,
    scaling,
    edram,
    lzss,
    lrsm,
    smoothing,
    flad,
    stream,
    guide,
)

__all__ = ["STRICT_ENV", "ExerciseNotSolved", "checker", "strict"] + [n for m in _TOPICS for n in m.__all__]
