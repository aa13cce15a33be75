"""The ``shards`` source: a pack (:mod:`labbench.data.shards`) read as a train/eval split, its training side
streamed or decoded into the uint8 store by size."""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from labbench.config import DataConfig
from labbench.data.decode import cache_dir_for, decode_files
from labbench.data.encoded import EncodedImages
from labbench.data.shards import EVAL, TRAIN, UNSPLIT, PackedSet, open_pack
from labbench.data.split import holdout_index, official_cap
from labbench.data.store import ImageSet, Split
from labbench.errors import DataError

#: a training side whose uint8 store would be larger than this is streamed when ``data.store`` is auto
STREAM_ABOVE_BYTES = 4 << 30


def rows_key(pack: PackedSet, rows: np.ndarray) -> str:
    """Identifies the content of ``rows`` of ``pack``: keys the decode cache of a side."""
    h = hashlib.sha256(pack.key.encode())
    h.update(np.ascontiguousarray(rows, dtype=np.int64).tobytes())
    return h.hexdigest()[:32]


def _labels(pack: PackedSet, rows: np.ndarray) -> torch.Tensor | None:
    """The classes of ``rows`` as int64, or None for a pack without classes."""
    return None if pack.labels is None else torch.from_numpy(pack.labels[rows].astype(np.int64))


def _side(pack: PackedSet, rows: np.ndarray, name: str, cfg: DataConfig, stream: bool) -> ImageSet:
    labels = _labels(pack, rows)
    names = pack.columns["name"][rows].tolist()
    if stream:
        return ImageSet(images=EncodedImages(pack, rows, cfg.image_size), labels=labels, masks=None,
                        class_names=list(pack.class_names), name=name, paths=names)
    members = [pack.member(int(r)) for r in rows]
    decoded = decode_files(members, cfg.image_size, cache_dir_for(cfg.cache_dir, len(rows) * 3 * cfg.image_size**2),
                           read=lambda i: pack.read(int(rows[i])), key=rows_key(pack, rows))
    if decoded.skipped:  # every file was decoded once when packed: a failure now is damage
        member, reason = decoded.skipped[0]
        raise DataError(f"{member}: {reason}; the pack is damaged, pack the folder again")
    return ImageSet(images=decoded.images, labels=labels, masks=None, class_names=list(pack.class_names),
                    name=name, paths=names)


def streams(cfg: DataConfig, train_images: int) -> bool:
    """Whether the training side is streamed: ``data.store``, or with auto whether its uint8 store at
    ``data.image_size`` would exceed :data:`STREAM_ABOVE_BYTES`."""
    if cfg.store != "auto":
        return cfg.store == "stream"
    return train_images * 3 * cfg.image_size**2 > STREAM_ABOVE_BYTES


def load_shards(cfg: DataConfig) -> Split:
    """The pack in ``cfg.root`` as a split: its train/ and val/ (or test/) sides when the packed folder had
    them, else ``cfg.eval_fraction`` held out (seeded, stratified), capped at ``cfg.num_images``. The training
    side is streamed or decoded into the uint8 store (:func:`streams`); the eval side is always decoded."""
    if not cfg.root:
        raise DataError("data.root: choose the folder that `labbench data pack` wrote, for the source 'shards'")
    pack = open_pack(cfg.root)
    side = pack.columns["side"]
    base = pack.root.name
    if (side == UNSPLIT).all():
        everything = _labels(pack, np.arange(len(pack)))
        train_idx, eval_idx = holdout_index(everything, len(pack), cfg.eval_fraction, cfg.seed, cfg.num_images)
        train_rows, eval_rows = train_idx.numpy(), eval_idx.numpy()
    else:
        on_train, on_eval = np.flatnonzero(side == TRAIN), np.flatnonzero(side == EVAL)
        if len(on_train) == 0 or len(on_eval) == 0:
            raise DataError(f"{pack.root}: the pack has no {'train' if len(on_train) == 0 else 'eval'} images")
        train_idx, eval_idx = official_cap(_labels(pack, on_train), len(on_train), _labels(pack, on_eval),
                                           len(on_eval), cfg.num_images, cfg.seed)
        train_rows, eval_rows = on_train[train_idx.numpy()], on_eval[eval_idx.numpy()]
    train = _side(pack, train_rows, f"{base}/train", cfg, streams(cfg, len(train_rows)))
    train.skipped = list(pack.skipped)
    return Split(train=train, eval=_side(pack, eval_rows, f"{base}/eval", cfg, stream=False))
