"""Engine work in a QThread, its events re-emitted in the GUI thread: what a training run and a study share.

``EngineWorker`` lives in the work's thread and only forwards: every event the engine reports leaves
as a queued signal, and an exception leaves as a :class:`Crashed` event instead of killing the thread.
``EngineSession`` lives in the GUI thread, owns the thread, the worker and the
:class:`~labbench.engine.control.Control`, keeps the :class:`~ui.state.SessionState`, and hands each
event to its subclass's ``_dispatch`` in the GUI thread, so every listener runs there. Stop acts at
the engine's next step boundary; the trainer saves its checkpoint before the work returns.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread, Signal, Slot

from labbench.engine import Control
from ui.state import SessionState

#: the work run in the thread: it reports events through the callable and obeys the Control
Work = Callable[[Callable[[object], None], Control], None]


@dataclass(frozen=True)
class Crashed:
    """The work raised: its traceback, its one-line summary, and whether it had reported its end."""

    traceback: str
    summary: str
    finished: bool
    kind: str = "crashed"


class EngineWorker(QObject):
    """Runs ``work`` in the thread it was moved to; every event leaves as the ``event`` signal."""

    event = Signal(object)

    def __init__(self, work: Work, control: Control, finish_kind: str) -> None:
        super().__init__()
        self._work = work
        self.control = control
        self._finish_kind = finish_kind

    @Slot()
    def run(self) -> None:
        finished = False

        def forward(event) -> None:
            nonlocal finished
            finished |= event.kind == self._finish_kind
            self.event.emit(event)

        try:
            self._work(forward, self.control)
        except Exception as err:  # noqa: BLE001 — a crash must reach the window as a message, not kill the thread
            self.event.emit(Crashed("".join(traceback.format_exception(err)).rstrip(),
                                    "".join(traceback.format_exception_only(err)).strip(), finished))


class EngineSession(QObject):
    """The GUI-thread handle of engine work in its own thread: launch, pause, resume, stop, shut down.

    Subclasses name the event that ends the work (``finish_kind``) and route events in
    ``_dispatch``; when the work ends (that event, or a crash without it) the thread is joined and
    the state is idle before ``_dispatch`` sees the last event.
    """

    state_changed = Signal(object)  # SessionState

    finish_kind = "finished"

    def __init__(self, thread_name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread_name = thread_name
        self._thread: QThread | None = None
        self._worker: EngineWorker | None = None
        self._control: Control | None = None
        self._state = SessionState.IDLE

    @property
    def state(self) -> SessionState:
        return self._state

    def is_active(self) -> bool:
        return self._state.active

    def _check_idle(self) -> None:
        if self.is_active():
            raise RuntimeError(f"{self._thread_name} is already in progress")

    def _launch(self, work: Work) -> None:
        """Start ``work`` in a new thread; its events arrive (queued) after the caller returns to the loop."""
        self._control = Control()
        self._thread = QThread(self)
        self._thread.setObjectName(f"labbench-{self._thread_name}")
        self._worker = EngineWorker(work, self._control, self.finish_kind)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.event.connect(self._on_event)  # queued: the session lives in the GUI thread
        self._set_state(SessionState.RUNNING)
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
        """Ask the work to stop at the next step boundary; its end event follows once it has saved."""
        if self._state in (SessionState.RUNNING, SessionState.PAUSED) and self._control is not None:
            self._control.stop()
            self._set_state(SessionState.STOPPING)

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Stop, let the trainer save, and join the thread (the window is closing). True when it ended;
        the end event the work sent is still queued, and makes the session idle when it is delivered."""
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
    def _on_event(self, event) -> None:
        ends = event.kind == self.finish_kind or (isinstance(event, Crashed) and not event.finished)
        if ends:
            if self._thread is not None:
                self._thread.quit()
                self._thread.wait()
            self._cleanup()
            self._set_state(SessionState.IDLE)
        self._dispatch(event)

    def _dispatch(self, event) -> None:
        """Re-emit ``event`` (in the GUI thread) on the subclass's signals."""
        raise NotImplementedError

    def _cleanup(self) -> None:
        if self._worker is not None:
            self._worker.deleteLater()
        if self._thread is not None:
            self._thread.deleteLater()
        self._worker, self._thread, self._control = None, None, None
