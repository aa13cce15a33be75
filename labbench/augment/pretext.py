"""Pretext-task targets, batched on the device: rotations, patch pairs, jigsaw tiles, inpainting masks, Lab colour.

Each builder turns a batch of images into the inputs and labels a pretext method trains on, with
every random choice drawn from the generator ``g`` on the images' device. Images are float32
B×3×H×W; positions are int64 (top, left) pixel corners.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

from labbench.augment.color import rgb_to_gray
from labbench.augment.crops import CropSpec, DecodedCrops, take_crop
from labbench.augment.ops import hflip
from labbench.config import AugmentConfig


def crop_flip(images: Tensor | DecodedCrops, size: int, augment: AugmentConfig, g: torch.Generator) -> Tensor:
    """uint8 images -> float [0, 1] views: a random resized crop and a flip, the augment section's
    crop and flip settings, no colour ops (pretext methods that read colour must not have it changed)."""
    x = take_crop(images, CropSpec(size, augment.crop_scale, augment.crop_ratio), g)
    return hflip(x, augment.flip_p, g) if augment.flip_p > 0 else x


# -- rotation (Gidaris et al., ICLR 2018) --------------------------------------------------------


def all_rotations(x: Tensor) -> tuple[Tensor, Tensor]:
    """Every image turned by 0°, 90°, 180° and 270° counter-clockwise: 4B images (rotation-major) and
    labels k = 0..3 (k·90°). RotNet feeds all four rotations of each image in the same batch."""
    rotated = torch.cat([torch.rot90(x, k, dims=(-2, -1)) for k in range(4)])
    labels = torch.arange(4, device=x.device).repeat_interleave(x.shape[0])
    return rotated, labels


# -- patch crops shared by relative location and jigsaw ------------------------------------------


def crop_patches(x: Tensor, tops: Tensor, lefts: Tensor, size: int) -> Tensor:
    """Square crops: ``x`` B×C×H×W and corners B×K -> B×K×C×size×size (gathered, no loop)."""
    offsets = torch.arange(size, device=x.device)
    rows = (tops[..., None] + offsets)[:, :, :, None]  # B×K×size×1
    cols = (lefts[..., None] + offsets)[:, :, None, :]  # B×K×1×size
    batch = torch.arange(x.shape[0], device=x.device).view(-1, 1, 1, 1)
    return x.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 1, 4, 2, 3)


def _randint(high: int, shape: tuple[int, ...], g: torch.Generator) -> Tensor:
    """Uniform integers in [0, high] (inclusive), drawn on ``g``'s device."""
    return (torch.rand(shape, generator=g, device=g.device) * (high + 1)).long()


# -- relative patch location (Doersch, Gupta, Efros, ICCV 2015) ----------------------------------

#: (row, column) offset of the neighbour from the centre patch for labels 0..7: the 3×3 grid read
#: row by row, the centre skipped (0 = top-left, 1 = above, 2 = top-right, 3 = left, 4 = right, ...).
NEIGHBOUR_OFFSETS: tuple[tuple[int, int], ...] = tuple(
    (dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)
)
NEIGHBOUR_NAMES = ("top-left", "above", "top-right", "left", "right", "bottom-left", "below", "bottom-right")


@dataclass(frozen=True)
class PatchGrid:
    """Geometry of Doersch's 3×3 patch grid in pixels: patch side, gap between patches, and the
    largest jitter of each patch along each axis. The grid with jitter spans ``extent`` pixels."""

    patch: int
    gap: int
    jitter: int

    @property
    def extent(self) -> int:
        return 3 * self.patch + 2 * self.gap + 2 * self.jitter


