"""The decoded image store every source produces: square RGB uint8 images plus what is known about them."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from labbench.data.encoded import EncodedImages

UNLABELED = -1
"""Label of an image without a class inside a labelled set (STL-10's unlabeled split)."""


@dataclass
class ImageSet:
    """Images as one uint8 N×3×H×W tensor (in RAM, or a view over a memory-mapped file), or for a streamed
    training side an :class:`~labbench.data.encoded.EncodedImages` that decodes what is indexed.

    ``labels`` is int64 N (``UNLABELED`` marks images without a class) or None for an unlabeled set;
    ``masks`` holds bool N×H×W object masks where the source knows them (the shapes set).
    Sets handed out by a source may share storage with its in-process cache: treat them as read-only.
    """

    images: Tensor | EncodedImages
    labels: Tensor | None
    masks: Tensor | None
    class_names: list[str]
    name: str
    paths: list[str] | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = self.images.shape[0]
        if self.images.dtype != torch.uint8 or self.images.ndim != 4 or self.images.shape[1] != 3:
            raise ValueError(f"{self.name}: images must be uint8 N×3×H×W, got {self.images.dtype} "
                             f"{tuple(self.images.shape)}")
        if self.labels is not None and (self.labels.dtype != torch.int64 or self.labels.shape != (n,)):
            raise ValueError(f"{self.name}: labels must be int64 of length {n}")
        mask_shape = (n, *self.images.shape[2:])
        if self.masks is not None and (self.masks.dtype != torch.bool or self.masks.shape != mask_shape):
            raise ValueError(f"{self.name}: masks must be bool N×H×W matching the images")
        if self.paths is not None and len(self.paths) != n:
            raise ValueError(f"{self.name}: {len(self.paths)} paths for {n} images")

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def streamed(self) -> bool:
        """True when the images stay encoded in shards and are decoded as they are read."""
        return isinstance(self.images, EncodedImages)

    def subset(self, index: Tensor) -> ImageSet:
        """The images at ``index`` (integer indices or a boolean mask), as a new set."""
        index = torch.as_tensor(index)
        if index.dtype == torch.bool:
            index = index.nonzero().squeeze(1)
        index = index.long()
        return ImageSet(
            images=self.images.take(index) if self.streamed else self.images[index],
            labels=None if self.labels is None else self.labels[index],
            masks=None if self.masks is None else self.masks[index],
            class_names=list(self.class_names),
            name=self.name,
            paths=None if self.paths is None else [self.paths[i] for i in index.tolist()],
            skipped=list(self.skipped),
        )

    def labeled(self) -> ImageSet:
        """The images that have a class (all of them unless some are ``UNLABELED``)."""
        if self.labels is None or bool((self.labels >= 0).all()):
            return self
        return self.subset(self.labels >= 0)


@dataclass
class Split:
    """The images a method trains on and the held-out images it is measured on."""

    train: ImageSet
    eval: ImageSet


def fit_square(images: Tensor, size: int, chunk_pixels: int = 1 << 24) -> Tensor:
    """uint8 N×C×H×W (C = 1 or 3) -> uint8 N×3×size×size: shorter side resized to ``size``
    (antialiased bilinear), then centre-cropped; grey is repeated into RGB. RGB images already at
    ``size`` come back as they are (made contiguous)."""
    n, c, h, w = images.shape
    if (c, h, w) == (3, size, size):
        return images.contiguous()
    scale = size / min(h, w)
    rh, rw = max(size, round(h * scale)), max(size, round(w * scale))
    top, left = (rh - size) // 2, (rw - size) // 2
    out = torch.empty(n, 3, size, size, dtype=torch.uint8)
    step = max(1, chunk_pixels // (c * max(h * w, rh * rw)))  # bounds the float copy of one chunk
    for start in range(0, n, step):
        x = images[start : start + step]
        if (rh, rw) != (h, w):
            x = F.interpolate(x.float(), size=(rh, rw), mode="bilinear", antialias=True, align_corners=False)
            x = x.round_().clamp_(0, 255).to(torch.uint8)
        out[start : start + step] = x[:, :, top : top + size, left : left + size].expand(-1, 3, -1, -1)
    return out
