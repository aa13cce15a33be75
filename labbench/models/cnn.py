"""The plain small CNN: four conv-BN-ReLU stages, the fastest backbone (tests, tiny runs).

Four conv-BN-ReLU stages of width w, 2w, 4w, 8w; the last three halve the resolution. Its receptive
field is 17 px (3 + 2 + 4 + 8), so at 32 px no unit sees a whole object: the presets use
:class:`~labbench.models.rescnn.ResidualCNN`, which sees 65 px. Global average pooling gives 8w features.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn


class SmallCNN(nn.Module):
    """Four conv-BN-ReLU stages (width ``w·2^i``, stride 2 from the second on) and average pooling."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.width = width
        layers: list[nn.Module] = []
        in_channels = 3
        for stage in range(4):
            out_channels = width * 2**stage
            stride = 1 if stage == 0 else 2
            layers += [
                # No conv bias: the batch norm right after removes it anyway.
                nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True),
            ]
            in_channels = out_channels
        self.features = nn.Sequential(*layers)
        self.feature_dim = in_channels
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
