"""The shape every method has: views -> training step -> after-step update, and an encoder to export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from labbench.augment import CropSpec, DecodedCrops, denormalize
from labbench.augment.crops import CropRecorder
from labbench.config import AugmentConfig, BackboneConfig, MethodConfig


@dataclass
class PreviewPanel:
    """One picture in the augmentation preview: what the model sees, with a caption."""

    title: str
    image: np.ndarray  # H×W×3 float in [0, 1]
    group: str = ""


def to_picture(x: Tensor) -> np.ndarray:
    """A 3×H×W picture in [0, 1] as the H×W×3 array a :class:`PreviewPanel` holds."""
    return x.permute(1, 2, 0).detach().cpu().numpy().copy()


def to_panel_image(view: Tensor) -> np.ndarray:
    """A normalised 3×H×W view (as the model sees it) as an H×W×3 picture in [0, 1]."""
    return to_picture(denormalize(view[None].float())[0].clamp(0, 1))


class Method(nn.Module):
    """Base of every self-supervised method.

    A method file tells its story in order: ``make_views`` (what the model sees), ``training_step``
    (forward and loss), ``after_step`` (EMA teacher, queue, centre). ``encoder`` is the part that is
    exported; heads are dropped. ``forward`` is ``training_step`` so the method can be wrapped in
    DistributedDataParallel as it is.
    """

    Config: ClassVar[type[MethodConfig]]
    paper: ClassVar[str] = ""
    #: what the model is asked to solve, in one line, for the GUI
    summary: ClassVar[str] = ""
    #: DistributedDataParallel must look for parameters a step leaves unused (e.g. an optional discriminator)
    has_unused_parameters: ClassVar[bool] = False
    #: built with ``dataset_size=`` (training images): MoCo clamps its queue to it, InstDisc sizes its memory bank
    needs_dataset_size: ClassVar[bool] = False
    #: ``training_step`` also receives ``indices=``, each image's index in the training split (InstDisc's bank)
    needs_indices: ClassVar[bool] = False
    #: ``training_step`` also receives ``labels=``, each image's class (int64, UNLABELED = -1 for none): the supervised baseline
    needs_labels: ClassVar[bool] = False

    def __init__(self, cfg: MethodConfig, backbone_cfg: BackboneConfig, augment: AugmentConfig, image_size: int):
        super().__init__()
        self.cfg = cfg
        self.backbone_cfg = backbone_cfg
        self.augment = augment
        self.image_size = image_size

    encoder: nn.Module

    def make_views(self, images: Tensor | DecodedCrops, g: torch.Generator) -> dict[str, Tensor]:
        """The exact inputs of one training step, from a uint8 batch on the device, or from a streamed
        batch whose crops were cut at decode time. Pixels are read only through the crop functions
        (``ViewPipeline``, ``crop_flip``, ``take_crop``); the batch size is ``len(images)``."""
        raise NotImplementedError

    def training_step(self, images: Tensor | DecodedCrops, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        """Loss (a 0-d tensor) and metrics (0-d tensors, read back only every few steps)."""
        raise NotImplementedError

    def forward(self, images: Tensor, g: torch.Generator, **batch: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        return self.training_step(images, g, **batch)

    def crop_plan(self) -> tuple[CropSpec, ...]:
        """The crops one training step takes from each image, in the order ``make_views`` takes them: what
        a streamed batch cuts from the full-resolution images as it decodes them. Read off ``make_views``
        itself, run on a recorder standing in for two images, so the two cannot drift apart."""
        device = next(self.parameters()).device
        recorder = CropRecorder(2, device)
        with torch.no_grad():
            self.make_views(recorder, torch.Generator(device=device).manual_seed(0))
        return recorder.plan

    def before_step(self, epoch: float) -> None:
        """Before each step's forward: the training clock in planned epochs (the share of the planned
        steps done × ``train.epochs``; ``step / steps_per_epoch`` unless a time budget fitted the run),
        for schedules the papers state in epochs (DINO's teacher temperature). Default: none."""

    def before_optimizer_step(self, epoch: float) -> None:
        """Gradient surgery between backward and the optimiser step, on the same clock as
        :meth:`before_step` (DINO freezes its last layer). Default: none."""

    def after_step(self, step: int, total_steps: int) -> None:
        """Updates that follow the optimiser step (EMA teacher, queue, centre). Default: none."""

    def current_momentum(self) -> float | None:
        """The EMA momentum in use (for the plots), or None when the method has no teacher."""
        return None

    @property
    def projection_head(self) -> nn.Module | None:
        """g(·) between the encoder's output h and the embedding z the loss compares (SimCLR §2.1), so
        that z can be probed too (SimCLR Fig. 8: h beats z); None for a method without one."""
        return None

    def embed(self, x: Tensor) -> Tensor:
        """Features of normalised images for the monitors and evaluation."""
        return self.encoder(x)

    def preview(self, image: Tensor, g: torch.Generator) -> list[PreviewPanel]:
        """What the model sees for one uint8 3×H×W image: every view of ``make_views``."""
        views = self.make_views(image[None], g)
        return [
            PreviewPanel(name.replace("_", " "), to_panel_image(v[0]), group="views")
            for name, v in views.items()
            if v.dim() == 4 and v.shape[1] == 3
        ]

    def param_groups(self, weight_decay: float) -> list[dict]:
        """Parameters in two groups: biases and norm weights get no weight decay (as in BYOL/DINO)."""
        decay, no_decay = [], []
        for p in self.parameters():
            if p.requires_grad:
                (no_decay if p.ndim <= 1 else decay).append(p)
        return [
            {"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0, "lars_exclude": True},
        ]
