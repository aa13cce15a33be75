"""Packed shards: a folder of images as WebDataset tar files and a columnar index, made once by
``labbench data pack`` (:mod:`labbench.data.pack`) and read here.

A packed folder holds::

    index.json               format version, class names, shard files with their sizes, files skipped at packing
    index.npz                one row per image: its shard, the byte offset and length of its file there, label,
                             side (train / eval / unsplit), upright width and height, nvJPEG-ready flag, name
    train-000000.tar …       POSIX tar files in WebDataset's layout: ``<key>.<ext>`` holds the image file's
                             bytes as they were on disk, ``<key>.cls`` its class index as text

Why WebDataset tars: a plain POSIX format that every tool reads (``tar tf``, Python's ``tarfile``, the
``webdataset`` library, Hugging Face's and OpenCLIP's loaders), with no service and no schema; a few
hundred files of ~256 MB instead of millions of small ones, which network file systems and object
stores serve far better; each shard is read by one process (each rank under torchrun reads its own).
The index beside them (not part of WebDataset, which streams tars in order) is what lets a rank read
any image with one ``pread`` at a known offset: the epoch order stays a seeded permutation that
resumes exactly mid-epoch, and the window's browser and the k-NN monitors can look at single images.
"""

from __future__ import annotations

import json
import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from labbench.errors import DataError

PACK_VERSION = 1
INDEX_JSON = "index.json"
INDEX_NPZ = "index.npz"
#: the ``side`` column: images of a train/ folder, of a val/ or test/ folder, or of an unsplit folder
TRAIN, EVAL, UNSPLIT = 0, 1, 2
#: the per-image columns of ``index.npz``
COLUMNS = ("shard", "offset", "length", "label", "side", "width", "height", "gpu_ready", "name")


@dataclass
class PackedSet:
    """An opened pack: its index in memory, its shards read with ``pread`` on demand.

    Safe to share between threads (positional reads) and to send to DataLoader workers (open files are
    not pickled; each process opens its own).
    """

    root: Path
    class_names: list[str]
    shards: list[str]
    columns: dict[str, np.ndarray]
    skipped: list[tuple[str, str]]
    key: str
    _files: dict[int, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        weakref.finalize(self, _close_files, self._files)  # the shards this process opened, closed with the pack

    def __len__(self) -> int:
        return len(self.columns["offset"])

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_files": {}}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    @property
    def labels(self) -> np.ndarray | None:
        """int64 class of every image, or None when the packed folder had no class folders."""
        return self.columns["label"] if self.class_names else None

    def shard_path(self, shard: int) -> Path:
        return self.root / self.shards[shard]

    def member(self, row: int) -> str:
        """Where image ``row`` lies, for messages: ``<shard>.tar:<name>``."""
        return f"{self.shard_path(int(self.columns['shard'][row]))}:{self.columns['name'][row]}"

    def read(self, row: int) -> bytes:
        """The encoded file of image ``row``, as it was when packed."""
        shard = int(self.columns["shard"][row])
        offset, length = int(self.columns["offset"][row]), int(self.columns["length"][row])
        try:
            data = _pread(self._file(shard), length, offset)
        except OSError as err:
            raise DataError(f"{self.shard_path(shard)}: cannot be read ({err.strerror}); is the pack complete?") from None
        if len(data) != length:
            raise DataError(f"{self.shard_path(shard)}: shorter than its index says (truncated?); pack the folder again")
        return data

    def _file(self, shard: int) -> int:
        fd = self._files.get(shard)
        if fd is None:
            opened = os.open(self.shard_path(shard), os.O_RDONLY | getattr(os, "O_BINARY", 0))
            fd = self._files.setdefault(shard, opened)  # two threads may open it at once: one file is kept
            if fd != opened:
                os.close(opened)
        return fd


def _close_files(files: dict[int, int]) -> None:
    for fd in files.values():
        os.close(fd)
    files.clear()


def _pread(fd: int, length: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, length, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # Windows has no pread; its DataLoader workers are processes, not threads
    return os.read(fd, length)


def is_pack(folder: str | Path) -> bool:
    return (Path(folder) / INDEX_JSON).is_file()


def open_pack(folder: str | Path) -> PackedSet:
    """The pack in ``folder``; a missing, partial or foreign one raises a DataError that says what to do."""
    root = Path(folder).expanduser().resolve()
    if not root.is_dir():
        raise DataError(f"{root}: {'not a folder' if root.exists() else 'no such folder'}")
    if not is_pack(root):
        raise DataError(f"{root}: not a packed set (no {INDEX_JSON}); make one with: labbench data pack FOLDER {root}")
    try:
        meta = json.loads((root / INDEX_JSON).read_text(encoding="utf-8"))
        with np.load(root / INDEX_NPZ, allow_pickle=False) as npz:
            columns = {name: npz[name] for name in COLUMNS}
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as err:
        raise DataError(f"{root}: the pack's index cannot be read ({err}); pack the folder again") from None
    if meta.get("version") != PACK_VERSION:
        raise DataError(f"{root}: packed by another version of labbench (format {meta.get('version')}, "
                        f"this one reads {PACK_VERSION}); pack the folder again")
    shards = [s["file"] for s in meta["shards"]]
    for s in meta["shards"]:
        path = root / s["file"]
        if not path.is_file() or path.stat().st_size != s["bytes"]:
            raise DataError(f"{path}: missing or not the size the index says ({s['bytes']} bytes); "
                            "copy the whole pack again, or pack the folder again")
    return PackedSet(root, list(meta["class_names"]), shards, columns,
                     [(str(p), str(r)) for p, r in meta.get("skipped", [])], str(meta["id"]))
