"""Probe images: a fixed handful of eval images watched through training, one file per epoch.

Chosen once when a run starts (``eval.probe_images``), they are passed through the model at every
epoch end: attention maps where the backbone is a ViT, MAE reconstructions where the method has a
decoder, and the collapse signals on a small batch. Each epoch is kept as
``probes/epoch-XXXX.npz`` (compressed, written atomically), so the inspectors can scrub through
training and show how the maps formed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from labbench.atomic import atomic_write
from labbench.data.store import ImageSet
from labbench.errors import ConfigError
from labbench.evaluate.attention import attention_maps
from labbench.evaluate.collapse import collapse_report
from labbench.evaluate.reconstruction import reconstruct
from labbench.models.modes import eval_mode

PROBE_DIR = "probes"
#: images in the per-epoch collapse batch (a fraction of an epoch's cost)
COLLAPSE_BATCH = 256
#: the reconstruction mask is drawn from this seed every epoch, so epochs are compared on the same mask
MASK_SEED = 0
_NAME = re.compile(r"epoch-(\d{4,})\.npz$")


@dataclass
class ProbeSet:
    """The watched eval images (uint8 K×3×H×W) with their indices in the eval split, labels and
    masks where known, and the larger batch the collapse signals are measured on."""

    images: Tensor
    indices: Tensor
    labels: Tensor | None
    masks: Tensor | None
    collapse_images: Tensor

    @classmethod
    def choose(cls, eval_set: ImageSet, count: int, seed: int) -> ProbeSet:
        """``count`` eval images drawn by ``seed`` (sorted by index); the same for every epoch of the run."""
        order = torch.randperm(len(eval_set), generator=torch.Generator().manual_seed(seed + 7919))
        idx = order[: min(count, len(eval_set))].sort().values
        batch = order[: min(COLLAPSE_BATCH, len(eval_set))].sort().values
        return cls(
            images=eval_set.images[idx].clone(),
            indices=idx,
            labels=None if eval_set.labels is None else eval_set.labels[idx].clone(),
            masks=None if eval_set.masks is None else eval_set.masks[idx].clone(),
            collapse_images=eval_set.images[batch].clone(),
        )


def probe_path(run_dir: str | Path, epoch: int) -> Path:
    return Path(run_dir) / PROBE_DIR / f"epoch-{epoch:04d}.npz"


def list_probes(run_dir: str | Path) -> list[tuple[int, Path]]:
    """``(epoch, path)`` of every probe file of the run, in epoch order."""
    folder = Path(run_dir) / PROBE_DIR
    found = [(int(m.group(1)), p) for p in folder.glob("epoch-*.npz") if (m := _NAME.search(p.name))]
    return sorted(found)


def read_probes(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of one probe file (see :func:`probe_arrays` for what it holds)."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _to_uint8(pictures: np.ndarray) -> np.ndarray:
    return (np.clip(pictures, 0, 1) * 255).round().astype(np.uint8)


@torch.no_grad()
def probe_arrays(method: nn.Module, probes: ProbeSet, image_size: int, device: torch.device | str,
                 epoch: int | None = None) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """What one epoch's probe file holds, and the collapse numbers as plain floats.

    Always: ``images`` K×H×W×3 uint8, ``indices``, ``labels``/``masks`` where known, the collapse
    signals (``feature_std``, ``effective_rank``, ``alignment``, ``uniformity`` … as 0-d arrays) and
    ``positive_similarities``/``negative_similarities``. With a ViT: ``attention`` K×heads×h×w
    (float16). With a decoder: ``reconstruction``/``masked``/``pasted`` K×H×W×3 uint8,
    ``reconstruction_mask`` K×H×W, ``reconstruction_loss`` K.
    """
    arrays: dict[str, np.ndarray] = {
        "images": probes.images.permute(0, 2, 3, 1).numpy(),
        "indices": probes.indices.numpy(),
    }
    if probes.labels is not None:
        arrays["labels"] = probes.labels.numpy()
    if probes.masks is not None:
        arrays["masks"] = probes.masks.numpy()
    if len(probes.images):
        try:
            arrays["attention"] = attention_maps(method, probes.images, image_size, device).heads.half().numpy()
        except ConfigError:
            pass  # not a ViT: no attention to keep
        if hasattr(method, "reconstruct"):
            rec = reconstruct(method, probes.images, seed=MASK_SEED, image_size=image_size, device=device)
            arrays.update(reconstruction=_to_uint8(rec.reconstruction), masked=_to_uint8(rec.masked),
                          pasted=_to_uint8(rec.pasted), reconstruction_mask=rec.mask,
                          reconstruction_loss=rec.per_image_loss)
    metrics: dict[str, float] = {}
    if len(probes.collapse_images) >= 2:
        report = collapse_report(method, probes.collapse_images, epoch=epoch, device=device)
        metrics = report.as_metrics()
        arrays.update({k: np.asarray(v, dtype=np.float32) for k, v in metrics.items()})
        arrays["positive_similarities"] = report.positive_similarities.astype(np.float16)
        arrays["negative_similarities"] = report.negative_similarities.astype(np.float16)
    return arrays, metrics


def record_probes(method: nn.Module, probes: ProbeSet, run_dir: str | Path, epoch: int, image_size: int,
                  device: torch.device | str) -> tuple[Path, dict[str, float]]:
    """Write ``probes/epoch-XXXX.npz`` for ``epoch`` (atomically); return its path and the collapse numbers.

    The method is put in eval mode for the pass and restored after; nothing it holds is changed.
    """
    with eval_mode(method):
        arrays, metrics = probe_arrays(method, probes, image_size, device, epoch)
    path = atomic_write(probe_path(run_dir, epoch), lambda f: np.savez_compressed(f, **arrays))
    return path, metrics
