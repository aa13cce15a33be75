"""Pretext-task targets: rotations, patch pairs, jigsaw tiles, inpainting masks, Lab colour."""

import itertools
import math

import numpy as np
import pytest
import torch
from skimage.color import rgb2lab

from labbench.augment import pretext as P


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _coordinates(n: int, size: int) -> torch.Tensor:
    """Images whose channel 0 holds each pixel's row and channel 1 its column."""
    rows = torch.arange(size, dtype=torch.float32).view(-1, 1).expand(size, size)
    cols = rows.T
    return torch.stack([rows, cols, torch.zeros_like(rows)]).expand(n, 3, size, size).contiguous()


# -- rotation ----------------------------------------------------------------------------------


def test_all_rotations_builds_4b_images_with_labels_0_to_3():
    x = torch.rand(5, 3, 8, 8)
    rotated, labels = P.all_rotations(x)
    assert rotated.shape == (20, 3, 8, 8)
    assert labels.tolist() == [0] * 5 + [1] * 5 + [2] * 5 + [3] * 5
    assert torch.equal(rotated[:5], x)


def test_rotating_by_k_quarter_turns_is_exact_and_counter_clockwise():
    x = torch.rand(2, 3, 6, 6)
    rotated, labels = P.all_rotations(x)
    for k in range(4):
        turned = rotated[labels == k]
        assert torch.equal(turned, torch.from_numpy(np.rot90(x.numpy(), k, axes=(2, 3)).copy()))
        assert torch.equal(torch.rot90(turned, 4 - k, dims=(2, 3)), x)  # no interpolation, nothing lost
    # a quarter turn counter-clockwise carries the top-right corner to the top-left
    assert torch.equal(rotated[labels == 1][..., 0, 0], x[..., 0, -1])


# -- relative patch location -------------------------------------------------------------------


def test_patch_grid_scales_with_the_image_like_the_paper():
    assert P.patch_grid(398, 0.5, 7 / 96) == P.PatchGrid(patch=96, gap=48, jitter=7)  # Doersch et al.
    small = P.patch_grid(32, 0.5, 7 / 96)
    assert small.extent <= 32 < P.PatchGrid(small.patch + 1, small.gap, small.jitter).extent
    assert P.patch_grid(32, 0.5, 0.07, multiple_of=4).patch % 4 == 0


def test_crop_patches_reads_the_pixels_at_the_given_corners():
    x = _coordinates(2, 20)
    tops, lefts = torch.tensor([[0, 5], [12, 3]]), torch.tensor([[7, 0], [2, 16]])
    patches = P.crop_patches(x, tops, lefts, 4)
    assert patches.shape == (2, 2, 3, 4, 4)
    assert torch.equal(patches[:, :, 0, 0, 0], tops.float()) and torch.equal(patches[:, :, 1, 0, 0], lefts.float())
    assert torch.equal(patches[:, :, 0, -1, -1], tops.float() + 3)


def test_neighbour_label_k_means_the_neighbour_sits_at_the_kth_position():
    size, grid = 40, P.patch_grid(40, 0.5, 0.1)
    tops, lefts, labels = P.patch_pair_corners(4000, size, grid, _gen())
    pairs = P.crop_patches(_coordinates(4000, size), tops, lefts, grid.patch)
    dr = (pairs[:, 1, 0, 0, 0] - pairs[:, 0, 0, 0, 0]).round().long()
    dc = (pairs[:, 1, 1, 0, 0] - pairs[:, 0, 1, 0, 0]).round().long()
    step, slack = grid.patch + grid.gap, 2 * grid.jitter
    assert set(labels.tolist()) == set(range(8))
    for k, (row, col) in enumerate(P.NEIGHBOUR_OFFSETS):
        sel = labels == k
        # the neighbour is one grid step away in the offset's direction, give or take the jitter
        assert ((dr[sel] - row * step).abs() <= slack).all() and ((dc[sel] - col * step).abs() <= slack).all()
    assert P.NEIGHBOUR_OFFSETS[0] == (-1, -1) and P.NEIGHBOUR_OFFSETS[4] == (0, 1)


