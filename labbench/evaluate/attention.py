"""Self-attention maps of a ViT's last block: where the CLS token looks (DINO, Caron et al. 2021).

Follows DINO's ``visualize_attention.py``: the CLS row of the last block's attention, one map per
head over the patch grid; thresholded to keep the smallest set of patches holding a chosen share
of the attention mass (60 % in the paper's figures); upsampled to pixels by repeating each patch.
On the shapes set the object masks are known, so the thresholded map can be scored by its Jaccard
index against the object, as the paper scores its maps on PASCAL VOC12.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from labbench.augment import resize_center
from labbench.errors import ConfigError
from labbench.models import VisionTransformer
from labbench.models.modes import eval_mode

#: DINO's figures keep the patches holding 60 % of the attention mass
DEFAULT_MASS = 0.6

#: where a method keeps a teacher ViT; DINO's teacher gives the cleaner maps, so it is looked at first
TEACHER_ATTRIBUTES = ("teacher_backbone", "teacher_encoder", "teacher")


def _find_vit(module: nn.Module) -> VisionTransformer | None:
    return next((m for m in module.modules() if isinstance(m, VisionTransformer)), None)


def attention_backbone(model: nn.Module) -> VisionTransformer:
    """The ViT whose attention to show: a ViT itself, a method's teacher ViT, else its encoder.

    A method on another backbone is refused with a ConfigError naming it.
    """
    if isinstance(model, VisionTransformer):
        return model
    for name in TEACHER_ATTRIBUTES:
        candidate = getattr(model, name, None)
        if isinstance(candidate, nn.Module) and (vit := _find_vit(candidate)) is not None:
            return vit
    vit = _find_vit(getattr(model, "encoder", model))
    if vit is None:
        backbone_cfg = getattr(model, "backbone_cfg", None)
        name = backbone_cfg.name if backbone_cfg is not None else type(model).__name__
        raise ConfigError(f"attention maps need a ViT backbone; backbone.name is {name}")
    return vit


@torch.no_grad()
def cls_attention(vit: VisionTransformer, images: Tensor) -> Tensor:
    """Last-block attention of the CLS token to every patch, per head: B×heads×h×w (float32).

    ``images`` are normalised float B×3×H×W; h×w is the patch grid. Each map holds the share of the
    CLS token's attention that goes to patches (the rest goes to the CLS token itself).
    """
    attn = vit.last_attention(images).float()
    h, w = images.shape[-2] // vit.patch_size, images.shape[-1] // vit.patch_size
    return attn[:, :, 0, 1:].reshape(attn.shape[0], attn.shape[1], h, w)


@dataclass
class AttentionMaps:
    """CLS→patch attention per head (B×heads×h×w, CPU float32) for images of ``image_size`` px."""

    heads: Tensor
    image_size: int

    @property
    def mean(self) -> Tensor:
        """The mean over heads: B×h×w."""
        return self.heads.mean(dim=1)

    def upsampled(self, maps: Tensor | None = None, mode: str = "nearest") -> Tensor:
        """``maps`` (default: every head) at pixel resolution: …×h×w -> …×H×W."""
        return upsample(self.heads if maps is None else maps, self.image_size, mode)


def attention_maps(
    model: nn.Module, images: Tensor, image_size: int | None = None, device: torch.device | str = "cpu"
) -> AttentionMaps:
    """Attention maps of uint8 ``images`` (B×3×H×W) through the eval transform, from the ViT that
    :func:`attention_backbone` picks. ``image_size`` defaults to the images' own size."""
    vit = attention_backbone(model)
    size = image_size or images.shape[-1]
    with eval_mode(vit):
        heads = cls_attention(vit, resize_center(images.to(device), size))
    return AttentionMaps(heads.cpu(), size)


def upsample(maps: Tensor, size: int, mode: str = "nearest") -> Tensor:
    """…×h×w maps -> …×size×size: each patch repeated (``nearest``, as DINO) or smoothed (``bilinear``)."""
    lead = maps.shape[:-2]
    flat = maps.reshape(-1, 1, *maps.shape[-2:])
    out = F.interpolate(flat.float(), size=(size, size), mode=mode, **({} if mode == "nearest" else {"align_corners": False}))
    out = out.reshape(*lead, size, size)
    return out.bool() if maps.dtype == torch.bool else out


def keep_mass(maps: Tensor, fraction: float = DEFAULT_MASS) -> Tensor:
    """Bool mask of the fewest patches holding at least ``fraction`` of each map's mass (…×h×w).

    DINO's ``visualize_attention.py``: sort, cumulative sum, keep the top patches that hold the
    mass. Each map is normalised to sum 1 first.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"keep_mass: fraction must be in (0, 1] (got {fraction})")
    flat = maps.reshape(-1, maps.shape[-2] * maps.shape[-1]).double()
    values, order = flat.sort(dim=1, descending=True)
    cum = values.cumsum(dim=1)
    target = fraction * cum[:, -1:]
    count = ((cum < target).sum(dim=1) + 1).clamp(max=flat.shape[1])
    keep_sorted = torch.arange(flat.shape[1]) < count[:, None]
    keep = torch.zeros_like(keep_sorted).scatter_(1, order, keep_sorted)
    return keep.reshape(maps.shape)


def jaccard(pred: Tensor, target: Tensor) -> Tensor:
    """Intersection over union of bool masks …×H×W, per mask (1.0 where both are empty)."""
    inter = (pred & target).flatten(-2).sum(-1).float()
    union = (pred | target).flatten(-2).sum(-1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


@dataclass
class AttentionJaccard:
    """Jaccard of the thresholded maps vs the object masks: ``mean_map`` B (the head-averaged map),
    ``heads`` B×heads (each head's map)."""

    mean_map: Tensor
    heads: Tensor

    @property
    def best_head(self) -> Tensor:
        """Per image, the best single head's Jaccard: B."""
        return self.heads.max(dim=1).values


def attention_jaccard(maps: AttentionMaps, masks: Tensor, fraction: float = DEFAULT_MASS) -> AttentionJaccard:
    """Score thresholded attention against bool object masks B×H×W (at ``maps.image_size``)."""
    masks = masks.bool().cpu()
    if masks.shape[-1] != maps.image_size:
        masks = upsample(masks, maps.image_size)
    mean_keep = maps.upsampled(keep_mass(maps.mean, fraction))
    head_keep = maps.upsampled(keep_mass(maps.heads, fraction))
    return AttentionJaccard(jaccard(mean_keep, masks), jaccard(head_keep, masks[:, None]))