def patch_grid(image_size: int, gap_ratio: float, jitter_ratio: float, multiple_of: int = 1) -> PatchGrid:
    """The largest grid that fits the image, gap and jitter as fractions of the patch side.

    Doersch et al.: 96-px patches, a 48-px gap (ratio 0.5), jitter up to 7 px (ratio 0.073).
    ``multiple_of`` keeps the patch side a multiple of a ViT's patch size.
    """
    for patch in range(image_size // 3, 0, -1):
        if patch % multiple_of:
            continue
        grid = PatchGrid(patch, int(gap_ratio * patch + 0.5), int(jitter_ratio * patch + 0.5))
        if grid.extent <= image_size:
            return grid
    raise ValueError(f"no 3×3 patch grid fits a {image_size}-px image (patch side a multiple of {multiple_of})")


def patch_grid_corners(n: int, image_size: int, grid: PatchGrid, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """Corners (tops, lefts, each n×9 row-major) of a randomly placed grid with every patch jittered.

    The grid's origin is uniform over the slack left in the image; each patch then moves by up to
    ``grid.jitter`` px along each axis: no patch leaves the image, and a gap shrinks by at most 2·jitter.
    """
    origin = _randint(image_size - grid.extent, (n, 2, 1), g)
    jitter = _randint(2 * grid.jitter, (n, 2, 9), g)
    cell = torch.arange(3, device=g.device) * (grid.patch + grid.gap)
    rows, cols = cell.repeat_interleave(3), cell.repeat(3)
    corners = origin + jitter + torch.stack([rows, cols])  # n×2×9
    return corners[:, 0], corners[:, 1]


def patch_pair_corners(n: int, image_size: int, grid: PatchGrid, g: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    """Doersch's sampling: a grid per image, its centre patch and one of the 8 neighbours (uniform).

    Returns tops and lefts (n×2: centre, neighbour) and the neighbour's label (n), the index of its
    offset in ``NEIGHBOUR_OFFSETS``.
    """
    tops, lefts = patch_grid_corners(n, image_size, grid, g)
    labels = _randint(7, (n,), g)
    position = labels + (labels >= 4).long()  # grid index 0..8, skipping the centre (4)
    index = torch.stack([torch.full_like(position, 4), position], dim=1)
    return tops.gather(1, index), lefts.gather(1, index), labels


def drop_color_channels(x: Tensor, g: torch.Generator, noise_ratio: float = 0.01) -> Tensor:
    """Doersch's colour dropping: keep one random channel per image, replace the other two by Gaussian
    noise with std ``noise_ratio`` × the kept channel's std, against the chromatic-aberration shortcut."""
    n, c = x.shape[:2]
    keep = _randint(c - 1, (n,), g)
    kept = x.gather(1, keep.view(n, 1, 1, 1).expand(n, 1, *x.shape[2:]))
    noise = torch.randn(x.shape, generator=g, device=x.device) * noise_ratio * kept.std(dim=(2, 3), keepdim=True)
    return torch.where(torch.arange(c, device=x.device).view(1, c, 1, 1) == keep.view(n, 1, 1, 1), x, noise)


def gray_patches(x: Tensor, p: float, g: torch.Generator) -> Tensor:
    """Each image replaced by its luma in all three channels with probability ``p`` (values in [0, 1])."""
    coin = torch.rand(x.shape[0], generator=g, device=x.device).view(-1, 1, 1, 1) < p
    return torch.where(coin, rgb_to_gray(x).expand_as(x), x)


# -- jigsaw puzzles (Noroozi & Favaro, ECCV 2016) ------------------------------------------------


def jigsaw_tile_size(image_size: int, tile_ratio: float, multiple_of: int = 1) -> int:
    """Tile side for a 3×3 puzzle: ``tile_ratio`` of the cell (paper: 64 of 75 px), rounded down to
    ``multiple_of``; the rest of the cell is room for the random shift that hides edge continuity."""
    cell = image_size // 3
    tile = int(tile_ratio * cell) // multiple_of * multiple_of
    if tile < 1:
        raise ValueError(f"a {image_size}-px image has {cell}-px cells: no tile of ratio {tile_ratio} fits "
                         f"(multiple of {multiple_of} px)")
    return tile


def jigsaw_tiles(x: Tensor, tile: int, g: torch.Generator) -> Tensor:
    """The 3×3 cells of each image (row-major), each cut to a random ``tile``-px square inside its
    cell (Noroozi's tile jitter): B×9×C×tile×tile."""
    n, cell = x.shape[0], x.shape[-1] // 3
    shift = _randint(cell - tile, (n, 2, 9), g)
    base = torch.arange(3, device=x.device) * cell
    tops = base.repeat_interleave(3) + shift[:, 0]
    lefts = base.repeat(3) + shift[:, 1]
    return crop_patches(x, tops, lefts, tile)


def standardize_tiles(tiles: Tensor, min_std: float = 0.01) -> Tensor:
    """Every tile (and channel) to zero mean and unit std on its own (Noroozi & Favaro, §3.2),
    so low-level statistics shared by neighbours stop being a shortcut. ``min_std`` keeps flat tiles flat."""
    mean = tiles.mean(dim=(-2, -1), keepdim=True)
    std = tiles.std(dim=(-2, -1), keepdim=True).clamp(min=min_std)
    return (tiles - mean) / std


@lru_cache(maxsize=4)
def _maximal_hamming(count: int, seed: int) -> tuple[tuple[int, ...], ...]:
    candidates = np.array(list(itertools.permutations(range(9))), dtype=np.int8)
    columns = np.ascontiguousarray(candidates.T)  # position by position: 5× faster than a row-wise sum
    available = np.ones(len(candidates), dtype=bool)
    summed = np.zeros(len(candidates), dtype=np.int64)
    j = int(np.random.default_rng(seed).integers(len(candidates)))
    chosen = []
    for _ in range(count):
        chosen.append(j)
        available[j] = False
        for position, tile in enumerate(candidates[j]):
            summed += columns[position] != tile
        j = int(np.argmax(np.where(available, summed, -1)))
    return tuple(tuple(int(v) for v in candidates[i]) for i in chosen)


def maximal_hamming_permutations(count: int, seed: int = 0) -> Tensor:
    """``count`` permutations of 9 tiles chosen greedily for large Hamming distance (Noroozi &
    Favaro, §3.3, Algorithm 1): start from a random one (``seed``), then repeatedly add the permutation
    whose summed distance to those chosen so far is largest. count×9 int64."""
    if not 1 <= count <= math.factorial(9):
        raise ValueError(f"count must be between 1 and 9! (got {count})")
    return torch.tensor(_maximal_hamming(count, seed), dtype=torch.long)


def hamming_distances(perms: Tensor) -> Tensor:
    """P×P matrix of positions at which two permutations differ."""
    return (perms[:, None, :] != perms[None, :, :]).sum(dim=-1)


def shuffle_tiles(tiles: Tensor, perms: Tensor) -> Tensor:
    """Puzzle position i gets tile ``perms[b, i]``: tiles B×9×… and perms B×9."""
    index = perms.view(*perms.shape, *([1] * (tiles.dim() - 2))).expand_as(tiles)
    return tiles.gather(1, index)


def unshuffle_tiles(shuffled: Tensor, perms: Tensor) -> Tensor:
    """The inverse of :func:`shuffle_tiles`: back to the original tile order."""
    return shuffle_tiles(shuffled, perms.argsort(dim=1))


# -- inpainting masks (Pathak et al., CVPR 2016) -------------------------------------------------


def center_mask(n: int, size: int, area: float, device: torch.device | str) -> Tensor:
    """Bool n×1×size×size, True on the central square covering ``area`` of the image (paper: 1/4)."""
    side = round(size * math.sqrt(area))
    start = (size - side) // 2
    mask = torch.zeros(n, 1, size, size, dtype=torch.bool, device=device)
    mask[..., start : start + side, start : start + side] = True
    return mask


def random_block_mask(n: int, size: int, area: float, blocks: int, g: torch.Generator) -> Tensor:
    """``blocks`` squares per image at random places, each ``area / blocks`` of the image; they may
    overlap, so together they cover at most ``area`` (Pathak's random-block masks)."""
    side = max(1, round(size * math.sqrt(area / blocks)))
    corners = _randint(size - side, (n, 2, blocks), g)
    coords = torch.arange(size, device=g.device)
    rows = (coords.view(1, 1, -1) >= corners[:, 0, :, None]) & (coords.view(1, 1, -1) < corners[:, 0, :, None] + side)
    cols = (coords.view(1, 1, -1) >= corners[:, 1, :, None]) & (coords.view(1, 1, -1) < corners[:, 1, :, None] + side)
    return (rows[:, :, :, None] & cols[:, :, None, :]).any(dim=1, keepdim=True)


# -- CIE Lab colour (Zhang, Isola, Efros, ECCV 2016) ---------------------------------------------
# sRGB (D65, 2° observer) with scikit-image's constants, so rgb_to_lab matches skimage.color.rgb2lab.

_XYZ_FROM_RGB = ((0.412453, 0.357580, 0.180423), (0.212671, 0.715160, 0.072169), (0.019334, 0.119193, 0.950227))
_WHITE = (0.95047, 1.0, 1.08883)


def _matrix(x: Tensor, m: Tensor) -> Tensor:
    return torch.einsum("ij,bj...->bi...", m.to(x.dtype), x)


def rgb_to_lab(rgb: Tensor) -> Tensor:
    """sRGB in [0, 1], B×3×H×W -> CIE Lab (L in [0, 100], a and b roughly in [−110, 110])."""
    linear = torch.where(rgb > 0.04045, ((rgb.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = _matrix(linear, torch.tensor(_XYZ_FROM_RGB, device=rgb.device))
    xyz = xyz / torch.tensor(_WHITE, device=rgb.device, dtype=rgb.dtype).view(1, 3, 1, 1)
    f = torch.where(xyz > 0.008856, xyz.clamp(min=0.008856) ** (1 / 3), 7.787 * xyz + 16 / 116)
    fx, fy, fz = f.unbind(dim=1)
    return torch.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], dim=1)


def lab_to_rgb(lab: Tensor) -> Tensor:
    """CIE Lab B×3×H×W -> sRGB in [0, 1]; colours outside the gamut are clipped (as skimage's lab2rgb)."""
    L, a, b = lab.unbind(dim=1)
    fy = (L + 16) / 116
    f = torch.stack([fy + a / 500, fy, (fy - b / 200).clamp(min=0)], dim=1)
    xyz = torch.where(f > 0.2068966, f**3, (f - 16 / 116) / 7.787)
    xyz = xyz * torch.tensor(_WHITE, device=lab.device, dtype=lab.dtype).view(1, 3, 1, 1)
    linear = _matrix(xyz, torch.linalg.inv(torch.tensor(_XYZ_FROM_RGB, dtype=torch.float64)).to(lab.device))
    rgb = torch.where(linear > 0.0031308, 1.055 * linear.clamp(min=0.0031308) ** (1 / 2.4) - 0.055, 12.92 * linear)
    return rgb.clamp(0.0, 1.0)


def lightness_image(lab: Tensor) -> Tensor:
    """The L channel of B×3×H×W Lab images as a gray sRGB image in [0, 1] (a = b = 0): the colourless
    picture of the same lightness, which a 3-channel encoder can take as it takes any image."""
    return lab_to_rgb(torch.cat([lab[:, :1], torch.zeros_like(lab[:, 1:])], dim=1))


@lru_cache(maxsize=4)
def _gamut_cells(grid: float) -> Tensor:
    levels = torch.arange(0, 256, 3, dtype=torch.float32) / 255
    rgb = torch.stack(torch.meshgrid(levels, levels, levels, indexing="ij")).reshape(1, 3, -1, 1)
    cells = torch.round(rgb_to_lab(rgb)[0, 1:, :, 0] / grid).long().T
    return torch.unique(cells, dim=0).to(torch.float32) * grid


def gamut_ab_bins(grid: float = 10.0) -> Tensor:
    """Centres (Q×2, a then b) of the ``grid``-unit ab cells that some sRGB colour falls into.

    The RGB cube is sampled at every third uint8 level (86³ colours), which finds the same cells as
    all 2²⁴ colours: 261 at grid 10. Zhang et al. report 313 in-gamut bins, from a convex hull.
    """
    return _gamut_cells(grid).clone()


def soft_encode(ab: Tensor, bins: Tensor, neighbours: int = 5, sigma: float = 5.0) -> Tensor:
    """Zhang et al.'s soft encoding: each pixel's ab (B×2×H×W) spread over its ``neighbours`` nearest
    bins with Gaussian weights (std ``sigma``), summing to 1: B×Q×H×W."""
    flat = ab.permute(0, 2, 3, 1)  # B×H×W×2
    dist2 = (flat[..., None, :] - bins).pow(2).sum(dim=-1)  # B×H×W×Q
    near_d2, near = dist2.topk(neighbours, dim=-1, largest=False)
    weights = torch.softmax(-near_d2 / (2 * sigma**2), dim=-1)
    return torch.zeros_like(dist2).scatter_(-1, near, weights).permute(0, 3, 1, 2)


def annealed_mean(logits: Tensor, bins: Tensor, temperature: float = 0.38) -> Tensor:
    """Zhang et al.'s decoding: the mean of the bin centres under the distribution re-tempered to
    ``temperature`` (between the mean, T = 1, and the mode, T → 0). ``logits``: B×Q×H×W logits or
    log-probabilities (a shift per pixel does not matter); returns ab, B×2×H×W."""
    probs = torch.softmax(logits.float() / temperature, dim=1)
    return torch.einsum("bqhw,qc->bchw", probs, bins)
