"""Runs and eval images loaded once and shared by every inspector (from the pool threads, under a lock).

A run is reloaded when its checkpoint file changes, so a run that is still training is always seen
at its latest checkpoint. Only the last few runs and data sets are kept: a ViT and 20 000 images
are not small.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path

import torch

from labbench.data import load_split
from labbench.data.store import ImageSet
from labbench.engine.checkpointed import LoadedRun, checkpoint_path, load_run
from labbench.engine.device import resolve_device
from labbench.run_config import RunConfig
from labbench.runs import load_run_config

KEEP = 2


class RunCache:
    """``loaded(run_dir)`` and ``eval_set(run_dir)``, computed at most once per checkpoint / data set."""

    def __init__(self, device: str = "auto") -> None:
        self.device = device
        self._lock = threading.Lock()
        self._runs: OrderedDict[tuple[str, int], LoadedRun] = OrderedDict()
        self._sets: OrderedDict[str, ImageSet] = OrderedDict()

    def loaded(self, run_dir: str | Path) -> LoadedRun:
        """The run's method at its current checkpoint, in eval mode (CheckpointError when there is none yet)."""
        path = checkpoint_path(run_dir)
        key = (str(Path(run_dir).resolve()), path.stat().st_mtime_ns if path.is_file() else -1)
        with self._lock:
            if key not in self._runs:
                self._runs[key] = load_run(run_dir, resolve_device(self.device))
                _trim(self._runs)
            self._runs.move_to_end(key)
            return self._runs[key]

    def eval_set(self, run_dir: str | Path, config: RunConfig | None = None) -> ImageSet:
        """The run's eval split (images at the run's size, with labels and masks where known)."""
        config = config or load_run_config(run_dir)
        key = json.dumps(config.data.model_dump(mode="json"), sort_keys=True)
        with self._lock:
            if key not in self._sets:
                self._sets[key] = load_split(config.data).eval
                _trim(self._sets)
            self._sets.move_to_end(key)
            return self._sets[key]

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()
            self._sets.clear()


def _trim(cache: OrderedDict) -> None:
    while len(cache) > KEEP:
        cache.popitem(last=False)


def device_of(loaded: LoadedRun) -> torch.device:
    """Where the loaded method's weights are."""
    return next(loaded.method.parameters()).device


#: the cache every inspector shares
RUNS = RunCache()
