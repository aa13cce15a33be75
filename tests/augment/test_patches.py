"""Patch masks remove the stated share per image; patch grids cut the image where the geometry says; a
removed patch is shown grey over exactly its pixels."""

import pytest
import torch

from labbench.augment.patches import (
    MASK_GREY, grey_out, grid_geometry, patch_grid, patch_mask_pixels, random_patch_mask, visible_count, visible_indices,
)


@pytest.mark.parametrize("num_patches,ratio,visible", [(196, 0.75, 49), (64, 0.75, 16), (6, 0.75, 1)])
def test_mask_leaves_maes_count_visible_in_every_image(num_patches, ratio, visible):
    g = torch.Generator().manual_seed(0)
    mask = random_patch_mask(32, num_patches, ratio, g)
    assert visible_count(num_patches, ratio) == visible
    assert ((~mask).sum(dim=1) == visible).all()
    # different images lose different patches
    assert len({tuple(row.tolist()) for row in mask}) > 1


def test_mask_removes_patches_uniformly():
    g = torch.Generator().manual_seed(0)
    share = random_patch_mask(4000, 16, 0.75, g).float().mean(dim=0)
    assert torch.allclose(share, torch.full((16,), 0.75), atol=0.03)


def test_per_image_ratios_remove_per_image_counts():
    g = torch.Generator().manual_seed(0)
    mask = random_patch_mask(3, 10, torch.tensor([0.0, 0.3, 0.5]), g)
    assert mask.sum(dim=1).tolist() == [0, 3, 5]


def test_visible_indices_are_the_unmasked_patches_in_order():
    mask = torch.tensor([[True, False, True, False], [False, False, True, True]])
    assert visible_indices(mask, 2).tolist() == [[1, 3], [0, 1]]


@pytest.mark.parametrize("size,grid,overlap,expected", [(256, 7, 0.5, (64, 32, 0)), (32, 7, 0.5, (8, 4, 0)), (28, 7, 0.5, (7, 3, 1))])
def test_grid_geometry_matches_cpc_layout(size, grid, overlap, expected):
    patch, stride, offset = grid_geometry(size, grid, overlap)
    assert (patch, stride, offset) == expected
    assert offset + patch + (grid - 1) * stride <= size


def test_patch_grid_cuts_overlapping_patches_row_major():
    images = torch.randn(2, 3, 32, 32)
    patches = patch_grid(images, 7, 0.5)
    assert patches.shape == (2, 7, 7, 3, 8, 8)
    torch.testing.assert_close(patches[1, 2, 5], images[1, :, 8:16, 20:28])
    # neighbours share half their pixels
    torch.testing.assert_close(patches[:, 0, 0, :, :, 4:], patches[:, 0, 1, :, :, :4])


def test_a_removed_patch_is_grey_over_exactly_its_pixels():
    mask = torch.zeros(1, 4, dtype=torch.bool)
    mask[0, 1] = True  # 2×2 grid, row-major: the top-right patch
    pixels = patch_mask_pixels(mask, patch_size=3)
    assert pixels.shape == (1, 1, 6, 6)
    assert pixels[0, 0, :3, 3:].all() and pixels.sum() == 9
    pictures = grey_out(torch.ones(1, 3, 6, 6), pixels)
    assert (pictures[0, :, :3, 3:] == MASK_GREY).all() and (pictures[0, :, 3:, :] == 1).all()
