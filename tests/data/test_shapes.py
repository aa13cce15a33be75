"""The built-in shapes set: only the outline carries the label; every nuisance is one the views remove or one
shared by many images (a palette, a few background kinds)."""

import math

import pytest
import torch
import torch.nn.functional as F
from sklearn.neighbors import KNeighborsClassifier

from labbench.config import DataConfig
from labbench.data.shapes import (
    CLASS_NAMES,
    MIN_LUMA_GAP,
    PALETTE,
    ShapesStyle,
    coverage,
    generate_shapes,
    load_shapes,
    palette_pairs,
)
from labbench.errors import DataError


def test_images_are_square_rgb_uint8_with_masks_and_balanced_labels():
    data = generate_shapes(200, 32, 0)
    assert data.images.shape == (200, 3, 32, 32) and data.images.dtype == torch.uint8
    assert data.masks.shape == (200, 32, 32) and data.masks.dtype == torch.bool
    assert torch.bincount(data.labels).tolist() == [20] * 10
    assert data.class_names == CLASS_NAMES and len(CLASS_NAMES) == 10


def test_same_seed_same_images_other_seed_other_images():
    a = generate_shapes.__wrapped__(50, 32, 7)
    b = generate_shapes.__wrapped__(50, 32, 7)
    c = generate_shapes.__wrapped__(50, 32, 8)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.images, c.images)


def test_generated_sets_are_cached_in_process():
    assert generate_shapes(60, 32, 1) is generate_shapes(60, 32, 1)


def test_large_images_render():
    data = generate_shapes.__wrapped__(20, 128, 0)
    assert data.images.shape == (20, 3, 128, 128)
    area = data.masks.float().mean(dim=(1, 2))
    assert (area > 0.02).all() and (area < 0.6).all()


def test_every_object_stands_out_from_its_background():
    data = generate_shapes(300, 32, 2)
    img = data.images.float()
    m = data.masks[:, None].float()
    inside = (img * m).sum((2, 3)) / m.sum((2, 3))
    outside = (img * (1 - m)).sum((2, 3)) / (1 - m).sum((2, 3))
    contrast = (inside - outside).norm(dim=1) / 255
    assert contrast.min() > 0.2, "some shapes are nearly invisible on their background"


def test_raw_pixels_predict_the_class_far_worse_than_a_label_would():
    """Position and size vary, so pixel neighbours rarely share the outline (chance is 10 %)."""
    data = generate_shapes(2500, 32, 0)
    x, y = data.images.reshape(2500, -1).float().numpy(), data.labels.numpy()
    accuracy = KNeighborsClassifier(5).fit(x[:2000], y[:2000]).score(x[2000:], y[2000:])
    assert accuracy < 0.4, f"raw-pixel k-NN reaches {accuracy:.2f}; nuisance must dominate the pixels"


def test_palette_colours_with_a_luma_gap_that_grayscale_keeps():
    data = generate_shapes(400, 64, 3)  # at 64 px every object has pixels well inside its outline
    inner = data.masks & ~F.max_pool2d((~data.masks)[:, None].float(), 3, 1, 1)[:, 0].bool()  # away from the edge
    img = data.images.float() / 255
    colour = (img * inner[:, None]).sum((2, 3)) / inner[:, None].sum((2, 3))
    distance = torch.cdist(colour, PALETTE[:8]).min(dim=1).values
    assert distance.max() < 0.02, "object colours come from the first 8 palette colours"
    luma = torch.tensor([0.299, 0.587, 0.114])
    outside = ~F.max_pool2d(data.masks[:, None].float(), 5, 1, 2)[:, 0].bool()
    background = (img * outside[:, None]).sum((2, 3)) / outside[:, None].sum((2, 3))
    assert ((colour - background) @ luma).abs().min() > MIN_LUMA_GAP - 0.1  # patterns spread ±0.07 around it
    pairs = {tuple(p) for p in palette_pairs(8).tolist()}
    assert len(pairs) >= 30 and all(a != b for a, b in pairs)


