"""A labbench ViT as timm's ``VisionTransformer``: the same network, saved under timm's key names.

labbench's ViT follows DINO's module layout; timm's differs in three names only (the patch
embedding's conv is ``patch_embed.proj``, the MLP's layers are ``mlp.fc1`` / ``mlp.fc2``), so an
export renamed this way loads into ``timm.create_model(...)`` with every key matched and gives the
same features (pre-norm blocks, LayerNorm eps 1e-6, CLS-token pooling after the final norm).
``from_timm_keys`` undoes it when labbench reads the file back.
"""

from __future__ import annotations

import re
from typing import Any

from torch import Tensor

from labbench.augment import IMAGENET_MEAN, IMAGENET_STD
from labbench.models import VisionTransformer

# (labbench, timm) module-name pairs; each pattern matches a whole dotted component
_RENAMES = (
    (r"^patch_embed\.(weight|bias)$", r"patch_embed.proj.\1"),
    (r"\.mlp\.0\.", ".mlp.fc1."),
    (r"\.mlp\.2\.", ".mlp.fc2."),
)
#: timm's registered ViT named after each width; every argument is overridden, so the name only says which
TIMM_ARCHITECTURES = {192: "vit_tiny_patch16_224", 384: "vit_small_patch16_224", 768: "vit_base_patch16_224"}
#: the tag a labbench export carries in its timm ``pretrained_cfg``, which marks a config.json as ours
PRETRAINED_TAG = "labbench"


def to_timm_keys(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """A labbench ViT state_dict under timm's key names."""
    renamed = {}
    for key, value in state.items():
        for pattern, replacement in _RENAMES:
            key = re.sub(pattern, replacement, key)
        renamed[key] = value
    return renamed


def from_timm_keys(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """The inverse of :func:`to_timm_keys` (keys already in labbench's names pass unchanged)."""
    renamed = {}
    for key, value in state.items():
        key = re.sub(r"^patch_embed\.proj\.", "patch_embed.", key)
        key = key.replace(".mlp.fc1.", ".mlp.0.").replace(".mlp.fc2.", ".mlp.2.")
        renamed[key] = value
    return renamed


def timm_recipe(encoder: VisionTransformer) -> dict[str, Any]:
    """How to build the encoder with ``timm.create_model``: the card's ``timm`` section.

    ``model_args`` leave out ``num_classes`` (pass 0: no classifier), because transformers'
    ``TimmWrapperModel`` sets it itself; ``pretrained_cfg_overlay`` carries the input size and
    normalisation, so that ``timm.data.resolve_data_config`` gives labbench's eval transform.
    """
    size = encoder.image_size
    model_args = {"img_size": size, "patch_size": encoder.patch_size, "embed_dim": encoder.embed_dim,
                  "depth": encoder.depth, "num_heads": encoder.num_heads, "mlp_ratio": encoder.mlp_ratio}
    architecture = TIMM_ARCHITECTURES.get(encoder.embed_dim, "vit_base_patch16_224")
    overlay = {
        "input_size": [3, size, size], "fixed_input_size": True, "interpolation": "bilinear", "crop_pct": 1.0,
        "crop_mode": "center", "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD), "num_classes": 0,
        "first_conv": "patch_embed.proj", "classifier": "head", "custom_load": False, "tag": PRETRAINED_TAG,
    }
    weights = {"file": "ENCODER.safetensors", **{k: overlay[k] for k in ("input_size", "mean", "std", "crop_pct")}}
    code = "\n".join([
        "import timm",
        f"model = timm.create_model({architecture!r}, pretrained=True, num_classes=0,",
        f"                          pretrained_cfg_overlay={weights!r},",
        f"                          **{model_args!r})",
    ])
    return {"architecture": architecture, "model_args": model_args, "pretrained_cfg_overlay": overlay, "code": code}


def hub_config(recipe: dict[str, Any]) -> dict[str, Any]:
    """timm's ``config.json`` for a model folder: what ``timm.create_model('local-dir:FOLDER')``,
    ``'hf-hub:USER/REPO'`` and transformers' ``AutoModel.from_pretrained`` read to build the model."""
    return {
        "architecture": recipe["architecture"],
        "num_classes": 0,
        "num_features": recipe["model_args"]["embed_dim"],
        "global_pool": "token",
        "model_args": recipe["model_args"],
        "pretrained_cfg": {k: v for k, v in recipe["pretrained_cfg_overlay"].items() if k != "num_classes"},
    }
