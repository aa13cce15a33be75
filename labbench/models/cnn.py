"""The plain small CNN: four conv-BN-ReLU stages, the fastest backbone (tests, tiny runs).

Four conv-BN-ReLU stages of width w, 2w, 4w, 8w; the last three halve the resolution. Its receptive
field is 17 px (3 + 2 + 4 + 8), so at 32 px no unit sees a whole object: the presets use
:class:`~labbench.models.rescnn.ResidualCNN`, which sees 65 px. Global average pooling gives 8w features.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn


def conv_bn(in_channels: int, out_channels: int, stride: int = 1) -> list[nn.Module]:
    """A 3×3 convolution and its batch norm (no conv bias: the batch norm right after removes it anyway)."""
    return [nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(out_channels)]


class PooledCNN(nn.Module):
    """Base of the small CNNs: ``features`` (the stages a subclass builds) to the last map, then its mean.

    Convolutions start from He (fan-out) initialisation, as torchvision's ResNets do.
    """

    def __init__(self, features: list[nn.Module], feature_dim: int, width: int) -> None:
        super().__init__()
        self.width = width
        self.features = nn.Sequential(*features)
        self.feature_dim = feature_dim
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def arch_kwargs(self) -> dict[str, Any]:
        return {"width": self.width}

    def feature_map(self, x: Tensor) -> Tensor:
        """The last stage's map, B×8w×H/8×W/8 (for dense heads: CPC, colorization)."""
        return self.features(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x).mean((2, 3))


class SmallCNN(PooledCNN):
    """Four conv-BN-ReLU stages (width ``w·2^i``, stride 2 from the second on) and average pooling."""

    def __init__(self, width: int = 32) -> None:
        layers: list[nn.Module] = []
        in_channels = 3
        for stage in range(4):
            out_channels = width * 2**stage
            layers += [*conv_bn(in_channels, out_channels, stride=1 if stage == 0 else 2), nn.ReLU(inplace=True)]
            in_channels = out_channels
        super().__init__(layers, in_channels, width)
