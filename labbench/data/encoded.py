"""A streamed training side: images that stay encoded in packed shards until somebody looks at them.

:class:`EncodedImages` stands where a source's uint8 N×3×S×S tensor would be (``ImageSet.images``):
indexing it decodes the images asked for, exactly as the store would have held them (shorter side to S,
centre square), so the k-NN monitors, evaluation and the window's dataset browser read a streamed set as
they read a decoded one. Training does not index it: the trainer's streamed batches read the encoded
bytes (:meth:`EncodedImages.read`) and cut their crops from the full-resolution images.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from labbench.data.decode import decode_image, decode_many
from labbench.errors import DataError

if TYPE_CHECKING:
    from labbench.data.shards import PackedSet


class EncodedImages:
    """uint8 images N×3×``size``×``size`` of ``pack``'s ``rows``, decoded when indexed.

    ``images[i]`` is one 3×S×S image, ``images[a:b]`` and ``images[index]`` (integer or boolean) are K×3×S×S,
    decoded in a thread pool; ``take(index)`` is a lazy subset. Read-only, like a shared store.
    """

    dtype = torch.uint8
    ndim = 4

    def __init__(self, pack: PackedSet, rows: np.ndarray, size: int) -> None:
        self.pack = pack
        self.rows = np.asarray(rows, dtype=np.int64)
        self.size = size

    @property
    def shape(self) -> torch.Size:
        return torch.Size((len(self.rows), 3, self.size, self.size))

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"EncodedImages({len(self)} images at {self.size} px in {self.pack.root})"

    def _positions(self, key) -> np.ndarray:
        if isinstance(key, slice):
            return np.arange(len(self))[key]
        index = key.numpy() if isinstance(key, Tensor) else np.asarray(key)
        if index.dtype == bool:
            return np.flatnonzero(index)
        return np.arange(len(self))[index.astype(np.int64)]  # bounds-checked, negatives allowed

    def __getitem__(self, key) -> Tensor:
        if isinstance(key, (int, np.integer)):
            row = int(self.rows[key])
            try:
                pixels = decode_image(self.pack.read(row), self.size, self.pack.member(row))
                return torch.from_numpy(pixels.copy())  # PIL's buffer is read-only
            except DataError as err:
                raise _damaged(err) from None
        rows = self.rows[self._positions(key)]
        decoded = decode_many([self.pack.member(int(r)) for r in rows], self.size, lambda i: self.pack.read(int(rows[i])))
        if decoded.skipped:
            member, reason = decoded.skipped[0]
            raise DataError(f"{member}: {reason}; the pack is damaged, pack the folder again")
        return decoded.images

    def take(self, index) -> EncodedImages:
        """The images at ``index`` (integer or boolean) as a new lazy set; nothing is decoded."""
        return EncodedImages(self.pack, self.rows[self._positions(index)], self.size)

    # -- what streamed batches read --------------------------------------------------------------

    def read(self, i: int) -> bytes:
        """The encoded file of image ``i``, as it was packed."""
        return self.pack.read(int(self.rows[i]))

    def name(self, i: int) -> str:
        return self.pack.member(int(self.rows[i]))

    def full_sizes(self, positions: np.ndarray) -> tuple[Tensor, Tensor]:
        """Heights and widths (int64) of the images at ``positions``, upright, at their full resolution."""
        rows = self.rows[positions]
        return (torch.from_numpy(self.pack.columns["height"][rows].astype(np.int64)),
                torch.from_numpy(self.pack.columns["width"][rows].astype(np.int64)))

    def gpu_ready(self, i: int) -> bool:
        """Whether nvJPEG can decode image ``i`` as it is (a JPEG in RGB or grey, upright)."""
        return bool(self.pack.columns["gpu_ready"][self.rows[i]])

    def groups(self) -> list[np.ndarray]:
        """Positions of the images grouped by the shard that holds them, in shard order: a rank reads whole groups."""
        shard = self.pack.columns["shard"][self.rows]
        order = np.argsort(shard, kind="stable")
        bounds = np.flatnonzero(np.diff(shard[order])) + 1
        return [g for g in np.split(order, bounds) if len(g)]


def _damaged(err: DataError) -> DataError:
    return DataError(f"{err}; every file was decoded once when packed, so the pack is damaged: pack the folder again")
