"""Work off the GUI thread, the one way the window does it (training aside, which has its own QThread).

A :class:`TaskRunner` runs functions ``work(progress) -> result`` in Qt's global thread pool, at most
``max_running`` of its tasks at a time, and hands each result to a callback on the GUI thread.
``progress(done, total)`` reports how far the work has got and returns False once the task was
cancelled; the engine's long functions then raise ``InterruptedError``, which ends the task as
cancelled. A runner can keep only the latest request (``latest_wins``: a new task cancels the ones
before it, so nobody waits for, or sees, work they no longer want) and start queued tasks newest
first (``newest_first``: the thumbnails on screen now before those scrolled past long ago).

Every result travels through one relay object that lives as long as the application, so a runner
— or the widget that owns it — may be deleted while a pool thread still works: the result is then
dropped, never delivered to a deleted object.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal, Slot
from shiboken6 import isValid

from labbench.errors import LabbenchError

Progress = Callable[[int, int], bool]
Work = Callable[[Progress], Any]


class Task:
    """One piece of submitted work. ``cancel()`` from the GUI thread; its callbacks run there too."""

    def __init__(self, runner: TaskRunner, work: Work, done: Callable[[Any], None] | None,
                 failed: Callable[[str], None] | None, progress: Callable[[int, int], None] | None,
                 cancelled: Callable[[], None] | None) -> None:
        self.runner = runner
        self.work: Work | None = work
        self.callbacks = {"done": done, "failed": failed, "progress": progress, "cancelled": cancelled}
        self._cancel = threading.Event()
        self.ended = False

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Ask the work to stop at its next progress report; its result, if it still comes, is dropped."""
        self._cancel.set()

    def report(self, done: int, total: int) -> bool:
        """The ``progress`` callback the work receives (called on a pool thread)."""
        if not self._cancel.is_set() and self.callbacks["progress"] is not None:
            _relay().progressed.emit(self, done, total)
        return not self._cancel.is_set()


class TaskRunner(QObject):
    """Runs tasks off the GUI thread; create it on the GUI thread (usually owned by a widget)."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, *, max_running: int = 1, latest_wins: bool = False,
                 newest_first: bool = False, max_pending: int | None = None) -> None:
        super().__init__(parent)
        self.max_running, self.latest_wins = max_running, latest_wins
        self.newest_first, self.max_pending = newest_first, max_pending
        self._lock = threading.Condition()
        self._pending: deque[Task] = deque()
        self._running = 0
        self._live: set[Task] = set()  # submitted and not yet ended (GUI thread only)
        _relay()  # made here, on the GUI thread, before any pool thread needs it

    def submit(self, work: Work, done: Callable[[Any], None] | None = None, *,
               failed: Callable[[str], None] | None = None, progress: Callable[[int, int], None] | None = None,
               cancelled: Callable[[], None] | None = None) -> Task:
        """Run ``work(progress)``; ``done(result)``, ``failed(message)``, ``progress(done, total)`` and
        ``cancelled()`` are called on the GUI thread."""
        if self.latest_wins:
            self.cancel_all()
        task = Task(self, work, done, failed, progress, cancelled)
        dropped: list[Task] = []
        with self._lock:
            self._pending.append(task)
            if self.max_pending is not None:
                while len(self._pending) > self.max_pending:
                    dropped.append(self._pending.popleft())
            start = self._running < self.max_running
            if start:
                self._running += 1
        was_busy = self.is_busy()
        self._live.add(task)
        for old in dropped:
            old.cancel()
            _relay().ended.emit(old, "cancelled", None)
        if start:
            QThreadPool.globalInstance().start(_Drain(self))
        if not was_busy:
            self.busy_changed.emit(True)
        return task

    def cancel_all(self) -> None:
        """Cancel every queued and running task of this runner."""
        with self._lock:
            queued, self._pending = list(self._pending), deque()
        for task in list(self._live):
            task.cancel()
        for task in queued:  # never started: they end now, as cancelled
            _relay().ended.emit(task, "cancelled", None)

    def is_busy(self) -> bool:
        """A task is queued or running and not cancelled."""
        return any(not task.is_cancelled for task in self._live)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until every queued task has run (tests, shutdown); results still arrive as events."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._pending and self._running == 0, timeout_s)

    # -- the pool side ---------------------------------------------------------------------
    def _next(self) -> Task | None:
        with self._lock:
            while self._pending:
                task = self._pending.pop() if self.newest_first else self._pending.popleft()
                if not task.is_cancelled:
                    return task
                _relay().ended.emit(task, "cancelled", None)
            self._running -= 1
            self._lock.notify_all()
            return None

    def _ended(self, task: Task) -> None:
        """A task has ended; its callback runs next (GUI thread)."""
        self._live.discard(task)
        if not self.is_busy():
            self.busy_changed.emit(False)


class _Drain(QRunnable):
    """One pool thread's share of a runner: runs its tasks until none is left."""

    def __init__(self, runner: TaskRunner) -> None:
        super().__init__()
        self.runner = runner

    def run(self) -> None:
        while (task := self.runner._next()) is not None:
            how, payload = _run(task)
            _relay().ended.emit(task, how, payload)


def _run(task: Task) -> tuple[str, Any]:
    work, task.work = task.work, None  # the work's data is released as soon as it has run
    try:
        result = work(task.report)
    except InterruptedError:
        return "cancelled", None
    except LabbenchError as err:
        return "failed", str(err)
    except Exception as err:  # noqa: BLE001 — shown to the person; the window carries on
        return "failed", f"{type(err).__name__}: {err}"
    return ("cancelled", None) if task.is_cancelled else ("done", result)


class _Relay(QObject):
    """Carries pool-thread results to the GUI thread (it lives there, for the application's lifetime)."""

    progressed = Signal(object, int, int)
    ended = Signal(object, str, object)

    def __init__(self) -> None:
        super().__init__()
        self.progressed.connect(self._on_progress)
        self.ended.connect(self._on_end)

    @Slot(object, int, int)
    def _on_progress(self, task: Task, done: int, total: int) -> None:
        if not task.ended and not task.is_cancelled and isValid(task.runner):
            task.callbacks["progress"](done, total)

    @Slot(object, str, object)
    def _on_end(self, task: Task, how: str, payload: Any) -> None:
        if task.ended or not isValid(task.runner):
            return  # the runner (and whoever listened to it) is gone
        task.ended = True
        if task.is_cancelled and how != "cancelled":
            how, payload = "cancelled", None
        callback = task.callbacks[how]
        task.callbacks = {}
        task.runner._ended(task)  # first: the callback sees whether other work of its runner is still going
        if callback is not None:
            callback(*(() if how == "cancelled" else (payload,)))


_RELAY: _Relay | None = None
#: pool threads for every runner together: a long projection must not hold up thumbnails or a preview
MIN_POOL_THREADS = 4


def _relay() -> _Relay:
    global _RELAY
    if _RELAY is None:
        _RELAY = _Relay()
        _RELAY.moveToThread(QCoreApplication.instance().thread())
        pool = QThreadPool.globalInstance()
        pool.setMaxThreadCount(max(pool.maxThreadCount(), MIN_POOL_THREADS))
    return _RELAY
