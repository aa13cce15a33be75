"""The data sources by name: the one table that ``data.source`` accepts, the data package loads from
and the dataset browser lists.

A new source is a row here and its loader in ``labbench/data/`` (``LOADERS`` there, under the same name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Source:
    """How a source is named and found: ``built-in`` sets need nothing, a ``dataset`` is read from
    its local folder (torchvision's layout), a ``folder`` is any folder of images."""

    title: str
    kind: Literal["built-in", "dataset", "folder"]
    masks: bool = False  # knows every object's mask

    @property
    def reads_a_folder(self) -> bool:
        return self.kind != "built-in"


SOURCES: dict[str, Source] = {
    "shapes": Source("Shapes", "built-in", masks=True),
    "digits": Source("Digits", "built-in"),
    "photos": Source("Photos", "built-in"),
    "folder": Source("Image folder", "folder"),
    "shards": Source("Packed shards (labbench data pack)", "folder"),
    "cifar10": Source("CIFAR-10", "dataset"),
    "cifar100": Source("CIFAR-100", "dataset"),
    "stl10": Source("STL-10", "dataset"),
    "mnist": Source("MNIST", "dataset"),
    "fashion_mnist": Source("Fashion-MNIST", "dataset"),
    "svhn": Source("SVHN", "dataset"),
}

#: the names ``data.source`` accepts (a Literal, so the config form offers them as a list)
SourceName = Literal[tuple(SOURCES)]  # type: ignore[valid-type]
