"""Patch-level pretext inputs: random patch masks (MAE, iBOT) and overlapping patch grids (CPC).

Batched, with per-sample randomness drawn from a ``torch.Generator`` on the images' device; and the
way back from a patch mask to pixels, for showing what the model was given.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

#: where a patch was removed, a picture shows this grey (pictures in [0, 1])
MASK_GREY = 0.5


def random_patch_mask(batch: int, num_patches: int, mask_ratio: float | Tensor, g: torch.Generator) -> Tensor:
    """B×N bool, True where a patch is removed: ``N − ⌊N·(1−ratio)⌋`` patches per image, uniformly at random.

    MAE's per-sample random masking (He et al. 2022, §3, ``random_masking`` in models_mae.py): the
    ranks of uniform noise pick the removed patches, and ``⌊N·(1−ratio)⌋`` stay visible (49 of 196 at
    75 %). ``mask_ratio`` is one float, or a B tensor of per-image ratios (iBOT, Zhou et al. 2022).
    """
    noise = torch.rand(batch, num_patches, generator=g, device=g.device)
    ranks = noise.argsort(dim=1).argsort(dim=1)
    if isinstance(mask_ratio, Tensor):
        removed = num_patches - torch.floor(num_patches * (1 - mask_ratio.float())).reshape(-1, 1)
    else:
        removed = num_patches - visible_count(num_patches, mask_ratio)
    return ranks < removed


def patch_mask_pixels(mask: Tensor, patch_size: int) -> Tensor:
    """B×N patch mask over a square grid (row-major, as :func:`random_patch_mask`) -> B×1×H×W pixel
    mask, each patch ``patch_size`` px across."""
    grid = math.isqrt(mask.shape[1])
    pixels = mask.reshape(-1, 1, grid, grid)
    return pixels.repeat_interleave(patch_size, dim=2).repeat_interleave(patch_size, dim=3)


def grey_out(pictures: Tensor, pixel_mask: Tensor) -> Tensor:
    """Pictures in [0, 1] with the masked pixels grey (:data:`MASK_GREY`), as MAE's figures show removed patches."""
    return pictures.masked_fill(pixel_mask, MASK_GREY)


def visible_count(num_patches: int, mask_ratio: float) -> int:
    """Patches left visible per image at ``mask_ratio``: ``⌊N·(1−ratio)⌋`` (MAE's ``len_keep``)."""
    return int(num_patches * (1 - mask_ratio))


def visible_indices(mask: Tensor, num_visible: int) -> Tensor:
    """B×``num_visible`` indices of the patches ``mask`` keeps, in increasing order (every row keeps as many)."""
    # A stable sort puts the kept patches (0) first and in order; no host sync, unlike nonzero().
    return mask.to(torch.int8).argsort(dim=1, stable=True)[:, :num_visible]


def grid_geometry(image_size: int, grid: int, overlap: float) -> tuple[int, int, int]:
    """(patch side, stride, offset) in px of a grid×grid layout of square patches overlapping by ``overlap``.

    The largest patch for which ``patch + (grid−1)·stride`` fits the image, with
    ``stride = ⌊patch·(1−overlap)⌋``; the layout is centred. CPC's 256-px images with a 7×7 grid
    and 50 % overlap give 64-px patches at stride 32 (van den Oord et al. 2018, §3.3).
    """
    patch = int(image_size / (1 + (grid - 1) * (1 - overlap)))
    if patch < 1:
        raise ValueError(f"a {grid}×{grid} grid with {overlap:.0%} overlap does not fit {image_size}-px images")
    stride = max(1, int(patch * (1 - overlap)))
    covered = patch + (grid - 1) * stride
    return patch, stride, (image_size - covered) // 2


def patch_grid(images: Tensor, grid: int, overlap: float) -> Tensor:
    """B×C×S×S images -> B×grid×grid×C×P×P overlapping patches, row-major (see :func:`grid_geometry`)."""
    patch, stride, offset = grid_geometry(images.shape[-1], grid, overlap)
    covered = patch + (grid - 1) * stride
    x = images[..., offset : offset + covered, offset : offset + covered]
    return x.unfold(2, patch, stride).unfold(3, patch, stride).permute(0, 2, 3, 1, 4, 5)
