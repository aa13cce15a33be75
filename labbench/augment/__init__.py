"""Batched, device-side view pipelines: what the model sees.

Every op works on a whole batch with per-sample random parameters drawn from a ``torch.Generator``
on the images' device; the augmentation preview runs the same pipeline on one image.
"""

from labbench.augment.color import (
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    rgb_to_gray,
)
from labbench.augment.crops import CropSpec, DecodedCrops, take_crop
from labbench.augment.ops import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    blur,
    blur_kernel_size,
    color_jitter,
    denormalize,
    gaussian_blur,
    grayscale,
    hflip,
    normalize,
    random_resized_crop,
    resized_crop,
    sample_crop_boxes,
    solarize,
    to_float01,
)
from labbench.augment.pipeline import ViewPipeline, resize_center

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "CropSpec",
    "DecodedCrops",
    "ViewPipeline",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_hue",
    "adjust_saturation",
    "blur",
    "blur_kernel_size",
    "color_jitter",
    "denormalize",
    "gaussian_blur",
    "grayscale",
    "hflip",
    "normalize",
    "random_resized_crop",
    "resize_center",
    "resized_crop",
    "rgb_to_gray",
    "sample_crop_boxes",
    "solarize",
    "take_crop",
    "to_float01",
]
