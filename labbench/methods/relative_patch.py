"""Relative patch location (Doersch, Gupta, Efros. Unsupervised Visual Representation Learning by
Context Prediction. ICCV 2015).

A 3×3 grid of patches is laid on the image with a gap between patches and a random jitter of each;
the network sees the centre patch and one of its 8 neighbours and names where the neighbour sits.
Both patches go through the same encoder (the backbone at patch size); their features are
concatenated and an MLP classifies the 8 positions. The gap and jitter stop the network from
matching edges and lines across patch borders; colour dropping (one channel kept, the others
replaced by faint noise) stops it from reading the position off chromatic aberration, the lens
colour fringe that grows towards the image border. Reference code: github.com/cdoersch/deepcontext.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor

from labbench.augment import CropSpec, normalize, take_crop
from labbench.augment.pretext import (
    NEIGHBOUR_NAMES,
    crop_patches,
    drop_color_channels,
    gray_patches,
    patch_grid,
    patch_pair_corners,
)
from labbench.config import MethodConfig
from labbench.methods.base import Method, PreviewPanel, to_panel_image
from labbench.models import build_backbone, projection_mlp


class RelativePatchConfig(MethodConfig):
    name: Literal["relative_patch"] = "relative_patch"
    gap_ratio: float = Field(
        0.5, ge=0.0, le=2.0,
        description="Gap between neighbouring patches as a share of the patch side "
        "(paper: 48 px between 96-px patches).",
    )
    jitter_ratio: float = Field(
        0.073, ge=0.0, le=0.5,
        description="Each patch moves by up to this share of its side along each axis (paper: 7 px at 96 px).",
    )
    color_drop: bool = Field(
        True,
        description="Keep one random colour channel per patch and replace the other two by faint noise "
        "(the paper's guard against chromatic aberration).",
    )
    grayscale_p: float = Field(
        0.0, ge=0.0, le=1.0,
        description="Probability of turning each patch gray, another guard against chromatic aberration (paper: 0).",
    )
    hidden_dim: int = Field(
        4096, ge=8, le=16384, description="Hidden width of the MLP on the concatenated pair (paper: fc7, 4096)."
    )


class RelativePatch(Method):
    Config = RelativePatchConfig
    paper = (
        "Doersch, Gupta, Efros. Unsupervised Visual Representation Learning by Context Prediction. ICCV 2015."
    )
    summary = "Show the centre patch and one of its 8 neighbours; predict where the neighbour sits (8-way)."

    def __init__(self, cfg: RelativePatchConfig, backbone_cfg, augment, image_size):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        self.grid = patch_grid(image_size, cfg.gap_ratio, cfg.jitter_ratio, multiple_of=backbone_cfg.side_multiple)
        self.encoder = build_backbone(backbone_cfg, self.grid.patch)
        dim = self.encoder.feature_dim
        self.classifier = projection_mlp(2 * dim, cfg.hidden_dim, 8, num_layers=2)

    # -- views: centre patch, a neighbour, and its position ----------------------------------------

    def _sample(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        # the whole image, no crop: the grid's place in it is random already
        whole = take_crop(images, CropSpec(self.image_size), g)
        tops, lefts, labels = patch_pair_corners(len(whole), self.image_size, self.grid, g)
        pairs = crop_patches(whole, tops, lefts, self.grid.patch)  # B×2×3×p×p
        patches = pairs.flatten(0, 1)
        if self.cfg.grayscale_p > 0:
            patches = gray_patches(patches, self.cfg.grayscale_p, g)
        patches = normalize(patches)
        if self.cfg.color_drop:
            patches = drop_color_channels(patches, g)
        pairs = patches.view_as(pairs)
        return {"centre": pairs[:, 0], "neighbour": pairs[:, 1], "labels": labels, "tops": tops, "lefts": lefts}

    def make_views(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        views = self._sample(images, g)
        return {key: views[key] for key in ("centre", "neighbour", "labels")}

    # -- forward and loss: shared encoder on both patches, MLP on the pair, 8-way cross-entropy ----

    def position_logits(self, centre: Tensor, neighbour: Tensor) -> Tensor:
        """B×8 scores of where ``neighbour`` sits around ``centre`` (both normalised patches)."""
        features = self.encoder(torch.cat([centre, neighbour]))
        return self.classifier(torch.cat(features.chunk(2), dim=1))

    def training_step(self, images: Tensor, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        views = self.make_views(images, g)
        logits = self.position_logits(views["centre"], views["neighbour"])
        loss = F.cross_entropy(logits, views["labels"])
        with torch.no_grad():
            accuracy = (logits.argmax(dim=1) == views["labels"]).float().mean()
        return loss, {"position_accuracy": accuracy}

    def preview(self, image: Tensor, g: torch.Generator) -> list[PreviewPanel]:
        views = self._sample(image[None], g)
        label = int(views["labels"][0])
        return [
            PreviewPanel("where the pair comes from", self._outlined(image, views["tops"][0], views["lefts"][0]),
                         group="patch pair"),
            PreviewPanel("centre patch", to_panel_image(views["centre"][0]), group="patch pair"),
            PreviewPanel(f"neighbour {label + 1} of 8 ({NEIGHBOUR_NAMES[label]}) — label {label}",
                         to_panel_image(views["neighbour"][0]), group="patch pair"),
        ]

    def _outlined(self, image: Tensor, tops: Tensor, lefts: Tensor) -> np.ndarray:
        """The image with the centre patch outlined in white and the neighbour in yellow."""
        picture = image.permute(1, 2, 0).float().div(255).cpu().numpy().copy()
        p = self.grid.patch
        for (top, left), colour in zip(zip(tops.tolist(), lefts.tolist()), ((1.0, 1.0, 1.0), (1.0, 0.85, 0.0))):
            picture[top, left : left + p] = picture[top + p - 1, left : left + p] = colour
            picture[top : top + p, left] = picture[top : top + p, left + p - 1] = colour
        return picture
