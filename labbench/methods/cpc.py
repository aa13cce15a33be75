"""CPC: representation learning with contrastive predictive coding (van den Oord, Li, Vinyals; arXiv 2018).

The image version (§3.3; Hénaff et al., "Data-Efficient Image Recognition with CPC", ICML 2020):
the image is cut into a grid of overlapping patches (7×7 at 50 % overlap), every patch is encoded
on its own into z, and an autoregressive context network scans the grid top to bottom, so the
context c_{r,j} summarises rows 0…r only. From it one linear map W_k per horizon predicts the
encoding k rows below, z_{r+k,j}; the bilinear score ``z_{r+k,j}ᵀ W_k c_{r,j}`` of the true patch
must beat those of every other patch of every image in the batch (InfoNCE). As in Hénaff et al.,
colour jitter and grayscale are drawn per patch, so a patch cannot be told by its colour alone
(the image as a whole is only cropped and flipped). There is no official code for the image
version; this follows the two papers' text (CPC §3.3, Hénaff et al. §3–4).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import Tensor, nn

from labbench import losses
from labbench.augment import ViewPipeline, color_jitter, denormalize, grayscale, normalize
from labbench.augment.patches import grid_geometry, patch_grid
from labbench.config import FieldProblems, MethodConfig
from labbench.errors import ConfigError
from labbench.methods.base import Method, PreviewPanel, to_panel_image
from labbench.models import build_backbone

#: frame colours of the preview's tiles
CONTEXT_COLOUR = (0.20, 0.45, 0.90)
PREDICTED_COLOUR = (0.95, 0.55, 0.10)


class CPCConfig(MethodConfig):
    name: Literal["cpc"] = "cpc"
    grid_size: int = Field(7, ge=3, le=16, description="Patches per side of the grid (paper: 7×7 over a 256-px image).")
    overlap: float = Field(
        0.5, ge=0.0, lt=1.0, description="Overlap of neighbouring patches (paper: 50 %: 64-px patches at stride 32)."
    )
    horizon: int = Field(5, ge=1, le=15, description="Rows ahead to predict, k = 1…K (paper: up to 5).")
    context: Literal["gru", "masked_conv"] = Field(
        "gru",
        description="Context network over the rows: a convolutional GRU scanning down, or PixelCNN-style masked convolutions.",
    )
    context_dim: int | None = Field(
        None, ge=8, le=4096, description="Width of the context c (none = the patch encoder's feature size)."
    )
    patch_colour: bool = Field(
        True,
        description="Colour-jitter and grayscale every patch on its own (Hénaff et al.: stops predicting a patch by its colour alone).",
    )

    @model_validator(mode="after")
    def _horizon_fits(self) -> CPCConfig:
        if self.horizon >= self.grid_size:
            raise FieldProblems(("horizon", f"must be below grid_size {self.grid_size} (got {self.horizon})"))
        return self


# -- context networks: c at row r depends on rows 0…r of the encodings only --------------------------


class RowGRU(nn.Module):
    """A convolutional GRU (Ballas et al., ICLR 2016) run down the rows of the grid.

    The state is a 1-D map over the columns; each row's encodings update it through width-3
    convolutions, so information also spreads sideways by one column per row. B×D×R×C -> B×H×R×C.
    """

    def __init__(self, in_dim: int, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.gates = nn.Conv1d(in_dim + hidden, 2 * hidden, 3, padding=1)
        self.candidate = nn.Conv1d(in_dim + hidden, hidden, 3, padding=1)

    def forward(self, z: Tensor) -> Tensor:
        h = z.new_zeros(z.shape[0], self.hidden, z.shape[3])
        rows = []
        for r in range(z.shape[2]):
            x = z[:, :, r]
            update, reset = torch.sigmoid(self.gates(torch.cat([x, h], dim=1))).chunk(2, dim=1)
            candidate = torch.tanh(self.candidate(torch.cat([x, reset * h], dim=1)))
            h = (1 - update) * h + update * candidate
            rows.append(h)
        return torch.stack(rows, dim=2)


class MaskedConvContext(nn.Module):
    """PixelCNN-style context (van den Oord et al. 2016, as CPC §3.3): residual 3×3 convolutions that
    see the current row and the two above, stacked until the last row's context reaches the first.
    B×D×R×C -> B×H×R×C."""

    def __init__(self, in_dim: int, hidden: int, rows: int) -> None:
        super().__init__()
        self.project = nn.Conv2d(in_dim, hidden, 1)
        self.layers = nn.ModuleList(nn.Conv2d(hidden, hidden, 3) for _ in range(math.ceil((rows - 1) / 2)))

    def forward(self, z: Tensor) -> Tensor:
        h = self.project(z)
        for conv in self.layers:
            # padding (left, right, top, bottom): two rows above, none below — the mask of a masked conv
            h = h + conv(F.pad(F.relu(h), (1, 1, 2, 0)))
        return h


def row_pairs(context: Tensor, z: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Contexts of rows 0…R−1−k and the encodings k rows below them, aligned as B×T×· (T = (R−k)·C).

    The i-th context's positive is the i-th target, so positives sit on the diagonal of the score
    matrix that :func:`labbench.losses.cpc_info_nce` builds. ``context``: B×H×R×C, ``z``: B×D×R×C.
    """
    rows = z.shape[2]
    return (
        context[:, :, : rows - k].flatten(2).transpose(1, 2),
        z[:, :, k:].flatten(2).transpose(1, 2),
    )


