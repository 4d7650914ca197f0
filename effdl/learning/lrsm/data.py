"""Data for stratified models: the imbalanced synthetic study, the diabetes example, and per-stratum splits.

The synthetic study (:func:`imbalanced_strata`) is built so that the claim "a learned graph beats a fixed uniform
graph when strata are imbalanced and neighbours can differ" is testable without favouring any variant:

- strata are ``(row, bin)`` pairs on an ``n_rows × n_bins`` grid (think sex × age bin); the candidate graph is the
  Cartesian product of a path over the rows and a path over the bins, every prior weight W₀ = 1;
- the true θ (p weights + intercept) moves smoothly along the bins (a random offset plus a half sine wave per
  coordinate, amplitude ``wiggle``), rows differ by a small random offset (``row_offset``), and at every bin in
  ``breaks`` all later bins jump by a random vector of norm ``jump``: the uniform W₀ is wrong on the break edges;
- training sizes are very unequal: each stratum is independently small (uniform in ``small_sizes``, e.g. 2–5
  samples; probability ``small_share``) or large (uniform in ``large_sizes``, e.g. 100–400);
- x ~ N(0, I_p), y = x̃ᵀθ_k + ``noise``·N(0, 1) (squared loss), or y ~ Bernoulli(σ(x̃ᵀθ_k)) for ``loss="logistic"``;
- validation and test sets hold ``n_val`` and ``n_test`` samples of *every* stratum: their mean loss weighs all
  strata equally (the small strata are the population of interest, not an afterthought), and the validation set
  only picks global hyper-parameters, it is never fitted on.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from effdl.core.checks import seed_or_none
from effdl.learning.lrsm.graph import cartesian_product, path_graph

__all__ = ["StrataData", "SyntheticStudy", "diabetes_strata", "imbalanced_strata", "split_strata"]


@dataclass(frozen=True)
class StrataData:
    """X (N, p) float64, y (N,), strata (N keys). Unpacks as ``X, y, strata = data``."""

    X: np.ndarray
    y: np.ndarray
    strata: list[Hashable]

    def __iter__(self) -> Iterator[Any]:
        return iter((self.X, self.y, self.strata))

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class SyntheticStudy:
    """One draw of :func:`imbalanced_strata`.

    Attributes: train / val / test (:class:`StrataData`); graph (networkx, W₀ = 1); keys (K strata, the graph's
    node order); true_theta (K, p + 1), intercept last; sizes (K,) training samples per stratum; break_edges (the
    graph edges across a break, as key pairs).
    """

    train: StrataData
    val: StrataData
    test: StrataData
    graph: nx.Graph
    keys: list[Hashable]
    true_theta: np.ndarray
    sizes: np.ndarray
    break_edges: list[tuple[Hashable, Hashable]] = field(default_factory=list)


def _int_range(value: Any, name: str) -> tuple[int, int]:
    if not (isinstance(value, tuple | list) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise TypeError(f"{name} must be a (low, high) pair of ints, got {value!r}")
    lo, hi = value
    if not 0 <= lo <= hi:
        raise ValueError(f"{name} must satisfy 0 ≤ low ≤ high, got {value!r}")
    return lo, hi


def imbalanced_strata(
    n_rows: int = 2,
    n_bins: int = 10,
    n_features: int = 4,
    *,
    small_share: float = 0.5,
    small_sizes: tuple[int, int] = (2, 5),
    large_sizes: tuple[int, int] = (100, 400),
    breaks: Sequence[int] = (5,),
    jump: float = 3.0,
    wiggle: float = 0.5,
    row_offset: float = 0.2,
    noise: float = 1.0,
    n_val: int = 30,
    n_test: int = 200,
    loss: str = "squared",
    seed: int | None = 0,
) -> SyntheticStudy:
    """Draw the imbalanced stratified study described in the module docstring.

    Args:
        n_rows, n_bins: grid of strata (K = n_rows·n_bins), keys ``(row, bin)`` with ints.
        n_features: p.
        small_share: probability that a stratum is small; small_sizes / large_sizes: inclusive size ranges.
        breaks: bins b (1 ≤ b < n_bins) where θ jumps between bin b−1 and b; jump: its norm.
        wiggle: amplitude of the smooth variation along the bins; row_offset: scale of the per-row offsets.
        noise: standard deviation of y's noise (squared loss).
        n_val, n_test: samples per stratum of the validation and test sets.
        loss: ``"squared"`` or ``"logistic"`` (binary y from the true logits).
        seed: random seed (same seed, same study).
    """
    for name, v in (("n_rows", n_rows), ("n_bins", n_bins), ("n_features", n_features), ("n_val", n_val),
                    ("n_test", n_test)):  # fmt: skip
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be an int ≥ 1, got {v!r}")
    if not 0 <= small_share <= 1:
        raise ValueError(f"small_share must be in [0, 1], got {small_share!r}")
    for name, v in (("jump", jump), ("wiggle", wiggle), ("row_offset", row_offset), ("noise", noise)):
        # scales of the study: a negative or NaN one would draw a different (or NaN) study without a word
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating) or not 0 <= v < np.inf:
            raise ValueError(f"{name} must be a finite number ≥ 0, got {v!r}")
    seed_or_none("seed", seed)
    small, large = _int_range(small_sizes, "small_sizes"), _int_range(large_sizes, "large_sizes")
    breaks = list(breaks)
    if any(not isinstance(b, int) or not 1 <= b < n_bins for b in breaks):
        raise ValueError(f"breaks must be ints in 1..{n_bins - 1} (a jump between bin b−1 and b), got {breaks!r}")
    if loss not in ("squared", "logistic"):
        raise ValueError(f"loss must be 'squared' or 'logistic', got {loss!r}")
    rng = np.random.default_rng(seed)
    graph = cartesian_product(path_graph(range(n_rows)), path_graph(range(n_bins)))
    keys = list(graph.nodes)
    d = n_features + 1
    base, amp = rng.normal(size=d), wiggle * rng.normal(size=d)
    phase = rng.uniform(0, 2 * np.pi, size=d)
    offsets = row_offset * rng.normal(size=(n_rows, d))
    jumps = rng.normal(size=(len(breaks), d))
    jumps *= jump / np.linalg.norm(jumps, axis=1, keepdims=True)
    t = np.arange(n_bins) / max(n_bins - 1, 1)
    theta = np.array([
        base + amp * np.sin(np.pi * t[b] + phase) + offsets[r] + sum(j for brk, j in zip(breaks, jumps, strict=True)
                                                                   if b >= brk)
        for r, b in keys
    ])  # fmt: skip
    is_small = rng.random(len(keys)) < small_share
    sizes = np.where(is_small, rng.integers(small[0], small[1] + 1, len(keys)),
                     rng.integers(large[0], large[1] + 1, len(keys)))  # fmt: skip

    def sample(counts: np.ndarray) -> StrataData:
        s = np.repeat(np.arange(len(keys)), counts)
        X = rng.normal(size=(len(s), n_features))
        z = np.einsum("nd,nd->n", np.hstack([X, np.ones((len(s), 1))]), theta[s])
        if loss == "squared":
            y = z + noise * rng.normal(size=len(s))
        else:
            y = (rng.random(len(s)) < 1.0 / (1.0 + np.exp(-z))).astype(np.int64)
        return StrataData(X, y, [keys[i] for i in s])

    train = sample(sizes)
    val = sample(np.full(len(keys), n_val))
    test = sample(np.full(len(keys), n_test))
    brk = [(u, v) for u, v in graph.edges if u[0] == v[0] and any(min(u[1], v[1]) == b - 1 for b in breaks)]
    return SyntheticStudy(train, val, test, graph, keys, theta, sizes, brk)


def diabetes_strata(age_bins: int = 5, *, sex_weight: float = 1.0, age_weight: float = 1.0) -> tuple[
    np.ndarray, np.ndarray, list[tuple[int, int]], nx.Graph
]:  # fmt: skip
    """scikit-learn's diabetes data (442 patients, shipped with scikit-learn) stratified by sex × age bin.

    Returns:
        X (442, 8): bmi, bp, s1–s6 standardized (mean 0, std 1 over all patients); y (442,) disease progression one
        year later (raw units, about 25–346); strata ``(sex, age_bin)`` with sex ∈ {1, 2} (the dataset's codes) and
        age_bin ∈ 0..age_bins−1 (age quantile bins); graph: the Cartesian product of the sex edge (weight
        ``sex_weight``) and a path over the age bins (weight ``age_weight``).
    """
    from sklearn.datasets import load_diabetes

    if not isinstance(age_bins, int) or not 1 <= age_bins <= 20:
        raise ValueError(f"age_bins must be an int in 1..20, got {age_bins!r}")
    data = load_diabetes(scaled=False)
    raw, y = np.asarray(data.data, np.float64), np.asarray(data.target, np.float64)
    age, sex = raw[:, 0], raw[:, 1].astype(int)
    edges = np.quantile(age, np.linspace(0, 1, age_bins + 1)[1:-1])
    abin = np.searchsorted(edges, age, side="right")
    X = raw[:, 2:]
    X = (X - X.mean(0)) / X.std(0)
    strata = [(int(s), int(a)) for s, a in zip(sex, abin, strict=True)]
    graph = cartesian_product(path_graph(sorted(set(sex.tolist())), weight=sex_weight),
                              path_graph(range(age_bins), weight=age_weight))  # fmt: skip
    return X, y, strata, graph


def split_strata(
    X: Any,
    y: Any,
    strata: Sequence[Hashable],
    *,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    seed: int | None = 0,
) -> tuple[StrataData, StrataData, StrataData]:
    """Split into train / validation / test within every stratum (each gets its share of every stratum's samples,
    rounded; a stratum's remainder goes to train). Same seed, same split."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y) or len(strata) != len(y):
        raise ValueError(f"X, y and strata must have equal lengths, got {len(X)}, {len(y)}, {len(strata)}")
    fr = np.asarray(fractions, dtype=np.float64)
    if fr.shape != (3,) or np.any(fr < 0) or not np.isclose(fr.sum(), 1.0):
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions!r}")
    rng = np.random.default_rng(seed)
    groups: dict[Hashable, list[int]] = {}
    for i, k in enumerate(strata):
        groups.setdefault(k, []).append(i)
    parts: list[list[int]] = [[], [], []]
    for k in groups:
        idx = rng.permutation(groups[k])
        n_val, n_test = round(float(fr[1]) * len(idx)), round(float(fr[2]) * len(idx))
        n_val, n_test = min(n_val, len(idx)), min(n_test, max(len(idx) - n_val, 0))
        parts[1] += idx[:n_val].tolist()
        parts[2] += idx[n_val : n_val + n_test].tolist()
        parts[0] += idx[n_val + n_test :].tolist()
    out = []
    for p in parts:
        p = np.sort(np.asarray(p, dtype=np.int64))
        out.append(StrataData(X[p], y[p], [strata[i] for i in p]))
    return out[0], out[1], out[2]
