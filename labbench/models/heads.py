"""Heads that sit on a backbone's pooled features: projection/prediction MLPs and DINO's head."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm


def projection_mlp(
    in_dim: int,
    hidden_dim: int,
    out_dim: int,
    num_layers: int = 2,
    batch_norm: bool = True,
    last_bn: bool = False,
) -> nn.Sequential:
    """Linear(-BN)-ReLU layers, then a final Linear (optionally followed by an affine-free BN).

    SimCLR v1 uses 2 layers, v2 3 (Chen et al. 2020a, b); BYOL's and SimSiam's predictors are
    2-layer heads; SimSiam's and MoCo v3's projectors end in a BN without scale and shift (``last_bn``).
    """
    if num_layers < 1:
        raise ValueError(f"projection_mlp: num_layers must be at least 1 (got {num_layers})")
    layers: list[nn.Module] = []
    dim = in_dim
    for _ in range(num_layers - 1):
        # A bias before batch norm is cancelled by its mean subtraction.
        layers.append(nn.Linear(dim, hidden_dim, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm1d(hidden_dim))
        layers.append(nn.ReLU(inplace=True))
        dim = hidden_dim
    layers.append(nn.Linear(dim, out_dim, bias=not last_bn))
    if last_bn:
        layers.append(nn.BatchNorm1d(out_dim, affine=False))
    return nn.Sequential(*layers)


class DINOHead(nn.Module):
    """DINO's projection head (Caron et al., ICCV 2021): GELU MLP to a bottleneck, L2-normalised,
    then a weight-normalised linear layer without bias to ``out_dim`` prototypes.

    With ``norm_last_layer`` the weight norm's magnitude is frozen at 1, so every prototype keeps
    unit length; the paper reports this stabilises training with ViTs.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int = 65536,
        hidden_dim: int = 2048,
        bottleneck_dim: int = 256,
        num_layers: int = 3,
        norm_last_layer: bool = True,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"DINOHead: num_layers must be at least 1 (got {num_layers})")
        dims = [in_dim] + [hidden_dim] * (num_layers - 1)
        layers: list[nn.Module] = []
        for d_in, d_out in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(d_in, d_out), nn.GELU()]
        layers.append(nn.Linear(dims[-1], bottleneck_dim))
        self.mlp = nn.Sequential(*layers)
        for m in self.mlp.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        self.last_layer = weight_norm(nn.Linear(bottleneck_dim, out_dim, bias=False))
        magnitude = self.last_layer.parametrizations.weight.original0
        magnitude.data.fill_(1.0)
        magnitude.requires_grad_(not norm_last_layer)

    def forward(self, x: Tensor) -> Tensor:
        return self.last_layer(F.normalize(self.mlp(x), dim=-1))
