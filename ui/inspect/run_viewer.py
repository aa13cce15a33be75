"""What every inspector of a run shares: a run picker on top, one background job with progress and
Cancel at the bottom, a line saying why nothing is drawn, and loading only while it is on screen.

Docks that are closed or tabbed away do no work; they catch up when shown. A running run is read at
its latest checkpoint and probe file; each new probe file (``session.probe``) refreshes it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from labbench.engine.events import ProbeEvent
from labbench.runs import RunInfo
from ui.inspect.plot_style import ThemedWidget
from ui.inspect.run_picker import RunPicker
from ui.inspect.task_bar import TaskBar


class RunViewer(ThemedWidget):
    """Base of the inspectors that look at one run. Subclasses put their widgets in ``body`` and
    implement :meth:`reload` (read the run again) and may implement :meth:`probe_written`."""

    def __init__(self, runs_root: str | Path | None, accepts: Callable[[RunInfo], bool] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_dir: str | None = None
        self._stale = False
        self.picker = RunPicker(runs_root, accepts)
        self.tasks = TaskBar()
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setProperty("role", "warning")
        self.notice.hide()
        self.body = QVBoxLayout()
        self.body.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.picker)
        layout.addWidget(self.notice)
        layout.addLayout(self.body, 1)
        layout.addWidget(self.tasks)
        self.picker.run_changed.connect(self.set_run)

    @Slot(str)
    def set_run(self, run_dir: str) -> None:
        """Look at ``run_dir`` (now when on screen, else when next shown)."""
        self.run_dir = run_dir
        self._stale = True
        if self.isVisible():
            self._catch_up()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self.picker.listed:
            self.picker.refresh()  # chooses the newest run unless one was chosen already
        if self._stale:
            self._catch_up()

    def _catch_up(self) -> None:
        self._stale = False
        self.show_notice("")
        if self.run_dir is not None:
            self.reload()

    def reload(self) -> None:
        """Read ``self.run_dir`` again and redraw (override)."""

    @Slot(object)
    def on_probe(self, event: ProbeEvent) -> None:
        """A training run wrote a probe file; refresh when it is the run on show."""
        if self.run_dir is not None and Path(event.path).parent.parent == Path(self.run_dir):
            if self.isVisible():
                self.probe_written(event)
            else:
                self._stale = True

    def probe_written(self, event: ProbeEvent) -> None:
        """The run on show has a new probe file (default: reload)."""
        self.reload()

    def show_notice(self, text: str) -> None:
        """Say why nothing (or not everything) is drawn; empty hides the line."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
