"""What a running study reports, besides its runs' own training events: small frozen dataclasses
of plain values, so the CLI, the tests and the window consume them as they do the trainer's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from labbench.studies.results import RunResult


@dataclass(frozen=True)
class StudyRunStarted:
    """Run ``index`` (0-based) of ``total`` begins training (or resumes, or is only evaluated)."""

    index: int
    total: int
    key: str
    label: str
    seed: int
    run_dir: str
    how: Literal["new", "resumed", "evaluated"] = "new"
    kind: Literal["study_run"] = "study_run"


@dataclass(frozen=True)
class StudyRunEnded:
    """A run ended and its result was appended to ``results.jsonl``."""

    index: int
    result: RunResult
    kind: Literal["study_result"] = "study_result"


@dataclass(frozen=True)
class StudyFinished:
    """The study ended: every run done (``completed``, some perhaps failed), or ``stopped`` to resume later."""

    status: Literal["completed", "stopped"]
    folder: str
    failed: list[str] = field(default_factory=list)  # "label (seed s): why", one per failed run
    kind: Literal["study_finished"] = "study_finished"


StudyEvent = StudyRunStarted | StudyRunEnded | StudyFinished
