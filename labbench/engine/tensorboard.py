"""TensorBoard event files for a run (``train.tensorboard = true`` or ``labbench train --tensorboard``).

A callback like any other: it turns the events that ``metrics.jsonl`` stores into scalars under the
same names — a record's kind, then its key path, joined by ``/`` (``step/loss``, ``step/lr``,
``step/metrics/<name>``, ``epoch/knn_accuracy``, ``epoch/feature_std``, ``reference/raw_pixels_knn``)
— at the record's step. At each epoch end it also writes the embedding projector for a fixed
sample of eval images (one small batch through the encoder, labelled and with thumbnails).
``tensorboard --logdir runs`` then shows every run side by side.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from labbench.augment import resize_center
from labbench.data import ImageSet
from labbench.engine.events import Event, event_to_record
from labbench.errors import ConfigError

#: the run folder's subfolder that holds the event files and the projector
TENSORBOARD_DIR = "tensorboard"
#: how many eval images the projector shows at each epoch end
PROJECTOR_IMAGES = 256
# a record's position (its x axis) and its kind are not curves
_NOT_SCALARS = frozenset({"kind", "step", "epoch", "total_steps"})


def scalar_tags(record: dict[str, Any]) -> dict[str, float]:
    """``{tag: value}`` for every number in a ``metrics.jsonl`` record (None, text and flags are not curves)."""
    return dict(_numbers({k: v for k, v in record.items() if k not in _NOT_SCALARS}, record["kind"]))


def _numbers(values: dict[str, Any], prefix: str) -> Iterator[tuple[str, float]]:
    for key, value in values.items():
        if isinstance(value, dict):
            yield from _numbers(value, f"{prefix}/{key}")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield f"{prefix}/{key}", float(value)


@dataclass
class ProjectorSample:
    """A fixed sample of eval images whose embeddings the projector shows at each epoch end."""

    method: nn.Module
    images: Tensor  # uint8 N×3×H×W
    labels: list[str] | None  # class name per image
    image_size: int
    device: torch.device

    @classmethod
    def choose(cls, method: nn.Module, eval_set: ImageSet, image_size: int, device: torch.device,
               seed: int) -> ProjectorSample:
        """``PROJECTOR_IMAGES`` eval images drawn by ``seed`` (a split stored class by class is mixed)."""
        g = torch.Generator().manual_seed(seed)
        sample = eval_set.subset(torch.randperm(len(eval_set), generator=g)[:PROJECTOR_IMAGES].sort().values)
        labels = None
        if sample.labels is not None:
            names = sample.class_names
            labels = [names[i] if 0 <= i < len(names) else "unlabelled" for i in sample.labels.tolist()]
        return cls(method, sample.images, labels, image_size, device)

    @torch.inference_mode()
    def embed(self) -> Tensor:
        """The sample's features under the method's current weights (eval mode, restored after)."""
        was_training = self.method.training
        self.method.eval()
        try:
            return self.method.embed(resize_center(self.images, self.image_size).to(self.device)).float().cpu()
        finally:
            self.method.train(was_training)


class TensorBoardWriter:
    """Writes a run's events as TensorBoard scalars (and the projector at epoch ends) into ``log_dir``.

    ``purge_step``: a resumed run's step, so that the curves a killed run wrote past its last
    checkpoint are hidden instead of drawn twice.
    """

    def __init__(self, log_dir: str | Path, *, purge_step: int | None = None,
                 projector: ProjectorSample | None = None) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError(
                "train.tensorboard: needs the tensorboard package; install it with "
                "pip install 'ssl-labbench[tensorboard]', or set train.tensorboard = false"
            ) from None
        self.writer = SummaryWriter(str(log_dir), purge_step=purge_step or None)
        self.projector = projector

    def __call__(self, event: Event) -> None:
        if event.kind in ("log", "checkpoint"):
            return
        if event.kind == "finished":
            self.writer.close()
            return
        record = event_to_record(event)
        step = record.get("step", 0)
        for tag, value in scalar_tags(record).items():
            self.writer.add_scalar(tag, value, step)
        if event.kind == "epoch":
            if self.projector is not None:
                sample = self.projector
                self.writer.add_embedding(sample.embed(), metadata=sample.labels,
                                          label_img=sample.images.float() / 255, global_step=step, tag="embeddings")
            self.writer.flush()  # an epoch's figures are on disk when its line is printed
