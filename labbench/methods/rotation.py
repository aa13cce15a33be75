"""Rotation prediction: RotNet (Gidaris, Singh, Komodakis. Unsupervised Representation Learning by
Predicting Image Rotations. ICLR 2018).

Every image is turned by 0°, 90°, 180° and 270°, and a classifier on the encoder's features names
the turn. Telling which way is up takes knowing what the object is and where its parts are. The
paper's finding, followed here: feed all four rotations of each image in the same batch rather than
one random rotation. Reference code: github.com/gidariss/FeatureLearningRotNet.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor

from labbench.augment import ViewPipeline, normalize
from labbench.augment.pretext import all_rotations, crop_flip
from labbench.config import MethodConfig
from labbench.methods.base import Method, PreviewPanel, to_panel_image
from labbench.models import build_backbone, projection_mlp


class RotationConfig(MethodConfig):
    name: Literal["rotation"] = "rotation"
    head_layers: int = Field(
        1, ge=1, le=3, description="Layers of the rotation classifier on the encoder features (1 = linear)."
    )
    color_augment: bool = Field(
        False,
        description="Also apply the augment section's colour jitter, grayscale and blur; "
        "off = crop and flip only, as RotNet.",
    )


class Rotation(Method):
    Config = RotationConfig
    paper = (
        "Gidaris, Singh, Komodakis. Unsupervised Representation Learning by Predicting Image Rotations. ICLR 2018."
    )
    summary = "Turn every image by 0°, 90°, 180° and 270° and predict the turn (4-way classification)."

    def __init__(self, cfg: RotationConfig, backbone_cfg, augment, image_size):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        self.encoder = build_backbone(backbone_cfg, image_size)
        dim = self.encoder.feature_dim
        self.classifier = projection_mlp(dim, dim, 4, num_layers=cfg.head_layers)
        self.pipeline = ViewPipeline(augment, image_size) if cfg.color_augment else None

    # -- views: one crop per image, then all four rotations of it ----------------------------------

    def make_views(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        if self.pipeline is not None:
            view = self.pipeline(images, g)
        else:
            view = normalize(crop_flip(images, self.image_size, self.augment, g))
        rotated, labels = all_rotations(view)
        return {"rotated": rotated, "labels": labels}

    # -- forward and loss: 4-way cross-entropy over the 4B rotated images --------------------------

    def training_step(self, images: Tensor, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        views = self.make_views(images, g)
        logits = self.classifier(self.encoder(views["rotated"]))
        loss = F.cross_entropy(logits, views["labels"])
        with torch.no_grad():
            accuracy = (logits.argmax(dim=1) == views["labels"]).float().mean()
        return loss, {"rotation_accuracy": accuracy}

    def preview(self, image: Tensor, g: torch.Generator) -> list[PreviewPanel]:
        rotated = self.make_views(image[None], g)["rotated"]
        return [
            PreviewPanel(f"rotated {90 * k}° — label {k}", to_panel_image(rotated[k]), group="rotations")
            for k in range(4)
        ]
