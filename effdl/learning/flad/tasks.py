"""A few-shot task with K auxiliary datasets of controlled relevance, from real offline digits (mnist5k).

The target: ``n_train`` labelled training images (+ ``n_val`` for choices), stratified over the digits, drawn
from the 4,000-image training split; its test split is the dataset's own 1,000-image test split, so no test
image can be in an auxiliary set. Every auxiliary dataset is an index view (:class:`AuxDataset`) over the shared
training images that are *not* in the target's train or validation split, with its own label vector:

- ``"aligned"``: the target's label map (optionally under a fixed shift of a few pixels per dataset);
- ``"noisy"``: the target's label map with exactly a fraction ``noise`` of the labels changed to a random
  *other* class;
- ``"adversarial"``: the label map composed with a derangement σ of the classes (no class keeps its label):
  one σ shared by all adversarial datasets (``shared_permutation=True``: a coherent wrong task that uniform
  mixing learns instead of the target's when there are more adversarial than aligned datasets), or one each.

Labels are stored per dataset (``aux_size`` int64s), images never copied: K = 200 builds in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, TensorDataset

from effdl.core.checks import int_at_least, is_int, positive_int
from effdl.core.data import load

__all__ = ["KINDS", "TASKS", "AuxDataset", "FewShotSuite", "derangement", "few_shot_suite"]

KINDS = ("aligned", "noisy", "adversarial")
TASKS = ("digits", "parity")  # digit identity (10 classes); even vs odd (2 classes)


class AuxDataset(Dataset):
    """An auxiliary dataset: ``images[indices[i]]`` (rolled by ``shift`` pixels) with label ``labels[i]``.

    ``images``: float32 (N, C, H, W), shared, never copied; ``indices``/``labels``: int64 (n,); ``kind`` is one
    of :data:`KINDS`; ``shift`` = (dy, dx) pixels. :meth:`get_batch` is the fast path the trainer uses.
    """

    def __init__(self, images: Tensor, indices: Tensor, labels: Tensor, *, kind: str,
                 shift: tuple[int, int] = (0, 0)) -> None:  # fmt: skip
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if indices.shape != labels.shape or indices.ndim != 1:
            raise ValueError(f"indices and labels must be 1-D of equal length, got {indices.shape} and {labels.shape}")
        self.images, self.indices, self.labels = images, indices.long(), labels.long()
        self.kind, self.shift = kind, (int(shift[0]), int(shift[1]))

    def __len__(self) -> int:
        return int(self.indices.numel())

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        x, y = self.get_batch(torch.tensor([i]))
        return x[0], y[0]

    def get_batch(self, idx: Tensor | np.ndarray) -> tuple[Tensor, Tensor]:
        """Items ``idx`` (positions 0..n−1) as ``(x (B, C, H, W), y (B,))``."""
        idx = torch.as_tensor(idx, dtype=torch.long)
        x = self.images[self.indices[idx]]
        if self.shift != (0, 0):
            x = torch.roll(x, shifts=self.shift, dims=(-2, -1))  # digits sit in a 20×20 box: a small roll wraps blank
        return x, self.labels[idx]

    def __repr__(self) -> str:
        return f"AuxDataset({self.kind}, n={len(self)}, shift={self.shift})"


@dataclass
class FewShotSuite:
    """The target splits and the auxiliary datasets (see the module docstring).

    ``target_train``/``target_val``/``target_test``: TensorDatasets of (x float32 (N, C, H, W), y int64 (N,));
    ``auxiliaries``: list of K :class:`AuxDataset`; ``kinds``: their kinds, in order; ``label_map``: int64
    (10,), digit → target class; ``permutation``: the adversarial σ (shared) or None; ``target_indices``:
    positions in the training split of the target's train and validation images.
    """

    target_train: TensorDataset
    target_val: TensorDataset
    target_test: TensorDataset
    auxiliaries: list[AuxDataset]
    kinds: tuple[str, ...]
    num_classes: int
    label_map: np.ndarray
    permutation: np.ndarray | None = None
    target_indices: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_aux(self) -> int:
        """K, the number of auxiliary datasets."""
        return len(self.auxiliaries)

    def kind_mask(self, kind: str = "aligned") -> np.ndarray:
        """bool (K,): which auxiliary datasets are of ``kind``."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        return np.array([k == kind for k in self.kinds], dtype=bool)

    def mass_ratio(self, dist: np.ndarray, kind: str = "aligned") -> float:
        """Probability mass of ``dist`` (K,) on the ``kind`` datasets divided by their uniform share
        (1 = no preference; K/#kind = all mass on them). NaN when there is no dataset of that kind."""
        dist = np.asarray(dist, dtype=np.float64)
        if dist.shape != (self.n_aux,):
            raise ValueError(f"dist must have shape ({self.n_aux},), got {dist.shape}")
        mask = self.kind_mask(kind)
        if not mask.any():
            return float("nan")
        return float(dist[mask].sum() / dist.sum() / mask.mean())

    def __repr__(self) -> str:
        counts = {k: int(self.kind_mask(k).sum()) for k in KINDS}
        return (
            f"FewShotSuite(target {len(self.target_train)} train / {len(self.target_val)} val / "
            f"{len(self.target_test)} test, {self.num_classes} classes, K={self.n_aux} {counts})"
        )


