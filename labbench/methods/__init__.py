"""Every method of the lecture, one module each, in one explicit registry.

The registry is also where a run's ``method`` table meets its Config: :func:`method_config` is the
union of every method's Config, keyed by name, that ``RunConfig`` validates ``method`` with.
"""

from __future__ import annotations

from typing import Any, Protocol

from labbench.config import AugmentConfig, BackboneConfig, DataConfig, FieldProblems, MethodConfig
from labbench.methods.barlow_twins import BarlowTwins
from labbench.methods.base import Method, PreviewPanel
from labbench.methods.byol import BYOL
from labbench.methods.colorization import Colorization
from labbench.methods.cpc import CPC
from labbench.methods.dino import DINO
from labbench.methods.inpainting import Inpainting
from labbench.methods.jigsaw import Jigsaw
from labbench.methods.mae import MAE
from labbench.methods.memory_bank import MemoryBank
from labbench.methods.moco import MoCo
from labbench.methods.moco_v3 import MoCoV3
from labbench.methods.relative_patch import RelativePatch
from labbench.methods.rotation import Rotation
from labbench.methods.simclr import SimCLR
from labbench.methods.simsiam import SimSiam
from labbench.methods.supervised import Supervised
from labbench.methods.vicreg import VICReg

METHODS: dict[str, type[Method]] = {
    "simclr": SimCLR,
    "moco": MoCo,
    "memory_bank": MemoryBank,
    "byol": BYOL,
    "simsiam": SimSiam,
    "moco_v3": MoCoV3,
    "barlow_twins": BarlowTwins,
    "vicreg": VICReg,
    "cpc": CPC,
    "mae": MAE,
    "dino": DINO,
    "rotation": Rotation,
    "relative_patch": RelativePatch,
    "jigsaw": Jigsaw,
    "inpainting": Inpainting,
    "colorization": Colorization,
    "supervised": Supervised,
}

#: what a run config without a ``method.name`` trains (the shared sections' defaults are SimCLR's)
DEFAULT_METHOD = "simclr"


def method_config(table: Any) -> MethodConfig:
    """A run's ``method`` table (a dict or a Config) as the Config of the method its ``name`` selects.

    Raises FieldProblems (a ValueError) for an unknown name, and the Config's ValidationError for bad
    fields (inside ``RunConfig`` both keep their place: ``method.name``, ``method.<field>``).
    """
    if isinstance(table, MethodConfig):
        if type(table) is not MethodConfig:
            return table
        table = table.model_dump()
    if not isinstance(table, dict):
        raise FieldProblems(("", "expected a table with at least a 'name'"))
    name = table.get("name", DEFAULT_METHOD)
    if not isinstance(name, str) or name not in METHODS:
        raise FieldProblems(("name", f"unknown method {name!r}; choose one of {', '.join(sorted(METHODS))}"))
    return METHODS[name].Config.model_validate({**table, "name": name})


class MethodRecipe(Protocol):
    """What building a method reads of a run's config (``RunConfig``, a layer above, has all of it)."""

    method: MethodConfig
    backbone: BackboneConfig
    augment: AugmentConfig
    data: DataConfig


def build_method(cfg: MethodRecipe, dataset_size: int | None = None) -> Method:
    """The method that ``cfg.method.name`` names, built for the configured backbone and image size.

    ``dataset_size`` (the training split's length) reaches the methods that ask for it.
    """
    cls = METHODS[cfg.method.name]
    extra = {"dataset_size": dataset_size} if cls.needs_dataset_size else {}
    return cls(cfg.method, cfg.backbone, cfg.augment, cfg.data.image_size, **extra)


__all__ = ["DEFAULT_METHOD", "METHODS", "Method", "MethodRecipe", "PreviewPanel", "build_method", "method_config"]
