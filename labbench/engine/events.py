"""What the training loop reports: small frozen dataclasses of plain Python values.

The CLI, the tests and the Qt worker consume the same events; none holds a tensor, so they can
cross threads and be written to ``metrics.jsonl`` as they are.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class StepEvent:
    """Every ``train.log_every_steps`` steps: the loss and schedules at ``step``."""

    step: int
    epoch: int
    total_steps: int
    loss: float
    lr: float
    momentum: float | None
    images_per_sec: float
    metrics: dict[str, float] = field(default_factory=dict)
    kind: Literal["step"] = "step"


@dataclass(frozen=True)
class EpochEvent:
    """End of an epoch: the monitors on the eval split (k-NN accuracy, collapse signals)."""

    epoch: int
    step: int
    knn_accuracy: float | None
    feature_std: float
    effective_rank: float
    images_per_sec: float
    metrics: dict[str, float] = field(default_factory=dict)
    kind: Literal["epoch"] = "epoch"


@dataclass(frozen=True)
class ReferenceEvent:
    """Once per run, before the first epoch's monitors: what the k-NN monitor scores without learning,
    on the run's own bank/eval split — raw pixels and the run's backbone at its untrained init.
    A learned encoder is worth something only above both lines. ``None`` where it was not measured
    (an unlabelled set)."""

    raw_pixels_knn: float | None
    untrained_knn: float | None
    kind: Literal["reference"] = "reference"


@dataclass(frozen=True)
class LogEvent:
    """A line for the log panel or the terminal."""

    message: str
    level: Literal["info", "warning", "error"] = "info"
    kind: Literal["log"] = "log"


@dataclass(frozen=True)
class CheckpointEvent:
    path: str
    step: int
    epoch: int
    kind: Literal["checkpoint"] = "checkpoint"


@dataclass(frozen=True)
class ProbeEvent:
    """End of an epoch: the probe images' arrays (attention, reconstructions, collapse signals) were
    written to ``path`` (``probes/epoch-XXXX.npz``); ``metrics`` are the collapse numbers."""

    epoch: int
    step: int
    path: str
    metrics: dict[str, float] = field(default_factory=dict)
    kind: Literal["probe"] = "probe"


@dataclass(frozen=True)
class FinishedEvent:
    """The run ended: ``status`` says how, ``message`` says why in plain words."""

    status: Literal["completed", "stopped", "diverged", "failed"]
    step: int
    epoch: int
    run_dir: str | None
    message: str = ""
    reason: str = ""  # a failure's short cause for the run list ("disk full"), when there is one
    kind: Literal["finished"] = "finished"


Event = StepEvent | EpochEvent | ReferenceEvent | LogEvent | CheckpointEvent | ProbeEvent | FinishedEvent


def event_to_record(event: Event) -> dict[str, Any]:
    """The JSON-ready record of an event, as stored in ``metrics.jsonl``."""
    return asdict(event)
