"""Barlow Twins: redundancy reduction (Zbontar, Jing, Misra, LeCun, Deny, ICML 2021).

Two views through one encoder and a wide projector (8192-8192-8192); the cross-correlation matrix
of the two batches of embeddings, each dimension standardised over the batch, is pushed towards the
identity: diagonal 1 (the views agree), off-diagonal 0 weighted by λ = 5e-3 (dimensions carry
different information). No negatives, no momentum encoder. Views follow BYOL's recipes.
Reference: github.com/facebookresearch/barlowtwins (``main.py``).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from labbench import distributed, losses
from labbench.config import MethodConfig
from labbench.methods.asymmetric_views import AsymmetricViewMethod
from labbench.models import build_backbone, projection_mlp


class BarlowTwinsConfig(MethodConfig):
    name: Literal["barlow_twins"] = "barlow_twins"
    lambda_offdiag: float = Field(
        5e-3, ge=0.0, le=1.0, description="λ, weight of the off-diagonal (redundancy) terms of the cross-correlation."
    )
    projector_dim: int = Field(8192, ge=2, le=32768, description="Width of every projector layer.")
    projector_layers: int = Field(3, ge=1, le=6, description="Linear layers in the projector (BN and ReLU between).")


class BarlowTwins(AsymmetricViewMethod):
    Config = BarlowTwinsConfig
    paper = (
        "Zbontar, Jing, Misra, LeCun, Deny. Barlow Twins: Self-Supervised Learning via Redundancy Reduction. "
        "ICML 2021."
    )
    summary = "Make the cross-correlation of two views' embeddings the identity: agree, and do not repeat yourself."

    def __init__(self, cfg: BarlowTwinsConfig, backbone_cfg, augment, image_size):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        self.encoder = build_backbone(backbone_cfg, image_size)
        self.projector = projection_mlp(
            self.encoder.feature_dim, cfg.projector_dim, cfg.projector_dim, num_layers=cfg.projector_layers
        )

    @property
    def projection_head(self) -> nn.Module:
        return self.projector

    # -- forward and loss ----------------------------------------------------------------------

    def training_step(self, images: Tensor, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        views = self.make_views(images, g)
        z1, z2 = (self.projector(self.encoder(views[v])) for v in ("view_1", "view_2"))
        # the cross-correlation is a statistic of the whole batch, over every process
        z1_all, z2_all = distributed.gather_with_grad(z1), distributed.gather_with_grad(z2)
        loss = losses.barlow_twins(z1_all, z2_all, self.cfg.lambda_offdiag)
        with torch.no_grad():
            metrics = {"positive_similarity": F.cosine_similarity(z1.detach(), z2.detach(), dim=1).mean()}
        return loss, metrics
