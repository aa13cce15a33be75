"""The training engine: trainer loop, control, checkpoints (and a run rebuilt from its last one), monitors."""

from labbench.engine.control import Control
from labbench.engine.events import CheckpointEvent, EpochEvent, Event, FinishedEvent, LogEvent, StepEvent
from labbench.engine.trainer import Trainer

__all__ = ["CheckpointEvent", "Control", "EpochEvent", "Event", "FinishedEvent", "LogEvent", "StepEvent", "Trainer"]
