"""VICReg: Variance-Invariance-Covariance Regularization (Bardes, Ponce, LeCun, ICLR 2022).

No negatives, no momentum encoder, no predictor: two views go through one encoder and a wide
expander (3 layers of 8192), and three terms shape the embeddings — invariance (the views agree,
MSE), variance (each dimension keeps a std of at least 1 over the batch, which rules out collapse)
and covariance (dimensions decorrelate). Weights λ = μ = 25, ν = 1. Views follow BYOL's recipes.
Reference: github.com/facebookresearch/vicreg (``main_vicreg.py``).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from labbench import distributed, losses
from labbench.config import MethodConfig
from labbench.methods.asymmetric_views import AsymmetricViewMethod
from labbench.models import build_backbone, projection_mlp


class VICRegConfig(MethodConfig):
    name: Literal["vicreg"] = "vicreg"
    sim_weight: float = Field(25.0, ge=0.0, le=1000.0, description="λ, weight of the invariance (MSE) term.")
    var_weight: float = Field(25.0, ge=0.0, le=1000.0, description="μ, weight of the variance (std hinge) term.")
    cov_weight: float = Field(1.0, ge=0.0, le=1000.0, description="ν, weight of the covariance term.")
    expander_dim: int = Field(8192, ge=2, le=32768, description="Width of every expander layer.")
    expander_layers: int = Field(3, ge=1, le=6, description="Linear layers in the expander (BN and ReLU between).")


class VICReg(AsymmetricViewMethod):
    Config = VICRegConfig
    paper = (
        "Bardes, Ponce, LeCun. VICReg: Variance-Invariance-Covariance Regularization for Self-Supervised Learning. "
        "ICLR 2022."
    )
    summary = "Make two views' embeddings agree while every dimension keeps its variance and dimensions decorrelate."

    def __init__(self, cfg: VICRegConfig, backbone_cfg, augment, image_size):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        self.encoder = build_backbone(backbone_cfg, image_size)
        self.expander = projection_mlp(
            self.encoder.feature_dim, cfg.expander_dim, cfg.expander_dim, num_layers=cfg.expander_layers
        )

    @property
    def projection_head(self) -> nn.Module:
        return self.expander

    # -- forward and loss ----------------------------------------------------------------------

    def training_step(self, images: Tensor, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        views = self.make_views(images, g)
        z1, z2 = (self.expander(self.encoder(views[v])) for v in ("view_1", "view_2"))
        # variance and covariance are statistics of the whole batch, over every process
        terms = losses.vicreg_terms(distributed.gather_with_grad(z1), distributed.gather_with_grad(z2))
        cfg = self.cfg
        loss = (
            cfg.sim_weight * terms["invariance"] + cfg.var_weight * terms["variance"]
            + cfg.cov_weight * terms["covariance"]
        )
        return loss, {name: term.detach() for name, term in terms.items()}
