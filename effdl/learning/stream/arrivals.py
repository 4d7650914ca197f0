"""Stream bookkeeping without any model: arrivals per time unit, which arrivals a budgeted learner takes, and a
reservoir buffer.

Time is discrete (units t = 0, 1, …). A rate r (samples per unit) gives ``floor(r·(t+1)) − floor(r·t)``
arrivals in unit t, so fractional rates are exact on average and every count is an integer; the compute budget c
(sample-gradients per unit) is cut the same way. What the learner cannot process is dropped or sampled
(:data:`POLICIES`):

- ``"drop"``: with ``queue=None`` the learner takes the newest arrivals of the unit and drops the rest (no backlog,
  so no staleness); with ``queue=Q`` arrivals wait in a FIFO queue of at most Q samples, those that find it full
  are dropped, and the learner takes the oldest first (a backlog trades dropped samples for stale ones);
- ``"sample"``: a uniform subsample (without replacement) of the unit's arrivals.

:class:`Reservoir` keeps a uniform sample of everything offered so far (Vitter's Algorithm R, ACM TOMS 1985).
"""

from __future__ import annotations

import math
import numbers
from collections import deque

import numpy as np

from effdl.core.checks import int_at_least, is_int, positive_int

__all__ = ["POLICIES", "Feeder", "Reservoir", "per_step_counts"]

POLICIES = ("drop", "sample")


def _positive_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number > 0, got {value!r}")
    if not math.isfinite(float(value)) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)


def _real(name: str, value: object) -> float:
    """``value`` as a float if it is a real number (not a bool or a string), for checks that then compare it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(value)


def _seed(seed: object, name: str = "seed") -> object:
    """``seed`` unchanged if numpy can seed with it as this package means (None, an int >= 0, a Generator or
    SeedSequence); else an error naming it, not numpy's "SeedSequence expects int ..." from deep inside."""
    if seed is None or isinstance(seed, np.random.Generator | np.random.SeedSequence | np.random.BitGenerator):
        return seed
    if not is_int(seed):
        raise TypeError(f"{name} must be None or an int >= 0, got {seed!r}")
    if seed < 0:  # type: ignore[operator]
        raise ValueError(f"{name} must be None or an int >= 0, got {seed}")
    return seed


def per_step_counts(rate: float, steps: int) -> np.ndarray:
    """Integer counts per time unit for a rate: ``floor(rate·(t+1)) − floor(rate·t)``, shape ``(steps,)`` int64.

    The counts sum to ``floor(rate·steps)`` and differ by at most one from unit to unit.
    """
    rate = _positive_number("rate", rate)
    steps = positive_int("steps", steps)
    if rate * steps >= 2.0**53:  # beyond float64's exact integers the int64 cast wraps to negative counts
        raise ValueError(f"rate·steps must be < 2**53 arrivals in total, got rate={rate:g}, steps={steps}")
    # the tiny epsilon keeps exact products (e.g. 2.5·4 = 10) from flooring down through rounding error
    cum = np.floor(np.arange(steps + 1, dtype=np.float64) * rate + 1e-9).astype(np.int64)
    return np.diff(cum)


def _ids(ids: object) -> np.ndarray:
    """Stream ids as an int64 vector; float ids would be truncated and a 2-D array read as one unit of rows."""
    arr = np.asarray(ids)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"ids must be a 1-D array of integer ids, got dtype {arr.dtype} and shape {arr.shape}")
    return arr.astype(np.int64, copy=False)


class Feeder:
    """Decides which new arrivals a learner processes in each unit, given how many slots it has (see module doc).

    ``policy``: one of :data:`POLICIES`; ``queue``: FIFO capacity in samples for ``"drop"`` (``None``: no backlog);
    ``seed``: the ``"sample"`` policy's generator.
    """

    def __init__(self, policy: str = "drop", *, queue: int | None = None, seed: int | None = 0) -> None:
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
        if queue is not None:
            queue = positive_int("queue", queue)
            if policy != "drop":
                raise ValueError(f"queue only applies to policy='drop', got policy={policy!r} with queue={queue}")
        self.policy = policy
        self.queue = queue
        self._waiting: deque[int] = deque()
        self._current = np.zeros(0, np.int64)
        self._rng = np.random.default_rng(_seed(seed))  # type: ignore[arg-type]
        self.dropped = 0  # arrivals that will never be processed fresh (counted when they are lost)

    def arrive(self, ids: np.ndarray) -> int:
        """New arrivals (ids in arrival order) of this unit; returns how many samples are available now."""
        ids = _ids(ids)
        if self.queue is None:
            self._current = ids
            return len(ids)
        room = self.queue - len(self._waiting)
        self._waiting.extend(ids[:room].tolist())
        self.dropped += max(len(ids) - room, 0)
        return len(self._waiting)

    def take(self, n: int) -> np.ndarray:
        """Up to ``n`` samples to process this unit (ids, arrival order); the unit's leftovers are dropped or wait."""
        n = int_at_least("n", n, 0)
        if self.queue is not None:
            return np.array([self._waiting.popleft() for _ in range(min(n, len(self._waiting)))], dtype=np.int64)
        ids, self._current = self._current, np.zeros(0, np.int64)
        n = min(n, len(ids))
        self.dropped += len(ids) - n
        if self.policy == "drop":
            return ids[len(ids) - n :]  # the newest n: what is dropped is the stalest part of the unit
        return np.sort(self._rng.choice(ids, size=n, replace=False)) if n else ids[:0]


class Reservoir:
    """A uniform sample of at most ``capacity`` ids out of everything offered (Algorithm R).

    After ``n`` offers every offered id is in the buffer with probability ``min(1, capacity/n)``, whatever the
    order. ``items`` holds the current ids (``(min(n, capacity),)`` int64).
    """

    def __init__(self, capacity: int, *, seed: int | None = 0) -> None:
        self.capacity = positive_int("buffer", capacity)
        self._slots = np.zeros(self.capacity, dtype=np.int64)
        self.seen = 0
        self._rng = np.random.default_rng(_seed(seed))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return min(self.seen, self.capacity)

    @property
    def items(self) -> np.ndarray:
        return self._slots[: len(self)].copy()

    def offer(self, ids: np.ndarray) -> None:
        """Offer ids in stream order: the k-th offer overall (0-based) replaces a uniform slot with prob B/(k+1)."""
        ids = _ids(ids)
        if ids.size == 0:
            return
        k = self.seen + np.arange(ids.size)
        # one uniform draw per offer, j ~ U{0..k}; the id is kept (in slot j) iff j < capacity
        j = np.floor(self._rng.random(ids.size) * (k + 1)).astype(np.int64)
        fill = k < self.capacity
        self._slots[k[fill]] = ids[fill]
        for slot, item in zip(j[~fill], ids[~fill], strict=True):
            if slot < self.capacity:  # sequential on purpose: two offers may hit the same slot, the later wins
                self._slots[slot] = item
        self.seen += ids.size

    def sample(self, n: int) -> np.ndarray:
        """``n`` distinct ids drawn uniformly from the buffer (``n`` is capped at its size)."""
        n = min(int_at_least("n", n, 0), len(self))
        return self._rng.choice(self._slots[: len(self)], size=n, replace=False) if n else self._slots[:0].copy()
