"""Sets that ship inside installed packages and need no download: scikit-learn's handwritten digits
and crops of scikit-image's bundled photographs."""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

from labbench.config import DataConfig
from labbench.data.split import holdout_split
from labbench.data.store import ImageSet, Split, fit_square
from labbench.errors import DataError

# Photographs stored in scikit-image's own package folder; the rest of skimage.data downloads on first use.
PHOTOS = (
    "astronaut", "brick", "camera", "chelsea", "clock", "coffee", "coins",
    "grass", "gravel", "hubble_deep_field", "immunohistochemistry", "moon", "retina", "rocket",
)
CROP_AREA = (0.05, 0.5)
"""Range of a crop's area as a share of its photo's largest centred square."""


def load_digits(cfg: DataConfig) -> Split:
    """scikit-learn's 1 797 handwritten digits (8×8, 17 grey levels; UCI optdigits), white ink on
    black like MNIST, upscaled to ``cfg.image_size``; split by ``cfg.eval_fraction``."""
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    ink = torch.from_numpy(np.rint(digits.images * (255 / 16)).astype(np.uint8))[:, None]
    data = ImageSet(
        images=fit_square(ink, cfg.image_size),
        labels=torch.from_numpy(digits.target).long(),
        masks=None,
        class_names=[str(d) for d in range(10)],
        name="digits",
    )
    return holdout_split(data, cfg.eval_fraction, cfg.seed, cfg.num_images)


@cache
def _photo(name: str) -> torch.Tensor:
    """uint8 3×H×W of one bundled photograph (grey ones repeated into RGB); read once per process."""
    import skimage.data

    pixels = np.asarray(getattr(skimage.data, name)())
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    return torch.from_numpy(np.ascontiguousarray(pixels[..., :3])).permute(2, 0, 1)


@lru_cache(maxsize=4)
def photo_crops(num_images: int, image_size: int, seed: int) -> ImageSet:
    """``num_images`` random square crops spread evenly over :data:`PHOTOS`; label = which photo.

    Crop side and position are drawn per crop (deterministic by ``seed``); each crop is resized with
    area averaging (``roi_align`` samples ~1 point per source pixel), so large crops do not alias.
    """
    rng = np.random.default_rng(seed)
    labels = torch.from_numpy(rng.permutation(np.arange(num_images) % len(PHOTOS))).long()
    images = torch.empty(num_images, 3, image_size, image_size, dtype=torch.uint8)
    # Shrink each photo first so that the smallest crop lands at about 1:1: the crops stay as sharp,
    # and roi_align no longer averages hundreds of samples per output pixel for the large ones.
    short_side = image_size / np.sqrt(CROP_AREA[0])
    for k, name in enumerate(PHOTOS):
        photo = _photo(name).float()[None]
        shrink = short_side / min(photo.shape[-2:])
        if shrink < 1:
            size = (round(photo.shape[-2] * shrink), round(photo.shape[-1] * shrink))
            photo = F.interpolate(photo, size=size, mode="bilinear", antialias=True, align_corners=False)
        h, w = photo.shape[-2:]
        idx = (labels == k).nonzero().squeeze(1)
        side = np.sqrt(rng.uniform(*CROP_AREA, len(idx))) * min(h, w)
        x0, y0 = rng.uniform(0, 1, len(idx)) * (w - side), rng.uniform(0, 1, len(idx)) * (h - side)
        boxes = torch.from_numpy(np.stack([np.zeros_like(side), x0, y0, x0 + side, y0 + side], axis=1)).float()
        crops = roi_align(photo, boxes, output_size=image_size, spatial_scale=1.0, sampling_ratio=-1, aligned=True)
        images[idx] = crops.round_().clamp_(0, 255).to(torch.uint8)
    return ImageSet(images=images, labels=labels, masks=None, class_names=list(PHOTOS), name="photos")


def load_photos(cfg: DataConfig) -> Split:
    """``cfg.num_images`` crops of the bundled photographs, split by ``cfg.eval_fraction`` (stratified)."""
    if cfg.num_images <= 0:
        raise DataError("data.num_images: the photos set is made of random crops, give how many (e.g. 6000)")
    return holdout_split(photo_crops(cfg.num_images, cfg.image_size, cfg.seed), cfg.eval_fraction, cfg.seed)
