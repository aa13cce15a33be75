"""One-off heavy work (export, projections, k-NN over a dataset) off the GUI thread, with progress and cancel.

The work is a function that receives ``progress(done, total) -> bool`` and returns a result; it
runs in Qt's global thread pool. Returning False from ``progress`` is how a cancel reaches it —
the engine's long functions raise ``InterruptedError`` then, which ends the task as cancelled.
The public signals are emitted from the GUI thread (the pool thread's private signals hop there
first), so anything may listen, lambdas included.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from labbench.errors import LabbenchError

Progress = Callable[[int, int], bool]


class BackgroundTask(QObject):
    """Runs ``work(progress)`` in a pool thread; create it in the GUI thread."""

    progress = Signal(int, int)   # done, total
    succeeded = Signal(object)    # the work's result
    failed = Signal(str)          # a readable message
    cancelled = Signal()

    _progressed = Signal(int, int)
    _ended = Signal(str, object)  # "succeeded" | "failed" | "cancelled", payload

    def __init__(self, work: Callable[[Progress], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self._cancel = threading.Event()
        self._progressed.connect(self._on_progress)  # queued: this object lives in the GUI thread
        self._ended.connect(self._on_end)

    def start(self) -> None:
        QThreadPool.globalInstance().start(_Run(self))

    def cancel(self) -> None:
        """Ask the work to stop at its next progress report."""
        self._cancel.set()

    def report(self, done: int, total: int) -> bool:
        """The ``progress`` callback handed to the work (called in the pool thread)."""
        self._progressed.emit(done, total)
        return not self._cancel.is_set()

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.progress.emit(done, total)

    @Slot(str, object)
    def _on_end(self, how: str, payload: Any) -> None:
        if how == "succeeded":
            self.succeeded.emit(payload)
        elif how == "failed":
            self.failed.emit(payload)
        else:
            self.cancelled.emit()


class _Run(QRunnable):
    def __init__(self, task: BackgroundTask) -> None:
        super().__init__()
        self.task = task

    def run(self) -> None:
        task = self.task
        try:
            result = task._work(task.report)
        except InterruptedError:
            task._ended.emit("cancelled", None)
        except LabbenchError as err:
            task._ended.emit("failed", str(err))
        except Exception as err:  # noqa: BLE001 — shown to the person; the window carries on
            task._ended.emit("failed", f"{type(err).__name__}: {err}")
        else:
            task._ended.emit("succeeded", result)
