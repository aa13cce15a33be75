"""The one background job an inspector runs at a time: a progress bar, Cancel, and what happened.

Starting a new job cancels the one before it (its result is then dropped), so a person who drags a
slider or picks another run never waits for work they no longer want.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget
from shiboken6 import isValid

from ui.tasks import BackgroundTask, Progress

#: a finished job's QObject is deleted only this long after it ended: the pool thread that emitted its
#: last signal may still be inside that emit when the GUI thread has already handled it
DELETE_AFTER_S = 5.0
#: every job's QObject, (ended at | None while running, task). Jobs have no Qt parent, so closing an
#: inspector while its job runs never deletes an object a pool thread is about to signal from.
_JOBS: list[list] = []


def _delete_finished_jobs() -> None:
    now = time.monotonic()
    for job in [j for j in _JOBS if j[0] is not None and now - j[0] > DELETE_AFTER_S]:
        job[1].deleteLater()
        _JOBS.remove(job)


class TaskBar(QWidget):
    """Runs ``work(progress)`` off the GUI thread and hands its result to ``on_done`` on the GUI thread."""

    idle = Signal()  # the current job ended: succeeded, failed or cancelled

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._task: BackgroundTask | None = None
        self.status = QLabel()
        self.status.setProperty("role", "muted")
        self.status.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this computation")
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.status, 1)
        row.addWidget(self.bar)
        row.addWidget(self.cancel_button)
        self._show_busy(False)

    def start(self, description: str, work: Callable[[Progress], Any],
              on_done: Callable[[Any], None]) -> BackgroundTask:
        """Run ``work`` (cancelling the job before it); ``on_done(result)`` runs in the GUI thread."""
        self.cancel()
        _delete_finished_jobs()
        held = [work]  # released when the job ends, so its data does not live as long as the task object
        task = BackgroundTask(lambda progress: held[0](progress))
        job = [None, task]
        _JOBS.append(job)
        self._task = task
        task.progress.connect(lambda done, total: self._progress(task, done, total))
        task.succeeded.connect(lambda result: self._ended(job, held, "", on_done, result))
        task.failed.connect(lambda message: self._ended(job, held, message))
        task.cancelled.connect(lambda: self._ended(job, held, "cancelled"))
        self.status.setProperty("role", "muted")
        self.status.setText(description + "…")
        self._restyle_status()
        self.bar.setRange(0, 0)  # busy until the first report says how much there is
        self._show_busy(True)
        task.start()
        return task

    def is_busy(self) -> bool:
        return self._task is not None

    @Slot()
    def cancel(self) -> None:
        """Ask the running job to stop; its result, if it still comes, is dropped."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
            self.status.setText("cancelled")
            self._show_busy(False)
            self.idle.emit()

    def show_message(self, text: str, error: bool = False) -> None:
        """A line of status (an error in the theme's error colour)."""
        self.status.setProperty("role", "error" if error else "muted")
        self.status.setText(text)
        self._restyle_status()

    def _progress(self, task: BackgroundTask, done: int, total: int) -> None:
        if isValid(self) and task is self._task and total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(done)

    def _ended(self, job: list, held: list, message: str, on_done: Callable[[Any], None] | None = None,
               result: Any = None) -> None:
        held.clear()
        job[0] = time.monotonic()
        if not isValid(self) or job[1] is not self._task:
            return  # a job that was cancelled or replaced, or whose inspector was closed
        self._task = None
        self._show_busy(False)
        if on_done is not None:
            self.status.setText("")
            try:
                on_done(result)
            except Exception as err:  # noqa: BLE001 — a drawing bug must not take the window down
                self.show_message(f"could not show the result: {type(err).__name__}: {err}", error=True)
        else:
            self.show_message(message, error=message != "cancelled")
        self.idle.emit()

    def _show_busy(self, busy: bool) -> None:
        self.bar.setVisible(busy)
        self.cancel_button.setVisible(busy)

    def _restyle_status(self) -> None:
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
