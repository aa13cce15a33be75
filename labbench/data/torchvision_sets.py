"""torchvision's classic datasets, read from a local root with their official train/test splits.

Nothing is downloaded unless ``data.download`` is true; a missing dataset is a :class:`DataError`
that names the folder and the two ways out.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets

from labbench.config import DataConfig
from labbench.data.split import cap_split
from labbench.data.store import ImageSet, Split, fit_square
from labbench.errors import DataError
from labbench.sources import SOURCES

DEFAULT_ROOT = Path.home() / ".cache" / "labbench" / "datasets"
STL10_CLASSES = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]


@dataclass(frozen=True)
class TorchvisionSet:
    """How to open one dataset: the files it expects under the root, and its two splits."""

    expects: str
    open: Callable[[str, bool, bool], object]  # (root, train, download) -> torchvision dataset


def _train_flag(cls: type) -> Callable[[str, bool, bool], object]:
    return lambda root, train, download: cls(root, train=train, download=download)


def _split_named(cls: type, train_split: str) -> Callable[[str, bool, bool], object]:
    return lambda root, train, download: cls(root, split=train_split if train else "test", download=download)


SETS: dict[str, TorchvisionSet] = {
    "cifar10": TorchvisionSet("cifar-10-batches-py/", _train_flag(datasets.CIFAR10)),
    "cifar100": TorchvisionSet("cifar-100-python/", _train_flag(datasets.CIFAR100)),
    # STL-10 trains self-supervised methods on its 100 000 unlabeled images plus the 5 000 labelled ones.
    "stl10": TorchvisionSet("stl10_binary/", _split_named(datasets.STL10, "train+unlabeled")),
    "mnist": TorchvisionSet("MNIST/raw/", _train_flag(datasets.MNIST)),
    "fashion_mnist": TorchvisionSet("FashionMNIST/raw/", _train_flag(datasets.FashionMNIST)),
    "svhn": TorchvisionSet("train_32x32.mat and test_32x32.mat", _split_named(datasets.SVHN, "train")),
}


def to_image_set(ds: object, image_size: int, name: str) -> ImageSet:
    """Convert a loaded torchvision dataset (its ``data`` array and targets) into an :class:`ImageSet`."""
    data = torch.as_tensor(np.asarray(ds.data))
    if data.ndim == 3:  # N×H×W grey (MNIST family)
        data = data[:, None]
    elif data.shape[-1] == 3:  # N×H×W×3 (CIFAR)
        data = data.permute(0, 3, 1, 2)
    targets = getattr(ds, "targets", None)
    if targets is None:
        targets = ds.labels  # STL-10 and SVHN
    classes = getattr(ds, "classes", None)
    if not classes:  # STL-10 without its class_names.txt, and SVHN, whose classes are the digits
        classes = STL10_CLASSES if isinstance(ds, datasets.STL10) else [str(d) for d in range(10)]
    return ImageSet(
        images=fit_square(data, image_size),
        labels=torch.as_tensor(np.asarray(targets), dtype=torch.int64),
        masks=None,
        class_names=[str(c) for c in classes],
        name=name,
    )


def _open(source: str, root: str, train: bool, download: bool) -> object:
    spec, title = SETS[source], SOURCES[source].title
    try:
        return spec.open(root, train, download)
    except (OSError, RuntimeError) as err:  # URLError is an OSError
        # torchvision reports both a missing dataset and a failed download as RuntimeError
        if download:
            raise DataError(
                f"could not download {title} into {root}: {err}. Check the network, or put the "
                f"files there by hand ({spec.expects})"
            ) from None
        if isinstance(err, RuntimeError):
            raise DataError(
                f"{title} was not found in {root} (expected {spec.expects}). Put the dataset files "
                "there, or set data.download=true to let torchvision download them"
            ) from None
        raise DataError(f"could not read {title} from {root}: {err}") from None
    except Exception as err:  # the format readers raise assorted errors on truncated or foreign files
        raise DataError(f"could not read {title} from {root}: the files look damaged ({err!r})") from None


@lru_cache(maxsize=2)
def _official_split(source: str, root: str, image_size: int, download: bool) -> Split:
    return Split(
        train=to_image_set(_open(source, root, True, download), image_size, f"{source}/train"),
        eval=to_image_set(_open(source, root, False, download), image_size, f"{source}/eval"),
    )


def load_torchvision(cfg: DataConfig, source: str | None = None) -> Split:
    """The official train/test split of ``source`` (default ``cfg.source``) from ``cfg.root`` (default
    ``~/.cache/labbench/datasets``), resized to ``cfg.image_size``, capped at ``cfg.num_images``."""
    root = os.path.abspath(os.path.expanduser(cfg.root)) if cfg.root else str(DEFAULT_ROOT)
    split = _official_split(source or cfg.source, root, cfg.image_size, cfg.download)
    return cap_split(split, cfg.num_images, cfg.seed)


LOADERS: dict[str, Callable[[DataConfig], Split]] = {s: partial(load_torchvision, source=s) for s in SETS}
