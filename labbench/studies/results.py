"""A study's results: ``results.jsonl``, one record per ended run, and the per-cell summary read from it.

The file is append-only (written like ``metrics.jsonl``: one whole line per record), so a study
killed at any moment keeps every run it finished. A run recorded again (a failed run retried on
resume) counts by its latest record.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from labbench.runs import MetricsLog, read_jsonl
from labbench.studies.measures import MEASURES
from labbench.studies.spec import Study

RESULTS_NAME = "results.jsonl"
STUDY_NAME = "study.toml"

Status = Literal["completed", "diverged", "failed"]
#: a run that ended so is a result; a failed run (an error, not a finding) is run again on resume
FINAL: tuple[str, ...] = ("completed", "diverged")


@dataclass
class RunResult:
    """How one run of a study ended and what it measured."""

    key: str
    label: str
    seed: int
    run_dir: str                  # relative to the study folder
    status: Status
    message: str = ""
    values: dict[str, float] = field(default_factory=dict)   # measure -> value
    test_images: int | None = None
    chance: float | None = None   # the test set's most frequent class share (older records: unknown)
    reference: dict[str, float] = field(default_factory=dict)  # the run's logged reference lines (k-NN)
    steps: int = 0
    train_seconds: float = 0.0
    eval_seconds: float = 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult | None:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known)
        except TypeError:  # a record missing a field: not one of ours
            return None


def append_result(folder: str | Path, result: RunResult) -> None:
    MetricsLog(Path(folder) / RESULTS_NAME).append(asdict(result))


def read_results(folder: str | Path) -> dict[str, RunResult]:
    """The latest record of each run key in ``folder/results.jsonl``."""
    latest: dict[str, RunResult] = {}
    for record in read_jsonl(Path(folder) / RESULTS_NAME):
        result = RunResult.from_dict(record)
        if result is not None:
            latest[result.key] = result
    return latest


@dataclass
class Cell:
    """One cell of the study and the results of its runs (one per seed)."""

    cell: tuple[int, ...]
    label: str
    planned: int                              # runs planned (seeds)
    results: list[RunResult] = field(default_factory=list)

    @property
    def completed(self) -> list[RunResult]:
        return [r for r in self.results if r.status == "completed"]

    @property
    def diverged(self) -> bool:
        return any(r.status == "diverged" for r in self.results)

    @property
    def pending(self) -> bool:
        return sum(r.status in FINAL for r in self.results) < self.planned

    def values(self, measure: str) -> list[float]:
        return [r.values[measure] for r in self.completed if measure in r.values]

    def mean(self, measure: str) -> float | None:
        values = self.values(measure)
        return statistics.fmean(values) if values else None

    def noise(self, measure: str) -> float:
        """Standard error of the mean: over seeds when there are two or more, else for an accuracy
        the binomial error of one test set (a floor; training noise comes on top of it)."""
        values = self.values(measure)
        if len(values) >= 2:
            return statistics.stdev(values) / math.sqrt(len(values))
        n = next((r.test_images for r in self.completed if r.test_images), None)
        if values and MEASURES[measure].accuracy and n:
            p = values[0]
            return math.sqrt(max(p * (1 - p), 1 / n) / n)
        return 0.0

    def chance(self) -> float | None:
        """The accuracy of answering the most frequent class on this cell's test set, where recorded."""
        return next((r.chance for r in self.completed if r.chance is not None), None)

    def untrained_knn(self) -> float | None:
        """The untrained encoder's k-NN on this cell's data and backbone, where its runs logged it."""
        refs = [r.reference["untrained_knn"] for r in self.completed if "untrained_knn" in r.reference]
        return statistics.fmean(refs) if refs else None


def summarize(study: Study, results: dict[str, RunResult]) -> dict[tuple[int, ...], Cell]:
    """Every planned cell with the results recorded so far (keys as the plan makes them)."""
    cells = {cell: Cell(cell, study.cell_label(cell), len(study.seeds)) for cell in study.cells()}
    keys = {study.run_key(cell, seed): cell for cell in cells for seed in study.seeds}
    for key, result in results.items():
        if key in keys:
            cells[keys[key]].results.append(result)
    return cells