def test_free_colours_give_every_image_its_own_colour_pair():
    data = generate_shapes.__wrapped__(200, 32, 3, ShapesStyle(palette_size=0))
    img = data.images.float() / 255
    colour = (img * data.masks[:, None]).sum((2, 3)) / data.masks[:, None].sum((2, 3))
    assert torch.cdist(colour, PALETTE).min(dim=1).values.median() > 0.05
    assert len({tuple((c * 20).round().tolist()) for c in colour}) > 150


def test_objects_stay_nearly_upright_unless_the_range_says_otherwise():
    """An arrow is long and lies along x: its mask's principal axis is within ±20° of horizontal."""
    def tilt(style):
        data = generate_shapes.__wrapped__(300, 64, 5, style)
        arrows = data.masks[data.labels == CLASS_NAMES.index("arrow")].float()
        ys, xs = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
        area = arrows.sum((1, 2))
        cx, cy = (arrows * xs).sum((1, 2)) / area, (arrows * ys).sum((1, 2)) / area
        dx, dy = xs - cx[:, None, None], ys - cy[:, None, None]
        cxx, cyy, cxy = ((arrows * v).sum((1, 2)) / area for v in (dx * dx, dy * dy, dx * dy))
        return (0.5 * torch.atan2(2 * cxy, cxx - cyy)).rad2deg().abs()

    assert tilt(ShapesStyle()).max() < 22
    assert tilt(ShapesStyle(rotation_range=180)).max() > 60


def test_every_pixel_of_every_object_is_in_its_mask_and_nothing_else():
    data = generate_shapes(300, 32, 4)
    area = data.masks.float().mean(dim=(1, 2))
    lo, hi = ShapesStyle().object_scale
    assert (area > 0.5 * lo**2).all() and (area < 3.2 * hi**2).all()  # between a thin ring and a full disc
    assert torch.bincount(data.labels, minlength=10).tolist() == [30] * 10


def test_no_class_outline_matches_another_under_rotation():
    """At equal area and centred on their centroids, the best overlap (IoU) of two different shapes
    over 36 rotations stays well below that of a shape with itself."""
    size, turns = 64, torch.arange(36) * 2 * math.pi / 36
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")

    def outline(k, angles, radius):
        n = len(angles)
        centres = torch.full((n, 2), size / 2)
        masks = coverage(torch.full((n,), k), centres, torch.full((n,), radius), angles, size) >= 0.5
        out = []
        for m in masks:  # centre on the centroid
            cy, cx = float((ys * m).sum() / m.sum()), float((xs * m).sum() / m.sum())
            out.append(torch.roll(m, (round(size / 2 - cy), round(size / 2 - cx)), (0, 1)))
        return torch.stack(out)

    area = [float(outline(k, torch.zeros(1), 20.0).sum()) for k in range(10)]
    radius = [20.0 * math.sqrt(area[0] / a) for a in area]
    upright = torch.cat([outline(k, torch.zeros(1), radius[k]) for k in range(10)])
    for a in range(10):
        turned = outline(a, turns, radius[a])
        inter = (turned[:, None] & upright[None]).sum((2, 3)).float()
        union = (turned[:, None] | upright[None]).sum((2, 3)).float()
        best = (inter / union).amax(dim=0)
        assert best[a] > 0.95
        others = best[torch.arange(10) != a]
        assert others.max() < 0.87, f"{CLASS_NAMES[a]} overlaps another shape by IoU {others.max():.2f}"


def test_load_shapes_splits_by_eval_fraction():
    split = load_shapes(DataConfig(num_images=500, eval_fraction=0.2, image_size=16))
    assert (len(split.train), len(split.eval)) == (400, 100)
    assert torch.bincount(split.eval.labels).tolist() == [10] * 10
    assert split.train.images.shape[1:] == (3, 16, 16)


def test_zero_images_is_an_error_naming_the_field():
    with pytest.raises(DataError, match="data.num_images"):
        load_shapes(DataConfig(num_images=0))
