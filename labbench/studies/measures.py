"""What a study measures after each run: the evaluation protocols, and numbers the run logged.

- ``knn``, ``linear``, ``finetune``: :func:`labbench.evaluate.protocols.evaluate_run` on the run's
  own data (its ``eval.json`` is written, so the Evaluation view shows the same figures);
- ``linear_z``: the linear probe on the projection z = g(h) instead of the encoder output h
  (SimCLR, Chen et al. 2020, Fig. 8 and §4.2: h is better);
- ``teacher_entropy``: DINO's teacher entropy at the end of training as a share of log K, its
  maximum (Caron et al. 2021, Fig. 7): near 0 % is the one-hot collapse, near 100 % the uniform one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from labbench.run_config import RunConfig
from labbench.data import load_split
from labbench.data.split import cap_index
from labbench.engine.device import resolve_device
from labbench.errors import ConfigError, DataError
from labbench.engine.checkpointed import load_run
from labbench.evaluate.features import extract_features
from labbench.evaluate.linear_probe import linear_probe
from labbench.scoring import chance_level, evaluate_run
from labbench.methods import METHODS, Method
from labbench.runs import load_run_config, read_metrics


@dataclass(frozen=True)
class Measure:
    """One number a study reads per run: a share in [0, 1], shown in percent. ``accuracy``: a share of
    test images classified right (so a single run's noise is the test set's binomial error)."""

    name: str
    title: str
    accuracy: bool = True

    def format(self, value: float | None, error: float | None = None) -> str:
        """``41.2 %``, ``41.2 ± 1.3 %``; ``–`` for no value."""
        if value is None:
            return "–"
        return f"{100 * value:.1f}" + ("" if error is None else f" ± {100 * error:.1f}") + " %"


MEASURES: dict[str, Measure] = {m.name: m for m in (
    Measure("knn", "k-NN"),
    Measure("linear", "linear probe (h)"),
    Measure("linear_z", "linear probe (z)"),
    Measure("finetune", "fine-tune"),
    Measure("teacher_entropy", "teacher entropy (% of log K)", accuracy=False),
)}
#: the measures that evaluate_run computes
PROTOCOL_MEASURES = ("knn", "linear", "finetune")


def check_measurable(config: RunConfig, measures: Sequence[str]) -> None:
    """A ConfigError when a run of ``config`` cannot give one of ``measures``."""
    method = config.method.name
    if "linear_z" in measures and METHODS[method].projection_head is Method.projection_head:  # not overridden
        raise ConfigError(f"measures: linear_z probes the projection head, and {method} has none")
    if "teacher_entropy" in measures and method != "dino":
        raise ConfigError(f"measures: teacher_entropy is DINO's, and this run trains {method}")


@dataclass
class Measured:
    """A run's measures, how many test images scored them, and its reference lines (when logged)."""

    values: dict[str, float] = field(default_factory=dict)
    test_images: int | None = None
    chance: float | None = None  # the test set's most frequent class share: an accuracy at it learned nothing
    reference: dict[str, float] = field(default_factory=dict)


def measure_run(run_dir: str | Path, measures: Sequence[str], *, max_train: int | None = None,
                finetune_epochs: int = 3, seed: int = 0, device: torch.device | str = "auto") -> Measured:
    """Take ``measures`` of the finished run in ``run_dir``."""
    out = Measured()
    protocols = [m for m in measures if m in PROTOCOL_MEASURES]
    if protocols:
        result = evaluate_run(run_dir, protocols, device=device, baselines=False, max_train=max_train,
                              finetune_epochs=finetune_epochs, seed=seed)
        out.values.update(result.scores)
        out.test_images = result.details.get("data", {}).get("test_images")
        out.chance = result.details.get("data", {}).get("chance")
    if "linear_z" in measures:
        out.values["linear_z"], out.test_images, out.chance = probe_projection(run_dir, max_train, seed, device)
    records = read_metrics(run_dir)
    if "teacher_entropy" in measures:
        entropy = _last_step_metric(records, "teacher_entropy")
        if entropy is not None:
            out.values["teacher_entropy"] = entropy / math.log(load_run_config(run_dir).method.out_dim)
    for record in records:
        if record.get("kind") == "reference":
            out.reference = {k: v for k, v in record.items() if k != "kind" and isinstance(v, int | float)}
    return out


def probe_projection(run_dir: str | Path, max_train: int | None, seed: int,
                     device: torch.device | str) -> tuple[float, int, float | None]:
    """(accuracy, test images, chance level) of the linear probe on z = g(encoder(x)) of the run's last checkpoint."""
    device = resolve_device(device) if isinstance(device, str) else device
    loaded = load_run(run_dir, device)
    head = loaded.method.projection_head
    if head is None:
        raise ConfigError(f"measures: linear_z probes the projection head, and {loaded.config.method.name} has none")
    split = load_split(loaded.config.data)
    train, test = split.train.labeled(), split.eval.labeled()
    if train.labels is None or test.labels is None or len(train) == 0 or len(test) == 0:
        raise DataError(f"{split.train.name}: the probe on z needs labelled images; this source has none")
    if max_train:
        train = train.subset(cap_index(train.labels, len(train), max_train, seed))

    def project(x: torch.Tensor) -> torch.Tensor:
        return head(loaded.method.encoder(x))

    size = loaded.config.data.image_size
    train_z = extract_features(project, train.images, size, device)
    test_z = extract_features(project, test.images, size, device)
    probe = linear_probe(train_z, train.labels, test_z, test.labels.to(device), seed=seed)
    return probe.accuracy, len(test), chance_level(test.labels)


def _last_step_metric(records: list[dict[str, Any]], name: str) -> float | None:
    for record in reversed(records):
        if record.get("kind") == "step" and name in record.get("metrics", {}):
            return float(record["metrics"][name])
    return None
