"""MAE: masked autoencoders are scalable vision learners (He, Chen, Xie, Li, Dollár, Girshick; CVPR 2022).

Remove 75 % of an image's patches at random, encode only the visible quarter with the ViT, and let
a light transformer decoder — fed the encoded patches, a shared mask token at every removed
position and fixed 2-D sine-cosine positions — reconstruct the pixels. The loss is the MSE on the
removed patches only, optionally against per-patch normalised pixels. Reference:
github.com/facebookresearch/mae (models_mae.py, main_pretrain.py).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, model_validator
from torch import Tensor, nn

from labbench import losses
from labbench.augment import ViewPipeline, denormalize
from labbench.augment.patches import grey_out, patch_mask_pixels, random_patch_mask, visible_count, visible_indices
from labbench.config import FieldProblems, MethodConfig
from labbench.errors import ConfigError
from labbench.methods.base import Method, PreviewPanel, to_picture
from labbench.models import build_backbone, patchify, unpatchify
from labbench.models.vit import Block



class MAEConfig(MethodConfig):
    name: Literal["mae"] = "mae"
    mask_ratio: float = Field(0.75, gt=0.0, lt=1.0, description="Share of patches removed per image (paper: 75 %).")
    decoder_depth: int = Field(8, ge=1, le=32, description="Transformer blocks of the decoder (paper: 8).")
    decoder_width: int = Field(512, ge=16, le=2048, description="Token width of the decoder (paper: 512).")
    decoder_heads: int = Field(16, ge=1, le=64, description="Attention heads of the decoder (paper: 16).")
    norm_pix_loss: bool = Field(
        True, description="Reconstruct each patch standardised by its own mean and std (paper's default, better features)."
    )
    crop_scale: tuple[float, float] = Field(
        (0.2, 1.0), description="Random resized crop: area share range (paper: 0.2–1; the only augmentation with flips)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> MAEConfig:
        if self.decoder_width % self.decoder_heads:
            raise FieldProblems(("decoder_heads", f"must divide decoder_width {self.decoder_width} (got {self.decoder_heads})"))
        if self.decoder_width % 4:
            raise FieldProblems(("decoder_width", f"must be a multiple of 4 for 2-D sin-cos positions (got {self.decoder_width})"))
        lo, hi = self.crop_scale
        if not 0 < lo <= hi <= 1:
            raise FieldProblems(("crop_scale", f"needs 0 < low <= high <= 1 (got {lo}, {hi})"))
        return self


def sincos_position_embedding(grid: int, dim: int) -> Tensor:
    """Fixed 2-D sine-cosine positions, (grid²)×dim, row-major (MAE's ``get_2d_sincos_pos_embed``).

    The first half of the channels encodes the column, the second half the row; each half is
    [sin, cos] of the coordinate at ``dim/4`` frequencies ``1/10000^(i/(dim/4))`` (Vaswani et al. 2017).
    """
    freqs = 1.0 / 10000 ** (torch.arange(dim // 4, dtype=torch.float64) / (dim // 4))
    rows, cols = torch.meshgrid(torch.arange(grid, dtype=torch.float64), torch.arange(grid, dtype=torch.float64), indexing="ij")

    def encode(coord: Tensor) -> Tensor:
        angles = coord.reshape(-1, 1) * freqs
        return torch.cat([angles.sin(), angles.cos()], dim=1)

    return torch.cat([encode(cols), encode(rows)], dim=1).float()


class MAE(Method):
    Config = MAEConfig
    paper = "He, Chen, Xie, Li, Dollár, Girshick. Masked Autoencoders Are Scalable Vision Learners. CVPR 2022."
    summary = "Hide 75 % of the patches; the encoder sees the rest, a light decoder paints the hidden pixels back."

    def __init__(self, cfg: MAEConfig, backbone_cfg, augment, image_size):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        if not backbone_cfg.is_vit:
            raise ConfigError(
                f"backbone.name: MAE encodes only the visible patches and needs a ViT (vit_tiny, vit_small or "
                f"vit_base); got {backbone_cfg.name!r}"
            )
        self.encoder = build_backbone(backbone_cfg, image_size)
        self.patch_size = self.encoder.patch_size
        self.num_patches = self.encoder.num_patches
        width = cfg.decoder_width
        self.decoder_embed = nn.Linear(self.encoder.embed_dim, width)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, width))
        cls_position = torch.zeros(1, width)
        positions = torch.cat([cls_position, sincos_position_embedding(self.encoder.grid_size, width)])
        # fixed, recomputed from the config: no need to checkpoint it
        self.register_buffer("decoder_pos_embed", positions[None], persistent=False)
        self.decoder_blocks = nn.ModuleList(Block(width, cfg.decoder_heads, mlp_ratio=4.0) for _ in range(cfg.decoder_depth))
        self.decoder_norm = nn.LayerNorm(width, eps=1e-6)
        self.decoder_pred = nn.Linear(width, self.patch_size**2 * 3)
        self._init_decoder()
        # the paper's augmentation: crop and flip only, no colour distortion
        crop_and_flip = augment.model_copy(update={"jitter_p": 0.0, "grayscale_p": 0.0, "blur_p": 0.0, "solarize_p": 0.0})
        self.pipeline = ViewPipeline(crop_and_flip, image_size, crop_scale=cfg.crop_scale)

    def _init_decoder(self) -> None:
        # models_mae.py: xavier-uniform linear layers, zero biases, mask token ~ N(0, 0.02)
        nn.init.normal_(self.mask_token, std=0.02)
        decoder = [self.decoder_embed, self.decoder_blocks, self.decoder_norm, self.decoder_pred]
        for part in decoder:
            for m in part.modules():
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.LayerNorm):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)

    # -- views ----------------------------------------------------------------------------------

    def make_views(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        """The cropped, flipped view and its patch mask (B×N bool, True where a patch is removed)."""
        view = self.pipeline(images, g)
        return {"view": view, "mask": random_patch_mask(view.shape[0], self.num_patches, self.cfg.mask_ratio, g)}

    # -- forward --------------------------------------------------------------------------------

    def predict_patches(self, view: Tensor, mask: Tensor, mask_ratio: float) -> Tensor:
        """Predicted pixels of every patch, B×N×(p·p·3): encoder on the visible patches, decoder on all.

        ``mask`` (B×N, True = removed) leaves the same number of patches visible in every image, the
        count ``mask_ratio`` gives (passed rather than counted: counting would wait for the device).
        """
        keep = visible_indices(mask, visible_count(self.num_patches, mask_ratio))
        latent = self.decoder_embed(self.encoder.forward_tokens(view, keep))
        b, _, width = latent.shape
        tokens = self.mask_token.to(latent.dtype).expand(b, self.num_patches, width)
        tokens = tokens.scatter(1, keep.unsqueeze(-1).expand(-1, -1, width), latent[:, 1:])
        x = torch.cat([latent[:, :1], tokens], dim=1) + self.decoder_pos_embed
        for block in self.decoder_blocks:
            x = block(x)
        return self.decoder_pred(self.decoder_norm(x))[:, 1:]

    # -- loss -----------------------------------------------------------------------------------

    def training_step(self, images: Tensor, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        views = self.make_views(images, g)
        pred = self.predict_patches(views["view"], views["mask"], self.cfg.mask_ratio)
        target = patchify(views["view"], self.patch_size)
        return losses.mae_loss(pred, target, views["mask"], norm_pix=self.cfg.norm_pix_loss), {}

    # -- inspection -----------------------------------------------------------------------------

    @torch.no_grad()
    def reconstruct(self, images: Tensor, mask_ratio: float | None = None, g: torch.Generator | None = None) -> dict[str, Tensor]:
        """Mask, encode and decode normalised images B×3×H×W (the eval transform's output) for the inspector.

        Returns pictures in [0, 1] (B×3×H×W): ``original``, ``masked`` (removed patches grey),
        ``reconstruction`` (every patch predicted; with ``norm_pix_loss`` the predictions are mapped
        back with each true patch's mean and std, as the paper's figures do) and ``pasted`` (the
        reconstruction with the visible patches pasted back: equal to ``original`` there);
        ``mask`` B×H×W bool, True where a patch was removed; ``per_image_loss`` B, the training loss of each image.
        """
        ratio = self.cfg.mask_ratio if mask_ratio is None else mask_ratio
        if g is None:
            g = torch.Generator(device=images.device).manual_seed(0)
        mask = random_patch_mask(images.shape[0], self.num_patches, ratio, g)
        pred = self.predict_patches(images, mask, ratio).float()
        target = patchify(images, self.patch_size)
        per_image = torch.stack([
            losses.mae_loss(p[None], t[None], m[None], norm_pix=self.cfg.norm_pix_loss)
            for p, t, m in zip(pred, target, mask)
        ])
        if self.cfg.norm_pix_loss:
            pred = pred * (target.var(dim=-1, keepdim=True) + 1e-6) ** 0.5 + target.mean(dim=-1, keepdim=True)
        pixel_mask = patch_mask_pixels(mask, self.patch_size)
        original = denormalize(images).clamp(0, 1)
        reconstruction = denormalize(unpatchify(pred, self.patch_size)).clamp(0, 1)
        return {
            "original": original,
            "masked": grey_out(original, pixel_mask),
            "reconstruction": reconstruction,
            "pasted": torch.where(pixel_mask, reconstruction, original),
            "mask": pixel_mask[:, 0],
            "per_image_loss": per_image,
        }

    def preview(self, image: Tensor, g: torch.Generator) -> list[PreviewPanel]:
        """The cropped view and the masked input the encoder sees the visible part of."""
        views = self.make_views(image[None], g)
        original = denormalize(views["view"]).clamp(0, 1)
        masked = grey_out(original, patch_mask_pixels(views["mask"], self.patch_size))
        removed = int(views["mask"].sum())
        return [
            PreviewPanel("original — random resized crop + flip", to_picture(original[0]), group="views"),
            PreviewPanel(
                f"masked input — {removed} of {self.num_patches} patches removed, "
                f"the encoder sees {self.num_patches - removed}",
                to_picture(masked[0]),
                group="masked",
            ),
        ]