def test_gap_and_jitter_keep_patches_inside_the_image_and_apart():
    size, grid = 32, P.patch_grid(32, 0.5, 0.15)
    assert grid.jitter >= 1
    tops, lefts = P.patch_grid_corners(3000, size, grid, _gen(1))
    assert tops.min() == 0 and lefts.min() == 0  # the whole image is used...
    assert (tops + grid.patch).max() == size or (lefts + grid.patch).max() == size
    assert (tops + grid.patch <= size).all() and (lefts + grid.patch <= size).all()  # ...and never left
    t, l = tops.view(-1, 3, 3), lefts.view(-1, 3, 3)
    between_rows = t[:, 1:, :] - (t[:, :-1, :] + grid.patch)
    between_cols = l[:, :, 1:] - (l[:, :, :-1] + grid.patch)
    assert between_rows.min() >= grid.gap - 2 * grid.jitter and between_cols.min() >= grid.gap - 2 * grid.jitter
    assert between_rows.max() == grid.gap + 2 * grid.jitter  # jitter really moves the patches


def test_color_drop_keeps_one_channel_and_replaces_the_others_by_faint_noise():
    x = torch.randn(500, 3, 8, 8)
    out = P.drop_color_channels(x, _gen())
    kept = (out == x).all(dim=(2, 3))
    assert (kept.sum(dim=1) == 1).all()
    assert kept.float().mean(dim=0).min() > 0.25  # every channel is sometimes the kept one
    noise = out[~kept.view(500, 3, 1, 1).expand_as(out)]
    assert 0.002 < noise.std() < 0.05  # ~1/100 of the kept channel's std (1 here)


# -- jigsaw ------------------------------------------------------------------------------------


def test_jigsaw_tiles_are_jittered_inside_their_own_cells():
    size, tile = 30, P.jigsaw_tile_size(30, 64 / 75)
    assert tile == 8
    tiles = P.jigsaw_tiles(_coordinates(500, size), tile, _gen())
    assert tiles.shape == (500, 9, 3, tile, tile)
    top, left = tiles[:, :, 0, 0, 0], tiles[:, :, 1, 0, 0]
    for i in range(9):
        r, c = divmod(i, 3)
        assert (top[:, i] >= 10 * r).all() and (top[:, i] + tile <= 10 * (r + 1)).all()
        assert (left[:, i] >= 10 * c).all() and (left[:, i] + tile <= 10 * (c + 1)).all()
    assert len(top[:, 0].unique()) == 10 - tile + 1  # every shift in the cell occurs


def test_permutations_are_distinct_and_the_reported_minimum_hamming_distance_is_the_real_one():
    perms = P.maximal_hamming_permutations(100, seed=0)
    assert perms.shape == (100, 9)
    assert (perms.sort(dim=1).values == torch.arange(9)).all()  # each row is a permutation
    assert len({tuple(p) for p in perms.tolist()}) == 100
    d = P.hamming_distances(perms)
    brute = [[sum(a != b for a, b in zip(p, q)) for q in perms.tolist()] for p in perms.tolist()]
    assert d.tolist() == brute
    off = d[~torch.eye(100, dtype=torch.bool)]
    assert off.min() == min(min(row[:i] + row[i + 1 :]) for i, row in enumerate(brute))
    assert off.float().mean() > 8.0  # the greedy set is far apart: random pairs average 8 (9 − 1 fixed point)


def test_each_greedy_permutation_has_the_largest_summed_distance_to_those_before():
    perms = P.maximal_hamming_permutations(20, seed=3).tolist()
    rng = np.random.default_rng(0)
    others = [tuple(rng.permutation(9)) for _ in range(300)]
    for i in range(1, 20):
        best = sum(sum(a != b for a, b in zip(perms[i], q)) for q in perms[:i])
        for o in others:
            if list(o) not in perms[:i]:
                assert sum(sum(a != b for a, b in zip(o, q)) for q in perms[:i]) <= best
    assert P.maximal_hamming_permutations(20, seed=3).tolist() == perms  # seeded: the same set every time


def test_shuffling_then_unshuffling_by_the_permutation_restores_the_tiles():
    tiles = torch.rand(6, 9, 3, 4, 4)
    perms = P.maximal_hamming_permutations(10)[torch.tensor([0, 3, 9, 1, 1, 5])]
    shuffled = P.shuffle_tiles(tiles, perms)
    for b in range(6):
        for i in range(9):
            assert torch.equal(shuffled[b, i], tiles[b, perms[b, i]])  # position i shows tile perm[i]
    assert torch.equal(P.unshuffle_tiles(shuffled, perms), tiles)


