"""The built-in shapes set: only the outline carries the label."""

import math

import pytest
import torch
from sklearn.neighbors import KNeighborsClassifier

from labbench.config import DataConfig
from labbench.data.shapes import CLASS_NAMES, coverage, generate_shapes, load_shapes
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


def test_raw_pixels_barely_predict_the_class():
    data = generate_shapes(2500, 32, 0)
    x, y = data.images.reshape(2500, -1).float().numpy(), data.labels.numpy()
    accuracy = KNeighborsClassifier(5).fit(x[:2000], y[:2000]).score(x[2000:], y[2000:])
    assert accuracy < 0.25, f"raw-pixel k-NN reaches {accuracy:.2f}; nuisance must dominate the pixels"


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