def derangement(n: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random permutation of 0..n−1 with no fixed point (n ≥ 2), by rejection (≈ e tries)."""
    n = int_at_least("n", n, 2)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    while True:
        p = rng.permutation(n)
        if not (p == np.arange(n)).any():
            return p


def _per_digit(digits: np.ndarray, candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` of ``candidates`` spread evenly over the digits (the first n mod 10 digits of a random order get one
    more), each digit's images drawn at random."""
    values = np.unique(digits[candidates])
    order = rng.permutation(values)
    quota = {d: n // len(values) + (i < n % len(values)) for i, d in enumerate(order)}
    picked = [rng.permutation(candidates[digits[candidates] == d])[: quota[d]] for d in values]
    return np.sort(np.concatenate(picked))


def _fraction(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number in [0, 1], got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return float(value)


def _kind_counts(k: int, aligned: float, noisy: float) -> list[int]:
    """Largest-remainder split of k datasets over (aligned, noisy, adversarial)."""
    exact = np.array([aligned, noisy, 1.0 - aligned - noisy]) * k
    counts = np.floor(exact + 1e-9).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: k - counts.sum()]] += 1
    return counts.tolist()


def few_shot_suite(
    *,
    n_aux: int = 20,
    aligned: float = 0.25,
    noisy: float = 0.25,
    noise: float = 0.5,
    task: str = "digits",
    n_train: int = 30,
    n_val: int = 30,
    n_test: int | None = None,
    aux_size: int = 200,
    shift: int = 1,
    shared_permutation: bool = True,
    dataset: str = "mnist5k",
    seed: int = 0,
) -> FewShotSuite:
    """Build a :class:`FewShotSuite` (see the module docstring).

    Args:
        n_aux: K ≥ 1 auxiliary datasets; ``aligned`` and ``noisy`` are the fractions of them of each kind
            (largest-remainder rounding), the rest adversarial; their order is shuffled with ``seed``.
        noise: fraction of labels changed in each noisy dataset, in [0, 1].
        task: ``"digits"`` (10 classes) or ``"parity"`` (0 = even, 1 = odd).
        n_train, n_val: target images for training and for validation (choices), spread evenly over the digits.
        n_test: the target's test images (a seeded subset of the test split); None = the whole test split.
        aux_size: images per auxiliary dataset, drawn at random from the training images outside the target's
            splits (datasets overlap one another when K · aux_size exceeds that pool).
        shift: aligned datasets are rolled by a fixed (dy, dx) drawn from −shift..shift per dataset (0 = none).
        shared_permutation: one derangement σ for all adversarial datasets (True) or one per dataset.
        dataset: an image dataset of 10 digit classes that :func:`effdl.load` knows (``"mnist5k"``, ``"digits"``).
        seed: everything random here (splits, pools, noise, σ, shifts, order).
    """
    k = positive_int("n_aux", n_aux)
    aligned, noisy, noise = _fraction("aligned", aligned), _fraction("noisy", noisy), _fraction("noise", noise)
    if aligned + noisy > 1.0 + 1e-12:
        raise ValueError(f"aligned + noisy must be ≤ 1 (the rest is adversarial), got {aligned} + {noisy}")
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    n_train, n_val = positive_int("n_train", n_train), positive_int("n_val", n_val)
    aux_size = positive_int("aux_size", aux_size)
    shift = int_at_least("shift", shift, 0)
    if not is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if not isinstance(shared_permutation, bool):
        raise TypeError(f"shared_permutation must be a bool, got {shared_permutation!r}")

    train, test = load(dataset)
    x, digits = train.tensors[0], train.tensors[1].numpy()
    if int(digits.max()) != 9:
        raise ValueError(f"dataset must have the 10 digit classes, {dataset!r} has labels up to {int(digits.max())}")
    rng = np.random.default_rng([seed, 18])
    label_map = np.arange(10) if task == "digits" else np.arange(10) % 2
    n_classes = int(label_map.max()) + 1

    all_idx = np.arange(len(digits))
    if n_train + n_val + aux_size > len(all_idx):
        raise ValueError(f"n_train + n_val + aux_size must be ≤ {len(all_idx)} training images, got "
                         f"{n_train} + {n_val} + {aux_size}")  # fmt: skip
    tr = _per_digit(digits, all_idx, n_train, rng)
    va = _per_digit(digits, np.setdiff1d(all_idx, tr), n_val, rng)
    pool = np.setdiff1d(all_idx, np.concatenate([tr, va]))  # no target image (train, val, test) in any aux set

    def target(xs: Tensor, ds: np.ndarray) -> TensorDataset:
        return TensorDataset(xs, torch.from_numpy(label_map[ds]).long())

    test_x, test_d = test.tensors[0], test.tensors[1].numpy()
    if n_test is not None:
        n_test = positive_int("n_test", n_test)
        if n_test > len(test_d):
            raise ValueError(f"n_test must be ≤ {len(test_d)} (the test split), got {n_test}")
        keep = np.sort(rng.permutation(len(test_d))[:n_test])
        test_x, test_d = test_x[torch.from_numpy(keep)], test_d[keep]

    counts = _kind_counts(k, aligned, noisy)
    kinds = [kind for kind, c in zip(KINDS, counts, strict=True) for _ in range(c)]
    kinds = [kinds[i] for i in rng.permutation(k)]
    sigma = derangement(n_classes, rng) if shared_permutation else None
    images = x  # shared by every auxiliary dataset
    auxes = []
    for kind in kinds:
        idx = np.sort(rng.choice(pool, size=min(aux_size, len(pool)), replace=False))
        y = label_map[digits[idx]]
        sh = (0, 0)
        if kind == "aligned" and shift:
            sh = tuple(int(s) for s in rng.integers(-shift, shift + 1, size=2))
        elif kind == "noisy":
            flip = rng.permutation(len(y))[: round(noise * len(y))]
            y = y.copy()
            y[flip] = (y[flip] + rng.integers(1, n_classes, size=len(flip))) % n_classes  # always another class
        elif kind == "adversarial":
            y = (sigma if sigma is not None else derangement(n_classes, rng))[y]
        auxes.append(AuxDataset(images, torch.from_numpy(idx), torch.from_numpy(y), kind=kind, shift=sh))
    return FewShotSuite(
        target_train=target(x[torch.from_numpy(tr)], digits[tr]),
        target_val=target(x[torch.from_numpy(va)], digits[va]),
        target_test=target(test_x, test_d),
        auxiliaries=auxes,
        kinds=tuple(kinds),
        num_classes=n_classes,
        label_map=label_map,
        permutation=sigma,
        target_indices={"train": tr, "val": va},
    )
