"""MoCo v3: An Empirical Study of Training Self-Supervised Vision Transformers (Chen, Xie, He, ICCV 2021).

No queue: the negatives are the other keys of the batch. A query network (encoder, projector,
predictor) and a momentum network (encoder and projector, m from 0.99 rising to 1) see both views;
the loss is InfoNCE in both directions, each term scaled by 2τ as in the paper's pseudocode.
For ViTs the patch projection stays at its random init, the paper's trick against instability.
Views follow BYOL's recipes. Reference: github.com/facebookresearch/moco-v3 (``moco/builder.py``).
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
from labbench.methods.momentum import MomentumMethod, frozen_copy
from labbench.models import build_backbone, projection_mlp


class MoCoV3Config(MethodConfig):
    name: Literal["moco_v3"] = "moco_v3"
    temperature: float = Field(
        0.2, gt=0.0, le=10.0, description="InfoNCE temperature τ (paper: 0.2 for ViT, 1.0 for ResNet)."
    )
    momentum: float = Field(0.99, ge=0.0, le=1.0, description="Momentum-encoder rate m at the start of training.")
    momentum_cosine: bool = Field(True, description="Raise m to 1 along a cosine over training (paper).")
    projection_dim: int = Field(256, ge=2, le=8192, description="Output size of the projector and predictor.")
    hidden_dim: int = Field(4096, ge=2, le=16384, description="Hidden size of the projector and predictor.")
    projector_layers: int | None = Field(
        None, ge=1, le=6, description="Linear layers in the projector (none = the paper's: 3 for ViT, 2 for ResNet)."
    )
    freeze_patch_embed: bool = Field(
        True, description="ViT: keep the patch projection at its random init (the paper's stability trick)."
    )


def contrastive_loss(q: Tensor, k: Tensor, temperature: float) -> Tensor:
    """InfoNCE of queries against this batch's keys (from every process), × 2τ (MoCo v3, Algorithm 1).

    Query i's positive is key i; the other keys of the batch are its negatives.
    """
    q, k = F.normalize(q, dim=1), F.normalize(k, dim=1)
    sim = q @ distributed.gather_no_grad(k).T
    rows = torch.arange(q.shape[0], device=q.device)
    positive_cols = rows + distributed.rank() * q.shape[0]
    is_positive = torch.zeros_like(sim, dtype=torch.bool)
    is_positive[rows, positive_cols] = True
    negatives = sim.masked_fill(is_positive, float("-inf"))  # every key but the positive; exp(-inf) = 0
    loss = losses.info_nce_from_similarities(sim[rows, positive_cols], negatives, temperature)
    return 2 * temperature * loss


class MoCoV3(AsymmetricViewMethod, MomentumMethod):
    Config = MoCoV3Config
    paper = "Chen, Xie, He. An Empirical Study of Training Self-Supervised Vision Transformers. ICCV 2021."
    summary = "Match each view's query to the momentum encoder's key of the other view, against the batch's other keys."

    def __init__(self, cfg: MoCoV3Config, backbone_cfg, augment, image_size):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        self.encoder = build_backbone(backbone_cfg, image_size)
        is_vit = backbone_cfg.is_vit
        if is_vit and cfg.freeze_patch_embed:
            self.encoder.patch_embed.requires_grad_(False)
        dim, hidden, out = self.encoder.feature_dim, cfg.hidden_dim, cfg.projection_dim
        layers = cfg.projector_layers or (3 if is_vit else 2)
        self.projector = projection_mlp(dim, hidden, out, num_layers=layers, last_bn=True)
        # the reference ends the predictor in batch norm for ViT only
        self.predictor = projection_mlp(out, hidden, out, num_layers=2, last_bn=is_vit)
        self.momentum_encoder = frozen_copy(self.encoder)
        self.momentum_projector = frozen_copy(self.projector)
        self.start_momentum(cfg.momentum, cfg.momentum_cosine)

    @property
    def projection_head(self) -> nn.Module:
        return self.projector

    # -- forward and loss ----------------------------------------------------------------------

    def training_step(self, images: Tensor, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        views = self.make_views(images, g)
        q1, q2 = (self.predictor(self.projector(self.encoder(views[v]))) for v in ("view_1", "view_2"))
        with torch.no_grad():
            k1, k2 = (self.momentum_projector(self.momentum_encoder(views[v])) for v in ("view_1", "view_2"))
        t = self.cfg.temperature
        loss = contrastive_loss(q1, k2, t) + contrastive_loss(q2, k1, t)
        with torch.no_grad():
            metrics = {"positive_similarity": F.cosine_similarity(q1.detach(), k2, dim=1).mean()}
        return loss, metrics

    # -- after the step: the momentum encoder follows ----------------------------------------------

    def ema_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        return [(self.momentum_encoder, self.encoder), (self.momentum_projector, self.projector)]
