"""SimSiam: Exploring Simple Siamese Representation Learning (Chen & He, CVPR 2021).

BYOL without the momentum encoder: one encoder and projector serve both branches; a predictor
(a 2048-512-2048 bottleneck) maps one view's projection onto the other's, and the target branch
is cut by a stop-gradient. The paper shows the stop-gradient is what prevents collapse (without it
the output std drops to 0 at once). Trained with plain SGD; views are MoCo v2's.
Reference: github.com/facebookresearch/simsiam (``simsiam/builder.py``).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from labbench import losses
from labbench.augment import ViewPipeline
from labbench.config import MethodConfig
from labbench.methods.base import Method
from labbench.models import build_backbone, projection_mlp


class SimSiamConfig(MethodConfig):
    name: Literal["simsiam"] = "simsiam"
    projection_dim: int = Field(2048, ge=2, le=16384, description="Output size of the projector (and predictor).")
    hidden_dim: int | None = Field(
        None, ge=2, le=16384, description="Projector hidden size (none = the encoder's feature size)."
    )
    projector_layers: int = Field(
        3, ge=1, le=6, description="Linear layers in the projector (the last one ends in batch norm)."
    )
    predictor_hidden_dim: int = Field(
        512, ge=2, le=16384, description="The predictor's bottleneck (paper: 512, a quarter of the output)."
    )


class SimSiam(Method):
    Config = SimSiamConfig
    paper = "Chen, He. Exploring Simple Siamese Representation Learning. CVPR 2021."
    summary = "Predict one view's projection from the other's; a stop-gradient on the target prevents collapse."

    def __init__(self, cfg: SimSiamConfig, backbone_cfg, augment, image_size):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        self.encoder = build_backbone(backbone_cfg, image_size)
        dim = self.encoder.feature_dim
        self.projector = projection_mlp(
            dim, cfg.hidden_dim or dim, cfg.projection_dim, num_layers=cfg.projector_layers, last_bn=True
        )
        self.predictor = projection_mlp(cfg.projection_dim, cfg.predictor_hidden_dim, cfg.projection_dim)
        self.pipeline = ViewPipeline(augment, image_size)

    @property
    def projection_head(self) -> nn.Module:
        return self.projector

    # -- views ---------------------------------------------------------------------------------

    def make_views(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        return {"view_1": self.pipeline(images, g), "view_2": self.pipeline(images, g)}

    # -- forward and loss ----------------------------------------------------------------------

    def training_step(self, images: Tensor, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        views = self.make_views(images, g)
        z1, z2 = (self.projector(self.encoder(views[v])) for v in ("view_1", "view_2"))
        p1, p2 = self.predictor(z1), self.predictor(z2)
        # D(p, z) = −cos(p, stopgrad(z)): the target branch gets no gradient
        loss = (losses.negative_cosine(p1, z2) + losses.negative_cosine(p2, z1)) / 2
        with torch.no_grad():
            metrics = {"output_std": losses.embedding_std(z1.detach())}
        return loss, metrics
