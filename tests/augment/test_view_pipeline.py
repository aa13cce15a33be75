"""The view pipeline: what the model sees, for a batch and for the one-image preview."""

import pytest
import torch
from torchvision.transforms import v2

from labbench.augment import IMAGENET_MEAN, IMAGENET_STD, ViewPipeline, denormalize, normalize, resize_center
from labbench.config import AugmentConfig

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _images(n: int = 6, size: int = 24, device: str = "cpu") -> torch.Tensor:
    images = torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return images.to(device)


def _gen(seed: int, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


@pytest.mark.parametrize("device", DEVICES)
def test_views_are_normalised_float32_at_out_size_on_the_images_device(device):
    out = ViewPipeline(AugmentConfig(solarize_p=0.5), 16)(_images(device=device), _gen(0, device))
    assert out.shape == (6, 3, 16, 16) and out.dtype == torch.float32 and out.device.type == device
    x01 = denormalize(out)
    assert x01.min() >= -1e-5 and x01.max() <= 1 + 1e-5


@pytest.mark.parametrize("device", DEVICES)
def test_same_seed_gives_identical_views_and_another_seed_different_ones(device):
    pipeline, images = ViewPipeline(AugmentConfig(solarize_p=0.2), 16), _images(device=device)
    first = pipeline(images, _gen(7, device))
    assert torch.equal(first, pipeline(images, _gen(7, device)))
    assert not torch.equal(first, pipeline(images, _gen(8, device)))


def test_copies_of_one_image_in_a_batch_get_different_views():
    views = ViewPipeline(AugmentConfig(), 16)(_images(1).expand(4, -1, -1, -1), _gen(0))
    assert torch.unique(views, dim=0).shape[0] == 4


def test_views_made_inside_a_bf16_autocast_training_step_equal_the_float32_views():
    images = torch.randint(0, 256, (6, 3, 24, 24), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    pipeline = ViewPipeline(AugmentConfig(blur_p=1.0, solarize_p=0.5), 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = pipeline(images, torch.Generator().manual_seed(1))
    outside = pipeline(images, torch.Generator().manual_seed(1))
    assert inside.dtype == torch.float32
    torch.testing.assert_close(inside, outside)


def test_one_image_preview_works():
    out = ViewPipeline(AugmentConfig(), 32)(_images(1, size=40), _gen(0))
    assert out.shape == (1, 3, 32, 32)


def test_without_randomness_a_view_is_the_normalised_image():
    cfg = AugmentConfig(crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), flip_p=0, jitter_p=0, grayscale_p=0, blur_p=0)
    images = _images()
    expected = v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)(images.float() / 255)
    torch.testing.assert_close(ViewPipeline(cfg, 24)(images, _gen(0)), expected, atol=1e-5, rtol=0)


def test_overrides_set_blur_and_solarize_and_crop_scale():
    pipeline = ViewPipeline(AugmentConfig(blur_p=0.5), 16, crop_scale=(0.05, 0.4), blur_p=0.1, solarize_p=0.2)
    assert (pipeline.crop_scale, pipeline.blur_p, pipeline.solarize_p) == ((0.05, 0.4), 0.1, 0.2)
    text = "\n".join(pipeline.describe())
    assert "5%–40%" in text and "p = 0.1" in text and "solarize, p = 0.2" in text


def test_always_solarized_views_invert_bright_pixels():
    cfg = AugmentConfig(crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), flip_p=0, jitter_p=0, grayscale_p=0, blur_p=0)
    images = torch.full((2, 3, 8, 8), 230, dtype=torch.uint8)
    x01 = denormalize(ViewPipeline(cfg, 8, solarize_p=1.0)(images, _gen(0)))
    torch.testing.assert_close(x01, torch.full_like(x01, 1 - 230 / 255), atol=1e-5, rtol=0)


def test_blur_sigma_is_scaled_from_224_pixels_to_the_view_size():
    pipeline = ViewPipeline(AugmentConfig(blur_sigma=(0.1, 2.0)), 112)
    assert pipeline.blur_sigma == pytest.approx((0.05, 1.0))
    assert any("11×11 kernel" in line for line in pipeline.describe())


def test_describe_leaves_out_ops_that_never_fire():
    lines = ViewPipeline(AugmentConfig(grayscale_p=0.0, solarize_p=0.0), 32).describe()
    assert [line.split(maxsplit=1)[0] for line in lines] == ["random", "horizontal", "colour", "Gaussian", "normalise"]


def test_rejects_images_that_are_not_uint8_rgb():
    with pytest.raises(ValueError, match="uint8"):
        ViewPipeline(AugmentConfig(), 16)(torch.rand(2, 3, 16, 16), _gen(0))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_a_generator_on_another_device_is_refused_with_a_hint():
    with pytest.raises(ValueError, match="torch.Generator"):
        ViewPipeline(AugmentConfig(), 16)(_images(device="cuda"), _gen(0))


def test_normalize_matches_torchvision_and_denormalize_inverts_it():
    x = torch.rand(2, 3, 5, 5)
    torch.testing.assert_close(normalize(x), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)(x))
    torch.testing.assert_close(denormalize(normalize(x)), x)


@pytest.mark.parametrize("shape", [(2, 3, 40, 40), (2, 3, 30, 50)])
def test_resize_center_is_torchvision_eval_transform(shape):
    images = torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    eval_transform = v2.Compose([
        v2.ToDtype(torch.float32, scale=True),
        v2.Resize(24, antialias=True),
        v2.CenterCrop(24),
        v2.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])
    torch.testing.assert_close(resize_center(images, 24), eval_transform(images), atol=1e-5, rtol=0)
