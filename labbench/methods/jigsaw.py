"""Jigsaw puzzles (Noroozi & Favaro. Unsupervised Learning of Visual Representations by Solving
Jigsaw Puzzles. ECCV 2016).

The image is cut into 3×3 tiles, the tiles are shuffled by one permutation of a fixed set, and the
network names the permutation. Each tile goes through the same encoder (a siamese network of nine
towers sharing weights); the nine feature vectors are concatenated and an MLP classifies the
permutation index. Against shortcuts: each tile is a random crop inside its cell (no edge matching
across tiles) and is normalised on its own (no matching of mean colour or contrast). The permutation
set is chosen once, greedily, for large Hamming distance (§3.3) and kept as a buffer.
Reference code: github.com/bbrattoli/JigsawPuzzlePytorch (the authors' PyTorch port).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor

from labbench.augment import denormalize
from labbench.augment.pretext import (
    crop_flip,
    hamming_distances,
    jigsaw_tile_size,
    jigsaw_tiles,
    maximal_hamming_permutations,
    shuffle_tiles,
    standardize_tiles,
    unshuffle_tiles,
)
from labbench.config import MethodConfig
from labbench.methods.base import Method, PreviewPanel
from labbench.models import build_backbone, projection_mlp


class JigsawConfig(MethodConfig):
    name: Literal["jigsaw"] = "jigsaw"
    num_permutations: int = Field(
        100, ge=2, le=2000,
        description="Size of the permutation set, the number of classes (the paper compares 100 to 1000).",
    )
    permutation_seed: int = Field(0, ge=0, description="Seed of the first permutation of the greedy set.")
    tile_ratio: float = Field(
        64 / 75, gt=0.0, le=1.0,
        description="Tile side as a share of its cell (paper: 64-px tiles in 75-px cells); the rest is random shift.",
    )
    hidden_dim: int = Field(
        4096, ge=8, le=16384, description="Hidden width of the MLP on the nine concatenated tiles (paper: fc7, 4096)."
    )


class Jigsaw(Method):
    Config = JigsawConfig
    paper = (
        "Noroozi, Favaro. Unsupervised Learning of Visual Representations by Solving Jigsaw Puzzles. ECCV 2016."
    )
    summary = "Shuffle 3×3 tiles by one of a fixed set of permutations; predict which permutation (classification)."

    def __init__(self, cfg: JigsawConfig, backbone_cfg, augment, image_size):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        self.tile = jigsaw_tile_size(image_size, cfg.tile_ratio, multiple_of=backbone_cfg.side_multiple)
        self.encoder = build_backbone(backbone_cfg, self.tile)
        dim = self.encoder.feature_dim
        self.classifier = projection_mlp(9 * dim, cfg.hidden_dim, cfg.num_permutations, num_layers=2)
        self.register_buffer("permutations", maximal_hamming_permutations(cfg.num_permutations, cfg.permutation_seed))

    def hamming_summary(self) -> tuple[int, float]:
        """Minimum and mean Hamming distance between two permutations of the set (over all pairs)."""
        d = hamming_distances(self.permutations.cpu())
        off_diagonal = d[~torch.eye(len(d), dtype=torch.bool)]
        return int(off_diagonal.min()), float(off_diagonal.float().mean())

    # -- views: crop, 3×3 jittered tiles, one permutation per image --------------------------------

    def _puzzle(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        tiles = jigsaw_tiles(crop_flip(images, self.image_size, self.augment, g), self.tile, g)
        index = (torch.rand(len(images), generator=g, device=g.device) * len(self.permutations)).long()
        shuffled = shuffle_tiles(tiles, self.permutations[index])
        return {"tiles": standardize_tiles(shuffled), "labels": index, "raw": shuffled}

    def make_views(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        puzzle = self._puzzle(images, g)
        return {"tiles": puzzle["tiles"], "labels": puzzle["labels"]}

    # -- forward and loss: nine towers sharing weights, MLP on the concatenation -------------------

    def permutation_logits(self, tiles: Tensor) -> Tensor:
        """B×P scores of which permutation shuffled the B×9 normalised tiles."""
        return self.classifier(self.encoder(tiles.flatten(0, 1)).view(tiles.shape[0], -1))

    def training_step(self, images: Tensor, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        views = self.make_views(images, g)
        logits = self.permutation_logits(views["tiles"])
        loss = F.cross_entropy(logits, views["labels"])
        with torch.no_grad():
            accuracy = (logits.argmax(dim=1) == views["labels"]).float().mean()
        return loss, {"permutation_accuracy": accuracy}

    def embed(self, x: Tensor) -> Tensor:
        """Features of whole images, standardised per image and channel as the tiles were in training."""
        return self.encoder(standardize_tiles(denormalize(x)))

    def preview(self, image: Tensor, g: torch.Generator) -> list[PreviewPanel]:
        puzzle = self._puzzle(image[None], g)
        label = int(puzzle["labels"][0])
        in_order = unshuffle_tiles(puzzle["raw"], self.permutations[puzzle["labels"]])[0]
        d_min, _ = self.hamming_summary()
        return [
            PreviewPanel("tiles in order", _mosaic(in_order), group="tiles"),
            PreviewPanel(f"permutation #{label} of {len(self.permutations)} (set's min Hamming distance {d_min})",
                         _mosaic(puzzle["raw"][0]), group="tiles"),
            PreviewPanel("as the network sees them (each tile normalised)", _mosaic(_stretch(puzzle["tiles"][0])),
                         group="tiles"),
        ]


def _stretch(tiles: Tensor) -> Tensor:
    """Standardised tiles mapped to [0, 1] for display (±2.5 std)."""
    return (tiles / 5 + 0.5).clamp(0, 1)


def _mosaic(tiles: Tensor, gap: int = 1) -> np.ndarray:
    """Nine 3×t×t tiles in [0, 1] laid out 3×3 with a white gap: H×W×3."""
    t = tiles.shape[-1]
    side = 3 * t + 2 * gap
    out = torch.ones(3, side, side)
    for i, tile in enumerate(tiles.detach().float().cpu()):
        r, c = divmod(i, 3)
        out[:, r * (t + gap) : r * (t + gap) + t, c * (t + gap) : c * (t + gap) + t] = tile
    return out.permute(1, 2, 0).numpy().copy()
