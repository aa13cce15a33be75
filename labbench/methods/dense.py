"""What the dense pretext methods (inpainting, colorization) share: the encoder's spatial feature map,
its size, and running the model for a preview without touching its batch-norm statistics."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn


def feature_map(encoder: nn.Module, x: Tensor) -> Tensor:
    """B×C×h×w features before pooling: a CNN's last map, or a ViT's patch tokens laid out on their grid."""
    if hasattr(encoder, "feature_map"):
        return encoder.feature_map(x)
    tokens = encoder.forward_tokens(x)[:, 1:]  # drop the CLS token
    side = x.shape[-1] // encoder.patch_size
    return tokens.transpose(1, 2).reshape(tokens.shape[0], -1, x.shape[-2] // encoder.patch_size, side)


@contextmanager
def evaluating(module: nn.Module) -> Iterator[None]:
    """Eval mode and no gradients for the block (batch norm uses, and keeps, its running statistics)."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        module.train(was_training)


def feature_map_shape(encoder: nn.Module, image_size: int) -> tuple[int, int]:
    """(channels, side) of the encoder's feature map for square ``image_size`` inputs."""
    with evaluating(encoder):
        shape = feature_map(encoder, torch.zeros(1, 3, image_size, image_size)).shape
    return shape[1], shape[-1]
