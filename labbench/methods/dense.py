"""What the dense pretext methods (inpainting, colorization) share: the encoder's spatial feature map
and its size."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from labbench.models.modes import eval_mode


def feature_map(encoder: nn.Module, x: Tensor) -> Tensor:
    """B×C×h×w features before pooling: a CNN's last map, or a ViT's patch tokens laid out on their grid."""
    if hasattr(encoder, "feature_map"):
        return encoder.feature_map(x)
    tokens = encoder.forward_tokens(x)[:, 1:]  # drop the CLS token
    side = x.shape[-1] // encoder.patch_size
    return tokens.transpose(1, 2).reshape(tokens.shape[0], -1, x.shape[-2] // encoder.patch_size, side)


def feature_map_shape(encoder: nn.Module, image_size: int) -> tuple[int, int]:
    """(channels, side) of the encoder's feature map for square ``image_size`` inputs."""
    with eval_mode(encoder), torch.no_grad():
        shape = feature_map(encoder, torch.zeros(1, 3, image_size, image_size)).shape
    return shape[1], shape[-1]
