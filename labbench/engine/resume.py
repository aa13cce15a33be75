"""Resuming a run: which changes of its settings a resume accepts, and where in the data it continues.

A checkpoint saves its position as (step, epoch, batch within the epoch) over the data and batch size
it was trained with. Resumed with the same data and batch it continues exactly (bit for bit). When the
batch size or the training images changed, that position means nothing over the new epochs (a batch
index past the new epoch's end would never be reached: the loop would spin forever), so the run says
what changed and continues at the next epoch boundary. Settings that change what is trained (method,
backbone, augmentations, optimiser, seed, image size) are refused by name, with the command that
starts a new run with them instead.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from collections.abc import Sized
from dataclasses import dataclass
from typing import Any

import numpy as np

from labbench.config import toml_value
from labbench.errors import ConfigError

#: settings a resume applies as they are: how long, where and how fast to train, what to log and measure,
#: where the same images are read from and how
SAFE_CHANGES = ("name", "train.epochs", "train.time_budget_s", "train.max_steps", "train.device", "train.precision",
                "train.num_threads", "train.log_every_steps", "train.checkpoint_every_epochs", "train.compile",
                "train.channels_last", "train.sync_batchnorm", "train.tensorboard", "eval.", "data.root",
                "data.download", "data.cache_dir", "data.store", "data.workers", "data.decode_on")
#: settings a resume applies by moving to the next epoch boundary: they change what an epoch is
EPOCH_CHANGES = ("train.batch_size", "data.num_images", "data.eval_fraction")


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _matches(key: str, names: tuple[str, ...]) -> bool:
    return any(key == n or (n.endswith(".") and key.startswith(n)) for n in names)


@dataclass(frozen=True)
class Change:
    key: str
    before: Any
    after: Any

    def __str__(self) -> str:
        return f"{self.key} {toml_value(self.before)} → {toml_value(self.after)}"


def config_changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The settings that differ between two configs (plain data); a key only one side knows (a
    setting added or removed by another labbench version) is not a change."""
    old, new = _flat(before), _flat(after)
    if old.get("method.name") != new.get("method.name"):  # another method: every method key differs
        return [Change("method.name", old.get("method.name"), new.get("method.name"))]
    return [Change(k, old[k], new[k]) for k in old.keys() & new.keys() if old[k] != new[k]]


def check_resume_changes(before: dict[str, Any], after: dict[str, Any], run_dir: object) -> list[Change]:
    """The accepted changes between a run's config (``before``) and the one it resumes with; a
    ConfigError naming every refused change and how to start a new run with them."""
    changes = sorted(config_changes(before, after), key=lambda c: c.key)
    refused = [c for c in changes if not _matches(c.key, SAFE_CHANGES + EPOCH_CHANGES)]
    if refused:
        sets = " ".join(shlex.quote(f"--set={c.key}={toml_value(c.after)}") for c in refused)
        raise ConfigError(
            f"{run_dir}: a resume cannot change {', '.join(map(str, refused))}: that changes what is being "
            f"trained. A resume may change {', '.join(n.rstrip('.') for n in SAFE_CHANGES + EPOCH_CHANGES)}. "
            f"To train with the new settings, start a new run from this one's: "
            f"labbench train --config {shlex.quote(os.path.join(str(run_dir), 'config.toml'))} {sets}"
        )
    return changes


# -- where to continue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """Where training stands: optimiser steps taken, whole epochs done, batches into the current one."""

    step: int
    epoch: int
    batch_in_epoch: int


def data_signature(images: Sized, root: str | None = None) -> str:
    """A short fingerprint of the training images' identity and order: their count, a packed set's
    key, and for a folder their paths relative to ``root`` (so a folder that moved is the same data)."""
    h = hashlib.sha256(f"{len(images)}\0{getattr(images, 'key', '')}".encode())
    for path in getattr(images, "paths", None) or ():
        name = os.path.relpath(path, root) if root else path
        h.update(b"\0" + name.encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:16]


def resume_position(state: dict[str, Any], batch_size: int, steps_per_epoch: int, signature: str,
                    train_images: int) -> tuple[Position, list[str]]:
    """Where to continue from a checkpoint's ``state`` with this batch size and data, and what the
    person should be told. Checkpoints written before positions were validated lack the data
    fingerprint; for them only the batch size and the epoch length can be checked."""
    saved = Position(int(state["step"]), int(state["epoch"]), int(state["batch_in_epoch"]))
    saved_batch = state.get("batch_size", state.get("config", {}).get("train", {}).get("batch_size", batch_size))
    changed = []
    if saved_batch != batch_size:
        changed.append(f"the batch size changed ({saved_batch} → {batch_size})")
    saved_signature = state.get("data_signature")
    if saved_signature is not None and saved_signature != signature:
        before = state.get("train_images", "?")
        changed.append(f"the training images changed ({before} → {train_images} images)"
                       if before != train_images else "the training images changed (same count, other files)")
    if not changed and saved.batch_in_epoch < steps_per_epoch:
        return saved, []
    if not changed:
        changed.append(f"an epoch is now {steps_per_epoch} steps (the checkpoint was {saved.batch_in_epoch} "
                       "steps into one)")
    epoch = saved.epoch + (1 if saved.batch_in_epoch > 0 else 0)
    skipped = f"; the rest of epoch {saved.epoch + 1} is skipped" if saved.batch_in_epoch > 0 else ""
    note = f"{' and '.join(changed)}: continuing at the start of epoch {epoch + 1}{skipped}"
    return Position(saved.step, epoch, 0), [note]


def schedule_offset(position: Position, steps_per_epoch: int) -> int:
    """How far the step count runs ahead of (or behind) the step the schedules expect at
    ``position``: not zero only after an epoch changed length."""
    return position.step - (position.epoch * steps_per_epoch + position.batch_in_epoch)


def shift_schedule(schedule: np.ndarray, offset: int) -> np.ndarray:
    """``schedule`` re-indexed so that entry ``step`` holds the value meant for ``step - offset``."""
    if offset > 0:
        return np.concatenate([np.full(offset, schedule[0]), schedule])
    return schedule[-offset:] if offset < 0 else schedule
