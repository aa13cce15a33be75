"""BYOL: Bootstrap Your Own Latent (Grill et al., NeurIPS 2020).

No negatives. An online network (encoder, projector, predictor) predicts the projection a target
network gives of the other view; the target is an exponential moving average of the online encoder
and projector (τ from 0.996 rising to 1 along a cosine) and receives no gradient. The predictor
exists only online: that asymmetry, with the slow target, keeps the features from collapsing.
The two views follow different recipes (blur 1.0 / 0.1, solarize 0 / 0.2).
Reference: github.com/deepmind/deepmind-research/tree/master/byol.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from labbench import losses
from labbench.config import MethodConfig
from labbench.methods.asymmetric_views import AsymmetricViewMethod
from labbench.methods.momentum import MomentumMethod, frozen_copy
from labbench.models import build_backbone, projection_mlp


class BYOLConfig(MethodConfig):
    name: Literal["byol"] = "byol"
    projection_dim: int = Field(256, ge=2, le=8192, description="Output size of the projector and predictor.")
    hidden_dim: int = Field(4096, ge=2, le=16384, description="Hidden size of the projector.")
    predictor_hidden_dim: int = Field(4096, ge=2, le=16384, description="Hidden size of the predictor.")
    base_momentum: float = Field(0.996, ge=0.0, le=1.0, description="Target EMA rate τ at the start of training.")
    momentum_cosine: bool = Field(True, description="Raise τ to 1 along a cosine over training (paper).")


class BYOL(AsymmetricViewMethod, MomentumMethod):
    Config = BYOLConfig
    paper = "Grill et al. Bootstrap Your Own Latent: A New Approach to Self-Supervised Learning. NeurIPS 2020."
    summary = "Predict a slowly moving target network's projection of the other view; no negatives."

    def __init__(self, cfg: BYOLConfig, backbone_cfg, augment, image_size):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        self.encoder = build_backbone(backbone_cfg, image_size)
        self.projector = projection_mlp(self.encoder.feature_dim, cfg.hidden_dim, cfg.projection_dim)
        self.predictor = projection_mlp(cfg.projection_dim, cfg.predictor_hidden_dim, cfg.projection_dim)
        self.target_encoder = frozen_copy(self.encoder)
        self.target_projector = frozen_copy(self.projector)
        self.start_momentum(cfg.base_momentum, cfg.momentum_cosine)

    @property
    def projection_head(self) -> nn.Module:
        return self.projector

    # -- forward and loss ----------------------------------------------------------------------

    def training_step(self, images: Tensor, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        views = self.make_views(images, g)
        # each view is its own batch (its own batch-norm statistics), as in the reference
        z1, z2 = (self.projector(self.encoder(views[v])) for v in ("view_1", "view_2"))
        p1, p2 = self.predictor(z1), self.predictor(z2)
        with torch.no_grad():
            t1, t2 = (self.target_projector(self.target_encoder(views[v])) for v in ("view_1", "view_2"))
        loss = losses.byol_loss(p1, p2, t1, t2)
        with torch.no_grad():
            metrics = {"projection_std": losses.embedding_std(z1.detach())}
        return loss, metrics

    # -- after the step: the target follows the online network -------------------------------------

    def ema_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        return [(self.target_encoder, self.encoder), (self.target_projector, self.projector)]
