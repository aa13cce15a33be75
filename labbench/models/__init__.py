"""Backbones (small CNNs, ResNet, ViT with attention access) and the heads that sit on them.

Every backbone maps float B×3×H×W images to pooled B×``feature_dim`` features (no head) and
reports its constructor arguments through ``arch_kwargs()`` for export cards.
"""

from __future__ import annotations

from typing import TypeAlias

from labbench.config import BackboneConfig
from labbench.models.cnn import SmallCNN
from labbench.models.heads import DINOHead, projection_mlp
from labbench.models.rescnn import ResidualCNN
from labbench.models.resnet import ResNet
from labbench.models.vit import VIT_SIZES, VisionTransformer, patchify, unpatchify

Backbone: TypeAlias = SmallCNN | ResidualCNN | ResNet | VisionTransformer

__all__ = [
    "Backbone", "DINOHead", "ResNet", "ResidualCNN", "SmallCNN", "VIT_SIZES", "VisionTransformer",
    "build_backbone", "patchify", "projection_mlp", "unpatchify",
]


def build_backbone(cfg: BackboneConfig, image_size: int) -> Backbone:
    """The encoder ``cfg`` names, sized for square images of ``image_size`` px."""
    if cfg.name == "cnn":
        return SmallCNN(width=cfg.width)
    if cfg.name == "rescnn":
        return ResidualCNN(width=cfg.width)
    if cfg.name in ("resnet18", "resnet34", "resnet50"):
        return ResNet(cfg.name, small_stem=cfg.small_stem)
    embed_dim, num_heads = VIT_SIZES[cfg.name]
    return VisionTransformer(
        image_size=image_size,
        patch_size=cfg.patch_size,
        embed_dim=embed_dim,
        depth=cfg.depth or 12,
        num_heads=num_heads,
    )
