"""Checkpoints: saved atomically, loaded with ``weights_only=True`` (no pickled code ever runs)."""

from __future__ import annotations

import errno
import os
import pickle
from pathlib import Path
from typing import Any

import torch

from labbench.atomic import atomic_write
from labbench.errors import CheckpointError, StorageError
from labbench.files import open_regular

CHECKPOINT_NAME = "last.pt"


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (tensors and plain values only) to ``path`` atomically."""
    return atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint safely: only a regular file (a pipe would hang the reader), and anything that
    is not plain tensors and values is refused."""
    path = Path(path)
    try:
        fd = open_regular(path, follow_links=True)
    except StorageError as err:
        raise CheckpointError(f"{path}: no checkpoint there" if err.errno == errno.ENOENT else str(err)) from None
    try:
        with os.fdopen(fd, "rb") as f:
            state = torch.load(f, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"{path}: refused — the file holds Python objects that would run code when loaded "
            f"({str(err).splitlines()[0][:200]}). Only load checkpoints you trust, and re-save them as plain weights."
        ) from None
    except Exception as err:  # noqa: BLE001 — torch.load's zip, pickle and safetensors readers raise assorted errors
        raise CheckpointError(f"{path}: not a readable checkpoint — truncated or corrupt ({err})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not a labbench checkpoint (expected a dictionary of weights)")
    return state
