"""Colorful image colorization (Zhang, Isola, Efros. Colorful Image Colorization. ECCV 2016).

The network sees only the lightness of an image and predicts its colours. In CIE Lab the lightness is
L and the colour is (a, b); the ab plane is cut into 10-unit bins, of which the ones sRGB colours can
reach are kept, and every position of the encoder's feature map is classified over those bins. The
targets are soft (each pixel's ab spread over its 5 nearest bins, Gaussian σ = 5), and rare,
saturated colours are up-weighted (class rebalancing, λ = 0.5) so the network does not settle for
grey-brown. The colours are read back with the annealed mean (T = 0.38), between the blurry mean
and the blotchy mode. Reference code: github.com/richzhang/colorization.

Choices here: the L channel enters as the gray sRGB image of that lightness in all three channels,
so the encoder keeps its 3-channel stem and the exported encoder takes ordinary images; the
rebalancing prior is the ab distribution of the training images seen so far (a running histogram
kept as a buffer), where the paper measures it once on all of ImageNet.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from labbench import distributed, losses
from labbench.augment import denormalize, normalize
from labbench.augment.pretext import (
    annealed_mean,
    crop_flip,
    gamut_ab_bins,
    lab_to_rgb,
    lightness_image,
    rgb_to_lab,
    soft_encode,
)
from labbench.config import MethodConfig
from labbench.methods.base import Method, PreviewPanel, to_panel_image, to_picture
from labbench.methods.dense import feature_map, feature_map_shape
from labbench.models import build_backbone
from labbench.models.modes import eval_mode


class ColorizationConfig(MethodConfig):
    name: Literal["colorization"] = "colorization"
    grid: float = Field(10.0, ge=2.0, le=50.0, description="Side of the ab bins in Lab units (paper: 10).")
    soft_neighbours: int = Field(
        5, ge=1, le=32,
        description="Soft encoding: each pixel's colour is spread over this many nearest bins (paper: 5).",
    )
    soft_sigma: float = Field(
        5.0, gt=0.0, le=50.0,
        description="σ of the Gaussian (ab units) for soft encoding and for smoothing the colour prior (paper: 5).",
    )
    rebalance: bool = Field(True, description="Up-weight rare colours by the inverse of their (smoothed) frequency.")
    rebalance_lambda: float = Field(
        0.5, ge=0.0, le=1.0,
        description="Rebalancing mix λ with the uniform distribution: 0 = inverse frequency, "
        "1 = no rebalancing (paper: 0.5).",
    )
    temperature: float = Field(
        0.38, gt=0.0, le=1.0, description="Annealed-mean temperature T for showing colours (paper: 0.38)."
    )


class Colorization(Method):
    Config = ColorizationConfig
    paper = "Zhang, Isola, Efros. Colorful Image Colorization. ECCV 2016."
    summary = "From the lightness alone, classify every position's colour into quantised ab bins."

    def __init__(self, cfg: ColorizationConfig, backbone_cfg, augment, image_size):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        self.encoder = build_backbone(backbone_cfg, image_size)
        channels, self.map_side = feature_map_shape(self.encoder, image_size)
        bins = gamut_ab_bins(cfg.grid)
        self.register_buffer("bins", bins)
        # a 1×1 convolution: one linear classifier over the bins at every position (the paper's last layer)
        self.head = nn.Conv2d(channels, len(bins), kernel_size=1)
        if cfg.rebalance:
            smoothing = torch.exp(-torch.cdist(bins, bins).pow(2) / (2 * cfg.soft_sigma**2))
            self.register_buffer("prior_smoothing", smoothing)
            self.register_buffer("bin_counts", torch.zeros(len(bins)))

    # -- views: a crop; its lightness as the input, its ab soft-encoded at the feature-map size ----

    def _lab_views(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        rgb = crop_flip(images, self.image_size, self.augment, g)
        with torch.autocast(rgb.device.type, enabled=False):  # colour maths in float32, never bf16
            lab = rgb_to_lab(rgb)
            ab = F.adaptive_avg_pool2d(lab[:, 1:], self.map_side)
            target = soft_encode(ab, self.bins, self.cfg.soft_neighbours, self.cfg.soft_sigma)
            gray = normalize(lightness_image(lab))
        return {"gray": gray, "target": target, "lab": lab}

    def make_views(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        views = self._lab_views(images, g)
        return {"gray": views["gray"], "target": views["target"]}

    # -- forward: per-position logits over the ab bins ----------------------------------------------

    def logits(self, gray: Tensor) -> Tensor:
        """B×Q×h×w bin logits at the encoder's feature-map resolution."""
        return self.head(feature_map(self.encoder, gray))

    # -- loss: rebalanced multinomial cross-entropy against the soft targets ------------------------

    @torch.no_grad()
    def _pixel_weights(self, target: Tensor) -> Tensor:
        """Each position's rebalancing weight, from the prior of all ab seen so far (this batch included)."""
        self.bin_counts += distributed.all_reduce_mean(target.sum(dim=(0, 2, 3)))
        prior = self.prior_smoothing @ self.bin_counts
        weights = losses.rebalancing_weights(prior / prior.sum(), self.cfg.rebalance_lambda)
        return weights[target.argmax(dim=1)]

    def training_step(self, images: Tensor, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        views = self.make_views(images, g)
        target = views["target"]
        logits = self.logits(views["gray"])
        weights = self._pixel_weights(target) if self.cfg.rebalance else None
        loss = losses.colorization_loss(logits, target, weights)
        with torch.no_grad():
            accuracy = (logits.argmax(dim=1) == target.argmax(dim=1)).float().mean()
        return loss, {"bin_accuracy": accuracy}

    # -- reading colours back -----------------------------------------------------------------------

    def decode(self, logits: Tensor, lightness: Tensor) -> Tensor:
        """RGB in [0, 1] from bin logits (B×Q×h×w) and full-size lightness (B×1×H×W): annealed mean,
        upsampled to the image (the paper's way of showing a prediction)."""
        with torch.autocast(logits.device.type, enabled=False):
            ab = annealed_mean(logits, self.bins, self.cfg.temperature)
            ab = F.interpolate(ab, size=lightness.shape[-2:], mode="bilinear", align_corners=False)
            return lab_to_rgb(torch.cat([lightness.float(), ab], dim=1))

    def embed(self, x: Tensor) -> Tensor:
        """Features of the gray image of the same lightness: the input the encoder was trained on."""
        with torch.autocast(x.device.type, enabled=False):
            gray = normalize(lightness_image(rgb_to_lab(denormalize(x.float()).clamp(0, 1))))
        return self.encoder(gray)

    def preview(self, image: Tensor, g: torch.Generator) -> list[PreviewPanel]:
        views = self._lab_views(image[None], g)
        lightness = views["lab"][:, :1]
        with eval_mode(self), torch.no_grad():
            predicted = self.decode(self.logits(views["gray"]), lightness)
        target = self.decode(views["target"].clamp(min=1e-12).log(), lightness)
        side, t = self.map_side, self.cfg.temperature
        return [
            PreviewPanel("gray input (lightness L)", to_panel_image(views["gray"][0]), group="input"),
            PreviewPanel(f"target: ab over {len(self.bins)} bins at {side}×{side}", to_picture(target[0]),
                         group="target"),
            PreviewPanel(f"prediction (annealed mean, T = {t:g})", to_picture(predicted[0]), group="prediction"),
        ]

