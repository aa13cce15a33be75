"""BYOL's pair of view recipes (Grill et al. 2020, Table 6), on which BYOL, MoCo v3, Barlow Twins and VICReg train.

The first view is always blurred and never solarized, the second rarely blurred and sometimes solarized.
"""

from __future__ import annotations

import torch
from torch import Tensor

from labbench.augment import ViewPipeline
from labbench.config import AugmentConfig, BackboneConfig, MethodConfig
from labbench.methods.base import Method, PreviewPanel, to_panel_image


def asymmetric_pipelines(augment: AugmentConfig, image_size: int) -> tuple[ViewPipeline, ViewPipeline]:
    """BYOL's two view recipes (Grill et al. 2020, Table 6): blur p = 1.0 / 0.1, solarize p = 0 / 0.2."""
    return (
        ViewPipeline(augment, image_size, blur_p=1.0, solarize_p=0.0),
        ViewPipeline(augment, image_size, blur_p=0.1, solarize_p=0.2),
    )


def asymmetric_preview(pipelines: tuple[ViewPipeline, ...], views: list[Tensor]) -> list[PreviewPanel]:
    """One panel per view of a single image, titled with its recipe's blur and solarize chances."""
    return [
        PreviewPanel(
            f"view {i} — blur p {pipe.blur_p:g}, solarize p {pipe.solarize_p:g}",
            to_panel_image(view[0]),
            group="views",
        )
        for i, (pipe, view) in enumerate(zip(pipelines, views), start=1)
    ]


class AsymmetricViewMethod(Method):
    """Base of the methods that see ``view_1`` and ``view_2`` of every image, made by BYOL's two recipes."""

    def __init__(self, cfg: MethodConfig, backbone_cfg: BackboneConfig, augment: AugmentConfig, image_size: int):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        self.pipelines = asymmetric_pipelines(augment, image_size)

    def make_views(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        return {"view_1": self.pipelines[0](images, g), "view_2": self.pipelines[1](images, g)}

    def preview(self, image: Tensor, g: torch.Generator) -> list[PreviewPanel]:
        return asymmetric_preview(self.pipelines, list(self.make_views(image[None], g).values()))
