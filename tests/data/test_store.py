"""ImageSet and the tensor resize every array source goes through."""

import pytest
import torch

from labbench.data.store import UNLABELED, ImageSet, fit_square


def _set(n=6, labels=True, masks=False):
    return ImageSet(
        images=torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 3, 4, 4).contiguous(),
        labels=torch.arange(n) % 3 if labels else None,
        masks=torch.zeros(n, 4, 4, dtype=torch.bool) if masks else None,
        class_names=["a", "b", "c"],
        name="toy",
        paths=[f"f{i}.png" for i in range(n)],
    )


def test_subset_keeps_images_labels_masks_and_paths_aligned():
    part = _set(masks=True).subset(torch.tensor([4, 1]))
    assert len(part) == 2
    assert part.images[:, 0, 0, 0].tolist() == [4, 1]
    assert part.labels.tolist() == [1, 1]
    assert part.masks.shape == (2, 4, 4)
    assert part.paths == ["f4.png", "f1.png"]


def test_subset_accepts_a_boolean_mask():
    data = _set()
    part = data.subset(data.labels == 0)
    assert part.paths == ["f0.png", "f3.png"]


def test_labeled_drops_only_unlabeled_images():
    data = _set()
    data.labels[[1, 2]] = UNLABELED
    assert data.labeled().paths == ["f0.png", "f3.png", "f4.png", "f5.png"]
    assert _set().labeled().paths == _set().paths


def test_inconsistent_store_is_refused():
    with pytest.raises(ValueError, match="uint8"):
        ImageSet(torch.zeros(2, 3, 4, 4), None, None, [], "bad")
    with pytest.raises(ValueError, match="labels"):
        ImageSet(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.zeros(3, dtype=torch.long), None, [], "bad")


def test_fit_square_resizes_shorter_side_and_crops_the_centre():
    # 8 rows × 16 columns: black borders 2 columns wide, white in between
    wide = torch.zeros(1, 3, 8, 16, dtype=torch.uint8)
    wide[..., 2:14] = 255
    out = fit_square(wide, 4)
    assert out.shape == (1, 3, 4, 4)
    assert (out == 255).all(), "the centred square is the white middle"


def test_fit_square_repeats_grey_into_rgb_and_upscales():
    grey = torch.randint(0, 256, (2, 1, 8, 8), dtype=torch.uint8)
    out = fit_square(grey, 32)
    assert out.shape == (2, 3, 32, 32) and out.dtype == torch.uint8
    assert torch.equal(out[:, 0], out[:, 2])
    assert abs(out.float().mean() - grey.float().mean()) < 4
