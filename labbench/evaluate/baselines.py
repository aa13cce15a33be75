"""What a score must beat: the same backbone untrained, and the raw pixels.

A random-init encoder is a surprisingly strong k-NN baseline on small images (random conv features
keep colour and layout); raw pixels say how much the task needs any representation at all. A
self-supervised score is worth what it adds over both.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from labbench.augment import resize_center
from labbench.methods import Method, build_method
from labbench.models import build_backbone
from labbench.run_config import RunConfig

#: baseline name -> what the table calls it
BASELINES: dict[str, str] = {
    "random_init": "random-init encoder",
    "pixels": "raw pixels",
}


def random_init_encoder(config: RunConfig, seed: int = 0) -> nn.Module:
    """The run's backbone with fresh weights from ``seed`` (the global RNG is left as it was), in eval mode."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_backbone(config.backbone, config.data.image_size).eval()


def random_init_method(config: RunConfig, seed: int = 0, dataset_size: int | None = None) -> Method:
    """The run's whole method with fresh weights, in eval mode: its ``embed`` is the untrained pipeline
    (for methods whose features are more than the backbone's output, e.g. CPC's patch grid)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_method(config, dataset_size).eval()


@torch.inference_mode()
def pixel_features(
    images: Tensor,
    image_size: int,
    batch_size: int = 1024,
    progress: Callable[[int, int], bool] | None = None,
) -> Tensor:
    """Flattened, normalised pixels of uint8 ``images`` after the eval transform: N×(3·size²) float32."""
    out = []
    n = images.shape[0]
    for start in range(0, n, batch_size):
        out.append(resize_center(images[start : start + batch_size], image_size).flatten(1))
        if progress is not None and progress(min(start + batch_size, n), n) is False:
            raise InterruptedError("pixel features cancelled")
    return torch.cat(out) if out else torch.empty(0)
