"""SimCLR: a simple framework for contrastive learning (Chen et al., ICML 2020; v2: NeurIPS 2020).

Two augmented views of each image, a shared encoder and projection MLP, and the NT-Xent loss over
the 2N×2N cosine-similarity matrix: each view's positive is the other view of its image, the other
2N−2 views are negatives. Reference: github.com/google-research/simclr.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from labbench import distributed, losses
from labbench.augment import ViewPipeline
from labbench.config import MethodConfig
from labbench.methods.base import Method
from labbench.models import build_backbone, projection_mlp


class SimCLRConfig(MethodConfig):
    name: Literal["simclr"] = "simclr"
    version: Literal[1, 2] = Field(1, description="v1: 2-layer projection head; v2: 3-layer head.")
    temperature: float = Field(0.1, gt=0.0, le=10.0, description="NT-Xent temperature τ (paper: 0.1 at batch 4096).")
    projection_dim: int = Field(128, ge=2, le=8192, description="Output size of the projection head.")
    hidden_dim: int | None = Field(None, ge=2, le=16384, description="Head hidden size (none = encoder's feature size).")
    head: Literal["mlp", "linear", "none"] = Field(
        "mlp", description="Projection head g: the paper's MLP (v1: 2 layers, v2: 3), one linear layer, or none "
        "(the loss on h itself) — the three of the paper's Fig. 8."
    )


def simclr_head(cfg: SimCLRConfig, dim: int) -> nn.Module:
    """g(·) of ``cfg.head``: an MLP with ReLU (the paper's), a linear layer, or the identity."""
    if cfg.head == "none":
        return nn.Identity()
    if cfg.head == "linear":
        return nn.Linear(dim, cfg.projection_dim)
    return projection_mlp(dim, cfg.hidden_dim or dim, cfg.projection_dim, num_layers=2 if cfg.version == 1 else 3)


class SimCLR(Method):
    Config = SimCLRConfig
    paper = "Chen, Kornblith, Norouzi, Hinton. A Simple Framework for Contrastive Learning of Visual Representations. ICML 2020."
    summary = "Pull two views of the same image together, push all other images in the batch away (NT-Xent)."

    def __init__(self, cfg: SimCLRConfig, backbone_cfg, augment, image_size):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        self.encoder = build_backbone(backbone_cfg, image_size)
        dim = self.encoder.feature_dim
        self.projection = simclr_head(cfg, dim)
        self.pipeline = ViewPipeline(augment, image_size)

    @property
    def projection_head(self) -> nn.Module:
        return self.projection

    def make_views(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        return {"view_1": self.pipeline(images, g), "view_2": self.pipeline(images, g)}

    def training_step(self, images: Tensor, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        views = self.make_views(images, g)
        z = self.projection(self.encoder(torch.cat([views["view_1"], views["view_2"]])))
        z1, z2 = z.chunk(2)
        z1_all, z2_all = distributed.gather_with_grad(z1), distributed.gather_with_grad(z2)
        loss = losses.nt_xent(z1, z2, self.cfg.temperature, z1_all=z1_all, z2_all=z2_all, rank=distributed.rank())
        with torch.no_grad():
            pos_sim = torch.nn.functional.cosine_similarity(z1, z2).mean()
        return loss, {"positive_similarity": pos_sim}
