"""What the model sees: a view pipeline for training, and the eval transform."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from labbench.augment.crops import CropSpec, DecodedCrops, check_images, take_crop
from labbench.augment.ops import (
    blur_kernel_size,
    color_jitter,
    gaussian_blur,
    grayscale,
    hflip,
    normalize,
    solarize,
    to_float01,
)
from labbench.config import AugmentConfig

#: AugmentConfig.blur_sigma is given in pixels of a 224-px image (the papers' setting)
SIGMA_REFERENCE_SIZE = 224


class ViewPipeline:
    """SimCLR's view recipe (Chen et al. 2020, appendix A), batched on the device, per-sample random.

    crop -> flip -> colour jitter -> grayscale -> blur -> solarize -> normalise. The keyword
    overrides build asymmetric views (BYOL: blur 1.0 / 0.1, solarize 0 / 0.2) and multi-crop
    (DINO: global crops at scale (0.4, 1), local crops at (0.05, 0.4) and a smaller ``out_size``).
    The same call serves one image (the GUI preview) and a training batch; a streamed batch arrives
    with its crops already cut from the full-resolution images (``self.crop``, see
    :mod:`labbench.augment.crops`) and the pipeline runs from the flip on.

    Examples:
        >>> pipeline = ViewPipeline(AugmentConfig(), out_size=32)
        >>> g = torch.Generator(device=images.device).manual_seed(0)
        >>> view_1, view_2 = pipeline(images, g), pipeline(images, g)
    """

    def __init__(
        self,
        cfg: AugmentConfig,
        out_size: int,
        *,
        crop_scale: tuple[float, float] | None = None,
        blur_p: float | None = None,
        solarize_p: float | None = None,
    ) -> None:
        if out_size < 1:
            raise ValueError(f"out_size must be a positive number of pixels (got {out_size})")
        self.out_size = out_size
        self.crop_scale = tuple(crop_scale) if crop_scale is not None else cfg.crop_scale
        self.crop_ratio = cfg.crop_ratio
        self.crop = CropSpec(out_size, self.crop_scale, self.crop_ratio)
        self.flip_p = cfg.flip_p
        s = cfg.jitter_strength
        self.jitter = (0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s)  # brightness, contrast, saturation, hue
        self.jitter_p = cfg.jitter_p if s > 0 else 0.0
        self.grayscale_p = cfg.grayscale_p
        self.blur_p = cfg.blur_p if blur_p is None else blur_p
        # a 32-px view is blurred like the same view at 224 px
        self.blur_sigma = tuple(v * out_size / SIGMA_REFERENCE_SIZE for v in cfg.blur_sigma)
        self.blur_sigma_224 = cfg.blur_sigma
        self.solarize_p = cfg.solarize_p if solarize_p is None else solarize_p

    def __call__(self, images: Tensor | DecodedCrops, generator: torch.Generator) -> Tensor:
        """uint8 B×3×H×W (or a batch cut at decode time) -> float32 B×3×out×out, normalised; random
        parameters drawn from ``generator`` (on the images' device)."""
        g = generator
        x = take_crop(images, self.crop, g)
        # ops that can never fire are skipped: no kernels, no draws
        if self.flip_p > 0:
            x = hflip(x, self.flip_p, g)
        if self.jitter_p > 0:
            x = color_jitter(x, *self.jitter, self.jitter_p, g)
        if self.grayscale_p > 0:
            x = grayscale(x, self.grayscale_p, g)
        if self.blur_p > 0:
            x = gaussian_blur(x, self.blur_sigma, self.blur_p, g)
        if self.solarize_p > 0:
            x = solarize(x, self.solarize_p, g)
        return normalize(x)

    def describe(self) -> list[str]:
        """The ops in order with their parameters, in words, for the preview's tooltip.

        Ops that never fire (p = 0) are left out.
        """
        lo, hi = self.crop_scale
        lines = [
            f"random resized crop to {self.out_size}×{self.out_size} px: {lo:.0%}–{hi:.0%} of the image area, "
            f"aspect ratio {self.crop_ratio[0]:.2f}–{self.crop_ratio[1]:.2f}"
        ]
        if self.flip_p > 0:
            lines.append(f"horizontal flip, p = {self.flip_p:g}")
        if self.jitter_p > 0:
            b, c, s = (f"{max(0.0, 1 - v):.2g}–{1 + v:.2g}" for v in self.jitter[:3])
            h = self.jitter[3]
            lines.append(
                f"colour jitter, p = {self.jitter_p:g}: brightness ×{b}, contrast ×{c}, saturation ×{s}, "
                f"hue ±{h:.2g} turn, in a random order per image"
            )
        if self.grayscale_p > 0:
            lines.append(f"grayscale, p = {self.grayscale_p:g}")
        if self.blur_p > 0:
            k = blur_kernel_size(self.out_size)
            (s0, s1), (r0, r1) = self.blur_sigma, self.blur_sigma_224
            lines.append(
                f"Gaussian blur, p = {self.blur_p:g}: σ {s0:.2g}–{s1:.2g} px ({r0:g}–{r1:g} px at "
                f"{SIGMA_REFERENCE_SIZE} px), {k}×{k} kernel"
            )
        if self.solarize_p > 0:
            lines.append(f"solarize, p = {self.solarize_p:g}: values ≥ 0.5 inverted")
        lines.append("normalise with the ImageNet mean and std")
        return lines


def resize_center(images_uint8: Tensor, size: int) -> Tensor:
    """The eval transform: shorter side resized to ``size`` (bilinear, antialiased), centre size×size, normalised."""
    check_images(images_uint8)
    x = to_float01(images_uint8)
    height, width = x.shape[-2:]
    if min(height, width) != size:
        # torchvision's Resize(size): the longer side keeps the aspect ratio, truncated
        new = (size, int(size * width / height)) if height <= width else (int(size * height / width), size)
        x = F.interpolate(x, size=new, mode="bilinear", align_corners=False, antialias=True)
        height, width = new
    top, left = int(round((height - size) / 2.0)), int(round((width - size) / 2.0))
    return normalize(x[..., top : top + size, left : left + size])
