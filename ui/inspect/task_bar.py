"""The one background job an inspector runs at a time: a progress bar, Cancel, and what happened.

Starting a new job cancels the one before it (its result is then dropped), so a person who drags a
slider or picks another run never waits for work they no longer want.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from ui.tasks import Progress, Task, TaskRunner
from ui.widgets.labels import wrapping_label


class TaskBar(QWidget):
    """Runs ``work(progress)`` off the GUI thread and hands its result to ``on_done`` on the GUI thread."""

    idle = Signal()  # the current job ended: succeeded, failed or cancelled

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = TaskRunner(self, max_running=2, latest_wins=True)
        self.status = wrapping_label(role="muted")
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

    def start(self, description: str, work: Callable[[Progress], Any], on_done: Callable[[Any], None]) -> Task:
        """Run ``work`` (cancelling the job before it); ``on_done(result)`` runs in the GUI thread."""
        self.show_message(description + "…")
        self.bar.setRange(0, 0)  # busy until the first report says how much there is
        self._show_busy(True)
        return self.runner.submit(work, lambda result: self._done(on_done, result), failed=self._failed,
                                  progress=self._progress, cancelled=self._cancelled)

    def is_busy(self) -> bool:
        return self.runner.is_busy()

    @Slot()
    def cancel(self) -> None:
        """Ask the running job to stop; its result, if it still comes, is dropped."""
        if self.runner.is_busy():
            self.runner.cancel_all()
            self._end("cancelled")

    def show_message(self, text: str, error: bool = False) -> None:
        """A line of status (an error in the theme's error colour)."""
        self.status.setProperty("role", "error" if error else "muted")
        self.status.setText(text)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    def _progress(self, done: int, total: int) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(done)

    def _done(self, on_done: Callable[[Any], None], result: Any) -> None:
        self._end("")
        try:
            on_done(result)
        except Exception as err:  # noqa: BLE001 — a drawing bug must not take the window down
            self.show_message(f"could not show the result: {type(err).__name__}: {err}", error=True)

    def _failed(self, message: str) -> None:
        self._end(message, error=True)

    def _cancelled(self) -> None:
        if not self.bar.isHidden():  # replaced by a newer job, or cancelled here (then already said)
            self._end("cancelled")

    def _end(self, message: str, error: bool = False) -> None:
        """A job ended; unless a newer one runs on (whose line stays), say how."""
        if self.runner.is_busy():
            return
        self._show_busy(False)
        self.show_message(message, error)
        self.idle.emit()

    def _show_busy(self, busy: bool) -> None:
        self.bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
