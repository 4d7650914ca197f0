import pytest
import torch
from torch.utils.data import Subset, TensorDataset

from effdl.core.data import DatasetInfo, ImageDataset
from effdl.core.holdout import train_val_split


def _images(n: int = 100) -> ImageDataset:
    x = torch.arange(n, dtype=torch.float32).reshape(n, 1, 1, 1)  # x encodes the example's index
    y = torch.tensor([0] * (n // 2) + [1] * (3 * n // 10) + [2] * (n - n // 2 - 3 * n // 10))  # 50/30/20
    info = DatasetInfo(
        name="toy",
        input_shape=(1, 1, 1),
        num_classes=3,
        n_train=n,
        n_test=0,
        mean=(0.0,),
        std=(1.0,),
        source="",
        description="",
    )
    return ImageDataset(x, y, info=info)


def test_split_is_disjoint_complete_stratified_and_seeded():
    ds = _images()
    train, val = train_val_split(ds, 20, seed=3)
    assert isinstance(train, ImageDataset) and isinstance(val, ImageDataset) and val.info is ds.info
    assert (len(train), len(val)) == (80, 20)
    ids_t, ids_v = set(train.x.flatten().tolist()), set(val.x.flatten().tolist())
    assert not ids_t & ids_v and ids_t | ids_v == set(range(100))
    assert torch.bincount(val.y).tolist() == [10, 6, 4]  # each class keeps its share of 20
    assert train.x.flatten().tolist() == sorted(ids_t)  # original order kept
    again_t, again_v = train_val_split(ds, 20, seed=3)
    assert torch.equal(again_v.x, val.x) and torch.equal(again_t.x, train.x)
    assert not torch.equal(train_val_split(ds, 20, seed=4)[1].x, val.x)


def test_tensor_dataset_and_unlabelled_and_other_datasets():
    x = torch.arange(10.0).reshape(10, 1)
    train, val = train_val_split(TensorDataset(x, torch.zeros(10, 2)), 3, seed=0)  # float targets: uniform draw
    assert isinstance(val, TensorDataset) and len(val) == 3 and len(train) == 7
    train, val = train_val_split(Subset(TensorDataset(x), list(range(10))), 4, seed=0)
    assert isinstance(val, Subset) and sorted(val.indices + train.indices) == list(range(10))


@pytest.mark.parametrize(
    ("args", "kwargs", "err", "match"),
    [
        ((torch.zeros(3), 1), {}, TypeError, "ds must be a torch Dataset"),
        ((None, 0), {}, ValueError, r"n_val must be an int in 1\.\.99"),
        ((None, 100), {}, ValueError, "n_val"),
        ((None, 2.0), {}, ValueError, "n_val"),
        ((None, 5), {"seed": -1}, ValueError, "seed must be an int >= 0"),
    ],
)
def test_bad_arguments(args, kwargs, err, match):
    args = (_images(), *args[1:]) if args[0] is None else args
    with pytest.raises(err, match=match):
        train_val_split(*args, **kwargs)


@pytest.mark.parametrize("stratify", [True, False])
def test_held_out_examples_are_the_ones_subset_draws(stratify):
    # Notebook 03 relies on it: the student's transfer set is the same with subset() and with train_val_split().
    from effdl.core.data import subset

    ds = _images()
    _, val = train_val_split(ds, 20, seed=5, stratify=stratify)
    assert torch.equal(val.x, subset(ds, 20, seed=5, stratify=stratify).x)
