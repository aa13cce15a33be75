"""A small residual CNN whose units see the whole image: the CPU backbone of the presets.

Four stages of width w, 2w, 4w, 8w: a 3×3 conv-BN-ReLU each (stride 2 from the second on), and a
basic residual block (two 3×3 convs and an identity shortcut, He et al. 2016) after the last two.
The blocks sit where the maps are small (H/4 and H/8), so they cost little, yet each adds 4 and 8
input pixels per 3×3 conv to the receptive field: 65 px in all, so at 32 px every unit of the last
map sees the whole image (and at 64 px the centre units do). :class:`~labbench.models.cnn.SmallCNN`
without the blocks sees 17 px: no unit there sees a whole 27-px shape.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from labbench.models.cnn import PooledCNN, conv_bn

#: residual blocks after each stage (stages 3 and 4, at H/4 and H/8)
BLOCKS_PER_STAGE = (0, 0, 1, 1)


class BasicBlock(nn.Module):
    """ResNet's basic block: relu(x + bn(conv(relu(bn(conv(x)))))), width kept."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(*conv_bn(channels, channels), nn.ReLU(inplace=True), *conv_bn(channels, channels))

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(x + self.body(x))


class ResidualCNN(PooledCNN):
    """Stages of width ``w·2^i`` (stride 2 from the second on), residual blocks in the last two, average pooling."""

    def __init__(self, width: int = 24) -> None:
        layers: list[nn.Module] = []
        in_channels = 3
        for stage, blocks in enumerate(BLOCKS_PER_STAGE):
            out_channels = width * 2**stage
            layers += [*conv_bn(in_channels, out_channels, stride=1 if stage == 0 else 2), nn.ReLU(inplace=True)]
            layers += [BasicBlock(out_channels) for _ in range(blocks)]
            in_channels = out_channels
        super().__init__(layers, in_channels, width)
