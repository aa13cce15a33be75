"""Vision Transformer that hands back its attention (Dosovitskiy et al., ICLR 2021).

Follows DINO's ``vision_transformer.py`` (Caron et al., ICCV 2021): pre-norm blocks, a CLS token,
learned position embeddings (interpolated bicubically for other image sizes, e.g. DINO's local
crops), truncated-normal init. Blocks train through ``F.scaled_dot_product_attention``; the
attention maps come from an explicit softmax on request. ``forward_tokens`` can run the encoder
on a subset of patches, as MAE's encoder does (He et al., CVPR 2022).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from labbench.errors import ConfigError

# name -> (embedding width, attention heads); DeiT/DINO sizes, 12 blocks each by default.
VIT_SIZES: dict[str, tuple[int, int]] = {
    "vit_tiny": (192, 3),
    "vit_small": (384, 6),
    "vit_base": (768, 12),
}


class Attention(nn.Module):
    """Multi-head self-attention with a fused path for training and an explicit one for maps."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def _split_heads(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.num_heads, d // self.num_heads).permute(2, 0, 3, 1, 4)
        return q, k, v

    def _merge_heads(self, x: Tensor) -> Tensor:
        return self.proj(x.transpose(1, 2).flatten(2))

    def forward(self, x: Tensor) -> Tensor:
        q, k, v = self._split_heads(x)
        return self._merge_heads(F.scaled_dot_product_attention(q, k, v))

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The same output as ``forward`` and the attention weights, B×heads×N×N (rows sum to 1)."""
        q, k, v = self._split_heads(x)
        attn = (q * q.shape[-1] ** -0.5 @ k.transpose(-2, -1)).softmax(dim=-1)
        return self._merge_heads(attn @ v), attn


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    """ViT encoder; ``forward`` returns the CLS token after the final norm (B×embed_dim)."""

    def __init__(
        self,
        image_size: int = 32,
        patch_size: int = 4,
        embed_dim: int = 192,
        depth: int = 12,
        num_heads: int = 3,
        mlp_ratio: float = 4.0,
    ) -> None:
        super().__init__()
        if image_size % patch_size:
            raise ConfigError(f"backbone.patch_size: must divide the image size {image_size} (got {patch_size})")
        self.image_size = image_size
        self.patch_size = patch_size
        self.embed_dim = self.feature_dim = embed_dim
        self.depth = depth
        self.num_heads = num_heads
        self.mlp_ratio = mlp_ratio
        self.grid_size = image_size // patch_size
        self.num_patches = self.grid_size**2

        self.patch_embed = nn.Conv2d(3, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.num_patches, embed_dim))
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)

        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.apply(_init_weights)

    def arch_kwargs(self) -> dict[str, Any]:
        return {
            "image_size": self.image_size,
            "patch_size": self.patch_size,
            "embed_dim": self.embed_dim,
            "depth": self.depth,
            "num_heads": self.num_heads,
            "mlp_ratio": self.mlp_ratio,
        }

    def _position_embedding(self, h: int, w: int) -> Tensor:
        """Position embeddings for an h×w patch grid: bicubic resampling of the learned grid (DINO)."""
        # an ONNX export always takes the resampling path, so that its graph accepts any grid size
        if h == w == self.grid_size and not torch.onnx.is_in_onnx_export():
            return self.pos_embed
        g, d = self.grid_size, self.embed_dim
        grid = self.pos_embed[:, 1:].reshape(1, g, g, d).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(h, w), mode="bicubic", align_corners=False)
        return torch.cat([self.pos_embed[:, :1], grid.flatten(2).transpose(1, 2)], dim=1)

    def _embed(self, x: Tensor, keep_idx: Tensor | None) -> Tensor:
        patches = self.patch_embed(x)
        pos = self._position_embedding(*patches.shape[-2:])
        # Positions are added before patches are dropped, so each kept patch remembers where it was.
        tokens = patches.flatten(2).transpose(1, 2) + pos[:, 1:]
        if keep_idx is not None:
            tokens = tokens.gather(1, keep_idx.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))
        cls = (self.cls_token + pos[:, :1]).expand(tokens.shape[0], -1, -1)
        return torch.cat([cls, tokens], dim=1)

    def forward_tokens(self, x: Tensor, keep_idx: Tensor | None = None) -> Tensor:
        """All tokens after the final norm: B×(1+N)×D, or B×(1+k)×D for ``keep_idx`` (B×k patch indices).

        With ``keep_idx`` the blocks see only the CLS token and the kept patches (MAE's encoder).
        """
        tokens = self._embed(x, keep_idx)
        for block in self.blocks:
            tokens = block(tokens)
        return self.norm(tokens)

    def last_attention(self, x: Tensor) -> Tensor:
        """The last block's attention, B×heads×(1+N)×(1+N); row 0 is the CLS token's (DINO's maps)."""
        tokens = self._embed(x, None)
        for block in self.blocks[:-1]:
            tokens = block(tokens)
        last = self.blocks[-1]
        return last.attn.forward_with_attention(last.norm1(tokens))[1]

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_tokens(x)[:, 0]


def _init_weights(m: nn.Module) -> None:
    # DINO's init; the patch-embedding conv keeps PyTorch's default, as in DINO.
    if isinstance(m, nn.Linear):
        nn.init.trunc_normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


def patchify(images: Tensor, p: int) -> Tensor:
    """B×C×H×W images -> B×N×(p·p·C) patches, row-major, pixels in (row, col, channel) order (MAE)."""
    b, c, h, w = images.shape
    if h % p or w % p:
        raise ValueError(f"patchify: image size {h}×{w} is not a multiple of the patch size {p}")
    x = images.reshape(b, c, h // p, p, w // p, p)
    return torch.einsum("nchpwq->nhwpqc", x).reshape(b, (h // p) * (w // p), p * p * c)


def unpatchify(patches: Tensor, p: int) -> Tensor:
    """The inverse of :func:`patchify` for square images: B×N×(p·p·C) -> B×C×H×W."""
    b, n, length = patches.shape
    g = round(n**0.5)
    if g * g != n or length % (p * p):
        raise ValueError(f"unpatchify: {n} patches of {length} values do not form a square grid of {p}×{p} patches")
    c = length // (p * p)
    x = patches.reshape(b, g, g, p, p, c)
    return torch.einsum("nhwpqc->nchpwq", x).reshape(b, c, g * p, g * p)
