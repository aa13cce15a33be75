"""torchvision's ResNet-18/34/50 (He et al., CVPR 2016) as a feature extractor.

The classifier is dropped; every other module keeps torchvision's name, so a state_dict loads
straight into ``torchvision.models.resnetXX`` (``strict=False`` for the missing ``fc``) and back.
"""

from __future__ import annotations

from typing import Any, Literal

import torchvision
from torch import Tensor, nn

ResNetName = Literal["resnet18", "resnet34", "resnet50"]


class ResNet(nn.Module):
    """A torchvision ResNet without ``fc``; ``forward`` returns the pooled 512/2048-d features.

    ``small_stem`` is SimCLR's CIFAR-10 variant (Chen et al. 2020, appendix B.9): a 3×3 stride-1
    first conv and no max-pool, so a 32-px image still has a 4×4 map after ``layer4``.
    """

    def __init__(self, name: ResNetName = "resnet18", small_stem: bool = True) -> None:
        super().__init__()
        self.name = name
        self.small_stem = small_stem
        net = getattr(torchvision.models, name)(weights=None)
        if small_stem:
            net.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
            nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")  # as torchvision
            net.maxpool = nn.Identity()
        self.conv1, self.bn1, self.relu, self.maxpool = net.conv1, net.bn1, net.relu, net.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = net.layer1, net.layer2, net.layer3, net.layer4
        self.feature_dim: int = net.fc.in_features

    def arch_kwargs(self) -> dict[str, Any]:
        return {"name": self.name, "small_stem": self.small_stem}

    def feature_map(self, x: Tensor) -> Tensor:
        """The last conv map, B×C×h×w (h = H/8 with the small stem, H/32 without)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, x: Tensor) -> Tensor:
        return self.feature_map(x).mean((2, 3))
