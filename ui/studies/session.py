"""A study in a QThread (see :mod:`ui.engine_thread`): the runner's events become queued signals,
re-emitted in the GUI thread.

Stop acts at the next step of the run in progress; the trainer saves its checkpoint, and running the
folder again resumes there.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from labbench.studies import StudyRunner
from labbench.studies.events import StudyFinished
from ui.engine_thread import Crashed, EngineSession


class StudySession(EngineSession):
    """The GUI-thread handle of a study: start (or resume) a folder, stop, and its events."""

    run_started = Signal(object)   # StudyRunStarted
    run_ended = Signal(object)     # StudyRunEnded: its result is in results.jsonl
    step = Signal(object)          # the run's StepEvent, for progress
    finished = Signal(object)      # StudyFinished
    failed = Signal(str)           # the study itself could not run (its runs' failures are results)

    finish_kind = "study_finished"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__("study", parent)
        self.folder: Path | None = None

    def start(self, folder: str | Path) -> None:
        """Run the study in ``folder`` (made by ``create_study_folder``), or resume it."""
        self._check_idle()
        self.folder = Path(folder)
        self._launch(lambda emit, control: StudyRunner(self.folder, [emit], control).run())

    def _dispatch(self, event) -> None:
        if isinstance(event, Crashed):
            self.failed.emit(event.summary)
            if not event.finished:
                self.finished.emit(StudyFinished("stopped", str(self.folder)))
            return
        signal = {"study_run": self.run_started, "study_result": self.run_ended, "step": self.step,
                  "study_finished": self.finished}.get(event.kind)
        if signal is not None:  # the runs' other events (epochs, logs) are the training views' business
            signal.emit(event)
