"""A study's runs: one run config per cell and seed, each validated before anything trains.

A run's config is built in this order, later settings winning: the preset (the base's, or the
variant's), the budget, the base settings, each axis's settings, then the seed. Every config goes
through the same validation as ``labbench train --set``, so an unknown key or a bad value names
the study file, the axis value and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import tomli_w

from labbench.run_config import RunConfig, apply_overrides, load_preset
from labbench.errors import ConfigError
from labbench.studies.measures import check_measurable
from labbench.studies.spec import Study

#: what evaluating a run takes, roughly, before the first run has measured it (seconds on 2 CPU cores)
EVAL_GUESS_S = {"knn": 5.0, "linear": 20.0, "linear_z": 20.0, "teacher_entropy": 0.0}
FINETUNE_EPOCH_GUESS_S = 20.0
#: a time-budgeted run's wall time over its budget: data, model, the epoch monitors, checkpoints
TIME_BUDGET_OVERHEAD = 1.15


@dataclass(frozen=True)
class PlannedRun:
    """One run of a study: a cell (a position on each axis) and a seed."""

    index: int
    cell: tuple[int, ...]
    seed: int
    key: str          # stable across resumes: how results.jsonl names the run
    label: str        # how tables name the cell
    folder: str       # the run folder's name under the study's runs/
    config: RunConfig
    untrained: bool = False


def toml_value(value: Any) -> str:
    """``value`` in TOML syntax, as ``--set key=value`` reads it."""
    return tomli_w.dumps({"v": value}).partition("=")[2].strip()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "-", text).strip("-")[:60]


def run_config(study: Study, cell: tuple[int, ...], seed: int, source: str = "") -> tuple[RunConfig, bool]:
    """(config, untrained) of ``cell`` at ``seed``; a ConfigError names where a bad setting came from."""
    where = f"{source or study.name}: "
    presets = {study.axes[a].settings(i)[0] for a, i in enumerate(cell)} - {None}
    if len(presets) > 1:
        raise ConfigError(f"{where}{study.cell_label(cell)}: the variants ask for two presets ({', '.join(sorted(presets))})")
    preset = presets.pop() if presets else study.base.preset
    try:
        cfg = load_preset(preset)
    except ConfigError as err:
        raise ConfigError(f"{where}{'base.preset' if preset == study.base.preset else study.cell_label(cell)}: {err}") from None
    layers: list[tuple[str, dict[str, Any]]] = [("budget", study.budget.settings()), ("base.set", study.base.set)]
    for a, i in enumerate(cell):
        axis = study.axes[a]
        layers.append((f"axes.{a} ({axis.labels[i]})", axis.settings(i)[1]))
    layers.append(("seeds", {"train.seed": seed, "name": study.name}))
    for name, settings in layers:
        try:
            cfg = apply_overrides(cfg, [f"{key}={toml_value(value)}" for key, value in settings.items()])
        except ConfigError as err:
            raise ConfigError(f"{where}{name}: {err}") from None
    untrained = any(study.axes[a].variants and study.axes[a].variants[i].untrained for a, i in enumerate(cell))
    return cfg, untrained


def plan_study(study: Study, source: str = "") -> list[PlannedRun]:
    """Every run of ``study``, seeds innermost, each config validated (ConfigError on the first bad one)."""
    runs = []
    for cell in study.cells():
        label = study.cell_label(cell)
        for seed in study.seeds:
            config, untrained = run_config(study, cell, seed, source)
            try:
                check_measurable(config, study.measures)
            except ConfigError as err:
                raise ConfigError(f"{source or study.name}: {label}: {err}") from None
            index = len(runs)
            runs.append(PlannedRun(index, cell, seed, study.run_key(cell, seed), label,
                                   f"{index + 1:02d}-{_slug(study.cell_key(cell))}-s{seed}", config, untrained))
    return runs


def estimate_seconds(study: Study, runs: Iterable[PlannedRun], measured: Iterable[tuple[float, float]] = ()) -> float | None:
    """Seconds the ``runs`` will take, from ``measured`` (wall seconds of training, of evaluation) of the
    study's finished trained runs; before there are any, from the budget and rough evaluation guesses
    (the epoch monitors and checkpoints add to a time budget). None for an epoch budget with nothing
    measured yet."""
    measured, runs = list(measured), list(runs)
    if measured:
        train_s = sum(t for t, _ in measured) / len(measured)
        eval_s = sum(e for _, e in measured) / len(measured)
    else:
        train_s = (TIME_BUDGET_OVERHEAD * study.budget.seconds) if study.budget.seconds is not None else None
        eval_s = sum(EVAL_GUESS_S[m] for m in study.measures if m != "finetune")
        if "finetune" in study.measures:
            eval_s += FINETUNE_EPOCH_GUESS_S * study.evaluation.finetune_epochs
    if train_s is None and any(not run.untrained for run in runs):
        return None
    return sum((0.0 if run.untrained else train_s) + eval_s for run in runs)
