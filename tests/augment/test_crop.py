"""Random resized crop: torchvision's box distribution, vectorised, and bilinear resampling."""

import pytest
import torch
from scipy.stats import ks_2samp
from torchvision.transforms import RandomResizedCrop
from torchvision.transforms.v2 import functional as TF

from labbench.augment import random_resized_crop, resized_crop, sample_crop_boxes

N = 4000
RATIO = (3 / 4, 4 / 3)
# a square image; a tall one where most tries fail and the centre-crop fallback is common; small crops of a big one
CASES = [(32, 32, (0.08, 1.0)), (48, 20, (0.3, 1.0)), (224, 224, (0.05, 0.4))]


def _stats(boxes: torch.Tensor, height: int, width: int) -> dict[str, torch.Tensor]:
    top, left, h, w = boxes.double().unbind(1)
    return {
        "area share": h * w / (height * width),
        "aspect ratio": w / h,
        "centre x": (left + w / 2) / width,
        "centre y": (top + h / 2) / height,
    }


@pytest.mark.parametrize("height,width,scale", CASES)
def test_crop_boxes_follow_torchvision_distribution(height, width, scale):
    torch.manual_seed(0)
    image = torch.empty(3, height, width)
    theirs = torch.tensor([RandomResizedCrop.get_params(image, list(scale), list(RATIO)) for _ in range(N)])
    ours = sample_crop_boxes(N, height, width, scale, RATIO, torch.Generator().manual_seed(0))
    for name, a in _stats(ours, height, width).items():
        b = _stats(theirs, height, width)[name]
        assert ks_2samp(a.numpy(), b.numpy()).pvalue > 0.01, name


@pytest.mark.parametrize("height,width,scale", CASES)
def test_crop_boxes_lie_inside_the_image(height, width, scale):
    top, left, h, w = sample_crop_boxes(N, height, width, scale, RATIO, torch.Generator().manual_seed(1)).unbind(1)
    assert (top >= 0).all() and (left >= 0).all() and (h >= 1).all() and (w >= 1).all()
    assert (top + h <= height).all() and (left + w <= width).all()


def test_crop_of_the_whole_image_at_its_size_is_the_image():
    x = torch.rand(2, 3, 12, 12)
    boxes = torch.tensor([[0, 0, 12, 12]] * 2)
    torch.testing.assert_close(resized_crop(x, boxes, 12), x, atol=1e-6, rtol=0)


def test_resized_crop_equals_torchvision_when_downsampling():
    x = torch.rand(3, 3, 40, 40)
    boxes = torch.tensor([[0, 0, 40, 40], [3, 7, 20, 30], [10, 2, 17, 16]])
    ours = resized_crop(x, boxes, 16)
    for i, (top, left, h, w) in enumerate(boxes.tolist()):
        theirs = TF.resized_crop(x[i], top, left, h, w, [16, 16], antialias=False)
        torch.testing.assert_close(ours[i], theirs, atol=1e-5, rtol=0)


def test_each_image_in_a_batch_gets_its_own_crop():
    x = torch.rand(1, 3, 32, 32).expand(8, -1, -1, -1)
    views = random_resized_crop(x, 16, (0.08, 1.0), RATIO, torch.Generator().manual_seed(0))
    assert all(not torch.equal(views[0], views[i]) for i in range(1, 8))
