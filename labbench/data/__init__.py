"""Dataset sources -> square RGB uint8 image stores with labels, masks where known, and a train/eval split.

``load_split(cfg)`` is the single entry point; ``LOADERS`` maps each source of the table in
``labbench.sources`` to its loader. Packed shards (``labbench data pack``) are the one source whose
training side can stay encoded and be streamed (``data.store``): large sets are never decoded whole.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from labbench.config import DataConfig
from labbench.data.bundled import load_digits, load_photos
from labbench.data.folder import load_folder
from labbench.data.packed import load_shards
from labbench.data.shapes import load_shapes
from labbench.data.shards import is_pack
from labbench.data.store import UNLABELED, ImageSet, Split
from labbench.data.torchvision_sets import LOADERS as TORCHVISION_LOADERS
from labbench.errors import ConfigError, DataError
from labbench.sources import SOURCES

LOADERS: dict[str, Callable[[DataConfig], Split]] = {
    "shapes": load_shapes,
    "digits": load_digits,
    "photos": load_photos,
    **TORCHVISION_LOADERS,
    "folder": load_folder,
    "shards": load_shards,
}


def folder_source(folder: str | Path) -> str:
    """The source that reads ``folder``: ``shards`` for a packed set, else ``folder``."""
    return "shards" if is_pack(folder) else "folder"


def load_split(cfg: DataConfig) -> Split:
    """The train and eval sets of ``cfg.source``, at ``cfg.image_size``; problems raise DataError."""
    try:
        loader = LOADERS[cfg.source]
    except KeyError:
        raise DataError(f"data.source: unknown source {cfg.source!r}; choose one of {', '.join(SOURCES)}") from None
    if cfg.store == "stream" and cfg.source != "shards":
        raise ConfigError(f"data.store: only packed shards are streamed, not the source {cfg.source!r}; "
                          "pack the images once (labbench data pack FOLDER OUT), then set data.source = "
                          "'shards' and data.root = OUT")
    return loader(cfg)


__all__ = ["LOADERS", "UNLABELED", "ImageSet", "Split", "folder_source", "load_split"]
