"""Frozen-encoder features of an image set: the input of every evaluation protocol."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from labbench.augment import resize_center


@torch.inference_mode()
def extract_features(
    embed: Callable[[Tensor], Tensor],
    images: Tensor,
    image_size: int,
    device: torch.device | str = "cpu",
    batch_size: int = 256,
    autocast: bool = False,
    progress: Callable[[int, int], bool] | None = None,
) -> Tensor:
    """Features (float32, on ``device``) of uint8 ``images`` through the eval transform and ``embed``.

    ``progress(done, total)`` is called after each batch; returning False cancels (raises
    ``InterruptedError``), so a GUI can offer a Cancel button.
    """
    device = torch.device(device)
    out = []
    n = images.shape[0]
    for start in range(0, n, batch_size):
        batch = images[start : start + batch_size].to(device, non_blocking=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            out.append(embed(resize_center(batch, image_size)).float())
        if progress is not None and progress(min(start + batch_size, n), n) is False:
            raise InterruptedError("feature extraction cancelled")
    return torch.cat(out) if out else torch.empty(0)
