"""The model card: everything needed to use an exported encoder without labbench, as plain JSON.

It names the method and backbone with its constructor arguments, the input it expects (size,
normalisation), the feature size, the training config's hash and the run's evaluation figures.
For a ResNet it says how to load the weights into torchvision's own model, for a ViT how to build
it with timm (whose key names the weights are saved under).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from torch import nn

from labbench.augment import IMAGENET_MEAN, IMAGENET_STD
from labbench.errors import CheckpointError
from labbench.export.timm_vit import timm_recipe
from labbench.models import ResidualCNN, ResNet, SmallCNN, VisionTransformer
from labbench.run_config import RunConfig, config_hash

CARD_FORMAT = "labbench-encoder"
CARD_VERSION = 2  # 2: a ViT's weights under timm's key names; "data", "input.sizes" and "timm" added

#: the encoder classes a card can name, and so the only ones a loader will build
ENCODER_CLASSES: dict[str, type[nn.Module]] = {
    "SmallCNN": SmallCNN,
    "ResidualCNN": ResidualCNN,
    "ResNet": ResNet,
    "VisionTransformer": VisionTransformer,
}


def torchvision_recipe(encoder: nn.Module) -> dict[str, Any] | None:
    """How to load a ResNet export into ``torchvision.models.resnetXX`` (None for other backbones).

    labbench's ResNet keeps torchvision's module names, so its state_dict keys are torchvision's;
    the classifier is replaced by ``Identity`` (the export has none) and, with the small stem,
    conv1 and the max-pool are changed as in SimCLR's CIFAR variant.
    """
    if not isinstance(encoder, ResNet):
        return None
    lines = ["import torch, torchvision", f"model = torchvision.models.{encoder.name}(weights=None)"]
    changes = ["fc = Identity(): the export is the encoder only; the model returns the pooled features"]
    if encoder.small_stem:
        lines += [
            "model.conv1 = torch.nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)",
            "model.maxpool = torch.nn.Identity()",
        ]
        changes = [
            "conv1 = Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False): the small (CIFAR) stem",
            "maxpool = Identity(): the small stem has no max-pool",
        ] + changes
    lines += [
        "model.fc = torch.nn.Identity()",
        "model.load_state_dict(torch.load('ENCODER.pt', weights_only=True))",
    ]
    return {"model": encoder.name, "changes": changes, "code": "\n".join(lines)}


def input_sizes(encoder: nn.Module) -> str:
    """Which input sizes the exported files accept besides the trained one."""
    if isinstance(encoder, VisionTransformer):
        return (f"heights and widths that are multiples of {encoder.patch_size} (the position embeddings are "
                "resampled) in .pt, .safetensors and ONNX; TorchScript is traced at the trained size")
    return "any height and width (the features are averaged over the last feature map), in every file"


def make_card(
    encoder: nn.Module,
    config: RunConfig,
    *,
    run: str = "",
    step: int | None = None,
    epoch: int | None = None,
    evaluation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The card of ``encoder`` trained with ``config`` (files and their checks are added by the exporter)."""
    cls = type(encoder).__name__
    if cls not in ENCODER_CLASSES:
        raise CheckpointError(f"export: unknown encoder class {cls}; expected one of {', '.join(ENCODER_CLASSES)}")
    size = config.data.image_size
    card: dict[str, Any] = {
        "format": CARD_FORMAT,
        "version": CARD_VERSION,
        "method": config.method.name,
        "data": config.data.source,
        "backbone": {"name": config.backbone.name, "class": cls, "arch_kwargs": encoder.arch_kwargs()},
        "input": {
            "shape": [None, 3, size, size],
            "dtype": "float32",
            "layout": "NCHW, RGB",
            "preprocess": "x = (pixels / 255 - mean) / std, after resizing the shorter side to size and centre-cropping",
            "mean": list(IMAGENET_MEAN),
            "std": list(IMAGENET_STD),
            "sizes": input_sizes(encoder),
        },
        "output": {"shape": [None, encoder.feature_dim], "meaning": "pooled features, no projection head"},
        "feature_dim": encoder.feature_dim,
        "config_hash": config_hash(config),
        "run": run,
        "step": step,
        "epoch": epoch,
        "evaluation": evaluation,
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    recipe = torchvision_recipe(encoder)
    if recipe is not None:
        card["torchvision"] = recipe
    if isinstance(encoder, VisionTransformer):
        card["timm"] = timm_recipe(encoder)
    return card


def build_from_card(card: dict[str, Any], source: str | Path) -> nn.Module:
    """A fresh encoder of the class and arguments a card names (weights not loaded)."""
    try:
        if card.get("format") != CARD_FORMAT:
            raise KeyError("format")
        backbone = card["backbone"]
        cls = ENCODER_CLASSES[backbone["class"]]
        return cls(**backbone["arch_kwargs"])
    except (KeyError, TypeError) as err:
        raise CheckpointError(f"{source}: its model card does not describe a labbench encoder ({err})") from None
