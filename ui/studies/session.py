"""A study in a QThread: the runner's events become queued signals, re-emitted in the GUI thread.

The same shape as :mod:`ui.worker` for one run: ``StudyWorker`` lives in the study's thread and only
forwards; ``StudySession`` lives in the GUI thread, owns the thread and the
:class:`~labbench.engine.control.Control`, and re-emits each event from its ``@Slot``, so every
listener runs in the GUI thread. Stop acts at the next step of the run in progress; the trainer
saves its checkpoint, and running the folder again resumes there.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from labbench.engine import Control
from labbench.studies import StudyRunner
from labbench.studies.events import StudyFinished


class StudyWorker(QObject):
    """Runs one ``StudyRunner.run`` in the thread it was moved to; every event leaves as a signal."""

    event = Signal(object)
    crashed = Signal(str)

    def __init__(self, folder: Path, control: Control) -> None:
        super().__init__()
        self.folder = folder
        self.control = control

    @Slot()
    def run(self) -> None:
        try:
            StudyRunner(self.folder, [self.event.emit], self.control).run()
        except Exception as err:  # noqa: BLE001 — the window shows why, and stays up
            self.crashed.emit("".join(traceback.format_exception_only(err)).strip())
            self.event.emit(StudyFinished("stopped", str(self.folder)))


class StudySession(QObject):
    """The GUI-thread handle of a study: start (or resume) a folder, stop, and its events."""

    run_started = Signal(object)   # StudyRunStarted
    run_ended = Signal(object)     # StudyRunEnded: its result is in results.jsonl
    step = Signal(object)          # the run's StepEvent, for progress
    finished = Signal(object)      # StudyFinished
    failed = Signal(str)           # the study itself could not run (its runs' failures are results)
    state_changed = Signal(str)    # "idle" | "running" | "stopping"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder: Path | None = None
        self._thread: QThread | None = None
        self._worker: StudyWorker | None = None
        self._control: Control | None = None
        self._state = "idle"

    @property
    def state(self) -> str:
        return self._state

    def is_active(self) -> bool:
        return self._state != "idle"

    def start(self, folder: str | Path) -> None:
        """Run the study in ``folder`` (made by ``create_study_folder``), or resume it."""
        if self.is_active():
            raise RuntimeError("a study is already running")
        self.folder = Path(folder)
        self._control = Control()
        self._thread = QThread(self)
        self._thread.setObjectName("labbench-study")
        self._worker = StudyWorker(self.folder, self._control)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.event.connect(self._on_event)  # queued: this object lives in the GUI thread
        self._worker.crashed.connect(self._on_crash)
        self._set_state("running")
        self._thread.start()

    def stop(self) -> None:
        """Stop the run in progress at its next step (it saves a checkpoint); the study ends with it."""
        if self._state == "running" and self._control is not None:
            self._control.stop()
            self._set_state("stopping")

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Stop and join the thread (the window is closing). True when it ended."""
        if self._thread is None:
            return True
        if self._control is not None:
            self._control.stop()
        self._thread.quit()
        ended = self._thread.wait(timeout_ms)
        if ended:
            self._cleanup()
            self._set_state("idle")
        return ended

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    @Slot(str)
    def _on_crash(self, message: str) -> None:
        self.failed.emit(message)

    @Slot(object)
    def _on_event(self, event) -> None:
        if event.kind == "study_finished":
            if self._thread is not None:
                self._thread.quit()
                self._thread.wait()
            self._cleanup()
            self._set_state("idle")
            self.finished.emit(event)
            return
        signal = {"study_run": self.run_started, "study_result": self.run_ended, "step": self.step}.get(event.kind)
        if signal is not None:  # the runs' other events (epochs, logs) are the training views' business
            signal.emit(event)

    def _cleanup(self) -> None:
        if self._worker is not None:
            self._worker.deleteLater()
        if self._thread is not None:
            self._thread.deleteLater()
        self._worker, self._thread, self._control = None, None, None
