"""Every method of the lecture, one module each, in one explicit registry."""

from __future__ import annotations

# base first: methods.momentum imports labbench.engine, whose trainer imports build_method from here
from labbench.methods.base import Method, PreviewPanel, build_method  # isort: skip
from labbench.methods.barlow_twins import BarlowTwins
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

__all__ = ["METHODS", "Method", "PreviewPanel", "build_method"]
