"""``labbench data pack FOLDER OUT``: a folder of images written once as WebDataset shards (see
:mod:`labbench.data.shards` for the layout and why).

Every file is decoded once here, so that a file that cannot be read is skipped now, with its reason,
and never stops a training run; its bytes are then stored as they are (no re-encoding, no loss),
unless ``max_side`` asks to shrink larger images. Images are written in a seeded shuffled order,
so that the images of one class are spread over all shards and every batch a rank streams mixes the
classes. Each shard is written to a temporary file and renamed when complete; the index is written
last, so an interrupted pack is never mistaken for a whole one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from labbench.atomic import atomic_write, atomic_write_text
from labbench.data.decode import UnreadableImage, _reason, open_image, upright_rgb
from labbench.data.folder import scan_folder
from labbench.data.shards import COLUMNS, EVAL, INDEX_JSON, INDEX_NPZ, PACK_VERSION, TRAIN, UNSPLIT
from labbench.errors import DataError

DEFAULT_SHARD_MB = 256.0
_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "BMP": "bmp", "TIFF": "tif", "GIF": "gif"}
_EXIF_ORIENTATION = 0x0112
_TRANSPOSED = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height
#: members of a tar carry no owner, time or mode of the packing machine: the same folder packs to the same bytes
_MEMBER_MODE = 0o644


@dataclass
class PackReport:
    """What a pack wrote: images, shards, their bytes on disk, the files it skipped (path, reason), seconds."""

    out: Path
    images: int
    shards: int
    bytes: int
    source_bytes: int
    seconds: float
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Prepared:
    """One image ready to be written: its file's bytes and what the index records about it."""

    data: bytes
    ext: str
    width: int
    height: int
    gpu_ready: bool
    source_bytes: int


