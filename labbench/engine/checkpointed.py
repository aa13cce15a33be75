"""A run's trained method, rebuilt from its folder: ``config.toml`` + ``checkpoints/last.pt``.

Checkpoints are replaced atomically, so a run that is still training can be opened at any moment:
the loader sees the last complete checkpoint, never half of one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from labbench.run_config import RunConfig
from labbench.data import load_split
from labbench.engine.checkpoint import CHECKPOINT_NAME, load_checkpoint
from labbench.errors import CheckpointError
from labbench.methods import METHODS, Method, build_method
from labbench.runs import load_run_config


@dataclass
class LoadedRun:
    """A run's method in eval mode, its config, and where in training its checkpoint was taken."""

    method: Method
    config: RunConfig
    step: int
    epoch: int
    checkpoint: Path


def checkpoint_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / "checkpoints" / CHECKPOINT_NAME


def _dataset_size(config: RunConfig) -> int | None:
    """The training split's length, for methods whose buffers are sized by it (a memory bank)."""
    if not METHODS[config.method.name].needs_dataset_size:
        return None
    return len(load_split(config.data).train)


def load_run(run_dir: str | Path, device: torch.device | str = "cpu") -> LoadedRun:
    """Rebuild ``run_dir``'s method from its config and last checkpoint, in eval mode on ``device``.

    Raises ConfigError when the folder has no readable config and CheckpointError (naming the file)
    when the checkpoint is missing, truncated, or belongs to another method or backbone.
    """
    config = load_run_config(run_dir)
    path = checkpoint_path(run_dir)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint yet — a run writes its first one at the end of epoch 1")
    state = load_checkpoint(path)
    for key in ("method", "backbone"):
        want = getattr(config, key).name
        if state.get(key) != want:
            raise CheckpointError(
                f"{path}: a checkpoint of {key} {state.get(key)!r}, but the run's config.toml says {want!r}"
            )
    method = build_method(config, _dataset_size(config))
    try:
        method.load_state_dict(state["model"])
    except (KeyError, RuntimeError, ValueError) as err:
        raise CheckpointError(f"{path}: does not fit the model of config.toml ({str(err).splitlines()[0]})") from None
    method.to(device).eval()
    return LoadedRun(method, config, int(state.get("step", 0)), int(state.get("epoch", 0)), path)


def load_run_method(run_dir: str | Path, device: torch.device | str = "cpu") -> tuple[Method, RunConfig]:
    """``(method, config)`` of a finished or running run; see :func:`load_run`."""
    loaded = load_run(run_dir, device)
    return loaded.method, loaded.config
