"""A training run in a QThread (see :mod:`ui.engine_thread`): Trainer callbacks become queued Qt signals
carrying the plain event dataclasses, re-emitted in the GUI thread.

Pause, resume and stop act at the next step boundary (the trainer checks ``Control`` between
steps); on stop the trainer saves its checkpoint before ``fit`` returns.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from labbench.engine import FinishedEvent, LogEvent, Trainer
from labbench.run_config import RunConfig
from labbench.runs import create_run_dir, load_run_config
from ui.engine_thread import Crashed, EngineSession


class TrainingSession(EngineSession):
    """The GUI-thread handle of a training run: start, pause, resume, stop, and its events."""

    started = Signal(object, str)   # RunConfig, run folder
    step = Signal(object)           # StepEvent
    epoch = Signal(object)          # EpochEvent
    log = Signal(object)            # LogEvent
    checkpoint = Signal(object)     # CheckpointEvent
    reference = Signal(object)      # ReferenceEvent: the k-NN of raw pixels and of the untrained encoder
    probe = Signal(object)          # ProbeEvent: arrays for the Inspect views, written each epoch
    finished = Signal(object)       # FinishedEvent

    def __init__(self, runs_root: str | Path | None = None, parent: QObject | None = None) -> None:
        super().__init__("training", parent)
        self.runs_root = runs_root
        self.config: RunConfig | None = None
        self.run_dir: str | None = None

    def start(self, config: RunConfig) -> Path:
        """Train ``config`` in a fresh run folder under ``runs_root`` (returned at once)."""
        self._check_idle()
        run_dir = create_run_dir(config, self.runs_root)
        self._begin(config, run_dir, lambda emit, control: Trainer(config, [emit], control, run_dir=run_dir).fit())
        return run_dir

    def resume(self, run_dir: str | Path) -> RunConfig:
        """Continue the run in ``run_dir`` from its last checkpoint, with its own config."""
        self._check_idle()
        config = load_run_config(run_dir)
        self._begin(config, Path(run_dir), lambda emit, control: Trainer.resume(run_dir, [emit], control).fit())
        return config

    def _begin(self, config: RunConfig, run_dir: Path, work) -> None:
        self.config = config
        self.run_dir = str(run_dir)
        self._launch(work)
        self.started.emit(config, self.run_dir)  # before any event: those wait in the queue

    def _dispatch(self, event) -> None:
        if isinstance(event, Crashed):
            self.log.emit(LogEvent(event.traceback, "error"))
            if not event.finished:
                self.finished.emit(FinishedEvent("failed", 0, 0, None, event.summary))
            return
        if isinstance(event, FinishedEvent):
            self.run_dir = event.run_dir or self.run_dir
            self.finished.emit(event)
            return
        signal = {"step": self.step, "epoch": self.epoch, "log": self.log, "checkpoint": self.checkpoint,
                  "reference": self.reference, "probe": self.probe}.get(event.kind)
        if signal is not None:  # an event kind newer than this window is ignored, not an error
            signal.emit(event)