class CPC(Method):
    Config = CPCConfig
    paper = "van den Oord, Li, Vinyals. Representation Learning with Contrastive Predictive Coding. arXiv 2018."
    summary = "Cut the image into a grid of patches; from the rows above, predict the encodings of the rows below."

    def __init__(self, cfg: CPCConfig, backbone_cfg, augment, image_size):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        try:
            self.patch_size, _, _ = grid_geometry(image_size, cfg.grid_size, cfg.overlap)
        except ValueError as err:
            raise ConfigError(f"method.grid_size: {err}") from None
        if backbone_cfg.is_vit and self.patch_size % backbone_cfg.patch_size:
            raise ConfigError(
                f"backbone.patch_size: CPC encodes {self.patch_size}-px patches ({cfg.grid_size}×{cfg.grid_size} grid, "
                f"{cfg.overlap:.0%} overlap at {image_size} px); the ViT patch size must divide {self.patch_size} "
                f"(got {backbone_cfg.patch_size})"
            )
        # The encoder is built for one patch: that is what is exported (and what embed() averages).
        self.encoder = build_backbone(backbone_cfg, self.patch_size)
        dim = self.encoder.feature_dim
        hidden = cfg.context_dim or dim
        self.context = RowGRU(dim, hidden) if cfg.context == "gru" else MaskedConvContext(dim, hidden, cfg.grid_size)
        self.predictors = nn.ModuleList(nn.Linear(hidden, dim, bias=False) for _ in range(cfg.horizon))
        if cfg.patch_colour:
            # the whole image is only cropped, flipped (and blurred); colour is drawn per patch below
            whole = augment.model_copy(update={"jitter_p": 0.0, "grayscale_p": 0.0, "solarize_p": 0.0})
            self.pipeline = ViewPipeline(whole, image_size)
            self.patch_pipeline = ViewPipeline(augment, self.patch_size)
        else:
            self.pipeline = ViewPipeline(augment, image_size)

    # -- views ----------------------------------------------------------------------------------

    def make_views(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        """One augmented view per image and its grid of B×G×G×3×P×P overlapping patches."""
        view = self.pipeline(images, g)
        patches = patch_grid(view, self.cfg.grid_size, self.cfg.overlap)
        if self.cfg.patch_colour:
            patches = self._colour_each_patch(patches, g)
        return {"view": view, "patches": patches}

    def _colour_each_patch(self, patches: Tensor, g: torch.Generator) -> Tensor:
        """The augment section's colour jitter and grayscale, drawn independently for every patch."""
        pipe = self.patch_pipeline
        x = denormalize(patches.flatten(0, 2))
        if pipe.jitter_p > 0:
            x = color_jitter(x, *pipe.jitter, pipe.jitter_p, g)
        if pipe.grayscale_p > 0:
            x = grayscale(x, pipe.grayscale_p, g)
        return normalize(x).reshape(patches.shape)

    # -- forward --------------------------------------------------------------------------------

    def encode_grid(self, patches: Tensor) -> Tensor:
        """Each patch encoded on its own: B×G×G×3×P×P -> B×D×G×G."""
        b, rows, cols = patches.shape[:3]
        z = self.encoder(patches.flatten(0, 2))
        return z.reshape(b, rows, cols, -1).permute(0, 3, 1, 2)

    # -- loss -----------------------------------------------------------------------------------

    def training_step(self, images: Tensor, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        z = self.encode_grid(self.make_views(images, g)["patches"])
        context = self.context(z)
        per_horizon = []
        for k, predictor in enumerate(self.predictors, start=1):
            contexts, targets = row_pairs(context, z, k)
            per_horizon.append(losses.cpc_info_nce(predictor(contexts), targets))
        loss = torch.stack(per_horizon).mean()
        return loss, {f"loss_k{k}": v.detach() for k, v in enumerate(per_horizon, start=1)}

    def embed(self, x: Tensor) -> Tensor:
        """The mean of the patch encodings over the grid (CPC's linear-probe features, pooled)."""
        return self.encode_grid(patch_grid(x, self.cfg.grid_size, self.cfg.overlap)).mean(dim=(2, 3))

    # -- preview --------------------------------------------------------------------------------

    def preview(self, image: Tensor, g: torch.Generator) -> list[PreviewPanel]:
        """The augmented view and its patch grid, with context rows and the rows predicted from them framed."""
        views = self.make_views(image[None], g)
        grid, k = self.cfg.grid_size, self.cfg.horizon
        current = grid - 1 - k  # the lowest context row from which every horizon still has a target
        tiles = denormalize(views["patches"][0].flatten(0, 1)).clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
        frames = [CONTEXT_COLOUR if r <= current else PREDICTED_COLOUR for r in range(grid) for _ in range(grid)]
        context_rows = "row 1" if current == 0 else f"rows 1–{current + 1}"
        return [
            PreviewPanel(
                f"view — {self.image_size}×{self.image_size} px" + (", colour drawn per patch" if self.cfg.patch_colour else ""),
                to_panel_image(views["view"][0]),
                group="views",
            ),
            PreviewPanel(
                f"{grid}×{grid} patches of {self.patch_size} px, {self.cfg.overlap:.0%} overlap — context of {context_rows} "
                f"(blue) predicts rows {current + 2}–{current + 1 + k} (orange), k = 1…{k}",
                _tile(tiles, grid, frames),
                group="tiles",
            ),
        ]


def _tile(tiles: np.ndarray, grid: int, frames: list[tuple[float, float, float]]) -> np.ndarray:
    """grid² P×P×3 tiles laid out row-major, each in a 1-px coloured frame, with 1-px white gaps."""
    p = tiles.shape[1]
    cell = p + 3
    canvas = np.ones((grid * cell + 1, grid * cell + 1, 3), dtype=np.float32)
    for i, (tile, colour) in enumerate(zip(tiles, frames)):
        top, left = 1 + (i // grid) * cell, 1 + (i % grid) * cell
        canvas[top : top + p + 2, left : left + p + 2] = colour
        canvas[top + 1 : top + p + 1, left + 1 : left + p + 1] = tile
    return canvas
