"""Supervised training through the same backbone and views: the yardstick of "% of supervised".

The lecture's transfer tables score each self-supervised method against the same network trained
with labels (He et al., MoCo, CVPR 2020, Tables 2–5; Chen et al., SimCLR, ICML 2020, Table 8).
Here that network is the run's own backbone, fed one view per image by the run's own view pipeline,
with a linear classifier on its features and cross-entropy on the class. Only the encoder is kept,
so its features are evaluated exactly as a self-supervised encoder's are.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from labbench.augment import ViewPipeline
from labbench.config import MethodConfig
from labbench.data.store import UNLABELED
from labbench.errors import ConfigError
from labbench.methods.base import Method
from labbench.models import build_backbone


class SupervisedConfig(MethodConfig):
    name: Literal["supervised"] = "supervised"
    num_classes: int = Field(
        10, ge=2, le=100000, description="Classes of the training labels (shapes, digits, CIFAR-10: 10; CIFAR-100: 100)."
    )


class Supervised(Method):
    Config = SupervisedConfig
    paper = "The supervised baseline of the self-supervised papers, e.g. He et al. Momentum Contrast. CVPR 2020, Table 2."
    summary = "Classify each image's view into its labelled class: the upper line the self-supervised methods are measured against."
    needs_labels = True

    def __init__(self, cfg: SupervisedConfig, backbone_cfg, augment, image_size):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        self.encoder = build_backbone(backbone_cfg, image_size)
        self.classifier = nn.Linear(self.encoder.feature_dim, cfg.num_classes)
        self.pipeline = ViewPipeline(augment, image_size)
        self._labels_checked = False

    def make_views(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        return {"view": self.pipeline(images, g)}

    def training_step(self, images: Tensor, g: torch.Generator, labels: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        if not self._labels_checked:  # once: reading a tensor back every step would stall the device
            self._check_labels(labels)
        logits = self.classifier(self.encoder(self.make_views(images, g)["view"]))
        # images without a class (STL-10's unlabeled split) take no part in the loss
        loss = F.cross_entropy(logits, labels, ignore_index=UNLABELED)
        with torch.no_grad():
            known = labels != UNLABELED
            accuracy = (logits.argmax(dim=1) == labels)[known].float().mean()
        return loss, {"train_accuracy": accuracy}

    def _check_labels(self, labels: Tensor) -> None:
        highest = int(labels.max())
        if highest >= self.cfg.num_classes:
            raise ConfigError(
                f"method.num_classes: the data has class {highest}, but the classifier has "
                f"{self.cfg.num_classes} outputs; set method.num_classes to the number of classes"
            )
        self._labels_checked = True