def _prepare(path: str, max_side: int) -> _Prepared:
    """Read and decode one file (raising UnreadableImage when it cannot be); shrink it if asked."""
    with open(path, "rb") as f:
        data = f.read()
    with open_image(data, path) as im:
        fmt, mode, (width, height) = im.format, im.mode, im.size
        orientation = im.getexif().get(_EXIF_ORIENTATION, 1)
        # decoding at 1/8 scale still reads every compressed byte, so a truncated or damaged file fails
        # here, at a fraction of the cost of a full decode
        im.draft(mode, (max(1, width // 8), max(1, height // 8)))
        im.load()
    if orientation in _TRANSPOSED:
        width, height = height, width
    if not max_side or max(width, height) <= max_side:
        # nvJPEG decodes RGB and grey JPEGs but knows nothing of EXIF: a turned one is decoded on the CPU
        gpu_ready = fmt == "JPEG" and mode in ("RGB", "L") and orientation == 1
        ext = _EXTENSIONS.get(fmt or "", Path(path).suffix.lstrip(".").lower())
        return _Prepared(data, ext, width, height, gpu_ready, len(data))
    scale = max_side / max(width, height)
    with open_image(data, path) as im:
        small = upright_rgb(im).resize((max(1, round(width * scale)), max(1, round(height * scale))),
                                       Image.Resampling.BICUBIC, reducing_gap=3.0)
    fmt = "JPEG" if fmt == "JPEG" and small.mode == "RGB" else "PNG"
    buffer = io.BytesIO()
    small.save(buffer, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return _Prepared(buffer.getvalue(), _EXTENSIONS[fmt], *small.size, fmt == "JPEG", len(data))


def _try_prepare(path: str, max_side: int) -> _Prepared | str:
    """The prepared image, or why it was skipped."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _prepare(path, max_side)
    except UnreadableImage as err:
        return err.reason
    except Exception as err:  # noqa: BLE001 — format readers raise assorted errors on bad files
        return _reason(err)


def _prepare_row(paths: list[str], max_side: int, i: int) -> tuple[int, _Prepared | str]:
    return i, _try_prepare(paths[i], max_side)


def _in_order(pool: ThreadPoolExecutor, fn: Callable, items: Iterable, ahead: int) -> Iterator:
    """``map(fn, items)`` in the pool, in order, with at most ``ahead`` results held in memory."""
    pending: deque[Future] = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


class _ShardWriter:
    """Tar shards ``<prefix>-000000.tar`` … of at most ``shard_bytes`` each (one image more if it alone is
    larger); shard numbers in the index continue from ``first_index`` across the prefixes."""

    def __init__(self, out: Path, prefix: str, shard_bytes: int, first_index: int) -> None:
        self.out, self.prefix, self.shard_bytes, self.first_index = out, prefix, shard_bytes, first_index
        self.number = -1
        self.files: list[dict] = []
        self.tar: tarfile.TarFile | None = None

    @property
    def name(self) -> str:
        return f"{self.prefix}-{self.number:06d}.tar"

    @property
    def tmp(self) -> Path:
        return self.out / f".{self.name}.tmp"

    def add(self, key: str, members: list[tuple[str, bytes]]) -> tuple[int, int]:
        """Write one image's members; (its shard's index, byte offset of the first member's data)."""
        needed = sum(512 + -(-len(data) // 512) * 512 for _, data in members)  # header + padded data
        if self.tar is None or (self.tar.offset > 0 and self.tar.offset + needed > self.shard_bytes):
            self._next()
        first = None
        for suffix, data in members:
            info = tarfile.TarInfo(f"{key}.{suffix}")
            info.size, info.mode, info.mtime = len(data), _MEMBER_MODE, 0
            header = info.tobuf(self.tar.format, self.tar.encoding, self.tar.errors)  # what addfile writes
            first = self.tar.offset + len(header) if first is None else first
            self.tar.addfile(info, io.BytesIO(data))
        return self.first_index + self.number, first

    def _next(self) -> None:
        self.close()
        self.number += 1
        self.tar = tarfile.open(self.tmp, "w", format=tarfile.USTAR_FORMAT)  # noqa: SIM115 — open across add() calls

    def close(self) -> None:
        """Finish the open shard: complete, it takes its final name."""
        if self.tar is None:
            return
        self.tar.close()
        final = self.out / self.name
        os.replace(self.tmp, final)
        self.files.append({"file": final.name, "bytes": final.stat().st_size})
        self.tar = None

    def discard(self) -> None:
        """Drop the open shard (the pack was interrupted)."""
        if self.tar is not None:
            self.tar.close()
            self.tmp.unlink(missing_ok=True)
            self.tar = None


#: the dtype of each column of ``index.npz``
_DTYPES = {"shard": np.int32, "offset": np.int64, "length": np.int64, "label": np.int64, "side": np.int8,
           "width": np.int32, "height": np.int32, "gpu_ready": np.bool_, "name": np.str_}


class _Index:
    """The index's rows of the images written so far, one list per column of ``index.npz``."""

    def __init__(self) -> None:
        self.rows: dict[str, list] = {name: [] for name in COLUMNS}

    def __len__(self) -> int:
        return len(self.rows["offset"])

    def add(self, **values) -> None:
        for name in COLUMNS:
            self.rows[name].append(values[name])

    def write(self, out: Path, shards: list[dict], class_names: list[str], skipped: list[tuple[str, str]]) -> None:
        """``index.npz``, then ``index.json`` (last: its presence says the pack is whole)."""
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **{name: np.asarray(self.rows[name], dtype=_DTYPES[name]) for name in COLUMNS})
        atomic_write(out / INDEX_NPZ, lambda f: f.write(buffer.getvalue()))
        meta = {"version": PACK_VERSION, "id": hashlib.sha256(buffer.getvalue()).hexdigest()[:32], "images": len(self),
                "class_names": class_names, "shards": shards, "skipped": skipped}
        atomic_write_text(out / INDEX_JSON, json.dumps(meta, indent=1))


def pack_folder(
    folder: str,
    out: str | Path,
    *,
    shard_mb: float = DEFAULT_SHARD_MB,
    max_side: int = 0,
    seed: int = 0,
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PackReport:
    """Pack the images under ``folder`` (labelled and split as the folder source reads it) into ``out``.

    ``shard_mb``: the size of a shard; ``max_side`` > 0 shrinks larger images so their longer side is
    that many pixels (re-encoded: JPEG at quality 95, else PNG); ``progress(done, total)`` is called as
    images are written. ``out`` must be new or empty.
    """
    started = time.perf_counter()
    scan = scan_folder(folder)
    out = Path(out).expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(f"{out}: {'not a folder' if not out.is_dir() else 'not empty'}; "
                        "pack into a new folder (a pack is never written over another)")
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sides = [("all", UNSPLIT, scan.train, scan.train_labels)] if scan.held is None else [
        ("train", TRAIN, scan.train, scan.train_labels), ("eval", EVAL, scan.held, scan.eval_labels)]
    total = sum(len(part.paths) for _, _, part, _ in sides)
    index, shards, skipped = _Index(), [], list(scan.problems)
    source_bytes, done = 0, 0
    threads = threads or os.cpu_count() or 1
    with ThreadPoolExecutor(threads, thread_name_prefix="labbench-pack") as pool:
        for prefix, side, part, labels in sides:
            writer = _ShardWriter(out, prefix, int(shard_mb * 2**20), len(shards))
            try:
                order = rng.permutation(len(part.paths))
                for i, item in _in_order(pool, partial(_prepare_row, part.paths, max_side), order, 8 * threads):
                    done += 1
                    if isinstance(item, str):
                        skipped.append((part.paths[i], item))
                    else:
                        label = -1 if labels is None else int(labels[i])
                        members = [(item.ext, item.data)] + ([("cls", str(label).encode())] if labels is not None else [])
                        shard, offset = writer.add(f"{len(index):08d}", members)
                        index.add(shard=shard, offset=offset, length=len(item.data), label=label, side=side,
                                  width=item.width, height=item.height, gpu_ready=item.gpu_ready,
                                  name=os.path.relpath(part.paths[i], scan.root))
                        source_bytes += item.source_bytes
                    if progress is not None:
                        progress(done, total)
                writer.close()
            except BaseException:
                writer.discard()
                raise
            shards += writer.files
    if not len(index):
        raise DataError(f"{scan.root}: none of the {total} image files could be read "
                        f"(first: {skipped[0][0]}: {skipped[0][1]})")
    index.write(out, shards, scan.class_names, skipped)
    return PackReport(out, len(index), len(shards), sum(s["bytes"] for s in shards), source_bytes,
                      time.perf_counter() - started, skipped)
