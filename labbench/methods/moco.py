"""MoCo: Momentum Contrast (He, Fan, Wu, Xie, Girshick, CVPR 2020; v2: Chen, Fan, Girshick, He, arXiv:2003.04297).

A query encoder is trained; a key encoder follows it as an exponential moving average
(θk ← m·θk + (1−m)·θq, m = 0.999), so the keys drift slowly. The negatives are a FIFO queue of
the last K keys (65 536), which decouples their number from the batch. InfoNCE scores each query
against its own key (the positive) and the queue. The key batch is shuffled across batch-norm
groups ("shuffling BN") so a query cannot find its key through shared batch statistics.
v2 adds an MLP head, blur in the views and τ = 0.2 (v1: a linear head, τ = 0.07).
Reference: github.com/facebookresearch/moco (``moco/builder.py``); the one-process batch-norm
groups follow its CIFAR-10 demo (``SplitBatchNorm``).
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
from labbench.methods.momentum import MomentumMethod, frozen_copy
from labbench.models import build_backbone, projection_mlp
from labbench.torch_private import ddp_skip_buffers


class MoCoConfig(MethodConfig):
    name: Literal["moco"] = "moco"
    version: Literal[1, 2] = Field(
        2, description="v1: linear head, τ 0.07, no blur; v2: 2-layer MLP head, τ 0.2, blur in the views."
    )
    temperature: float | None = Field(
        None, gt=0.0, le=10.0, description="InfoNCE temperature τ (none = the version's: v1 0.07, v2 0.2)."
    )
    queue_size: int = Field(
        65536, ge=1, le=1_048_576,
        description="K, keys kept as negatives; clamped to the training-set size (more would repeat images).",
    )
    momentum: float = Field(0.999, ge=0.0, le=1.0, description="Key-encoder momentum m: θk ← m·θk + (1−m)·θq.")
    momentum_cosine: bool = Field(
        False, description="Raise m to 1 along a cosine over training (BYOL's schedule; MoCo keeps m constant)."
    )
    projection_dim: int = Field(128, ge=2, le=8192, description="Size of the embedding compared by InfoNCE.")
    hidden_dim: int | None = Field(
        None, ge=2, le=16384, description="v2 head's hidden size (none = the encoder's feature size)."
    )
    shuffle_bn: bool = Field(
        True,
        description="Shuffle the key batch across batch-norm groups (paper); off lets BN statistics leak the positive.",
    )
    bn_group_size: int = Field(
        32, ge=2, le=65536,
        description="Images per batch-norm group in one process, as on each of the paper's 8 GPUs (32 of 256).",
    )


def moco_head(version: int, in_dim: int, hidden_dim: int | None, out_dim: int) -> nn.Module:
    """v1: the linear fc layer after pooling; v2: fc-ReLU-fc (no batch norm), as in the reference."""
    if version == 1:
        return nn.Linear(in_dim, out_dim)
    return projection_mlp(in_dim, hidden_dim or in_dim, out_dim, num_layers=2, batch_norm=False)


def _own_share(x_all: Tensor, n: int) -> Tensor:
    r = distributed.rank()
    return x_all[r * n : (r + 1) * n]


@torch.no_grad()
def shuffle_batch(x: Tensor, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """A random permutation of the whole batch (over every process): this process's share, and the
    inverse permutation that :func:`unshuffle_batch` needs (MoCo's ``_batch_shuffle_ddp``)."""
    x_all = distributed.gather_no_grad(x)
    perm = torch.randperm(x_all.shape[0], generator=g, device=x.device)
    # every process must apply the same permutation: all take rank 0's draw
    perm = distributed.gather_no_grad(perm)[: x_all.shape[0]]
    return _own_share(x_all[perm], x.shape[0]), torch.argsort(perm)


@torch.no_grad()
def unshuffle_batch(y: Tensor, unshuffle: Tensor) -> Tensor:
    """Undo :func:`shuffle_batch` on the outputs: row i belongs to input row i again."""
    return _own_share(distributed.gather_no_grad(y)[unshuffle], y.shape[0])


class MoCo(MomentumMethod):
    """MoCo v1/v2. Built with ``dataset_size`` (the trainer passes it), the queue holds at most that many keys."""

    Config = MoCoConfig
    paper = (
        "He, Fan, Wu, Xie, Girshick. Momentum Contrast for Unsupervised Visual Representation Learning. CVPR 2020. "
        "Chen, Fan, Girshick, He. Improved Baselines with Momentum Contrastive Learning. arXiv:2003.04297, 2020."
    )
    summary = "Match each query to its key from a slowly moving encoder, against a queue of earlier keys (InfoNCE)."
    needs_dataset_size = True

    def __init__(self, cfg: MoCoConfig, backbone_cfg, augment, image_size, dataset_size: int | None = None):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        self.encoder = build_backbone(backbone_cfg, image_size)
        self.head = moco_head(cfg.version, self.encoder.feature_dim, cfg.hidden_dim, cfg.projection_dim)
        self.key_encoder = frozen_copy(self.encoder)
        self.key_head = frozen_copy(self.head)
        self.temperature = cfg.temperature or (0.07 if cfg.version == 1 else 0.2)
        self.pipeline = ViewPipeline(augment, image_size, blur_p=0.0 if cfg.version == 1 else None)
        self.start_momentum(cfg.momentum, cfg.momentum_cosine)
        # groups only matter where there is batch norm (not in a ViT)
        has_bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in self.encoder.modules())
        self.bn_group_size = cfg.bn_group_size if has_bn else None
        size = min(cfg.queue_size, dataset_size) if dataset_size else cfg.queue_size
        self.register_buffer("queue", F.normalize(torch.randn(size, cfg.projection_dim), dim=1))
        self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))
        # every process enqueues the same gathered keys: DDP need not re-send the queue from rank 0 each step
        ddp_skip_buffers(self, ["queue", "queue_ptr"])
        self._new_keys: Tensor | None = None

    @property
    def projection_head(self) -> nn.Module:
        return self.head

    # -- views ---------------------------------------------------------------------------------

    def make_views(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        return {"query": self.pipeline(images, g), "key": self.pipeline(images, g)}

    # -- forward -------------------------------------------------------------------------------

    def _in_groups(self, encoder: nn.Module, head: nn.Module, x: Tensor) -> Tensor:
        """Encode ``x`` with batch statistics per group of rows, as on the paper's separate GPUs."""
        groups = max(1, x.shape[0] // self.bn_group_size) if self.bn_group_size else 1
        return head(torch.cat([encoder(chunk) for chunk in x.tensor_split(groups)]))

    @torch.no_grad()
    def keys(self, x: Tensor, g: torch.Generator) -> Tensor:
        """Normalised keys of the momentum encoder, in input order; computed on a shuffled batch."""
        if not self.cfg.shuffle_bn:
            return F.normalize(self._in_groups(self.key_encoder, self.key_head, x), dim=1)
        shuffled, unshuffle = shuffle_batch(x, g)
        k = F.normalize(self._in_groups(self.key_encoder, self.key_head, shuffled), dim=1)
        return unshuffle_batch(k, unshuffle)

    # -- loss ----------------------------------------------------------------------------------

    def training_step(self, images: Tensor, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        views = self.make_views(images, g)
        q = F.normalize(self._in_groups(self.encoder, self.head, views["query"]), dim=1)
        k = self.keys(views["key"], g)
        loss = losses.info_nce(q, k, self.queue, self.temperature)
        self._new_keys = k
        with torch.no_grad():
            q = q.detach()
            metrics = {
                "positive_similarity": (q * k).sum(dim=1).mean(),
                # the mean of q·queue_j over the batch and the queue, without the B×K matrix
                "negative_similarity": q.mean(dim=0) @ self.queue.mean(dim=0).to(q.dtype),
            }
        return loss, metrics

    # -- after the step: momentum update, then enqueue ----------------------------------------------

    @torch.no_grad()
    def enqueue(self, keys: Tensor) -> None:
        """Write ``keys`` over the oldest entries of the ring buffer and advance the pointer."""
        size = self.queue.shape[0]
        keys = keys[-size:]
        slots = (self.queue_ptr + torch.arange(keys.shape[0], device=keys.device)) % size
        self.queue[slots] = keys.to(self.queue.dtype)
        self.queue_ptr.copy_((self.queue_ptr + keys.shape[0]) % size)

    def ema_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        return [(self.key_encoder, self.encoder), (self.key_head, self.head)]

    def after_step(self, step: int, total_steps: int) -> None:
        super().after_step(step, total_steps)
        if self._new_keys is not None:
            self.enqueue(distributed.gather_no_grad(self._new_keys))
            self._new_keys = None
