"""The training engine: trainer loop, schedules, control, checkpoints, monitors."""

from labbench.engine.control import Control
from labbench.engine.events import CheckpointEvent, EpochEvent, Event, FinishedEvent, LogEvent, StepEvent
from labbench.engine.trainer import Trainer

__all__ = ["CheckpointEvent", "Control", "EpochEvent", "Event", "FinishedEvent", "LogEvent", "StepEvent", "Trainer"]
