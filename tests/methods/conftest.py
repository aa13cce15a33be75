"""Shared set-up for the method tests: tiny methods, seeded noise images, fixed-batch training, short real runs.

The test modules import these helpers (``from tests.methods.conftest import ...``, as tests/reliability does).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from labbench.config import AugmentConfig, BackboneConfig
from labbench.engine import StepEvent, Trainer
from labbench.methods import build_method
from labbench.run_config import RunConfig, apply_overrides

TINY_RUN = [
    "data.image_size=16", "data.num_images=160", "backbone.name=cnn", "backbone.width=8",
    "train.batch_size=32", "train.epochs=5", "train.log_every_steps=1", "train.num_threads=2",
    "optim.name=sgd", "optim.lr=0.5", "optim.warmup_epochs=0",
    "eval.max_bank=100", "eval.max_eval=32", "eval.knn_k=5",
]
"""Five epochs of 4 steps on 160 shapes at 16 px with a width-8 CNN: a real run of a few seconds."""

GENTLE_VIEWS = ["augment.crop_scale=[0.5, 1.0]", "augment.jitter_p=0", "augment.grayscale_p=0"]
"""Milder crops and no colour changes: a 20-step run can show the two-view loss falling."""


def random_images(n: int = 16, size: int = 16, seed: int = 0) -> torch.Tensor:
    """``n`` uint8 RGB noise images of ``size`` px, the same for the same ``seed``."""
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def make_tiny(method_cls: type[nn.Module], cfg: Any, seed: int = 0, backbone: BackboneConfig | None = None,
              image_size: int = 16, **kwargs: Any) -> Any:
    """``method_cls`` with ``cfg`` on a width-8 CNN (or ``backbone``), its weights drawn after seeding ``seed``."""
    torch.manual_seed(seed)
    return method_cls(cfg, backbone or BackboneConfig(name="cnn", width=8), AugmentConfig(), image_size, **kwargs)


def build_tiny(name: str, image_size: int, *overrides: str) -> Any:
    """The registered method ``name`` on a width-8 CNN, built from a RunConfig after seeding 0."""
    torch.manual_seed(0)
    return build_method(apply_overrides(RunConfig(), [
        f"method.name={name}", f"data.image_size={image_size}", "backbone.name=cnn", "backbone.width=8", *overrides,
    ]))


def train_on_fixed_batch(method: nn.Module, images: torch.Tensor, steps: int = 15,
                         optimizer: torch.optim.Optimizer | None = None) -> tuple[list[float], list[dict]]:
    """``steps`` optimiser steps on one batch, the same views each time; every step's loss and metrics.

    The optimiser defaults to SGD (lr 0.05, momentum 0.9) over all the method's parameters.
    """
    if optimizer is None:
        optimizer = torch.optim.SGD(method.parameters(), lr=0.05, momentum=0.9)
    losses, metrics = [], []
    for _ in range(steps):
        loss, step_metrics = method.training_step(images, torch.Generator().manual_seed(0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        metrics.append(step_metrics)
    return losses, metrics


def short_run(runs_root: Path, *overrides: str) -> list[StepEvent]:
    """Train ``TINY_RUN`` plus ``overrides`` into ``runs_root``; the step events of the completed run."""
    events = []
    result = Trainer(apply_overrides(RunConfig(), [*TINY_RUN, *overrides]), [events.append], runs_root=runs_root).fit()
    assert result.status == "completed", result.message
    return [e for e in events if isinstance(e, StepEvent)]
