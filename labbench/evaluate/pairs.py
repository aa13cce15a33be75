"""Positive pairs for the inspectors: two views of each image, embedded as the method embeds them."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from labbench.augment import ViewPipeline
from labbench.config import AugmentConfig

#: where methods keep the head that maps encoder features into the space their loss compares
PROJECTOR_ATTRIBUTES = ("projection", "projector", "expander", "head")


def two_views(method: nn.Module, images: Tensor, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """Two augmented views of uint8 ``images``: the method's own first two same-size image views
    (SimCLR's two views, MoCo's query and key, DINO's global crops), else SimCLR's pipeline twice."""
    if hasattr(method, "make_views"):
        views = [v for v in method.make_views(images, g).values()
                 if isinstance(v, Tensor) and v.dim() == 4 and v.shape[1] == 3 and v.shape[0] == images.shape[0]]
        if len(views) >= 2 and views[0].shape == views[1].shape:
            return views[0], views[1]
    size = getattr(method, "image_size", images.shape[-1])
    pipeline = ViewPipeline(getattr(method, "augment", AugmentConfig()), size)
    return pipeline(images, g), pipeline(images, g)


def _takes_features(head: nn.Module, dim: int) -> bool:
    """Whether ``head`` maps pooled B×dim features (an MLP), not feature maps (a dense decoder)."""
    first = next((m for m in head.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))), None)
    return isinstance(first, nn.Linear) and first.in_features == dim


def projection_head(method: nn.Module) -> nn.Module | None:
    """The method's projection head (the space its loss compares), or None when it has none."""
    dim = getattr(getattr(method, "encoder", None), "feature_dim", None)
    for name in PROJECTOR_ATTRIBUTES:
        head = getattr(method, name, None)
        if isinstance(head, nn.Module) and _takes_features(head, dim):
            return head
    return None


@torch.no_grad()
def embed_views(method: nn.Module, views: tuple[Tensor, Tensor], space: str = "encoder") -> tuple[Tensor, Tensor, str]:
    """Embeddings of both views in ``space``: ``encoder`` (features) or ``projection`` (the head's
    output, when the method has one; else the features). Returns (z1, z2, the space used)."""
    if space not in ("encoder", "projection"):
        raise ValueError(f"space: 'encoder' or 'projection' (got {space!r})")
    x = torch.cat(views)
    head = projection_head(method) if space == "projection" else None
    z = head(method.encoder(x)) if head is not None else method.embed(x)
    z1, z2 = z.float().chunk(2)
    return z1, z2, "projection" if head is not None else "encoder"
