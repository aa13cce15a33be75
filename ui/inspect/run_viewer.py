"""What every inspector of a run shares: the run it is told to look at, one background job with
progress and Cancel at the bottom, a line saying why nothing is drawn, and loading only while it is
on screen.

Views that are closed or switched away do no work; they catch up when shown. A running run is read
at its latest checkpoint and probe file; each new probe file (``session.probe``) refreshes it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QVBoxLayout, QWidget

from labbench.engine.events import ProbeEvent
from labbench.runs import RunInfo, read_run
from ui.docks.run_list import run_label
from ui.inspect.plot_style import ThemedWidget
from ui.inspect.task_bar import TaskBar
from ui.widgets.labels import wrapping_label


class RunViewer(ThemedWidget):
    """Base of the inspectors that look at one run. Subclasses put their widgets in ``body`` and
    implement :meth:`reload` (read the run again); they may implement :meth:`probe_written` and
    narrow :meth:`accepts` (saying in ``needs`` what a run needs)."""

    #: what a run needs for this view, said when the followed run lacks it
    needs = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_dir: str | None = None
        self._stale = False
        self.tasks = TaskBar()
        self.notice = wrapping_label(role="warning")
        self.notice.hide()
        self.content = QWidget()
        self.body = QVBoxLayout(self.content)
        self.body.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.notice)
        layout.addWidget(self.content, 1)
        layout.addWidget(self.tasks)

    def accepts(self, info: RunInfo) -> bool:
        """Whether this view can show the run (override)."""
        return True

    @Slot(str)
    def set_run(self, run_dir: str | Path) -> None:
        """Look at ``run_dir`` (now when on screen, else when next shown)."""
        self.run_dir = str(Path(run_dir))
        self._stale = True
        if self.isVisible():
            self._catch_up()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._stale:
            self._catch_up()

    def _catch_up(self) -> None:
        self._stale = False
        self.show_notice("")
        if self.run_dir is None:
            return
        info = read_run(self.run_dir)
        fits = self.accepts(info)
        self.content.setVisible(fits)
        if not fits:
            self.tasks.cancel()
            what = " ".join(x for x in (info.method, "on", info.backbone) if x) if info.method else "its kind"
            self.show_notice(f"{run_label(self.run_dir)} is {what}: this view needs {self.needs}. "
                             "Choose such a run above.")
            return
        self.reload()

    def reload(self) -> None:
        """Read ``self.run_dir`` again and redraw (override)."""

    @Slot(object)
    def on_probe(self, event: ProbeEvent) -> None:
        """A training run wrote a probe file; refresh when it is the run on show."""
        if self.run_dir is not None and Path(event.path).parent.parent == Path(self.run_dir):
            if self.isVisible() and self.content.isVisible():
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
