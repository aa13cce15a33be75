"""Python's cycle collector, run in the GUI thread only.

The collector runs in whichever thread happens to allocate when a threshold trips. If that is a worker
(a training thread, a background task) and the garbage holds a Qt object, PySide destroys the object
there: a QObject deleted outside its thread, and a deadlock when PySide then waits for the interpreter
lock the collecting thread already holds (seen in the test suite: a thread-pool task froze while a
collection it triggered freed a widget). While the window lives, automatic collection is off and a
timer in the GUI thread collects with the interpreter's own thresholds (the pattern of pyqtgraph's
``GarbageCollector``).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_MS = 1000


class GuiThreadCollector(QObject):
    """Collects garbage from a timer in the thread it lives in; automatic collection is off meanwhile."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_MS) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Back to automatic collection (after one full collection here)."""
        self._timer.stop()
        gc.collect()
        gc.enable()

    def collect_due(self) -> None:
        """The collections the interpreter would have made since the last tick, youngest first."""
        counts = gc.get_count()
        for generation in range(3):
            if counts[generation] <= self._thresholds[generation]:
                return
            gc.collect(generation)


def collect_in_gui_thread(app: QObject) -> GuiThreadCollector:
    """Collect garbage only in the GUI thread from now on (one collector per application)."""
    collector = app.findChild(GuiThreadCollector)
    if collector is None:
        collector = GuiThreadCollector(app)
    collector.start()
    return collector
