"""Instance discrimination with a memory bank (Wu, Xiong, Yu, Lin, CVPR 2018, "InstDisc").

Every training image is its own class. A bank stores one 128-d feature per image; each step an
image's view is pulled towards its own entry and pushed from K = 4096 entries drawn from the bank.
Entries are refreshed with momentum 0.5 from the features just computed, so the negatives come from
an encoder as old as one epoch. As in MoCo's comparison of the three mechanisms (He et al. 2020,
Fig. 3) the paper's NCE is replaced by softmax InfoNCE, so bank, queue and end-to-end differ only
in where the keys come from. Reference: github.com/zhirongw/lemniscate.pytorch (``lib/NCEAverage.py``).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from labbench import distributed, losses
from labbench.augment import ViewPipeline
from labbench.config import MethodConfig
from labbench.errors import LabbenchError
from labbench.methods.base import Method
from labbench.models import build_backbone
from labbench.torch_private import ddp_skip_buffers


class MemoryBankConfig(MethodConfig):
    name: Literal["memory_bank"] = "memory_bank"
    temperature: float = Field(0.07, gt=0.0, le=10.0, description="InfoNCE temperature τ (paper: 0.07).")
    num_negatives: int = Field(4096, ge=1, le=1_048_576, description="K, bank entries drawn as negatives each step.")
    bank_momentum: float = Field(
        0.5, ge=0.0, lt=1.0,
        description="Bank update v ← normalise(m·v + (1−m)·f); 0 stores the new feature as it is.",
    )
    projection_dim: int = Field(128, ge=2, le=8192, description="Size of the stored features (a linear head).")


class MemoryBank(Method):
    """InstDisc. Needs the training-set size to size the bank and each batch's dataset indices (the trainer
    passes both); built without ``dataset_size`` (a preview) the bank is empty and training refuses."""

    Config = MemoryBankConfig
    paper = (
        "Wu, Xiong, Yu, Lin. Unsupervised Feature Learning via Non-Parametric Instance Discrimination. CVPR 2018."
    )
    summary = "Match each image's view to its own stored feature, against features of other images drawn from a bank."
    needs_dataset_size = True
    needs_indices = True

    def __init__(self, cfg: MemoryBankConfig, backbone_cfg, augment, image_size, dataset_size: int | None = None):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        self.encoder = build_backbone(backbone_cfg, image_size)
        self.head = nn.Linear(self.encoder.feature_dim, cfg.projection_dim)
        self.pipeline = ViewPipeline(augment, image_size)
        self.register_buffer("bank", F.normalize(torch.randn(dataset_size or 0, cfg.projection_dim), dim=1))
        # every process applies the same gathered updates: DDP need not re-send the bank from rank 0 each step
        ddp_skip_buffers(self, ["bank"])
        self._new_entries: tuple[Tensor, Tensor] | None = None

    @property
    def projection_head(self) -> nn.Module:
        return self.head

    # -- views ---------------------------------------------------------------------------------

    def make_views(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        return {"view": self.pipeline(images, g)}

    # -- forward and loss ----------------------------------------------------------------------

    def training_step(
        self, images: Tensor, g: torch.Generator, indices: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        if indices is None or self.bank.shape[0] == 0:
            raise LabbenchError(
                "memory_bank: training needs the training-set size and each image's index; "
                "train it through the Trainer (or pass dataset_size= and indices=)"
            )
        q = F.normalize(self.head(self.encoder(self.make_views(images, g)["view"])), dim=1)
        # one draw of K entries per step, shared by the batch (InstDisc draws K per image)
        drawn = torch.randint(self.bank.shape[0], (self.cfg.num_negatives,), generator=g, device=g.device)
        positives = self.bank[indices]
        loss = losses.info_nce(q, positives, self.bank[drawn], self.cfg.temperature)
        self._new_entries = (q.detach(), indices)
        with torch.no_grad():
            metrics = {"positive_similarity": (q.detach() * positives.to(q.dtype)).sum(dim=1).mean()}
        return loss, metrics

    # -- after the step: refresh the entries of this batch ------------------------------------------

    @torch.no_grad()
    def update_bank(self, features: Tensor, indices: Tensor) -> None:
        """``v_i ← normalise(m·v_i + (1−m)·f_i)`` for each image ``i`` of the batch (lemniscate's update)."""
        m = self.cfg.bank_momentum
        mixed = m * self.bank[indices] + (1 - m) * features.to(self.bank.dtype)
        self.bank[indices] = F.normalize(mixed, dim=1)

    def after_step(self, step: int, total_steps: int) -> None:
        if self._new_entries is not None:
            features, indices = self._new_entries
            self.update_bank(distributed.gather_no_grad(features), distributed.gather_no_grad(indices))
            self._new_entries = None
