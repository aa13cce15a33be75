"""MAE reconstructions for inspection (He et al. 2022, Fig. 2–4): original | masked | reconstruction | pasted.

The arrays come from the method's own ``reconstruct`` (the same masking and decoder as in training);
this module turns them into pictures the viewer shows, with a mask ratio and a seed to re-mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from labbench.augment import resize_center
from labbench.errors import ConfigError
from labbench.models.modes import eval_mode

PANELS = ("original", "masked", "reconstruction", "pasted")


@dataclass
class Reconstructions:
    """Pictures B×H×W×3 float32 in [0, 1]; ``mask`` B×H×W bool (True = removed);
    ``per_image_loss`` B (the training loss of each image at this mask)."""

    original: np.ndarray
    masked: np.ndarray
    reconstruction: np.ndarray
    pasted: np.ndarray
    mask: np.ndarray
    per_image_loss: np.ndarray
    mask_ratio: float


def _pictures(x: Tensor) -> np.ndarray:
    return x.float().permute(0, 2, 3, 1).cpu().numpy().copy()


def reconstruct(
    method: nn.Module,
    images: Tensor,
    *,
    mask_ratio: float | None = None,
    seed: int = 0,
    generator: torch.Generator | None = None,
    image_size: int | None = None,
    device: torch.device | str = "cpu",
) -> Reconstructions:
    """Mask and reconstruct uint8 ``images`` (B×3×H×W) with a masked-image model's ``reconstruct``.

    ``mask_ratio`` defaults to the method's training ratio; a new ``seed`` (or a ``generator``)
    draws a new mask. A method without a decoder is refused with a ConfigError.
    """
    if not hasattr(method, "reconstruct"):
        name = getattr(getattr(method, "cfg", None), "name", type(method).__name__)
        raise ConfigError(f"reconstructions need a masked-image model such as MAE; method.name is {name}")
    if mask_ratio is not None and not 0.0 < mask_ratio < 1.0:
        raise ConfigError(f"mask ratio: must be between 0 and 1, exclusive (got {mask_ratio})")
    ratio = method.cfg.mask_ratio if mask_ratio is None else mask_ratio
    device = torch.device(device)
    g = generator if generator is not None else torch.Generator(device=device).manual_seed(seed)
    x = resize_center(images.to(device), image_size or getattr(method, "image_size", images.shape[-1]))
    with eval_mode(method), torch.no_grad():
        out = method.reconstruct(x, ratio, g)
    return Reconstructions(
        *(_pictures(out[name]) for name in PANELS),
        mask=out["mask"].cpu().numpy().astype(bool),
        per_image_loss=out["per_image_loss"].float().cpu().numpy(),
        mask_ratio=float(ratio),
    )