def test_standardized_tiles_have_zero_mean_and_unit_std_and_flat_tiles_stay_flat():
    tiles = torch.rand(4, 9, 3, 6, 6) * 0.5 + 0.2
    out = P.standardize_tiles(tiles)
    assert out.mean(dim=(-2, -1)).abs().max() < 1e-5
    assert (out.std(dim=(-2, -1)) - 1).abs().max() < 1e-4
    flat = P.standardize_tiles(torch.full((1, 1, 3, 4, 4), 0.7))
    assert flat.abs().max() < 1e-4  # not blown up by dividing rounding noise by a zero std


# -- inpainting masks --------------------------------------------------------------------------


def test_center_mask_is_the_central_quarter():
    mask = P.center_mask(2, 32, 0.25, "cpu")
    assert mask.shape == (2, 1, 32, 32) and mask.sum() == 2 * 16 * 16
    assert mask[0, 0, 8:24, 8:24].all()


def test_random_blocks_cover_at_most_the_area_and_move():
    mask = P.random_block_mask(200, 32, 0.25, 4, _gen())
    share = mask.float().mean(dim=(1, 2, 3))
    assert share.max() <= 0.25 and share.min() >= 0.25 / 4
    assert not torch.equal(mask[0], mask[1])


# -- Lab colour --------------------------------------------------------------------------------


def test_lab_conversion_matches_skimage_within_1e_3():
    corners = torch.tensor(list(itertools.product([0.0, 1.0], repeat=3))).T.reshape(1, 3, 8, 1)
    for rgb in (torch.rand(3, 3, 7, 5), corners, torch.full((1, 3, 1, 1), 0.03)):  # 0.03: the linear toe
        ours = P.rgb_to_lab(rgb).permute(0, 2, 3, 1).numpy()
        assert np.abs(ours - rgb2lab(rgb.permute(0, 2, 3, 1).double().numpy())).max() < 1e-3
        assert (P.lab_to_rgb(P.rgb_to_lab(rgb)) - rgb).abs().max() < 1e-4


def test_lightness_image_is_gray_with_the_same_lightness():
    lab = P.rgb_to_lab(torch.rand(2, 3, 5, 5))
    gray = P.lightness_image(lab)
    assert (gray.max(dim=1).values - gray.min(dim=1).values).max() < 1e-3
    assert (P.rgb_to_lab(gray)[:, 0] - lab[:, 0]).abs().max() < 0.05


def test_gamut_has_about_313_bins_and_every_srgb_colour_falls_in_one():
    bins = P.gamut_ab_bins(10.0)
    assert 250 <= len(bins) <= 330  # Zhang et al. report 313 (a convex hull); the exact sRGB count is 261
    assert len(bins) == 261
    assert torch.equal(bins, (bins / 10).round() * 10)
    colours = torch.randint(0, 256, (1, 3, 4000, 1)).float() / 255
    cells = (P.rgb_to_lab(colours)[0, 1:, :, 0].T / 10).round() * 10
    assert (torch.cdist(cells, bins).min(dim=1).values == 0).all()


def test_soft_encoding_spreads_each_pixel_over_its_5_nearest_bins():
    bins = P.gamut_ab_bins()
    ab = torch.tensor([[3.0, -12.0], [41.0, 20.0]]).T.reshape(1, 2, 1, 2)
    z = P.soft_encode(ab, bins, neighbours=5, sigma=5.0)
    assert z.shape == (1, len(bins), 1, 2)
    assert torch.allclose(z.sum(dim=1), torch.ones(1, 1, 2))
    assert ((z > 0).sum(dim=1) == 5).all()
    nearest = torch.cdist(ab.flatten(2).transpose(1, 2)[0], bins).argmin(dim=1)
    assert torch.equal(z[0, :, 0].argmax(dim=0), nearest)


def test_annealed_mean_runs_from_the_mean_at_t1_to_the_mode_as_t_falls():
    bins = torch.tensor([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]])
    probs = torch.tensor([0.5, 0.2, 0.3]).view(1, 3, 1, 1)
    at = lambda t: P.annealed_mean(probs.log(), bins, t)[0, 0, 0, 0].item()  # noqa: E731
    assert at(1.0) == pytest.approx(8.0)  # the mean: 0·0.5 + 10·0.2 + 20·0.3
    assert at(0.38) < at(1.0) and at(0.01) == pytest.approx(0.0, abs=1e-3)  # towards the mode
    one_hot = torch.tensor([0.0, 0.0, 1.0]).view(1, 3, 1, 1)
    assert P.annealed_mean(one_hot.log(), bins, 0.38)[0, 0, 0, 0] == 20.0
    assert math.isfinite(at(0.38))
