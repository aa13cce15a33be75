"""The engine in a QThread: Trainer callbacks become queued Qt signals carrying the plain event dataclasses.

``TrainingWorker`` lives in the training thread and only forwards; ``TrainingSession`` lives in
the GUI thread, owns the thread and the :class:`~labbench.engine.control.Control`, and re-emits
each event from its own ``@Slot`` methods, so every GUI object that listens is called in the
GUI thread. Pause, resume and stop act at the next step boundary (the trainer checks ``Control``
between steps); on stop the trainer saves its checkpoint before ``fit`` returns.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from labbench.engine import Control, Event, FinishedEvent, LogEvent, Trainer
from labbench.run_config import RunConfig
from labbench.runs import create_run_dir, load_run_config
from ui.state import SessionState


class TrainingWorker(QObject):
    """Runs one ``Trainer.fit`` in the thread it was moved to; every event leaves as a signal."""

    event = Signal(object)

    def __init__(self, trainer_factory, control: Control) -> None:
        super().__init__()
        self._make_trainer = trainer_factory
        self.control = control

    @Slot()
    def run(self) -> None:
        sent_finish = False

        def forward(event: Event) -> None:
            nonlocal sent_finish
            sent_finish |= isinstance(event, FinishedEvent)
            self.event.emit(event)

        try:
            self._make_trainer([forward], self.control).fit()
        except Exception as err:  # noqa: BLE001 — a crash must reach the window as a message, not kill the thread
            self.event.emit(LogEvent("".join(traceback.format_exception(err)).rstrip(), "error"))
            if not sent_finish:
                self.event.emit(FinishedEvent("failed", 0, 0, None, f"{type(err).__name__}: {err}"))


class TrainingSession(QObject):
    """The GUI-thread handle of a training run: start, pause, resume, stop, and its events."""

    started = Signal(object, str)   # RunConfig, run folder
    step = Signal(object)           # StepEvent
    epoch = Signal(object)          # EpochEvent
    log = Signal(object)            # LogEvent
    checkpoint = Signal(object)     # CheckpointEvent
    reference = Signal(object)      # ReferenceEvent: the k-NN of raw pixels and of the untrained encoder
    probe = Signal(object)          # ProbeEvent: arrays for the Inspect views, written each epoch
    finished = Signal(object)       # FinishedEvent
    state_changed = Signal(object)  # SessionState

    def __init__(self, runs_root: str | Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs_root = runs_root
        self.config: RunConfig | None = None
        self.run_dir: str | None = None
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._control: Control | None = None
        self._state = SessionState.IDLE

    @property
    def state(self) -> SessionState:
        return self._state

    def is_active(self) -> bool:
        return self._state.active

    def start(self, config: RunConfig) -> Path:
        """Train ``config`` in a fresh run folder under ``runs_root`` (returned at once)."""
        self._check_idle()
        run_dir = create_run_dir(config, self.runs_root)
        self._launch(config, run_dir, lambda callbacks, control: Trainer(config, callbacks, control, run_dir=run_dir))
        return run_dir

    def resume(self, run_dir: str | Path) -> RunConfig:
        """Continue the run in ``run_dir`` from its last checkpoint, with its own config."""
        self._check_idle()
        config = load_run_config(run_dir)
        self._launch(config, Path(run_dir), lambda callbacks, control: Trainer.resume(run_dir, callbacks, control))
        return config

    def _check_idle(self) -> None:
        if self.is_active():
            raise RuntimeError("a run is already in progress")

    def _launch(self, config: RunConfig, run_dir: Path, factory) -> None:
        self.config = config
        self.run_dir = str(run_dir)
        self._control = Control()
        self._thread = QThread(self)
        self._thread.setObjectName("labbench-training")
        self._worker = TrainingWorker(factory, self._control)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.event.connect(self._on_event)  # queued: the session lives in the GUI thread
        self._set_state(SessionState.RUNNING)
        self.started.emit(config, self.run_dir)
        self._thread.start()

    def pause(self) -> None:
        if self._state is SessionState.RUNNING and self._control is not None:
            self._control.pause()
            self._set_state(SessionState.PAUSED)

    def resume_training(self) -> None:
        if self._state is SessionState.PAUSED and self._control is not None:
            self._control.resume()
            self._set_state(SessionState.RUNNING)

    def stop(self) -> None:
        """Ask the run to stop at the next step boundary; ``finished`` follows once it has saved."""
        if self._state in (SessionState.RUNNING, SessionState.PAUSED) and self._control is not None:
            self._control.stop()
            self._set_state(SessionState.STOPPING)

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Stop, let the trainer save, and join the thread (window closing). True when it ended."""
        if self._thread is None:
            return True
        if self._control is not None:
            self._control.stop()
        self._thread.quit()  # takes effect once the worker's run() has returned
        ended = self._thread.wait(timeout_ms)
        if ended:
            self._cleanup()
        return ended

    def _set_state(self, state: SessionState) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    @Slot(object)
    def _on_event(self, event: Event) -> None:
        if isinstance(event, FinishedEvent):
            self.run_dir = event.run_dir or self.run_dir
            if self._thread is not None:
                self._thread.quit()
                self._thread.wait()
            self._cleanup()
            self._set_state(SessionState.IDLE)
            self.finished.emit(event)
            return
        signal = {"step": self.step, "epoch": self.epoch, "log": self.log, "checkpoint": self.checkpoint,
                  "reference": self.reference, "probe": self.probe}.get(event.kind)
        if signal is not None:  # an event kind newer than this window is ignored, not an error
            signal.emit(event)

    def _cleanup(self) -> None:
        if self._worker is not None:
            self._worker.deleteLater()
        if self._thread is not None:
            self._thread.deleteLater()
        self._worker, self._thread, self._control = None, None, None
