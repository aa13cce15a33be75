"""Decode image files once into the uint8 store: in RAM, or into a memory-mapped ``.npy`` cache.

Files are decoded with PIL in a thread pool (PIL releases the GIL while decoding and resizing). A file
that cannot be read is skipped with a reason, never raised. The cache is keyed by the file list, their
sizes and modification times and the image size, and is written atomically, so a second load maps
it without decoding and an interrupted decode leaves nothing behind. The same decoder reads images
held as bytes (members of packed shards): the caller then names them and supplies the bytes and the key.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
import platformdirs
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

from labbench.atomic import atomic_write_text
from labbench.errors import DataError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"})
CACHE_VERSION = 1  # bump when the decoded pixels of a file would change
RAM_LIMIT = 512 << 20  # decoded bytes above which a store goes to the memory-mapped cache
_EXIF_ORIENTATION = 0x0112
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


def default_cache_dir() -> Path:
    """Where decoded stores are cached unless ``data.cache_dir`` says otherwise: the user's cache folder
    (``~/.cache/labbench/decoded`` on Linux, ``~/Library/Caches/labbench/decoded`` on macOS,
    ``%LOCALAPPDATA%\\labbench\\Cache\\decoded`` on Windows), never the data folder, which may be
    read-only, shared, or synchronised."""
    return Path(platformdirs.user_cache_dir("labbench", appauthor=False)) / "decoded"


@dataclass(frozen=True)
class Decoded:
    """The files that could be read, in input order: ``images`` uint8 K×3×S×S, ``kept`` their
    positions in the input list, ``skipped`` (path, reason) for the others."""

    images: Tensor
    kept: Tensor
    skipped: list[tuple[str, str]]


class UnreadableImage(DataError):
    """One image file could not be decoded; ``reason`` says why in a few words."""

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


def decode_image(source: str | bytes, size: int, name: str | None = None) -> np.ndarray:
    """uint8 3×size×size of one image file (a path, or the file's bytes named ``name``): EXIF rotation
    applied, any mode made RGB (alpha over white, 16-bit scaled to 8), shorter side resized to
    ``size``, centre-cropped. A file that cannot be decoded raises :class:`UnreadableImage`."""
    name = name or (source if isinstance(source, str) else "image bytes")
    with _reasons(name), open_image(source, name) as im:
        im.draft("RGB", (size, size))  # JPEG: let the decoder downscale by up to 8x, for free
        return _fit(upright_rgb(im), size)


def decode_full(source: str | bytes, name: str | None = None) -> np.ndarray:
    """uint8 H×W×3 of one image at its full resolution, upright and RGB as :func:`decode_image` makes it."""
    name = name or (source if isinstance(source, str) else "image bytes")
    with _reasons(name), open_image(source, name) as im:
        return np.array(_over_white(upright_rgb(im)))  # a copy: writable, as torch wants it


@contextmanager
def _reasons(name: str) -> Iterator[None]:
    """Any error while reading image ``name`` becomes an :class:`UnreadableImage` saying why in a few words."""
    try:
        yield
    except UnreadableImage:
        raise
    except Exception as err:  # noqa: BLE001 — format readers raise assorted errors on bad files
        raise UnreadableImage(name, _reason(err)) from None


def open_image(source: str | bytes, name: str) -> Image.Image:
    """PIL's lazy image (header read, pixels not yet decoded); empty files and decompression bombs refused."""
    if (os.stat(source).st_size if isinstance(source, str) else len(source)) == 0:
        raise UnreadableImage(name, "empty file (0 bytes)")
    im = Image.open(source if isinstance(source, str) else io.BytesIO(source))
    if im.width * im.height > (Image.MAX_IMAGE_PIXELS or float("inf")):  # PIL itself only warns here
        im.close()
        raise UnreadableImage(name, f"refused as a possible decompression bomb: {im.width}×{im.height} pixels")
    return im


def upright_rgb(im: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says, in RGB or (where it has transparency) RGBA."""
    if im.getexif().get(_EXIF_ORIENTATION, 1) != 1:
        im = ImageOps.exif_transpose(im)
    return _rgb_or_rgba(im)


def _over_white(im: Image.Image) -> Image.Image:
    if im.mode != "RGBA":
        return im
    white = Image.new("RGBA", im.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, im).convert("RGB")


def _fit(im: Image.Image, size: int) -> np.ndarray:
    """uint8 3×size×size: shorter side resized to ``size`` (bicubic, PIL's reducing gap), centre square,
    alpha over white."""
    w, h = im.size
    side = min(w, h)
    box = ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)
    im = im.resize((size, size), Image.Resampling.BICUBIC, box=box, reducing_gap=3.0)
    return np.asarray(_over_white(im)).transpose(2, 0, 1)


def _rgb_or_rgba(im: Image.Image) -> Image.Image:
    if im.mode in ("RGB", "RGBA"):
        return im
    if im.mode.startswith("I") or im.mode == "F":
        return Image.fromarray(_to_8bit(np.asarray(im), im.mode)).convert("RGB")
    if im.mode in _ALPHA_MODES or "transparency" in im.info:
        return im.convert("RGBA")
    return im.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV


def _to_8bit(pixels: np.ndarray, mode: str) -> np.ndarray:
    """Grey 16-bit, 32-bit integer or float pixels -> uint8 (PIL's own conversion clips instead)."""
    values = pixels.astype(np.float32)
    if mode.startswith("I;16") or (mode == "I" and values.max(initial=0) > 255):
        values = values.clip(0, 65535) / 257  # PIL opens 16-bit PNGs as I;16 or I
    elif mode == "F" and values.max(initial=0) <= 1.0:
        values = values * 255
    return values.clip(0, 255).round().astype(np.uint8)


def _reason(err: BaseException) -> str:
    if isinstance(err, UnreadableImage):
        return err.reason
    if isinstance(err, FileNotFoundError):
        return "file not found (removed, or a broken link)"
    if isinstance(err, PermissionError):
        return "permission denied"
    if isinstance(err, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return f"refused as a possible decompression bomb: {err}"
    if isinstance(err, UnidentifiedImageError):
        return "not an image, or a format PIL cannot read"
    return f"damaged or truncated ({type(err).__name__}: {err})"


#: the bytes of item i, for images that are not files of their own (members of packed shards)
ReadBytes = Callable[[int], bytes]


def _decode_chunk(out: np.ndarray, paths: Sequence[str], size: int, read: ReadBytes | None,
                  rows: np.ndarray) -> list[tuple[int, str]]:
    failed = []
    for i in rows.tolist():
        try:
            out[i] = decode_image(paths[i], size) if read is None else decode_image(read(i), size, paths[i])
        except Exception as err:  # an UnreadableImage, or what a test or a future reader raises: all mean "skip"
            failed.append((i, _reason(err)))
    return failed


def _decode_all(out: np.ndarray, paths: Sequence[str], size: int, read: ReadBytes | None) -> list[tuple[int, str]]:
    """Decode every file into its row of ``out``; return (row, reason) of the failures."""
    workers = os.cpu_count() or 1
    chunks = np.array_split(np.arange(len(paths)), max(1, min(len(paths), workers * 8)))
    pool = ThreadPoolExecutor(workers, thread_name_prefix="labbench-decode")
    try:
        # A pixel count past PIL's limit only warns; make it an error so that the file is skipped.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            results = list(pool.map(partial(_decode_chunk, out, paths, size, read), chunks))
    finally:
        pool.shutdown(cancel_futures=True)
    return sorted(f for chunk in results for f in chunk)


def _compact(out: np.ndarray, kept: np.ndarray, step: int = 1024) -> None:
    """Move the kept rows to the front, in order (each source row lies at or after its destination)."""
    for start in range(0, len(kept), step):
        rows = kept[start : start + step]
        if rows[0] != start or rows[-1] != start + len(rows) - 1:
            out[start : start + len(rows)] = out[rows]


def _kept(count: int, failed: list[tuple[int, str]]) -> np.ndarray:
    return np.setdiff1d(np.arange(count), [i for i, _ in failed]).astype(np.int64)


def _result(out: np.ndarray, paths: Sequence[str], failed: list[tuple[int, str]]) -> Decoded:
    kept = _kept(len(paths), failed)
    return Decoded(
        images=torch.from_numpy(out[: len(kept)]),
        kept=torch.from_numpy(kept),
        skipped=[(paths[i], reason) for i, reason in failed],
    )


def content_key(paths: Sequence[str], size: int) -> str:
    """Hash of the file list, each file's size and modification time, and the image size."""
    h = hashlib.sha256(f"labbench-decode-v{CACHE_VERSION}:{size}\n".encode())
    for path in paths:
        try:
            st = os.stat(path)
            stamp = (st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = (-1, -1)
        h.update(os.fsencode(path) + f"\0{stamp[0]}:{stamp[1]}\n".encode())
    return h.hexdigest()[:32]


def _read_cache(folder: Path, key: str, count: int, size: int) -> tuple[np.ndarray, list[tuple[int, str]]] | None:
    try:
        meta = json.loads((folder / f"{key}.json").read_text())
        failed = [(int(i), str(reason)) for i, reason in meta["failed"]]
        # copy-on-write mapping: torch gets a writable array, and writes never reach the file
        images = np.load(folder / f"{key}.npy", mmap_mode="c")
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent, or from an interrupted or foreign writer: decode again
    if meta.get("count") != count or images.shape != (count, 3, size, size) or images.dtype != np.uint8:
        return None
    return images, failed


def _write_cache(folder: Path, key: str, paths: Sequence[str], size: int, read: ReadBytes | None) -> None:
    """Decode into ``<key>.npy`` through a temporary file; the metadata goes first, the pixels last."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp.npy", dir=folder)
        os.close(fd)
    except OSError as err:
        raise DataError(f"cannot write the decode cache in {folder}: {err.strerror}; set data.cache_dir "
                        "to a writable folder") from None
    try:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(paths), 3, size, size))
        _reserve(tmp, out)
        failed = _decode_all(out, paths, size, read)
        _compact(out, _kept(len(paths), failed))
        out.flush()
        del out
        meta = {"count": len(paths), "size": size, "failed": failed}
        atomic_write_text(folder / f"{key}.json", json.dumps(meta))
        os.replace(tmp, folder / f"{key}.npy")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _reserve(path: str, out: np.memmap) -> None:
    """Allocate the file's blocks now: a full disk must fail here, not as SIGBUS on a mapped write."""
    if not hasattr(os, "posix_fallocate"):
        return
    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, out.offset + out.nbytes)
    except OSError as err:
        raise DataError(f"no room for the decode cache in {os.path.dirname(path)} "
                        f"({out.nbytes / 2**20:.0f} MiB needed): {err.strerror}") from None
    finally:
        os.close(fd)


def decode_many(paths: Sequence[str], size: int, read: ReadBytes | None = None) -> Decoded:
    """Decode ``paths`` (or, with ``read``, the bytes of the items they name) at ``size`` px into RAM, in
    the thread pool, with neither a cache nor a memo: for batches decoded as they are asked for."""
    out = np.empty((len(paths), 3, size, size), dtype=np.uint8)
    failed = _decode_all(out, paths, size, read)
    _compact(out, _kept(len(paths), failed))
    return _result(out, paths, failed)


def cache_dir_for(cache_dir: str | None, nbytes: int) -> Path | None:
    """Where a decoded store of ``nbytes`` lives: ``cache_dir`` when set, else in RAM up to ``RAM_LIMIT``
    and above it a memory-mapped file in :func:`default_cache_dir` (None means RAM)."""
    if cache_dir:
        return Path(cache_dir).expanduser()
    return default_cache_dir() if nbytes > RAM_LIMIT else None


@dataclass(frozen=True)
class _KeyedRead:
    """``read`` as an argument of the memo below: equal to another when their content keys are."""

    key: str
    read: ReadBytes = field(compare=False)

    def __call__(self, i: int) -> bytes:
        return self.read(i)


@lru_cache(maxsize=4)
def _decode_once(key: str, paths: tuple[str, ...], size: int, cache_dir: str | None, read: ReadBytes | None) -> Decoded:
    if cache_dir is None:
        return decode_many(paths, size, read)
    cached = _read_cache(Path(cache_dir), key, len(paths), size)
    if cached is None:
        _write_cache(Path(cache_dir), key, paths, size, read)
        cached = _read_cache(Path(cache_dir), key, len(paths), size)
        if cached is None:
            raise DataError(f"the decode cache in {cache_dir} vanished while it was written; load again")
    images, failed = cached
    return _result(images, paths, failed)


def decode_files(paths: Sequence[str], size: int, cache_dir: str | Path | None = None, *,
                 read: ReadBytes | None = None, key: str | None = None) -> Decoded:
    """Decode ``paths`` at ``size`` px into RAM, or through the memory-mapped cache in ``cache_dir``.

    Images held as bytes: ``paths`` are their names, ``read(i)`` gives item i's bytes and ``key``
    identifies their content (it keys the cache). Repeated calls in one process with unchanged files
    return the same decoded store.
    """
    if read is not None and key is None:
        raise ValueError("images read as bytes need a key that identifies their content")
    key = content_key(paths, size) if key is None else f"{key}-{size}"
    keyed = None if read is None else _KeyedRead(key, read)
    return _decode_once(key, tuple(paths), size, None if cache_dir is None else str(cache_dir), keyed)
