"""torchvision datasets from files written here in their exact on-disk formats; nothing is downloaded."""

import os
import pickle
import struct
from urllib.error import URLError

import numpy as np
import pytest
import torch
from torchvision.datasets import cifar, stl10, svhn

from labbench.config import DataConfig
from labbench.data import UNLABELED, load_split
from labbench.errors import DataError

CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _exists_only(fpath, md5=None):
    return os.path.isfile(fpath)


@pytest.fixture
def no_md5(monkeypatch):
    """torchvision checks the md5 of the official archives' files; ours are tiny stand-ins, so only
    their presence is checked. Everything else runs torchvision's own reader."""
    for module in (cifar, stl10, svhn):
        monkeypatch.setattr(module, "check_integrity", _exists_only)


def _pixels(n, shape, seed):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


def write_cifar10(root, per_batch=4, test=6):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = {f"data_batch_{i}": per_batch for i in range(1, 6)} | {"test_batch": test}
    images = {}
    for i, (name, n) in enumerate(batches.items()):
        x = _pixels(n, (3, 32, 32), i)
        images[name] = x
        with open(folder / name, "wb") as f:
            pickle.dump({"data": x.reshape(n, -1), "labels": [(i + j) % 10 for j in range(n)]}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": CIFAR_NAMES}, f)
    return images


def write_idx(folder, prefix, images, labels):
    folder.mkdir(parents=True, exist_ok=True)
    n, h, w = images.shape
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, h, w) + images.tobytes())
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.tobytes())


def write_mnist(root, kind="MNIST", train=8, test=4):
    raw = root / kind / "raw"
    x = _pixels(train + test, (28, 28), 0)
    y = (np.arange(train + test) % 10).astype(np.uint8)
    write_idx(raw, "train", x[:train], y[:train])
    write_idx(raw, "t10k", x[train:], y[train:])
    return x


def _cfg(source, root, **kw):
    return DataConfig(source=source, root=str(root), num_images=kw.pop("num_images", 0), **kw)


def test_fake_cifar10_loads_with_the_official_split(tmp_path, no_md5):
    images = write_cifar10(tmp_path)
    split = load_split(_cfg("cifar10", tmp_path, image_size=32))
    assert (len(split.train), len(split.eval)) == (20, 6)
    assert split.train.class_names == CIFAR_NAMES
    assert torch.equal(split.train.images[:4], torch.from_numpy(images["data_batch_1"]))
    assert torch.equal(split.eval.images, torch.from_numpy(images["test_batch"]))
    assert split.eval.labels.tolist() == [5, 6, 7, 8, 9, 0]  # test_batch is the sixth file written
    assert split.train.name == "cifar10/train" and split.eval.name == "cifar10/eval"


def test_cifar10_is_resized_to_the_image_size(tmp_path, no_md5):
    write_cifar10(tmp_path)
    split = load_split(_cfg("cifar10", tmp_path, image_size=48))
    assert split.train.images.shape == (20, 3, 48, 48) and split.train.images.dtype == torch.uint8


def test_mnist_raw_files_load_as_rgb(tmp_path):
    x = write_mnist(tmp_path)
    split = load_split(_cfg("mnist", tmp_path, image_size=28))
    assert (len(split.train), len(split.eval)) == (8, 4)
    assert split.train.images.shape == (8, 3, 28, 28)
    assert torch.equal(split.train.images[:, 1], torch.from_numpy(x[:8]))
    assert split.eval.labels.tolist() == [8, 9, 0, 1]


def test_fashion_mnist_reads_its_own_folder(tmp_path):
    write_mnist(tmp_path, kind="FashionMNIST")
    split = load_split(_cfg("fashion_mnist", tmp_path, image_size=32))
    assert split.train.images.shape == (8, 3, 32, 32)
    assert split.train.class_names[0] == "T-shirt/top"


def test_stl10_trains_on_unlabeled_plus_train_and_evaluates_on_test(tmp_path, no_md5):
    folder = tmp_path / "stl10_binary"
    folder.mkdir()
    for name, n in (("train_X.bin", 3), ("unlabeled_X.bin", 5), ("test_X.bin", 2)):
        _pixels(n, (3, 96, 96), n).tofile(folder / name)
    np.array([1, 2, 10], dtype=np.uint8).tofile(folder / "train_y.bin")  # STL-10 counts classes from 1
    np.array([4, 5], dtype=np.uint8).tofile(folder / "test_y.bin")
    split = load_split(_cfg("stl10", tmp_path, image_size=32))
    assert (len(split.train), len(split.eval)) == (8, 2)
    assert split.train.labels.tolist() == [0, 1, 9] + [UNLABELED] * 5
    assert split.train.labeled().labels.tolist() == [0, 1, 9]
    assert split.eval.labels.tolist() == [3, 4]
    assert split.train.class_names[9] == "truck"


def test_svhn_reads_its_mat_files(tmp_path, no_md5):
    from scipy.io import savemat

    for name, n in (("train_32x32.mat", 4), ("test_32x32.mat", 3)):
        savemat(tmp_path / name, {"X": _pixels(n, (32, 32, 3), n).transpose(1, 2, 3, 0),
                                  "y": np.arange(1, n + 1, dtype=np.uint8)[:, None] * 10 % 11})
    split = load_split(_cfg("svhn", tmp_path, image_size=32))
    assert (len(split.train), len(split.eval)) == (4, 3)
    assert split.train.labels.tolist() == [0, 9, 8, 7]  # SVHN's label 10 is the digit 0


def test_missing_dataset_names_the_folder_and_both_ways_out(tmp_path):
    with pytest.raises(DataError) as err:
        load_split(_cfg("cifar10", tmp_path))
    message = str(err.value)
    assert str(tmp_path) in message and "cifar-10-batches-py" in message and "data.download=true" in message


def test_failed_download_is_a_data_error(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise URLError("no route to host")

    monkeypatch.setattr(cifar, "download_and_extract_archive", offline)
    with pytest.raises(DataError, match="could not download CIFAR-10.*no route to host"):
        load_split(_cfg("cifar10", tmp_path, download=True))


def test_damaged_files_are_a_data_error(tmp_path, no_md5):
    write_cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="damaged"):
        load_split(_cfg("cifar10", tmp_path))


def test_image_cap_shrinks_both_official_sides(tmp_path, no_md5):
    write_cifar10(tmp_path, per_batch=20, test=20)
    split = load_split(_cfg("cifar10", tmp_path, num_images=60, seed=1))
    assert (len(split.train), len(split.eval)) == (50, 10)
